# Base-R reference implementation of tidylo::bind_log_odds (tidylo 0.2.0).
#
# Written from tidylo's published algorithm (Monroe, Colaresi & Quinn 2008, as
# implemented with per-row pseudo-counts by Schnoebelen, Silge & Hayes), following its
# computation step by step with dplyr-free base R:
#   tidylo `count(x, key, wt = w)` + `left_join(..., by = key)`, i.e. a grouped sum
#   broadcast back to every row, is done here with ave() (grouped-mutate semantics).
#
#   alpha  = feature total of n over all sets (informative)   or 1 (uninformative)
#   y_wi   = n + alpha                       (pseudo-count, one per row)
#   y_w    = sum of y_wi over the rows of feature w
#   n_i    = sum of y_wi over the rows of set i
#   omega_wi = y_wi / (n_i - y_wi)           odds in set i
#   omega_w  = y_w / (sum(y_wi) - y_w)       overall odds (whole corpus, set i included)
#   log_odds = log(omega_wi) - log(omega_w)                     (MCQ eq. 15/16)
#   sigma2   = 1 / y_wi + 1 / y_w                               (MCQ eq. 18)
#   log_odds_weighted = log_odds / sqrt(sigma2)                 (MCQ eq. 21/22)
#
# Usage from R / rpy2:  source("R/ref_tidylo.R"); ref_bind_log_odds(df, "set", "feat", "n")
# Usage from a shell:   Rscript R/ref_tidylo.R in.csv out.csv [uninformative] [unweighted]
#   (in.csv has columns group,feature,n; the flags are TRUE/FALSE, default FALSE)

# grouped sum of `w` by `key`, returned for every row (dplyr count + left_join)
.ref_group_sum <- function(w, key) {
  key <- as.character(key)
  key[is.na(key)] <- "\001<NA>" # dplyr keeps NA as its own group
  ave(w, key, FUN = sum)
}

ref_bind_log_odds <- function(tbl, set, feature, n, uninformative = FALSE,
                              unweighted = FALSE) {
  stopifnot(is.data.frame(tbl), all(c(set, feature, n) %in% names(tbl)))
  counts <- as.numeric(tbl[[n]])

  if (uninformative) {
    alpha <- rep(1, length(counts))
  } else {
    alpha <- .ref_group_sum(counts, tbl[[feature]])
  }

  y_wi <- counts + alpha
  y_w <- .ref_group_sum(y_wi, tbl[[feature]])
  n_i <- .ref_group_sum(y_wi, tbl[[set]])

  omega_wi <- y_wi / (n_i - y_wi)
  omega_w <- y_w / (sum(y_wi) - y_w)
  delta_wi <- log(omega_wi) - log(omega_w)
  sigma2_wi <- 1 / y_wi + 1 / y_w
  zeta_wi <- delta_wi / sqrt(sigma2_wi)

  out <- tbl
  if (unweighted) {
    out$log_odds <- delta_wi
  }
  out$log_odds_weighted <- zeta_wi
  out
}

if (sys.nframe() == 0) {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) < 2) {
    stop("usage: Rscript R/ref_tidylo.R in.csv out.csv [uninformative] [unweighted]")
  }
  flag <- function(i) length(args) >= i && toupper(args[[i]]) %in% c("TRUE", "T", "1")
  dat <- read.csv(args[[1]], stringsAsFactors = FALSE, check.names = FALSE)
  res <- ref_bind_log_odds(dat, "group", "feature", "n",
    uninformative = flag(3), unweighted = flag(4)
  )
  write.csv(res, args[[2]], row.names = FALSE)
}
