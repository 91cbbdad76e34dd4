# Figure 5: mean sentiment with 95% CI by LLM family and by condition (fig5_mean_sentiment).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$means.

#' Mean sentiment score (+1 positive, 0 neutral, -1 negative) with 95% CI by LLM family
#' and by condition; group labels carry n as table 5 prints it (means.csv n_shown).
#' Groups whose mean table 5 does not show (means.csv `suppressed`: fewer than K units)
#' are not drawn; intervals stay inside the score's range [-1, 1].  `width` (inches, the
#' saved width): below 4 in (journal column width, 8.5 cm) labels wrap shorter, the
#' axis title takes two lines and the panel strips run vertically.
vsd_fig5_mean_sentiment <- function(h, width = 6.9) {
  compact <- width < 4
  d <- h$means
  if (!is.null(e <- .vsd_empty(d, "means.csv", "", "Mean sentiment"))) return(vsd_finish(e, h))
  left <- d[!is.na(d$suppressed) & d$suppressed, , drop = FALSE]
  d <- d[!(!is.na(d$suppressed) & d$suppressed), , drop = FALSE]
  if (!is.null(e <- .vsd_empty(d, "means.csv", " with at least --min-cell units", "Mean sentiment"))) {
    return(vsd_finish(e, h))
  }
  # the score's range: no interval reaches outside [-1, 1]
  d <- vsd_clip_interval(d)
  clipped <- isTRUE(attr(d, "clipped"))
  parts <- lapply(c("llm_product", "condition"), function(b) {
    x <- d[d$by == b, , drop = FALSE]
    if (!nrow(x)) return(NULL)
    f <- vsd_label(h, b, x$group, wrap = if (compact) 24 else 36)
    x$ord <- as.integer(f)
    x$lab <- paste0(as.character(f), " (", vsd_n_text(x$n_shown), ")")
    x$panel <- .vsd_dim_title[[b]]
    x
  })
  d <- do.call(rbind, parts)
  d$panel <- factor(d$panel, levels = c("LLM family", "Condition"))
  d <- d[order(d$panel, -d$ord), , drop = FALSE]
  d$lab <- factor(d$lab, levels = unique(d$lab))
  how <- if (identical(d$method[1], "cluster-robust")) {
    "95% confidence intervals, cluster-robust (posts nested in authors)."
  } else {
    "95% confidence intervals (t), treating units as independent."
  }
  n_fam <- sum(left$by == "llm_product")
  n_cond <- sum(left$by == "condition")
  how <- paste0(how, if (clipped) " Intervals cut at the score's range [-1, 1]." else "",
    .vsd_small_note(h, n_fam, "LLM family", "LLM families"),
    .vsd_small_note(h, n_cond, "condition"))
  p <- ggplot(d, aes(y = lab, x = mean)) +
    geom_vline(xintercept = 0, colour = "grey50", linetype = "dashed") +
    geom_errorbarh(aes(xmin = ci_low, xmax = ci_high), height = 0.3, linewidth = 0.4,
      na.rm = TRUE) +
    geom_point(size = 1.6, colour = "black", na.rm = TRUE) +
    facet_grid(rows = vars(panel), scales = "free_y", space = "free_y") +
    scale_x_continuous(breaks = seq(-1, 1, by = 0.5)) +
    labs(
      x = if (compact) "Mean sentiment score with 95% CI\n(+1 positive, 0 neutral, -1 negative)" else
        "Mean sentiment score (+1 positive, 0 neutral, -1 negative) with 95% CI",
      y = NULL, title = "Mean sentiment by LLM family and by condition", caption = how
    ) +
    vsd_theme() +
    theme(strip.text.y = if (compact) element_text(angle = -90) else
      element_text(angle = 0, hjust = 0), panel.grid.major.y = element_blank(),
      # the two-line title is wider than the narrow panel: end it at the panel's right
      axis.title.x = element_text(hjust = if (compact) 1 else 0.5))
  vsd_finish(p, h)
}
