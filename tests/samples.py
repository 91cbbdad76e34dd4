"""The shared real sample files each connector reads (../shared/fixtures/platforms)."""

from __future__ import annotations

from pathlib import Path

PLATFORMS = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "platforms"
SAMPLES = {  # platform -> globs under PLATFORMS
    "reddit": ["reddit_pushshift/*.json", "reddit_api_praw_cassettes/_extracted_bodies/*.json"],
    "x": ["twitter_x_api_v2/*.jsonl", "twitter_x_api_v2/*.json", "snscrape/res.json"],
    "youtube": ["youtube/*.json"],
    "tiktok": ["tiktok_research_api/example_resp_*.json"],
    "mastodon": ["mastodon/_extracted_bodies/*.json"],
    "bluesky": ["bluesky/*.json", "bluesky/_extracted_bodies/*.json"],
}


def sample_files(platform: str, root: Path = PLATFORMS) -> list[Path]:
    """The sample files of ``platform``, sorted."""
    return sorted(p for g in SAMPLES[platform] for p in root.glob(g))
