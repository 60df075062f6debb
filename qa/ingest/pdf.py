"""PDF: a document's text in reading order, as paragraphs, without its page furniture.

Text comes from PDFium (pypdfium2, BSD-3/Apache-2.0), in the order the page draws it, which for
columns is one column after the other. On seven CRS reports (one- and two-column), sentences kept
in order: pypdfium2 0.969, pypdf's plain mode 0.970, pdfminer.six 0.968, pypdf's layout mode (what
qa used before) 0.754; pypdfium2 reads them about 20 times faster than the pure-Python readers,
and gives every character's box, size and weight, which the rest of this module reads; with it,
qa keeps 0.995 (benchmarks/documents.py). PyMuPDF measures like pypdf but is AGPL.

From the characters' geometry, and never from lists of strings:

- page furniture (running headers and footers, page numbers, repeated report numbers, URLs and
  banners) is a line near the top or bottom of a page that recurs at the same height, give or
  take, on other pages, or a short line set apart in a margin in smaller type;
- paragraphs end at a vertical gap wider than the line spacing, a change of style or a bullet;
  a paragraph that does not end a sentence carries on into the next column and onto the next page;
- a page drawn row by row across two columns is put back in column order;
- headings are short lines set larger or bolder than the body; the title is the first page's
  largest type, the date its first line that is a date ("Updated April 10, 2026");
- footnote markers (superscript numbers) become `[n]`, and the footnotes at the foot of each page
  move to a `Notes` section at the end, so a sentence broken by them reads whole;
- a word hyphenated at a line end is joined when the document spells it whole elsewhere (or its
  two halves are lower-case letters) and keeps its hyphen otherwise ("AI-enabled").
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from qa.errors import BadDocument

# What a PDF may expand to. Its content streams are decompressed (by pypdf, which stops at a
# limit) before PDFium reads the file, so a decompression bomb (a few KB that inflate to GB) is
# refused after at most this much work, never expanded.
PDF_STREAM_MAX_BYTES = 32 * 2**20  # any one decompressed stream
PDF_CONTENT_MIN_BUDGET = 32 * 2**20  # all pages' content together: at least this much...
PDF_CONTENT_RATIO = 20  # ...or this many times the file's size (text content compresses ~3-10x)
_PYPDF_LIMITS = (
    "zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
    "brotli_maximum_output_length", "jbig2_maximum_output_length", "image_maximum_buffer_size",
    "array_based_stream_maximum_output_length", "maximum_declared_stream_length",
)  # fmt: skip

# Furniture lies in the top or bottom MARGIN of the page (CRS running heads and footers sit within
# 6%, a cover's report box within 15%) and recurs within REPEAT_TOLERANCE points of the same
# height on at least two pages and a quarter of them.
MARGIN = 0.15
REPEAT_TOLERANCE = 6.0
REPEAT_SHARE = 0.25
# A new paragraph starts where the baseline drops by more than this many times the document's
# usual line spacing: paragraphs are set 1.5-2.0 times it apart (CRS reports, fpdf2 fixtures).
PARAGRAPH_GAP = 1.3
# Two pieces of one line further apart than this many times their type size are two columns'
# lines (word spaces are a quarter to a half of it; a column gutter one or more).
GUTTER = 2.0
# A superscript is set at most this share of its line's type size, raised above the baseline.
SUPERSCRIPT = 0.8
# A page with fewer characters than this has no text layer worth the name (a scan, a figure).
SCANNED_PAGE_CHARS = 20
# Extraction that keeps less than this share of the page text (the rest taken as furniture or
# lost) is named in a warning.
MIN_KEPT_SHARE = 0.6

_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—]|[ivxlc]{1,6}", re.I
)
_LEADERS = re.compile(r"(?:\.\s?){5,}\s*[\divxlc]+$", re.I)  # a table of contents' dot leaders
_TERMINAL = (".", "!", "?", ":", ";", "”", '"', "’", ")", "]")
_BULLET = re.compile(r"^[•●▪■◦○‣∙·\-–]\s")
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE_LINE = re.compile(
    rf"^(?:(?:updated|published|issued|revised|released|dated|as of|date)\s*:?\s*)?"
    rf"((?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}})\s*$",
    re.I,
)
_JUNK_TITLE = re.compile(
    r"^(untitled|microsoft word|document\d*|slide \d+|title)\b|\.(docx?|pdf|indd|tex|rtf)$", re.I
)


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


@dataclass
class _Line:
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


@dataclass
class _Paragraph:
    lines: list[_Line] = field(default_factory=list)
    kind: str = "body"  # body | heading | title


def pdf_text(data: bytes) -> PdfText:
    """The text of a PDF; raises BadDocument for one that cannot be read."""
    import pypdfium2 as pdfium

    _check_expansion(data)
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
                    lines, count = _page_lines(textpage)
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


def _check_expansion(data: bytes) -> None:
    """Decompress every page's content with pypdf (which stops at its limits) and refuse the file
    if a stream, or all of them together, is out of proportion to the file."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    budget = max(PDF_CONTENT_MIN_BUDGET, PDF_CONTENT_RATIO * len(data))
    total = 0
    try:
        # pypdf logs what it repairs ("EOF marker not found"): the build says it once, plainly.
        with (
            _quiet("pypdf"),
            apply_configuration(**dict.fromkeys(_PYPDF_LIMITS, PDF_STREAM_MAX_BYTES)),
        ):
            reader = PdfReader(io.BytesIO(data))
            for page in reader.pages:
                for stream in _content_streams(page):
                    total += len(stream.get_data())
                    if total > budget:
                        raise BadDocument(
                            f"refused: its pages expand to over {budget // 2**20} MB of content "
                            "(a decompression bomb?)"
                        )
    except LimitReachedError as exc:
        raise BadDocument(
            f"refused: a stream expands beyond {PDF_STREAM_MAX_BYTES // 2**20} MB "
            "(a decompression bomb?)"
        ) from exc
    except BadDocument:
        raise
    except (PdfReadError, Exception) as exc:  # damaged, encrypted: pypdf can fail anywhere
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise BadDocument("encrypted PDF: save an unprotected copy and index that") from exc
        # PDFium reads some files pypdf cannot; it decides whether this one is readable.


@contextmanager
def _quiet(name: str):
    """The library logger `name` silenced for the duration."""
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def _content_streams(page):
    """A page's content streams and the form XObjects it draws."""
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    if contents is not None:
        yield from (c.get_object() for c in contents) if isinstance(contents, list) else [contents]
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for ref in xobjects.get_object().values() if xobjects is not None else []:
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form":
            yield xobject


# ---------------------------------------------------------------------------------------------
# Lines: PDFium's lines with their boxes, type size and weight; superscript numbers as markers.


def _page_lines(textpage) -> tuple[list[_Line], int]:
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
    return bottom <= middle <= top and -1 <= b[0][0] - a[-1][2] < 0.6 * size  # a space at most


def _line(chars: list[tuple[str, tuple | None, float, int]], row: int = 0) -> _Line | None:
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
    return _Line(
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


# ---------------------------------------------------------------------------------------------
# Furniture: lines near a page's top or bottom that recur at the same height on other pages.


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text.lower())).strip()


def _in_margin(line: _Line, height: float) -> bool:
    return line.y0 > height * (1 - MARGIN) or line.y1 < height * MARGIN


def _furniture(pages: list[list[_Line]], sizes: list[tuple[float, float]], body_size: float, pitch: float) -> list[set[int]]:  # fmt: skip
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
            if not _in_margin(line, height):
                continue
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


def _stray(lines: list[_Line], height: float, body_size: float, pitch: float) -> set[int]:
    """Lines set apart in a page's margin that say nothing by themselves: set smaller than the
    body, short, not ending a sentence, and more than one and a half lines' spacing away from any other
    line (a report number and URL in a cover's corner, a last page's version stamp)."""
    candidates = {
        i
        for i, line in enumerate(lines)
        if _in_margin(line, height)
        and line.size < body_size - 0.4
        and len(line.text.split()) <= 12
        and not _ends_sentence(line.text)
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


# ---------------------------------------------------------------------------------------------
# Paragraphs, headings, footnotes, title and date.


def _reading_order(lines: list[_Line], width: float) -> list[_Line]:
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
    ordered: list[_Line] = []
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


def _rejoin_rows(lines: list[_Line]) -> list[_Line]:
    """Pieces of one row split at a wide gap (a table's cells) as the one line they are."""
    joined: list[_Line] = []
    for line in lines:
        last = joined[-1] if joined else None
        if last is not None and last.row == line.row:
            joined[-1] = _Line(
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


def _ends_sentence(text: str) -> bool:
    return re.sub(r"(\[\d+\])+$", "", text.rstrip()).endswith(_TERMINAL)


def _note_start(line: _Line, previous: int | None) -> tuple[str, str] | None:
    """(number, text) when line starts a footnote: a superscript number, or the next number."""
    if line.note is not None:
        return line.note, line.text
    m = re.match(r"(\d{1,3})\s+(.*)", line.text)
    if m and (previous is None or int(m.group(1)) == previous + 1):
        return m.group(1), m.group(2)
    return None


def _split_footnotes(lines: list[_Line], body_size: float, height: float, carried: bool) -> tuple[list[_Line], list[_Line]]:  # fmt: skip
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


def _gather_notes(page: int, lines: list[_Line], notes: list[list]) -> None:
    """Add a page's footnote lines to notes ([page, number, lines] items, in order)."""
    for line in lines:
        previous = int(notes[-1][1]) if notes and notes[-1][1].isdigit() else None
        if started := _note_start(line, previous):
            notes.append([page, started[0], [started[1]]])
        elif notes:
            notes[-1][2].append(line.text)


def _is_heading(line: _Line, body_size: float) -> bool:
    larger = line.size >= body_size + 1
    text = line.text
    return (
        (line.bold or larger)
        and (text[:1].isupper() or text[:1].isdigit())
        and (text.endswith("?") or not _ends_sentence(text))  # not a bold "(Figure 1)."
        and line.size >= body_size - 0.5
        and len(line.text.split()) <= 20
        and not _BULLET.match(line.text)
    )


def _paragraphs(lines: list[_Line], body_size: float, pitch: float, title_size: float | None) -> list[_Paragraph]:  # fmt: skip
    paragraphs: list[_Paragraph] = []
    for line in lines:
        if title_size is not None and abs(line.size - title_size) < 0.5:
            kind = "title"
        elif _DATE_LINE.match(line.text):
            paragraphs.append(_Paragraph([line], "date"))
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
        if last is None or last.kind != kind or _breaks(last.lines[-1], line, kind, pitch):
            paragraphs.append(_Paragraph([line], kind))
        else:
            last.lines.append(line)
    return paragraphs


def _breaks(prev: _Line, line: _Line, kind: str, pitch: float) -> bool:
    """Whether line starts a new paragraph after prev (both of the same kind)."""
    if _BULLET.match(line.text):
        return True
    drop = prev.y0 - line.y0
    spacing = max(pitch, prev.size, line.size)
    same_column = prev.x0 < line.x1 and line.x0 < prev.x1
    if same_column and 0 < drop <= PARAGRAPH_GAP * spacing:
        return abs(prev.size - line.size) >= 1 and kind == "body"
    if same_column and 0 < drop <= 3 * spacing:
        return True  # the space between two paragraphs
    # Anywhere else (a new column, past a figure): a paragraph that has not ended goes on.
    return kind != "body" or _ends_sentence(prev.text)


def _join_lines(parts: list[str], vocabulary: set[str] | None = None) -> str:
    """Lines of a paragraph as one line. A line that ends with a hyphen after a letter is joined
    without it when the document spells the word whole elsewhere, or (when it spells it neither
    way) both halves are lower case; otherwise, and after a digit or a dash, with no space."""
    text = ""
    for part in parts:
        if not text:
            text = part
        elif re.search(r"[^\W\d]-$", text) and part[:1].isalpha():
            head = re.search(r"(\w+)-$", text).group(1)
            tail = re.match(r"\w+", part).group(0)
            whole, hyphened = (head + tail).lower(), f"{head}-{tail}".lower()
            known = vocabulary or set()
            if whole in known or (hyphened not in known and head.islower() and tail.islower()):
                text = text[:-1] + part
            else:
                text += part
        elif re.search(r"(\w-|[—/])$", text):
            text += part
        else:
            text = f"{text} {part}"
    return text


def _page_title(pages: list[list[_Line]], body_size: float) -> tuple[str | None, float | None]:  # fmt: skip
    """The first page's largest type (if larger than the body's) and its size."""
    first = pages[0] if pages else []
    largest = max((line.size for line in first), default=0.0)
    if largest < body_size + 2:
        return None, None
    run = []
    for line in first:
        if abs(line.size - largest) < 0.5:
            run.append(line.text)
        elif run:
            break
    return " ".join(run).strip() or None, largest


def _metadata_title(metadata: dict) -> str | None:
    """The PDF's own title, when it is meaningful (not "Microsoft Word - draft3.docx")."""
    title = " ".join((metadata.get("Title") or "").split())
    meaningful = len(title.split()) >= 2 and any(c.isalpha() for c in title)
    return title if meaningful and not _JUNK_TITLE.search(title) else None


def _date(pages: list[list[_Line]]) -> str | None:
    for line in pages[0] if pages else []:
        if m := _DATE_LINE.match(line.text):
            return _iso(m.group(1))
    return None


def _iso(text: str) -> str | None:
    candidate = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.replace(",", " "))
    candidate = re.sub(r"\s+", " ", candidate.replace(".", "")).strip()
    for fmt in ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(candidate.replace("Sept ", "Sep "), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _compose(
    pages: list[list[_Line]],
    sizes: list[tuple[float, float]],
    raw_chars: list[int],
    metadata: dict,
) -> PdfText:
    weights: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            weights[line.size] += line.chars
    body_size = weights.most_common(1)[0][0] if weights else 10.0
    drops: Counter[float] = Counter()
    for lines in pages:
        for a, b in zip(lines, lines[1:], strict=False):
            if max(abs(a.size - body_size), abs(b.size - body_size)) < 0.6 and 0 < a.y0 - b.y0 < 3 * body_size:  # fmt: skip
                drops[round((a.y0 - b.y0) * 2) / 2] += 1
    pitch = drops.most_common(1)[0][0] if drops else 1.2 * body_size
    furniture = _furniture(pages, sizes, body_size, pitch)
    kept_pages = [
        _reading_order([ln for i, ln in enumerate(lines) if i not in furniture[p]], sizes[p][0])
        for p, lines in enumerate(pages)
    ]
    title, title_size = _page_title(kept_pages, body_size)
    date = _date(kept_pages)

    vocabulary = {
        w.lower()
        for lines in kept_pages
        for line in lines
        for w in re.findall(r"\w+(?:-\w+)*", line.text)  # fmt: skip
    }
    flow: list[tuple[int, _Paragraph]] = []  # (page, paragraph) in reading order
    gathered: list[list] = []
    for p, lines in enumerate(kept_pages):
        carried = bool(gathered) and gathered[-1][0] == p - 1
        body, foot = _split_footnotes(lines, body_size, sizes[p][1], carried)
        _gather_notes(p, foot, gathered)
        page_title_size = title_size if p == 0 else None
        for paragraph in _paragraphs(body, body_size, pitch, page_title_size):
            flow.append((p, paragraph))

    text = ""
    starts: list[int] = []
    numbers: list[int] = []

    def mark(page: int, at: int) -> None:
        if not numbers or numbers[-1] != page + 1:
            starts.append(at)
            numbers.append(page + 1)

    previous: tuple[int, _Paragraph] | None = None
    for p, paragraph in flow:
        lines = [line.text for line in paragraph.lines]
        # A list item broken by a page break: the next page may repeat its bullet.
        after_break = previous is not None and previous[1].kind == "body" and previous[0] != p
        if after_break and (m := _BULLET.match(lines[0])) and lines[0][m.end() :][:1].islower():
            lines[0] = lines[0][m.end() :]
        if paragraph.kind == "body" and previous is not None:
            last_page, last = previous
            if last.kind == "body" and last_page != p and _continues(last, paragraph, lines[0]):
                # The paragraph broken by a page break goes on, joined like a line break.
                tail_start = text.rfind("\n\n") + 2 if "\n\n" in text else 0
                tail = text[tail_start:]
                merged = _join_lines([tail, *lines], vocabulary)
                k = len(tail) if merged.startswith(tail) else len(tail) - 1
                k += merged[k : k + 1] == " "
                text = text[:tail_start] + merged
                mark(p, tail_start + k)
                previous = (p, paragraph)
                continue
        if text:
            text += "\n\n"
        mark(p, len(text))
        block = _join_lines(lines, vocabulary)
        if paragraph.kind == "title":
            block = "# " + " ".join(lines)
        elif paragraph.kind == "heading":
            block = "## " + " ".join(lines)
        text += block
        previous = (p, paragraph)
    notes = [(p, number, _join_lines(parts, vocabulary)) for p, number, parts in gathered]
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
        title=_metadata_title(metadata) or title,
        date=date or _metadata_date(metadata),
        warnings=tuple(warnings),
        kept_share=share,
        page_count=len(pages),
    )


def _continues(last: _Paragraph, first: _Paragraph, start: str) -> bool:
    """Whether a page's first paragraph (whose first line reads start) carries on the previous
    page's last one."""
    end = last.lines[-1].text
    if _BULLET.match(start):
        return False
    if start[:1].islower():
        return True
    return not _ends_sentence(end)


def _metadata_date(metadata: dict) -> str | None:
    """A date stated in the PDF's keywords or subject ("Cover Date: April 17, 2026"); never the
    creation date, which is when the file was made, not the document's date."""
    for key in ("Keywords", "Subject"):
        value = metadata.get(key) or ""
        if m := re.search(rf"((?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}})", value):
            return _iso(m.group(1))
    return None
