# Figure 9: most distinctive perspectives and values per condition (fig9_logodds).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$logodds.

#' The `top` most distinctive perspectives and values (weighted log-odds, condition
#' against the whole corpus) per condition, one panel per condition.
vsd_fig9_logodds <- function(h, top = 3, ncol = 3) {
  d <- h$logodds
  if (!is.null(e <- .vsd_empty(d, "logodds.csv", "", "Distinctive perspectives and values"))) return(e)
  d <- d[d$rank <= top, , drop = FALSE]
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
  ggplot(d, aes(x = log_odds_weighted, y = key, fill = dim)) +
    geom_col(width = 0.75) +
    geom_vline(xintercept = 0, colour = "grey40", linewidth = 0.3) +
    facet_wrap(vars(cond), ncol = ncol, scales = "free_y") +
    scale_y_discrete(labels = function(x) sub("\r.*$", "", x)) +
    scale_fill_manual(values = c(Perspective = "#4C78A8", Value = "#F58518"), name = NULL) +
    labs(x = "Weighted log-odds (condition vs. whole corpus; z-score scale)", y = NULL,
      title = paste0("Most distinctive perspectives and values per condition (top ", top,
        " of each)")) +
    vsd_theme(base_size = 10) +
    theme(panel.grid.major.y = element_blank(), legend.position = "top",
      panel.spacing = unit(0.8, "lines"))
}
