# Figure 4a: NPMI of value x perspective co-occurrence over all units (fig4_npmi).  It
# shows NPMI (normalized PMI over all units), not delta-PMI (that is fig4_delta_pmi).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$pmi.

#' NPMI (normalized PMI, PMI / -log2 p(a,b), in [-1, 1]) of value x perspective over all
#' units (fig4_npmi).
vsd_fig4_npmi <- function(h) {
  d <- h$pmi
  if (!is.null(e <- .vsd_empty(d, "pmi.csv", "", "Value x perspective co-occurrence"))) {
    return(vsd_finish(e, h))
  }
  # values / perspectives under --min-cell units are not drawn; pairs seen in fewer
  # than K units (n_hidden) are grey without a number
  d <- vsd_drop_small(h, d, c("value", "perspective"))
  d$npmi[!is.na(d$n_hidden) & d$n_hidden] <- NA_real_
  d <- .vsd_complete(h, d, "value", "perspective")
  d$x <- vsd_label(h, "perspective", d$perspective, drop = FALSE)
  d$y <- vsd_label(h, "value", d$value, drop = FALSE)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  d$txt <- .vsd_num(d$npmi, 2)
  lim <- .vsd_sym_limit(d$npmi)
  d$dark <- abs(d$npmi) > 0.6 * lim[2]
  p <- ggplot(d, aes(x = x, y = y, fill = npmi)) +
    geom_tile(colour = "white", linewidth = 0.4) +
    geom_text(aes(label = txt, colour = dark), size = 2.15) +
    scale_colour_manual(values = c(`FALSE` = "black", `TRUE` = "white"), guide = "none") +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0, limits = lim,
      name = "NPMI", na.value = "grey85"
    ) +
    scale_x_discrete(drop = FALSE, expand = c(0, 0)) +
    scale_y_discrete(drop = FALSE, expand = c(0, 0)) +
    labs(
      x = "Perspective", y = "Value",
      title = "NPMI of values and perspectives (all units)",
      caption = paste(
        "NPMI (normalized PMI, not delta-PMI): 1 = always together, 0 = independent,",
        "-1 = never together;",
        paste0("grey: pair never observed or seen in fewer than ", vsd_min_cell(h),
          " units (suppressed).")
      )
    ) +
    vsd_theme() +
    theme(panel.grid = element_blank()) +
    .vsd_angled_x()
  vsd_finish(p, h)
}
