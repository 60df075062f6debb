"""Page furniture: running heads and footers, page numbers and stray lines in a page's margins."""

from __future__ import annotations

import re
from collections import defaultdict

from qa.ingest.pdf.lines import Line
from qa.ingest.pdf.paragraphs import ends_sentence

# Furniture lies in the top or bottom MARGIN of the page (CRS running heads and footers sit within
# 6%, a cover's report box within 15%) and recurs within REPEAT_TOLERANCE points of the same
# height on at least two pages and a quarter of them.
MARGIN = 0.15
REPEAT_TOLERANCE = 6.0
REPEAT_SHARE = 0.25

_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—]|[ivxlc]{1,6}", re.I
)
_LEADERS = re.compile(r"(?:\.\s?){5,}\s*[\divxlc]+$", re.I)  # a table of contents' dot leaders


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text.lower())).strip()


def _in_margin(line: Line, height: float) -> bool:
    return line.y0 > height * (1 - MARGIN) or line.y1 < height * MARGIN


def find_furniture(pages: list[list[Line]], sizes: list[tuple[float, float]], body_size: float, pitch: float) -> list[set[int]]:  # fmt: skip
    """For each page, the indexes of its furniture lines."""
    seen: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for p, lines in enumerate(pages):
        for line in lines:
            seen[_shape(line.text)].append((p, (line.y0 + line.y1) / 2, line.size))
    need = max(2, REPEAT_SHARE * len(pages))
    repeated_texts: dict[str, float] = {}  # furniture's words, and the largest type they are set in
    found: list[set[int]] = []
    for p, lines in enumerate(pages):
        height = sizes[p][1]
        drop = set()
        for i, line in enumerate(lines):
            if _LEADERS.search(line.text):  # a table of contents is not the text
                drop.add(i)
            if not _in_margin(line, height) or line.note is not None:
                continue  # (a footnote, "Ibid." on many pages, starts with its raised number)
            middle = (line.y0 + line.y1) / 2
            # The same words at the same height in the same type (a title page's title is not
            # the running head that repeats it in small type).
            pages_there = {
                q
                for q, y, size in seen[_shape(line.text)]
                if abs(y - middle) <= REPEAT_TOLERANCE and abs(size - line.size) < 1
            }
            if len(pages_there) >= need or _PAGE_NUMBER.fullmatch(line.text):
                drop.add(i)
                bare = re.sub(r"^\d+\s+|\s+\d+$", "", line.text)  # without its page number
                if len(bare) >= 12:
                    repeated_texts[bare] = max(line.size, repeated_texts.get(bare, 0.0))
        found.append(drop)
    # A margin line that holds a repeated one ("https://crsreports.congress.gov | IF11783 ...")
    # is furniture too.
    for p, lines in enumerate(pages):
        for i, line in enumerate(lines):
            # (not a title set larger than the body, which a running head may repeat)
            held = any(
                text in line.text and line.size < max(size, body_size) + 1
                for text, size in repeated_texts.items()
            )
            if held and i not in found[p] and _in_margin(line, sizes[p][1]):
                found[p].add(i)
    for p, lines in enumerate(pages):
        found[p] |= _stray(lines, sizes[p][1], body_size, pitch)
    return found


def _stray(lines: list[Line], height: float, body_size: float, pitch: float) -> set[int]:
    """Lines set apart in a page's margin that say nothing by themselves: set smaller than the
    body, short, not ending a sentence, and more than one and a half lines' spacing away from any other
    line (a report number and URL in a cover's corner, a last page's version stamp)."""
    candidates = {
        i
        for i, line in enumerate(lines)
        if _in_margin(line, height)
        and line.size < body_size - 0.4
        and len(line.text.split()) <= 12
        and not ends_sentence(line.text)
    }
    stray = set()
    for i in candidates:
        line = lines[i]
        near = any(
            j not in candidates
            and min(abs(line.y0 - other.y1), abs(other.y0 - line.y1)) < 1.5 * pitch
            and other.x0 < line.x1
            and line.x0 < other.x1
            for j, other in enumerate(lines)
            if j != i
        )
        if not near:
            stray.add(i)
    return stray
