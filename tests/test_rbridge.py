"""Tests for vsdstats.r.bridge: column-wise data.frame conversion and R warning capture.

References are R itself: values are read back with R code, and a CSV of the same
frame read by R's read.csv must be identical() to the converted data.frame.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.r.bridge import RError, RWarning, r_eval, r_warnings_as_python, to_r_dataframe

pytestmark = pytest.mark.needs_r


def rcall(r, code: str, df):
    """Run ``function(d) <code>`` in R on the converted frame ``df``; return a list."""
    return list(r(f"function(d) {{ {code} }}")(df))


def test_categorical_levels_order_and_unused_levels(r):
    cat = pd.Categorical(["z", "a", None, "z", "a"], categories=["z", "m", "a"])
    ordc = pd.Categorical(
        ["lo", "hi", "mid", None, "lo"], categories=["lo", "mid", "hi"], ordered=True
    )
    rdf = to_r_dataframe(pd.DataFrame({"c": cat, "o": ordc}))
    assert rcall(r, "levels(d$c)", rdf) == ["z", "m", "a"]
    assert rcall(r, "as.character(class(d$c))", rdf) == ["factor"]
    assert rcall(r, "ifelse(is.na(d$c), -1L, as.integer(d$c))", rdf) == [1, 3, -1, 1, 3]
    assert rcall(r, "as.character(class(d$o))", rdf) == ["ordered", "factor"]
    assert rcall(r, "levels(d$o)", rdf) == ["lo", "mid", "hi"]
    assert rcall(r, "as.logical(d$o[1] < d$o[2])", rdf) == [True]


def test_strings_become_factors_with_sorted_levels_and_na(r):
    s = pd.Series(["pear", "apple", None, "fig", "apple"], dtype="str")
    o = pd.Series(["b", 3, None, "a", 3], dtype=object)  # mixed objects -> strings
    rdf = to_r_dataframe(pd.DataFrame({"s": s, "o": o}))
    assert rcall(r, "levels(d$s)", rdf) == ["apple", "fig", "pear"]
    assert rcall(r, "is.na(d$s)", rdf) == [False, False, True, False, False]
    assert rcall(r, "as.character(d$s)[-3]", rdf) == ["pear", "apple", "fig", "apple"]
    assert rcall(r, "levels(d$o)", rdf) == ["3", "a", "b"]


def test_nullable_int_na_is_na_integer(r):
    x = pd.array([5, None, -7, 2147483647, None, 0], dtype="Int64")
    rdf = to_r_dataframe(pd.DataFrame({"x": x}))
    assert rcall(r, "typeof(d$x)", rdf) == ["integer"]
    assert rcall(r, "is.na(d$x)", rdf) == [False, True, False, False, True, False]
    assert rcall(r, "d$x[!is.na(d$x)]", rdf) == [5, -7, 2147483647, 0]
    # no sentinel garbage: sum over non-NA equals pandas' sum
    assert rcall(r, "sum(as.numeric(d$x), na.rm = TRUE)", rdf) == [float(x.sum())]


def test_numpy_ints_in_and_out_of_r_range(r):
    rdf = to_r_dataframe(
        pd.DataFrame({"small": np.array([1, -2, 3], dtype=np.int16), "big": [2**40, 1, -(2**35)]})
    )
    assert rcall(r, "typeof(d$small)", rdf) == ["integer"]
    assert rcall(r, "d$small", rdf) == [1, -2, 3]
    assert rcall(r, "typeof(d$big)", rdf) == ["double"]
    assert rcall(r, "d$big", rdf) == [2.0**40, 1.0, -(2.0**35)]


def test_float_nan_becomes_na_real(r):
    f = pd.Series([1.5, np.nan, -np.inf, None, 2.25e-300])
    f32 = pd.Series([0.5, np.nan, 1.0], dtype=np.float32)
    nf = pd.array([0.1, None, 3.0], dtype="Float64")
    rdf = to_r_dataframe(pd.DataFrame({"f": f}))
    assert rcall(r, "is.na(d$f)", rdf) == [False, True, False, True, False]
    assert rcall(r, "is.nan(d$f)", rdf) == [False] * 5  # NA_real_, not NaN
    assert rcall(r, "d$f[c(1, 3, 5)]", rdf) == [1.5, -np.inf, 2.25e-300]
    rdf2 = to_r_dataframe(pd.DataFrame({"f32": f32, "nf": nf}))
    assert rcall(r, "is.na(d$f32)", rdf2) == [False, True, False]
    assert rcall(r, "is.na(d$nf)", rdf2) == [False, True, False]
    assert rcall(r, "d$nf[c(1, 3)]", rdf2) == [0.1, 3.0]


def test_bool_and_nullable_boolean(r):
    rdf = to_r_dataframe(
        pd.DataFrame(
            {
                "b": [True, False, True],
                "nb": pd.array([None, True, False], dtype="boolean"),
            }
        )
    )
    assert rcall(r, "typeof(d$b)", rdf) == ["logical"]
    assert rcall(r, "d$b", rdf) == [True, False, True]
    assert rcall(r, "is.na(d$nb)", rdf) == [True, False, False]
    assert rcall(r, "d$nb[-1]", rdf) == [True, False]


def test_datetimes_are_posixct_utc(r):
    naive = pd.Series(pd.to_datetime(["2024-01-01 12:30:00", None, "1969-12-31 23:59:59"]))
    aware = naive.dt.tz_localize("Europe/Berlin")
    rdf = to_r_dataframe(pd.DataFrame({"naive": naive, "aware": aware}))
    assert rcall(r, "as.character(class(d$naive))", rdf) == ["POSIXct", "POSIXt"]
    assert rcall(r, "attr(d$aware, 'tzone')", rdf) == ["UTC"]
    ok = rcall(
        r,
        "c(identical(unclass(d$naive[c(1, 3)]), "
        "unclass(as.POSIXct(c('2024-01-01 12:30:00', '1969-12-31 23:59:59'), tz = 'UTC'))), "
        "is.na(d$naive[2]), "
        "identical(format(d$aware[1], '%H:%M', tz = 'UTC'), '11:30'))",
        rdf,
    )
    assert ok == [True, True, True]


def test_shape_names_and_rownames(r):
    df = pd.DataFrame({"a b": [1, 2, 3], "c": ["x", "y", "x"]}, index=[10, 20, 30])
    rdf = to_r_dataframe(df)
    assert rcall(r, "dim(d)", rdf) == [3, 2]
    assert rcall(r, "names(d)", rdf) == ["a b", "c"]
    assert rcall(r, "as.character(rownames(d))", rdf) == ["1", "2", "3"]
    assert rcall(r, "as.character(class(d))", rdf) == ["data.frame"]


def test_equals_what_r_reads_from_csv(r, tmp_path):
    df = pd.DataFrame(
        {
            "word": ["delta", "alpha", None, "charlie", "alpha", "bravo"],
            "n": pd.array([3, None, 0, -12, 7, 100000], dtype="Int64"),
            "x": [0.1, np.nan, 1e-12, -3.5, 1 / 3, 2.0],
            "flag": [True, False, False, True, True, False],
        }
    )
    path = tmp_path / "frame.csv"
    df.to_csv(path, index=False, na_rep="NA", float_format="%.17g")
    theirs = r(
        f"read.csv('{path.as_posix()}', na.strings = 'NA', "
        "colClasses = c('factor', 'integer', 'numeric', 'logical'))"
    )
    same = r("function(a, b) identical(a, b)")(to_r_dataframe(df), theirs)
    assert list(same) == [True]


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=6,
)


@given(
    ints=st.lists(
        st.one_of(st.none(), st.integers(-(2**31) + 1, 2**31 - 1)), min_size=1, max_size=25
    ),
    floats=st.lists(
        st.one_of(st.none(), st.floats(allow_nan=True, width=64)), min_size=25, max_size=25
    ),
    texts=st.lists(st.one_of(st.none(), _text), min_size=25, max_size=25),
)
def test_roundtrip_property(r, ints, floats, texts):
    n = len(ints)
    floats, texts = floats[:n], texts[:n]
    df = pd.DataFrame(
        {
            "i": pd.array(ints, dtype="Int64"),
            "f": pd.Series(floats, dtype=float),
            "s": pd.Series(texts, dtype=object),
        }
    )
    rdf = to_r_dataframe(df)
    i_na = [v is None for v in ints]
    assert rcall(r, "is.na(d$i)", rdf) == i_na
    assert rcall(r, "ifelse(is.na(d$i), 0L, d$i)", rdf) == [0 if v is None else v for v in ints]
    f_na = [v is None or np.isnan(v) for v in floats]
    assert rcall(r, "is.na(d$f)", rdf) == f_na
    assert rcall(r, "d$f[!is.na(d$f)]", rdf) == [
        v for v, m in zip(floats, f_na, strict=True) if not m
    ]
    s_na = [v is None for v in texts]
    present = [v for v in texts if v is not None]
    assert rcall(r, "is.na(d$s)", rdf) == s_na
    assert rcall(r, "as.character(d$s[!is.na(d$s)])", rdf) == present
    assert rcall(r, "levels(d$s)", rdf) == sorted(set(present))


def test_unsupported_dtype_raises():
    with pytest.raises(TypeError, match="'z'"):
        to_r_dataframe(pd.DataFrame({"z": [1 + 2j, 3j]}))


def test_r_eval_reemits_warnings_and_messages():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = r_eval(
            "message('hello'); warning('careful'); nrow(d) * k",
            d=pd.DataFrame({"a": [1, 2, 3]}),
            k=2,
        )
    assert list(res.value) == [6]
    assert res.warnings == ["careful"] and res.messages == ["hello"]
    texts = [str(w.message) for w in caught if issubclass(w.category, RWarning)]
    assert texts == ["R warning: careful", "R message: hello"]


def test_r_eval_silent_and_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = r_eval("as.numeric(x) + 1", x=1.5)
        assert list(res.value) == [2.5]
        quiet = r_eval("warning('w'); 1L", emit=False)
        assert quiet.warnings == ["w"]
    with pytest.raises(RError, match="it broke"):
        r_eval("stop('it broke')")


def test_console_context_manager(r):
    with pytest.warns(RWarning, match="from the console"):
        with r_warnings_as_python() as captured:
            r("message('from the console')")
    assert "from the console" in "".join(captured)


def test_r_startup_does_not_leak_library_path_to_python_children(r):
    """Embedded R prepends its (and the system's) library folders to LD_LIBRARY_PATH; a
    Python child inheriting that can load the wrong OpenSSL.  check_r() undoes it."""
    import os
    import subprocess
    import sys

    assert "/usr/lib/R/lib" not in os.environ.get("LD_LIBRARY_PATH", "")
    out = subprocess.run(
        [sys.executable, "-c", "import ssl, sqlite3; print('ok')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
