"""A PDF's text: its pages' lines composed into paragraphs in reading order, with notes last."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from qa.errors import BadDocument
from qa.ingest.pdf.expansion import check_expansion
from qa.ingest.pdf.footnotes import gather_notes, split_footnotes
from qa.ingest.pdf.furniture import find_furniture
from qa.ingest.pdf.lines import Line, page_lines
from qa.ingest.pdf.metadata import metadata_date, metadata_title, page_date, page_title
from qa.ingest.pdf.order import reading_order
from qa.ingest.pdf.paragraphs import (
    BULLET,
    Paragraph,
    ends_sentence,
    group_paragraphs,
    join_lines,
    spellings,
)

# A page with fewer characters than this has no text layer worth the name (a scan, a figure).
SCANNED_PAGE_CHARS = 20
# Extraction that keeps less than this share of the page text (the rest taken as furniture or
# lost) is named in a warning.
MIN_KEPT_SHARE = 0.6


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: tuple[int, ...]  # offset where each segment of text starts...
    page_numbers: tuple[int, ...]  # ...and the page it stands on
    title: str | None = None
    date: str | None = None
    warnings: tuple[str, ...] = ()
    kept_share: float | None = None  # characters kept of those in the text layer
    page_count: int = 0


def pdf_text(data: bytes) -> PdfText:
    """The text of a PDF; raises BadDocument for one that cannot be read."""
    import pypdfium2 as pdfium

    check_expansion(data)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = " ".join(str(exc).split())[:160].rstrip(".")
        raise BadDocument(
            f"not a readable PDF ({reason}): re-save or re-export it, or remove it"
        ) from exc
    try:
        pages, sizes, raw_chars = [], [], []
        for index in range(len(document)):
            page = document[index]
            try:
                sizes.append(page.get_size())
                textpage = page.get_textpage()
                try:
                    lines, count = page_lines(textpage)
                finally:
                    textpage.close()
            finally:
                page.close()
            pages.append(lines)
            raw_chars.append(count)
        metadata = document.get_metadata_dict()
    finally:
        document.close()
    return _compose(pages, sizes, raw_chars, metadata)


def _compose(
    pages: list[list[Line]],
    sizes: list[tuple[float, float]],
    raw_chars: list[int],
    metadata: dict,
) -> PdfText:
    body_size = _body_size(pages, sizes)
    drops: Counter[float] = Counter()
    for lines in pages:
        for a, b in zip(lines, lines[1:], strict=False):
            if max(abs(a.size - body_size), abs(b.size - body_size)) < 0.6 and 0 < a.y0 - b.y0 < 3 * body_size:  # fmt: skip
                drops[round((a.y0 - b.y0) * 2) / 2] += 1
    pitch = drops.most_common(1)[0][0] if drops else 1.2 * body_size
    furniture = find_furniture(pages, sizes, body_size, pitch)
    kept_pages = [
        reading_order([ln for i, ln in enumerate(lines) if i not in furniture[p]], sizes[p][0])
        for p, lines in enumerate(pages)
    ]
    title, title_size = page_title(kept_pages, body_size)
    date = page_date(kept_pages)

    vocabulary, words, hyphenates = spellings(kept_pages)
    flow: list[tuple[int, Paragraph]] = []  # (page, paragraph) in reading order
    gathered: list[list] = []
    for p, lines in enumerate(kept_pages):
        carried = bool(gathered) and gathered[-1][0] == p - 1
        expected = int(gathered[-1][1]) + 1 if gathered and gathered[-1][1].isdigit() else 1
        body, foot = split_footnotes(lines, body_size, sizes[p][1], carried, expected)
        gather_notes(p, foot, gathered)
        page_title_size = title_size if p == 0 else None
        for paragraph in group_paragraphs(body, body_size, pitch, page_title_size):
            flow.append((p, paragraph))

    text = ""
    starts: list[int] = []
    numbers: list[int] = []

    def mark(page: int, at: int) -> None:
        if not numbers or numbers[-1] != page + 1:
            starts.append(at)
            numbers.append(page + 1)

    previous: tuple[int, Paragraph] | None = None
    for p, paragraph in flow:
        lines = [line.text for line in paragraph.lines]
        # A list item broken by a page break: the next page may repeat its bullet.
        after_break = previous is not None and previous[1].kind == "body" and previous[0] != p
        if after_break and (m := BULLET.match(lines[0])) and lines[0][m.end() :][:1].islower():
            lines[0] = lines[0][m.end() :]
        if paragraph.kind == "body" and previous is not None:
            last_page, last = previous
            if last.kind == "body" and last_page != p and _continues(last, paragraph, lines[0]):
                # The paragraph broken by a page break goes on, joined like a line break.
                tail_start = text.rfind("\n\n") + 2 if "\n\n" in text else 0
                tail = text[tail_start:]
                merged = join_lines([tail, *lines], vocabulary, words, hyphenates)
                k = len(tail) if merged.startswith(tail) else len(tail) - 1
                k += merged[k : k + 1] == " "
                text = text[:tail_start] + merged
                mark(p, tail_start + k)
                previous = (p, paragraph)
                continue
        if text:
            text += "\n\n"
        mark(p, len(text))
        block = join_lines(lines, vocabulary, words, hyphenates)
        if paragraph.kind == "title":
            block = "# " + " ".join(lines)
        elif paragraph.kind == "heading":
            block = "## " + " ".join(lines)
        text += block
        previous = (p, paragraph)
    notes = [
        (p, number, join_lines(parts, vocabulary, words, hyphenates))
        for p, number, parts in gathered
    ]
    if notes:
        text += "\n\n## Notes"
        for p, number, note in notes:
            text += "\n\n"
            mark(p, len(text))
            text += f"[{number}] {note}"
    text = text + "\n" if text else ""

    warnings = []
    scanned = [p + 1 for p, count in enumerate(raw_chars) if count < SCANNED_PAGE_CHARS]
    if scanned and len(scanned) == len(pages):
        warnings.append(
            "no text layer (a scan?): nothing could be read; run OCR on it "
            "(for example `ocrmypdf in.pdf out.pdf`) and index the result"
        )
    elif scanned:
        shown = ", ".join(map(str, scanned[:10])) + (" ..." if len(scanned) > 10 else "")
        warnings.append(
            f"page{'s' if len(scanned) > 1 else ''} {shown} of {len(pages)} ha"
            f"{'ve' if len(scanned) > 1 else 's'} no text layer (scanned?): their text is "
            "missing; run OCR on the file (for example `ocrmypdf`) and index the result"
        )
    total = sum(raw_chars)
    kept = sum(1 for c in text if not c.isspace())
    share = kept / total if total else None
    if share is not None and share < MIN_KEPT_SHARE and not scanned:
        warnings.append(
            f"kept only {share:.0%} of the text the file holds: check it with `qa show`"
        )
    return PdfText(
        text=text,
        pages=tuple(starts),
        page_numbers=tuple(numbers),
        title=metadata_title(metadata) or title,
        date=date or metadata_date(metadata),
        warnings=tuple(warnings),
        kept_share=share,
        page_count=len(pages),
    )


def _body_size(pages: list[list[Line]], sizes: list[tuple[float, float]]) -> float:
    """The type size most of the text is set in, counted in the upper half of each page: a
    report's footnotes, at the foot of its pages, can hold more characters than its body (R48883:
    9-point notes 31% of all characters, the 11-point body 61%; in its pages' upper halves 9% and
    83%), and the body is the text that starts each page."""
    upper: Counter[float] = Counter()
    weights: Counter[float] = Counter()
    for lines, (_, height) in zip(pages, sizes, strict=True):
        for line in lines:
            weights[line.size] += line.chars
            if line.y0 + line.y1 > height:
                upper[line.size] += line.chars
    counted = upper or weights
    return counted.most_common(1)[0][0] if counted else 10.0


def _continues(last: Paragraph, first: Paragraph, start: str) -> bool:
    """Whether a page's first paragraph (whose first line reads start) carries on the previous
    page's last one."""
    end = last.lines[-1].text
    if BULLET.match(start):
        return False
    if start[:1].islower():
        return True
    return not ends_sentence(end)
