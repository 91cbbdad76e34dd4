# Figure 9: most distinctive perspectives and values per condition (fig9_logodds).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$logodds.

#' The `top` perspectives and values with the highest tidylo weighted log-odds
#' (condition against the whole corpus) per condition, one panel per condition.  The
#' weighted log-odds is a ranking score, NOT a z-score: with tidylo's informative prior
#' its null SD is far below 1 (about 0.04-0.4 for the study's condition sizes).  Bars of
#' features distinctive by MCQ's zeta (logodds.csv `p_value_adj`: permutation null by
#' author, maxT) at p_value_adj < 0.05 are marked with "*".
vsd_fig9_logodds <- function(h, top = 3, ncol = 3) {
  d <- h$logodds
  title <- "Distinctive perspectives and values"
  if (!is.null(e <- .vsd_empty(d, "logodds.csv", "", title))) return(vsd_finish(e, h))
  # conditions and features under K units (groups.csv) are not drawn, nor bars resting
  # on fewer than K units of the condition (n_hidden)
  cond_all <- unique(d$condition)
  d <- d[!is.na(d$dimension), , drop = FALSE]
  d <- vsd_drop_small(h, d, c("condition" = "condition"))
  d <- d[!vsd_small(h, d$dimension, d$feature), , drop = FALSE]
  n_left <- length(setdiff(cond_all, d$condition))
  d <- d[d$rank <= top & !(!is.na(d$n_hidden) & d$n_hidden), , drop = FALSE]
  if (!is.null(e <- .vsd_empty(d, "logodds.csv", " outside suppressed groups", title))) {
    return(vsd_finish(e, h))
  }
  d$cond <- vsd_label(h, "condition", d$condition, wrap = 40)
  d$dim <- factor(.vsd_dim_title[d$dimension], levels = c("Perspective", "Value"))
  d$feat <- ifelse(
    d$dimension == "perspective",
    as.character(vsd_label(h, "perspective", d$feature, wrap = 26)),
    as.character(vsd_label(h, "value", d$feature, wrap = 26))
  )
  # one y position per (condition, dimension, feature): perspectives above values,
  # rank 1 on top
  d$key <- paste(d$feat, d$condition, d$dimension, sep = "\r")
  d <- d[order(d$condition, -as.integer(d$dim), -d$rank), , drop = FALSE]
  d$key <- factor(d$key, levels = unique(d$key))
  d$star <- ifelse(!is.na(d$p_value_adj) & d$p_value_adj < 0.05, "*", "")
  p <- ggplot(d, aes(x = log_odds_weighted, y = key, fill = dim)) +
    geom_col(width = 0.75) +
    geom_text(aes(label = star), hjust = -0.3, size = 3.5) +
    geom_vline(xintercept = 0, colour = "grey40", linewidth = 0.3) +
    facet_wrap(vars(cond), ncol = ncol, scales = "free_y") +
    scale_y_discrete(labels = function(x) sub("\r.*$", "", x)) +
    scale_fill_manual(values = c(Perspective = "#4C78A8", Value = "#F58518"), name = NULL) +
    labs(x = "Weighted log-odds (tidylo; condition vs. whole corpus; not a z-score)", y = NULL,
      title = paste0("Perspectives and values with the highest weighted log-odds per ",
        "condition (top ", top, " of each)"),
      caption = paste0(
        "Weighted log-odds (tidylo, informative prior): a ranking score, not a z-score ",
        "(its null SD is far below 1).",
        if (any(d$star == "*")) {
          " *: distinctive by MCQ's zeta with a permutation null by author (maxT-adjusted p < 0.05)."
        } else {
          ""
        },
        "\nBars resting on fewer than ", vsd_min_cell(h), " units are left out.",
        .vsd_small_note(h, n_left, "condition")
      )) +
    vsd_theme(base_size = 10) +
    theme(panel.grid.major.y = element_blank(), legend.position = "top",
      panel.spacing = unit(0.8, "lines"))
  vsd_finish(p, h)
}
