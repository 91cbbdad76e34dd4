# Figure 4b: delta-PMI (bits) of value x perspective by condition (fig4_delta_pmi).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$delta_pmi.

#' Delta-PMI in bits, PMI_c(a,b) - PMI_rest(a,b) (PMI within the condition minus PMI in
#' all other conditions), of value x perspective, one facet per condition, for the
#' `n_conditions` conditions with the most units (fig4_delta_pmi).  This is delta-PMI,
#' not NPMI (that is fig4_npmi).  Cells that are not `supported` (n_in or n_out below
#' [pmi] min_support: the statistic is biased upward and heavy-tailed there, and they
#' are not tested) and pairs never observed are grey; cells whose permutation test
#' (condition labels permuted across authors, Westfall-Young maxT) gives
#' p_value_adj < `alpha` get a black dot.  Colours are capped at the 98th percentile
#' of |delta-PMI| over the supported cells shown.
vsd_fig4_delta_pmi <- function(h, n_conditions = 4, alpha = 0.05) {
  d <- h$delta_pmi
  if (!is.null(e <- .vsd_empty(d, "delta_pmi.csv", "", "Delta-PMI by condition"))) {
    return(vsd_finish(e, h))
  }
  # conditions, values and perspectives under --min-cell units are not drawn
  d <- vsd_drop_small(h, d, c("condition", "value", "perspective"))
  if (!is.null(e <- .vsd_empty(d, "delta_pmi.csv", " outside suppressed groups",
    "Delta-PMI by condition"))) {
    return(vsd_finish(e, h))
  }
  # the conditions' units (groups.csv; n_in of hidden cells is blank in the hand-off)
  g <- h$groups[h$groups$dimension == "condition", , drop = FALSE]
  size <- stats::setNames(g$n, g$code)[unique(d$condition)]
  size[is.na(size)] <- 0
  cond_f <- vsd_label(h, "condition", names(size))
  top <- names(size)[order(-size, as.integer(cond_f))][seq_len(min(n_conditions, length(size)))]
  d <- d[d$condition %in% top, , drop = FALSE]
  d <- .vsd_complete(h, d, "value", "perspective", by = "condition")
  # pairs seen in fewer than K units of the condition (n_hidden) are grey like the
  # unsupported ones
  ok <- !is.na(d$supported) & d$supported & !(!is.na(d$n_hidden) & d$n_hidden)
  d$shown <- ifelse(ok, d$delta_pmi, NA_real_)
  d$flag <- ok & !is.na(d$p_value_adj) & d$p_value_adj < alpha
  # the condition's units as table 1 prints them ("n suppressed" where it hides them)
  cond_lab <- as.character(vsd_label(h, "condition", top))
  n_txt <- paste0("(", vsd_n_text(vsd_group_n_shown(h, "condition", top)), ")")
  # "(n = ...)" kept in one piece: on the label's line when both fit, else below it
  n_lab <- ifelse(nchar(cond_lab) + nchar(n_txt) < 40, paste(cond_lab, n_txt),
    paste0(.vsd_wrap(cond_lab, 40), "\n", n_txt))
  d$facet <- factor(d$condition, levels = top, labels = n_lab)
  d$x <- vsd_label(h, "perspective", d$perspective, drop = FALSE)
  d$y <- vsd_label(h, "value", d$value, drop = FALSE)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  cap <- stats::quantile(abs(d$shown), 0.98, na.rm = TRUE, names = FALSE)
  if (!is.finite(cap) || cap == 0) cap <- 1
  n_flag <- sum(d$flag)
  p <- ggplot(d, aes(x = x, y = y, fill = shown)) +
    geom_tile(colour = "white", linewidth = 0.3) +
    geom_point(data = d[d$flag, , drop = FALSE], shape = 21, size = 1.4, stroke = 0.4,
      fill = "black", colour = "white", show.legend = FALSE) +
    facet_wrap(vars(facet), ncol = 2) +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = c(-cap, cap), oob = scales::squish, na.value = "grey80",
      name = "delta-PMI (bits)\ncondition\nminus rest"
    ) +
    scale_x_discrete(drop = FALSE, expand = c(0, 0)) +
    scale_y_discrete(drop = FALSE, expand = c(0, 0)) +
    labs(
      x = "Perspective", y = "Value",
      title = "delta-PMI (bits) of value x perspective: each condition vs. all other conditions",
      caption = paste0(
        "delta-PMI (bits) = PMI(value, perspective | condition) - PMI(value, perspective | ",
        "all other conditions); not NPMI.\n",
        "Grey: not supported (the pair in fewer than [pmi] min_support units inside or ",
        "outside the condition; not tested), in fewer than ", vsd_min_cell(h),
        " units (suppressed) or never observed.\n",
        "Dot: permutation test, condition labels permuted across authors, Westfall-Young ",
        "maxT-adjusted p < ", format(alpha), " (here: ", n_flag, " cells).\n",
        "Colours capped at +/-", formatC(cap, format = "f", digits = 2),
        " bits. The ", length(top), " conditions with the most units are shown."
      )
    ) +
    vsd_theme() +
    theme(
      panel.grid = element_blank(), panel.spacing = unit(1, "lines"), strip.clip = "off",
      axis.text.x = element_text(angle = 90, hjust = 1, vjust = 0.5)
    )
  vsd_finish(p, h)
}
