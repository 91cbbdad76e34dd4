"""Binomial generalized linear mixed models (mixed logit) through R or statsmodels.

Model, for post i with response y_i in {0, 1} and grouping factors g (e.g. platform,
author) with random intercepts::

    logit P(y_i = 1) = x_i' beta + sum_g u_{g, j(i)},    u_{g, j} ~ N(0, sigma_g^2)

written as an lme4-style formula, e.g. ``negative ~ condition + (1|platform) + (1|author)``.
Fixed effects are estimated by maximum likelihood with the Laplace approximation
(glmmTMB: Brooks et al. 2017; lme4::glmer: Bates et al. 2015).  Standard errors, z,
p and confidence intervals are Wald; odds ratios are ``exp(estimate)``.

References
----------
Bates, D., Maechler, M., Bolker, B., Walker, S. (2015). Fitting linear mixed-effects
models using lme4. Journal of Statistical Software 67(1), 1-48.
Brooks, M. E. et al. (2017). glmmTMB balances speed and flexibility among packages for
zero-inflated generalized linear mixed modeling. The R Journal 9(2), 378-400.

Separation.  When a level of a factor has no events (or no non-events), the ML
estimate of its term is infinite: the optimizer stops somewhere far out, with a huge
standard error and a p-value near 1 (quasi-complete separation; Albert & Anderson
1984).  :func:`mixed_logit` flags such terms (``separation``, ``separation_reason``),
warns (:class:`SeparationWarning`) and, with ``separation="penalize"``, refits by
penalized ML with weakly informative normal priors on the fixed effects
(``blme::bglmer``; Chung et al. 2013, Gelman et al. 2008), which keeps the estimates
finite.  Firth-type bias reduction (``brglm2``) has no random effects, so it is not used.

References
----------
Albert, A., Anderson, J. A. (1984). On the existence of maximum likelihood estimates
in logistic regression models. Biometrika 71(1), 1-10.
Chung, Y., Rabe-Hesketh, S., Dorie, V., Gelman, A., Liu, J. (2013). A nondegenerate
penalized likelihood estimator for variance parameters in multilevel models.
Psychometrika 78(4), 685-709.
Gelman, A., Jakulin, A., Pittau, M. G., Su, Y.-S. (2008). A weakly informative default
prior distribution for logistic and other regression models. Annals of Applied
Statistics 2(4), 1360-1383.
Holm, S. (1979). A simple sequentially rejective multiple test procedure.
Scandinavian Journal of Statistics 6(2), 65-70.

(About 760 lines: four engines, glmmTMB, lme4, blme and statsmodels, behind one tidy
result, plus separation checks, reference levels and adjusted p-values.)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from vsdstats.errors import InputError

ENGINES = ("glmmTMB", "lme4", "blme", "statsmodels")
SEPARATION = ("flag", "penalize")
ADJUST = ("holm", "bonferroni", "fdr_bh", "none")
#: the flags of a separated term: |estimate| beyond this (logit scale) ...
SEPARATION_MAX_ESTIMATE = 10.0
#: ... or a standard error beyond this
SEPARATION_MAX_SE = 100.0
#: prior SDs of blme's normal fixed-effect prior: intercept, other terms
PRIOR_SD = (10.0, 2.5)

_FIXED_COLUMNS = [
    "term",
    "estimate",
    "std_error",
    "z",
    "p_value",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
    "ci_low",
    "ci_high",
]


class ApproximateResultWarning(UserWarning):
    """The result comes from an approximate method (statsmodels variational Bayes)."""


class SeparationWarning(UserWarning):
    """Some fixed-effect terms are (quasi-)separated: their ML estimates are not usable."""


@dataclass
class MixedLogitResult:
    """Fit of a binomial (logit) GLMM; see :func:`mixed_logit`.

    ``fixed``: term, estimate, std_error, z, p_value, p_value_adj, odds_ratio,
    or_ci_low, or_ci_high, ci_low, ci_high (Wald, log-odds scale for estimate/ci_*),
    separation (bool) and separation_reason ("" when not separated).  ``random``:
    group, term, variance, sd of each random effect.  ``reference``: the reference
    level of each factor predictor.  ``penalized``: the fit is the blme refit
    (``separation="penalize"`` or ``engine="blme"``); ``unpenalized`` then keeps the
    ML fit it replaced (None when there was none).
    """

    fixed: pd.DataFrame
    random: pd.DataFrame
    n_obs: int
    n_groups: dict[str, int]
    engine: str
    formula: str
    converged: bool
    warnings: list[str] = field(default_factory=list)
    loglik: float = float("nan")
    aic: float = float("nan")
    approximate: bool = False
    conf: float = 0.95
    adjust: str = "holm"
    reference: dict[str, str] = field(default_factory=dict)
    penalized: bool = False
    unpenalized: MixedLogitResult | None = None

    @property
    def separated(self) -> list[str]:
        """The terms flagged for separation."""
        if "separation" not in self.fixed:
            return []
        return [str(t) for t in self.fixed.loc[self.fixed["separation"], "term"]]

    @property
    def params(self) -> pd.Series:
        """Fixed-effect estimates indexed by term."""
        return self.fixed.set_index("term")["estimate"]

    def __str__(self) -> str:
        head = (
            f"Mixed logit ({self.engine}{', approximate' if self.approximate else ''}): "
            f"{self.formula}\n n = {self.n_obs}, groups = {self.n_groups}, "
            f"logLik = {self.loglik:.3f}, AIC = {self.aic:.3f}, converged = {self.converged}"
        )
        return f"{head}\n{self.fixed.to_string(index=False)}\n{self.random.to_string(index=False)}"


# ---------------------------------------------------------------------------
# Formula handling
# ---------------------------------------------------------------------------

_IDENT = re.compile(r"`([^`]+)`|([A-Za-z.][A-Za-z0-9._]*)(\s*\()?")


@dataclass(frozen=True)
class _Formula:
    response: str
    fixed_rhs: str
    random: tuple[tuple[str, str], ...]  # (lhs, group) per "(lhs | group)" term
    variables: tuple[str, ...]  # every data column named, response first


def _variables(text: str) -> list[str]:
    out = []
    for m in _IDENT.finditer(text):
        if m.group(1) is not None:
            out.append(m.group(1))
        elif m.group(3) is None and m.group(2) not in ("TRUE", "FALSE", "NA", "T", "F"):
            out.append(m.group(2))
    return out


def _check_parentheses(formula: str) -> None:
    depth = 0
    for ch in re.sub(r"`[^`]*`", "", formula):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise ValueError(f"unbalanced parentheses in formula {formula!r}: unmatched ')'")
    if depth > 0:
        raise ValueError(f"unbalanced parentheses in formula {formula!r}: {depth} unclosed '('")


def _parse_formula(formula: str) -> _Formula:
    _check_parentheses(formula)
    if formula.count("~") != 1:
        raise ValueError(f"formula must have exactly one '~': {formula!r}")
    lhs, rhs = (x.strip() for x in formula.split("~"))
    resp = _variables(lhs)
    if len(resp) != 1 or not re.fullmatch(r"`[^`]+`|[A-Za-z.][A-Za-z0-9._]*", lhs):
        raise ValueError(f"the response must be a single 0/1 column name, got {lhs!r}")
    random: list[tuple[str, str]] = []
    fixed_parts: list[str] = []
    i, start = 0, 0
    while i < len(rhs):  # cut out balanced "( ... | ... )" terms
        if rhs[i] == "(":
            depth, j = 0, i
            while j < len(rhs):
                depth += {"(": 1, ")": -1}.get(rhs[j], 0)
                if depth == 0:
                    break
                j += 1
            inner = rhs[i + 1 : j]
            prev = rhs[:i].rstrip()
            is_call = bool(prev) and (prev[-1].isalnum() or prev[-1] in "._")
            if "|" in inner and not is_call:
                bar = "||" if "||" in inner else "|"
                left, group = (x.strip() for x in inner.split(bar, 1))
                random.append((left, group))
                fixed_parts.append(rhs[start:i])
                start = j + 1
            i = j + 1
        else:
            i += 1
    fixed_parts.append(rhs[start:])
    fixed = "".join(fixed_parts)
    fixed = re.sub(r"\+\s*(?=\+|$)", "", re.sub(r"\s+", " ", fixed)).strip()
    fixed = re.sub(r"^\+\s*", "", fixed).strip() or "1"
    if not random:
        raise ValueError(
            f"formula has no random-effect term like (1|group): {formula!r}; "
            "use an ordinary logistic regression instead"
        )
    names = [resp[0], *_variables(fixed)]
    for left, group in random:
        names += _variables(left) + _variables(group)
    variables = tuple(dict.fromkeys(names))
    return _Formula(resp[0], fixed, tuple(random), variables)


# ---------------------------------------------------------------------------
# Data preparation
# ---------------------------------------------------------------------------


def _prepare(data: pd.DataFrame, f: _Formula) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [v for v in f.variables if v not in data.columns]
    if missing:
        raise ValueError(
            f"column(s) named in the formula not found in data: {', '.join(map(repr, missing))}"
        )
    d = data.loc[:, list(f.variables)]
    na = d.isna()
    drop = na.any(axis=1).to_numpy()
    if drop.any():
        per_col = ", ".join(f"{c}: {int(k)}" for c, k in na.sum().items() if k)
        warnings.warn(
            f"dropped {int(drop.sum())} of {len(d)} rows with missing values ({per_col})",
            UserWarning,
            stacklevel=3,
        )
        d = d.loc[~drop]
    if len(d) == 0:
        raise ValueError("no complete rows left to fit")
    y = d[f.response]
    if pd.api.types.is_bool_dtype(y.dtype):
        y01 = y.astype(np.int32)
    else:
        values = pd.unique(y)
        ok = pd.api.types.is_numeric_dtype(y.dtype) and set(values.tolist()) <= {0, 1}
        if not ok:
            shown = sorted(map(repr, values.tolist()))
            more = f" ... ({len(shown)} distinct)" if len(shown) > 10 else ""
            raise ValueError(
                f"response {f.response!r} must be binary (0/1 or bool); found values "
                f"{', '.join(shown[:10])}{more}"
            )
        y01 = y.astype(np.int32)
    if y01.nunique() < 2:
        raise ValueError(f"response {f.response!r} takes only the value {int(y01.iloc[0])}")
    d = d.copy()
    d[f.response] = y01.to_numpy()
    for c in d.columns:
        if c == f.response:
            continue
        s = d[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            # Reference level = first category; drop levels absent from the fitted rows.
            d[c] = s.cat.remove_unused_categories().cat.as_unordered()
        elif pd.api.types.is_string_dtype(s.dtype) or s.dtype.kind == "O":
            vals = s.astype(str)
            d[c] = pd.Categorical(vals, categories=sorted(pd.unique(vals)))
    _check_factor_levels(d, f)
    return d.reset_index(drop=True)


def _check_factor_levels(d: pd.DataFrame, f: _Formula) -> None:
    """A factor among the fixed effects (or random slopes) needs 2 or more levels."""
    names = _variables(f.fixed_rhs)
    for left, _ in f.random:
        names += _variables(left)
    for c in dict.fromkeys(names):
        s = d[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s.dtype):
            levels = pd.unique(s)
            if len(levels) < 2:
                raise ValueError(
                    f"predictor {c!r} has the single level {str(levels[0])!r} in the "
                    f"{len(d)} complete rows; a factor needs 2 or more levels"
                )


# ---------------------------------------------------------------------------
# Assembling tidy output
# ---------------------------------------------------------------------------


def wald_table(terms: list[str], est: np.ndarray, se: np.ndarray, conf: float) -> pd.DataFrame:
    """Tidy fixed effects from estimates and standard errors: z = b / se,
    p_value = 2 * (1 - Phi(|z|)), Wald CI b -/+ z_(1+conf)/2 * se, and their exponentials."""
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    q = stats.norm.ppf(0.5 + conf / 2)
    lo, hi = est - q * se, est + q * se
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = pd.DataFrame(
            {
                "term": terms,
                "estimate": est,
                "std_error": se,
                "z": est / se,
                "p_value": 2 * stats.norm.sf(np.abs(est / se)),
                "odds_ratio": np.exp(est),
                "or_ci_low": np.exp(lo),
                "or_ci_high": np.exp(hi),
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return out[_FIXED_COLUMNS]


# ---------------------------------------------------------------------------
# R engines
# ---------------------------------------------------------------------------

_R_FIT = {
    "glmmTMB": """
fit <- glmmTMB::glmmTMB(stats::as.formula(fml), data = d,
                        family = stats::binomial(link = "logit"),
                        control = glmmTMB::glmmTMBControl(parallel = 1L))
""",
    "lme4": """
fit <- lme4::glmer(stats::as.formula(fml), data = d,
                   family = stats::binomial(link = "logit"),
                   control = lme4::glmerControl(optimizer = "nloptwrap"))
""",
    # penalized ML: glmer's Laplace likelihood times independent normal priors on the
    # fixed effects (SD PRIOR_SD[0] for the intercept, PRIOR_SD[1] for the other
    # terms), no prior on the random-effect variances (cov.prior = NULL).  blme reads
    # the prior arguments unevaluated, so the SDs are written into the code.
    "blme": f"""
fit <- blme::bglmer(stats::as.formula(fml), data = d,
                    family = stats::binomial(link = "logit"),
                    control = lme4::glmerControl(optimizer = "nloptwrap"),
                    cov.prior = NULL,
                    fixef.prior = normal(sd = c({PRIOR_SD[0]!r}, {PRIOR_SD[1]!r})))
""",
}

_R_EXTRACT = {
    "glmmTMB": """
vc <- glmmTMB::VarCorr(fit)$cond
re <- do.call(rbind, lapply(names(vc), function(g) {
  v <- diag(as.matrix(vc[[g]]))
  data.frame(group = g, term = names(v), variance = unname(v), stringsAsFactors = FALSE)
}))
V <- as.matrix(stats::vcov(fit)$cond)
list(beta = glmmTMB::fixef(fit)$cond, se = sqrt(diag(V)),
     re_group = re$group, re_term = re$term, re_var = re$variance,
     ngroups = vapply(fit$modelInfo$reTrms$cond$flist, nlevels, 1L),
     nobs = as.integer(stats::nobs(fit)), loglik = as.numeric(stats::logLik(fit)),
     aic = stats::AIC(fit),
     converged = isTRUE(fit$fit$convergence == 0) && isTRUE(fit$sdr$pdHess))
""",
    "lme4": """
re <- as.data.frame(lme4::VarCorr(fit))
re <- re[is.na(re$var2), ]
V <- as.matrix(stats::vcov(fit))
cm <- fit@optinfo$conv$lme4$messages
cm <- cm[!grepl("singular", cm)]
list(beta = lme4::fixef(fit), se = sqrt(diag(V)),
     re_group = as.character(re$grp), re_term = as.character(re$var1), re_var = re$vcov,
     ngroups = lme4::ngrps(fit),
     nobs = as.integer(stats::nobs(fit)), loglik = as.numeric(stats::logLik(fit)),
     aic = stats::AIC(fit),
     converged = isTRUE(fit@optinfo$conv$opt == 0) && length(cm) == 0)
""",
}

_R_EXTRACT["blme"] = _R_EXTRACT["lme4"]  # a bglmerMod is an lme4 merMod

_R_PACKAGE = {"glmmTMB": "glmmTMB", "lme4": "lme4", "blme": "blme"}


def _fit_r(f: _Formula, formula: str, d: pd.DataFrame, engine: str, conf: float):
    from vsdstats.r.bridge import RUnavailableError, check_r, r_eval

    check_r()
    pkg = _R_PACKAGE[engine]
    if not r_eval(f"requireNamespace('{pkg}', quietly = TRUE)", emit=False).value[0]:
        raise RUnavailableError(
            f"the R package {pkg} is not installed; run `bash R/install_r.sh` or "
            f"install.packages('{pkg}') in R"
        )
    res = r_eval(_R_FIT[engine] + _R_EXTRACT[engine], stacklevel=4, d=d, fml=formula)
    v = res.value
    get = dict(zip(v.names, v, strict=True))
    terms = [str(t) for t in get["beta"].names]
    fixed = wald_table(terms, np.array(get["beta"]), np.array(get["se"]), conf)
    var = np.array(get["re_var"], dtype=float)
    random = pd.DataFrame(
        {
            "group": [str(x) for x in get["re_group"]],
            "term": [str(x) for x in get["re_term"]],
            "variance": var,
            "sd": np.sqrt(var),
        }
    )
    ng = get["ngroups"]
    n_groups = {str(k): int(x) for k, x in zip(ng.names, ng, strict=True)}
    converged = bool(get["converged"][0])
    return MixedLogitResult(
        fixed=fixed,
        random=random,
        n_obs=int(get["nobs"][0]),
        n_groups=n_groups,
        engine=engine,
        formula=formula,
        converged=converged,
        warnings=res.conditions,
        loglik=float(get["loglik"][0]),
        aic=float(get["aic"][0]),
        approximate=False,
        conf=conf,
    )


# ---------------------------------------------------------------------------
# statsmodels engine (variational Bayes, approximate)
# ---------------------------------------------------------------------------

_SM_TERM = re.compile(r"^(?:C\()?(.+?)(?:\))?\[T\.(.*)\]$")


def _r_style_term(name: str) -> str:
    if name == "Intercept":
        return "(Intercept)"
    m = _SM_TERM.match(name)
    return f"{m.group(1)}{m.group(2)}" if m else name


def _fit_statsmodels(f: _Formula, formula: str, d: pd.DataFrame, conf: float):
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    vc = {}
    for left, group in f.random:
        if left.replace(" ", "") not in ("1",) or not re.fullmatch(r"[A-Za-z.][\w.]*", group):
            raise NotImplementedError(
                f"engine='statsmodels' supports only random intercepts (1|group); got "
                f"({left}|{group})"
            )
        vc[group] = f"0 + C({group})"
    model = BinomialBayesMixedGLM.from_formula(f"{f.response} ~ {f.fixed_rhs}", vc, d)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit_vb()
    notes = [str(w.message) for w in caught]
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=4)
    converged = not any("converge" in n.lower() for n in notes)
    terms = [_r_style_term(n) for n in model.exog_names[: model.k_fep]]
    fixed = wald_table(terms, res.fe_mean, res.fe_sd, conf)
    var = np.exp(2 * np.asarray(res.vcp_mean, dtype=float))
    random = pd.DataFrame(
        {"group": list(model.vcp_names), "term": "(Intercept)", "variance": var, "sd": np.sqrt(var)}
    )
    msg = (
        "engine='statsmodels' fits by variational Bayes (BinomialBayesMixedGLM.fit_vb): "
        "the result is approximate; posterior means are close to the ML estimates but "
        "standard errors (and so p-values and CIs) are too small. Use glmmTMB or lme4 "
        "for inference."
    )
    warnings.warn(msg, ApproximateResultWarning, stacklevel=3)
    return MixedLogitResult(
        fixed=fixed,
        random=random,
        n_obs=len(d),
        n_groups={g: int(d[g].nunique()) for g in vc},
        engine="statsmodels",
        formula=formula,
        converged=converged,
        warnings=[*notes, msg],
        approximate=True,
        conf=conf,
    )


# ---------------------------------------------------------------------------
# Reference levels, separation, adjusted p-values
# ---------------------------------------------------------------------------


def _factor_predictors(d: pd.DataFrame, f: _Formula) -> list[str]:
    """The categorical / bool columns among the fixed-effect variables, formula order."""
    out = []
    for c in dict.fromkeys(_variables(f.fixed_rhs)):
        s = d[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s.dtype):
            out.append(c)
    return out


def _levels(s: pd.Series) -> list[str]:
    """Factor levels as R names them (bool: FALSE, TRUE)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return ["FALSE", "TRUE"]
    return [str(c) for c in s.cat.categories]


def _apply_ref(d: pd.DataFrame, f: _Formula, ref: Mapping[str, str] | None) -> dict[str, str]:
    """Make ``ref[col]`` the first level of each named factor (R's ``relevel``)."""
    if ref is None:
        ref = {}
    if not isinstance(ref, Mapping):
        raise InputError(
            f"ref must map a factor column to its reference level, e.g. "
            f"{{'condition': 'general'}}; got {ref!r}"
        )
    factors = _factor_predictors(d, f)
    for col, level in ref.items():
        if col not in factors:
            why = "is not in the formula" if col not in d.columns else "is not a factor"
            shown = ", ".join(map(repr, factors)) or "none"
            raise InputError(
                f"ref: column {col!r} {why} among the fixed effects (factor predictors: {shown})"
            )
        s = d[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            raise InputError(f"ref: column {col!r} is bool; its reference level is False")
        names = _levels(s)
        if str(level) not in names:
            raise InputError(
                f"ref: level {str(level)!r} not found in column {col!r} of the {len(d)} "
                f"complete rows (levels: {', '.join(names)})"
            )
        cats = list(s.cat.categories)
        first = cats[names.index(str(level))]
        d[col] = s.cat.reorder_categories([first, *[c for c in cats if c != first]])
    return {c: _levels(d[c])[0] for c in _factor_predictors(d, f)}


def _separation(d: pd.DataFrame, f: _Formula, fixed: pd.DataFrame) -> tuple[list[bool], list[str]]:
    """Per fixed term: separated?, and why.

    A term is flagged when (1) its level of a factor predictor has no events or no
    non-events among the fitted rows (for the reference level: the intercept and every
    term of that factor), or (2) ``|estimate| > SEPARATION_MAX_ESTIMATE``, or (3)
    ``std_error > SEPARATION_MAX_SE`` or not finite.
    """
    reasons: dict[str, list[str]] = {str(t): [] for t in fixed["term"]}
    y = d[f.response].to_numpy()
    for col in _factor_predictors(d, f):
        s = d[col]
        names = _levels(s)
        codes = s.to_numpy(dtype=int) if pd.api.types.is_bool_dtype(s.dtype) else s.cat.codes
        codes = np.asarray(codes)
        events = np.bincount(codes, weights=y, minlength=len(names))
        totals = np.bincount(codes, minlength=len(names))
        for k, name in enumerate(names):
            if events[k] > 0 and events[k] < totals[k]:
                continue
            what = "no events" if events[k] == 0 else "no non-events"
            if k == 0:
                why = f"{what} in reference level {name!r} of {col}"
                terms = ["(Intercept)", *(f"{col}{x}" for x in names[1:])]
            else:
                why = f"{what} in level {name!r} of {col}"
                terms = [f"{col}{name}"]
            for t in terms:
                if t in reasons:
                    reasons[t].append(why)
    for t, est, se in zip(fixed["term"], fixed["estimate"], fixed["std_error"], strict=True):
        if abs(est) > SEPARATION_MAX_ESTIMATE:
            reasons[str(t)].append(f"estimate {est:.3g} beyond +-{SEPARATION_MAX_ESTIMATE:g}")
        if not np.isfinite(se):
            reasons[str(t)].append("standard error not finite")
        elif se > SEPARATION_MAX_SE:
            reasons[str(t)].append(f"std_error {se:.3g} > {SEPARATION_MAX_SE:g}")
    flags = [bool(reasons[str(t)]) for t in fixed["term"]]
    return flags, ["; ".join(reasons[str(t)]) for t in fixed["term"]]


def _adjust_family(terms: Sequence[str], variables: Sequence[str] | None) -> np.ndarray:
    """Which terms are adjusted together: all but the intercept, or those of ``variables``."""
    terms = [str(t) for t in terms]
    if variables is None:
        return np.array([t != "(Intercept)" for t in terms])
    names = [variables] if isinstance(variables, str) else list(variables)
    return np.array([t != "(Intercept)" and any(t.startswith(v) for v in names) for t in terms])


def adjusted_p(
    fixed: pd.DataFrame, adjust: str = "holm", variables: str | Sequence[str] | None = None
) -> np.ndarray:
    """``p_value_adj`` of a fixed-effects table: the ``p_value`` of the non-intercept terms
    (or of the terms of ``variables``) adjusted together (Holm 1979 by default, as R
    ``p.adjust``); NaN for the intercept and any term outside the family.  Call it again
    after rounding ``p_value``."""
    from vsdstats.stats.chisq import adjust_p

    if adjust not in ADJUST:
        raise InputError(f"adjust must be one of {', '.join(ADJUST)}, got {adjust!r}")
    fam = _adjust_family(list(fixed["term"]), variables)
    out = np.full(len(fixed), np.nan)
    out[fam] = adjust_p(fixed["p_value"].to_numpy(dtype=float)[fam], adjust)
    return out


def _finish(
    res: MixedLogitResult,
    d: pd.DataFrame,
    f: _Formula,
    adjust: str,
    adjust_vars: str | Sequence[str] | None,
    reference: dict[str, str],
) -> MixedLogitResult:
    fx = res.fixed
    fx.insert(fx.columns.get_loc("p_value") + 1, "p_value_adj", adjusted_p(fx, adjust, adjust_vars))
    flags, why = _separation(d, f, fx)
    fx["separation"] = flags
    fx["separation_reason"] = why
    res.adjust, res.reference = adjust, reference
    return res


def _separation_message(res: MixedLogitResult) -> str:
    fx = res.fixed[res.fixed["separation"]]
    terms = "; ".join(
        f"{t} ({r})" for t, r in zip(fx["term"], fx["separation_reason"], strict=True)
    )
    return (
        f"quasi-complete separation in {len(fx)} fixed term(s) of {res.formula!r}: {terms}. "
        "Their ML estimates, standard errors and p-values are not usable"
    )


# ---------------------------------------------------------------------------
# Public entry point

# ---------------------------------------------------------------------------


def mixed_logit(
    formula: str,
    data: pd.DataFrame,
    engine: str = "glmmTMB",
    conf: float = 0.95,
    *,
    ref: Mapping[str, str] | None = None,
    adjust: str = "holm",
    adjust_vars: str | Sequence[str] | None = None,
    separation: str = "flag",
) -> MixedLogitResult:
    """Fit a binomial GLMM with logit link (mixed logistic regression).

    ``formula`` is lme4 syntax, e.g. ``negative ~ condition + (1|platform) + (1|author)``;
    the response is a 0/1 (int or bool) column.  Only columns named in the formula are
    used (and sent to R); rows with a missing value in any of them are dropped with a
    warning.  String/categorical predictors become factors whose reference level is
    the first level (pandas Categorical order, else sorted unique values), unless
    ``ref`` names it: ``ref={"condition": "general"}`` puts that level first (R's
    ``relevel``); a column that is not a factor predictor of the formula, or a level
    not among its levels in the complete rows, raises ``InputError``.

    Engines:

    - ``"glmmTMB"`` (default): ``glmmTMB(formula, family = binomial)``, Laplace ML
      (Brooks et al. 2017); fast and converges reliably on large crossed designs.  Run
      single-threaded (``glmmTMBControl(parallel = 1)``): OpenMP reductions change the
      last digits from run to run, and published tables must be reproducible.
    - ``"lme4"``: ``glmer(formula, family = binomial,
      control = glmerControl(optimizer = "nloptwrap"))`` (Bates et al. 2015); the default
      bobyqa/Nelder-Mead optimizers are far slower on tens of thousands of authors.
    - ``"blme"``: penalized ML, ``blme::bglmer(formula, family = binomial,
      cov.prior = NULL, fixef.prior = normal(sd = c(10, 2.5)))``: the Laplace
      log-likelihood of glmer plus the log-density of independent normal priors on the
      fixed effects, N(0, 10^2) for the intercept and N(0, 2.5^2) for every other term
      (the weakly informative scale of Gelman et al. 2008 on the logit scale; Chung et
      al. 2013 for blme's penalized-likelihood estimators), no prior on the variances.
      Its estimates stay finite under separation; standard errors come from the
      Hessian of the penalized objective, so Wald tests of a separated term are
      conservative approximations, not exact tests.
    - ``"statsmodels"``: ``BinomialBayesMixedGLM.fit_vb`` (random intercepts only, no R
      needed).  Variational Bayes: means are close, standard errors too small, so the
      result has ``approximate=True`` and an ``ApproximateResultWarning`` is issued.

    Separation.  After the fit, every fixed term is checked (all engines): it is
    flagged (``separation`` True, the reasons in ``separation_reason``) when its level
    of a factor predictor has no events or no non-events among the fitted rows (a
    reference level without events flags the intercept and all terms of its factor),
    when ``|estimate| > 10`` on the logit scale, or when ``std_error > 100`` (or is not
    finite).  Flagged terms raise one :class:`SeparationWarning` naming them, also kept
    in ``result.warnings``.  ``separation="flag"`` (default) stops there;
    ``separation="penalize"`` then refits the model with ``engine="blme"`` (R and the
    blme package needed, whatever the engine) and returns that fit
    (``penalized=True``, the ML fit in ``unpenalized``); the flags still describe the
    ML fit and the data.

    Adjusted p-values.  ``p_value_adj`` adjusts the Wald p-values of all non-intercept
    fixed terms together (or only the terms of the columns in ``adjust_vars``, e.g.
    ``"condition"``), by Holm's step-down method by default (``adjust``: "holm",
    "bonferroni", "fdr_bh" or "none", as R ``p.adjust``; Holm 1979); NaN for the
    intercept and for terms outside that family.  With ``condition`` as the only
    predictor these are the condition-vs-reference contrasts.

    R warnings and messages (non-convergence, singular fit, ...) are re-emitted as
    ``vsdstats.r.bridge.RWarning`` and kept in ``result.warnings``.  ``conf`` sets the
    level of the Wald intervals ``estimate +/- z_{(1+conf)/2} * std_error``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not 0 < conf < 1:
        raise ValueError(f"conf must be between 0 and 1, got {conf!r}")
    if separation not in SEPARATION:
        raise InputError(f"separation must be one of {', '.join(SEPARATION)}, got {separation!r}")
    if adjust not in ADJUST:
        raise InputError(f"adjust must be one of {', '.join(ADJUST)}, got {adjust!r}")
    f = _parse_formula(formula)
    d = _prepare(data, f)
    reference = _apply_ref(d, f, ref)
    if engine == "statsmodels":
        res = _fit_statsmodels(f, formula, d, conf)
    else:
        res = _fit_r(f, formula, d, engine, conf)
    res.penalized = engine == "blme"
    res = _finish(res, d, f, adjust, adjust_vars, reference)
    if not res.separated:
        return res
    msg = _separation_message(res)
    if separation == "penalize" and engine != "blme":
        refit = _finish(_fit_r(f, formula, d, "blme", conf), d, f, adjust, adjust_vars, reference)
        refit.penalized, refit.unpenalized = True, res
        refit.fixed["separation"] = res.fixed["separation"].to_numpy()
        refit.fixed["separation_reason"] = [
            f"{r} (ML fit, {engine})" if r else "" for r in res.fixed["separation_reason"]
        ]
        msg += (
            f"; refitted by penalized ML (blme::bglmer, normal priors SD {PRIOR_SD[0]:g} on "
            f"the intercept and {PRIOR_SD[1]:g} on the other terms)"
        )
        res = refit
    elif res.penalized or res.approximate:
        msg += "; the fit is penalized (normal priors), so these estimates lean on the prior"
    else:
        msg += (
            "; refit with separation='penalize' (blme::bglmer, weakly informative priors) "
            "or merge the level with another"
        )
    warnings.warn(msg, SeparationWarning, stacklevel=2)
    res.warnings.append(msg)
    return res
