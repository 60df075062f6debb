"""A page's lines from PDFium's characters: boxes, type size, weight, footnote markers as `[n]`."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

# Two pieces of one line further apart than this many times their type size are two columns'
# lines (word spaces are a quarter to a half of it; a column gutter one or more).
GUTTER = 2.0
# A superscript is set at most this share of its line's type size, raised above the baseline.
SUPERSCRIPT = 0.8


@dataclass
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    chars: int  # characters of text (not counting spaces)
    note: str | None = None  # the footnote number this line starts with, if any
    row: int = 0  # pieces of one row split at a wide gap share it


def page_lines(textpage) -> tuple[list[Line], int]:
    """A page's lines in the order PDFium draws them, and the characters of its text layer."""
    import pypdfium2.raw as raw

    text = textpage.get_text_range()
    count = len(text)
    pieces: list[tuple[list, int]] = []  # characters, and the row they stand on
    position, row = 0, 0
    for raw_line in text.split("\r\n"):
        chars = []
        for offset, char in enumerate(raw_line):
            i = position + offset
            if char.isspace() or char == "\x00":
                chars.append((char, None, 0.0, 0))
                continue
            box = textpage.get_charbox(i)
            char = "-" if char == "\ufffe" else char  # PDFium's mark for a hyphen at a line end
            chars.append((char, box, raw.FPDFText_GetFontSize(textpage, i), raw.FPDFText_GetFontWeight(textpage, i)))  # fmt: skip
        position += len(raw_line) + 2
        for piece, across in _visual_lines(chars):
            if pieces and _same_line(pieces[-1][0], piece):
                # PDFium breaks a line where a superscript rises
                pieces[-1] = (pieces[-1][0] + piece, pieces[-1][1])
            else:
                row += not across
                pieces.append((piece, row))
    lines = [line for chars, row in pieces if (line := _line(chars, row))]
    visible = sum(1 for c in text if not c.isspace())
    return lines, visible if count else 0


def _visual_lines(chars: list) -> list[tuple[list, bool]]:
    """A PDFium line cut where its characters go down to a new line (it runs a word hyphenated
    at a line end on into the next line), and where they jump a gap wider than GUTTER times their
    size (it runs the lines of two columns drawn row by row into one). Each piece comes with
    whether it carries on the row of the one before (across a gap)."""
    pieces, previous = [([], False)], None
    for item in chars:
        box, size = item[1], item[2]
        down = previous is not None and box is not None and box[3] < previous[1] and box[0] < previous[0]  # fmt: skip
        across = previous is not None and box is not None and box[0] - previous[2] > GUTTER * size
        if down or across:
            pieces.append(([], across and not down))
        pieces[-1][0].append(item)
        previous = box or previous
    return [(piece, across) for piece, across in pieces if piece]


def _same_line(before: list, after: list) -> bool:
    """Whether a PDFium line carries on the previous one on the same visual line (to its right,
    within its height): a raised or lowered piece such as "th" in "5th"."""
    a = [box for _, box, _, _ in before if box is not None]
    b = [box for _, box, _, _ in after if box is not None]
    if not a or not b:
        return False
    top, bottom = max(x[3] for x in a), min(x[1] for x in a)
    middle = (min(x[1] for x in b) + max(x[3] for x in b)) / 2
    size = max(s for _, box, s, _ in before if box is not None)
    gap = b[0][0] - a[-1][2]
    if "".join(c for c, box, _, _ in before if box is not None).isdigit():
        # A footnote's raised number, set apart from its text by a tab (0.8 em in
        # tests/test_long_reports.py; CRS notes have none).
        after_size = max(s for _, box, s, _ in after if box is not None)
        return bottom <= middle <= top and -1 <= gap < 1.5 * after_size and size < after_size
    return bottom <= middle <= top and -1 <= gap < 0.6 * size  # a space at most


def _line(chars: list[tuple[str, tuple | None, float, int]], row: int = 0) -> Line | None:
    inked = [(c, box, size, weight) for c, box, size, weight in chars if box is not None]
    if not inked:
        return None
    sizes = Counter(round(size * 2) / 2 for _, _, size, _ in inked)
    size = sizes.most_common(1)[0][0]
    body = [box for _, box, s, _ in inked if abs(s - size) < 0.6]
    baseline = statistics.median(box[1] for box in body) if body else inked[0][1][1]
    out: list[str] = []
    note = None
    i = 0
    while i < len(chars):
        c, box, s, _ = chars[i]
        raised = box is not None and s < SUPERSCRIPT * size and box[1] > baseline + 0.2 * size
        if c.isdigit() and raised:
            j = i
            while j < len(chars) and chars[j][1] is not None and chars[j][2] < SUPERSCRIPT * size and (chars[j][0].isdigit() or chars[j][0] in ",–-"):  # fmt: skip
                j += 1
            numbers = [n for n in re.split(r"[,–-]", "".join(ch[0] for ch in chars[i:j])) if n]
            if not "".join(out).strip():
                note = numbers[0] if numbers else None
            else:
                out.append("".join(f"[{n}]" for n in numbers))
            i = j
            continue
        if box is not None and c.isalpha() and s < SUPERSCRIPT * size and box[1] > baseline + 0.2 * size:  # fmt: skip
            while len(out) >= 2 and out[-1] == " " and out[-2][-1:].isdigit():
                out.pop()  # an ordinal's raised suffix: "5th", not "5 th"
        out.append(c if box is not None or c == " " else " ")
        i += 1
    text = re.sub(r"\s+", " ", "".join(out).replace("\xa0", " ").replace("\x00", "")).strip()
    if not text:
        return None
    boxes = [box for _, box, _, _ in inked]
    heavy = sum(1 for _, _, _, weight in inked if weight >= 600)
    return Line(
        text=text,
        x0=min(b[0] for b in boxes),
        y0=min(b[1] for b in boxes),
        x1=max(b[2] for b in boxes),
        y1=max(b[3] for b in boxes),
        size=size,
        bold=heavy > len(inked) / 2,
        chars=len(inked),
        note=note,
        row=row,
    )
