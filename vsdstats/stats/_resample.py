"""Resampling shared by the cluster-bootstrap methods."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK = 200


def cluster_weights(k: int, b: int, seed: int, chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """Bootstrap weights of ``k`` clusters resampled with replacement, ``b`` replicates
    in blocks of at most ``chunk`` rows: each row counts how often each cluster was drawn
    (multinomial(k, 1/k)), so a replicate's totals are ``weights @ per_cluster_totals``."""
    rng = np.random.default_rng(seed)
    for start in range(0, b, chunk):
        m = min(chunk, b - start)
        yield rng.multinomial(k, np.full(k, 1.0 / k), size=m).astype(np.float64)
