"""Footnotes: the numbered notes at the foot of a page, set apart from its body and gathered."""

from __future__ import annotations

import re

from qa.ingest.pdf.lines import Line

# A note that runs on to the next page ends with a notice on a line of its own, one or two words
# and an ellipsis in brackets (R48883 pages 11 and 20: "(continued...)"), which is not its text.
_RUNS_ON = re.compile(r"\(\w+(?: \w+)?\s?(?:\.\.\.|…)\)")


def _note_start(line: Line, previous: int | None) -> tuple[str, str] | None:
    """(number, text) when line starts a footnote: a superscript number, or the next number."""
    if line.note is not None:
        return line.note, line.text
    m = re.match(r"(\d{1,3})\s+(.*)", line.text)
    if m and (previous is None or int(m.group(1)) == previous + 1):
        return m.group(1), m.group(2)
    return None


def split_footnotes(lines: list[Line], body_size: float, height: float, carried: bool, expected: int | None = None) -> tuple[list[Line], list[Line]]:  # fmt: skip
    """A page's trailing run of lines set smaller than the body, from its first footnote on:
    (body lines, footnote lines). A footnote starts with its number; in the upper half of the
    page only with the number that comes next (expected), so that a page given over to notes
    loses them all to the store while small type higher up (a table, a box) stays. Small lines
    just above the first number carry on the previous page's last footnote when it had one
    (carried)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].size >= body_size * 0.92:
            break
        start = i
    run = lines[start:]
    lower = [line.y1 <= height / 2 for line in run]
    first = next(
        (
            k
            for k, line in enumerate(run)
            if (started := _note_start(line, None))
            and (lower[k] or (expected is not None and started[0] == str(expected)))
        ),
        None,
    )
    if first is None:
        # Only the previous page's last note, carried on: the run's lower part.
        tail = len(run)
        while tail > 0 and lower[tail - 1]:
            tail -= 1
        return (lines[: start + tail], run[tail:]) if carried else (lines, [])
    if not carried:
        return lines[: start + first], lines[start + first :]
    k = first
    while k > 0 and _set_solid(run[k - 1], run[k]):
        k -= 1
    return lines[: start + k], lines[start + k :]


def _set_solid(above: Line, below: Line) -> bool:
    """Whether two lines of small type stand one under the other without a gap (one block)."""
    return 0 <= above.y0 - below.y1 <= 0.8 * max(above.size, below.size)


def gather_notes(page: int, lines: list[Line], notes: list[list]) -> None:
    """Add a page's footnote lines to notes ([page, number, lines] items, in order)."""
    for line in lines:
        if _RUNS_ON.fullmatch(line.text):
            continue
        previous = int(notes[-1][1]) if notes and notes[-1][1].isdigit() else None
        if started := _note_start(line, previous):
            notes.append([page, started[0], [started[1]]])
        elif notes:
            notes[-1][2].append(line.text)
