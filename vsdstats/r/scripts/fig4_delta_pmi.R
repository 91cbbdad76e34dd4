# Figure 4b: delta-PMI of value x perspective by condition (fig4_delta_pmi_by_condition).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$delta_pmi.

#' Delta-PMI in bits (PMI within the condition minus PMI in all other conditions) of
#' value x perspective, one facet per condition, for the `n_conditions` conditions with
#' the most units (fig4_delta_pmi_by_condition).  This is delta-PMI, not NPMI.  Cells
#' without support are greyed out: the `supported` column of delta_pmi.csv when the
#' hand-off has it (n_in and n_out >= min_support of vsdstats.stats.delta_pmi), else
#' fewer than `min_n` units with the pair inside the condition (below ~30 the
#' statistic is biased upward and heavy-tailed under the null).  When the hand-off has
#' `p_value_adj` (permutation null, maxT), cells with p_value_adj < 0.05 get a dot.
#' Colours are capped at the 98th percentile of |delta-PMI|.
vsd_fig4_delta_pmi <- function(h, n_conditions = 4, min_n = 30) {
  d <- h$delta_pmi
  if (!is.null(e <- .vsd_empty(d, "delta_pmi.csv", "", "Delta PMI by condition"))) return(e)
  size <- tapply(d$n_in, d$condition, sum)
  cond_f <- vsd_label(h, "condition", names(size))
  top <- names(size)[order(-size, as.integer(cond_f))][seq_len(min(n_conditions, length(size)))]
  d <- d[d$condition %in% top, , drop = FALSE]
  d <- .vsd_complete(h, d, "value", "perspective", by = "condition")
  ok <- if ("supported" %in% names(d)) {
    !is.na(d$supported) & d$supported
  } else {
    !is.na(d$n_in) & d$n_in >= min_n
  }
  d$shown <- ifelse(ok, d$delta_pmi, NA_real_)
  has_p <- "p_value_adj" %in% names(d)
  d$flag <- if (has_p) ok & !is.na(d[["p_value_adj"]]) & d[["p_value_adj"]] < 0.05 else FALSE
  n_lab <- paste0(
    as.character(vsd_label(h, "condition", top)), " (n = ",
    format(size[top], big.mark = ",", trim = TRUE), ")"
  )
  d$facet <- factor(d$condition, levels = top, labels = .vsd_wrap(n_lab, 50))
  d$x <- vsd_label(h, "perspective", d$perspective, drop = FALSE)
  d$y <- vsd_label(h, "value", d$value, drop = FALSE)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  cap <- stats::quantile(abs(d$shown), 0.98, na.rm = TRUE, names = FALSE)
  if (!is.finite(cap) || cap == 0) cap <- 1
  grey_why <- if ("supported" %in% names(d)) {
    "Grey: too little support (pair in fewer than the minimum number of units inside or outside the condition)"
  } else {
    paste0("Grey: fewer than ", min_n, " units with the pair in the condition, or pair absent elsewhere")
  }
  ggplot(d, aes(x = x, y = y, fill = shown)) +
    geom_tile(colour = "white", linewidth = 0.3) +
    geom_point(data = d[d$flag, , drop = FALSE], size = 0.9, colour = "black",
      show.legend = FALSE) +
    facet_wrap(vars(facet), ncol = 2) +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = c(-cap, cap), oob = scales::squish, na.value = "grey80",
      name = "Delta-PMI\n(bits; condition\nminus rest)"
    ) +
    scale_x_discrete(drop = FALSE, expand = c(0, 0)) +
    scale_y_discrete(drop = FALSE, expand = c(0, 0)) +
    labs(
      x = "Perspective", y = "Value",
      title = "Delta-PMI of value x perspective: each condition vs. all other conditions",
      caption = paste0(
        "Delta-PMI = PMI within the condition minus PMI in all other conditions (bits; not NPMI). ",
        grey_why, ".\n",
        if (has_p) "Dot: permutation test (maxT-adjusted p < 0.05). " else "",
        "Colours capped at +/-", formatC(cap, format = "f", digits = 2),
        ". The ", length(top), " conditions with the most units are shown."
      )
    ) +
    vsd_theme(base_size = 10) +
    theme(
      panel.grid = element_blank(), panel.spacing = unit(1, "lines"),
      axis.text.x = element_text(angle = 90, hjust = 1, vjust = 0.5)
    )
}
