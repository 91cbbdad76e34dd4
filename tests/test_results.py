"""One result path for the engine and batch mode; one text normalization (issue 8 #18)."""

from __future__ import annotations

import asyncio

from fake_openai import FakeOpenAI
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.coding.batch import BatchRunner
from vsdstats.coding.engine import Engine, EngineConfig
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.store import RunKey, Store, text_key
from vsdstats.ingest import textnorm
from vsdstats.tables.codebook import load_codebook, parse_codebook

CB = load_codebook()


def _wider_codebook():
    """CB plus a 'telepathy' perspective: its response model admits a label CB lacks."""
    data = CB.model_dump(mode="json")
    cats = data["dimensions"]["perspective"]["categories"]
    cats.append({**cats[0], "code": "telepathy", "label": "Telepathy"})
    return parse_codebook(data, source="wider")


WIDE_SPEC = build_prompt(_wider_codebook())


def post(i: str) -> str:
    return f"Post {i}: I vented to ChatGPT about my anxiety last night and it calmed me down."


def test_label_outside_codebook_rejected_alike_by_engine_and_batch(tmp_path):
    """A response model wider than the codebook: both paths check the labels themselves."""
    t_engine, t_batch, t_ok = post("engine"), post("batch"), post("ok")
    with FakeOpenAI(render=WIDE_SPEC.messages, batch_delay=0.01) as srv:
        srv.script(t_engine, ["bad_label"])  # perspective = telepathy
        srv.script(t_batch, ["bad_label"])
        srv.add_texts([t_ok])
        cfg = EngineConfig(model="gpt-4o-mini", base_url=srv.base_url, timeout=5.0)
        key = RunKey(CB.version, cfg.model, WIDE_SPEC.prompt_hash)
        with Store(tmp_path / "study.sqlite") as store:
            asyncio.run(
                Engine(WIDE_SPEC, cfg, CB).run([(text_key(t_engine), t_engine)], store, key)
            )
            runner = BatchRunner(WIDE_SPEC, cfg, store, key, codebook=CB, poll_interval=0.01)
            items = [(text_key(t), t) for t in (t_batch, t_ok)]
            out = asyncio.run(runner.run(items))
            res = store.results(key)
    e, b, ok = res[text_key(t_engine)], res[text_key(t_batch)], res[text_key(t_ok)]
    assert out.requeue == [] and ok.status == "coded" and ok.units
    assert e.status == b.status == "failed" and e.units == b.units == []
    assert e.reason == b.reason
    assert e.reason.startswith("label outside the codebook") and "telepathy" in e.reason
    assert out.stats.statuses["failed"] == 1 and out.stats.texts == 2


_word = st.text(alphabet="abcXYZäÅﬁ0123456789", min_size=1, max_size=8)
_url = st.builds(
    lambda scheme, host, path: f"{scheme}{host}.example/{path}",
    st.sampled_from(["http://", "https://", "HTTPS://", "www."]),
    _word,
    _word,
)
_space = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "\u3000"])


@given(st.lists(st.tuples(st.one_of(_word, _url), _space), min_size=1, max_size=12))
def test_ingest_and_coding_agree_on_the_same_text(parts):
    text = "".join(w + s for w, s in parts)
    assert text_key(text) == textnorm.text_hash(text)
    without_urls = "".join(s if "example/" in w else w + s for w, s in parts)
    assert text_key(text) == text_key(without_urls)  # links are not what gets coded


def test_code_treats_link_variants_as_one_text_and_link_only_posts_as_empty(tmp_path):
    import pandas as pd
    from click.testing import CliRunner

    from vsdstats.cli import main

    spec = build_prompt(CB)
    base = post("links")
    rows = [
        ("a", f"{base} https://example.org/a?utm=1"),
        ("b", f"{base} https://example.org/b"),  # same text as a, but for its link
        ("c", "https://example.org/only-a-link"),
        ("d", ""),
    ]
    posts = tmp_path / "posts.csv"
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(posts, index=False)
    with FakeOpenAI(render=spec.messages) as srv:
        srv.add_texts([t for _, t in rows if t])
        args = ["code", str(posts), "--out", str(tmp_path / "s"), "--no-progress"]
        res = CliRunner().invoke(
            main, [*args, "--model", "gpt-4o-mini", "--base-url", srv.base_url], env={}
        )
        assert res.exit_code == 0, res.output
        assert srv.total == 1  # a and b coded once; the link-only post is not sent
    status = pd.read_csv(tmp_path / "s" / "post_status.csv").set_index("post_id")
    assert list(status["status"]) == ["coded", "coded", "not_relevant", "not_relevant"]
    assert status.loc["c", "text_hash"] == status.loc["d", "text_hash"]
