"""Evaluation: retrieval and answer quality of the assistant beside two paragraph baselines.

Question file format (one JSON object a line): `question`, `answerable` (default true), and for
answerable questions `evidence` (an exact span that supports the answer) and `answer` (a short
string a correct answer contains). Matching folds Unicode, case, quotes, dashes and spaces.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import BadInput
from qa.index.lexical import LexicalIndex
from qa.ingest.documents import normalise, parse

K_VALUES = (1, 3, 5)
MRR_DEPTH = 10


@dataclass(frozen=True)
class Question:
    question: str
    answerable: bool
    evidence: str | None
    answer: str | None


@dataclass(frozen=True)
class Ranked:
    """One ranked item as evaluation sees it: its text and the text of its endnotes."""

    text: str
    notes: tuple[str, ...] = ()


def load_questions(path: Path) -> list[Question]:
    if not path.is_file():
        raise BadInput(f"no question file at {path}")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(
                str(row["question"]),
                bool(row.get("answerable", True)),
                row.get("evidence"),
                row.get("answer"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"{path}:{number}: not a question object ({exc})") from exc
        if q.answerable and not (q.evidence or q.answer):
            raise BadInput(f"{path}:{number}: an answerable question needs `evidence` or `answer`")
        questions.append(q)
    if not questions:
        raise BadInput(f"{path} holds no questions")
    return questions


def is_hit(item: Ranked, evidence: str) -> bool:
    needle = normalise(evidence)
    return any(needle in normalise(t) for t in (item.text, *item.notes))


def retrieval_metrics(rankings: list[list[Ranked]], questions: list[Question]) -> dict:
    pairs = [
        (r, q) for r, q in zip(rankings, questions, strict=True) if q.answerable and q.evidence
    ]
    first_hits = []
    for ranking, q in pairs:
        ranks = [
            i for i, item in enumerate(ranking[:MRR_DEPTH], start=1) if is_hit(item, q.evidence)
        ]
        first_hits.append(ranks[0] if ranks else None)
    n = len(first_hits) or 1
    metrics = {f"hit@{k}": sum(1 for r in first_hits if r and r <= k) / n for k in K_VALUES}
    metrics["mrr@10"] = sum(1 / r for r in first_hits if r) / n
    return metrics


def paragraph_baselines(assistant) -> dict[str, list[Ranked]]:
    """Whole paragraphs (and endnotes) of every indexed document: the baselines' units."""
    units = []
    for source, doc in assistant.index.documents.items():
        document = parse(source, doc["text"])
        units += [document.block_text(b) for b in document.blocks if b.kind in ("body", "endnote")]
    return {"units": units}


def evaluate(assistant, questions: list[Question]) -> dict:
    units = paragraph_baselines(assistant)["units"]
    lexical = LexicalIndex.build(units)
    unit_vectors = assistant.embedder.encode(units)
    depth = max(MRR_DEPTH, max(K_VALUES))

    systems: dict[str, dict] = {}
    ours, bm25, dense = [], [], []
    answers = []
    for q in questions:
        hits = assistant.search(q.question, depth)
        ours.append(
            [Ranked(h.passage.text, tuple(n.text for n in h.passage.endnotes)) for h in hits]
        )
        bm25.append([Ranked(units[i]) for i in np.argsort(-lexical.scores(q.question))[:depth]])
        qv = assistant.embedder.encode([q.question])[0]
        dense.append([Ranked(units[i]) for i in np.argsort(-(unit_vectors @ qv))[:depth]])
        answers.append(assistant.ask(q.question))

    unit_words = statistics.mean(len(u.split()) for u in units)
    passage_words = statistics.mean(len(p.text.split()) for p in assistant.index.passages)
    systems["qa"] = (
        retrieval_metrics(ours, questions)
        | answer_metrics([(a.answer, a.answerable) for a in answers], questions)
        | {"mean_passage_words": passage_words}
    )
    for name, rankings in (("bm25-paragraphs", bm25), ("dense-paragraphs", dense)):
        # A baseline "answers" with its top paragraph and never refuses.
        baseline_answers = [(r[0].text if r else "", True) for r in rankings]
        systems[name] = (
            retrieval_metrics(rankings, questions)
            | answer_metrics(baseline_answers, questions)
            | {"mean_passage_words": unit_words}
        )
    return {
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "unanswerable": sum(not q.answerable for q in questions),
        "systems": systems,
        "per_question": [
            {
                "question": q.question,
                "answerable": q.answerable,
                "answered": a.answerable,
                "answer": a.answer,
                "signals": a.signals,
            }
            for q, a in zip(questions, answers, strict=True)
        ],
    }


def answer_metrics(answers: list[tuple[str, bool]], questions: list[Question]) -> dict:
    answerable = [(a, q) for a, q in zip(answers, questions, strict=True) if q.answerable]
    unanswerable = [(a, q) for a, q in zip(answers, questions, strict=True) if not q.answerable]
    with_answer = [(a, q) for a, q in answerable if q.answer]
    hit = sum(1 for (text, ok), q in with_answer if ok and normalise(q.answer) in normalise(text))
    return {
        "answer_hit": hit / len(with_answer) if with_answer else None,
        "false_refusals": sum(1 for (_, ok), _ in answerable if not ok) / len(answerable)
        if answerable
        else None,
        "unanswerable_refused": sum(1 for (_, ok), _ in unanswerable if not ok) / len(unanswerable)
        if unanswerable
        else None,
    }


ROWS = (
    ("hit@1", "retrieval hit@1"),
    ("hit@3", "retrieval hit@3"),
    ("hit@5", "retrieval hit@5"),
    ("mrr@10", "MRR@10"),
    ("answer_hit", "answer hit"),
    ("false_refusals", "false refusals (answerable)"),
    ("unanswerable_refused", "refused (unanswerable)"),
    ("mean_passage_words", "mean passage words"),
)


def render_table(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    names = list(report["systems"])
    table = Table(
        title=f"{report['questions']} questions ({report['answerable']} answerable, {report['unanswerable']} not)"
    )
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    for key, label in ROWS:
        cells = []
        for name in names:
            value = report["systems"][name].get(key)
            cells.append(
                "—"
                if value is None
                else (f"{value:.1f}" if key == "mean_passage_words" else f"{value:.3f}")
            )
        table.add_row(label, *cells)
    Console(highlight=False).print(table)
    print(
        "Baselines rank whole paragraphs; their 'answer' is the top paragraph and they never refuse."
    )
