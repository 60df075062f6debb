"""Conversation: the turns so far, checked and bounded, and each follow-up's standalone query.

Earlier turns are resolved first, oldest first, so a third turn sees what the second was really
about; qa.answer.followups rewrites each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.answer.followups import resolve
from qa.errors import BadInput

# A request carries at most the last MAX_TURNS turns (all the rewrite reads), each question at
# most MAX_TURN_CHARS long and each answer at most MAX_ANSWER_CHARS (an answer is a few sentences;
# a client cuts a longer one). With a 2,000-character question they fit the server's 128 KB body
# limit even written as JSON \u escapes.
MAX_TURNS = 3
MAX_TURN_CHARS = 2000
MAX_ANSWER_CHARS = 4000
READ_TURNS = MAX_TURNS  # turns further back rarely hold the referent, and often mislead


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what was asked and what was answered."""

    question: str
    answer: str = ""
    short_answer: str = ""  # the earlier answer's short answer, when the client sends it back


def check_history(history: Iterable | None) -> list[Turn]:
    """The conversation so far as turns, oldest first; a malformed one is a BadInput."""
    if history is None:
        return []
    if isinstance(history, str | bytes | dict) or not isinstance(history, Iterable):
        raise BadInput("history must be a list of {question, answer} turns, oldest first")
    turns = []
    for i, item in enumerate(history):
        if isinstance(item, Turn):
            question, answer = item.question, item.answer
        elif isinstance(item, dict):
            question, answer = item.get("question"), item.get("answer", "")
        else:
            raise BadInput(f"history[{i}] must be an object with a question and an answer")
        if not isinstance(question, str) or not question.strip():
            raise BadInput(f"history[{i}].question must be a non-empty string")
        if answer is None:
            answer = ""
        if not isinstance(answer, str):
            raise BadInput(f"history[{i}].answer must be a string")
        if len(question) > MAX_TURN_CHARS:
            raise BadInput(
                f"history[{i}].question is too long: at most {MAX_TURN_CHARS} characters"
            )
        if len(answer) > MAX_ANSWER_CHARS:
            raise BadInput(
                f"history[{i}].answer is too long: at most {MAX_ANSWER_CHARS} characters"
            )
        short = item.get("short_answer") if isinstance(item, dict) else item.short_answer
        short = short.get("text") if isinstance(short, dict) else short  # as /ask returned it
        short = short.strip()[:MAX_TURN_CHARS] if isinstance(short, str) else ""
        turns.append(Turn(question.strip(), answer.strip(), short))
    if len(turns) > MAX_TURNS:
        raise BadInput(f"history is too long: at most {MAX_TURNS} turns")
    return turns


def standalone(question: str, history: Sequence[Turn]) -> str:
    """The query to search for `question` asked after `history` (oldest first)."""
    resolved: list[tuple[str, str]] = []  # (standalone query, answer) of each earlier turn
    for turn in history[-READ_TURNS:]:
        resolved.append((resolve(turn.question, resolved), turn.answer))
    return resolve(question, resolved)
