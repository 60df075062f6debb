"""Choose qa.answer.spans' weights: which reader candidate answers, judged on gold paragraphs.

    .venv/bin/python training/spans.py [--squad 600] [--tydi 200] [--seed 17] [--only RE]
        [--weights T,M,K]

Questions: a seeded sample of SQuAD 1.0 train (../shared/benchmarks/train/squad1-train, 432
articles, CC BY-SA 4.0) and TyDi QA English train (../shared/benchmarks/train/tydiqa-en,
Apache-2.0), each read with its own gold paragraph by the shipped reader (qa/models/reader).
Only paragraphs of two or more sentences count (in one sentence every span is in the right one).
Word rarity (idf) is taken over the sample's own paragraphs, as qa takes it over its index.

For every (type, match, key) weight on a grid it prints how often the chosen span's sentence
holds a gold answer ("sentence") and how often the span itself matches one (F1 >= 0.5, "span"),
beside the reader's best span alone (weights 0, 0, 0), and the pair with the best sentence score.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

from reader import SQUAD1_TRAIN, TYDI_TRAIN

TYPE_WEIGHTS = (0.0, 1.0, 2.0, 4.0)
MATCH_WEIGHTS = (0.0, 2.0, 4.0, 6.0, 8.0)
KEY_WEIGHTS = (0.0, 1.0, 2.0, 4.0)


def sample(path: Path, n: int, rng: random.Random, only: str = "") -> list[dict]:
    """n seeded (question, context, gold spans) from a SQuAD-format file; with `only`, of the
    questions that pattern finds (case aside)."""
    rows = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                gold = [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]]  # fmt: skip
                if gold and re.search(only, qa["question"], re.IGNORECASE):
                    rows.append({"question": qa["question"], "context": p["context"], "gold": gold})  # fmt: skip
    return rng.sample(rows, min(n, len(rows)))


def _f1(a: str, b: str) -> float:
    x, y = re.findall(r"\w+", a.lower()), re.findall(r"\w+", b.lower())
    common = sum((Counter(x) & Counter(y)).values())
    if not common:
        return 0.0
    p, r = common / len(x), common / len(y)
    return 2 * p * r / (p + r)


def judge(rows: list[dict], readings: list, idf, weights: tuple[float, float, float]) -> tuple[float, float]:  # fmt: skip
    from qa.answer.spans import choose
    from qa.ingest.passages import sentence_spans

    sentence = span = 0
    for row, reading in zip(rows, readings, strict=True):
        text = row["context"]
        a, b = (choose(row["question"], text, reading, idf, *weights) or reading).span
        spans = sentence_spans(text)
        s, e = next(((s, e) for s, e in spans if s < b and a < e), spans[0])
        sentence += any(s <= x and y <= e for x, y in row["gold"])
        span += any(_f1(text[a:b], text[x:y]) >= 0.5 for x, y in row["gold"])
    return sentence / len(rows), span / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=int, default=600)
    parser.add_argument("--tydi", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--only", default="", help="only questions this pattern finds, e.g. '\\bwhich country\\b'")  # fmt: skip
    parser.add_argument("--weights", help="judge only these type,match,key weights (e.g. 2,4,2), not the grid")  # fmt: skip
    args = parser.parse_args()

    from qa.answer.spans import corpus_idf
    from qa.index.lexical import LexicalIndex
    from qa.ingest.passages import sentence_spans
    from qa.models.reading import Reader

    rng = random.Random(args.seed)
    rows = sample(SQUAD1_TRAIN, args.squad, rng, args.only) + sample(TYDI_TRAIN, args.tydi, rng, args.only)  # fmt: skip
    rows = [r for r in rows if len(sentence_spans(r["context"])) >= 2]
    contexts = sorted({r["context"] for r in rows})
    words = LexicalIndex.build(contexts)
    idf = corpus_idf(words.document_frequency, words.size)
    reader = Reader()
    readings = []
    for n, row in enumerate(rows, 1):
        readings.append(reader.read(row["question"], [row["context"]])[0])
        if n % 200 == 0:
            print(f"read {n}/{len(rows)}", file=sys.stderr, flush=True)
    print(f"{len(rows)} questions with a paragraph of 2+ sentences (seed {args.seed}{', only ' + repr(args.only) if args.only else ''})")  # fmt: skip
    print("| type weight | match weight | key weight | sentence right | span right |")
    print("|---:|---:|---:|---:|---:|")
    table = {}
    grid = itertools.product(TYPE_WEIGHTS, MATCH_WEIGHTS, KEY_WEIGHTS)
    chosen = [tuple(float(x) for x in args.weights.split(","))] if args.weights else []
    for w in [(0.0, 0.0, 0.0), *chosen] if chosen else grid:
        table[w] = judge(rows, readings, idf, w)
        print(f"| {' | '.join(map(str, w))} | {table[w][0]:.3f} | {table[w][1]:.3f} |", flush=True)  # fmt: skip
    best = max(table, key=lambda k: (table[k], -sum(k)))
    base = table[0.0, 0.0, 0.0]
    print(f"reader alone: sentence {base[0]:.3f}, span {base[1]:.3f}; best {best}: sentence "
          f"{table[best][0]:.3f}, span {table[best][1]:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
