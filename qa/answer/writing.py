"""Answers written by a local LLM: the model reads the top passages, every sentence it writes is
checked (qa/answer/checking.py) as soon as it is complete, and only supported sentences are streamed and
kept. When none is, the answer is the extractive one, and it says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from qa.answer.answering import Answer
from qa.answer.checking import CheckedSentence, check, complete_sentences, sentences
from qa.answer.conversation import Turn
from qa.answer.llm import LLMConfig, messages, stream_reply
from qa.search.hybrid import Hit

NOTHING_SUPPORTED = (
    "The local model's answer had no sentence supported by the passage it cites; "
    "this answer is quoted from the passages instead."
)
NOT_ASKED = "The corpus does not answer this question, so the local model was not asked."


def write(
    config: LLMConfig,
    query: str,
    hits: Sequence[Hit],
    turns: Sequence[Turn],
    extractive: Answer,
    support: Callable[[str, str], float],
) -> Iterator[str | Answer]:
    """Text as it is checked (supported sentences, with their markers), then the whole Answer."""
    passages = [h.passage.text for h in hits]
    chat = messages(query, passages, [(t.question, t.answer) for t in turns])
    reply = stream_reply(config, chat)  # a dead or refusing server fails here, before any text
    numbering: dict[int, int] = {}  # passage number in the prompt -> marker in the answer
    checked: list[CheckedSentence] = []

    def settle(sentence: str) -> str | None:
        result = check(sentence, passages, support)
        if result.kept:
            marks = [numbering.setdefault(n, len(numbering) + 1) for n in result.cited]
            result = replace(result, markers=marks)
        checked.append(result)
        return shown(result) if result.kept else None

    buffer = ""
    for piece in reply:
        buffer += piece
        done, buffer = complete_sentences(buffer)
        for sentence in done:
            text = settle(sentence)
            if text:
                yield ("" if _first_kept(checked) else " ") + text
    for sentence in sentences(buffer):
        text = settle(sentence)
        if text:
            yield ("" if _first_kept(checked) else " ") + text

    listed = [c.to_dict() for c in checked]
    kept = [c for c in checked if c.kept]
    if not kept:
        yield extractive.answer
        yield replace(extractive, sentences=listed, note=NOTHING_SUPPORTED)
        return
    citations = [(marker, hits[n - 1]) for n, marker in numbering.items()]
    yield Answer(
        question=extractive.question,
        answer=" ".join(shown(c) for c in kept),
        answerable=True,
        citations=citations,
        signals=extractive.signals,
        query_used=extractive.query_used,
        mode="llm",
        sentences=listed,
    )


def shown(sentence: CheckedSentence) -> str:
    return f"{sentence.text} " + "".join(f"[{m}]" for m in sentence.markers)


def _first_kept(checked: list[CheckedSentence]) -> bool:
    return sum(1 for c in checked if c.kept) == 1
