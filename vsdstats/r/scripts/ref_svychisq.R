# Reference for vsdstats.stats.chisq_clustered: the survey package's Rao-Scott test.
#
#   svychisq(~row + col, svydesign(ids = ~cluster, data = units))   # statistic = "F"
#
# Usage from R / rpy2:  source("R/ref_svychisq.R"); ref_svychisq(units, "row", "col", "cl")
# Returns a one-row data.frame: statistic (F), df1, df2, p_value.

ref_svychisq <- function(units, row, col, cluster) {
  units[[row]] <- factor(units[[row]])
  units[[col]] <- factor(units[[col]])
  design <- survey::svydesign(ids = stats::as.formula(paste0("~", cluster)), data = units,
                              weights = ~1)
  test <- survey::svychisq(stats::as.formula(paste0("~", row, " + ", col)), design,
                           statistic = "F")
  data.frame(statistic = unname(test$statistic), df1 = unname(test$parameter[1]),
             df2 = unname(test$parameter[2]), p_value = test$p.value)
}
