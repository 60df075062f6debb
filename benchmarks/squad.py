"""SQuAD v1.1 dev as a 48-document corpus: does qa's top passage hold the answer?

    .venv/bin/python benchmarks/squad.py [--questions 1000] [--seed 2016] [--work DIR] [--answers N]

Each article becomes one text file (its paragraphs separated by blank lines) in a corpus folder,
indexed through `qa index`'s code; a fixed seeded sample of questions is asked of all 48
articles at once through the normal retrieval path. A hit is a passage (or, for the baselines,
a whole paragraph) from the question's article that contains one of its answer texts. The
baselines are computed in the same run (see common.py). With --answers N, qa also composes
answers (as `qa ask` does) to the first N questions: how many it answers, and how many of its
answers hold an answer text (every question is answerable, so the rest are false refusals).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from common import DATA, Baselines, build_qa, log, print_table, write_corpus

from qa.ingest.passages import DEFAULT_MAX_WORDS
from qa.models.onnx_embedding import BuildEncoder

KS = (1, 5, 10)


def load(path: Path) -> tuple[dict[str, str], list[tuple[str, int]], list[dict]]:
    """Documents by file name, the paragraphs as (file, index) units, and every question."""
    articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents, units, questions = {}, [], []
    for article in articles:
        name = f"{article['title']}.txt"
        contexts = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        documents[name] = "\n\n".join(contexts) + "\n"
        for p in article["paragraphs"]:
            units.append((name, " ".join(p["context"].split())))
            for qa in p["qas"]:
                answers = sorted({" ".join(a["text"].split()) for a in qa["answers"]})
                questions.append({"question": qa["question"], "source": name, "answers": answers})
    return documents, units, questions


def contains_answer(text: str, answers: list[str]) -> bool:
    from qa.ingest.documents import normalise

    folded = normalise(text)
    return any(normalise(a) in folded for a in answers)


def hit_rates(ranked: list[list[tuple[str, str]]], questions: list[dict]) -> dict[str, float]:
    """hit@k over questions, given each question's ranked (source, text) items."""
    first = []
    for items, q in zip(ranked, questions, strict=True):
        ranks = [r for r, (s, t) in enumerate(items[: max(KS)], 1) if s == q["source"] and contains_answer(t, q["answers"])]  # fmt: skip
        first.append(ranks[0] if ranks else None)
    return {f"hit@{k}": sum(1 for r in first if r and r <= k) / len(first) for k in KS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=1000, help="sample size (at least 500)")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--max-words", type=int, default=DEFAULT_MAX_WORDS, help="qa passage length cap"
    )
    parser.add_argument("--work", type=Path, help="keep corpus, index and baseline vectors here")
    parser.add_argument(
        "--no-rerank", action="store_true", help="retrieval alone, without the reader"
    )
    parser.add_argument("--answers", type=int, default=0, help="also compose answers to the first N questions of the sample")  # fmt: skip
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="qa-squad-"))
    documents, units, questions = load(DATA / "squad" / "dev-v1.1.json")
    sample = random.Random(args.seed).sample(questions, args.questions)
    covered = len({q["source"] for q in sample})
    log(f"SQuAD: {len(documents)} articles, {len(units)} paragraphs, {len(sample)} of {len(questions)} questions ({covered} articles)")  # fmt: skip
    assert covered == len(documents), "the sample must cover every article"

    embedder = BuildEncoder(None, notice=log)  # as `qa index` encodes: ONNX on every core
    write_corpus(work / "corpus", documents)
    retriever = build_qa(
        work / "corpus", work / "index", embedder, args.max_words, not args.no_rerank
    )

    started = time.perf_counter()
    ours = [[(h.passage.source, h.passage.text) for h in retriever.search(q["question"], max(KS))] for q in sample]  # fmt: skip
    per_question_ms = 1000 * (time.perf_counter() - started) / len(sample)

    baselines = Baselines([text for _, text in units], embedder, cache=work)
    rankings = baselines.rank([q["question"] for q in sample], depth=max(KS))

    passages = retriever.index.passages
    reachable = sum(
        any(p.source == q["source"] and contains_answer(p.text, q["answers"]) for p in passages)
        for q in sample
    ) / len(sample)
    rows = {
        f"qa passages (≤{args.max_words} words)": hit_rates(ours, sample)
        | {
            "answer in some passage": reachable,
            "mean words": sum(len(p.text.split()) for p in passages) / len(passages),
            "ms/question": per_question_ms,
        },  # fmt: skip
    }
    columns = [f"hit@{k}" for k in KS] + ["answer in some passage", "mean words", "ms/question"]
    if args.answers:  # qa's answerer, as `qa ask` runs it: answered at all, and holding the answer
        from qa.answer.answering import compose

        asked = sample[: args.answers]
        composed = [compose(q["question"], retriever) for q in asked]
        held = sum(a.answerable and contains_answer(a.answer, q["answers"]) for a, q in zip(composed, asked, strict=True))  # fmt: skip
        rows[next(iter(rows))] |= {"answered": sum(a.answerable for a in composed) / len(asked), "answer hit": held / len(asked)}  # fmt: skip
        columns += ["answered", "answer hit"]
        log(f"answers composed for the first {len(asked)} questions of the sample")
    paragraph_words = sum(len(t.split()) for _, t in units) / len(units)
    for name, ranked in rankings.items():
        rows[f"{name} (paragraphs)"] = hit_rates(
            [[units[i] for i in r] for r in ranked], sample
        ) | {
            "answer in some passage": 1.0,
            "mean words": paragraph_words,
        }
    if args.max_words != DEFAULT_MAX_WORDS:
        log(f"note: qa passages capped at {args.max_words} words (default {DEFAULT_MAX_WORDS})")
    print_table(f"SQuAD v1.1 dev: {len(sample)} questions (seed {args.seed}) over {len(documents)} articles", rows, columns)  # fmt: skip


if __name__ == "__main__":
    main()
