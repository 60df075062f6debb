"""Fusion variants rescored over an index that squad.py or scifact.py built (no re-embedding).

    .venv/bin/python benchmarks/fusion.py squad   --work /tmp/qa-bench/squad2
    .venv/bin/python benchmarks/fusion.py scifact --work /tmp/qa-bench/scifact2

Candidates as in Retriever.search_vector (top 100 by cosine and top 100 by BM25), then each
variant's ranking; the `w = 0.5` weighted row is what qa ships (qa.retrieval.fuse).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from common import DATA, RRF_K, single_threaded

DEPTH = 100


def variants(cosine: np.ndarray, lexical: np.ndarray) -> dict[str, np.ndarray]:
    """Scores over all passages (candidates only; others -inf) for one query."""
    dense_ids, lex_ids = np.argsort(-cosine)[:DEPTH], np.argsort(-lexical)[:DEPTH]
    c = np.unique(np.concatenate([dense_ids, lex_ids]))
    cos, lex = cosine[c], lexical[c]

    def spread(scores):
        out = np.full(len(cosine), -np.inf)
        out[c] = scores
        return out

    def z(x):
        return (x - x.mean()) / (x.std() or 1.0)

    rows = {"dense only": spread(cos), "BM25 only": spread(lex)}
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        rows[f"weighted w = {w}"] = spread(w * np.clip(cos, 0, 1) + (1 - w) * lex / (lex.max() or 1))  # fmt: skip
    rows["z-scores w = 0.5"] = spread(0.5 * z(cos) + 0.5 * z(lex))
    rrf = np.zeros(len(cosine))
    rrf[dense_ids] += 1 / (RRF_K + np.arange(1, len(dense_ids) + 1))
    rrf[lex_ids] += 1 / (RRF_K + np.arange(1, len(lex_ids) + 1))
    rows["reciprocal rank"] = rrf
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benchmark", choices=["squad", "scifact"])
    parser.add_argument("--work", type=Path, required=True, help="the --work folder of that script")
    args = parser.parse_args()
    single_threaded()

    from qa.embedding import Embedder
    from qa.index import Index, vectors_of

    index = Index.load(args.work / "index")
    passages, vectors = index.passages, vectors_of(index)
    if args.benchmark == "squad":
        from squad import contains_answer, load

        _, _, questions = load(DATA / "squad" / "dev-v1.1.json")
        sample = random.Random(2016).sample(questions, 1000)
        texts = [q["question"] for q in sample]

        def score(i: int, order: np.ndarray) -> dict[str, float]:
            q = sample[i]
            good = [passages[j].source == q["source"] and contains_answer(passages[j].text, q["answers"]) for j in order[:5]]  # fmt: skip
            return {"hit@1": float(good[0]), "hit@5": float(any(good))}
    else:
        from scifact import load, ndcg

        _, _, claims, qrels = load(DATA / "scifact")
        ids, texts = list(claims), list(claims.values())
        sources = [p.source.removesuffix(".txt") for p in passages]

        def score(i: int, order: np.ndarray) -> dict[str, float]:
            ranked = list(dict.fromkeys(sources[j] for j in order[: 4 * DEPTH]))
            return {"nDCG@10": ndcg(ranked, qrels[ids[i]])}

    cosines = Embedder().encode(texts) @ vectors.T
    totals: dict[str, dict[str, float]] = {}
    for i, text in enumerate(texts):
        for name, scores in variants(cosines[i], index.lexical.scores(text)).items():
            for metric, value in score(i, np.argsort(-scores, kind="stable")).items():
                totals.setdefault(name, {}).setdefault(metric, 0.0)
                totals[name][metric] += value / len(texts)
    metrics = list(next(iter(totals.values())))
    print(f"### {args.benchmark}: fusion variants over {len(passages)} passages\n")
    print("| fusion | " + " | ".join(metrics) + " |\n|---" * 1 + "|---" * len(metrics) + "|")
    for name, row in totals.items():
        print(f"| {name} | " + " | ".join(f"{row[m]:.3f}" for m in metrics) + " |")


if __name__ == "__main__":
    main()
