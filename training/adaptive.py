"""Choose how answering reads less: the first candidates read, and how sure they must be to stop.

    .venv/bin/python training/adaptive.py [--work DIR] [--model qa/models/reader]

Reading a candidate costs about 20 ms on 2 cores, and `POST /ask` read all eight. Answering now
reads the top FIRST_READ first and reads the rest only when none of those answers with
probability SURE or more (qa.answer.answering.compose). This replays each policy on the
calibration questions of training/calibrate.py (the same corpus, index and mix of answerable and
unanswerable questions; no benchmark question), from one reading of each question at each
depth, and prints per policy:

- agree: the share of questions whose answer (or refusal) is the one reading all eight gives;
- answered right: answerable questions answered from a sentence holding a gold answer;
- declined: unanswerable questions refused;
- read: passages read per question (the first ones, and all eight where it goes on).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from calibrate import CALIBRATION, contains, corpus_and_questions
from reader import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from common import build_qa, log, write_corpus  # noqa: E402

FIRSTS = (1, 2, 3, 4)
SURES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
# Three stages: the top one alone where it is this sure, then the top three at 0.15, then all.
ONE_SURES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-calibrate")
    parser.add_argument("--model", type=Path, default=ROOT / "qa" / "models" / "reader")
    parser.add_argument("--limit", type=int, default=0, help="only this many questions (smoke runs)")  # fmt: skip
    args = parser.parse_args()

    from qa.answer.answering import CANDIDATE_PASSAGES, Refusal, decide
    from qa.answer.keys import NameLikeness
    from qa.ingest.passages import DEFAULT_MAX_WORDS
    from qa.models.onnx_embedding import BuildEncoder
    from qa.models.reading import Reader

    documents, questions = corpus_and_questions(CALIBRATION)
    if args.limit:
        questions = questions[:: len(questions) // args.limit][: args.limit]
    write_corpus(args.work / "corpus", documents)
    retriever = build_qa(args.work / "corpus", args.work / "index", BuildEncoder(None, notice=log), DEFAULT_MAX_WORDS)  # fmt: skip
    retriever.reader = Reader(args.model)
    refusal, likeness = Refusal.of(retriever.reader), NameLikeness(retriever.embedder.encode)

    rows = []  # per question: {depth: (answer text, answerable, probability)}
    for n, q in enumerate(questions, start=1):
        row = {}
        for depth in (*FIRSTS, CANDIDATE_PASSAGES):
            hits = retriever.search(q["question"], CANDIDATE_PASSAGES, depth=depth)
            answer, p = decide(q["question"], hits, retriever.index, 5, refusal, likeness=likeness)  # fmt: skip
            row[depth] = (answer.answer, answer.answerable, p)
        rows.append(row)
        if n % 100 == 0:
            log(f"{n}/{len(questions)} questions read")

    def judge(stages: tuple[tuple[int, float], ...]) -> dict:
        """A policy: read each stage's first candidates in turn, stopping at the first stage
        that answers with at least its probability; all eight where none does."""
        agree = right = declined = read = 0
        for q, row in zip(questions, rows, strict=True):
            text, answerable, _ = row[CANDIDATE_PASSAGES]
            depth = CANDIDATE_PASSAGES
            for first, sure in stages:
                if row[first][1] and row[first][2] >= sure:
                    (text, answerable, _), depth = row[first], first  # it stopped there
                    break
            read += depth
            agree += (text, answerable) == row[CANDIDATE_PASSAGES][:2]
            right += bool(q["answers"]) and answerable and contains(text, q["answers"])
            declined += not q["answers"] and not answerable
        answerable_n = sum(bool(q["answers"]) for q in questions)
        n = len(questions)
        return {
            "agree": agree / n,
            "answered right": right / max(1, answerable_n),
            "declined": declined / max(1, n - answerable_n),
            "read": read / n,
        }

    print(f"{len(questions)} calibration questions, {sum(bool(q['answers']) for q in questions)} answerable\n")  # fmt: skip
    print("| first read | sure | agree | answered right | declined | passages read |\n|---|---|---:|---:|---:|---:|")  # fmt: skip
    policies = [()] + [((f, s),) for f in FIRSTS for s in SURES]
    policies += [((1, one), (3, 0.15)) for one in ONE_SURES]
    for stages in policies:
        r = judge(stages)
        first = " then ".join(str(f) for f, _ in stages) or "all"
        sure = " then ".join(str(s) for _, s in stages) or "-"
        print(f"| {first} | {sure} | {r['agree']:.3f} | {r['answered right']:.3f} | {r['declined']:.3f} | {r['read']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
