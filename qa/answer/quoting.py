"""Quoting: the sentence of a passage that holds the reader's span, and the span itself as a
short answer, exact against the document (endnote markers aside)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answer import names
from qa.ingest.documents import MARKER
from qa.ingest.passages import sentence_spans
from qa.search.hybrid import Hit


@dataclass(frozen=True)
class ShortAnswer:
    text: str
    source: str
    start: int  # offsets into the document's text, like a citation's
    end: int
    page: int | None = None  # the page it stands on, for formats with pages

    def to_dict(self) -> dict:
        out = {"text": self.text, "source": self.source, "start": self.start, "end": self.end}
        return out | ({"page": self.page} if self.page is not None else {})


def sentence_around(hit: Hit) -> tuple[int, int]:
    """The passage's sentence(s) that hold the reader's span, as offsets into the passage."""
    if hit.passage.is_endnote:  # one reference, whose quoted title may hold full stops
        return 0, len(hit.passage.text)
    a, b = hit.reading.span
    spans = sentence_spans(hit.passage.text)
    inside = [(s, e) for s, e in spans if s < b and a < e] or spans[:1]
    return inside[0][0], inside[-1][1]


def answer_sentence(hit: Hit) -> str:
    s, e = sentence_around(hit)
    return unmarked(hit.passage.text[s:e])


def unmarked(text: str) -> str:
    """Text as an answer quotes it: endnote markers aside (its endnotes travel with the
    citation), on one line."""
    return " ".join(MARKER.sub("", text).split())


_OPENERS = {"the", "a", "an", "in", "on", "at", "by", "for", "from", "to", "as", "after", "before", "since", "when", "while", "this", "that", "these", "those", "its", "their", "his", "her"}  # fmt: skip


def _whole_name(text: str, a: int, b: int) -> int:
    """Where a span that ends a name starts the name: "Saltzman" is "General Chance B.
    Saltzman" (a word opening the sentence, "The", "In", is no part of it)."""
    if not text[a : a + 1].isupper():
        return a
    for m in names.NAME_RUN.finditer(text, max(0, a - 120), b):
        if m.start() < a < m.end() == b:
            opener = re.match(r"([\w’'-]+)\s+", text[m.start() : a])
            skip = opener and opener.group(1).lower() in _OPENERS
            return m.start() + opener.end() if skip else m.start()
    return a


def short_answer(hit: Hit) -> ShortAnswer | None:
    """The reader's span, exact against the document, trimmed of markers and punctuation."""
    a, b = hit.reading.span
    text = hit.passage.text
    marker = MARKER.search(text, a, b)
    if marker:  # a span never runs into the endnote marker that follows it
        b = marker.start()
    while a < b and not text[a].isalnum() and text[a] not in "$€£(":
        a += 1
    if a > 0 and text[a - 1] in "$€£" and text[a : a + 1].isdigit():  # "$71.3 billion", not "71.3"
        a -= 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in ",.;:"):
        b -= 1
    if a >= b:
        return None
    a = _whole_name(text, a, b)
    p = hit.passage
    return ShortAnswer(text[a:b], p.source, p.start + a, p.start + b)
