"""Reranking: the retriever's top candidates reordered by the learned reader's judgement.

The hybrid retriever (dense + BM25) finds the right passage in its top few almost always but
puts it first less often; the reader reads each candidate with the question (a cross-encoder)
and says how likely it is to answer it. The new order fuses that probability with the
retrieval score, weighted as measured on held-out SQuAD 2.0 articles (training/calibrate.py).
"""

from __future__ import annotations

from dataclasses import replace

from qa.models.reading import Reader
from qa.search.hybrid import Hit

DEPTH = 8  # candidates read per query; retrieval's hit@8 on SQuAD is 0.98 (benchmarks/squad.py)


def rerank(question: str, hits: list[Hit], reader: Reader, weight: float | None = None, depth: int = DEPTH) -> list[Hit]:  # fmt: skip
    """The first `depth` hits reordered by weight * P(answers) + (1 - weight) * retrieval
    score, each carrying its reading; the rest follow in their order. The weight is the
    reader's calibrated one (training/calibrate.py) unless given."""
    if weight is None:
        weight = float(reader.calibration.get("rerank_weight", 1.0))
    head, tail = hits[:depth], hits[depth:]
    readings = reader.read(question, [h.passage.text for h in head])
    fused = [
        replace(
            h, score=weight * r.probability + (1 - weight) * h.score, retrieval=h.score, reading=r
        )  # fmt: skip
        for h, r in zip(head, readings, strict=True)
    ]
    fused.sort(key=lambda h: -h.score)
    return [replace(h, rank=i) for i, h in enumerate([*fused, *tail], start=1)]
