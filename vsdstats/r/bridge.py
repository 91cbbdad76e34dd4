"""The bridge to R through rpy2: availability checks and column-wise data frames.

rpy2 is imported lazily so that the pure-Python parts of vsdstats work without R.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from vsdstats.errors import EnvironmentProblem, VsdstatsError

# rpy2 releases that are known to work with a given R minor version range.
# rpy2 >= 3.6.7 / the 3.6.9 metapackage reference R_ParentEnv, added in R 4.5.
_RPY2_MAX_FOR_OLD_R = (3, 6, 6)


class RUnavailableError(EnvironmentProblem):
    """R or rpy2 is missing or the two do not match."""


@dataclass(frozen=True)
class RInfo:
    r_version: str
    rpy2_version: str
    r_home: str


def _rscript_version() -> str | None:
    exe = shutil.which("Rscript")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "--vanilla", "-e", "cat(paste(R.version$major, R.version$minor, sep='.'))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() or None


def _vtuple(v: str) -> tuple[int, ...]:
    parts = []
    for p in v.split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


@cache
def check_r() -> RInfo:
    """Check that R is installed, rpy2 imports, and their versions match.

    Raises RUnavailableError with a message telling how to fix it.
    """
    rver = _rscript_version()
    if rver is None:
        raise RUnavailableError(
            "R is not installed (no Rscript on PATH). On Debian/Ubuntu run "
            "`bash R/install_r.sh` as root (it apt-get installs r-base-core and the "
            "R packages vsdstats needs)."
        )
    try:
        from importlib.metadata import version as _pkg_version

        rpy2_ver = _pkg_version("rpy2-rinterface")
    except Exception:
        try:
            from importlib.metadata import version as _pkg_version

            rpy2_ver = _pkg_version("rpy2")
        except Exception:
            raise RUnavailableError(
                f"R {rver} is installed but rpy2 is not. Install the pinned build: "
                "pip install 'vsdstats[r]' (rpy2-rinterface==3.6.5, rpy2-robjects==3.6.6)."
            ) from None
    if _vtuple(rver) < (4, 5) and _vtuple(rpy2_ver) > _RPY2_MAX_FOR_OLD_R:
        raise RUnavailableError(
            f"rpy2 {rpy2_ver} needs R >= 4.5 but R {rver} is installed "
            "(it fails with 'undefined symbol: R_ParentEnv'). Install "
            "rpy2-rinterface==3.6.5 and rpy2-robjects==3.6.6 (or rpy2==3.5.17)."
        )
    saved_ld_path = os.environ.get("LD_LIBRARY_PATH")
    try:
        import rpy2.rinterface_lib.callbacks  # noqa: F401
        import rpy2.robjects as ro
    except Exception as exc:
        raise RUnavailableError(
            f"rpy2 {rpy2_ver} failed to load R {rver}: {exc}. If the message mentions an "
            "undefined symbol, the rpy2 build does not match this R; reinstall "
            "rpy2-rinterface==3.6.5 and rpy2-robjects==3.6.6 with --no-binary."
        ) from exc
    finally:
        _restore_env("LD_LIBRARY_PATH", saved_ld_path)
    embedded = ".".join(str(x) for x in ro.r("c(R.version$major, R.version$minor)"))
    if embedded != rver:
        raise RUnavailableError(
            f"rpy2 embeds R {embedded} but Rscript on PATH is R {rver}; set R_HOME to one R."
        )
    return RInfo(r_version=rver, rpy2_version=rpy2_ver, r_home=str(ro.r("R.home()")[0]))


def _restore_env(name: str, value: str | None) -> None:
    """Undo an environment change made by R's start-up.

    Embedded R puts its library folders (and the system's) in front of
    ``LD_LIBRARY_PATH``; Python subprocesses started later would inherit it and load
    the system's OpenSSL / libpython pieces instead of their own.  The running process
    is unaffected: the dynamic loader read the variable at start-up.
    """
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def r_available() -> bool:
    """True when check_r() succeeds."""
    try:
        check_r()
    except RUnavailableError:
        return False
    return True


# ---------------------------------------------------------------------------
# Column-wise pandas -> R data.frame conversion
# ---------------------------------------------------------------------------

_R_INT_MIN = -2147483647  # R integers are 32-bit; INT_MIN itself is NA_integer_.
_R_INT_MAX = 2147483647
_NA_INTEGER = np.int32(-2147483648)
# R's NA_real_ is a NaN whose low word is 1954 (R_IsNA tests exactly this payload).
_NA_REAL_BITS = np.int64(0x7FF00000000007A2)


class RWarning(UserWarning):
    """A warning or message emitted by R, re-emitted in Python."""


class RError(VsdstatsError, RuntimeError):
    """An error raised by R code run through :func:`r_eval`."""


def _robjects():
    check_r()
    import rpy2.rinterface as ri
    import rpy2.robjects as ro

    return ri, ro


def _int_sexp(codes: np.ndarray):
    ri, _ = _robjects()
    arr = np.ascontiguousarray(codes, dtype=np.int32)
    return ri.IntSexpVector.from_memoryview(memoryview(arr))


def _float_sexp(values: np.ndarray, na_mask: np.ndarray | None = None):
    ri, _ = _robjects()
    arr = np.array(values, dtype=np.float64, copy=True)
    mask = np.isnan(arr) if na_mask is None else (na_mask | np.isnan(arr))
    if mask.any():
        arr.view(np.int64)[mask] = _NA_REAL_BITS
    return ri.FloatSexpVector.from_memoryview(memoryview(arr))


def _with_class(vec, classes: list[str]):
    """Set the class through R's ``oldClass<-`` (a bare attribute would not mark it as an
    object, so R's internal dispatch, e.g. ``dim()`` on a data.frame, would not see it)."""
    ri, _ = _robjects()
    return ri.baseenv["oldClass<-"](vec, ri.StrSexpVector(classes))


def _factor_sexp(codes: np.ndarray, levels: list[str], ordered: bool = False):
    ri, _ = _robjects()
    if len(set(levels)) != len(levels):
        raise ValueError(f"factor levels are not unique as strings: {levels!r}")
    codes = np.asarray(codes, dtype=np.int64)
    out = np.where(codes < 0, _NA_INTEGER, codes + 1).astype(np.int32)
    vec = _int_sexp(out)
    vec.do_slot_assign("levels", ri.StrSexpVector([str(x) for x in levels]))
    return _with_class(vec, ["ordered", "factor"] if ordered else ["factor"])


def _column_to_sexp(name: str, s: pd.Series):
    """Convert one pandas column to an R vector (see :func:`to_r_dataframe`)."""
    ri, _ = _robjects()
    dtype = s.dtype
    na = s.isna().to_numpy()
    if isinstance(dtype, pd.CategoricalDtype):
        cats = list(dtype.categories)
        return _factor_sexp(s.cat.codes.to_numpy(), [str(c) for c in cats], bool(dtype.ordered))
    if pd.api.types.is_bool_dtype(dtype):
        vals = s.to_numpy(dtype=bool, na_value=False).astype(np.int32)
        vals[na] = _NA_INTEGER
        return ri.BoolSexpVector.from_memoryview(memoryview(np.ascontiguousarray(vals)))
    if pd.api.types.is_integer_dtype(dtype):
        vals = s.to_numpy(dtype=np.int64, na_value=0) if na.any() else s.to_numpy(np.int64)
        ok = vals[~na]
        if ok.size and (ok.min() < _R_INT_MIN or ok.max() > _R_INT_MAX):
            # Beyond R's 32-bit integer range: send doubles (exact up to 2**53).
            return _float_sexp(vals.astype(np.float64), na)
        out = vals.astype(np.int32)
        out[na] = _NA_INTEGER
        return _int_sexp(out)
    if pd.api.types.is_float_dtype(dtype):
        return _float_sexp(s.to_numpy(dtype=np.float64, na_value=np.nan), na)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        secs = ((s - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        vec = _float_sexp(secs, na)
        vec.do_slot_assign("tzone", ri.StrSexpVector(["UTC"]))
        return _with_class(vec, ["POSIXct", "POSIXt"])
    if pd.api.types.is_string_dtype(dtype) or dtype.kind == "O":
        vals = s.astype(object).where(~na, None)
        if dtype.kind == "O" and not all(isinstance(v, str) for v in vals[~na]):
            vals = vals.map(lambda v: None if v is None else str(v))
        codes, uniques = pd.factorize(vals, sort=True, use_na_sentinel=True)
        return _factor_sexp(codes, [str(u) for u in uniques])
    raise TypeError(f"column {name!r}: dtype {dtype} has no R conversion in to_r_dataframe")


def to_r_dataframe(df: pd.DataFrame):
    """Build an R ``data.frame`` from a pandas DataFrame, column by column.

    - strings / object columns -> factors, levels = sorted unique values;
      pandas Categorical -> factor keeping the category order (and unused levels),
      ordered Categorical -> ordered factor; missing -> ``NA_integer_`` codes;
    - integer (numpy or nullable ``Int64``) -> integer vector, ``<NA>`` -> ``NA_integer_``
      (values outside R's 32-bit range are sent as doubles);
    - float -> double, ``NaN``/``<NA>`` -> ``NA_real_``;
    - bool / nullable ``boolean`` -> logical;
    - datetime64 (naive taken as UTC, tz-aware converted) -> ``POSIXct`` with tzone UTC.

    The index is dropped (R gets automatic row names).  No pandas2ri conversion is
    used: data are copied into R vectors straight from numpy buffers.  Returns an
    ``rpy2.robjects.DataFrame``.
    """
    ri, ro = _robjects()
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate column names: {names!r}")
    cols = [_column_to_sexp(n, df.iloc[:, j]) for j, n in enumerate(names)]
    out = ri.ListSexpVector(cols)
    out.do_slot_assign("names", ri.StrSexpVector(names))
    out.do_slot_assign("row.names", ri.IntSexpVector([ri.NA_Integer, -len(df)]))
    return ro.vectors.DataFrame(_with_class(out, ["data.frame"]))


# ---------------------------------------------------------------------------
# Running R code with its warnings and messages surfaced in Python
# ---------------------------------------------------------------------------

_CAPTURE_R = r"""
function(.vsd_code, .vsd_env) {
  .w <- character(0)
  .m <- character(0)
  .err <- NULL
  .val <- tryCatch(
    withCallingHandlers(
      eval(parse(text = .vsd_code), envir = .vsd_env),
      warning = function(w) {
        .w <<- c(.w, conditionMessage(w))
        invokeRestart("muffleWarning")
      },
      message = function(m) {
        .m <<- c(.m, sub("\n$", "", conditionMessage(m)))
        invokeRestart("muffleMessage")
      }
    ),
    error = function(e) {
      .err <<- conditionMessage(e)
      NULL
    }
  )
  list(value = .val, warnings = .w, messages = .m, error = .err)
}
"""


@dataclass
class RCallResult:
    """Value of an R evaluation plus the warnings and messages it raised."""

    value: Any
    warnings: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def conditions(self) -> list[str]:
        """Warnings then messages, as one list of strings."""
        return [*self.warnings, *self.messages]


@cache
def _capture_fn():
    _, ro = _robjects()
    return ro.r(_CAPTURE_R)


def _to_sexp(value: Any):
    ri, _ = _robjects()
    if isinstance(value, pd.DataFrame):
        return to_r_dataframe(value)
    if isinstance(value, ri.Sexp):
        return value
    if isinstance(value, str):
        return ri.StrSexpVector([value])
    if isinstance(value, bool):
        return ri.BoolSexpVector([value])
    if isinstance(value, int):
        return ri.IntSexpVector([value])
    if isinstance(value, float):
        return ri.FloatSexpVector([value])
    if isinstance(value, pd.Series):
        return _column_to_sexp(str(value.name), value)
    raise TypeError(f"cannot send {type(value).__name__} to R")


def r_eval(code: str, *, emit: bool = True, stacklevel: int = 2, **variables: Any) -> RCallResult:
    """Evaluate R ``code`` in a fresh environment holding ``variables``.

    Each keyword becomes an R variable (DataFrames via :func:`to_r_dataframe`, Python
    scalars as length-1 vectors, rpy2 objects as they are).  The code runs inside
    ``withCallingHandlers``: R warnings and messages are muffled in R, collected, and
    (when ``emit``) re-emitted as Python ``RWarning``.  An R error raises ``RError``.
    """
    ri, ro = _robjects()
    env = ro.r["new.env"](parent=ro.globalenv)
    for name, value in variables.items():
        env[name] = _to_sexp(value)
    res = _capture_fn()(ri.StrSexpVector([code]), env)
    value, warns, msgs, err = (res[i] for i in range(4))
    warns, msgs = [str(x) for x in warns], [str(x) for x in msgs]
    if emit:
        _emit(warns, msgs, stacklevel + 1)
    if err is not ri.NULL and len(err):
        raise RError(f"R error: {err[0]}")
    return RCallResult(value, warns, msgs)


def _emit(warns: list[str], msgs: list[str], stacklevel: int) -> None:
    for w in warns:
        warnings.warn(f"R warning: {w}", RWarning, stacklevel=stacklevel)
    for m in msgs:
        warnings.warn(f"R message: {m}", RWarning, stacklevel=stacklevel)


@contextmanager
def r_warnings_as_python() -> Iterator[list[str]]:
    """Re-emit, as ``RWarning``, what R writes to its warning/error console in the block.

    For R code called directly through rpy2 (``robjects.r(...)``), where
    :func:`r_eval`'s handlers are not in place.  Yields the list of captured texts.
    """
    _robjects()
    from rpy2.rinterface_lib import callbacks

    captured: list[str] = []
    old = callbacks.consolewrite_warnerror
    callbacks.consolewrite_warnerror = captured.append
    try:
        yield captured
    finally:
        callbacks.consolewrite_warnerror = old
        text = "".join(captured).strip()
        if text:
            warnings.warn(f"R: {text}", RWarning, stacklevel=3)
