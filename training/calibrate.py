"""Calibrate the trained reader on held-out SQuAD 2.0 articles: rerank weight and refusal threshold.

    .venv/bin/python training/calibrate.py [--work DIR]

The corpus is all 17 articles of SQuAD 2.0 dev part A, indexed as `qa index` does; the questions
are those of CALIBRATION articles (never seen in training, training/reader.py), answerable and
unanswerable mixed, asked of the whole corpus through qa's retrieval. For each question the top
reranking.DEPTH candidates are read once and kept in DIR; then:

1. the rerank weight w (score = w * P(answers) + (1 - w) * retrieval) is the one of 0, 0.1, ...,
   1 with the best hit@1 on the answerable questions;
2. a logistic model over the reader's scores (qa.answer.answering.features) estimates, per candidate,
   the probability that it answers the question (it is the question's own paragraph and holds
   a gold answer: sentence errors are the reader's, not a reason to refuse);
3. the threshold on the best candidate's probability is the highest one that refuses at most
   MAX_FALSE_REFUSALS of the answerable questions. Plain accuracy would let the calibration
   articles' mix decide (64% of their questions are unanswerable: refusing everything scores
   0.64), and balanced accuracy is flat (0.52 +- 0.01 from 0.15 to 0.45), so it cannot choose:
   the reader barely tells SQuAD 2.0's unanswerable questions, written to look answerable, from
   the others. A cap on false refusals keeps what it does tell (weak evidence is declined)
   without refusing answerable questions it cannot judge.

The two remaining part-A articles (TEST) are left for benchmarks/answers.py to report on. The
chosen values go into qa/models/reader/reader.json under "calibration", the precision/recall
curve is printed as Markdown for benchmarks/RESULTS-quality.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from reader import ROOT, SQUAD2, articles

sys.path.insert(0, str(ROOT / "benchmarks"))
from common import build_qa, log, write_corpus  # noqa: E402

CALIBRATION = ("Packet_switching", "Black_Death")
TEST = ("Geology", "Pharmacy")  # held out of training and calibration alike
FEATURES = ("answer_logit", "span_margin", "retrieval")
WEIGHTS = [round(0.1 * i, 1) for i in range(11)]
MAX_FALSE_REFUSALS = 0.10


def corpus_and_questions(titles: tuple[str, ...]) -> tuple[dict[str, str], list[dict]]:
    documents, questions = {}, []
    for article in articles(SQUAD2):
        name = f"{article['title']}.txt"
        documents[name] = "\n\n".join(" ".join(p["context"].split()) for p in article["paragraphs"]) + "\n"  # fmt: skip
        if article["title"] not in titles:
            continue
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                answers = sorted({" ".join(a["text"].split()) for a in qa.get("answers") or []})
                questions.append({"question": qa["question"], "source": name, "answers": answers})
    return documents, questions


def read_candidates(retriever, questions: list[dict]) -> list[list[dict]]:
    """Per question, its reranking candidates with the reader's scores and answer sentences."""
    from qa.answer.answering import answer_sentence, features
    from qa.search.reranking import DEPTH, rerank

    out = []
    for n, q in enumerate(questions, 1):
        vector = retriever.encode_query(q["question"])
        hits = retriever.hybrid(q["question"], vector, DEPTH)
        read = rerank(q["question"], hits, retriever.reader, weight=1.0)
        out.append([
            features(h) | {
                "probability": h.reading.probability,
                "right_passage": h.passage.source == q["source"] and contains(h.passage.text, q["answers"]),  # fmt: skip
                "right_sentence": h.passage.source == q["source"] and contains(answer_sentence(h), q["answers"]),  # fmt: skip
            }
            for h in read
        ])  # fmt: skip
        if n % 100 == 0:
            log(f"read {n}/{len(questions)} questions")
    return out


def contains(text: str, answers: list[str]) -> bool:
    from qa.ingest.documents import normalise

    folded = normalise(text)
    return any(normalise(a) in folded for a in answers)


def best_weight(candidates: list[list[dict]], questions: list[dict]) -> tuple[float, dict]:
    answerable = [c for c, q in zip(candidates, questions, strict=True) if q["answers"] and c]
    table = {}
    for w in WEIGHTS:
        top = [max(c, key=lambda x: w * x["probability"] + (1 - w) * x["retrieval"]) for c in answerable]  # fmt: skip
        table[w] = sum(t["right_passage"] for t in top) / len(top)
    return max(WEIGHTS, key=lambda w: (table[w], w)), table


def fit_refusal(candidates: list[list[dict]]) -> tuple[dict[str, float], float]:
    from sklearn.linear_model import LogisticRegression

    rows = [c for cs in candidates for c in cs]
    x = np.array([[c[f] for f in FEATURES] for c in rows])
    y = np.array([c["right_passage"] for c in rows])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return dict(zip(FEATURES, map(float, model.coef_[0]), strict=True)), float(model.intercept_[0])


def outcomes(candidates, questions, weights, bias) -> list[tuple[float, bool, bool]]:
    """(best probability, answerable, the best candidate's sentence is right) per question."""
    out = []
    for cs, q in zip(candidates, questions, strict=True):
        if not cs:
            out.append((0.0, bool(q["answers"]), False))
            continue
        probs = [1 / (1 + np.exp(-(bias + sum(weights[f] * c[f] for f in FEATURES)))) for c in cs]
        i = int(np.argmax(probs))
        out.append((float(probs[i]), bool(q["answers"]), bool(cs[i]["right_sentence"])))
    return out


def curve(results, thresholds) -> list[dict]:
    rows = []
    n = len(results)
    answerable = sum(a for _, a, _ in results) or 1
    unanswerable = (n - sum(a for _, a, _ in results)) or 1
    for t in thresholds:
        answered = [(a, r) for p, a, r in results if p >= t]
        right = sum(1 for a, r in answered if a and r)
        declined = sum(1 for p, a, _ in results if p < t and not a)
        rows.append({
            "threshold": round(float(t), 3),
            "answered": len(answered) / n,
            "precision": right / len(answered) if answered else 1.0,
            "recall": right / answerable,
            "false_refusals": sum(1 for p, a, _ in results if p < t and a) / answerable,
            "unanswerable_declined": declined / unanswerable,
            "accuracy": (right + declined) / n,
            "balanced_accuracy": (right / answerable + declined / unanswerable) / 2,
        })  # fmt: skip
    return rows


def markdown(rows: list[dict], chosen: float) -> str:
    keys = ["threshold", "answered", "precision", "recall", "false_refusals", "unanswerable_declined", "accuracy", "balanced_accuracy"]  # fmt: skip
    lines = ["| " + " | ".join(keys) + " |", "|---" * len(keys) + "|"]
    for r in rows:
        mark = " **(chosen)**" if r["threshold"] == round(chosen, 3) else ""
        lines.append("| " + " | ".join(f"{r[k]:.3f}" for k in keys) + mark + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-calibrate")
    parser.add_argument("--model", type=Path, default=ROOT / "qa" / "models" / "reader")
    parser.add_argument(
        "--limit", type=int, default=0, help="only this many questions (smoke runs)"
    )
    args = parser.parse_args()

    from qa.ingest.passages import DEFAULT_MAX_WORDS
    from qa.models.onnx_embedding import BuildEncoder
    from qa.models.reading import Reader

    documents, questions = corpus_and_questions(CALIBRATION)
    if args.limit:
        questions = questions[:: len(questions) // args.limit][: args.limit]
    cache = args.work / "candidates.json"
    if cache.is_file() and json.loads(cache.read_text())["model"] == _model_id(args.model):
        candidates = json.loads(cache.read_text())["candidates"]
    else:
        write_corpus(args.work / "corpus", documents)
        retriever = build_qa(args.work / "corpus", args.work / "index", BuildEncoder(None, notice=log), DEFAULT_MAX_WORDS)  # fmt: skip
        retriever.reader = Reader(args.model)
        candidates = read_candidates(retriever, questions)
        cache.write_text(json.dumps({"model": _model_id(args.model), "candidates": candidates}))
    log(f"{len(questions)} calibration questions ({sum(not q['answers'] for q in questions)} unanswerable) from {', '.join(CALIBRATION)}")  # fmt: skip

    weight, table = best_weight(candidates, questions)
    print("rerank weight -> hit@1 (answerable): " + ", ".join(f"{w}: {h:.3f}" for w, h in table.items()))  # fmt: skip
    weights, bias = fit_refusal(candidates)
    results = outcomes(candidates, questions, weights, bias)
    grid = curve(results, np.round(np.arange(0.01, 0.99, 0.01), 2))
    best = max((r for r in grid if r["false_refusals"] <= MAX_FALSE_REFUSALS), key=lambda r: r["threshold"])  # fmt: skip
    shown = curve(results, sorted({*np.round(np.arange(0.05, 0.96, 0.05), 2), best["threshold"]}))
    print(markdown(shown, best["threshold"]))
    calibration = {
        "rerank_weight": weight,
        "rerank_hit_at_1": table,
        "refusal": {
            "weights": weights,
            "bias": bias,
            "threshold": best["threshold"],
            "criterion": f"at most {MAX_FALSE_REFUSALS:.0%} false refusals on held-out SQuAD 2.0 questions",
        },
        "chosen_point": best,
        "data": f"SQuAD 2.0 dev part A: {len(questions)} questions of {', '.join(CALIBRATION)} over all 17 articles",  # fmt: skip
    }
    path = args.model / "reader.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(
        json.dumps(meta | {"calibration": calibration}, indent=1) + "\n", encoding="utf-8"
    )
    print(f"rerank weight {weight}, refusal {weights} bias {bias:.3f}, threshold {best['threshold']}: accuracy {best['accuracy']:.3f}, balanced {best['balanced_accuracy']:.3f}")  # fmt: skip


def _model_id(folder: Path) -> str:
    import hashlib

    return hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()[:16]


if __name__ == "__main__":
    main()
