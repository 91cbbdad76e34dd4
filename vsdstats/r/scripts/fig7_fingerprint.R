# Figure 7: LLM family x condition fingerprint (fig7_fingerprint).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$fingerprint.

#' Bubble chart of LLM family x condition: bubble area = number of units, colour =
#' adjusted residual of the LLM family x condition table.
vsd_fig7_fingerprint <- function(h) {
  d <- h$fingerprint
  if (!is.null(e <- .vsd_empty(d, "fingerprint.csv", "", "LLM family x condition"))) return(e)
  d$x <- vsd_label(h, "llm_product", d$llm_product, wrap = 18)
  d$y <- vsd_label(h, "condition", d$condition, wrap = 32)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  lim <- .vsd_sym_limit(d$adjusted_residual)
  ggplot(d[d$n > 0, , drop = FALSE], aes(x = x, y = y)) +
    geom_point(aes(size = n, fill = adjusted_residual), shape = 21, colour = "grey30",
      stroke = 0.3) +
    scale_size_area(max_size = 14, name = "Units", labels = scales::label_comma()) +
    scale_fill_gradient2(low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = lim, name = "Adjusted\nresidual") +
    scale_x_discrete(drop = FALSE) +
    scale_y_discrete(drop = FALSE) +
    labs(x = "LLM family", y = "Condition",
      title = "Which conditions each LLM family is used for",
      caption = paste("Bubble area: number of units. Red: more units than expected under",
        "independence;\nblue: fewer (adjusted residuals of the LLM family x condition table).")) +
    vsd_theme() +
    .vsd_angled_x()
}
