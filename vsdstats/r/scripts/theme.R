# What the figures share: their theme and palette, code -> label lookups (labels.csv,
# codebook order), number formatting, placeholders for empty tables, and vsd_save()
# (PDF via the cairo-free pdf(); PNG via ragg if installed, else png(type = "cairo")).
#
# Sourced by figures.R before the figure files (fig*.R), which use these helpers.

suppressPackageStartupMessages(library(ggplot2))

# The lumped category of condition, perspective and value (LUMPED of the Python analyses).
.vsd_lumped <- "other (lumped)"

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

# ---- small-cell suppression (decided in Python, see handoff.R) and the synthetic label

#' TRUE where (dim, code) is a group that groups.csv marks `suppressed` (1 <= units < K,
#' the tables' --min-cell): such a group is drawn in no figure.  `dim` is recycled.
vsd_small <- function(h, dim, codes) {
  g <- h$groups[h$groups$suppressed, , drop = FALSE]
  paste(dim, codes, sep = "\r") %in% paste(g$dimension, g$code, sep = "\r")
}

#' The rows of d whose groups are not suppressed; `dims` names the columns of d that hold
#' codes, each of the dimension of the same name (or c(column = "dimension")).
vsd_drop_small <- function(h, d, dims) {
  if (is.null(names(dims))) names(dims) <- dims
  keep <- rep(TRUE, nrow(d))
  for (col in names(dims)) keep <- keep & !vsd_small(h, dims[[col]], d[[col]])
  d[keep, , drop = FALSE]
}

#' A count as table 1 prints it, for a label: "n = 1,234", or "n suppressed" when the
#' table hides it (n_shown is not digits).
vsd_n_text <- function(n_shown) {
  digits <- !is.na(n_shown) & grepl("^[0-9]+$", n_shown)
  out <- rep("n suppressed", length(n_shown))
  out[digits] <- paste0("n = ", formatC(as.numeric(n_shown[digits]), format = "d",
    big.mark = ","))
  out
}

#' n_shown of groups.csv for codes of one dimension.
vsd_group_n_shown <- function(h, dim, codes) {
  g <- h$groups[h$groups$dimension == dim, , drop = FALSE]
  g$n_shown[match(codes, g$code)]
}

#' K, the smallest count a figure shows (run.csv min_cell).
vsd_min_cell <- function(h) as.integer(h$run$min_cell[1])

#' The label every figure of the synthetic corpus carries.
vsd_synthetic_label <- "SYNTHETIC DATA (simulated corpus): not real posts"

#' What every figure gets last (each vsd_fig* returns vsd_finish(p, h), the driver
#' applies it to placeholders too): a figure drawn from the synthetic corpus (run.csv
#' synthetic) says so on the figure itself, in a red subtitle.  Idempotent; figures of
#' a real corpus are returned unchanged.
vsd_finish <- function(p, h) {
  if (!isTRUE(as.logical(h$run$synthetic[1]))) return(p)
  sub <- p$labels$subtitle
  if (!is.null(sub) && startsWith(sub, vsd_synthetic_label)) return(p)
  p + labs(subtitle = if (is.null(sub)) vsd_synthetic_label else
      paste0(vsd_synthetic_label, "\n", sub)) +
    theme(plot.subtitle = element_text(colour = .vsd_high, face = "bold"))
}

# Every combination of the codes of two dimensions (codebook order), with the rows of d
# merged in; absent pairs get NA, so heatmaps show them as missing instead of blank.
# Suppressed groups (vsd_small) are left out of the grid.
.vsd_complete <- function(h, d, a, b, by = NULL) {
  codes <- function(dim, x) {
    lab <- h$labels[h$labels$dimension == dim, , drop = FALSE]
    all <- union(lab$code[order(lab$order)], unique(x))
    all[!vsd_small(h, dim, all)]
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
    annotate("text", x = 0, y = 0, label = message, size = 3, colour = "grey30") +
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
#'
#' Figures are drawn at the size they are printed (journal full width 17.5 cm = 6.9 in,
#' column 8.5 cm = 3.35 in), so `base_size` is the printed size in points: 8 pt text,
#' 6.4 pt axis labels, 7.2 pt captions.
vsd_theme <- function(base_size = 8) {
  theme_minimal(base_size = base_size) +
    theme(
      panel.grid.minor = element_blank(),
      plot.title = element_text(face = "bold", size = rel(1.15)),
      plot.title.position = "plot",
      plot.subtitle = element_text(size = rel(1)),
      plot.caption = element_text(colour = "grey30", hjust = 0, size = rel(0.9),
        lineheight = 1.05),
      plot.caption.position = "plot",
      strip.text = element_text(face = "bold"),
      legend.position = "right",
      plot.background = element_rect(fill = "white", colour = NA)
    )
}

# Vertical x labels for axes with many categories: read with a quarter turn, and kept
# as text a PDF reader (and pdftotext) can extract, which oblique text is not.
.vsd_angled_x <- function() {
  theme(axis.text.x = element_text(angle = 90, hjust = 1, vjust = 0.5))
}

#' Save one figure as out_dir/NAME.pdf and out_dir/NAME.png; returns both paths.
vsd_save <- function(plot, out_dir, name, width, height, dpi = 300) {
  dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
  plot <- .vsd_fit_labels(plot, width)
  pdf_path <- file.path(out_dir, paste0(name, ".pdf"))
  png_path <- file.path(out_dir, paste0(name, ".png"))
  ggsave(pdf_path, plot,
    width = width, height = height, units = "in", device = grDevices::pdf,
    useDingbats = FALSE
  )
  # the PNG device is opened in pixels, round(inches x dpi): ggsave's inches x dpi can
  # truncate (5.6 in x 180 dpi gave 1007 px, not 1008)
  px <- c(round(width * dpi), round(height * dpi))
  if (requireNamespace("ragg", quietly = TRUE)) {
    ragg::agg_png(png_path, width = px[1], height = px[2], units = "px", res = dpi)
  } else if (isTRUE(capabilities("cairo"))) {
    grDevices::png(png_path, width = px[1], height = px[2], units = "px", res = dpi,
      type = "cairo")
  } else {
    grDevices::png(png_path, width = px[1], height = px[2], units = "px", res = dpi)
  }
  tryCatch(print(plot), finally = grDevices::dev.off())
  c(pdf_path, png_path)
}

# A caption line saying how many groups were left out for having fewer than K units
# (none: "").  The groups are not named: a figure shows no group its table hides.
.vsd_small_note <- function(h, n_left, one, many = paste0(one, "s")) {
  if (!length(n_left) || n_left <= 0) return("")
  paste0("\n", n_left, " ", if (n_left == 1) one else many,
    " with fewer than ", vsd_min_cell(h), " units not shown (small-cell suppression).")
}

#' Intervals cut at the score's possible range (sentiment score: [-1, 1]; shares: [0, 1]),
#' so no figure draws an interval reaching outside it.  The Python side already keeps
#' them inside (stats.group_means_ci bounds, flag "clipped"); this makes sure of it.
#' Returns d with `low` and `high` cut, and attribute "clipped" = whether any was.
vsd_clip_interval <- function(d, low = "ci_low", high = "ci_high", range = c(-1, 1)) {
  out <- any(d[[low]] < range[1] | d[[high]] > range[2], na.rm = TRUE)
  d[[low]] <- pmin(pmax(d[[low]], range[1]), range[2])
  d[[high]] <- pmax(pmin(d[[high]], range[2]), range[1])
  attr(d, "clipped") <- out
  d
}

# Title, subtitle and caption re-wrapped to the saved width (inches), each line of them
# on its own (the figures put explicit line breaks between sentences), so no text runs
# off a figure printed at column or full width.  Character widths are estimated at
# 0.52 em (0.58 em bold) of the element's size in points.
.vsd_fit_labels <- function(p, width) {
  if (!inherits(p, "ggplot")) return(p)
  fit <- function(txt, element, em) {
    if (is.null(txt) || !is.character(txt) || !length(txt)) return(txt)
    el <- tryCatch(ggplot2::calc_element(element, p$theme), error = function(e) NULL)
    size <- if (is.null(el) || is.null(el$size)) 8 else el$size
    chars <- max(20, floor((width - 0.2) * 72 / (em * size)))
    lines <- unlist(strsplit(txt, "\n", fixed = TRUE))
    paste(vapply(lines, function(l) {
      if (!nzchar(l)) return(l)
      paste(strwrap(l, width = chars), collapse = "\n")
    }, character(1), USE.NAMES = FALSE), collapse = "\n")
  }
  p$labels$title <- fit(p$labels$title, "plot.title", 0.58)
  p$labels$subtitle <- fit(p$labels$subtitle, "plot.subtitle", 0.58)
  p$labels$caption <- fit(p$labels$caption, "plot.caption", 0.52)
  p
}
