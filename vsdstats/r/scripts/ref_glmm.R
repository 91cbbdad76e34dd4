# References for vsdstats.stats.mixed_logit: the fits written out in R, on data R reads
# from a CSV file itself (not through the Python-to-R converter).
#
#   ref_bglmer(path, formula, factor, levels)   blme::bglmer with normal fixed-effect
#       priors (SD 10 intercept, 2.5 others), no covariance prior: the penalized refit
#   ref_relevel(path, formula, factor, ref)      glmmTMB after stats::relevel(factor, ref)
#   ref_holm(p)                                  stats::p.adjust(p, "holm")
#
# Each fit returns a data.frame: term, estimate, std_error, p_value.

ref_read <- function(path, factor, levels = NULL) {
  d <- utils::read.csv(path, stringsAsFactors = FALSE)
  lv <- if (is.null(levels)) sort(unique(d[[factor]])) else levels
  d[[factor]] <- factor(d[[factor]], levels = lv)
  d
}

ref_tidy <- function(beta, V) {
  se <- sqrt(diag(as.matrix(V)))
  data.frame(term = names(beta), estimate = unname(beta), std_error = unname(se),
             p_value = unname(2 * stats::pnorm(-abs(beta / se))), stringsAsFactors = FALSE)
}

ref_bglmer <- function(path, formula, factor, levels = NULL) {
  d <- ref_read(path, factor, levels)
  fit <- suppressMessages(blme::bglmer(stats::as.formula(formula), data = d,
    family = stats::binomial, control = lme4::glmerControl(optimizer = "nloptwrap"),
    cov.prior = NULL, fixef.prior = normal(sd = c(10, 2.5))))
  ref_tidy(lme4::fixef(fit), stats::vcov(fit))
}

ref_relevel <- function(path, formula, factor, ref) {
  d <- ref_read(path, factor)
  d[[factor]] <- stats::relevel(d[[factor]], ref = ref)
  fit <- glmmTMB::glmmTMB(stats::as.formula(formula), data = d, family = stats::binomial)
  ref_tidy(glmmTMB::fixef(fit)$cond, stats::vcov(fit)$cond)
}

ref_holm <- function(p) stats::p.adjust(p, method = "holm")
