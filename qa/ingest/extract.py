"""Extraction: the text of a corpus file (text, Markdown, HTML, PDF, Word) and where pages start.

Every later step (parsing, passages, citations) works on the text made here, and the index keeps
it, so a citation's offsets can always be checked against it. The text is shaped for the parser:
paragraphs are separated by blank lines, HTML headings become Markdown `#` lines, and endnote
references become `[n]` markers, so that each format yields the same passages as its plain-text
twin.
"""

from __future__ import annotations

import bisect
import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.errors import BadDocument
from qa.ingest.docx import docx_text
from qa.ingest.html import html_meta, html_text
from qa.ingest.markdown import markdown
from qa.ingest.pdf import pdf_text

TEXT_SUFFIXES = (".txt",)
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
SUFFIXES = TEXT_SUFFIXES + MARKDOWN_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES + DOCX_SUFFIXES


@dataclass(frozen=True)
class Extracted:
    text: str
    pages: tuple[int, ...] = ()  # offset in text where each page (or part of one) starts...
    page_numbers: tuple[int, ...] = ()  # ...and its page, when not simply 1, 2, 3, ...
    title: str | None = None  # stated by the file itself (metadata, front matter)
    date: str | None = None  # ISO 8601
    warnings: tuple[str, ...] = ()  # what could not be read, and what to do about it
    kept_share: float | None = None  # of the characters the file holds (PDF: its text layer)


def page_at(
    pages: tuple[int, ...] | list[int], offset: int, numbers: tuple[int, ...] | list[int] = ()
) -> int | None:
    """The 1-based page holding offset in a document's extracted text, or None for a format
    without pages. pages are the offsets where each part starts; numbers, when given, the page of
    each part (a PDF's footnotes are gathered at the end, each part citing its own page)."""
    if not pages:
        return None
    i = max(bisect.bisect_right(pages, offset), 1)
    return numbers[i - 1] if numbers else i


def extract(path: Path, warn: Callable[[str], None] = lambda message: None) -> Extracted:
    """The text of one file; warn(message) says how a file that is not clean UTF-8 was read.

    Raises BadDocument for a file that cannot be read (binary, damaged, a decompression bomb).
    """
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix in PDF_SUFFIXES:
        try:
            read = pdf_text(data)
        except BadDocument:
            raise
        except Exception as exc:  # a damaged or encrypted file can fail anywhere inside a reader
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            raise BadDocument(
                f"not a readable PDF ({reason}): re-save or re-export it, or remove it"
            ) from exc
        return Extracted(
            read.text,
            read.pages,
            read.page_numbers,
            read.title,
            read.date,
            read.warnings,
            read.kept_share,
        )
    if suffix in DOCX_SUFFIXES:
        read = docx_text(data)
        return Extracted(read.text, title=read.title)
    if _looks_binary(data):
        raise BadDocument("a binary file, not text")
    text = decode(data, warn)
    try:
        if suffix in HTML_SUFFIXES:
            return Extracted(html_text(text), **html_meta(text))
        if suffix in MARKDOWN_SUFFIXES:
            return Extracted(**markdown(text, warn))
    except RecursionError as exc:
        kind = "HTML" if suffix in HTML_SUFFIXES else "Markdown"
        raise BadDocument(f"{kind} nested too deeply to read") from exc
    return Extracted(text)


# ---------------------------------------------------------------------------------------------
# Decoding: UTF-8, or what a byte-order mark names; else a stated fallback, with a warning.

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's, which it starts with
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, warn: Callable[[str], None] = lambda message: None) -> str:
    """Text from bytes, never failing.

    UTF-8 (or UTF-16/32 when a byte-order mark says so). Bytes that are not UTF-8 are read as
    Windows-1252 when nothing in the file is valid multi-byte UTF-8 and every byte is defined in
    Windows-1252 (old Windows and Latin-1 files); otherwise undecodable bytes become U+FFFD.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                warn(f"not valid {codec.upper()}: undecodable bytes replaced with U+FFFD")
                return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = exc.start
    lossy = data.decode("utf-8", errors="replace")
    if not any(ord(c) > 0x7F and c != "\ufffd" for c in lossy):
        try:
            text = data.decode("cp1252")
            warn(f"not UTF-8 (byte {where}): read as Windows-1252")
            return text
        except UnicodeDecodeError:
            pass
    warn(f"not UTF-8 (byte {where}): undecodable bytes replaced with U+FFFD")
    return lossy


def _looks_binary(data: bytes) -> bool:
    """NUL bytes near the start: an image, an archive or an executable, not text."""
    if data.startswith(tuple(bom for bom, _ in _BOMS)):
        return False  # UTF-16 and UTF-32 text holds NULs
    return b"\x00" in data[:8192]
