"""Siblings: names that texts list together as alternatives ("France, Germany and Italy"), and
questions with a name swapped for a sibling ("New Zealand" asked of a passage about Australia).

A swap for a random name ("Normans" in a question about oxygen) is easy to decline; a swap for a
sibling is what a real reader gets wrong, since the encoder finds the two alike. Used by
training/reader.py (`--swap-siblings`: the reader's swapped negatives), training/calibrate.py
(the swapped keys of the calibration set) and training/name_pairs.py (its "not the same" pairs).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable

from qa.answer.names import _NAME_WORD, DETERMINERS, NAME_RUN, PREPOSITIONS, is_name
from qa.models.name_pairs import bare

# A list's item: a name without "and"/"&" inside (NAME_RUN keeps "France and Germany" whole).
_ITEM = rf"{_NAME_WORD}(?:\s+(?:(?:of|the|for|de|von|der)\s+)*{_NAME_WORD})*"
_LIST = re.compile(rf"(?<![\w’'])({_ITEM})((?:,\s+{_ITEM})*),?\s+(and|or)\s+({_ITEM})(?![\w’'])")
_OPENERS = DETERMINERS | PREPOSITIONS | {"both", "either", "neither"}
_FIGURE = re.compile(r"\b\d+\b")


def listed(text: str) -> list[list[str]]:
    """The names the text lists together as alternatives, one list each."""
    lists = []
    for m in _LIST.finditer(text):
        items = [m.group(1), *m.group(2).split(",")[1:], m.group(4)]
        if m.group(3) == "or" and len(items) < 3:
            continue
        items = [bare(_strip_openers(i)) for i in items]
        if all(i and is_name(i) for i in items):
            lists.append(items)
    return lists


def _strip_openers(item: str) -> str:
    words = item.split()
    while words and words[0].lower() in _OPENERS:
        words = words[1:]
    return " ".join(words)


def siblings(texts: Iterable[str]) -> dict[str, list[str]]:
    """Each listed name, with the names listed beside it anywhere in the texts (sorted)."""
    found: dict[str, set[str]] = defaultdict(set)
    for text in texts:
        for items in listed(text):
            for a in items:
                found[a].update(b for b in items if b.lower() not in a.lower() and a.lower() not in b.lower())  # fmt: skip
    return {a: sorted(b) for a, b in found.items() if b}


def swap_sibling(question: str, text: str, known: dict[str, list[str]], rng: random.Random) -> str | None:  # fmt: skip
    """The question with one of its names that `text` states swapped for a sibling that the
    text never states; None where it has no such name, or names a figure (a swapped year or
    number says more plainly that the text is about something else)."""
    if _FIGURE.search(question):
        return None
    runs = [m for m in NAME_RUN.finditer(question) if m.start() > 0 and bare(m.group(0)) in known and m.group(0) in text]  # fmt: skip
    if not runs:
        return None
    m = rng.choice(runs)
    others = [s for s in known[bare(m.group(0))] if s not in text and s not in question]
    if not others:
        return None
    return question[: m.start()] + rng.choice(others) + question[m.end() :]
