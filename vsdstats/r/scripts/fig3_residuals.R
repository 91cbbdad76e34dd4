# Figure 3: adjusted residual heatmaps (cluster-robust by default) (fig3_residuals_condition_{sentiment,perspective,value}).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$residuals.

#' Heatmap of adjusted standardized residuals of one chi-squared test.
#'
#' Cells show `z`: the cluster-robust adjusted residual when the paper's tests allow for
#' units nested in authors (residual_method "cluster-robust adjusted residual"), the
#' classical one otherwise; an asterisk marks Holm-adjusted p < 0.05 of that residual.
#' The colour scale is the same in the three figures (+/- the largest |z| of residuals.csv
#' outside suppressed groups), so equal colours mean equal residuals across them.
#' With run.csv residual "pearson" (analysis/replication.toml, the original figure) the
#' cells show Pearson residuals (O - E) / sqrt(E) instead, on the fixed scale
#' +/- run.csv residual_limit (values beyond it take the end colour and keep their number).
#' @param test "condition_sentiment", "condition_perspective" or "condition_value".
vsd_fig3_residuals <- function(h, test = "condition_sentiment") {
  d <- h$residuals[h$residuals$test == test, , drop = FALSE]
  e <- .vsd_empty(d, "residuals.csv", paste0(" with test == '", test, "'"), test)
  if (!is.null(e)) return(vsd_finish(e, h))
  row_var <- d$row_var[1]
  col_var <- d$col_var[1]
  # groups under --min-cell units (groups.csv `suppressed`) are not drawn
  n_all <- length(unique(d$row))
  d <- d[!vsd_small(h, row_var, d$row) & !vsd_small(h, col_var, d$col), , drop = FALSE]
  n_left <- n_all - length(unique(d$row))
  e <- .vsd_empty(d, "residuals.csv", " outside suppressed groups", test)
  if (!is.null(e)) return(vsd_finish(e, h))
  ncol <- length(unique(d$col))
  d$row_f <- vsd_label(h, row_var, d$row, wrap = if (ncol > 3) 30 else 22)
  d$row_f <- factor(d$row_f, levels = rev(levels(d$row_f)))
  # many columns: vertical labels on one line each; few: horizontal, wrapped
  d$col_f <- vsd_label(h, col_var, d$col, wrap = if (ncol > 3) Inf else 10)
  pearson <- identical(h$run$residual[1], "pearson")
  robust <- !pearson && identical(d$residual_method[1], "cluster-robust adjusted residual")
  what <- if (pearson) "Pearson residuals (O - E) / sqrt(E)" else if (robust)
    "cluster-robust adjusted residuals" else "adjusted standardized residuals"
  shown <- if (pearson) "pearson_residual" else "z"
  d$txt <- paste0(
    .vsd_num(d[[shown]], 1),
    ifelse(!is.na(d$significant) & d$significant, "*", "")
  )
  # one colour scale for the three residual figures: fixed (run.csv residual_limit) or
  # +/- the largest |residual| drawn in any of them
  all <- h$residuals[startsWith(h$residuals$test, "condition_"), , drop = FALSE]
  all <- all[!vsd_small(h, all$row_var, all$row) & !vsd_small(h, all$col_var, all$col) &
    !(!is.na(all$n_hidden) & all$n_hidden), , drop = FALSE]
  fixed <- h$run$residual_limit[1]
  lim <- if (!is.na(fixed)) c(-fixed, fixed) else .vsd_sym_limit(all[[shown]])
  # cells with fewer than K units (n_hidden; their numbers are blank in the hand-off)
  # are grey without a number
  hid <- !is.na(d$n_hidden) & d$n_hidden
  d$txt[hid] <- ""
  d$fill <- pmax(pmin(d[[shown]], lim[2]), lim[1])
  d$fill[hid] <- NA_real_
  d$dark <- abs(d$fill) > 0.6 * lim[2]
  beyond <- sum(abs(d[[shown]][!hid]) > lim[2], na.rm = TRUE)
  p <- ggplot(d, aes(x = col_f, y = row_f, fill = fill)) +
    geom_tile(colour = "white", linewidth = 0.4) +
    geom_text(aes(label = txt, colour = dark), size = if (ncol > 6) 2.15 else 2.3) +
    scale_colour_manual(values = c(`FALSE` = "black", `TRUE` = "white"), guide = "none") +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0, limits = lim,
      na.value = "grey80",
      name = if (pearson) "Pearson\nresidual" else if (robust)
        "Cluster-robust\nadjusted\nresidual" else "Adjusted\nresidual"
    ) +
    scale_x_discrete(position = "bottom", expand = c(0, 0)) +
    scale_y_discrete(expand = c(0, 0)) +
    labs(
      x = .vsd_dim_title[[col_var]], y = .vsd_dim_title[[row_var]],
      title = paste0(.vsd_dim_title[[row_var]], " x ", tolower(.vsd_dim_title[[col_var]]),
        ": ", what),
      caption = paste0(
        "Red: more units than expected under independence; blue: fewer. * Holm-adjusted p < 0.05",
        if (pearson) " (of the adjusted residual)." else ".",
        if (robust) "\nResiduals allow for units nested in authors (linearized, cluster-robust)." else "",
        if (pearson) "\nUnits treated as independent (the original study's figure)." else "",
        "\nOne colour scale for every residual figure (fig3, +/-",
        formatC(lim[2], format = "f", digits = 1), if (!is.na(fixed)) ", fixed" else "", ")",
        if (beyond) paste0("; ", beyond, " cell", if (beyond == 1) "" else "s",
          " beyond it drawn at its end.") else ".",
        if (any(hid)) paste0("\nGrey: cells with fewer than ", vsd_min_cell(h),
          " units (suppressed).") else "",
        .vsd_small_note(h, n_left, tolower(.vsd_dim_title[[row_var]]))
      )
    ) +
    vsd_theme() +
    theme(panel.grid = element_blank()) +
    (if (ncol > 3) .vsd_angled_x() else theme())
  vsd_finish(p, h)
}
