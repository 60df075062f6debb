"""Fusion and lexical variants rescored over an index that squad.py or scifact.py built (no
re-embedding): what each part of qa's scoring adds.

    .venv/bin/python benchmarks/fusion.py squad   --work /tmp/qa-bench/squad
    .venv/bin/python benchmarks/fusion.py scifact --work /tmp/qa-bench/scifact

Candidates as in Retriever.search_vector (top 100 by cosine and top 100 by lexical score), then
each variant's ranking. Lexical parts (qa.index.lexical.Lexical.parts): BM25 over stems, over adjacent
stem pairs, and of the passage's best sentence. The row marked "qa" is what qa ships.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from common import DATA, RRF_K

from qa.index.lexical import PHRASE_WEIGHT, SENTENCE_WEIGHT
from qa.search.hybrid import DENSE_WEIGHT

DEPTH = 100


def variants(cosine: np.ndarray, parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:  # fmt: skip
    """Scores over all passages (candidates only; others -inf) for one query."""
    words, pairs, sentence = parts

    def lexical(pair_weight: float, sentence_weight: float) -> np.ndarray:
        return words + pair_weight * pairs + sentence_weight * sentence

    shipped = lexical(PHRASE_WEIGHT, SENTENCE_WEIGHT)
    dense_ids, lex_ids = np.argsort(-cosine)[:DEPTH], np.argsort(-shipped)[:DEPTH]
    c = np.unique(np.concatenate([dense_ids, lex_ids]))

    def spread(scores):
        out = np.full(len(cosine), -np.inf)
        out[c] = scores[c] if len(scores) == len(cosine) else scores
        return out

    def weighted(w: float, lex: np.ndarray) -> np.ndarray:
        return spread(w * np.clip(cosine, 0, 1) + (1 - w) * lex / (lex[c].max() or 1))

    def z(x):
        return (x[c] - x[c].mean()) / (x[c].std() or 1.0)

    rows = {"dense only": spread(cosine), "BM25 over stems only": spread(words)}
    rows[f"lexical only ({PHRASE_WEIGHT} pairs, {SENTENCE_WEIGHT} best sentence)"] = spread(shipped)
    for label, lex in [
        ("stems", lexical(0, 0)),
        (f"stems + {PHRASE_WEIGHT} pairs", lexical(PHRASE_WEIGHT, 0)),
        (f"stems + {SENTENCE_WEIGHT} best sentence", lexical(0, SENTENCE_WEIGHT)),
        ("stems + 0.4 pairs + 0.5 best sentence", lexical(0.4, 0.5)),
    ]:
        rows[f"w = {DENSE_WEIGHT}, {label}"] = weighted(DENSE_WEIGHT, lex)
    for w in (0.5, 0.6, 0.7):
        mark = " (qa)" if w == DENSE_WEIGHT else ""
        rows[f"w = {w}, stems + {PHRASE_WEIGHT} pairs + {SENTENCE_WEIGHT} best sentence{mark}"] = weighted(w, shipped)  # fmt: skip
    rows["z-scores, w = 0.5"] = spread(0.5 * z(cosine) + 0.5 * z(shipped))
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
    from qa.index import Index, vectors_of
    from qa.models.onnx_embedding import load_embedder

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

    cosines = load_embedder(index.folder).encode(texts) @ vectors.T
    totals: dict[str, dict[str, float]] = {}
    for i, text in enumerate(texts):
        for name, scores in variants(cosines[i], index.lexical.parts(text)).items():
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
