"""A Markdown, HTML or Word document's kept text laid out as a document, the cited span marked.

The text the index keeps for these formats (qa.ingest.html, qa.ingest.docx) writes a page's
structure in a few plain conventions: blocks apart by a blank line, a heading as `#` marks and
a space, a list's items as lines that open with `- ` or `N. `, a table's rows as lines of cells
apart by ` | `. Here those conventions become headings, lists and tables, and their marks are
not shown; everything else is the text itself, escaped, so that nothing in it is read as markup
and no link in it can be followed. Every piece shown is a slice text[a:b] of the kept text, so
that the cited span, text[start:end], is marked exactly: one <mark> per piece it runs through,
each carrying its own offsets.
"""

from __future__ import annotations

import re
from html import escape

# Formats whose kept text is written in these conventions; a .txt file's "# " is its own text.
LAID_OUT = (".md", ".markdown", ".html", ".htm", ".docx")

_BLOCK_GAP = re.compile(r"\n[ \t]*\n\s*")
_HEADING = re.compile(r"(#{1,6}) (?=\S)")
_ITEM = re.compile(r"(?:- |(\d{1,4})\. )(?=\S)")
_CELL_GAP = re.compile(r" \| ")
_EDGE_PIPE = re.compile(r"\|\s*")


def laid_out(source: str) -> bool:
    return source.lower().endswith(LAID_OUT)


class _Marker:
    """Text pieces as HTML, the part of each inside [start, end) marked; the first mark is the
    one the page scrolls to (id "cited")."""

    def __init__(self, text: str, start: int | None, end: int | None) -> None:
        self.text, self.start, self.end = text, start, end
        self.first = True

    def piece(self, a: int, b: int) -> str:
        text, start, end = self.text, self.start, self.end
        if start is None or end is None or b <= start or end <= a or start == end:
            return escape(text[a:b])
        s, e = max(a, start), min(b, end)
        anchor = ' id="cited" tabindex="-1"' if self.first else ""
        self.first = False
        mark = f'<mark class="qa-cited"{anchor} data-start="{s}" data-end="{e}">'
        return f"{escape(text[a:s])}{mark}{escape(text[s:e])}</mark>{escape(text[e:b])}"


def blocks(text: str) -> list[tuple[int, int]]:
    """The blocks of the kept text as (start, end), blank lines apart."""
    spans, at = [], 0
    for gap in _BLOCK_GAP.finditer(text):
        spans.append((at, gap.start()))
        at = gap.end()
    spans.append((at, len(text.rstrip())))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _lines(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out, at = [], a
    while at <= b:
        stop = text.find("\n", at, b)
        stop = b if stop < 0 else stop
        out.append((at, stop))
        at = stop + 1
    return out


def _is_table(text: str, lines: list[tuple[int, int]]) -> bool:
    """Rows of cells: every line opens with a pipe, or there are two or more lines and each
    holds a cell gap (a sentence with one " | " in it stays a paragraph)."""
    if all(text.startswith("|", a) for a, _ in lines):
        return True
    return len(lines) > 1 and all(_CELL_GAP.search(text, a, b) for a, b in lines)


def _cells(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A row's cells as (start, end), without the pipes that open or close the row."""
    if m := _EDGE_PIPE.match(text, a, b):
        a = m.end()
    while b > a and text[b - 1] in " |":
        b -= 1
    cells, at = [], a
    for gap in _CELL_GAP.finditer(text, a, b):
        cells.append((at, gap.start()))
        at = gap.end()
    cells.append((at, b))
    return cells


def body(text: str, start: int | None = None, end: int | None = None) -> str:
    """The kept text as HTML: headings, lists, tables and paragraphs, text[start:end] marked."""
    marker = _Marker(text, start, end)
    out: list[str] = []
    for a, b in blocks(text):
        lines = _lines(text, a, b)
        heading = _HEADING.match(text, a, b)
        if heading and len(lines) == 1:
            level = len(heading.group(1))
            out.append(f"<h{level}>{marker.piece(heading.end(), b)}</h{level}>")
        elif _is_table(text, lines):
            rows = ("".join(f"<td>{marker.piece(c, d)}</td>" for c, d in _cells(text, x, y)) for x, y in lines)  # fmt: skip
            out.append(f'<div class="qa-table"><table><tr>{"</tr><tr>".join(rows)}</tr></table></div>')  # fmt: skip
        else:
            out.extend(_runs(text, lines, marker))
    return "\n".join(out)


def _runs(text: str, lines: list[tuple[int, int]], marker: _Marker) -> list[str]:
    """A block's lines: runs of list items as a list, the lines between them as a paragraph."""
    out: list[str] = []
    items = [(_ITEM.match(text, a, b), a, b) for a, b in lines]
    at = 0
    while at < len(items):
        m, a, b = items[at]
        if m is None:
            last = at
            while last + 1 < len(items) and items[last + 1][0] is None:
                last += 1
            out.append(f"<p>{marker.piece(a, items[last][2])}</p>")
            at = last + 1
            continue
        ordered = m.group(1) is not None
        rows = []
        while at < len(items) and (m := items[at][0]) and (m.group(1) is not None) == ordered:
            value = f' value="{int(m.group(1))}"' if ordered else ""
            rows.append(f"<li{value}>{marker.piece(m.end(), items[at][2])}</li>")
            at += 1
        tag = "ol" if ordered else "ul"
        out.append(f"<{tag}>{''.join(rows)}</{tag}>")
    return out
