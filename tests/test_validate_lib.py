"""``vsdstats.validate`` as library code (gold tables, the per-post comparison, sampling
sheets), without the CLI.

Expected values come from plain-Python passes over the synthetic inputs (dicts and
loops), not from the pandas code under test.
"""

from __future__ import annotations

import random
from collections import Counter

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vsdstats.validate as validate
from vsdstats.errors import InputError
from vsdstats.tables.codebook import load_codebook
from vsdstats.validate.compare import collapse, run_validate, write_validation
from vsdstats.validate.gold import (
    SHEET_CODE_COLUMNS,
    ValidateError,
    parse_yes_no,
    read_coded,
    read_imhi,
)
from vsdstats.validate.sample import (
    allocate,
    coding_sheet,
    sample_posts,
    stratified_sample,
)

CB = load_codebook()
CONDITIONS = ["adhd", "anxiety", "depressive", "general"]
SENTIMENTS = ["positive", "neutral", "negative"]


def test_errors_and_package_face():
    assert issubclass(ValidateError, InputError) and issubclass(ValidateError, ValueError)
    assert validate.run_validate is run_validate and validate.allocate is allocate
    assert validate.ValidateError is ValidateError
    with pytest.raises(AttributeError):
        validate.no_such_name  # noqa: B018


# ------------------------------------------------------------------------ gold
def test_parse_yes_no_spellings_and_errors():
    s = pd.Series(["Yes", " no ", "TRUE", "f", 1, 0.0, "", None, float("nan"), "y", "N"])
    got = parse_yes_no(s, "g.csv", "relevant").tolist()
    want = ["yes", "no", "yes", "no", "yes", "no", pd.NA, pd.NA, pd.NA, "yes", "no"]
    assert [x if x is not pd.NA else "NA" for x in got] == [
        x if x is not pd.NA else "NA" for x in want
    ]
    with pytest.raises(ValidateError, match=r"g.csv: column 'relevant' row 3: 'maybe'"):
        parse_yes_no(pd.Series(["yes", "no", "maybe"]), "g.csv", "relevant")


def test_read_coded_file_and_study_folder(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    pd.DataFrame({"post_id": ["a"], "condition": ["adhd"]}).to_parquet(
        study / "coded_units.parquet", index=False
    )
    pd.DataFrame({"post_id": ["b"], "condition": ["anxiety"]}).to_csv(
        study / "coded_units.csv", index=False
    )
    assert read_coded(study)["post_id"].tolist() == ["a"]  # parquet first
    assert read_coded(study / "coded_units.csv")["post_id"].tolist() == ["b"]
    with pytest.raises(ValidateError, match=r"no coded_units\.parquet or \.csv"):
        read_coded(tmp_path)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"id": [1], "condition": ["adhd"]}).to_csv(bad, index=False)
    with pytest.raises(ValidateError, match="no column post_id; it has id, condition"):
        read_coded(bad)
    with pytest.raises(ValidateError, match=r"missing\.csv"):
        read_coded(tmp_path / "missing.csv")


def _imhi_frame(rnd: random.Random, n: int, question: str) -> tuple[pd.DataFrame, list]:
    queries, answers, want = [], [], []
    for i in range(1, n + 1):
        kind = rnd.randrange(5)
        post = f'post {i} with "quotes" inside'
        if kind == 0:
            queries.append(f"garbage {i}")
            answers.append("Yes.")
            want.append(None)
        elif kind == 1:
            queries.append(f'Consider this post: "{post}" Question: {question}')
            answers.append("Perhaps.")
            want.append(None)
        else:
            label = rnd.choice(["yes", "no"])
            queries.append(f'Consider this post: "{post}" Question: {question}')
            answers.append(f"{label.capitalize()}, reasoning follows.")
            want.append((f"row{i}", post, label))
    return pd.DataFrame({"query": queries, "answer": answers}), want


def test_read_imhi_reconciles_rows():
    df, want = _imhi_frame(random.Random(4), 60, "Does the poster suffer from anxiety?")
    imhi = read_imhi(df, CB)
    ok = [w for w in want if w is not None]
    assert imhi.field == "condition:anxiety"
    assert imhi.n_rows == 60 == len(imhi.posts) + len(imhi.unparsed)
    assert [r for r, _ in imhi.unparsed] == [i for i, w in enumerate(want, 1) if w is None]
    assert list(zip(imhi.posts["post_id"], imhi.posts["text"], strict=True)) == [
        (pid, text) for pid, text, _ in ok
    ]
    assert imhi.gold[imhi.field].tolist() == [label for *_, label in ok]
    other = read_imhi(_imhi_frame(random.Random(1), 5, "Is the poster happy?")[0], CB)
    assert other.field == "label"


# --------------------------------------------------------------------- compare
def _units(rnd: random.Random, posts: list[str]) -> pd.DataFrame:
    rows = []
    for pid in posts:
        k = rnd.randrange(4)  # 0..3 units
        idx = rnd.sample(range(10), k)
        for u in idx:
            rows.append(
                {
                    "post_id": pid,
                    "unit_index": u,
                    "condition": rnd.choice(CONDITIONS),
                    "sentiment": rnd.choice(SENTIMENTS),
                }
            )
    rnd.shuffle(rows)
    return pd.DataFrame(rows, columns=["post_id", "unit_index", "condition", "sentiment"])


def test_collapse_first_unit_and_presence_rule():
    rnd = random.Random(9)
    posts = [f"p{i}" for i in range(40)]
    units = _units(rnd, posts)
    first: dict[str, tuple[int, str]] = {}
    present: dict[str, set[str]] = {}
    for r in units.itertuples():
        if r.post_id not in first or r.unit_index < first[r.post_id][0]:
            first[r.post_id] = (r.unit_index, r.condition)
        present.setdefault(r.post_id, set()).add(r.condition)
    ids = pd.Index(posts)
    out = collapse(
        units, ["condition", "condition:adhd", "relevant"], ids, "post_id", "c", gold=False
    )
    assert out["post_id"].tolist() == posts
    for r in out.to_dict("records"):
        pid = r["post_id"]
        assert r["condition"] == (first[pid][1] if pid in first else None)
        assert r["condition:adhd"] == ("yes" if "adhd" in present.get(pid, set()) else "no")
        assert r["relevant"] == ("yes" if pid in first else "no")
    with pytest.raises(ValidateError, match="needs a column 'relevant'"):
        collapse(units, ["relevant"], ids, "post_id", "g", gold=True)
    with pytest.raises(ValidateError, match="needs a column 'perspective'"):
        collapse(units, ["perspective:ethics"], ids, "post_id", "c", gold=False)


def _gold(rnd: random.Random, posts: list[str]) -> pd.DataFrame:
    rows = []
    for pid in posts:
        coded = rnd.random() < 0.85  # the rest were not coded by the human
        rel = rnd.choice(["yes", "no"]) if coded else None
        rows.append(
            {
                "post_id": pid,
                "text": f"text of {pid}",
                "relevant": rel,
                "condition": rnd.choice(CONDITIONS) if rel == "yes" else None,
                "sentiment": rnd.choice(SENTIMENTS) if rel == "yes" else None,
            }
        )
    return pd.DataFrame(rows)


def test_run_validate_reconciles_with_a_plain_count(tmp_path):
    rnd = random.Random(21)
    posts = [f"p{i:03d}" for i in range(120)]
    gold = _gold(rnd, posts)
    units = _units(rnd, [*posts[::2], "x1", "x2"])  # two coded posts not in the gold sheet
    gold.to_csv(tmp_path / "gold.csv", index=False)
    units.to_parquet(tmp_path / "units.parquet", index=False)

    by_post: dict[str, list[tuple[int, str, str]]] = {}
    for r in units.itertuples():
        by_post.setdefault(r.post_id, []).append((r.unit_index, r.condition, r.sentiment))
    compared = [r for r in gold.itertuples() if r.relevant is not None and r.relevant == r.relevant]

    def partner(pid: str, condition: str) -> tuple[int, str, str] | None:
        """The one gold unit's match: the first coded unit with its condition, else the
        first coded unit (validate.units: condition first, then order)."""
        mine = sorted(by_post.get(pid, []))
        same = [u for u in mine if u[1] == condition]
        return (same or mine or [None])[0]

    def expected(field: str) -> tuple[int, float]:
        pairs = []
        for r in compared:
            g = getattr(r, field)
            if field == "relevant":
                c = "yes" if r.post_id in by_post else "no"
            else:
                f = partner(r.post_id, r.condition) if isinstance(r.condition, str) else None
                c = None if f is None else (f[1] if field == "condition" else f[2])
            if isinstance(g, str) and c is not None:
                pairs.append((g, c))
        return len(pairs), 100 * sum(g == c for g, c in pairs) / len(pairs)

    v = run_validate(str(tmp_path / "gold.csv"), str(tmp_path / "units.parquet"), codebook=CB)
    assert v.fields == ["relevant", "sentiment", "condition"]  # gold columns in both
    assert v.n_posts == len(compared)
    extra = len(set(units["post_id"]) - {r.post_id for r in compared})
    assert f"coded posts not in gold: {extra}" in "\n".join(v.header)
    s = v.result.summary.set_index("field")
    conf = v.result.confusion
    for f in v.fields:
        n, pct = expected(f)
        assert s.loc[f, "n"] == n, f
        assert s.loc[f, "percent_agreement"] == pytest.approx(pct), f
        assert conf.loc[conf["field"] == f, "n"].sum() == n, f
    paths = write_validation(v, tmp_path / "rep" / "report.md")
    assert [p.name for p in paths] == [
        "report.md",
        "report.summary.csv",
        "report.per_category.csv",
        "report.confusion.csv",
        "report.unit_summary.csv",
        "report.unit_pairs.csv",
    ]
    # unit counts of the summary recounted by hand over the compared posts
    us = v.units.set_index("measure")["value"]
    gold_units = sum(isinstance(r.condition, str) for r in compared)
    coded_units = sum(len(by_post.get(r.post_id, [])) for r in compared)
    assert us["gold units"] == gold_units and us["coded units"] == coded_units
    assert us["matched pairs"] == sum(
        isinstance(r.condition, str) and r.post_id in by_post for r in compared
    )
    assert all(p.is_file() for p in paths)
    md = paths[0].read_text()
    assert md.startswith(v.header[0]) and "## Confusion: condition" in md


def test_run_validate_with_the_baseline_writes_its_units(tmp_path):
    gold = pd.DataFrame(
        {
            "post_id": ["1", "2", "3"],
            "text": ["ChatGPT helps my anxiety", "nice weather", "Claude and my ADHD"],
            "relevant": ["yes", "no", "yes"],
        }
    )
    gold.to_csv(tmp_path / "g.csv", index=False)
    v = run_validate(str(tmp_path / "g.csv"), "baseline", codebook=CB)
    assert v.coded_units is not None and set(v.coded_units["post_id"]) <= {"1", "2", "3"}
    assert v.fields == ["relevant"] and v.n_posts == 3
    assert any("gated (LLM term required)" in h for h in v.header)
    paths = write_validation(v, tmp_path / "r.md")
    assert paths[-1].name == "r.units.csv" and len(pd.read_csv(paths[-1])) == len(v.coded_units)
    ungated = run_validate(str(tmp_path / "g.csv"), "baseline", codebook=CB, baseline_gate=False)
    assert any("ungated" in h for h in ungated.header)


def test_run_validate_refuses_unusable_inputs(tmp_path):
    pd.DataFrame({"id": ["1"], "relevant": ["yes"]}).to_csv(tmp_path / "noid.csv", index=False)
    pd.DataFrame({"post_id": ["1"], "relevant": ["yes"]}).to_csv(tmp_path / "g.csv", index=False)
    pd.DataFrame({"post_id": ["1"], "other": ["x"]}).to_csv(tmp_path / "o.csv", index=False)
    pd.DataFrame({"post_id": ["1"], "condition": ["adhd"]}).to_csv(tmp_path / "c.csv", index=False)
    cases = [
        ("noid.csv", "c.csv", "no column 'post_id'"),
        ("g.csv", "baseline", "needs a column 'text'"),
        ("o.csv", "c.csv", "no field in common"),
    ]
    for gold, coded, needle in cases:
        coded = coded if coded == "baseline" else str(tmp_path / coded)
        with pytest.raises(ValidateError, match=needle):
            run_validate(str(tmp_path / gold), coded, codebook=CB)


# ---------------------------------------------------------------------- sample
@given(
    st.dictionaries(st.text("abcxyz|", min_size=1, max_size=3), st.integers(0, 40), max_size=8),
    st.integers(0, 150),
)
def test_allocate_invariants(sizes, n):
    alloc = allocate(sizes, n)
    total = sum(sizes.values())
    nonempty = [k for k, s in sizes.items() if s > 0]
    assert set(alloc) == set(sizes)
    assert sum(alloc.values()) == min(n, total)
    assert all(0 <= alloc[k] <= sizes[k] for k in sizes)
    if len(nonempty) <= n:
        assert all(alloc[k] >= 1 for k in nonempty)
    assert alloc == allocate(dict(reversed(list(sizes.items()))), n)  # order-free


def _posts(rnd: random.Random, n: int) -> pd.DataFrame:
    plats = rnd.choices(["reddit", "x", "bluesky", "mastodon"], weights=[6, 3, 1, 1], k=n)
    return pd.DataFrame(
        {
            "platform": plats,
            "post_id": [f"p{i:04d}" for i in range(n)],
            "text": [f"synthetic post {i}" for i in range(n)],
        }
    )


@pytest.mark.parametrize("n", [1, 3, 25, 400])
def test_stratified_sample_matches_the_allocation(n):
    posts = _posts(random.Random(n), 300)
    sizes = Counter(posts["platform"])
    want = allocate(dict(sizes), n)
    s = stratified_sample(posts, n, ["platform"], seed=5)
    assert len(s) == min(n, len(posts)) and s["post_id"].is_unique
    assert set(s["post_id"]) <= set(posts["post_id"])
    got = Counter(s["stratum"])
    assert {k: got.get(k, 0) for k in want} == want
    assert (s["stratum"] == s["platform"]).all()
    # pi: drawn / stratum size, so the inverse weights sum to each stratum's size
    weights = (1 / s["pi"]).groupby(s["stratum"]).sum()
    for k, w in weights.items():
        assert w == pytest.approx(sizes[k])
    text = dict(zip(posts["post_id"], posts["text"], strict=True))
    assert all(text[p] == t for p, t in zip(s["post_id"], s["text"], strict=True))
    shuffled = posts.sample(frac=1, random_state=1)
    assert stratified_sample(shuffled, n, ["platform"], seed=5)["post_id"].tolist() == (
        s["post_id"].tolist()
    )


def test_stratified_sample_by_a_code_from_units_and_errors():
    posts = _posts(random.Random(0), 50)
    units = pd.DataFrame(
        {
            "post_id": list(posts["post_id"][:20]) * 2,
            "unit_index": [1] * 20 + [0] * 20,
            "condition": ["adhd"] * 20 + ["anxiety"] * 20,  # unit 0 is the first: anxiety
        }
    )
    s = stratified_sample(posts, 50, ["condition"], seed=1, units=units)
    by_post = dict(zip(s["post_id"], s["stratum"], strict=True))
    assert {by_post[p] for p in posts["post_id"][:20]} == {"anxiety"}
    assert {by_post[p] for p in posts["post_id"][20:]} == {"(no units)"}
    with pytest.raises(ValidateError, match=r"no column 'condition' .*--units"):
        stratified_sample(posts, 5, ["condition"], seed=1)
    with pytest.raises(ValidateError, match="at least 1"):
        stratified_sample(posts, 0, ["platform"], seed=1)
    with pytest.raises(ValidateError, match="src: no column 'text'"):
        stratified_sample(posts.drop(columns="text"), 5, ["platform"], seed=1, source="src")


def test_sample_posts_from_a_study_folder_and_the_sheet(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    posts = _posts(random.Random(3), 40)
    posts.to_parquet(study / "posts.parquet", index=False)
    units = pd.DataFrame({"post_id": posts["post_id"][:10], "condition": ["adhd"] * 10})
    units.to_csv(study / "coded_units.csv", index=False)
    s, src = sample_posts(study, 40, ["condition"], seed=2)
    assert src == study / "posts.parquet"
    assert Counter(s["stratum"]) == {"adhd": 10, "(no units)": 30}  # units found in STUDY
    other = tmp_path / "other.csv"
    pd.DataFrame({"post_id": posts["post_id"], "condition": ["anxiety"] * 40}).to_csv(
        other, index=False
    )
    s2, _ = sample_posts(study, 40, ["condition"], seed=2, units_path=other)
    assert Counter(s2["stratum"]) == {"anxiety": 40}  # --units wins over STUDY's units
    with pytest.raises(ValidateError, match=r"no posts\.parquet or \.csv"):
        sample_posts(tmp_path, 5, ["platform"], seed=2)

    sheet = coding_sheet(s)
    assert list(sheet.columns) == [
        "coder",
        "post_id",
        "platform",
        "text",
        "unit",
        *SHEET_CODE_COLUMNS,
    ]
    assert (sheet[list(SHEET_CODE_COLUMNS)] == "").all().all()
    assert sorted(sheet["post_id"]) == sorted(s["post_id"])
