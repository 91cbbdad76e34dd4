"""Coding posts against the VSD codebook.

- :mod:`vsdstats.coding.prompt` -- the system prompt, the per-post messages and the
  response model built from a codebook (:func:`~vsdstats.coding.prompt.build_prompt`).
- :mod:`vsdstats.coding.response` -- the pydantic response models (``Extraction``,
  ``Unit``) with verbatim-quote validation, and conversion to ``CodedUnit`` rows.
- :mod:`vsdstats.coding.quotes` -- quote normalisation and verification.
- :mod:`vsdstats.coding.baseline` -- a transparent offline baseline coder (terms + VADER).

Submodules are imported lazily (import them directly); this package imports nothing heavy.
"""
