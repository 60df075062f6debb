"""Dense search: exact inner product, or an HNSW graph above a size where it is measured to
find nearly all of the exact neighbours (the choice goes in the manifest)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Dense search may turn approximate above this many passages: exact search of 200,000 takes
# about 30 ms a query on one core, HNSW under 1 ms on real vectors (benchmarks/RESULTS.md, benchmarks/scale.py).
HNSW_ABOVE = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 100
# A build tries these efSearch in turn and keeps the first whose recall@10 against exact search
# reaches MIN_RECALL on probes drawn from the passages themselves; if none does, it stays exact.
# Real questions over real passages reach 0.994 at 64; random vectors, which have no
# neighbourhoods, 0.65 at 512 (100,000 of them). The target is 0.98 for questions; probes from
# the indexed vectors are a little easier than outside queries (0.985 against 0.970 on 5,000
# random vectors at efSearch 128), so a build asks 0.99 of them.
HNSW_EF_SEARCH = (64, 128, 256, 512)
MIN_RECALL = 0.99
RECALL_PROBES = 200


def dense_index(vectors: np.ndarray, progress: Callable[[str], None] = lambda message: None) -> tuple[object, dict]:  # fmt: skip
    """The dense index and what was chosen: exact inner product up to HNSW_ABOVE vectors; above,
    HNSW if it finds, at one of HNSW_EF_SEARCH, MIN_RECALL of the exact top 10 of probes drawn
    from the vectors (the probe itself left out), else exact search again."""
    import faiss

    if len(vectors) > HNSW_ABOVE:
        hnsw = hnsw_index(vectors)
        ef, recall = tune(hnsw, vectors)
        if ef is not None:
            progress(f"dense search: HNSW, efSearch {ef} (recall@10 {recall:.3f} against exact)")
            return hnsw, {"kind": "hnsw", "ef_search": ef, "recall_at_10": round(recall, 4)}
        progress(f"dense search stays exact: HNSW found only {recall:.3f} of the exact top 10")
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    return exact, {"kind": "exact"}


def tune(hnsw, vectors: np.ndarray) -> tuple[int | None, float]:
    """Set hnsw's efSearch to the first of HNSW_EF_SEARCH whose recall@10 against exact search
    reaches MIN_RECALL on probes drawn from vectors; return it (None if none does) and its recall."""
    import faiss

    rng = np.random.default_rng(0)
    probes = vectors[rng.choice(len(vectors), min(RECALL_PROBES, len(vectors)), replace=False)]
    _, truth = faiss.knn(probes, vectors, 11, metric=faiss.METRIC_INNER_PRODUCT)
    recall = 0.0
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = ef  # saved with the index
        _, found = hnsw.search(probes, 11)
        recall = _recall_at_10(found, truth)
        if recall >= MIN_RECALL:
            return ef, recall
    return None, recall


def hnsw_index(vectors: np.ndarray):
    """An HNSW graph over vectors with qa's parameters (efSearch is set by dense_index)."""
    import faiss

    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    return hnsw


def _recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of each row's exact top 10 (its first hit, the probe itself, left out) found."""
    shares = []
    for got, want in zip(found, truth, strict=True):
        wanted = set(want[want >= 0].tolist()) - {int(want[0])}
        shares.append(len(wanted & set(got.tolist())) / len(wanted) if wanted else 1.0)
    return float(np.mean(shares))
