# Figure 7: LLM family x condition fingerprint (fig7_fingerprint).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$fingerprint.

#' Bubble chart of LLM family x condition: bubble area = number of units, colour =
#' adjusted residual of the LLM family x condition table.  LLM families and conditions
#' under K units (groups.csv) are not drawn; cells whose count is hidden (fingerprint.csv
#' n_hidden: fewer than K units, or hidden so that none can be recovered from table 1's
#' totals) are grey squares without size or colour.
vsd_fig7_fingerprint <- function(h) {
  d <- h$fingerprint
  title <- "LLM family x condition"
  if (!is.null(e <- .vsd_empty(d, "fingerprint.csv", "", title))) return(vsd_finish(e, h))
  fam_all <- unique(d$llm_product)
  d <- vsd_drop_small(h, d, c("llm_product", "condition"))
  if (!is.null(e <- .vsd_empty(d, "fingerprint.csv", " outside suppressed groups", title))) {
    return(vsd_finish(e, h))
  }
  n_left <- length(setdiff(fam_all, d$llm_product))
  d$x <- vsd_label(h, "llm_product", d$llm_product, wrap = 18)
  d$y <- vsd_label(h, "condition", d$condition, wrap = 32)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  hid <- !is.na(d$n_hidden) & d$n_hidden
  shown <- d[!hid & d$n > 0, , drop = FALSE]
  lim <- .vsd_sym_limit(shown$adjusted_residual)
  p <- ggplot(d, aes(x = x, y = y)) +
    geom_point(data = shown, aes(size = n, fill = adjusted_residual), shape = 21,
      colour = "grey30", stroke = 0.3) +
    geom_point(data = d[hid, , drop = FALSE], shape = 15, size = 1.6, colour = "grey60") +
    scale_size_area(max_size = 14, name = "Units", labels = scales::label_comma()) +
    scale_fill_gradient2(low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = lim, name = "Adjusted\nresidual") +
    scale_x_discrete(drop = FALSE) +
    scale_y_discrete(drop = FALSE) +
    labs(x = "LLM family", y = "Condition",
      title = "Which conditions each LLM family is used for",
      caption = paste0("Bubble area: number of units. Red: more units than expected under ",
        "independence;\nblue: fewer (adjusted residuals of the LLM family x condition table).",
        "\nGrey squares: suppressed (fewer than ", vsd_min_cell(h), " units, or hidden so ",
        "that no small count can be recovered from the totals of table 1).",
        .vsd_small_note(h, n_left, "LLM family", "LLM families"))) +
    vsd_theme() +
    .vsd_angled_x()
  vsd_finish(p, h)
}
