"""``vsdstats code``: code posts against the codebook with an LLM (or the offline baseline).

Identical texts (after NFKC, casefolding, link removal and whitespace collapsing: the
same definition as ingest's duplicate texts, :mod:`vsdstats.ingest.textnorm`) are coded once
and the result is mapped to every post with that text; a text with nothing left to code
(blank, or only links) is ``not_relevant`` without a request.  Results live in
``STUDY/study.sqlite`` (see :mod:`vsdstats.coding.store`): a rerun sends no request
for finished texts, and a killed run resumes where it stopped.  Outputs in STUDY:
``coded_units.parquet/.csv``, ``post_status.parquet/.csv`` and ``code_summary.json``.
The API key is read from an environment variable and never printed or written; a
``--base-url`` carrying credentials (``user:password@``, ``?api-key=...``) is stored and
printed only redacted (:func:`vsdstats.coding.redact.redact_url`).
``--workers N`` codes in N processes (see :mod:`vsdstats.coding.parallel`), each reading
the key from the same environment variable.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import pandas as pd

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DUMMY_KEY = "not-needed"


def _fail(msg: str, code: int = 2) -> None:
    click.echo(f"vsdstats: error: {msg}", err=True)
    sys.exit(code)


def load_posts(path: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Posts (post_id, text, ...) from a table or ``STUDY/posts.parquet``, with ``text_hash``."""
    from vsdstats.coding.store import text_key
    from vsdstats.tables.io import read_table
    from vsdstats.tables.models import SchemaError, validate_frame

    p = Path(path)
    if p.is_dir():
        p = p / "posts.parquet"
    df = read_table(p)
    if limit is not None:
        df = df.head(limit)
    if {"platform", "created_at"} <= set(df.columns):
        try:
            df = validate_frame(df, kind="post", source=str(p))
        except SchemaError as exc:
            raise ValueError(str(exc)) from None
    missing = [c for c in ("post_id", "text") if c not in df.columns]
    if missing:
        raise ValueError(f"{p}: missing column(s) {', '.join(missing)}")
    if df["post_id"].isna().any():
        raise ValueError(f"{p}: column 'post_id' has missing values")
    df = df.assign(post_id=df["post_id"].astype("string"), text=df["text"].fillna("").astype(str))
    return df.assign(text_hash=[text_key(t) for t in df["text"]]).reset_index(drop=True)


class _Progress:
    """A rich progress bar on stderr counting posts; a no-op when disabled."""

    def __init__(self, enabled: bool, total: int, posts_per_text: dict[str, int]) -> None:
        self.per_text = posts_per_text
        self.tokens = 0
        self.cost: float | None = 0.0
        self.bar: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("coding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("posts"),
            TextColumn("{task.fields[rate]} posts/s"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[tokens]} tok  {task.fields[cost]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self.t0 = time.perf_counter()
        self.task = self.bar.add_task("code", total=total, rate="-", tokens=0, cost="$0")

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, r: Any) -> None:
        self.tokens += r.prompt_tokens + r.completion_tokens
        if self.cost is not None:
            self.cost = None if r.cost_usd is None else self.cost + r.cost_usd
        if self.bar is None:
            return
        self.bar.advance(self.task, self.per_text.get(r.text_hash, 1))
        done = self.bar.tasks[0].completed
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        cost = "cost unknown" if self.cost is None else f"${self.cost:.4f}"
        self.bar.update(self.task, rate=f"{rate:.1f}", tokens=f"{self.tokens:,}", cost=cost)


def summarize(
    status: pd.DataFrame, stats: Any, *, distinct: int, skipped: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """The reconciliation: posts in = coded + not_relevant + failed, and what it cost."""
    counts = status["status"].value_counts().to_dict()
    coded, nrel, failed = (int(counts.get(s, 0)) for s in ("coded", "not_relevant", "failed"))
    cost = stats.cost_usd
    return {
        "posts_in": len(status),
        "coded": coded,
        "not_relevant": nrel,
        "failed": failed,
        "reconciles": len(status) == coded + nrel + failed,
        "units": int(status["n_units"].sum()),
        "distinct_texts": distinct,
        "texts_already_done": skipped,
        "texts_sent": stats.texts,
        "requests": stats.requests,
        "http_retries": stats.http_retries,
        "validation_retries": stats.validation_retries,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "cached_tokens": stats.cached_tokens,
        "cost_usd": "unknown" if cost is None else round(cost, 6),
        "failure_reasons": status.loc[status["status"] == "failed", "reason"]
        .value_counts()
        .head(10)
        .to_dict(),
        **extra,
    }


def print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="vsdstats code", title_justify="left", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for k, v in summary.items():
        if k == "failure_reasons":
            continue
        shown = f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
        t.add_row(k.replace("_", " "), shown)
    con = Console(stderr=True)
    con.print(t)
    ok = "holds" if summary["reconciles"] else "DOES NOT HOLD"
    con.print(f"posts in = coded + not relevant + failed: {ok}")
    for reason, n in summary["failure_reasons"].items():
        con.print(f"  failed {n:,}: {reason}")


@click.command("code")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True),
    help="posts table (.parquet/.csv/... with post_id and text) or a study folder",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="study folder for study.sqlite and the outputs (default: the input folder)",
)
@click.option(
    "--model", default=None, help="model name, e.g. gpt-4o-mini (required unless --baseline)"
)
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint (default: OpenAI)")
@click.option(
    "--api-key-env",
    default=DEFAULT_KEY_ENV,
    show_default=True,
    help="environment variable holding the API key (never printed or stored)",
)
@click.option(
    "--mode",
    type=click.Choice(["json", "tools", "json_schema", "md_json"]),
    default="tools",
    show_default=True,
    help="instructor mode (json: for servers without tool calling)",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="requests in flight",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="processes coding in parallel (concurrency, --rpm and --tpm split evenly across them)",
)
@click.option("--rpm", type=float, default=None, help="requests per minute limit")
@click.option("--tpm", type=float, default=None, help="tokens per minute limit")
@click.option(
    "--max-retries",
    type=click.IntRange(0),
    default=2,
    show_default=True,
    help="validation retries (the error is fed back to the model)",
)
@click.option(
    "--http-retries",
    type=click.IntRange(0),
    default=6,
    show_default=True,
    help="retries on 429, 5xx, timeouts and dropped connections",
)
@click.option(
    "--timeout", type=float, default=60.0, show_default=True, help="per-request timeout (s)"
)
@click.option("--baseline", is_flag=True, help="offline baseline coder instead of an LLM")
@click.option("--batch", "batch", is_flag=True, help="OpenAI Batch API (half price, slow)")
@click.option(
    "--poll-interval",
    type=float,
    default=30.0,
    show_default=True,
    help="--batch: seconds between status polls",
)
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False), default=None)
@click.option("--limit", type=click.IntRange(1), default=None, help="only the first N posts")
@click.option("--no-retry-failed", is_flag=True, help="keep failed texts failed on a rerun")
@click.option("--price-in", type=float, default=None, help="USD per 1M input tokens")
@click.option("--price-out", type=float, default=None, help="USD per 1M output tokens")
@click.option("--durable", is_flag=True, help="fsync every commit (synchronous=FULL)")
@click.option("--no-progress", is_flag=True, help="no progress bar")
def code_cmd(**kw: Any) -> None:
    """Code posts against the VSD codebook with an LLM (instructor + OpenAI API)."""
    sys.exit(run_code(**kw))


def run_code(**kw: Any) -> int:
    from vsdstats.coding.redact import Redactor, redact_url
    from vsdstats.coding.store import RunKey, Store, post_tables, write_outputs
    from vsdstats.ingest.textnorm import EMPTY_HASH
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.tables.io import TableError

    inp = Path(kw["input_path"])
    out = Path(kw["out"]) if kw["out"] else (inp if inp.is_dir() else None)
    if out is None:
        _fail("--out STUDY is required when --input is a file")
    if not kw["baseline"] and not kw["model"]:
        _fail("--model is required (or use --baseline)")
    if kw["baseline"] and kw["batch"]:
        _fail("--baseline and --batch exclude each other")
    if kw["workers"] > 1 and (kw["baseline"] or kw["batch"]):
        mode = "--baseline" if kw["baseline"] else "--batch"
        _fail(f"--workers > 1 is for LLM requests only; {mode} runs in one process (--workers 1)")
    try:
        cb = load_codebook(kw["codebook_path"])
        posts = load_posts(inp, kw["limit"])
    except (CodebookError, TableError, ValueError) as exc:
        _fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    first = posts.drop_duplicates("text_hash")
    distinct = dict(zip(first["text_hash"], first["text"], strict=True))
    per_text = posts["text_hash"].value_counts().to_dict()

    with Store(out / "study.sqlite", durable=kw["durable"]) as store:
        if kw["baseline"]:
            from vsdstats.coding.baseline import MODEL_NAME

            key = RunKey(cb.version, MODEL_NAME, f"baseline:{cb.sha256[:16]}")
        else:
            from vsdstats.coding.prompt import build_prompt

            spec = build_prompt(cb)
            key = RunKey(spec.codebook_version, kw["model"], spec.prompt_hash)
        done = store.done(key, include_failed=kw["no_retry_failed"])
        todo = [(h, t) for h, t in distinct.items() if h not in done and h != EMPTY_HASH]
        settings = {k: v for k, v in kw.items() if k != "api_key_env"}
        settings["base_url"] = redact_url(kw["base_url"])
        run_id = store.start_run({**settings, "key": key.__dict__})
        n_todo = sum(per_text[h] for h, _ in todo)
        with _Progress(not kw["no_progress"] and bool(todo), n_todo, per_text) as prog:
            try:
                if kw["baseline"]:
                    stats = _run_baseline(cb, todo, store, key, prog)
                else:
                    stats = _run_llm(spec, cb, todo, store, key, prog, kw)
            except KeyboardInterrupt:
                click.echo("interrupted: finished texts are saved; rerun to resume", err=True)
                return 130
            except Exception as exc:  # e.g. the batch API refusing: one redacted line
                redact = Redactor(os.environ.get(kw["api_key_env"]), kw["base_url"])
                msg = redact(" ".join(f"{type(exc).__name__}: {exc}".split()))
                _fail(f"coding stopped: {msg} (finished texts are saved; rerun to resume)", 1)
        results = store.results(key, distinct)
        units, status = post_tables(posts, results)
        written = write_outputs(out, units, status)
        extra = {
            "coder": "baseline" if kw["baseline"] else "llm",
            "model": key.model,
            "mode": None if kw["baseline"] else ("batch" if kw["batch"] else kw["mode"]),
            "codebook_version": key.codebook_version,
            "prompt_hash": key.prompt_hash,
            "elapsed_s": round(time.perf_counter() - t0, 3),
        }
        summary = summarize(
            status, stats, distinct=len(distinct), skipped=len(done & distinct.keys()), extra=extra
        )
        store.finish_run(run_id, summary)
    (out / "code_summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    print_summary(summary)
    click.echo(
        f"wrote {', '.join(str(p) for p in written)} and {out / 'code_summary.json'}", err=True
    )
    return 0


def _run_baseline(cb: Any, todo: list[tuple[str, str]], store: Any, key: Any, prog: Any) -> Any:
    from vsdstats.coding.baseline import BaselineCoder
    from vsdstats.coding.engine import RunStats
    from vsdstats.coding.results import PLACEHOLDER_POST_ID
    from vsdstats.coding.store import TextResult

    coder = BaselineCoder(cb)
    stats = RunStats()
    for h, text in todo:
        t = time.time()
        relevant, units = coder.code(PLACEHOLDER_POST_ID, text)
        r = TextResult(
            text_hash=h,
            status="coded" if relevant else "not_relevant",
            units=[u.model_dump(exclude={"post_id"}) for u in units],
            coder="baseline",
            cost_usd=0.0,
            started_at=t,
            finished_at=time.time(),
        )
        store.put(key, r)
        stats.add(r)
        prog(r)
    return stats


def _api_key(kw: dict[str, Any]) -> str:
    key = os.environ.get(kw["api_key_env"])
    if key:
        return key
    if kw["base_url"]:
        click.echo(
            f"note: ${kw['api_key_env']} is not set; sending the dummy key "
            f"{DUMMY_KEY!r} (fine for local OpenAI-compatible servers)",
            err=True,
        )
        return DUMMY_KEY
    _fail(f"set ${kw['api_key_env']} (or --api-key-env NAME) to your API key")
    raise AssertionError  # unreachable


def _run_llm(
    spec: Any,
    cb: Any,
    todo: list[tuple[str, str]],
    store: Any,
    key: Any,
    prog: Any,
    kw: dict[str, Any],
) -> Any:
    from vsdstats.coding.engine import Engine, EngineConfig, RunStats, price_for

    cfg = EngineConfig(
        model=kw["model"],
        api_key=_api_key(kw),
        base_url=kw["base_url"],
        mode=kw["mode"],
        concurrency=kw["concurrency"],
        workers=kw["workers"],
        api_key_env=kw["api_key_env"],
        rpm=kw["rpm"],
        tpm=kw["tpm"],
        max_retries=kw["max_retries"],
        http_retries=kw["http_retries"],
        timeout=kw["timeout"],
        price=price_for(kw["model"], kw["price_in"], kw["price_out"]),
    )
    if not todo:
        return RunStats()

    async def go() -> RunStats:
        items = todo
        stats = RunStats()
        if kw["batch"]:
            from vsdstats.coding.batch import BatchRunner

            runner = BatchRunner(
                spec,
                cfg,
                store,
                key,
                codebook=cb,
                poll_interval=kw["poll_interval"],
                on_result=prog,
                log=lambda s: click.echo(s, err=True),
            )
            res = await runner.run(items)
            stats = res.stats
            items = res.requeue
            if items:
                click.echo(f"re-sending {len(items)} text(s) as ordinary requests", err=True)
        if items:
            more = await Engine(spec, cfg, cb, on_result=prog).run(items, store, key)
            stats.merge(more)
        return stats

    return asyncio.run(go())
