# Figure 8: alluvial diagram condition -> sentiment -> perspective -> value (fig8_alluvial).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$alluvial; needs ggalluvial.

suppressPackageStartupMessages(library(ggalluvial))  # geom_flow, geom_stratum, stat_stratum

#' Alluvial diagram of condition -> sentiment -> perspective -> value, flows coloured by
#' sentiment (geom_flow: the flows between neighbouring axes are aggregated per sentiment,
#' so the diagram stays readable with thousands of combinations).  A stratum is labelled
#' when its label's lines fit its height (the panel taken as `height` minus 1.6 in, a
#' 6 pt line as 2.1 mm); smaller strata are not.
vsd_fig8_alluvial <- function(h, height = 5.6) {
  panel_mm <- max(20, (height - 1.6) * 25.4)
  d <- h$alluvial
  if (!is.null(e <- .vsd_empty(d, "alluvial.csv", "", "Alluvial diagram"))) return(vsd_finish(e, h))
  # strata under K units were lumped by the Python side; a lumped stratum still under K
  # is `suppressed` and not drawn
  n_sup <- sum(d$n[!is.na(d$suppressed) & d$suppressed])
  d <- d[d$n > 0 & !(!is.na(d$suppressed) & d$suppressed), , drop = FALSE]
  if (!is.null(e <- .vsd_empty(d, "alluvial.csv", " outside suppressed strata", "Alluvial diagram"))) {
    return(vsd_finish(e, h))
  }
  # the lumped category gets a different name on each axis, so no stratum repeats
  axis_label <- function(dim, plural, wrap) {
    other <- stats::setNames(paste0("Other ", plural, " (lumped)"), .vsd_lumped)
    vsd_label(h, dim, d[[dim]], wrap = wrap, override = other)
  }
  # fixed colours for the codebook's sentiments, others from a qualitative palette
  sent_codes <- unique(d$sentiment)
  base_cols <- c(positive = "#1B9E77", neutral = "#BDBDBD", negative = "#D95F02")
  spare <- c("#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D")
  cols <- base_cols[sent_codes]
  cols[is.na(cols)] <- rep_len(spare, sum(is.na(cols)))
  sent_f <- axis_label("sentiment", "sentiments", 13)
  sent_cols <- stats::setNames(unname(cols), as.character(sent_f[match(sent_codes, d$sentiment)]))
  d$condition <- axis_label("condition", "conditions", 13)
  d$sentiment <- sent_f
  d$perspective <- axis_label("perspective", "perspectives", 13)
  d$value <- axis_label("value", "values", 13)
  d <- d[order(d$condition, d$sentiment, d$perspective, d$value), , drop = FALSE]
  p <- ggplot(d, aes(y = n, axis1 = condition, axis2 = sentiment, axis3 = perspective,
    axis4 = value)) +
    geom_flow(aes(fill = sentiment), width = 0.42, alpha = 0.6, knot.pos = 0.35,
      aes.bind = "flows") +
    geom_stratum(width = 0.42, fill = "grey97", colour = "grey40", linewidth = 0.3) +
    geom_text(stat = "stratum",
      aes(label = after_stat(ifelse(
        prop * panel_mm >= 2.1 * (1 + nchar(gsub("[^\n]", "", as.character(stratum)))),
        as.character(stratum), ""))),
      size = 2.15, lineheight = 0.85) +
    scale_x_discrete(limits = c("Condition", "Sentiment", "Perspective", "Value"),
      expand = c(0.08, 0.08)) +
    scale_y_continuous(labels = scales::label_comma(), expand = c(0.01, 0.01)) +
    scale_fill_manual(values = sent_cols, name = "Sentiment") +
    labs(x = NULL, y = "Units",
      title = "From condition to sentiment, perspective and value",
      caption = paste0("Flows coloured by sentiment. Rare categories, and any with fewer than ",
        vsd_min_cell(h), " units, are lumped; strata too small for their label are ",
        "unlabelled.",
        if (n_sup > 0) paste0(" A lumped stratum with fewer than ", vsd_min_cell(h),
          " units is not drawn.") else "")) +
    vsd_theme() +
    theme(panel.grid = element_blank(), axis.text.x = element_text(face = "bold", size = 8),
      legend.position = "bottom")
  vsd_finish(p, h)
}
