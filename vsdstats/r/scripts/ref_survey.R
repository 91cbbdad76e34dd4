# References for vsdstats.stats.chisq_clustered and group_means_ci(cluster=): the survey package.
#
#   svychisq(~row + col, svydesign(ids = ~cluster, data = units))   # statistic = "F"
#
# Usage from R / rpy2:  source("R/ref_survey.R"); ref_svychisq(units, "row", "col", "cl")
# Returns a one-row data.frame: statistic (F), df1, df2, p_value.

ref_svychisq <- function(units, row, col, cluster) {
  units[[row]] <- factor(units[[row]])
  units[[col]] <- factor(units[[col]])
  design <- survey::svydesign(ids = stats::as.formula(paste0("~", cluster)), data = units,
                              weights = ~1)
  test <- survey::svychisq(stats::as.formula(paste0("~", row, " + ", col)), design,
                           statistic = "F")
  data.frame(statistic = unname(test$statistic), df1 = unname(test$parameter[1]),
             df2 = unname(test$parameter[2]), p_value = test[["p.value"]])
}

# svyby(~score, ~group, svydesign(ids = ~cluster, data = units), svymean): the mean of
# each group with its cluster-robust (linearization) standard error.
ref_svymean_by <- function(units, score, group, cluster) {
  units[[group]] <- factor(units[[group]])
  design <- survey::svydesign(ids = stats::as.formula(paste0("~", cluster)), data = units,
                              weights = ~1)
  est <- survey::svyby(stats::as.formula(paste0("~", score)),
                       stats::as.formula(paste0("~", group)), design, survey::svymean)
  data.frame(group = as.character(est[[group]]), mean = unname(stats::coef(est)),
             se = unname(survey::SE(est)))
}

# svyratio(~num, ~den, svydesign(ids = ~cluster, data = units)): the ratio sum(num) /
# sum(den) with its cluster-robust (linearization) standard error; the reference for
# the DSL-corrected shares and means of vsdstats.stats.corrected (given pseudo-values).
ref_svyratio <- function(units, num, den, cluster) {
  design <- survey::svydesign(ids = stats::as.formula(paste0("~", cluster)), data = units,
                              weights = ~1)
  est <- survey::svyratio(stats::as.formula(paste0("~", num)),
                          stats::as.formula(paste0("~", den)), design)
  data.frame(ratio = unname(stats::coef(est)), se = unname(survey::SE(est)))
}
