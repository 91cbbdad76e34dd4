"""The data contract and the tables every step reads and writes.

``models`` (``Post`` and ``CodedUnit``, tidy column sets, ``validate_frame``),
``codebook`` (the codebook schema and loader), ``io`` (``read_table``/``write_table`` by
extension) and ``study`` (a study's posts table and where it lives).
"""
