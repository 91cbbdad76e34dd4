# Figures of the paper, drawn from the hand-off folder written by the Python paper job.
#
# Usage from a shell:  Rscript R/figures.R HANDOFF_DIR [OUT_DIR]
#   (OUT_DIR defaults to file.path(dirname(HANDOFF_DIR), "figures"); prints each file written)
# Usage from R / rpy2: source("R/figures.R"); vsd_figures("paper/handoff", "paper/figures")
#
# This file is the driver.  It sources, from its own folder (wherever it is run or
# sourced from, e.g. vsdstats/r/scripts/ of an installed wheel):
#   handoff.R             the hand-off contract and vsd_read_handoff(): every CSV is read
#                         with the column types of schema.json and validated; a mismatch
#                         stops with an error naming the file and the column
#   theme.R               vsd_theme(), the palette, vsd_label(), placeholders, vsd_save()
#   fig3_residuals.R ... fig10_forest.R   one drawing function per figure (.vsd_parts)
# and defines vsd_figure_specs() and vsd_figures().
#
# Figures (each written as NAME.pdf and NAME.png, PNG at 300 dpi), drawn at the size they
# are printed: journal full width 6.9 in (17.5 cm), fig3 sentiment and fig5 column width 3.35 in
# (8.5 cm), text 8 pt:
#   fig3_residuals_condition_{sentiment,perspective,value}  adjusted residual heatmaps
#   fig4_npmi                      NPMI of value x perspective over all units
#   fig4_delta_pmi                 delta-PMI in bits (condition vs. rest) for the
#                                  conditions with the most units, one facet per
#                                  condition; unsupported cells grey, maxT p < 0.05 dotted
#   fig5_mean_sentiment            mean sentiment score with 95% CI by LLM family / condition
#   fig6_monthly                   monthly volume and mean sentiment, model releases marked
#   fig6_monthly_conditions        the same for the largest conditions, one column each
#   fig7_fingerprint               LLM family x condition bubbles (size n, colour residual)
#   fig8_alluvial                  condition -> sentiment -> perspective -> value flows
#   fig9_logodds                   perspectives and values with the highest weighted
#                                  log-odds (tidylo) per condition, * = MCQ zeta maxT p < 0.05
#   fig10_forest                   odds ratios of the sentiment GLMMs (intercepts omitted)
#
# Every figure has its own function vsd_fig*(h, ...) that takes the list returned by
# vsd_read_handoff() and returns a ggplot object, so one figure can be restyled and
# saved with vsd_save(); vsd_figure_specs() lists names, functions and fixed sizes.
# A table with no rows (e.g. glmm.csv when the models were not fitted) gives a
# placeholder figure saying so instead of stopping the other figures.  Deterministic:
# no jitter or random layout.  Only ggplot2, ggalluvial, scales and jsonlite are used
# (PNG via ragg if installed, else png(type = "cairo"); PDF via the cairo-free pdf()).

#' The files this driver sources, in order (all beside figures.R).
.vsd_parts <- c(
  "handoff.R", "theme.R",
  "fig3_residuals.R", "fig4_npmi.R", "fig4_delta_pmi.R", "fig5_mean_sentiment.R",
  "fig6_monthly.R", "fig6_monthly_conditions.R", "fig7_fingerprint.R", "fig8_alluvial.R",
  "fig9_logodds.R",
  "fig10_forest.R"
)

# The folder of this file: from the innermost source() call reading it (rpy2's r.source
# is source() too), else from Rscript's --file= argument.
.vsd_script_dir <- function() {
  for (i in rev(seq_len(sys.nframe()))) {
    if (!identical(sys.function(i), base::source)) next
    env <- sys.frame(i)
    path <- get0("ofile", envir = env, inherits = FALSE)
    if (!is.character(path) || length(path) != 1) next
    # source(chdir = TRUE) has moved into the file's folder already
    if (isTRUE(get0("chdir", envir = env, inherits = FALSE))) return(getwd())
    return(dirname(normalizePath(path, mustWork = TRUE)))
  }
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg)) {
    return(dirname(normalizePath(sub("^--file=", "", arg[1]), mustWork = TRUE)))
  }
  stop("figures.R: cannot tell which folder it is in; source() it by its path ",
    "or run it with Rscript", call. = FALSE)
}

.vsd_source_parts <- function(dir, env) {
  for (f in .vsd_parts) {
    path <- file.path(dir, f)
    if (!file.exists(path)) {
      stop("figures.R: ", path, " is missing (the figure files ship beside figures.R)",
        call. = FALSE)
    }
    source(path, local = env, encoding = "UTF-8")
  }
}

.vsd_source_parts(.vsd_script_dir(), environment())

#' Name, drawing function and size (inches) of every figure.  Sizes are fixed (not
#' data-dependent) so the PNGs always have the same pixel size: width * dpi x height * dpi.
vsd_figure_specs <- function() {
  f <- function(name, fun, width, height) list(name = name, fun = fun, width = width, height = height)
  list(
    f("fig3_residuals_condition_sentiment",
      function(h) vsd_fig3_residuals(h, "condition_sentiment"), 3.35, 4.8),
    f("fig3_residuals_condition_perspective",
      function(h) vsd_fig3_residuals(h, "condition_perspective"), 6.9, 5.4),
    f("fig3_residuals_condition_value",
      function(h) vsd_fig3_residuals(h, "condition_value"), 6.9, 5.4),
    f("fig4_npmi", vsd_fig4_npmi, 6.9, 5.8),
    f("fig4_delta_pmi", vsd_fig4_delta_pmi, 6.9, 7.8),
    f("fig5_mean_sentiment", function(h) vsd_fig5_mean_sentiment(h, width = 3.35), 3.35, 5.8),
    f("fig6_monthly", function(h) vsd_fig6_monthly(h, width = 6.9), 6.9, 4.2),
    f("fig6_monthly_conditions", vsd_fig6_monthly_conditions, 6.9, 3.6),
    f("fig7_fingerprint", function(h) vsd_fig7_fingerprint(h, width = 6.9, height = 5.6),
      6.9, 5.6),
    f("fig8_alluvial", function(h) vsd_fig8_alluvial(h, height = 5.6), 6.9, 5.6),
    f("fig9_logodds", vsd_fig9_logodds, 6.9, 8.6),
    f("fig10_forest", vsd_fig10_forest, 6.9, 4.4)
  )
}

#' Draw every figure of the paper from a hand-off folder.
#'
#' @param handoff_dir folder with schema.json and the hand-off CSV files.
#' @param out_dir where NAME.pdf and NAME.png are written (created if needed).
#' @param dpi resolution of the PNGs.
#' @return the paths written, invisibly.
vsd_figures <- function(handoff_dir, out_dir = file.path(dirname(handoff_dir), "figures"),
                        dpi = 300) {
  h <- vsd_read_handoff(handoff_dir)
  written <- character(0)
  for (f in vsd_figure_specs()) {
    # a figure that cannot be drawn from these data (e.g. a degenerate table) becomes a
    # placeholder saying why, with an R warning, so the other figures are still drawn
    failed <- function(e) {
      msg <- iconv(conditionMessage(e), to = "ASCII", sub = "")  # PDF fonts: ASCII only
      warning(f$name, " could not be drawn: ", msg, call. = FALSE)
      vsd_placeholder(f$name, paste("Could not be drawn from these data:", msg))
    }
    p <- vsd_finish(tryCatch(f$fun(h), error = failed), h)
    paths <- tryCatch(
      vsd_save(p, out_dir, f$name, f$width, f$height, dpi = dpi),
      error = function(e) {
        vsd_save(vsd_finish(failed(e), h), out_dir, f$name, f$width, f$height, dpi = dpi)
      }
    )
    written <- c(written, paths)
  }
  invisible(written)
}

if (sys.nframe() == 0L) {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) < 1 || length(args) > 2) {
    message("usage: Rscript R/figures.R HANDOFF_DIR [OUT_DIR]")
    quit(status = 2)
  }
  handoff <- sub("/+$", "", args[1])
  out <- if (length(args) == 2) args[2] else file.path(dirname(handoff), "figures")
  paths <- tryCatch(vsd_figures(handoff, out), error = function(e) {
    message("figures.R: ", conditionMessage(e))
    quit(status = 1)
  })
  writeLines(paths)
}
