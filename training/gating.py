"""Choose when `qa search` reranks: by query kind, by how sure retrieval already is, and how deep.

    .venv/bin/python training/gating.py [--articles 48] [--questions 500] [--seed 5] [--work DIR]

Reading a candidate costs about 20 ms on 2 cores, so reranking the top 8 made `POST /search`
eight times slower than retrieval. This replays, for questions the reader never trained on,
what each policy would put first, from one reading of each question's top reranking.DEPTH:

- data: a seeded sample of SQuAD 1.0 train articles (../shared/benchmarks/train/squad1-train,
  CC BY-SA 4.0; no SQuAD dev article) indexed as `qa index` does, and a seeded sample of their
  questions asked of all of them through qa's retrieval;
- a policy: skip reranking when the fused retrieval score of the first hit beats the second's
  by at least MARGIN; otherwise read the top DEPTH and reorder them as qa.search.reranking does;
- printed: hit@1 (a passage of the question's article holding an answer first), the share of
  questions read and the mean passages read per question, beside retrieval alone and reading
  all 8.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from calibrate import contains
from reader import ROOT, SQUAD1_TRAIN, articles

sys.path.insert(0, str(ROOT / "benchmarks"))
from common import build_qa, log, write_corpus  # noqa: E402

MARGINS = (0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 1.01)  # 1.01: never skip
DEPTHS = (2, 3, 4, 5, 8)


def replay(rows: list[dict], weight: float, margin: float, depth: int) -> tuple[float, float, float]:  # fmt: skip
    """(hit@1, share of questions read, mean passages read) of one policy."""
    first = read = passages = 0
    for row in rows:
        cands = row["candidates"]  # in retrieval order
        if len(cands) < 2 or cands[0]["retrieval"] - cands[1]["retrieval"] >= margin:
            first += cands[0]["right"] if cands else 0
            continue
        head = cands[:depth]
        top = max(head, key=lambda c: weight * c["probability"] + (1 - weight) * c["retrieval"])
        first += top["right"]
        read += 1
        passages += len(head)
    n = len(rows)
    return first / n, read / n, passages / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=48)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-gating")
    args = parser.parse_args()

    from qa.ingest.passages import DEFAULT_MAX_WORDS
    from qa.models.onnx_embedding import BuildEncoder
    from qa.search.reranking import DEPTH, rerank

    rng = random.Random(args.seed)
    chosen = rng.sample(articles(SQUAD1_TRAIN), args.articles)
    documents, questions = {}, []
    for article in chosen:
        name = f"{article['title']}.txt"
        documents[name] = "\n\n".join(" ".join(p["context"].split()) for p in article["paragraphs"]) + "\n"  # fmt: skip
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                answers = sorted({" ".join(a["text"].split()) for a in qa["answers"]})
                questions.append({"question": qa["question"], "source": name, "answers": answers})
    questions = rng.sample(questions, args.questions)
    cache = args.work / f"rows-{args.articles}-{args.questions}-{args.seed}.json"
    if cache.is_file():
        rows = json.loads(cache.read_text())
    else:
        write_corpus(args.work / "corpus", documents)
        retriever = build_qa(args.work / "corpus", args.work / "index", BuildEncoder(None, notice=log), DEFAULT_MAX_WORDS)  # fmt: skip
        rows = []
        for n, q in enumerate(questions, 1):
            hits = retriever.hybrid(q["question"], retriever.encode_query(q["question"]), DEPTH)
            read = {h.passage.id: h for h in rerank(q["question"], hits, retriever.reader)}
            rows.append({"candidates": [
                {
                    "retrieval": h.score,
                    "probability": read[h.passage.id].reading.probability,
                    "right": h.passage.source == q["source"] and contains(h.passage.text, q["answers"]),  # fmt: skip
                }
                for h in hits
            ]})  # fmt: skip
            if n % 100 == 0:
                log(f"read {n}/{len(questions)}")
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(rows))

    from qa.models.reading import Reader

    weight = float(Reader().calibration.get("rerank_weight", 0.3))
    print(f"{len(rows)} SQuAD 1.0 train questions over {args.articles} articles (seed {args.seed}), rerank weight {weight}")  # fmt: skip
    print("| skip when margin >= | depth | hit@1 | questions read | passages read |")
    print("|---:|---:|---:|---:|---:|")
    for margin in MARGINS:
        for depth in DEPTHS:
            hit, share, passages = replay(rows, weight, margin, depth)
            print(f"| {margin} | {depth} | {hit:.3f} | {share:.2f} | {passages:.2f} |")
    print(f"retrieval alone: hit@1 {replay(rows, weight, 0.0, 8)[0]:.3f} (margin 0 skips all)")


if __name__ == "__main__":
    main()
