"""One counter base (vsdstats.tally) behind ingest's and coding's bookkeeping (issue 9)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from vsdstats.coding.results import RunStats
from vsdstats.coding.store import TextResult
from vsdstats.ingest.report import FileCounts, IngestReport

small = st.integers(0, 50)
results = st.lists(
    st.builds(
        TextResult,
        text_hash=st.text("abc", min_size=1, max_size=3),
        status=st.sampled_from(["coded", "not_relevant", "failed"]),
        requests=small,
        http_retries=small,
        validation_retries=small,
        prompt_tokens=small,
        completion_tokens=small,
        cached_tokens=small,
        cost_usd=st.one_of(st.none(), st.floats(0, 1)),
    ),
    max_size=20,
)


@given(results, st.integers(0, 20))
def test_run_stats_add_and_merge_equal_independent_sums(rs, cut):
    whole, left, right = RunStats(), RunStats(), RunStats()
    for i, r in enumerate(rs):
        whole.add(r)
        (left if i < cut else right).add(r)
    left.elapsed_s, right.elapsed_s = 3.0, 4.0
    left.merge(right)
    for stats in (whole, left):
        assert stats.texts == len(rs)
        assert stats.statuses == Counter(r.status for r in rs)
        assert stats.requests == sum(r.requests for r in rs)
        assert stats.cached_tokens == sum(r.cached_tokens for r in rs)
        assert stats.prompt_tokens == sum(r.prompt_tokens for r in rs)
        if any(r.cost_usd is None for r in rs):
            assert stats.cost_usd is None  # one unknown cost makes the total unknown
        else:
            assert abs(stats.cost_usd - sum(r.cost_usd for r in rs)) < 1e-9
    assert left.elapsed_s == 3.0  # wall time is not a sum


def test_count_false_adds_tokens_but_not_the_text():
    s = RunStats()
    s.add(TextResult("h", "coded", requests=2, prompt_tokens=5), count=False)
    assert (s.texts, s.requests, s.prompt_tokens, sum(s.statuses.values())) == (0, 2, 5, 0)


counts = st.builds(
    FileCounts,
    file=st.just("f"),
    format=st.sampled_from([None, "ndjson"]),
    read=small,
    kept=small,
    duplicates=small,
    rejected=small,
    reasons=st.dictionaries(st.sampled_from("xyz"), st.integers(1, 5)).map(Counter),
)


@given(st.lists(counts, max_size=6))
def test_report_totals_are_the_sums_of_its_files(files):
    report = IngestReport(platform="p", out="o", files=files)
    assert report.read == sum(f.read for f in files)
    assert report.kept == sum(f.kept for f in files)
    assert report.rejected == sum(f.rejected for f in files)
    want: Counter[str] = Counter()
    for f in files:
        want.update(f.reasons)
    assert report.reasons == want
    assert report.to_dict()["totals"]["duplicates"] == sum(f.duplicates for f in files)
    assert all(f.format in (None, "ndjson") for f in files)  # text fields left alone
