# Figure 6: monthly volume and mean sentiment with model releases (fig6_monthly).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$monthly and h$releases.

#' Monthly number of units (top) and mean sentiment with 95% CI ribbon (bottom); dashed
#' lines mark model releases within the months shown.  Release labels are stacked on as
#' many rows as needed so that none overlaps another; `width` (inches, the saved width)
#' is used to estimate the labels' extent.  Intervals stay inside the score's range [-1, 1].
vsd_fig6_monthly <- function(h, width = 11) {
  m <- h$monthly
  if (!is.null(e <- .vsd_empty(m, "monthly.csv", "", "Monthly sentiment"))) return(vsd_finish(e, h))
  m <- m[order(m$month), , drop = FALSE]
  # small-cell suppression (monthly.csv): a month under K units has no mean and no bar
  # (`suppressed`); a month whose count would let it be recovered from the published
  # total has no bar either (`n_hidden`)
  sup <- !is.na(m$suppressed) & m$suppressed
  hid <- sup | (!is.na(m$n_hidden) & m$n_hidden)
  m$mean[sup] <- NA_real_
  m$ci_low[sup] <- NA_real_
  m$ci_high[sup] <- NA_real_
  # the score's range: no interval reaches outside [-1, 1]
  m <- vsd_clip_interval(m)
  clipped <- isTRUE(attr(m, "clipped"))
  panels <- c("Units per month", "Mean sentiment\n(95% CI)")
  # months are drawn mid-month so each bar and point sits inside its calendar month
  mid <- m$month + 14
  vol <- data.frame(month = mid, n = m$n, panel = factor(panels[1], levels = panels))
  vol <- vol[!hid, , drop = FALSE]
  # runs of months with a mean; the ribbon and line break at empty months
  sen <- data.frame(
    month = mid, mean = m$mean, ci_low = m$ci_low, ci_high = m$ci_high,
    run = cumsum(is.na(m$mean)), panel = factor(panels[2], levels = panels)
  )
  sen <- sen[!is.na(sen$mean), , drop = FALSE]
  band <- sen[!is.na(sen$ci_low) & !is.na(sen$ci_high), , drop = FALSE]
  band$run <- cumsum(c(1, diff(match(band$month, mid)) != 1))
  lone <- ave(band$run, band$run, FUN = length) == 1
  first <- min(m$month)
  last <- seq(max(m$month), by = "month", length.out = 2)[2]
  # quarter starts (Jan, Apr, Jul, Oct) as axis breaks
  all_months <- seq(first, max(m$month), by = "month")
  qbreaks <- all_months[as.integer(format(all_months, "%m")) %in% c(1, 4, 7, 10)]
  if (length(all_months) <= 13) qbreaks <- all_months
  if (length(qbreaks) > 14) qbreaks <- qbreaks[format(qbreaks, "%m") %in% c("01", "07")]
  r <- h$releases
  r <- r[!is.na(r$date) & r$date >= first & r$date < last, , drop = FALSE]
  r <- r[order(r$date, r$label), , drop = FALSE]
  top <- max(vol$n, 1, na.rm = TRUE)
  # Greedy, deterministic label rows: each label (in date order) takes the lowest row
  # where it does not overlap the previous label of that row.  Extent estimated from
  # the character count (about 0.055 in per character at this text size).
  days_per_in <- as.numeric(last - first) / max(width - 1.6, 1)
  half <- (nchar(r$label) * 0.055 + 0.12) / 2 * days_per_in
  row_end <- numeric(0)
  level <- integer(nrow(r))
  for (i in seq_len(nrow(r))) {
    x0 <- as.numeric(r$date[i]) - half[i]
    k <- which(row_end < x0)[1]
    if (is.na(k)) {
      row_end <- c(row_end, -Inf)
      k <- length(row_end)
    }
    row_end[k] <- as.numeric(r$date[i]) + half[i]
    level[i] <- k
  }
  n_rows <- max(c(level, 0L))
  step <- 0.16
  r_lab <- data.frame(
    date = r$date, label = r$label,
    y = top * (1.1 + step * (level - 1)),
    panel = factor(rep(panels[1], nrow(r)), levels = panels)
  )
  headroom <- data.frame(
    month = first, y = top * (if (nrow(r)) 1.1 + step * (n_rows - 1) + 0.08 else 1.05),
    panel = factor(panels[1], levels = panels)
  )
  p <- ggplot() +
    geom_col(data = vol, aes(x = month, y = n), fill = "grey55", width = 25) +
    geom_ribbon(data = band, aes(x = month, ymin = ci_low, ymax = ci_high, group = run),
      fill = "#6BAED6", alpha = 0.45) +
    geom_linerange(data = band[lone, , drop = FALSE], aes(x = month, ymin = ci_low,
      ymax = ci_high), colour = "#6BAED6", linewidth = 1.2) +
    geom_line(data = sen[ave(sen$run, sen$run, FUN = length) > 1, , drop = FALSE],
      aes(x = month, y = mean, group = run), colour = "#08519C",
      linewidth = 0.7) +
    geom_point(data = sen, aes(x = month, y = mean), colour = "#08519C", size = 0.8,
      na.rm = TRUE) +
    geom_hline(data = data.frame(y = 0, panel = factor(panels[2], levels = panels)),
      aes(yintercept = y), colour = "grey40", linewidth = 0.3) +
    geom_vline(data = r, aes(xintercept = date), linetype = "dashed", colour = "grey20",
      linewidth = 0.4) +
    geom_label(data = r_lab, aes(x = date, y = y, label = label), size = 2.2,
      label.size = 0, label.padding = unit(0.12, "lines"), fill = "white") +
    geom_blank(data = headroom, aes(x = month, y = y)) +
    facet_grid(rows = vars(panel), scales = "free_y", switch = "y") +
    scale_y_continuous(labels = scales::label_comma()) +
    scale_x_date(breaks = qbreaks, date_labels = "%b\n%Y", limits = c(first, last),
      expand = expansion(mult = 0.005)) +
    labs(x = "Month", y = NULL,
      title = "Monthly volume and mean sentiment, with model releases",
      caption = paste0("Sentiment score: +1 positive, 0 neutral, -1 negative. Dashed lines: model releases.",
        if (identical(m$method[1], "cluster-robust")) " 95% CIs cluster-robust (by author)." else "",
        if (clipped) " Intervals cut at the score's range [-1, 1]." else "",
        if (any(hid)) paste0("\n", sum(hid), " month", if (sum(hid) == 1) "" else "s",
          " without a bar (", sum(sup), " without a mean): fewer than ", vsd_min_cell(h),
          " units, or hidden so that such a month cannot be recovered (small-cell suppression).")
        else "")) +
    vsd_theme() +
    theme(strip.placement = "outside", strip.text.y.left = element_text(angle = 90),
      panel.grid.major.x = element_blank(), panel.spacing.y = unit(1, "lines"))
  vsd_finish(p, h)
}
