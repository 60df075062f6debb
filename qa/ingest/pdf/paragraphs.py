"""Paragraphs and headings: a page's lines grouped, and a paragraph's lines joined."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.ingest.pdf.lines import Line
from qa.ingest.pdf.metadata import DATE_LINE

# A new paragraph starts where the baseline drops by more than this many times the document's
# usual line spacing: paragraphs are set 1.5-2.0 times it apart (CRS reports, fpdf2 fixtures).
PARAGRAPH_GAP = 1.3

_TERMINAL = (".", "!", "?", ":", ";", "”", '"', "’", ")", "]")
BULLET = re.compile(r"^[•●▪■◦○‣∙·\-–]\s")


@dataclass
class Paragraph:
    lines: list[Line] = field(default_factory=list)
    kind: str = "body"  # body | heading | title


def ends_sentence(text: str) -> bool:
    """Whether text ends a sentence (footnote markers after its full stop aside)."""
    return re.sub(r"(\[\d+\])+$", "", text.rstrip()).endswith(_TERMINAL)


def _is_heading(line: Line, body_size: float) -> bool:
    larger = line.size >= body_size + 1
    text = line.text
    return (
        (line.bold or larger)
        and (text[:1].isupper() or text[:1].isdigit())
        and (text.endswith("?") or not ends_sentence(text))  # not a bold "(Figure 1)."
        and line.size >= body_size - 0.5
        and len(line.text.split()) <= 20
        and not BULLET.match(line.text)
    )


def group_paragraphs(lines: list[Line], body_size: float, pitch: float, title_size: float | None) -> list[Paragraph]:  # fmt: skip
    paragraphs: list[Paragraph] = []
    for line in lines:
        if title_size is not None and abs(line.size - title_size) < 0.5:
            kind = "title"
        elif DATE_LINE.match(line.text):
            paragraphs.append(Paragraph([line], "date"))
            continue
        else:
            kind = "heading" if _is_heading(line, body_size) else "body"
        last = paragraphs[-1] if paragraphs else None
        if last is not None and last.kind == "heading" and kind == "body":
            # A heading's second line ("used today?") is set like its first.
            top = last.lines[-1]
            same_type = (top.bold, top.size) == (line.bold, line.size)
            if same_type and 0 < top.y0 - line.y0 <= PARAGRAPH_GAP * max(pitch, line.size):
                kind = "heading"
        # A title's lines are one title, however widely set (IN12614: 22-point lines 1.35 of
        # their size apart, which as body would be two paragraphs and a heading).
        together = last is not None and last.kind == kind == "title"
        if not together and (last is None or last.kind != kind or _breaks(last.lines[-1], line, kind, pitch)):  # fmt: skip
            paragraphs.append(Paragraph([line], kind))
        else:
            last.lines.append(line)
    return paragraphs


def _breaks(prev: Line, line: Line, kind: str, pitch: float) -> bool:
    """Whether line starts a new paragraph after prev (both of the same kind)."""
    if BULLET.match(line.text):
        return True
    drop = prev.y0 - line.y0
    spacing = max(pitch, prev.size, line.size)
    same_column = prev.x0 < line.x1 and line.x0 < prev.x1
    if same_column and 0 < drop <= PARAGRAPH_GAP * spacing:
        return abs(prev.size - line.size) >= 1 and kind == "body"
    if same_column and 0 < drop <= 3 * spacing:
        return True  # the space between two paragraphs
    # Anywhere else (a new column, past a figure): a paragraph that has not ended goes on.
    return kind != "body" or ends_sentence(prev.text)


def spellings(pages: list[list[Line]]) -> tuple[set[str], set[str], bool]:
    """The document's spellings (lower case, hyphenated compounds whole); its words that stand on
    their own, not half of a word a line-end hyphen breaks ("infor-" / "mation"); and whether it
    breaks words at line ends at all: whether a word it breaks so is one it spells whole
    elsewhere. Word processors do not unless asked: of the 34 line-end hyphens in the seven CRS
    PDFs (../shared/benchmarks/real-pdfs), the 31 their web pages tell apart are all compounds
    ("second-largest", "energy-intensive"), none a word broken in two."""
    forms: set[str] = set()
    words: set[str] = set()
    breaks: list[tuple[str, str]] = []
    for lines in pages:
        broken = None
        for line in lines:
            found = [w.lower() for w in re.findall(r"\w+(?:-\w+)*", line.text)]
            forms.update(found)
            if broken is not None and found:
                breaks.append((broken, found[0].split("-")[0]))
            whole = found[1 if broken is not None else 0 :]
            end = re.search(r"([^\W\d]\w*)-$", line.text)
            plain = re.search(r"(?<!\S)([^\W\d]+)-$", line.text)  # (not in a URL: "/p/coin-")
            broken = plain.group(1).lower() if plain else None
            words.update(part for w in (whole[:-1] if end else whole) for part in w.split("-"))
    return forms, words, any(head + tail in forms for head, tail in breaks)


def join_lines(parts: list[str], vocabulary: set[str] | None = None, words: set[str] | None = None, hyphenates: bool = True) -> str:  # fmt: skip
    """Lines of a paragraph as one line. A line that ends with a hyphen after a letter is joined
    without it when the document spells the word whole elsewhere, or (when it spells it neither
    way) it hyphenates words at line ends, both halves are lower case and they are not both words
    the document uses on their own ("second-" / "largest" is a compound, "infor-" / "mation" a
    word broken in two); otherwise, and after a digit or a dash, with no space."""
    known = vocabulary or set()
    alone = words or set()
    text = ""
    for part in parts:
        if not text:
            text = part
        elif re.search(r"[^\W\d]-$", text) and part[:1].isalpha():
            head = re.search(r"(\w+)-$", text).group(1)
            tail = re.match(r"\w+", part).group(0)
            whole, hyphened = (head + tail).lower(), f"{head}-{tail}".lower()
            compound = head.lower() in alone and tail.lower() in alone
            broken = hyphenates and head.islower() and tail.islower() and not compound
            if whole in known or (hyphened not in known and broken):
                text = text[:-1] + part
            else:
                text += part
        elif re.search(r"(\w-|[—/])$", text):
            text += part
        else:
            text = f"{text} {part}"
    return text
