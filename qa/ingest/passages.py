"""Passages: exact, sentence-aware spans of a document, each with its citation.

A passage never crosses a paragraph (and so never a section); `text == document.text[start:end]`
holds for every passage, whatever the input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qa.ingest.documents import ENDNOTES_SECTION, MARKER, Document, Endnote, words
from qa.ingest.extract import page_at

# About a paragraph: SQuAD hit@1 0.796 -> 0.832 against 100 (a question's words and its answer
# stay together); SciFact and the brief's dev questions unchanged (benchmarks/RESULTS-quality.md).
DEFAULT_MAX_WORDS = 200

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "al", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos",
    "fig", "figs", "vol", "pp", "p", "inc", "ltd", "co", "corp", "jr", "sr", "gen", "col", "lt",
    "sgt", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "u.s", "u.k", "e.u", "approx", "est", "dept", "univ",
}  # fmt: skip
# A sentence ends at . ! ? (or …), then any closing quotes or brackets, then endnote markers.
_BOUNDARY = re.compile(r"[.!?…]+[”\"’')\]]*(?:\[\^?\d{1,4}\])*(?=\s+\S)")


@dataclass(frozen=True)
class Passage:
    id: str
    source: str
    start: int
    end: int
    text: str
    section: str | None
    paragraph: int
    endnotes: tuple[Endnote, ...]
    title: str | None = None
    date: str | None = None
    page: int | None = None  # where the span starts, for formats with pages
    page_end: int | None = None  # where it ends (the same page unless it runs across a break)

    @property
    def is_endnote(self) -> bool:
        return self.section == ENDNOTES_SECTION

    @property
    def sentences(self) -> list[str]:
        return [self.text[a:b] for a, b in sentence_spans(self.text)]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as trimmed spans that together cover all its words."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        before = text[cursor:stop]
        last = re.search(r"([\w.]+)[.!?…]*[”\"’')\]]*(?:\[\^?\d{1,4}\])*$", before)
        token = last.group(1).lower().rstrip(".") if last else ""
        if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
            continue
        nxt = text[stop:end].lstrip()[:1]
        if nxt and nxt.islower():
            continue
        spans.append((cursor, stop))
        cursor = stop
    spans.append((cursor, end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[0] < s[1]]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces of at most max_words."""
    bounds = [m.span() for m in re.finditer(r"\S+", text[start:end])]
    pieces = []
    for i in range(0, len(bounds), max_words):
        group = bounds[i : i + max_words]
        pieces.append((start + group[0][0], start + group[-1][1]))
    return pieces


def pack(text: str, sentences: list[tuple[int, int]], max_words: int) -> list[tuple[int, int]]:
    """Group consecutive sentences into spans of balanced length, none over max_words."""
    units: list[tuple[int, int, int]] = []
    for a, b in sentences:
        n = len(text[a:b].split())
        if n > max_words:
            units += [(x, y, len(text[x:y].split())) for x, y in _split_long(text, a, b, max_words)]
        else:
            units.append((a, b, n))
    if not units:
        return []
    total = sum(n for *_, n in units)
    target = total / math.ceil(total / max_words)
    groups: list[tuple[int, int]] = []
    start, count = units[0][0], 0
    prev_end = units[0][0]
    for a, b, n in units:
        over_target = count and count + n > target * 1.15
        if count and (count + n > max_words or over_target):
            groups.append((start, prev_end))
            start, count = a, 0
        count += n
        prev_end = b
    groups.append((start, prev_end))
    return groups


def cut(document: Document, max_words: int = DEFAULT_MAX_WORDS) -> list[Passage]:
    text = document.text
    passages: list[Passage] = []
    for block in document.blocks:
        if block.kind not in ("body", "endnote"):
            continue
        if block.kind == "endnote":
            spans = [(block.start, block.end)] if len(words(document.block_text(block))) else []
            if len(text[block.start : block.end].split()) > max_words:
                spans = pack(text, sentence_spans(text, block.start, block.end), max_words)
        else:
            spans = pack(text, sentence_spans(text, block.start, block.end), max_words)
        for k, (a, b) in enumerate(spans, start=1):
            span_text = text[a:b]
            numbers = dict.fromkeys(int(m.group(1)) for m in MARKER.finditer(span_text))
            notes = tuple(document.endnotes[n] for n in numbers if n in document.endnotes)
            if block.kind == "endnote":  # an endnote is its own text, not a reference to itself
                notes = ()
            passages.append(
                Passage(
                    id=f"{document.source}#{block.paragraph}.{k}",
                    source=document.source,
                    start=a,
                    end=b,
                    text=span_text,
                    section=block.section,
                    paragraph=block.paragraph,
                    endnotes=notes,
                    title=document.title,
                    date=document.date,
                    page=page_at(document.pages, a, document.page_numbers),
                    page_end=page_at(document.pages, b - 1, document.page_numbers),
                )
            )
    return passages
