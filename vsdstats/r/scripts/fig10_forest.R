# Figure 10: forest plot of the sentiment GLMMs (fig10_forest).
#
# Part of the paper's figures: sourced by figures.R (the driver), which also sources
# handoff.R (the tables, read by vsd_read_handoff()) and theme.R (vsd_theme(), vsd_label(),
# the palette, placeholders, vsd_save()) that this file uses.  Reads h$glmm and h$labels.

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
#' logits; the intercept is omitted.  The reference condition (glmm.csv `reference`,
#' [glmm] ref) is named on the x axis and drawn as its own row at odds ratio 1; filled
#' points mark Holm-adjusted p < `alpha` (glmm.csv p_value_adj, as table10's p (Holm)).
vsd_fig10_forest <- function(h, drop_intercept = TRUE, alpha = 0.05) {
  d <- h$glmm
  if (drop_intercept) d <- d[d$term != "(Intercept)", , drop = FALSE]
  e <- .vsd_empty(d, "glmm.csv", " besides the intercepts (models not fitted?)",
    "Mixed logistic regressions of sentiment")
  if (!is.null(e)) return(vsd_finish(e, h))
  # terms of conditions under K units (glmm.csv `suppressed`) are not drawn
  sup <- !is.na(d$suppressed) & d$suppressed
  n_left <- length(unique(d$term[sup]))
  d <- d[!sup, , drop = FALSE]
  e <- .vsd_empty(d, "glmm.csv", " outside suppressed conditions",
    "Mixed logistic regressions of sentiment")
  if (!is.null(e)) return(vsd_finish(e, h))
  ref <- unique(d$reference[!is.na(d$reference) & nzchar(d$reference)])
  ref_lab <- if (length(ref)) as.character(vsd_label(h, "condition", ref[1])) else NA_character_
  d$is_ref <- FALSE
  if (length(ref)) {
    # the reference level as a row of its own, at odds ratio 1 without an interval
    r <- d[!duplicated(d$outcome), , drop = FALSE]
    r$term <- paste0("condition", ref[1])
    r$odds_ratio <- 1
    r$or_ci_low <- NA_real_
    r$or_ci_high <- NA_real_
    r$p_value <- NA_real_
    r$p_value_adj <- NA_real_
    r$is_ref <- TRUE
    d <- rbind(d, r)
  }
  tl <- .vsd_term_labels(h, d$term)
  tl$label[d$is_ref] <- paste0(tl$label[d$is_ref], " (reference)")
  d$lab <- .vsd_wrap(tl$label, 44)
  d <- d[order(-tl$order, d$term, decreasing = FALSE), , drop = FALSE]
  d$lab <- factor(d$lab, levels = unique(d$lab))
  d$outcome <- factor(d$outcome, levels = c("negative", "positive"),
    labels = c("Negative sentiment", "Positive sentiment"))
  d$mark <- ifelse(d$is_ref, "ref",
    ifelse(!is.na(d$p_value_adj) & d$p_value_adj < alpha, "sig", "ns"))
  engines <- paste(unique(d$engine), collapse = ", ")
  a <- format(alpha)
  marks <- c(sig = paste0("Holm-adjusted p < ", a), ns = paste0("Holm-adjusted p >= ", a),
    ref = "reference condition")
  p <- ggplot(d, aes(x = odds_ratio, y = lab)) +
    geom_vline(xintercept = 1, linetype = "dashed", colour = "grey40") +
    geom_errorbarh(aes(xmin = or_ci_low, xmax = or_ci_high), height = 0.25, na.rm = TRUE) +
    geom_point(aes(shape = mark), size = 1.6, fill = "white", na.rm = TRUE) +
    scale_shape_manual(values = c(sig = 16, ns = 21, ref = 23), labels = marks,
      breaks = intersect(names(marks), unique(d$mark)), name = NULL) +
    scale_x_log10(labels = function(x) format(x, drop0trailing = TRUE, trim = TRUE)) +
    facet_wrap(vars(outcome), nrow = 1) +
    labs(
      x = if (is.na(ref_lab)) "Odds ratio with 95% CI (log scale)" else
        paste0("Odds ratio (95% CI, log scale) vs. the reference condition: ", ref_lab),
      y = NULL,
      title = "Mixed logistic regressions of sentiment",
      caption = paste0("Odds of a negative (left) or positive (right) unit in each condition ",
        "versus the reference condition",
        if (is.na(ref_lab)) "" else paste0(", ", ref_lab),
        "; random intercepts (platform, author) not shown.\nFilled: Holm-adjusted p < ", a,
        " over the condition terms of each model (table10's p (Holm)). Engine: ", engines, ".",
        .vsd_small_note(h, n_left, "condition"))) +
    vsd_theme() +
    theme(legend.position = "bottom", panel.grid.major.y = element_blank(),
      panel.spacing.x = unit(1.5, "lines"))
  vsd_finish(p, h)
}
