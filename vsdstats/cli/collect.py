"""``vsdstats collect``: live collection from a platform's API straight into a study."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from vsdstats.cli._common import codebook_option, fail, relevance_option

CREDENTIALS_HELP = (
    "Credentials come from environment variables, else from credentials.toml in the "
    "vsdstats config folder (~/.config/vsdstats/; $VSDSTATS_CONFIG_DIR moves it), never "
    "from the study: reddit: REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USER_AGENT "
    "(REDDIT_OAUTH_URL and REDDIT_URL move the endpoints); bluesky: BLUESKY_HANDLE, "
    "BLUESKY_APP_PASSWORD (an app password; BLUESKY_BASE_URL moves the server); "
    "youtube: YOUTUBE_API_KEY (YOUTUBE_API_BASE_URL moves the endpoint); tiktok: "
    "TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET (TIKTOK_API_BASE_URL moves the server); "
    "mastodon: MASTODON_ACCESS_TOKEN and the instance (--community, else "
    "MASTODON_API_BASE_URL); x: X_BEARER_TOKEN (twarc; it honours HTTPS_PROXY)."
)


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """YYYY-MM-DD or an ISO 8601 time (UTC unless it names a zone)."""
    if value is None:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@click.command(epilog=CREDENTIALS_HELP)
@click.argument("platform")
@click.option("--query", "-q", required=True, help="search text, as the platform's search takes it")
@click.option(
    "--community", help="subreddit (reddit), instance (mastodon); default: the whole platform"
)
@click.option("--since", callback=_date, help="oldest post time, YYYY-MM-DD or ISO 8601 (UTC)")
@click.option("--until", callback=_date, help="newest post time, YYYY-MM-DD or ISO 8601 (UTC)")
@click.option("--limit", type=click.IntRange(min=1), help="stop after N records this run")
@click.option(
    "--out", "-o", required=True, type=click.Path(), help="study folder (or .parquet/.duckdb)"
)
@click.option(
    "--keep-raw",
    type=click.Path(file_okay=False),
    help="also write the raw API responses into this folder (outside the study; they "
    "hold the authors' identities)",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False),
    help="per-study secret (as for ingest; default: the study's key outside the study)",
)
@relevance_option
@codebook_option
@click.option("--no-progress", is_flag=True, help="no progress bar")
def collect(
    platform: str,
    query: str,
    community: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
    out: str,
    keep_raw: str | None,
    secret_file: str | None,
    relevance: bool,
    codebook_path: str | None,
    no_progress: bool,
) -> None:
    """Collect posts matching --query from PLATFORM's API into the study --out.

    Posts go through ingest as they arrive (pseudonymized, masked, deduplicated, the
    same report).  The cursor is stored in the study after each page, so running the
    same command again resumes an interrupted collection without duplicates.  Rate
    limits are honoured from the API's headers (Reddit: by PRAW, plus a wait on 429;
    YouTube: googleapiclient's backoff; TikTok: Retry-After; X: twarc's wait until
    x-rate-limit-reset).
    """
    from rich.console import Console

    from vsdstats.cli.ingest import _relevance_filter
    from vsdstats.connectors.base import NotCollectable
    from vsdstats.connectors.credentials import CredentialError
    from vsdstats.ingest.collect import collect as run
    from vsdstats.ingest.console import print_summary
    from vsdstats.ingest.manifest import write_ingest_manifest
    from vsdstats.ingest.pipeline import IngestError

    if not query.strip():
        fail("--query is empty: give the search text")
    if since and until and since > until:
        fail("--since is after --until")
    filt = _relevance_filter(codebook_path) if relevance else None
    tty = sys.stderr.isatty()
    console = Console(stderr=True, width=None if tty else 160)
    try:
        report = run(
            platform,
            query,
            out,
            community=community,
            since=since,
            until=until,
            limit=limit,
            keep_raw=keep_raw,
            secret_file=secret_file,
            relevance=filt,
            progress=not no_progress and tty,
            console=console if tty else None,
        )
    except (IngestError, CredentialError) as exc:
        fail(str(exc))
    except NotCollectable as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or out}: {exc.strerror or exc}", code=1)
    print_summary(report, console)
    settings = {
        "platform": platform,
        "query": query,
        "community": community,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "limit": limit,
        "relevance": relevance,
        "codebook": codebook_path,
        "keep_raw": keep_raw is not None,  # not the folder: it may name a person
    }
    from vsdstats.provenance import command_line

    argv = command_line()
    if keep_raw is not None:  # the raw folder's path may name a person
        argv = ["KEEP_RAW" if a == keep_raw else a.replace(keep_raw, "KEEP_RAW") for a in argv]
    path = write_ingest_manifest(report, (), out, settings=settings, codebook=None, argv=argv)
    if path is not None:
        click.echo(f"wrote {path}", err=True)
