# Figure 9: most distinctive perspectives and values per condition (fig9_logodds).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$logodds.

#' The `top` perspectives and values most distinctive for each condition by tidylo's
#' weighted log-odds (condition against the whole corpus), one panel per condition with
#' its own x scale.  Only features with a positive weighted log-odds (more frequent in
#' the condition than the prior expects) are drawn, and none resting on fewer than K
#' units (logodds.csv n_hidden) or from a group under K (groups.csv); `top` is taken
#' among those, by rank.  The weighted log-odds is a ranking score, NOT a z-score: with
#' tidylo's informative prior its null SD is far below 1 (about 0.04-0.4 for the study's
#' condition sizes).  Bars of features distinctive by MCQ's zeta (logodds.csv
#' `p_value_adj`: permutation null by author, maxT) at p_value_adj < 0.05 are marked "*".
vsd_fig9_logodds <- function(h, top = 3, ncol = 3, base_size = 8) {
  d <- h$logodds
  title <- "Distinctive perspectives and values"
  if (!is.null(e <- .vsd_empty(d, "logodds.csv", "", title))) return(vsd_finish(e, h))
  # conditions and features under K units (groups.csv) are not drawn, nor bars resting
  # on fewer than K units of the condition (n_hidden), nor features that are not
  # distinctive for the condition (weighted log-odds <= 0)
  cond_all <- unique(d$condition)
  d <- d[!is.na(d$dimension), , drop = FALSE]
  d <- vsd_drop_small(h, d, c("condition" = "condition"))
  d <- d[!vsd_small(h, d$dimension, d$feature), , drop = FALSE]
  d <- d[!(!is.na(d$n_hidden) & d$n_hidden), , drop = FALSE]
  d <- d[!is.na(d$log_odds_weighted) & d$log_odds_weighted > 0, , drop = FALSE]
  d <- d[order(d$condition, d$dimension, d$rank), , drop = FALSE]
  d$pos <- stats::ave(d$rank, d$condition, d$dimension, FUN = seq_along)
  d <- d[d$pos <= top, , drop = FALSE]
  n_left <- length(setdiff(cond_all, d$condition))
  if (!is.null(e <- .vsd_empty(d, "logodds.csv", " outside suppressed groups", title))) {
    return(vsd_finish(e, h))
  }
  # empty slots where a condition has fewer than `top` eligible features, so every
  # panel has 2 x top rows and bars have one thickness
  slots <- expand.grid(pos = seq_len(top), dimension = unique(d$dimension),
    condition = unique(d$condition), stringsAsFactors = FALSE)
  d <- merge(slots, d, by = c("condition", "dimension", "pos"), all.x = TRUE)
  d$rank[is.na(d$rank)] <- 1e6 + d$pos[is.na(d$rank)]
  d$cond <- vsd_label(h, "condition", d$condition, wrap = 26)
  d$dim <- factor(.vsd_dim_title[d$dimension], levels = c("Perspective", "Value"))
  d$feat <- ifelse(
    d$dimension == "perspective",
    as.character(vsd_label(h, "perspective", d$feature, wrap = 24)),
    as.character(vsd_label(h, "value", d$feature, wrap = 24))
  )
  d$feat[is.na(d$feature)] <- ""
  # one y position per (condition, dimension, slot): perspectives above values, rank 1
  # on top
  d$key <- paste(d$feat, d$condition, d$dimension, d$pos, sep = "\r")
  d <- d[order(d$condition, -as.integer(d$dim), -d$rank), , drop = FALSE]
  d$key <- factor(d$key, levels = unique(d$key))
  d$star <- ifelse(!is.na(d$p_value_adj) & d$p_value_adj < 0.05, "*", "")
  d$star[is.na(d$log_odds_weighted)] <- ""
  p <- ggplot(d, aes(x = log_odds_weighted, y = key, fill = dim)) +
    geom_blank() +  # the empty slots keep their rows
    geom_col(data = function(x) x[!is.na(x$log_odds_weighted), , drop = FALSE], width = 0.75) +
    geom_text(data = function(x) x[!is.na(x$log_odds_weighted), , drop = FALSE],
      aes(label = star), hjust = -0.4, vjust = 0.75, size = 3) +
    facet_wrap(vars(cond), ncol = ncol, scales = "free") +
    # bars start at 0; room on the right for the star, so nothing is cut off
    scale_x_continuous(limits = c(0, NA), expand = expansion(mult = c(0, 0.22)),
      breaks = scales::breaks_extended(3)) +
    scale_y_discrete(labels = function(x) sub("\r.*$", "", x)) +
    scale_fill_manual(values = c(Perspective = "#4C78A8", Value = "#F58518"), name = NULL,
      drop = FALSE) +
    coord_cartesian(clip = "off") +
    labs(x = "Weighted log-odds (tidylo; condition vs. whole corpus; not a z-score)", y = NULL,
      title = paste0("Perspectives and values most distinctive for each condition (top ",
        top, " of each)"),
      caption = paste0(
        "Weighted log-odds (tidylo, informative prior): a ranking score, not a z-score ",
        "(its null SD is far below 1); x scales differ between panels.",
        if (any(d$star == "*")) {
          "\n*: distinctive by MCQ's zeta with a permutation null by author (maxT-adjusted p < 0.05)."
        } else {
          ""
        },
        "\nOnly features more frequent in the condition (positive weighted log-odds; fewer ",
        "bars where fewer qualify); bars resting on fewer than ", vsd_min_cell(h),
        " units are left out.",
        .vsd_small_note(h, n_left, "condition")
      )) +
    vsd_theme(base_size = base_size) +
    theme(panel.grid.major.y = element_blank(), panel.grid.minor.x = element_blank(),
      legend.position = "top", panel.spacing.x = unit(1.2, "lines"), strip.clip = "off",
      plot.margin = margin(5.5, 12, 5.5, 5.5),
      panel.spacing.y = unit(0.6, "lines"), axis.line.y = element_line(colour = "grey40",
        linewidth = 0.3))
  vsd_finish(p, h)
}
