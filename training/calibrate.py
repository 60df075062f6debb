"""Calibrate the trained reader on held-out SQuAD 2.0 articles: rerank weight and refusal threshold.

    .venv/bin/python training/calibrate.py [--work DIR]

The corpus is all 17 articles of SQuAD 2.0 dev part A, indexed as `qa index` does. The questions
are asked of the whole corpus through qa's retrieval, a mix of the four kinds a real folder gets:

- answerable: those of the CALIBRATION articles (never seen in training, training/reader.py);
- adversarial: the CALIBRATION articles' unanswerable ones (SQuAD 2.0, written to look answerable);
- out of corpus: a seeded sample of SQuAD 1.0 train questions (../shared/benchmarks/train), whose
  articles the corpus lacks;
- near misses from the same article: answerable CALIBRATION questions whose paragraph is left
  out of the corpus (a seeded NEAR_MISS_SHARE of those articles' paragraphs), where no other
  paragraph of the article holds an answer: the article's other paragraphs share their words;
- swapped keys: answerable CALIBRATION questions with a year, number or name swapped for one
  their article never states ("Who will host the 2030 summit?" over documents about 2024); a
  name for a sibling that the corpus or the training data list beside it where there is one
  (training/siblings.py: "England" for "France"), else for a random name of the corpus.

A candidate whose passage never states a year or figure the question writes in figures, or
never names a country the question names while its answer sentence names another, cannot answer
(qa.answer.keys, qa.answer.places: a near miss), as at run time.

For each question the top reranking.DEPTH candidates are read once, given their span
(qa.answer.answering.leads) and kept in DIR; then:

1. the rerank weight w (score = w * P(answers) + (1 - w) * retrieval) is the one of 0, 0.1, ...,
   1 with the best hit@1 on the answerable questions;
2. a logistic model over qa.answer.answering.features (the reader's scores, the retrieval score,
   whether the span is the kind of thing asked for, the share of the question's numbers and
   names the passage never states) estimates, per candidate,
   the probability that it answers the question (it is the question's own paragraph and holds
   a gold answer: sentence errors are the reader's, not a reason to refuse);
3. the threshold on the best candidate's probability is the highest one that refuses at most
   MAX_FALSE_REFUSALS of the answerable questions. Plain accuracy would let the calibration
   articles' mix decide (64% of their questions are unanswerable: refusing everything scores
   0.64), and balanced accuracy is flat (0.52 +- 0.01 from 0.15 to 0.45), so it cannot choose:
   the reader barely tells SQuAD 2.0's unanswerable questions, written to look answerable, from
   the others. A cap on false refusals keeps what it does tell (weak evidence is declined)
   without refusing answerable questions it cannot judge. The cap is 5%, the brief's own target
   for false refusals: SQuAD's answerable questions share more words with their paragraph than
   a real folder's do, so a 10% cap here refused 14% of benchmarks/real-heldout.jsonl's answerable
   questions with the 80k reader, a 5% cap 2% (benchmarks/RESULTS-quality.md).
4. where the likeliest candidate is a near miss (it answers for another year or figure) and a
   less likely one states the question's keys, that one answers only with at least a share of
   the near miss's probability (qa.answer.answering.Refusal.near_share): of NEAR_SHARES, the one
   that declines most at the cap, the largest where they tie.

The two remaining part-A articles (TEST) are left for benchmarks/answers.py to report on. The
chosen values go into qa/models/reader/reader.json under "calibration", the precision/recall
curve is printed as Markdown for benchmarks/RESULTS-quality.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from reader import ROOT, SOURCES, SQUAD1_TRAIN, SQUAD2, articles, split
from siblings import siblings, swap_sibling

sys.path.insert(0, str(ROOT / "benchmarks"))
from common import build_qa, log, write_corpus  # noqa: E402

CALIBRATION = ("Packet_switching", "Black_Death")
TEST = ("Geology", "Pharmacy")  # held out of training and calibration alike
FEATURES = ("answer_logit", "span_margin", "retrieval", "type_misfit", "key_missing")
# Each set is fitted on half the questions and judged on the other half (cross_check) before the
# final fit on all: a signal stays only if it declines more at the same false-refusal cap.
FEATURE_SETS = {
    "reader + retrieval": FEATURES[:3],
    "+ type misfit": FEATURES[:4],
    "+ key missing": (*FEATURES[:3], "key_missing"),
    "all": FEATURES,
}
OUT_OF_CORPUS = 200
SWAPPED = 200
NEAR_MISS_SHARE = 0.15  # of the CALIBRATION articles' paragraphs, left out of the corpus
KINDS = ("answerable", "adversarial", "out of corpus", "near miss", "swapped")
WEIGHTS = [round(0.1 * i, 1) for i in range(11)]
MAX_FALSE_REFUSALS = 0.05
NEAR_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)  # qa.answer.answering.Refusal.near_share


def corpus_and_questions(titles: tuple[str, ...], seed: int = 11, headed: bool = False) -> tuple[dict[str, str], list[dict]]:  # fmt: skip
    rng = random.Random(seed)
    documents, questions = {}, []
    for article in articles(SQUAD2):
        name = f"{article['title']}.txt"
        paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        left_out = set()
        if article["title"] in titles:
            left_out = set(rng.sample(range(len(paragraphs)), round(NEAR_MISS_SHARE * len(paragraphs))))  # fmt: skip
        kept = [c for i, c in enumerate(paragraphs) if i not in left_out]
        # headed: each article opens with its title, as a report does, for a reader that reads
        # a passage after its document's title (qa.models.reading.Reader.reads_titles)
        head = [article["title"].replace("_", " ")] if headed else []
        documents[name] = "\n\n".join([*head, *kept]) + "\n"
        if article["title"] not in titles:
            continue
        for i, p in enumerate(article["paragraphs"]):
            for qa in p["qas"]:
                answers = sorted({" ".join(a["text"].split()) for a in qa.get("answers") or []})
                kind = "answerable" if answers else "adversarial"
                if i in left_out:
                    if not answers or any(contains(c, answers) for c in kept):
                        continue  # unanswerable anyway, or answered by another paragraph
                    kind, answers = "near miss", []
                questions.append({"question": qa["question"], "source": name, "answers": answers, "kind": kind})  # fmt: skip
    outside = [
        qa["question"]
        for article in articles(SQUAD1_TRAIN)
        for p in article["paragraphs"]
        for qa in p["qas"]
    ]
    for q in rng.sample(outside, OUT_OF_CORPUS):
        questions.append({"question": q, "source": None, "answers": [], "kind": "out of corpus"})
    lower = {w for d in documents.values() for w in re.findall(r"\b[a-z]+\b", d)}
    pool = sorted({w for d in documents.values() for w in _NAME.findall(d)} - {w.title() for w in lower})  # fmt: skip
    # siblings as the training data lists them (a map of names only: no question or answer)
    known = siblings([*documents.values(), *(p["context"] for a in split(SOURCES)[0] for p in a["paragraphs"])])  # fmt: skip
    answerable = [q for q in questions if q["kind"] == "answerable"]
    for q in rng.sample(answerable, len(answerable)):
        article = documents[q["source"]]
        swapped = swap_sibling(q["question"], article, known, rng) or swap(q["question"], article, pool, rng)  # fmt: skip
        if swapped:
            questions.append({"question": swapped, "source": q["source"], "answers": [], "kind": "swapped"})  # fmt: skip
        if sum(x["kind"] == "swapped" for x in questions) == SWAPPED:
            break
    return documents, questions


_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d+\b")
_NAME = re.compile(r"\b[A-Z][a-z]{3,}\b")


def swap(question: str, article: str, names: list[str], rng: random.Random) -> str | None:
    """The question with a year, number or (else) name swapped for one the article never states."""
    for pattern in (_YEAR, _NUMBER):
        m = pattern.search(question)
        if m:
            value = int(m.group(0))
            for _ in range(50):
                other = str(value + rng.choice([-1, 1]) * rng.randint(1, 12))
                if not re.search(rf"\b{other}\b", article):
                    return question[: m.start()] + other + question[m.end() :]
            return None
    found = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group(0) in article]
    if not found:
        return None
    m = rng.choice(found)
    for _ in range(50):
        other = rng.choice(names)
        if other not in article:
            return question[: m.start()] + other + question[m.end() :]
    return None


def read_candidates(retriever, questions: list[dict]) -> list[list[dict]]:
    """Per question, its reranking candidates with the reader's scores and answer sentences."""
    from qa.answer.answering import features, lacks, leads, unstated
    from qa.answer.keys import NameLikeness
    from qa.answer.quoting import answer_sentence
    from qa.search.reranking import DEPTH, rerank

    likeness = NameLikeness(retriever.embedder.encode)
    out = []
    for n, q in enumerate(questions, 1):
        vector = retriever.encode_query(q["question"])
        hits = retriever.hybrid(q["question"], vector, DEPTH)
        read = leads(q["question"], rerank(q["question"], hits, retriever.reader, weight=1.0), retriever.index)  # fmt: skip
        out.append([
            features(q["question"], h, likeness) | {
                "probability": h.reading.probability,
                "unstated": bool(unstated(q["question"], h)),
                "lacks": bool(lacks(q["question"], h)),
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


def fit_refusal(candidates: list[list[dict]], names: tuple[str, ...] = FEATURES) -> tuple[dict[str, float], float]:  # fmt: skip
    from sklearn.linear_model import LogisticRegression

    rows = [c for cs in candidates for c in cs]
    x = np.array([[c[f] for f in names] for c in rows])
    y = np.array([c["right_passage"] for c in rows])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return dict(zip(names, map(float, model.coef_[0]), strict=True)), float(model.intercept_[0])


def outcomes(candidates, questions, weights, bias, near_share: float = 0.0) -> list[tuple[float, bool, bool]]:  # fmt: skip
    """(best probability, answerable, the best candidate's sentence is right) per question."""
    out = []
    for cs, q in zip(candidates, questions, strict=True):
        if not cs:
            out.append((0.0, bool(q["answers"]), False))
            continue
        probs = [1 / (1 + np.exp(-(bias + sum(w * c[f] for f, w in weights.items())))) for c in cs]
        # as qa.answer.answering.compose: a candidate that never states the question's years and
        # figures cannot answer, and where none states them the question is refused (near miss)
        stating = [i for i, c in enumerate(cs) if not c.get("unstated")]
        if not stating:
            out.append((0.0, bool(q["answers"]), False))
            continue
        i = max(stating, key=lambda i: probs[i])
        likeliest = max(range(len(cs)), key=lambda j: probs[j])
        if cs[likeliest].get("unstated") and probs[i] < near_share * probs[likeliest]:
            out.append((0.0, bool(q["answers"]), False))  # the near miss stands
            continue
        # and one whose sentence states no time or figure where only one answers cannot
        answering = [j for j in stating if not cs[j].get("lacks") and (not cs[likeliest].get("unstated") or probs[j] >= near_share * probs[likeliest])]  # fmt: skip
        if not answering:
            out.append((0.0, bool(q["answers"]), False))
            continue
        i = max(answering, key=lambda j: probs[j])
        out.append((float(probs[i]), bool(q["answers"]), bool(cs[i]["right_sentence"])))
    return out


def choose_threshold(results, most: float = MAX_FALSE_REFUSALS) -> dict:
    """The highest threshold that refuses at most `most` of the answerable questions."""
    grid = curve(results, np.round(np.arange(0.01, 0.99, 0.01), 2))
    return max((r for r in grid if r["false_refusals"] <= most), key=lambda r: r["threshold"])


def cross_check(candidates, questions, names: tuple[str, ...], most: float = MAX_FALSE_REFUSALS) -> dict:  # fmt: skip
    """Fitted and thresholded on one half of the questions, judged on the other, both ways."""
    judged = []
    for half in (0, 1):
        fit = [i for i in range(len(questions)) if i % 2 == half]
        other = [i for i in range(len(questions)) if i % 2 != half]
        weights, bias = fit_refusal([candidates[i] for i in fit], names)
        fitted = outcomes([candidates[i] for i in fit], [questions[i] for i in fit], weights, bias)
        t = choose_threshold(fitted, most)["threshold"]
        judged_half = outcomes([candidates[i] for i in other], [questions[i] for i in other], weights, bias)  # fmt: skip
        judged += [((p >= t, a, r), questions[i]["kind"]) for (p, a, r), i in zip(judged_half, other, strict=True)]  # fmt: skip
    return by_kind(judged)


def by_kind(judged) -> dict:
    """Per kind of question, the share handled right: answerable answered with the right
    sentence, the others declined; and the answerable questions refused."""
    out = {}
    for kind in KINDS:
        rows = [(answered, a, right) for (answered, a, right), k in judged if k == kind]
        if not rows:
            continue
        if kind == "answerable":
            out["answered right"] = sum(x and r for x, _, r in rows) / len(rows)
            out["false refusals"] = sum(not x for x, _, _ in rows) / len(rows)
        else:
            out[f"{kind} declined"] = sum(not x for x, _, _ in rows) / len(rows)
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
    parser.add_argument("--max-false-refusals", type=float, default=MAX_FALSE_REFUSALS, help="the share of answerable questions the threshold may refuse")  # fmt: skip
    args = parser.parse_args()

    from qa.ingest.passages import DEFAULT_MAX_WORDS
    from qa.models.onnx_embedding import BuildEncoder
    from qa.models.reading import Reader

    documents, questions = corpus_and_questions(CALIBRATION, headed=Reader(args.model).reads_titles)  # fmt: skip
    if args.limit:
        questions = questions[:: len(questions) // args.limit][: args.limit]
    key = hashlib.sha256(json.dumps([_model_id(args.model), FEATURES, questions, _code_id()]).encode()).hexdigest()[:16]  # fmt: skip
    cache = args.work / "candidates.json"
    if cache.is_file() and json.loads(cache.read_text())["key"] == key:
        candidates = json.loads(cache.read_text())["candidates"]
    else:
        write_corpus(args.work / "corpus", documents)
        retriever = build_qa(args.work / "corpus", args.work / "index", BuildEncoder(None, notice=log), DEFAULT_MAX_WORDS)  # fmt: skip
        retriever.reader = Reader(args.model)
        candidates = read_candidates(retriever, questions)
        cache.write_text(json.dumps({"key": key, "candidates": candidates}))
    counts = {k: sum(q["kind"] == k for q in questions) for k in KINDS}
    print(f"{len(questions)} calibration questions: " + ", ".join(f"{n} {k}" for k, n in counts.items()))  # fmt: skip

    weight, table = best_weight(candidates, questions)
    print("rerank weight -> hit@1 (answerable): " + ", ".join(f"{w}: {h:.3f}" for w, h in table.items()))  # fmt: skip
    checks = {name: cross_check(candidates, questions, names, args.max_false_refusals) for name, names in FEATURE_SETS.items()}  # fmt: skip
    columns = list(next(iter(checks.values())))
    print(
        "\nsignals, each fitted and thresholded on half the questions, judged on the other half:\n"
    )
    print("| signals | " + " | ".join(columns) + " |\n|---" + "|---:" * len(columns) + "|")
    for name, figures in checks.items():
        print(f"| {name} | " + " | ".join(f"{figures[c]:.3f}" for c in columns) + " |")
    chosen_set = max(checks, key=lambda n: _declined(checks[n]))
    print(f"\nchosen: {chosen_set} (most declined, mean over the four unanswerable kinds)\n")

    weights, bias = fit_refusal(candidates, FEATURE_SETS[chosen_set])
    near_share, shares = choose_near_share(candidates, questions, weights, bias, args.max_false_refusals)  # fmt: skip
    print("near-miss share -> mean declined at the cap: " + ", ".join(f"{s}: {d:.3f}" for s, d in shares.items()))  # fmt: skip
    results = outcomes(candidates, questions, weights, bias, near_share)
    best = choose_threshold(results, args.max_false_refusals)
    shown = curve(results, sorted({*np.round(np.arange(0.05, 0.96, 0.05), 2), best["threshold"]}))
    print(markdown(shown, best["threshold"]))
    per_kind = by_kind([((p >= best["threshold"], a, r), q["kind"]) for (p, a, r), q in zip(results, questions, strict=True)])  # fmt: skip
    print("\nat the chosen threshold: " + ", ".join(f"{k} {v:.3f}" for k, v in per_kind.items()))
    calibration = {
        "rerank_weight": weight,
        "rerank_hit_at_1": table,
        "refusal": {
            "weights": weights,
            "bias": bias,
            "threshold": best["threshold"],
            "near_share": near_share,
            "criterion": f"at most {args.max_false_refusals:.0%} false refusals on held-out SQuAD 2.0 questions, calibrated with adversarial, out-of-corpus, same-article near-miss and swapped-key ones",  # fmt: skip
        },
        "chosen_point": best,
        "per_kind": per_kind,
        "signals_cross_checked": checks,
        "data": f"SQuAD 2.0 dev part A over all 17 articles: the questions of {', '.join(CALIBRATION)}; "
        f"{OUT_OF_CORPUS} SQuAD 1.0 train questions (out of corpus); {counts['near miss']} near misses (their paragraph left out); {counts['swapped']} with a key swapped",  # fmt: skip
        "command": "python training/calibrate.py",
    }
    path = args.model / "reader.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(
        json.dumps(meta | {"calibration": calibration}, indent=1) + "\n", encoding="utf-8"
    )
    print(f"rerank weight {weight}, refusal {weights} bias {bias:.3f}, threshold {best['threshold']}: accuracy {best['accuracy']:.3f}, balanced {best['balanced_accuracy']:.3f}")  # fmt: skip


def choose_near_share(candidates, questions, weights, bias, most: float) -> tuple[float, dict]:
    """Of NEAR_SHARES, the one that declines most (mean over the unanswerable kinds) at its own
    threshold for the false-refusal cap; where they tie, the largest: the issue's rule, that a
    question whose year the likeliest passage does not state is not answered, stands unless
    the data shows it costs."""
    table = {}
    for share in NEAR_SHARES:
        results = outcomes(candidates, questions, weights, bias, share)
        t = choose_threshold(results, most)["threshold"]
        table[share] = _declined(by_kind([((p >= t, a, r), q["kind"]) for (p, a, r), q in zip(results, questions, strict=True)]))  # fmt: skip
    return max(NEAR_SHARES, key=lambda s: (round(table[s], 6), s)), table


def _declined(figures: dict) -> float:
    shares = [v for k, v in figures.items() if k.endswith("declined")]
    return sum(shares) / len(shares)


def _code_id() -> str:
    """What the candidates' features are computed with: a change there reads them afresh."""
    parts = [
        ROOT / "qa" / "answer" / n
        for n in ("answering.py", "keys.py", "names.py", "places.py", "spans.py")
    ]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]


def _model_id(folder: Path) -> str:
    return hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()[:16]


if __name__ == "__main__":
    main()
