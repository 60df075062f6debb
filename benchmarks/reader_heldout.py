"""The reader alone, on held-out SQuAD 2.0 questions given their own paragraph: does it tell
answerable from not, and is its span right?

    .venv/bin/python benchmarks/reader_heldout.py [--reader qa/models/reader] [--reader DIR ...]

Data: SQuAD 2.0 dev part A's last two articles (Geology, Pharmacy; CC BY-SA 4.0), which no
training or calibration script reads (training/calibrate.py TEST). Each question is read with its
own paragraph, and once more with a seeded paragraph of the other article (out of scope).

- AUC: the answer logit ranks answerable questions above SQuAD 2.0's unanswerable ones (written
  to look answerable); `AUC (span margin)` the same with the best span's margin over no answer.
- AUC out of scope: answerable with their own paragraph above questions with another article's.
- AUC near miss: the same, against the paragraph of its own article that shares most of its
  words but holds none of its answers; AUC swapped: against the question with a year, number
  or name swapped for one its paragraph never states (training/reader.py's `swap`, seeded).
- span right: on answerable questions, the best span has SQuAD F1 >= 0.5 with a gold answer
  (forced to answer).
- ms/read: median time of one question-passage reading (one window), this machine; load ms:
  the time to load the model (float16 weights are restored then); MB: the model file.

Several --reader folders are judged on the same pairs, side by side; with --titles, each also
with every paragraph read after its article's title ("Geology"), as qa reads a passage after its
document's for a reader trained with titles (training/reader.py --titles).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import string
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from timing import SHARED, machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

SQUAD2 = SHARED / "benchmarks" / "squad2" / "dev-v2.0-part-A.json"
TEST = ("Geology", "Pharmacy")


def f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 (lower case, no punctuation or articles)."""

    def tokens(text: str) -> list[str]:
        text = "".join(c for c in text.lower() if c not in set(string.punctuation))
        return re.sub(r"\b(a|an|the)\b", " ", text).split()

    p, g = tokens(prediction), tokens(gold)
    same = sum((Counter(p) & Counter(g)).values())
    if not same:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def auc(positive: list[float], negative: list[float]) -> float:
    """P(a positive scores above a negative), ties counted half (Mann-Whitney)."""
    scores = np.array(positive + negative)
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable").astype(float) + 1
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n, m = len(positive), len(negative)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * m))


def pairs(seed: int = 0) -> list[dict]:
    from reader import _NAME, _words, swap

    data = [a for a in json.loads(SQUAD2.read_text(encoding="utf-8"))["data"] if a["title"] in TEST]  # fmt: skip
    rng = random.Random(seed)
    names = sorted({w for a in data for p in a["paragraphs"] for w in _NAME.findall(p["context"])})
    out = []
    for n, article in enumerate(data):
        others = [p["context"] for m, a in enumerate(data) if m != n for p in a["paragraphs"]]
        contexts = [p["context"] for p in article["paragraphs"]]
        for i, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                golds = [a["text"] for a in qa.get("answers") or []]
                words = _words(qa["question"])
                near = max(
                    (c for j, c in enumerate(contexts) if j != i and not any(g.lower() in c.lower() for g in golds)),
                    key=lambda c: len(words & _words(c)),
                    default=None,
                )  # fmt: skip
                swapped = swap(qa["question"], paragraph["context"], names, rng) if golds else None
                other = rng.choice(others)
                other_title = next(a["title"] for a in data for p in a["paragraphs"] if p["context"] == other)  # fmt: skip
                out.append({"question": qa["question"], "context": paragraph["context"], "golds": golds, "other": other, "near": near, "swapped": swapped, "title": article["title"], "other_title": other_title})  # fmt: skip
    return out


def judge(folder: Path, questions: list[dict], titles: bool = False) -> dict:
    from qa.models.reading import Reader

    started = time.perf_counter()
    reader = Reader(folder)
    if titles:  # each paragraph read after its article's title ("Geology")
        plain = reader.read
        title_of = {q["context"]: q["title"] for q in questions} | {q["other"]: q["other_title"] for q in questions}  # fmt: skip
        reader.read = lambda question, texts: plain(question, texts, [title_of.get(t, "").replace("_", " ") for t in texts])  # fmt: skip
    load = time.perf_counter() - started
    answerable, adversarial, out_of_scope, near, swapped = [], [], [], [], []
    margin_yes, margin_no, right, times = [], [], [], []
    for q in questions:
        started = time.perf_counter()
        reading = reader.read(q["question"], [q["context"]])[0]
        times.append(time.perf_counter() - started)
        if q["golds"]:
            answerable.append(reading.answer_logit)
            margin_yes.append(reading.span_margin)
            span = q["context"][reading.span[0] : reading.span[1]]
            right.append(max(f1(span, g) for g in q["golds"]) >= 0.5)
            out_of_scope.append(reader.read(q["question"], [q["other"]])[0].answer_logit)
            if q["near"]:
                near.append(reader.read(q["question"], [q["near"]])[0].answer_logit)
            if q["swapped"]:
                swapped.append(reader.read(q["swapped"], [q["context"]])[0].answer_logit)
        else:
            adversarial.append(reading.answer_logit)
            margin_no.append(reading.span_margin)
    return {
        "AUC": round(auc(answerable, adversarial), 3),
        "AUC (span margin)": round(auc(margin_yes, margin_no), 3),
        "AUC out of scope": round(auc(answerable, out_of_scope), 3),
        "AUC near miss": round(auc(answerable, near), 3),
        "AUC swapped": round(auc(answerable, swapped), 3),
        "span right": round(float(np.mean(right)), 3),
        "ms/read": round(1000 * statistics.median(times), 1),
        "load ms": round(1000 * load),
        "MB": round((folder / "model.onnx").stat().st_size / 1e6, 1),
        "answerable": len(answerable),
        "unanswerable": len(adversarial),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", type=Path, action="append", help="a reader folder (model.onnx, tokenizer.json, reader.json)")  # fmt: skip
    parser.add_argument("--titles", action="store_true", help="also read each paragraph after its article's title")  # fmt: skip
    args = parser.parse_args()
    from qa.models.reading import MODEL_DIR

    questions = pairs()
    print(f"{machine()}; SQuAD 2.0 {', '.join(TEST)}, each question with its own paragraph")
    columns = ["AUC", "AUC (span margin)", "AUC out of scope", "AUC near miss", "AUC swapped", "span right", "ms/read", "load ms", "MB", "answerable", "unanswerable"]  # fmt: skip
    print("| reader | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for folder in args.reader or [MODEL_DIR]:
        for titles in (False, True) if args.titles else (False,):
            row = judge(folder, questions, titles)
            name = f"{folder}, after the title" if titles else str(folder)
            print(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |", flush=True)


if __name__ == "__main__":
    main()
