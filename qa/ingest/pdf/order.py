"""Reading order: two columns drawn row by row read column by column; split rows rejoined."""

from __future__ import annotations

import statistics

from qa.ingest.pdf.lines import Line


def reading_order(lines: list[Line], width: float) -> list[Line]:
    """A page's lines in reading order. PDFium keeps the order the page draws them in, which is
    column by column for what word processors and typesetters make; a page drawn row by row
    across two columns (its lines switching sides again and again) is put in column order:
    between lines that span both columns, the left column top to bottom, then the right."""
    middle = width / 2
    side = ["L" if ln.x1 <= middle + 6 else "R" if ln.x0 >= middle - 6 else "F" for ln in lines]
    switches = sum(1 for a, b in zip(side, side[1:], strict=False) if {a, b} == {"L", "R"})
    widths = [ln.x1 - ln.x0 for ln, s in zip(lines, side, strict=True) if s != "F"]
    prose = bool(widths) and statistics.median(widths) >= 0.3 * width  # not a table's cells
    if switches <= 4 or switches < len(lines) / 4 or not prose:
        return _rejoin_rows(lines)
    ordered: list[Line] = []
    spans = sorted((ln for ln, s in zip(lines, side, strict=True) if s == "F"), key=lambda ln: -ln.y1)  # fmt: skip
    columns = [(ln, s) for ln, s in zip(lines, side, strict=True) if s != "F"]
    upper = float("inf")
    for span in [*spans, None]:
        lower = span.y1 if span is not None else float("-inf")
        band = [(ln, s) for ln, s in columns if lower < ln.y0 <= upper]
        for want in ("L", "R"):
            ordered += sorted((ln for ln, s in band if s == want), key=lambda ln: -ln.y0)
        if span is not None:
            ordered.append(span)
            upper = span.y0
    return ordered


def _rejoin_rows(lines: list[Line]) -> list[Line]:
    """Pieces of one row split at a wide gap (a table's cells) as the one line they are."""
    joined: list[Line] = []
    for line in lines:
        last = joined[-1] if joined else None
        if last is not None and last.row == line.row:
            joined[-1] = Line(
                text=f"{last.text} {line.text}",
                x0=min(last.x0, line.x0),
                y0=min(last.y0, line.y0),
                x1=max(last.x1, line.x1),
                y1=max(last.y1, line.y1),
                size=last.size if last.chars >= line.chars else line.size,
                bold=last.bold and line.bold,
                chars=last.chars + line.chars,
                note=last.note,
                row=last.row,
            )
        else:
            joined.append(line)
    return joined
