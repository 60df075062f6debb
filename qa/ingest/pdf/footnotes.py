"""Footnotes: the numbered notes at the foot of a page, set apart from its body and gathered."""

from __future__ import annotations

import re

from qa.ingest.pdf.lines import Line


def _note_start(line: Line, previous: int | None) -> tuple[str, str] | None:
    """(number, text) when line starts a footnote: a superscript number, or the next number."""
    if line.note is not None:
        return line.note, line.text
    m = re.match(r"(\d{1,3})\s+(.*)", line.text)
    if m and (previous is None or int(m.group(1)) == previous + 1):
        return m.group(1), m.group(2)
    return None


def split_footnotes(lines: list[Line], body_size: float, height: float, carried: bool) -> tuple[list[Line], list[Line]]:  # fmt: skip
    """A page's trailing run of small lines in its lower half holding numbered footnotes:
    (body lines, footnote lines). Small lines before the first number carry on the previous
    page's last footnote when it had one (carried)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].size >= body_size * 0.92 or lines[i].y1 > height / 2:
            break
        start = i
    run = lines[start:]
    first = next((k for k, line in enumerate(run) if _note_start(line, None)), None)
    if first is None:
        return (lines[:start], run) if carried and run else (lines, [])
    if not carried:
        start += first
    return lines[:start], lines[start:]


def gather_notes(page: int, lines: list[Line], notes: list[list]) -> None:
    """Add a page's footnote lines to notes ([page, number, lines] items, in order)."""
    for line in lines:
        previous = int(notes[-1][1]) if notes and notes[-1][1].isdigit() else None
        if started := _note_start(line, previous):
            notes.append([page, started[0], [started[1]]])
        elif notes:
            notes[-1][2].append(line.text)
