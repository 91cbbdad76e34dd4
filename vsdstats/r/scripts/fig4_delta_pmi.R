# Figure 4b: delta-PMI of value x perspective by condition (fig4_delta_pmi_by_condition).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$delta_pmi.

#' Delta-PMI (condition vs. all other conditions) of value x perspective, one facet per
#' condition, for the `n_conditions` conditions with the most units
#' (fig4_delta_pmi_by_condition).  Pairs with fewer than `min_n` units inside the
#' condition are greyed out (their PMI is too noisy to read); colours are capped at the
#' 98th percentile of |delta PMI|.
vsd_fig4_delta_pmi <- function(h, n_conditions = 4, min_n = 5) {
  d <- h$delta_pmi
  if (!is.null(e <- .vsd_empty(d, "delta_pmi.csv", "", "Delta PMI by condition"))) return(e)
  size <- tapply(d$n_in, d$condition, sum)
  cond_f <- vsd_label(h, "condition", names(size))
  top <- names(size)[order(-size, as.integer(cond_f))][seq_len(min(n_conditions, length(size)))]
  d <- d[d$condition %in% top, , drop = FALSE]
  d <- .vsd_complete(h, d, "value", "perspective", by = "condition")
  d$shown <- ifelse(!is.na(d$n_in) & d$n_in >= min_n, d$delta_pmi, NA_real_)
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
  ggplot(d, aes(x = x, y = y, fill = shown)) +
    geom_tile(colour = "white", linewidth = 0.3) +
    facet_wrap(vars(facet), ncol = 2) +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = c(-cap, cap), oob = scales::squish, na.value = "grey80",
      name = "Delta PMI\n(condition\nminus rest)"
    ) +
    scale_x_discrete(drop = FALSE, expand = c(0, 0)) +
    scale_y_discrete(drop = FALSE, expand = c(0, 0)) +
    labs(
      x = "Perspective", y = "Value",
      title = "Value x perspective co-occurrence: each condition vs. all other conditions",
      caption = paste0(
        "Delta PMI = PMI within the condition minus PMI in all other conditions. ",
        "Grey: fewer than ", min_n, " units with the pair in the condition, or pair absent ",
        "elsewhere.\nColours capped at +/-", formatC(cap, format = "f", digits = 2),
        ". The ", length(top), " conditions with the most units are shown."
      )
    ) +
    vsd_theme(base_size = 10) +
    theme(
      panel.grid = element_blank(), panel.spacing = unit(1, "lines"),
      axis.text.x = element_text(angle = 90, hjust = 1, vjust = 0.5)
    )
}
