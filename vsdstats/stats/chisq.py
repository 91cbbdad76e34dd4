"""Pearson chi-square test of independence for an R x C contingency table.

Matches R's ``chisq.test(x, correct = FALSE)``: no Yates continuity correction is ever
applied (also not for 2 x 2 tables), residuals equal ``$residuals`` and the adjusted
(standardized) residuals equal ``$stdres``.  Adds a log p-value that stays finite for
huge statistics, bias-corrected Cramér's V, a seeded Monte-Carlo p-value and per-cell
tests with multiple-comparison adjustment.  (About 460 lines: the test, its log p-value,
the Monte-Carlo p-value and the cell tests are one family on one result object.)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = ["ChisqResult", "cell_tests", "chisq_independence"]

# R: almost.1 <- 1 - 64 * .Machine$double.eps; simulated X2 >= almost.1 * X2_obs counts.
_ALMOST_ONE = 1.0 - 64.0 * np.finfo(float).eps
# Below this scipy's chi2.logsf (= log of a double) loses precision or becomes -inf.
_LOGSF_SWITCH = -600.0
_P_ADJUST = {"holm": "holm", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni", "none": None}


# --------------------------------------------------------------------------- helpers


def _log_q_contfrac(a: float, x: float, tol: float = 1e-16, max_iter: int = 100_000) -> float:
    """log Q(a, x), the regularized upper incomplete gamma function, for x > a + 1.

    ``Q(a, x) = exp(-x) x^a / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...)))``
    evaluated with the modified Lentz algorithm, all in log space, so it does not
    underflow (Press et al. 2007, *Numerical Recipes* 3rd ed., section 6.2).
    """
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, max_iter + 1):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < tol:
            break
    return -x + a * math.log(x) - special.gammaln(a) + math.log(h)


def _chi2_log_sf(statistic: float, dof: int) -> float:
    """``log P(X > statistic)`` for X ~ chi-square(dof), finite even when it is < -745.

    Uses ``scipy.stats.chi2.logsf`` in its accurate range and otherwise
    ``log Q(dof/2, statistic/2)`` by continued fraction (``_log_q_contfrac``), like R's
    ``pchisq(q, df, lower.tail = FALSE, log.p = TRUE)``.
    """
    if statistic <= 0:
        return 0.0
    logsf = float(stats.chi2.logsf(statistic, dof))
    if np.isfinite(logsf) and logsf > _LOGSF_SWITCH:
        return logsf
    a, x = dof / 2.0, statistic / 2.0
    if x > a + 1.0:
        return float(_log_q_contfrac(a, x))
    return logsf


def format_pvalue(p: float | None, log_p: float | None = None, digits: int = 3) -> str:
    """'0.0123', '1.23e-08' or, beyond double precision, '4.56e-1185' (from ``log_p``).

    Never '0': when ``p`` underflows and ``log_p`` is unavailable the text is '< 1e-300';
    a missing p is 'NA'.
    """
    if p is None or np.isnan(p):
        return "NA"
    if p >= 1e-3:
        return f"{p:.{digits}f}"
    if p >= 1e-300:
        return f"{p:.{digits - 1}e}"
    if log_p is None or not np.isfinite(log_p):
        return "< 1e-300"
    l10 = log_p / math.log(10.0)
    exponent = math.floor(l10)
    mantissa = round(10.0 ** (l10 - exponent), digits - 1)
    if mantissa >= 10.0:
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.{digits - 1}f}e{exponent}"


def _format_p(p: float, log_p: float, digits: int = 3) -> str:
    """'p = 0.0123', 'p = 1.23e-08', 'p = 4.56e-1185' or 'p < 1e-300'; never 'p = 0'."""
    text = format_pvalue(p, log_p, digits)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _as_counts(table) -> pd.DataFrame:
    """Validate a table of counts and return it as a float DataFrame with labels."""
    if isinstance(table, pd.DataFrame):
        frame = table
    else:
        arr = np.asarray(table)
        if arr.ndim != 2:
            raise ValueError(f"table must be 2-D (rows x columns), got {arr.ndim} dimension(s)")
        frame = pd.DataFrame(arr)
    if frame.size == 0:
        raise ValueError(
            f"the table is empty ({frame.shape[0]}x{frame.shape[1]}): no rows with both a "
            "row and a column value; need at least 2 rows and 2 columns"
        )
    if frame.ndim != 2 or frame.shape[0] < 2 or frame.shape[1] < 2:
        raise ValueError(
            f"table must have at least 2 rows and 2 columns, got a {frame.shape[0]}x"
            f"{frame.shape[1]} table (a 1xK table has no association to test)"
        )
    for name, dt in frame.dtypes.items():
        if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)):
            raise ValueError(f"table must hold numeric counts; column {name!r} has dtype {dt}")
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.all(np.isfinite(values)):
        raise ValueError("table contains NaN or infinite counts")
    if np.any(values < 0):
        raise ValueError("table contains negative counts; counts must be >= 0")
    if not np.all(np.abs(values - np.round(values)) <= 1e-8 * np.maximum(1.0, np.abs(values))):
        raise ValueError("table must hold integer-like counts (got non-integer values)")
    return pd.DataFrame(np.round(values), index=frame.index, columns=frame.columns)


def _drop_empty(obs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list]]:
    """Drop all-zero rows and columns (their expected counts are 0), warning about them."""
    rows = obs.sum(axis=1).to_numpy() > 0
    cols = obs.sum(axis=0).to_numpy() > 0
    dropped = {"rows": list(obs.index[~rows]), "columns": list(obs.columns[~cols])}
    if not (rows.all() and cols.all()):
        warnings.warn(
            f"dropped all-zero rows {dropped['rows']} and columns {dropped['columns']} "
            "(expected counts would be 0; R's chisq.test would return NaN)",
            UserWarning,
            stacklevel=3,
        )
        obs = obs.loc[rows, cols]
    if obs.shape[0] < 2 or obs.shape[1] < 2:
        raise ValueError(
            f"after dropping all-zero rows/columns the table is {obs.shape[0]}x{obs.shape[1]}; "
            "need at least 2 non-empty rows and 2 non-empty columns"
        )
    return obs, dropped


def _pearson_stat(tables: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """X^2 of a stack of tables (..., R, C) against fixed expected counts."""
    return np.sum((tables - expected) ** 2 / expected, axis=(-2, -1))


def _simulate_pvalue(
    observed: np.ndarray, expected: np.ndarray, statistic: float, B: int, seed
) -> float:
    """Monte-Carlo p-value over B random tables with the observed margins (R's method)."""
    rng = np.random.default_rng(seed)
    rows = observed.sum(axis=1).astype(np.int64)
    cols = observed.sum(axis=0).astype(np.int64)
    dist = stats.random_table(rows, cols)
    chunk = max(1, min(B, 4_000_000 // observed.size))
    hits = 0
    done = 0
    while done < B:
        k = min(chunk, B - done)
        sims = dist.rvs(k, random_state=rng)
        hits += int(np.sum(_pearson_stat(sims, expected) >= _ALMOST_ONE * statistic))
        done += k
    return (1.0 + hits) / (B + 1.0)


def _bergsma_v(statistic: float, n: float, r: int, c: int) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013); NaN when undefined for tiny n."""
    if n <= 1:
        return float("nan")
    phi2 = statistic / n
    phi2_t = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    r_t = r - (r - 1) ** 2 / (n - 1)
    c_t = c - (c - 1) ** 2 / (n - 1)
    denom = min(r_t - 1, c_t - 1)
    if denom <= 0:
        return float("nan")
    return math.sqrt(phi2_t / denom)


# --------------------------------------------------------------------------- result


@dataclass
class ChisqResult:
    """Result of :func:`chisq_independence`.

    ``p_value`` is the asymptotic chi-square p-value (it may underflow to 0.0; use
    ``log_p_value`` or ``p_value_str``); ``simulated_p_value`` is the Monte-Carlo p-value
    or None.  Table-shaped attributes are DataFrames with the (non-empty) table's labels.
    ``pvalue``, ``log_pvalue``, ``simulated_pvalue`` and ``pvalue_str`` are read-only
    aliases (the scipy-like names of earlier versions).
    """

    statistic: float
    dof: int
    p_value: float
    log_p_value: float
    observed: pd.DataFrame
    expected: pd.DataFrame
    pearson_residuals: pd.DataFrame
    adjusted_residuals: pd.DataFrame
    cramers_v: float
    cramers_v_corrected: float
    n: float
    simulated_p_value: float | None = None
    B: int | None = None
    method: str = ""
    cochran_ok: bool = True
    dropped: dict[str, list] = field(default_factory=dict)

    @property
    def p_value_str(self) -> str:
        """Formatted asymptotic p-value; huge statistics give e.g. 'p = 4.6e-1185'."""
        return _format_p(self.p_value, self.log_p_value)

    @property
    def pvalue(self) -> float:
        """Alias of ``p_value`` (read-only)."""
        return self.p_value

    @property
    def log_pvalue(self) -> float:
        """Alias of ``log_p_value`` (read-only)."""
        return self.log_p_value

    @property
    def simulated_pvalue(self) -> float | None:
        """Alias of ``simulated_p_value`` (read-only)."""
        return self.simulated_p_value

    @property
    def pvalue_str(self) -> str:
        """Alias of ``p_value_str``."""
        return self.p_value_str

    def report(self) -> str:
        """APA-like one-line report, e.g. 'X2(4, N = 500) = 12.30, p = 0.015, V = 0.111'."""
        text = (
            f"X2({self.dof}, N = {self.n:g}) = {self.statistic:.2f}, {self.p_value_str}, "
            f"V = {self.cramers_v:.3f}"
        )
        if self.simulated_p_value is not None:
            text += f"; Monte-Carlo p = {self.simulated_p_value:.4f} (B = {self.B})"
        return text

    def __str__(self) -> str:
        return self.report()

    def tidy(self) -> pd.DataFrame:
        """One-row DataFrame with the test summary."""
        return pd.DataFrame(
            {
                "statistic": [self.statistic],
                "dof": [self.dof],
                "p_value": [self.p_value],
                "log_p_value": [self.log_p_value],
                "p_value_str": [self.p_value_str],
                "simulated_p_value": [
                    np.nan if self.simulated_p_value is None else self.simulated_p_value
                ],
                "B": [pd.NA if self.B is None else self.B],
                "n": [self.n],
                "n_rows": [self.observed.shape[0]],
                "n_cols": [self.observed.shape[1]],
                "min_expected": [float(self.expected.to_numpy().min())],
                "cochran_ok": [self.cochran_ok],
                "cramers_v": [self.cramers_v],
                "cramers_v_corrected": [self.cramers_v_corrected],
                "method": [self.method],
            }
        )

    def cells(self) -> pd.DataFrame:
        """Tidy long DataFrame, one row per cell in row-major order.

        Columns: row, col, observed, expected, pearson_residual, adjusted_residual.
        """
        r, c = self.observed.shape
        return pd.DataFrame(
            {
                "row": np.repeat(np.asarray(self.observed.index, dtype=object), c),
                "col": np.tile(np.asarray(self.observed.columns, dtype=object), r),
                "observed": self.observed.to_numpy().ravel(),
                "expected": self.expected.to_numpy().ravel(),
                "pearson_residual": self.pearson_residuals.to_numpy().ravel(),
                "adjusted_residual": self.adjusted_residuals.to_numpy().ravel(),
            }
        )


# --------------------------------------------------------------------------- API


def chisq_independence(
    table, simulate: bool | None = None, seed=None, B: int = 2000
) -> ChisqResult:
    """Pearson chi-square test of independence of the rows and columns of a table.

    With observed counts ``O_ij``, margins ``r_i``, ``c_j`` and total ``n``:

    - expected ``E_ij = r_i c_j / n``; ``X^2 = sum (O_ij - E_ij)^2 / E_ij`` on
      ``(R-1)(C-1)`` degrees of freedom; no Yates continuity correction, also for 2 x 2
      tables (equals R ``chisq.test(x, correct = FALSE)``);
    - Pearson residuals ``(O - E) / sqrt(E)`` (R ``$residuals``) and adjusted residuals
      ``(O - E) / sqrt(E (1 - r_i/n)(1 - c_j/n))`` (Haberman 1973; R ``$stdres``),
      approximately N(0, 1) under independence;
    - Cramér's V ``sqrt(X^2 / (n min(R-1, C-1)))`` and Bergsma's (2013) bias-corrected
      ``V~ = sqrt(max(0, X^2/n - (R-1)(C-1)/(n-1)) / min(R~-1, C~-1))`` with
      ``R~ = R - (R-1)^2/(n-1)``, ``C~ = C - (C-1)^2/(n-1)``;
    - ``log_p_value = log Q((R-1)(C-1)/2, X^2/2)`` (regularized upper incomplete gamma),
      evaluated by continued fraction when the p-value underflows, so it is finite
      (R ``pchisq(X2, df, lower.tail = FALSE, log.p = TRUE)``).

    All-zero rows/columns are dropped with a ``UserWarning``.  Small expected counts are
    judged by Cochran's (1954) rule: the chi-square approximation is trusted when no
    ``E_ij < 1`` and at most 20% of cells have ``E_ij < 5``.

    Parameters
    ----------
    table : DataFrame or 2-D array
        Non-negative integer counts, at least 2 x 2.
    simulate : bool or None
        Monte-Carlo p-value as in R ``chisq.test(simulate.p.value = TRUE)``: ``B``
        tables with the observed margins are drawn (``scipy.stats.random_table``,
        Patefield's algorithm) and ``p = (1 + #{X^2_sim >= X^2_obs}) / (B + 1)`` (with
        R's relative tolerance 64 eps).  ``None`` (default): simulate only if Cochran's
        rule fails, and warn; ``True``: always; ``False``: never (still warns when the
        rule fails).
    seed : int, Generator or None
        Seed for the simulation (reproducible for an int).
    B : int
        Number of simulated tables.

    Returns
    -------
    ChisqResult
        With ``.tidy()`` (one row) and ``.cells()`` (one row per cell).

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis* (3rd ed.), sections 3.2-3.3. Wiley.
    Bergsma, W. (2013). A bias-correction for Cramér's V and Tschuprow's T. *Journal of
    the Korean Statistical Society*, 42(3), 323-328.
    Cochran, W. G. (1954). Some methods for strengthening the common chi-square tests.
    *Biometrics*, 10(4), 417-451.
    Haberman, S. J. (1973). The analysis of residuals in cross-classified tables.
    *Biometrics*, 29(1), 205-220.
    Hope, A. C. A. (1968). A simplified Monte Carlo significance test procedure.
    *JRSS B*, 30(3), 582-598.
    """
    if B < 1:
        raise ValueError(f"B must be a positive number of simulations, got {B}")
    obs, dropped = _drop_empty(_as_counts(table))
    o = obs.to_numpy()
    r_sum = o.sum(axis=1)
    c_sum = o.sum(axis=0)
    n = float(o.sum())
    e = np.outer(r_sum, c_sum) / n
    nr, nc = o.shape
    statistic = float(np.sum((o - e) ** 2 / e))
    dof = (nr - 1) * (nc - 1)
    p_value = float(stats.chi2.sf(statistic, dof))
    log_p_value = _chi2_log_sf(statistic, dof)
    resid = (o - e) / np.sqrt(e)
    stdres = (o - e) / np.sqrt(e * np.outer(1.0 - r_sum / n, 1.0 - c_sum / n))
    v = math.sqrt(statistic / (n * (min(nr, nc) - 1)))
    v_corr = _bergsma_v(statistic, n, nr, nc)

    cochran_ok = bool(e.min() >= 1.0 and np.mean(e < 5.0) <= 0.2)
    do_sim = (not cochran_ok) if simulate is None else bool(simulate)
    if not cochran_ok and simulate is not True:
        extra = (
            f"; a Monte-Carlo p-value (B = {B}) is attached as simulated_p_value"
            if do_sim
            else "; consider simulate=True for a Monte-Carlo p-value"
        )
        warnings.warn(
            "Chi-squared approximation may be incorrect: expected counts fail Cochran's "
            f"rule (min expected {e.min():.3g}, {100 * np.mean(e < 5):.0f}% of cells < 5)" + extra,
            UserWarning,
            stacklevel=2,
        )
    method = "Pearson's chi-squared test of independence (no continuity correction)"
    sim_p = None
    if do_sim:
        sim_p = _simulate_pvalue(o, e, statistic, B, seed)
        method += f"; Monte-Carlo p-value with B = {B} replicates"

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=obs.index.copy(), columns=obs.columns.copy())

    return ChisqResult(
        statistic=statistic,
        dof=dof,
        p_value=p_value,
        log_p_value=log_p_value,
        observed=frame(o.astype(np.int64)),
        expected=frame(e),
        pearson_residuals=frame(resid),
        adjusted_residuals=frame(stdres),
        cramers_v=v,
        cramers_v_corrected=v_corr,
        n=n,
        simulated_p_value=sim_p,
        B=B if do_sim else None,
        method=method,
        cochran_ok=cochran_ok,
        dropped=dropped,
    )


def adjust_p(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values, as R ``p.adjust``: ``holm`` (step-down, p_(i) (m - i + 1) made
    monotone), ``bonferroni`` (m p), ``fdr_bh`` (Benjamini-Hochberg, via
    scipy.stats.false_discovery_control) or ``none``; capped at 1."""
    p = np.asarray(p, dtype=np.float64)
    m = p.size
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "fdr_bh":
        return np.minimum(stats.false_discovery_control(p, method="bh"), 1.0)
    if method != "holm":
        raise ValueError(f"unknown adjustment {method!r}; use one of {', '.join(_P_ADJUST)}")
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def cell_tests(result: ChisqResult, method: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Per-cell tests of the adjusted residuals with multiple-comparison adjustment.

    Each adjusted residual ``z_ij`` is approximately N(0, 1) under independence, so the
    two-sided cell p-value is ``p_ij = 2 (1 - Phi(|z_ij|))``.  The ``R C`` p-values are
    adjusted together by Holm (1979), Benjamini & Hochberg (1995) ("fdr_bh"),
    Bonferroni, or not at all ("none"); ``significant = p_value_adj < alpha``.

    Returns
    -------
    DataFrame
        Columns row, col, observed, expected, adjusted_residual, p_value (``p_ij``),
        p_value_adj, significant.

    References
    ----------
    Haberman, S. J. (1973). *Biometrics*, 29(1), 205-220.
    Sharpe, D. (2015). Your chi-square test is statistically significant: now what?
    *Practical Assessment, Research & Evaluation*, 20(8).
    Holm, S. (1979). *Scandinavian Journal of Statistics*, 6(2), 65-70.
    """
    if method not in _P_ADJUST:
        raise ValueError(f"method must be one of {sorted(_P_ADJUST)}, got {method!r}")
    cells = result.cells()
    z = cells["adjusted_residual"].to_numpy()
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_adj = adjust_p(p, method)
    out = cells[["row", "col", "observed", "expected", "adjusted_residual"]].copy()
    out["p_value"] = p
    out["p_value_adj"] = np.minimum(p_adj, 1.0)
    out["significant"] = out["p_value_adj"] < alpha
    return out
