# Base-R reference for delta-PMI and its permutation null (tests/test_pmi_null.py).
#
#   PMI(a, b | S)      = log2(n_ab N / (n_a n_b)) on the units of S (its own N, margins)
#   delta-PMI_L(a, b)  = PMI(a, b | by == L) - PMI(a, b | by != L); NA if absent on a side
#   null draws         = delta-PMI with `by` replaced by each row of a label matrix
#   null_mean m        = mean of the observed and the finite draws (B_f of them);
#                        p = (1 + #{|d* - m| >= |d - m|}) / (1 + B_f)
#
# Written with table() and loops over levels and permutations (no vectorized tricks),
# independently of vsdstats.stats.pmi.
# Usage from R / rpy2: source("R/ref_pmi.R"); ref_delta_pmi(a, b, by)

.ref_pmi_table <- function(a, b, la, lb) {
  tab <- table(factor(a, levels = la), factor(b, levels = lb))
  n <- sum(tab)
  out <- log2(tab * n / outer(rowSums(tab), colSums(tab)))
  out[tab == 0] <- NA
  out
}

# delta-PMI of every level x (a, b) cell: a long data frame by, a, b, delta_pmi
ref_delta_pmi <- function(a, b, by) {
  la <- sort(unique(a))
  lb <- sort(unique(b))
  rows <- list()
  for (lev in sort(unique(by))) {
    inside <- by == lev
    d <- .ref_pmi_table(a[inside], b[inside], la, lb) -
      .ref_pmi_table(a[!inside], b[!inside], la, lb)
    rows[[length(rows) + 1]] <- data.frame(
      by = lev, a = rep(la, times = length(lb)), b = rep(lb, each = length(la)),
      delta_pmi = as.vector(d), stringsAsFactors = FALSE
    )
  }
  do.call(rbind, rows)
}

# the permutation null: `perm` is a B x n matrix of labels (one permutation per row)
ref_delta_pmi_perm <- function(a, b, by, perm) {
  obs <- ref_delta_pmi(a, b, by)
  key <- paste(obs$by, obs$a, obs$b, sep = "\r")
  draws <- matrix(NA_real_, nrow(perm), nrow(obs))
  for (i in seq_len(nrow(perm))) {
    d <- ref_delta_pmi(a, b, perm[i, ])
    draws[i, ] <- d$delta_pmi[match(key, paste(d$by, d$a, d$b, sep = "\r"))]
  }
  obs$null_mean <- NA_real_
  obs$p_value <- NA_real_
  for (j in seq_len(nrow(obs))) {
    x <- draws[is.finite(draws[, j]), j]
    d0 <- obs$delta_pmi[j]
    m <- mean(c(if (is.finite(d0)) d0, x))
    if (!is.finite(m)) next
    obs$null_mean[j] <- m
    if (is.finite(d0) && length(x)) {
      obs$p_value[j] <- (1 + sum(abs(x - m) >= abs(obs$delta_pmi[j] - m) - 1e-12)) /
        (1 + length(x))
    }
  }
  obs
}
