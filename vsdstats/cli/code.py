"""``vsdstats code POSTS``: code posts against the codebook with an LLM (or the offline baseline).

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
the key from the same environment variable; ``--dask local:N|tcp://HOST:PORT`` codes
shards of the texts as Dask tasks, each writing a shard store merged into
``study.sqlite`` (see :mod:`vsdstats.coding.sharded`).

Reproducibility: every request carries ``--temperature`` (default 0) and, when given,
``--seed``; both are stored with each result, with the raw response, the model id the
API returned and its ``system_fingerprint``.  Each run writes a provenance manifest
``STUDY/manifests/code-<UTC time>.json`` (:mod:`vsdstats.provenance`).  ``--dry-run``
prints the exact system prompt, the response schema and the request for the first post
to be coded, and sends nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from vsdstats.cli._common import codebook_option, fail, log, positional_input, seed_option
from vsdstats.cluster import DASK_HELP

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def _count(name: str, low: int, default: int, help: str) -> Any:
    """An integer option of at least ``low`` with its default shown."""
    return click.option(
        name, type=click.IntRange(low), default=default, show_default=True, help=help
    )


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
@positional_input("input_path", "POSTS")
@click.option(
    "--out",
    "-o",
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
@_count("--concurrency", 1, 16, "requests in flight")
@_count(
    "--workers",
    1,
    1,
    "processes coding in parallel (concurrency, --rpm and --tpm split evenly across them)",
)
@click.option(
    "--dask",
    "dask",
    metavar="local:N|tcp://HOST:PORT",
    default=None,
    help=f"{DASK_HELP}; one task per shard of the texts, --concurrency, --rpm and --tpm "
    "split across the shards (the study folder must be visible to the workers)",
)
@click.option(
    "--shards",
    type=click.IntRange(1),
    default=None,
    help="--dask: number of shards (tasks; default: one per worker)",
)
@click.option("--rpm", type=float, default=None, help="requests per minute limit")
@click.option("--tpm", type=float, default=None, help="tokens per minute limit")
@_count("--max-retries", 0, 2, "validation retries (the error is fed back to the model)")
@_count("--http-retries", 0, 6, "retries on 429, 5xx, timeouts and dropped connections")
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
@codebook_option
@click.option("--limit", type=click.IntRange(1), default=None, help="only the first N posts")
@click.option("--no-retry-failed", is_flag=True, help="keep failed texts failed on a rerun")
@click.option("--price-in", type=float, default=None, help="USD per 1M input tokens")
@click.option("--price-out", type=float, default=None, help="USD per 1M output tokens")
@click.option("--durable", is_flag=True, help="fsync every commit (synchronous=FULL)")
@click.option(
    "--temperature",
    type=click.FloatRange(0, 2),
    default=0.0,
    show_default=True,
    help="sampling temperature sent with every request (and recorded)",
)
@seed_option(
    None,
    "the model's sampling, sent with every request and recorded (default: none, not "
    "sent); providers honour it on a best-effort basis (see system_fingerprint)",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="print the exact system prompt, the response schema and the request for the "
    "first post to be coded; send nothing",
)
@click.option(
    "--open",
    "open_coding",
    is_flag=True,
    help="also ask for free-text labels per unit (alongside the codebook codes), stored raw "
    "with the unit's quote in STUDY/open_labels.{parquet,csv} for `codebook induce`",
)
@click.option(
    "--open-dimensions",
    default="condition,perspective,value",
    show_default=True,
    help="--open: the dimensions labelled in the model's own words (comma-separated)",
)
@click.option("--no-progress", is_flag=True, help="no progress bar")
def code_cmd(**kw: Any) -> None:
    """Code POSTS (a posts table, or a study folder with posts.parquet) against the VSD
    codebook with an LLM (instructor + OpenAI API) or the offline baseline."""
    sys.exit(run_code(**kw))


def run_code(**kw: Any) -> int:
    """The command's body: settings from the options, :func:`code_study`, the summary."""
    from vsdstats.coding.run import CodeSettings, CodingStopped, code_study
    from vsdstats.errors import InputError

    names = set(CodeSettings.__dataclass_fields__) - {
        "codebook",
        "retry_failed",
        "open_dimensions",
    }
    open_dims: tuple[str, ...] = ()
    if kw["open_coding"]:
        open_dims = tuple(dict.fromkeys(d.strip() for d in kw["open_dimensions"].split(",")))
        if not all(open_dims):
            fail(f"--open-dimensions {kw['open_dimensions']!r}: an empty dimension name")
    settings = CodeSettings(
        **{k: kw[k] for k in names},
        codebook=kw["codebook_path"],
        retry_failed=not kw["no_retry_failed"],
        open_dimensions=open_dims,
    )

    if kw["dry_run"]:
        return dry_run(kw["input_path"], kw["out"], settings)

    def progress(total: int, per_text: dict[str, int]) -> _Progress:
        return _Progress(not kw["no_progress"], total, per_text)

    try:
        outcome = code_study(kw["input_path"], kw["out"], settings, progress=progress, log=log)
    except InputError as exc:
        fail(exc)
    except CodingStopped as exc:
        fail(exc, 1)
    except KeyboardInterrupt:
        click.echo("interrupted: finished texts are saved; rerun to resume", err=True)
        return 130
    print_summary(outcome.summary)
    click.echo(f"wrote {', '.join(str(p) for p in outcome.written)}", err=True)
    return 0


def dry_run(input_path: str, out: str | None, settings: Any) -> int:
    """``--dry-run``: print :func:`vsdstats.coding.run.preview` on stdout; no request."""
    import json

    from vsdstats.coding.run import preview
    from vsdstats.errors import InputError

    try:
        p = preview(input_path, out, settings)
    except InputError as exc:
        fail(exc)
    mode = "batch (one JSONL line per text, this body)" if settings.batch else settings.mode
    what = "the first post to be coded" if p.text_hash else "an empty post (nothing left to code)"
    click.echo("# system prompt (the first message, exactly as sent)")
    click.echo(p.system)
    click.echo(f"\n# response schema (JSON Schema of the response model as sent, mode {mode})")
    click.echo(json.dumps(p.schema, indent=2, ensure_ascii=False))
    click.echo(f"\n# request: {p.endpoint}, body for {what}")
    click.echo(json.dumps(p.request, indent=2, ensure_ascii=False))
    log(f"dry run: no request sent; {p.todo:,} distinct text(s) would be coded")
    return 0
