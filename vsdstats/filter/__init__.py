"""The relevance pre-filter: posts that mention an LLM chatbot AND a mental-health term.

``terms`` (codebook terms and term files), ``patterns`` (their regular expressions for
text and raw JSON bytes), ``scanners`` (candidate lines of a block: Hyperscan or
anchors), ``relevance`` (``RelevanceFilter``) and ``stream`` (the dump filter behind
``vsdstats filter``: ``filter_files``, ``filter_stream``, ``FilterCounts``).
"""

from vsdstats._lazy import lazy_exports

__all__ = [
    "DEFAULT_FIELDS",
    "FilterCounts",
    "FilterError",
    "RelevanceFilter",
    "filter_files",
    "filter_stream",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "FilterCounts": "stream",
        "FilterError": "stream",
        "filter_files": "stream",
        "filter_stream": "stream",
        "RelevanceFilter": "relevance",
    },
)

#: Text fields checked by default: Reddit (title, selftext, body), posts tables and most
#: APIs (text), Twitter/X (full_text), Mastodon (content), YouTube, Bluesky (record.text).
DEFAULT_FIELDS = (
    "title",
    "selftext",
    "body",
    "text",
    "full_text",
    "content",
    "description",
    "caption",
    "textOriginal",
    "record.text",
)
