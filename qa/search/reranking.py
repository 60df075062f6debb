"""Reranking: the retriever's top candidates reordered by the learned reader's judgement.

The hybrid retriever (dense + BM25) finds the right passage in its top few almost always but
puts it first less often; the reader reads each candidate with the question (a cross-encoder)
and says how likely it is to answer it. The new order fuses that probability with the
retrieval score, weighted as measured on held-out SQuAD 2.0 articles (training/calibrate.py).

Reading costs about 20 ms a passage on 2 cores, and it does not always help, so a search reads
only where it does (`search_depth`): never for a statement (SciFact's claims: the reader was
trained on questions, and reranking them cost 0.011 nDCG@10), never when retrieval's first hit
already leads clearly, otherwise the top SEARCH_DEPTH. Answering reads all DEPTH candidates:
the refusal is calibrated on them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from qa.models.reading import Reader
from qa.search.hybrid import Hit

DEPTH = 8  # candidates read per query; retrieval's hit@8 on SQuAD is 0.98 (benchmarks/squad.py)
# training/gating.py, 500 SQuAD 1.0 train questions over 48 of its articles, with the 130k reader
# (rerank weight 0.1): hit@1 0.880 retrieval alone, 0.900 reading all 8 or the top 4 where the
# first hit's fused score leads the second's by less than 0.08 (0.82 passages read a question).
# Reading is most of a search's cost (issue 28), so a search reads as little as keeps hit@1
# within 0.01 of the best on the grid: the top 3 where the lead is under 0.05, 0.892 with 0.38
# passages read a question.
SKIP_MARGIN = 0.05
SEARCH_DEPTH = 3
_QUESTION = re.compile(
    r"\?\s*$|^\s*(who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did"
    r"|can|could|should|would|will|has|have|had|name|list|give|tell)\b",
    re.IGNORECASE,
)


def is_question(query: str) -> bool:
    """A question (the reader's training), not a statement such as a claim to check."""
    return bool(_QUESTION.search(query))


def search_depth(query: str, hits: list[Hit]) -> int:
    """How many of retrieval's hits a search reads: 0 for a statement or a clear lead."""
    if len(hits) < 2 or not is_question(query) or hits[0].score - hits[1].score >= SKIP_MARGIN:
        return 0
    return SEARCH_DEPTH


def rerank(question: str, hits: list[Hit], reader: Reader, weight: float | None = None, depth: int = DEPTH) -> list[Hit]:  # fmt: skip
    """The first `depth` hits reordered by weight * P(answers) + (1 - weight) * retrieval
    score, each carrying its reading; the rest follow in their order. The weight is the
    reader's calibrated one (training/calibrate.py) unless given."""
    if weight is None:
        weight = float(reader.calibration.get("rerank_weight", 1.0))
    head, tail = hits[:depth], hits[depth:]
    titles = [h.passage.title or "" for h in head] if reader.reads_titles else None
    readings = reader.read(question, [h.passage.text for h in head], titles)
    fused = [
        replace(
            h, score=weight * r.probability + (1 - weight) * h.score, retrieval=h.score, reading=r
        )  # fmt: skip
        for h, r in zip(head, readings, strict=True)
    ]
    fused.sort(key=lambda h: -h.score)
    return [replace(h, rank=i) for i, h in enumerate([*fused, *tail], start=1)]
