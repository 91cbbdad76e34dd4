# Figure 8: alluvial diagram condition -> sentiment -> perspective -> value (fig8_alluvial).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$alluvial; needs ggalluvial.

suppressPackageStartupMessages(library(ggalluvial))  # geom_flow, geom_stratum, stat_stratum

#' Alluvial diagram of condition -> sentiment -> perspective -> value, flows coloured by
#' condition (the first axis; the condition strata carry the same colours, so no legend).
#' geom_flow aggregates the flows between neighbouring axes per condition, so the diagram
#' stays readable with thousands of combinations.  On every axis the strata are ordered
#' by size, largest on top, the lumped stratum ("other ... (lumped)") at the bottom.
#' Every stratum is labelled with its name and n: inside when the lines fit its height
#' (the panel taken as `height` minus 1.6 in, a 6 pt line as 2.2 mm), else beside it
#' on the right, on a white ground, those labels pushed apart so that none overlap.
vsd_fig8_alluvial <- function(h, height = 5.6) {
  panel_mm <- max(20, (height - 1.6) * 25.4)
  line_mm <- 2.2
  d <- h$alluvial
  if (!is.null(e <- .vsd_empty(d, "alluvial.csv", "", "Alluvial diagram"))) return(vsd_finish(e, h))
  # strata under K units were lumped by the Python side; a lumped stratum still under K
  # is `suppressed` and not drawn
  # (their n is blank in the hand-off: only whether there are any is used)
  n_sup <- sum(!is.na(d$suppressed) & d$suppressed)
  d <- d[d$n > 0 & !(!is.na(d$suppressed) & d$suppressed), , drop = FALSE]
  if (!is.null(e <- .vsd_empty(d, "alluvial.csv", " outside suppressed strata", "Alluvial diagram"))) {
    return(vsd_finish(e, h))
  }
  axes <- c("condition", "sentiment", "perspective", "value")
  plural <- c(condition = "conditions", sentiment = "sentiments",
    perspective = "perspectives", value = "values")
  total <- sum(d$n)
  # labels (the lumped category named per axis, so no stratum repeats), levels by size
  for (ax in axes) {
    other <- stats::setNames(paste0("Other ", plural[[ax]], " (lumped)"), .vsd_lumped)
    f <- vsd_label(h, ax, d[[ax]], wrap = 14, override = other)
    size <- tapply(d$n, f, sum)
    size <- size[!is.na(size)]
    lumped <- grepl("(lumped)", names(size), fixed = TRUE)
    levs <- c(names(sort(size[!lumped], decreasing = TRUE)), names(size)[lumped])
    d[[ax]] <- factor(as.character(f), levels = levs)
  }
  # the strata as ggalluvial stacks them (read back from a stratum layer), for the labels
  base <- ggplot(d, aes(y = n, axis1 = condition, axis2 = sentiment, axis3 = perspective,
    axis4 = value)) + geom_stratum(width = 0.42)
  boxes <- ggplot2::layer_data(base, 1)
  boxes <- data.frame(x = as.numeric(boxes$x), stratum = as.character(boxes$stratum),
    n = round(boxes$ymax - boxes$ymin), y = (boxes$ymin + boxes$ymax) / 2,
    stringsAsFactors = FALSE)
  boxes$inside <- paste0(boxes$stratum, "\nn = ", scales::comma(boxes$n))
  nlines <- function(x) 1 + lengths(regmatches(x, gregexpr("\n", x)))
  boxes$fits <- boxes$n / total * panel_mm >= line_mm * nlines(boxes$inside) + 0.6
  beside <- boxes[!boxes$fits, , drop = FALSE]
  beside$label <- if (nrow(beside)) {
    paste0(beside$stratum, " (", scales::comma(beside$n), ")")
  } else {
    character(0)  # every stratum's label fits inside it
  }
  # labels beside thin strata (right of the stratum): pushed apart so none overlap
  half <- nlines(beside$label) * line_mm / panel_mm * total / 2
  for (i in unique(beside$x)) {
    k <- which(beside$x == i)
    k <- k[order(-beside$y[k])]
    y <- beside$y[k]
    hk <- half[k]
    for (j in seq_along(y)[-1]) y[j] <- min(y[j], y[j - 1] - hk[j - 1] - hk[j])
    m <- length(y)
    if (m && y[m] - hk[m] < 0) {
      y[m] <- hk[m]
      for (j in rev(seq_len(m - 1))) y[j] <- max(y[j], y[j + 1] + hk[j + 1] + hk[j])
    }
    beside$y[k] <- y
  }
  beside$xl <- beside$x + 0.23
  # colours of the conditions (lumped grey), Okabe-Ito first, then Tol's muted
  conds <- levels(d$condition)
  pal <- c("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442",
    "#882255", "#44AA99", "#117733", "#999933", "#AA4499", "#332288", "#88CCEE")
  cols <- stats::setNames(rep_len(pal, length(conds)), conds)
  cols[grepl("(lumped)", conds, fixed = TRUE)] <- "#BDBDBD"
  d <- d[order(d$condition, d$sentiment, d$perspective, d$value), , drop = FALSE]
  p <- ggplot(d, aes(y = n, axis1 = condition, axis2 = sentiment, axis3 = perspective,
    axis4 = value)) +
    geom_flow(aes(fill = condition), width = 0.42, alpha = 0.55, knot.pos = 0.35,
      aes.bind = "flows") +
    geom_stratum(aes(fill = after_stat(ifelse(x == 1, as.character(stratum), NA))),
      width = 0.42, colour = "grey40", linewidth = 0.3, alpha = 0.9) +
    geom_text(data = boxes[boxes$fits, , drop = FALSE],
      aes(x = x, y = y, label = inside), inherit.aes = FALSE, size = 2.15, lineheight = 0.85) +
    geom_label(data = beside, aes(x = xl, y = y, label = label), hjust = 0,
      inherit.aes = FALSE, size = 2.15, lineheight = 0.85, fill = "#FFFFFFCC",
      label.size = 0, label.padding = unit(0.4, "mm")) +
    scale_x_discrete(limits = c("Condition", "Sentiment", "Perspective", "Value"),
      expand = c(0.08, 0.08)) +
    scale_y_continuous(labels = scales::label_comma(), expand = c(0.01, 0.01)) +
    scale_fill_manual(values = cols, na.value = "grey97", guide = "none") +
    labs(x = NULL, y = "Units",
      title = "From condition to sentiment, perspective and value",
      caption = paste0("Flows coloured by condition; strata ordered by size, n = units. ",
        "Categories with fewer than ", vsd_min_cell(h), " units on an axis are lumped ",
        "(\"other ... (lumped)\"); a stratum too thin for its label is labelled beside it.",
        if (n_sup > 0) paste0(" A lumped stratum with fewer than ", vsd_min_cell(h),
          " units is not drawn.") else "")) +
    coord_cartesian(clip = "off") +
    vsd_theme() +
    theme(panel.grid = element_blank(), plot.margin = margin(4, 40, 4, 4), axis.text.x = element_text(face = "bold", size = 8))
  vsd_finish(p, h)
}
