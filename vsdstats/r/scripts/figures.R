# Figures of the paper, drawn from the hand-off folder written by the Python paper job.
#
# Usage from a shell:  Rscript R/figures.R HANDOFF_DIR [OUT_DIR]
#   (OUT_DIR defaults to file.path(dirname(HANDOFF_DIR), "figures"); prints each file written)
# Usage from R / rpy2: source("R/figures.R"); vsd_figures("paper/handoff", "paper/figures")
#
# The hand-off contract: HANDOFF_DIR holds UTF-8 CSV files (header, NA for missing,
# TRUE/FALSE for logicals) and schema.json, which maps each file name to an ordered
# object {column: R type}.  Every file is read with read.csv(colClasses = <schema>) and
# validated against the columns and types this script expects (.vsd_contract below);
# any mismatch stops with an error naming the file and the column.
#
# Figures (each written as NAME.pdf and NAME.png, PNG at 180 dpi):
#   fig3_residuals_condition_{sentiment,perspective,value}  adjusted residual heatmaps
#   fig4_delta_pmi                 NPMI of value x perspective over all units
#   fig4_delta_pmi_by_condition    delta-PMI (condition vs. rest) for the conditions
#                                  with the most units, one facet per condition
#   fig5_mean_sentiment            mean sentiment score with 95% CI by LLM family / condition
#   fig6_monthly                   monthly volume and mean sentiment, model releases marked
#   fig7_fingerprint               LLM family x condition bubbles (size n, colour residual)
#   fig8_alluvial                  condition -> sentiment -> perspective -> value flows
#   fig9_logodds                   most distinctive perspectives and values per condition
#   fig10_forest                   odds ratios of the sentiment GLMMs (intercepts omitted)
#
# Every figure has its own function vsd_fig*(h, ...) that takes the list returned by
# vsd_read_handoff() and returns a ggplot object, so one figure can be restyled and
# saved with vsd_save(); vsd_figure_specs() lists names, functions and fixed sizes.
# A table with no rows (e.g. glmm.csv when the models were not fitted) gives a
# placeholder figure saying so instead of stopping the other figures.  Deterministic:
# no jitter or random layout.  Only ggplot2, ggalluvial, scales and jsonlite are used
# (PNG via ragg if installed, else png(type = "cairo"); PDF via the cairo-free pdf()).

suppressPackageStartupMessages({
  library(ggplot2)
  library(ggalluvial)
})

# ---------------------------------------------------------------------------
# The hand-off contract
# ---------------------------------------------------------------------------

.vsd_contract <- list(
  "labels.csv" = c(
    dimension = "character", code = "character", label = "character", order = "integer"
  ),
  "residuals.csv" = c(
    test = "character", row_var = "character", col_var = "character", row = "character",
    col = "character", observed = "integer", expected = "double",
    adjusted_residual = "double", p_adj = "double", significant = "logical"
  ),
  "pmi.csv" = c(
    value = "character", perspective = "character", n = "integer", pmi = "double",
    npmi = "double"
  ),
  "delta_pmi.csv" = c(
    condition = "character", value = "character", perspective = "character",
    n_in = "integer", n_out = "integer", delta_pmi = "double"
  ),
  "means.csv" = c(
    by = "character", group = "character", n = "integer", mean = "double",
    ci_low = "double", ci_high = "double"
  ),
  "monthly.csv" = c(
    month = "Date", n = "integer", mean = "double", ci_low = "double", ci_high = "double"
  ),
  "releases.csv" = c(date = "Date", label = "character"),
  "fingerprint.csv" = c(
    llm_product = "character", condition = "character", n = "integer", share = "double",
    adjusted_residual = "double"
  ),
  "alluvial.csv" = c(
    condition = "character", sentiment = "character", perspective = "character",
    value = "character", n = "integer"
  ),
  "logodds.csv" = c(
    condition = "character", dimension = "character", feature = "character",
    n = "integer", log_odds_weighted = "double", rank = "integer"
  ),
  "glmm.csv" = c(
    outcome = "character", term = "character", estimate = "double", std_error = "double",
    odds_ratio = "double", or_ci_low = "double", or_ci_high = "double", p = "double",
    engine = "character"
  )
)

# Allowed values of enumerated columns.
.vsd_enums <- list(
  "labels.csv" = list(
    dimension = c("sentiment", "condition", "perspective", "value", "llm_product", "platform")
  ),
  "residuals.csv" = list(
    test = c("condition_sentiment", "condition_perspective", "condition_value")
  ),
  "means.csv" = list(by = c("llm_product", "condition")),
  "logodds.csv" = list(dimension = c("perspective", "value")),
  "glmm.csv" = list(outcome = c("negative", "positive"))
)

.vsd_types <- c("character", "integer", "double", "logical", "Date")
.vsd_lumped <- "other (lumped)"

.vsd_stop <- function(...) stop(paste0(...), call. = FALSE)

# Convert one character column to `type`, naming file and column on failure.
.vsd_convert <- function(x, type, file, col) {
  bad <- function(ok) {
    i <- which(!ok)[1]
    .vsd_stop(
      file, ": column '", col, "' must be ", type, " but row ", i, " holds '", x[i], "'"
    )
  }
  na <- is.na(x)
  switch(type,
    character = x,
    integer = {
      ok <- na | grepl("^[+-]?[0-9]+$", x)
      if (!all(ok)) bad(ok)
      as.integer(x)
    },
    double = {
      v <- suppressWarnings(as.double(x))
      ok <- na | !is.na(v) | x %in% c("NaN")
      if (!all(ok)) bad(ok)
      v
    },
    logical = {
      ok <- na | x %in% c("TRUE", "FALSE")
      if (!all(ok)) bad(ok)
      as.logical(x)
    },
    Date = {
      v <- as.Date(x, format = "%Y-%m-%d", optional = TRUE)
      ok <- na | (!is.na(v) & grepl("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", x))
      if (!all(ok)) bad(ok)
      v
    }
  )
}

# Read one hand-off file as the contract says; on failure re-read it as text to
# report which column and row broke the contract.
.vsd_read_file <- function(path, file, types) {
  header <- tryCatch(
    names(utils::read.csv(path, nrows = 0, check.names = FALSE, encoding = "UTF-8")),
    error = function(e) .vsd_stop(file, ": cannot read the header (", conditionMessage(e), ")")
  )
  missing <- setdiff(names(types), header)
  if (length(missing)) {
    .vsd_stop(
      file, ": column '", missing[1], "' is in schema.json but missing from the file ",
      "(header: ", paste(header, collapse = ", "), ")"
    )
  }
  extra <- setdiff(header, names(types))
  if (length(extra)) {
    .vsd_stop(file, ": column '", extra[1], "' is in the file but not in schema.json")
  }
  if (!identical(header, names(types))) {
    .vsd_stop(
      file, ": columns are not in schema.json order (file: ", paste(header, collapse = ", "),
      "; schema: ", paste(names(types), collapse = ", "), ")"
    )
  }
  # Dates are read as text and parsed strictly (read.csv's Date class would silently
  # turn a malformed date into NA after the first row).
  cc <- ifelse(types == "Date", "character", types)
  d <- tryCatch(
    utils::read.csv(path,
      colClasses = unname(cc), na.strings = "NA", stringsAsFactors = FALSE,
      check.names = FALSE, encoding = "UTF-8"
    ),
    error = function(e) NULL
  )
  if (is.null(d)) {
    raw <- utils::read.csv(path,
      colClasses = "character", na.strings = "NA", stringsAsFactors = FALSE,
      check.names = FALSE, encoding = "UTF-8"
    )
    for (col in names(types)) .vsd_convert(raw[[col]], types[[col]], file, col)
    .vsd_stop(file, ": read.csv failed with the schema.json column classes")
  }
  for (col in names(types)[types == "Date"]) {
    d[[col]] <- .vsd_convert(d[[col]], "Date", file, col)
  }
  d
}

#' Read and validate a hand-off folder.
#'
#' @param handoff_dir folder with schema.json and the CSV files of the contract.
#' @return a named list of data frames, one per file, named without ".csv".
vsd_read_handoff <- function(handoff_dir) {
  schema_path <- file.path(handoff_dir, "schema.json")
  if (!file.exists(schema_path)) .vsd_stop("schema.json: not found in ", handoff_dir)
  schema <- tryCatch(
    jsonlite::fromJSON(schema_path, simplifyVector = FALSE),
    error = function(e) .vsd_stop("schema.json: invalid JSON (", conditionMessage(e), ")")
  )
  out <- list()
  for (file in names(.vsd_contract)) {
    want <- .vsd_contract[[file]]
    if (is.null(schema[[file]])) .vsd_stop("schema.json: no entry for ", file)
    types <- vapply(schema[[file]], function(t) {
      if (!is.character(t) || length(t) != 1) NA_character_ else t
    }, character(1))
    for (col in names(types)) {
      if (is.na(types[[col]]) || !types[[col]] %in% .vsd_types) {
        .vsd_stop(
          "schema.json: ", file, " column '", col, "' has type '", types[[col]],
          "', not one of ", paste(.vsd_types, collapse = ", ")
        )
      }
    }
    for (col in names(want)) {
      if (!col %in% names(types)) {
        .vsd_stop(file, ": column '", col, "' (", want[[col]], ") missing from schema.json")
      }
      if (types[[col]] != want[[col]]) {
        .vsd_stop(
          file, ": column '", col, "' has type '", types[[col]], "' in schema.json, ",
          "expected '", want[[col]], "'"
        )
      }
    }
    path <- file.path(handoff_dir, file)
    if (!file.exists(path)) .vsd_stop(file, ": listed in the contract but not found in ", handoff_dir)
    d <- .vsd_read_file(path, file, types)
    for (col in names(.vsd_enums[[file]])) {
      ok <- .vsd_enums[[file]][[col]]
      badv <- setdiff(unique(d[[col]]), ok)
      if (length(badv)) {
        .vsd_stop(
          file, ": column '", col, "' holds '", badv[1], "', expected one of ",
          paste(ok, collapse = ", ")
        )
      }
    }
    out[[sub("\\.csv$", "", file)]] <- d
  }
  out
}

# ---------------------------------------------------------------------------
# Helpers: labels, theme, saving
# ---------------------------------------------------------------------------

#' Human labels of codes, as a factor in codebook order.
#'
#' Codes not in labels.csv (e.g. "other (lumped)") keep their code as label and come
#' after the codebook's categories, the lumped category last.
#' @param wrap wrap labels longer than this many characters onto several lines.
#' @param override named character vector code -> label replacing labels.csv's label.
vsd_label <- function(h, dim, codes, wrap = Inf, drop = TRUE, override = NULL) {
  lab <- h$labels[h$labels$dimension == dim, , drop = FALSE]
  lab <- lab[order(lab$order), , drop = FALSE]
  present <- unique(codes[!is.na(codes)])
  known <- if (drop) lab$code[lab$code %in% present] else lab$code
  extra <- sort(setdiff(present, lab$code))
  extra <- c(setdiff(extra, .vsd_lumped), intersect(extra, .vsd_lumped))
  levs <- c(known, extra)
  labs <- c(lab$label[match(known, lab$code)], extra)
  hit <- levs %in% names(override)
  labs[hit] <- override[levs[hit]]
  labs <- .vsd_wrap(labs, wrap)
  factor(codes, levels = levs, labels = make.unique(labs, sep = " "))
}

.vsd_wrap <- function(x, width) {
  if (!is.finite(width)) return(x)
  vapply(x, function(s) paste(strwrap(s, width = width), collapse = "\n"), character(1),
    USE.NAMES = FALSE
  )
}

.vsd_dim_title <- c(
  sentiment = "Sentiment", condition = "Condition", perspective = "Perspective",
  value = "Value", llm_product = "LLM family", platform = "Platform"
)

.vsd_sym_limit <- function(x) {
  m <- max(abs(x), na.rm = TRUE)
  if (!is.finite(m) || m == 0) m <- 1
  c(-m, m)
}

# Fixed-decimal numbers without "-0.0"; NA stays empty.
.vsd_num <- function(x, digits) {
  v <- round(x, digits)
  v[!is.na(v) & v == 0] <- 0
  ifelse(is.na(v), "", formatC(v, format = "f", digits = digits))
}

# Every combination of the codes of two dimensions (codebook order), with the rows of d
# merged in; absent pairs get NA, so heatmaps show them as missing instead of blank.
.vsd_complete <- function(h, d, a, b, by = NULL) {
  codes <- function(dim, x) {
    lab <- h$labels[h$labels$dimension == dim, , drop = FALSE]
    union(lab$code[order(lab$order)], unique(x))
  }
  grid <- expand.grid(
    a = codes(a, d[[a]]), b = codes(b, d[[b]]), stringsAsFactors = FALSE
  )
  names(grid) <- c(a, b)
  if (!is.null(by)) {
    grid <- merge(data.frame(by = unique(d[[by]]), stringsAsFactors = FALSE), grid, by = NULL)
    names(grid)[1] <- by
  }
  merge(grid, d, by = c(by, a, b), all.x = TRUE, sort = TRUE)
}

# A figure that says why there is nothing to draw (e.g. the GLMMs were not fitted), so
# one empty hand-off table does not stop the other figures.
vsd_placeholder <- function(title, message) {
  ggplot() +
    annotate("text", x = 0, y = 0, label = message, size = 4.5, colour = "grey30") +
    labs(title = title, x = NULL, y = NULL) +
    vsd_theme() +
    theme(axis.text = element_blank(), panel.grid = element_blank())
}

.vsd_empty <- function(d, file, what, title) {
  if (nrow(d)) return(NULL)
  vsd_placeholder(title, paste0("No data: ", file, " has no rows", what, "."))
}

# Diverging palette (ColorBrewer RdBu end points), white at 0.
.vsd_low <- "#2166AC"
.vsd_high <- "#B2182B"

#' The figures' common theme.
vsd_theme <- function(base_size = 11) {
  theme_minimal(base_size = base_size) +
    theme(
      panel.grid.minor = element_blank(),
      plot.title = element_text(face = "bold", size = rel(1.1)),
      plot.title.position = "plot",
      plot.caption = element_text(colour = "grey30", hjust = 0),
      plot.caption.position = "plot",
      strip.text = element_text(face = "bold"),
      legend.position = "right",
      plot.background = element_rect(fill = "white", colour = NA)
    )
}

.vsd_angled_x <- function() {
  theme(axis.text.x = element_text(angle = 40, hjust = 1, vjust = 1))
}

#' Save one figure as out_dir/NAME.pdf and out_dir/NAME.png; returns both paths.
vsd_save <- function(plot, out_dir, name, width, height, dpi = 180) {
  dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
  pdf_path <- file.path(out_dir, paste0(name, ".pdf"))
  png_path <- file.path(out_dir, paste0(name, ".png"))
  ggsave(pdf_path, plot,
    width = width, height = height, units = "in", device = grDevices::pdf,
    useDingbats = FALSE
  )
  if (requireNamespace("ragg", quietly = TRUE)) {
    ggsave(png_path, plot,
      width = width, height = height, units = "in", dpi = dpi,
      device = ragg::agg_png
    )
  } else if (isTRUE(capabilities("cairo"))) {
    ggsave(png_path, plot,
      width = width, height = height, units = "in", dpi = dpi,
      device = "png", type = "cairo"
    )
  } else {
    ggsave(png_path, plot, width = width, height = height, units = "in", dpi = dpi, device = "png")
  }
  c(pdf_path, png_path)
}

# ---------------------------------------------------------------------------
# Figure 3: adjusted residual heatmaps
# ---------------------------------------------------------------------------

#' Heatmap of adjusted standardized residuals of one chi-squared test.
#'
#' Cells show the residual; an asterisk marks Holm-adjusted p < 0.05.
#' @param test "condition_sentiment", "condition_perspective" or "condition_value".
vsd_fig3_residuals <- function(h, test = "condition_sentiment") {
  d <- h$residuals[h$residuals$test == test, , drop = FALSE]
  e <- .vsd_empty(d, "residuals.csv", paste0(" with test == '", test, "'"), test)
  if (!is.null(e)) return(e)
  row_var <- d$row_var[1]
  col_var <- d$col_var[1]
  d$row_f <- vsd_label(h, row_var, d$row, wrap = 32)
  d$row_f <- factor(d$row_f, levels = rev(levels(d$row_f)))
  d$col_f <- vsd_label(h, col_var, d$col, wrap = 16)
  d$txt <- paste0(
    .vsd_num(d$adjusted_residual, 1),
    ifelse(!is.na(d$significant) & d$significant, "*", "")
  )
  lim <- .vsd_sym_limit(d$adjusted_residual)
  d$dark <- abs(d$adjusted_residual) > 0.6 * lim[2]
  ncol <- length(unique(d$col))
  ggplot(d, aes(x = col_f, y = row_f, fill = adjusted_residual)) +
    geom_tile(colour = "white", linewidth = 0.4) +
    geom_text(aes(label = txt, colour = dark), size = if (ncol > 6) 2.7 else 3.4) +
    scale_colour_manual(values = c(`FALSE` = "black", `TRUE` = "white"), guide = "none") +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0, limits = lim,
      name = "Adjusted\nresidual"
    ) +
    scale_x_discrete(position = "bottom", expand = c(0, 0)) +
    scale_y_discrete(expand = c(0, 0)) +
    labs(
      x = .vsd_dim_title[[col_var]], y = .vsd_dim_title[[row_var]],
      title = paste0(.vsd_dim_title[[row_var]], " x ", tolower(.vsd_dim_title[[col_var]]),
        ": adjusted standardized residuals"),
      caption = "Red: more units than expected under independence; blue: fewer. * Holm-adjusted p < 0.05."
    ) +
    vsd_theme() +
    theme(panel.grid = element_blank()) +
    (if (ncol > 3) .vsd_angled_x() else theme())
}

# ---------------------------------------------------------------------------
# Figure 4: value x perspective co-occurrence (NPMI) and delta-PMI by condition
# ---------------------------------------------------------------------------

#' NPMI of value x perspective over all units (fig4_delta_pmi).
vsd_fig4_npmi <- function(h) {
  d <- h$pmi
  if (!is.null(e <- .vsd_empty(d, "pmi.csv", "", "Value x perspective co-occurrence"))) return(e)
  d <- .vsd_complete(h, d, "value", "perspective")
  d$x <- vsd_label(h, "perspective", d$perspective, wrap = 14, drop = FALSE)
  d$y <- vsd_label(h, "value", d$value, drop = FALSE)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  d$txt <- .vsd_num(d$npmi, 2)
  lim <- .vsd_sym_limit(d$npmi)
  d$dark <- abs(d$npmi) > 0.6 * lim[2]
  ggplot(d, aes(x = x, y = y, fill = npmi)) +
    geom_tile(colour = "white", linewidth = 0.4) +
    geom_text(aes(label = txt, colour = dark), size = 2.5) +
    scale_colour_manual(values = c(`FALSE` = "black", `TRUE` = "white"), guide = "none") +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0, limits = lim,
      name = "NPMI", na.value = "grey85"
    ) +
    scale_x_discrete(drop = FALSE, expand = c(0, 0)) +
    scale_y_discrete(drop = FALSE, expand = c(0, 0)) +
    labs(
      x = "Perspective", y = "Value",
      title = "Co-occurrence of values and perspectives (all units)",
      caption = paste(
        "Normalized PMI: 1 = always together, 0 = independent, -1 = never together;",
        "grey: pair never observed."
      )
    ) +
    vsd_theme() +
    theme(panel.grid = element_blank()) +
    .vsd_angled_x()
}

#' Delta-PMI (condition vs. all other conditions) of value x perspective, one facet per
#' condition, for the `n_conditions` conditions with the most units
#' (fig4_delta_pmi_by_condition).  Pairs with fewer than `min_n` units inside the
#' condition are greyed out (their PMI is too noisy to read); colours are capped at the
#' 98th percentile of |delta PMI|.
vsd_fig4_delta_pmi <- function(h, n_conditions = 4, min_n = 5) {
  d <- h$delta_pmi
  if (!is.null(e <- .vsd_empty(d, "delta_pmi.csv", "", "Delta PMI by condition"))) return(e)
  size <- tapply(d$n_in, d$condition, sum)
  cond_f <- vsd_label(h, "condition", names(size))
  top <- names(size)[order(-size, as.integer(cond_f))][seq_len(min(n_conditions, length(size)))]
  d <- d[d$condition %in% top, , drop = FALSE]
  d <- .vsd_complete(h, d, "value", "perspective", by = "condition")
  d$shown <- ifelse(!is.na(d$n_in) & d$n_in >= min_n, d$delta_pmi, NA_real_)
  n_lab <- paste0(
    as.character(vsd_label(h, "condition", top)), " (n = ",
    format(size[top], big.mark = ",", trim = TRUE), ")"
  )
  d$facet <- factor(d$condition, levels = top, labels = .vsd_wrap(n_lab, 50))
  d$x <- vsd_label(h, "perspective", d$perspective, drop = FALSE)
  d$y <- vsd_label(h, "value", d$value, drop = FALSE)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  cap <- stats::quantile(abs(d$shown), 0.98, na.rm = TRUE, names = FALSE)
  if (!is.finite(cap) || cap == 0) cap <- 1
  ggplot(d, aes(x = x, y = y, fill = shown)) +
    geom_tile(colour = "white", linewidth = 0.3) +
    facet_wrap(vars(facet), ncol = 2) +
    scale_fill_gradient2(
      low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = c(-cap, cap), oob = scales::squish, na.value = "grey80",
      name = "Delta PMI\n(condition\nminus rest)"
    ) +
    scale_x_discrete(drop = FALSE, expand = c(0, 0)) +
    scale_y_discrete(drop = FALSE, expand = c(0, 0)) +
    labs(
      x = "Perspective", y = "Value",
      title = "Value x perspective co-occurrence: each condition vs. all other conditions",
      caption = paste0(
        "Delta PMI = PMI within the condition minus PMI in all other conditions. ",
        "Grey: fewer than ", min_n, " units with the pair in the condition, or pair absent ",
        "elsewhere.\nColours capped at +/-", formatC(cap, format = "f", digits = 2),
        ". The ", length(top), " conditions with the most units are shown."
      )
    ) +
    vsd_theme(base_size = 10) +
    theme(
      panel.grid = element_blank(), panel.spacing = unit(1, "lines"),
      axis.text.x = element_text(angle = 90, hjust = 1, vjust = 0.5)
    )
}

# ---------------------------------------------------------------------------
# Figure 5: mean sentiment with 95% CI
# ---------------------------------------------------------------------------

#' Mean sentiment score (+1 positive, 0 neutral, -1 negative) with 95% CI by LLM family
#' and by condition; group labels carry n.
vsd_fig5_mean_sentiment <- function(h) {
  d <- h$means
  if (!is.null(e <- .vsd_empty(d, "means.csv", "", "Mean sentiment"))) return(e)
  parts <- lapply(c("llm_product", "condition"), function(b) {
    x <- d[d$by == b, , drop = FALSE]
    if (!nrow(x)) return(NULL)
    f <- vsd_label(h, b, x$group, wrap = 36)
    x$ord <- as.integer(f)
    x$lab <- paste0(as.character(f), " (n = ", format(x$n, big.mark = ",", trim = TRUE), ")")
    x$panel <- .vsd_dim_title[[b]]
    x
  })
  d <- do.call(rbind, parts)
  d$panel <- factor(d$panel, levels = c("LLM family", "Condition"))
  d <- d[order(d$panel, -d$ord), , drop = FALSE]
  d$lab <- factor(d$lab, levels = unique(d$lab))
  ggplot(d, aes(y = lab, x = mean)) +
    geom_vline(xintercept = 0, colour = "grey50", linetype = "dashed") +
    geom_errorbarh(aes(xmin = ci_low, xmax = ci_high), height = 0.25, na.rm = TRUE) +
    geom_point(size = 2.2, colour = "black", na.rm = TRUE) +
    facet_grid(rows = vars(panel), scales = "free_y", space = "free_y") +
    labs(
      x = "Mean sentiment score (+1 positive, 0 neutral, -1 negative) with 95% CI",
      y = NULL, title = "Mean sentiment by LLM family and by condition"
    ) +
    vsd_theme() +
    theme(strip.text.y = element_text(angle = 0, hjust = 0), panel.grid.major.y = element_blank())
}

# ---------------------------------------------------------------------------
# Figure 6: monthly volume and sentiment with model releases
# ---------------------------------------------------------------------------

#' Monthly number of units (top) and mean sentiment with 95% CI ribbon (bottom); dashed
#' lines mark model releases within the months shown.  Release labels are stacked on as
#' many rows as needed so that none overlaps another; `width` (inches, the saved width)
#' is used to estimate the labels' extent.
vsd_fig6_monthly <- function(h, width = 11) {
  m <- h$monthly
  if (!is.null(e <- .vsd_empty(m, "monthly.csv", "", "Monthly sentiment"))) return(e)
  m <- m[order(m$month), , drop = FALSE]
  panels <- c("Units per month", "Mean sentiment\n(95% CI)")
  # months are drawn mid-month so each bar and point sits inside its calendar month
  mid <- m$month + 14
  vol <- data.frame(month = mid, n = m$n, panel = factor(panels[1], levels = panels))
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
  top <- max(m$n, 1, na.rm = TRUE)
  # Greedy, deterministic label rows: each label (in date order) takes the lowest row
  # where it does not overlap the previous label of that row.  Extent estimated from
  # the character count (about 0.07 in per character at this text size).
  days_per_in <- as.numeric(last - first) / max(width - 1.6, 1)
  half <- (nchar(r$label) * 0.07 + 0.15) / 2 * days_per_in
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
  ggplot() +
    geom_col(data = vol, aes(x = month, y = n), fill = "grey55", width = 25) +
    geom_ribbon(data = band, aes(x = month, ymin = ci_low, ymax = ci_high, group = run),
      fill = "#6BAED6", alpha = 0.45) +
    geom_linerange(data = band[lone, , drop = FALSE], aes(x = month, ymin = ci_low,
      ymax = ci_high), colour = "#6BAED6", linewidth = 1.2) +
    geom_line(data = sen[ave(sen$run, sen$run, FUN = length) > 1, , drop = FALSE],
      aes(x = month, y = mean, group = run), colour = "#08519C",
      linewidth = 0.7) +
    geom_point(data = sen, aes(x = month, y = mean), colour = "#08519C", size = 1.1,
      na.rm = TRUE) +
    geom_hline(data = data.frame(y = 0, panel = factor(panels[2], levels = panels)),
      aes(yintercept = y), colour = "grey40", linewidth = 0.3) +
    geom_vline(data = r, aes(xintercept = date), linetype = "dashed", colour = "grey20",
      linewidth = 0.4) +
    geom_label(data = r_lab, aes(x = date, y = y, label = label), size = 2.9,
      label.size = 0, label.padding = unit(0.12, "lines"), fill = "white") +
    geom_blank(data = headroom, aes(x = month, y = y)) +
    facet_grid(rows = vars(panel), scales = "free_y", switch = "y") +
    scale_x_date(breaks = qbreaks, date_labels = "%b\n%Y", limits = c(first, last),
      expand = expansion(mult = 0.005)) +
    labs(x = "Month", y = NULL,
      title = "Monthly volume and mean sentiment, with model releases",
      caption = "Sentiment score: +1 positive, 0 neutral, -1 negative. Dashed lines: model releases.") +
    vsd_theme() +
    theme(strip.placement = "outside", strip.text.y.left = element_text(angle = 90),
      panel.grid.major.x = element_blank(), panel.spacing.y = unit(1, "lines"))
}

# ---------------------------------------------------------------------------
# Figure 7: LLM family x condition fingerprint
# ---------------------------------------------------------------------------

#' Bubble chart of LLM family x condition: bubble area = number of units, colour =
#' adjusted residual of the LLM family x condition table.
vsd_fig7_fingerprint <- function(h) {
  d <- h$fingerprint
  if (!is.null(e <- .vsd_empty(d, "fingerprint.csv", "", "LLM family x condition"))) return(e)
  d$x <- vsd_label(h, "llm_product", d$llm_product, wrap = 18)
  d$y <- vsd_label(h, "condition", d$condition, wrap = 32)
  d$y <- factor(d$y, levels = rev(levels(d$y)))
  lim <- .vsd_sym_limit(d$adjusted_residual)
  ggplot(d[d$n > 0, , drop = FALSE], aes(x = x, y = y)) +
    geom_point(aes(size = n, fill = adjusted_residual), shape = 21, colour = "grey30",
      stroke = 0.3) +
    scale_size_area(max_size = 14, name = "Units", labels = scales::label_comma()) +
    scale_fill_gradient2(low = .vsd_low, mid = "white", high = .vsd_high, midpoint = 0,
      limits = lim, name = "Adjusted\nresidual") +
    scale_x_discrete(drop = FALSE) +
    scale_y_discrete(drop = FALSE) +
    labs(x = "LLM family", y = "Condition",
      title = "Which conditions each LLM family is used for",
      caption = paste("Bubble area: number of units. Red: more units than expected under",
        "independence;\nblue: fewer (adjusted residuals of the LLM family x condition table).")) +
    vsd_theme() +
    .vsd_angled_x()
}

# ---------------------------------------------------------------------------
# Figure 8: alluvial condition -> sentiment -> perspective -> value
# ---------------------------------------------------------------------------

#' Alluvial diagram of condition -> sentiment -> perspective -> value, flows coloured by
#' sentiment (geom_flow: the flows between neighbouring axes are aggregated per sentiment,
#' so the diagram stays readable with thousands of combinations).  Strata smaller than `min_label_share` of all units are not labelled.
vsd_fig8_alluvial <- function(h, min_label_share = 0.02) {
  d <- h$alluvial
  if (!is.null(e <- .vsd_empty(d, "alluvial.csv", "", "Alluvial diagram"))) return(e)
  d <- d[d$n > 0, , drop = FALSE]
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
  sent_f <- axis_label("sentiment", "sentiments", 17)
  sent_cols <- stats::setNames(unname(cols), as.character(sent_f[match(sent_codes, d$sentiment)]))
  d$condition <- axis_label("condition", "conditions", 17)
  d$sentiment <- sent_f
  d$perspective <- axis_label("perspective", "perspectives", 17)
  d$value <- axis_label("value", "values", 17)
  d <- d[order(d$condition, d$sentiment, d$perspective, d$value), , drop = FALSE]
  ggplot(d, aes(y = n, axis1 = condition, axis2 = sentiment, axis3 = perspective,
    axis4 = value)) +
    geom_flow(aes(fill = sentiment), width = 0.34, alpha = 0.6, knot.pos = 0.35,
      aes.bind = "flows") +
    geom_stratum(width = 0.34, fill = "grey97", colour = "grey40", linewidth = 0.3) +
    geom_text(stat = "stratum",
      aes(label = after_stat(ifelse(prop >= min_label_share, as.character(stratum), ""))),
      size = 2.6, lineheight = 0.85) +
    scale_x_discrete(limits = c("Condition", "Sentiment", "Perspective", "Value"),
      expand = c(0.08, 0.08)) +
    scale_y_continuous(labels = scales::label_comma(), expand = c(0.01, 0.01)) +
    scale_fill_manual(values = sent_cols, name = "Sentiment") +
    labs(x = NULL, y = "Units",
      title = "From condition to sentiment, perspective and value",
      caption = paste0("Flows coloured by sentiment. Rare categories are lumped; strata under ",
        format(100 * min_label_share), "% of units are unlabelled.")) +
    vsd_theme() +
    theme(panel.grid = element_blank(), axis.text.x = element_text(face = "bold", size = 11),
      legend.position = "bottom")
}

# ---------------------------------------------------------------------------
# Figure 9: distinctive perspectives and values by condition
# ---------------------------------------------------------------------------

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

# ---------------------------------------------------------------------------
# Figure 10: forest plot of the sentiment GLMMs
# ---------------------------------------------------------------------------

# "conditionadhd" -> "Condition: ADHD" when the term is a dimension name followed by
# one of its codes; other terms are shown as they are.
.vsd_term_labels <- function(h, terms) {
  lab <- h$labels
  dims <- unique(lab$dimension)
  dims <- dims[order(-nchar(dims))]
  out <- terms
  ord <- rep(1e6, length(terms))
  for (i in seq_along(terms)) {
    for (k in seq_along(dims)) {
      dm <- dims[k]
      if (startsWith(terms[i], dm)) {
        code <- substring(terms[i], nchar(dm) + 1)
        j <- which(lab$dimension == dm & lab$code == code)
        if (length(j)) {
          out[i] <- paste0(.vsd_dim_title[[dm]], ": ", lab$label[j[1]])
          ord[i] <- match(dm, names(.vsd_dim_title)) * 1000 + lab$order[j[1]]
          break
        }
      }
    }
  }
  list(label = out, order = ord)
}

#' Odds ratios with 95% CI (log axis) of the negative- and positive-sentiment mixed
#' logits; the intercept is omitted.
vsd_fig10_forest <- function(h, drop_intercept = TRUE) {
  d <- h$glmm
  if (drop_intercept) d <- d[d$term != "(Intercept)", , drop = FALSE]
  e <- .vsd_empty(d, "glmm.csv", " besides the intercepts (models not fitted?)",
    "Mixed logistic regressions of sentiment")
  if (!is.null(e)) return(e)
  tl <- .vsd_term_labels(h, d$term)
  d$lab <- .vsd_wrap(tl$label, 44)
  d <- d[order(-tl$order, d$term, decreasing = FALSE), , drop = FALSE]
  d$lab <- factor(d$lab, levels = unique(d$lab))
  d$outcome <- factor(d$outcome, levels = c("negative", "positive"),
    labels = c("Negative sentiment", "Positive sentiment"))
  d$sig <- !is.na(d$p) & d$p < 0.05
  engines <- paste(unique(d$engine), collapse = ", ")
  ggplot(d, aes(x = odds_ratio, y = lab)) +
    geom_vline(xintercept = 1, linetype = "dashed", colour = "grey40") +
    geom_errorbarh(aes(xmin = or_ci_low, xmax = or_ci_high), height = 0.25, na.rm = TRUE) +
    geom_point(aes(shape = sig), size = 2.2, fill = "white", na.rm = TRUE) +
    scale_shape_manual(values = c(`TRUE` = 16, `FALSE` = 21),
      labels = c(`TRUE` = "p < 0.05", `FALSE` = "p >= 0.05"), name = NULL) +
    scale_x_log10(labels = function(x) format(x, drop0trailing = TRUE, trim = TRUE)) +
    facet_wrap(vars(outcome), nrow = 1) +
    labs(x = "Odds ratio with 95% CI (log scale)", y = NULL,
      title = "Mixed logistic regressions of sentiment",
      caption = paste0("Odds of a negative (left) or positive (right) unit versus ",
        "the reference levels; random intercepts not shown. Engine: ", engines, ".")) +
    vsd_theme() +
    theme(legend.position = "bottom", panel.grid.major.y = element_blank(),
      panel.spacing.x = unit(1.5, "lines"))
}

# ---------------------------------------------------------------------------
# All figures
# ---------------------------------------------------------------------------

#' Name, drawing function and size (inches) of every figure.  Sizes are fixed (not
#' data-dependent) so the PNGs always have the same pixel size: width * dpi x height * dpi.
vsd_figure_specs <- function() {
  f <- function(name, fun, width, height) list(name = name, fun = fun, width = width, height = height)
  list(
    f("fig3_residuals_condition_sentiment",
      function(h) vsd_fig3_residuals(h, "condition_sentiment"), 6.5, 6),
    f("fig3_residuals_condition_perspective",
      function(h) vsd_fig3_residuals(h, "condition_perspective"), 10.5, 7),
    f("fig3_residuals_condition_value",
      function(h) vsd_fig3_residuals(h, "condition_value"), 10.5, 7),
    f("fig4_delta_pmi", vsd_fig4_npmi, 10, 7.5),
    f("fig4_delta_pmi_by_condition", vsd_fig4_delta_pmi, 11, 10.5),
    f("fig5_mean_sentiment", vsd_fig5_mean_sentiment, 9, 7),
    f("fig6_monthly", function(h) vsd_fig6_monthly(h, width = 11), 11, 6.5),
    f("fig7_fingerprint", vsd_fig7_fingerprint, 10, 7.5),
    f("fig8_alluvial", vsd_fig8_alluvial, 12, 8.5),
    f("fig9_logodds", vsd_fig9_logodds, 13, 10),
    f("fig10_forest", vsd_fig10_forest, 10, 6.5)
  )
}

#' Draw every figure of the paper from a hand-off folder.
#'
#' @param handoff_dir folder with schema.json and the hand-off CSV files.
#' @param out_dir where NAME.pdf and NAME.png are written (created if needed).
#' @param dpi resolution of the PNGs.
#' @return the paths written, invisibly.
vsd_figures <- function(handoff_dir, out_dir = file.path(dirname(handoff_dir), "figures"),
                        dpi = 180) {
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
    p <- tryCatch(f$fun(h), error = failed)
    paths <- tryCatch(
      vsd_save(p, out_dir, f$name, f$width, f$height, dpi = dpi),
      error = function(e) vsd_save(failed(e), out_dir, f$name, f$width, f$height, dpi = dpi)
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
