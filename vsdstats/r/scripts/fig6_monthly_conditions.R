# Figure 6b: monthly volume and mean sentiment of the largest conditions
# (fig6_monthly_conditions).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads
# h$monthly_conditions (the [monthly] top_conditions conditions with the most units, in
# rank order) and h$releases.

#' One column per condition: units per month (top row) and mean sentiment with its 95%
#' CI ribbon (bottom row, kept inside [-1, 1]); dashed lines mark model releases (named
#' in fig6_monthly).  Condition-months under K units (`suppressed`) have no bar and no
#' mean; a condition suppressed as a whole (groups.csv) is not drawn.
vsd_fig6_monthly_conditions <- function(h) {
  m <- h$monthly_conditions
  title <- "Monthly volume and mean sentiment, largest conditions"
  if (!is.null(e <- .vsd_empty(m, "monthly_conditions.csv", "", title))) return(vsd_finish(e, h))
  m <- m[!vsd_small(h, "condition", m$condition), , drop = FALSE]
  if (!is.null(e <- .vsd_empty(m, "monthly_conditions.csv", " outside suppressed groups",
    title))) return(vsd_finish(e, h))
  m <- m[order(m$rank, m$month), , drop = FALSE]
  sup <- !is.na(m$suppressed) & m$suppressed
  m$mean[sup] <- NA_real_
  m$ci_low[sup] <- NA_real_
  m$ci_high[sup] <- NA_real_
  m <- vsd_clip_interval(m)
  clipped <- isTRUE(attr(m, "clipped"))
  # short strip labels: the codebook label without its parenthesis ("Anxiety (incl. ...)")
  lab <- sub(" *\\(.*\\)$", "", as.character(vsd_label(h, "condition", m$condition)))
  lab <- .vsd_wrap(lab, 16)
  m$cond_f <- factor(lab, levels = unique(lab[order(m$rank)]))
  panels <- c("Units per month", "Mean sentiment\n(95% CI)")
  mid <- m$month + 14
  vol <- data.frame(month = mid, n = m$n, cond_f = m$cond_f,
    panel = factor(panels[1], levels = panels))[!sup, , drop = FALSE]
  sen <- data.frame(month = mid, mean = m$mean, ci_low = m$ci_low, ci_high = m$ci_high,
    cond_f = m$cond_f, panel = factor(panels[2], levels = panels))
  # runs of consecutive months with a mean, per condition: lines and ribbons break at gaps
  sen$run <- cumsum(c(TRUE, diff(as.integer(sen$cond_f)) != 0) | is.na(sen$mean))
  sen <- sen[!is.na(sen$mean), , drop = FALSE]
  first <- min(m$month)
  last <- seq(max(m$month), by = "month", length.out = 2)[2]
  # one label per year, centred on it (1 July), so neighbouring panels' labels never touch
  years <- seq(as.Date(format(first, "%Y-07-01")), last, by = "year")
  years <- years[years >= first & years < last]
  r <- h$releases
  r <- r[!is.na(r$date) & r$date >= first & r$date < last, , drop = FALSE]
  p <- ggplot() +
    geom_col(data = vol, aes(x = month, y = n), fill = "grey55", width = 25) +
    geom_ribbon(data = sen, aes(x = month, ymin = ci_low, ymax = ci_high, group = run),
      fill = "#6BAED6", alpha = 0.45) +
    geom_line(data = sen, aes(x = month, y = mean, group = run), colour = "#08519C",
      linewidth = 0.5) +
    geom_hline(data = data.frame(y = 0, panel = factor(panels[2], levels = panels)),
      aes(yintercept = y), colour = "grey40", linewidth = 0.3) +
    geom_vline(data = r, aes(xintercept = date), linetype = "dashed", colour = "grey60",
      linewidth = 0.2) +
    facet_grid(rows = vars(panel), cols = vars(cond_f), scales = "free_y", switch = "y") +
    scale_x_date(breaks = years, date_labels = "%Y", limits = c(first, last),
      expand = expansion(mult = 0.01)) +
    scale_y_continuous(labels = scales::label_comma()) +
    labs(x = "Month", y = NULL, title = title,
      caption = paste0(
        "Conditions ranked by units, left to right. Sentiment score: +1 positive, 0 neutral, -1 negative.",
        if (identical(m$method[1], "cluster-robust")) " 95% CIs cluster-robust (by author)." else
          " 95% t intervals.",
        "\nDashed lines: model releases (named in fig6_monthly).",
        if (clipped) " Intervals cut at the score's range [-1, 1]." else "",
        if (!is.na(h$run$dropped_month[1])) paste0(" The incomplete last month (",
          h$run$dropped_month[1], ") is left out.") else "",
        if (any(sup)) paste0("\n", sum(sup), " condition-month", if (sum(sup) == 1) "" else "s",
          " under ", vsd_min_cell(h), " units without a bar or mean (small-cell suppression).")
        else "")) +
    vsd_theme() +
    theme(strip.placement = "outside", strip.text.y.left = element_text(angle = 90),
      panel.grid.major.x = element_blank(), axis.ticks.x = element_blank(), panel.spacing.x = unit(0.6, "lines"),
      panel.spacing.y = unit(0.8, "lines"))
  vsd_finish(p, h)
}
