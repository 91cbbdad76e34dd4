"""The relevance pre-filter: posts that mention an LLM chatbot AND a mental-health term.

``terms`` (codebook terms and term files), ``patterns`` (their regular expressions for
text and raw JSON bytes), ``scanners`` (candidate lines of a block: Hyperscan or
anchors), ``relevance`` (``RelevanceFilter``) and ``stream`` (the dump filter behind
``vsdstats filter``).
"""
