# Figure 7: LLM family x condition fingerprint (fig7_fingerprint).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$fingerprint.

#' Bubble chart of LLM family x condition: bubble area = number of units (at least
#' `min_mm` across, so the smallest cells stay visible at print size), colour = adjusted
#' residual of the LLM family x condition table, each bubble labelled with its count
#' (inside when it fits, else to its right).  LLM families and conditions under K units
#' (groups.csv) are not drawn; cells whose count is hidden (fingerprint.csv n_hidden:
#' fewer than K units, or hidden so that none can be recovered from table 1's totals)
#' are grey squares without size, colour or number.
#' @param width,height the saved size (inches), used to place the count labels.
vsd_fig7_fingerprint <- function(h, width = 6.9, height = 5.6, max_mm = 9, min_mm = 1.6,
                                 base_size = 8) {
  d <- h$fingerprint
  title <- "LLM family x condition"
  if (!is.null(e <- .vsd_empty(d, "fingerprint.csv", "", title))) return(vsd_finish(e, h))
  fam_all <- unique(d$llm_product)
  d <- vsd_drop_small(h, d, c("llm_product", "condition"))
  if (!is.null(e <- .vsd_empty(d, "fingerprint.csv", " outside suppressed groups", title))) {
    return(vsd_finish(e, h))
  }
  n_left <- length(setdiff(fam_all, d$llm_product))
  d$x <- vsd_label(h, "llm_product", d$llm_product, wrap = 11)
  d$y <- vsd_label(h, "condition", d$condition, wrap = 30)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  hid <- !is.na(d$n_hidden) & d$n_hidden
  shown <- d[!hid & d$n > 0, , drop = FALSE]
  lim <- .vsd_sym_limit(shown$adjusted_residual)
  # bubble diameter (mm): area proportional to n, never below min_mm
  n_max <- max(shown$n, 1)
  size_mm <- function(n) pmax(min_mm, max_mm * sqrt(n / n_max))
  shown$size <- size_mm(shown$n)
  # count labels (6 pt): inside a bubble wide enough for them, else just right of it.
  # Column width estimated from the saved width minus the label and legend columns.
  label_pt <- 6
  char_mm <- 0.55 * label_pt * 25.4 / 72
  shown$txt <- formatC(shown$n, format = "d", big.mark = ",")
  txt_mm <- nchar(shown$txt) * char_mm
  left_mm <- max(nchar(unlist(strsplit(levels(d$y), "\n")))) * 0.5 * base_size * 25.4 / 72
  col_mm <- (width * 25.4 - left_mm - 30) / max(1, nlevels(d$x))
  shown$inside <- shown$size >= txt_mm + 2
  shown$tx <- as.numeric(shown$x) + ifelse(shown$inside, 0, (shown$size / 2 + 0.7) / col_mm)
  shown$dark <- abs(shown$adjusted_residual) > 0.55 * lim[2] & shown$inside
  # legend: three round counts spread over the range
  brk <- unique(signif(n_max * c(0.02, 0.2, 0.9), 1))
  brk <- brk[brk <= n_max & brk > 0]
  p <- ggplot(d, aes(x = x, y = y)) +
    geom_point(data = d[hid, , drop = FALSE], shape = 15, size = 1.5, colour = "grey65") +
    geom_point(data = shown, aes(size = size, fill = adjusted_residual), shape = 21,
      colour = "grey30", stroke = 0.25) +
    geom_text(data = shown, aes(x = tx, label = txt, colour = dark,
      hjust = ifelse(inside, 0.5, 0)), size = label_pt / .pt) +
    scale_colour_manual(values = c(`FALSE` = "grey10", `TRUE` = "white"), guide = "none") +
    scale_size_identity(guide = "legend", breaks = size_mm(brk),
      labels = formatC(brk, format = "d", big.mark = ","), name = "Units\n(bubble area)") +
    scale_fill_gradient2(low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = lim, name = "Adjusted\nresidual") +
    scale_x_discrete(drop = FALSE, expand = expansion(add = c(0.5, 0.7))) +
    scale_y_discrete(drop = FALSE) +
    guides(size = guide_legend(override.aes = list(shape = 21, fill = "grey90",
      colour = "grey30"), order = 1)) +
    labs(x = "LLM family", y = "Condition",
      title = "Which conditions each LLM family is used for",
      caption = paste0("Bubble area: number of units (printed beside or inside each bubble; ",
        "smallest bubbles enlarged to ", min_mm, " mm).\nRed: more units than expected ",
        "under independence; blue: fewer (adjusted residuals of the LLM family x ",
        "condition table).\nGrey squares: suppressed (fewer than ", vsd_min_cell(h),
        " units, or hidden so that no small count can be recovered from table 1's totals).",
        .vsd_small_note(h, n_left, "LLM family", "LLM families"))) +
    vsd_theme(base_size = base_size) +
    theme(panel.grid.major = element_line(colour = "grey92", linewidth = 0.3),
      axis.text.x = element_text(vjust = 1, lineheight = 0.9))
  vsd_finish(p, h)
}
