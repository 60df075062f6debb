"""Passages: exact, sentence-aware spans of a document, each with its citation.

A passage never crosses a paragraph (and so never a section); `text == document.text[start:end]`
holds for every passage, whatever the input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qa.ingest.documents import CAPTION, ENDNOTES_SECTION, MARKER, Document, Endnote, words
from qa.ingest.extract import page_at

# About a paragraph: SQuAD hit@1 0.796 -> 0.832 against 100 (a question's words and its answer
# stay together); SciFact and the brief's dev questions unchanged (benchmarks/RESULTS-quality.md).
DEFAULT_MAX_WORDS = 200

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "al", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos",
    "fig", "figs", "vol", "pp", "p", "inc", "ltd", "co", "corp", "jr", "sr", "gen", "col", "lt",
    "sgt", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "u.s", "u.k", "e.u", "approx", "est", "dept", "univ",
    # References and citations, as CRS reports' notes write them (R48883: "Cong., 2d sess.",
    # "F. Supp. 3d", "(5th Cir. 2024)", "(W.D. Tex. 2023)", "Sec. 2"); never a sentence's end.
    "cong", "sess", "stat", "supp", "cir", "sec", "secs", "ch", "para", "paras",
    "rept", "tex", "fla", "cal", "ed", "eds", "rev", "ser",
}  # fmt: skip
# A sentence ends at . ! ? (or …), then any closing quotes or brackets, then endnote markers.
_BOUNDARY = re.compile(r"[.!?…]+[”\"’')\]]*(?:\[\^?\d{1,4}\])*(?=\s+\S)")
# An initialism with its full stops ("P.L.", "U.S.C.", "D.C.") ends a sentence only before a
# plain capitalised word ("in Washington, D.C. The mayor"), never before a number ("P.L.
# 119-27"), a section sign ("18 U.S.C. §1960") or another abbreviation ("(D.C. Cir. 2022)").
_INITIALISM = re.compile(r"(?:[A-Za-z]{1,3}\.)+[A-Za-z]{1,3}")
_PLAIN_WORD = re.compile(r"[“\"‘(]?[A-Z][a-z]+\b(?![.’'])")
# A list's marker at the start of a line: markup, not words; each item is a sentence of its own.
# (A numbered item keeps its number, which the text may cite, but is not a sentence by it.)
_BULLET = re.compile(r"[-–•●▪■◦‣∙·*][ \t]+(?=\S)")
_ITEM_LINE = re.compile(r"\n[ \t]*(?=[-–•●▪■◦‣∙·*][ \t]+\S|\(?\d{1,3}[.)][ \t]+\S)")
_NUMBER_ONLY = re.compile(r"\(?\d{1,3}[.)]")
# A span that is only a label for what follows ("Disclaimer:", "Key Summit Outcomes:") or a
# figure's caption without its figure ("| Figure 1. Australia Fact Sheet |") says nothing.
_LABEL_WORDS = 3
_CAPTION_WORDS = 12


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
    """Sentences of text[start:end] as trimmed spans that together cover all its words (a list
    item's bullet aside)."""
    end = len(text) if end is None else end
    cuts: list[int] = [m.start() for m in _ITEM_LINE.finditer(text, start, end)]
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        before = text[cursor:stop]
        last = re.search(r"([\w.]+)[.!?…]*[”\"’')\]]*(?:\[\^?\d{1,4}\])*$", before)
        token = last.group(1).lower().rstrip(".") if last else ""
        if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
            continue
        nxt = text[stop:end].lstrip()
        if nxt[:1].islower():
            continue
        if _INITIALISM.fullmatch(token) and m.group() == "." and not _PLAIN_WORD.match(nxt):
            continue
        line_start = text.rfind("\n", start, stop) + 1 if "\n" in text[start:stop] else start
        if _NUMBER_ONLY.fullmatch(text[max(cursor, line_start) : stop].strip()):
            continue  # "18." opening a numbered paragraph
        cuts.append(stop)
        cursor = stop
    spans = []
    for a, b in zip([start, *sorted(cuts)], [*sorted(cuts), end], strict=True):
        a, b = _trim(text, a, b)
        if (bullet := _BULLET.match(text, a, b)) and (a == 0 or text[a - 1] == "\n" or a == start):
            a = bullet.end()
        if a < b:
            spans.append((a, b))
    return spans


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


def substantive(text: str) -> bool:
    """Whether a span says something a reader could use: not bare markup ("###" closing a press
    release, a table's empty row "|"), a label or a caption alone. Seen on 3 White House pages
    and a CRS web page (../shared/benchmarks), where such passages were offered as related
    reading and even quoted as answers ("### [1]")."""
    bare = " ".join(text.replace("|", " ").split())
    found = words(bare)
    if not found:
        return False
    if bare.endswith(":") and len(found) <= _LABEL_WORDS:
        return False
    caption = CAPTION.match(bare) and len(found) <= _CAPTION_WORDS and bare[-1] not in ".!?"
    return not caption


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
            spans = [(a, b) for a, b in spans if substantive(text[a:b])]
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
