"""Extraction: the text of a corpus file (text, Markdown, HTML or PDF) and where its pages start.

Every later step (parsing, passages, citations) works on the text made here, and the index keeps
it, so a citation's offsets can always be checked against it. The text is shaped for the parser:
paragraphs are separated by blank lines, HTML headings become Markdown `#` lines, and endnote
references become `[n]` markers, so that each format yields the same passages as its plain-text
twin.
"""

from __future__ import annotations

import bisect
import codecs
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.errors import BadDocument

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES


@dataclass(frozen=True)
class Extracted:
    text: str
    pages: tuple[int, ...] = ()  # offset in text where each page starts; empty when unpaged


def page_at(pages: tuple[int, ...] | list[int], offset: int) -> int | None:
    """The 1-based page holding offset, or None for a format without pages."""
    return bisect.bisect_right(pages, offset) if pages else None


def extract(path: Path, warn: Callable[[str], None] = lambda message: None) -> Extracted:
    """The text of one file; warn(message) says how a file that is not clean UTF-8 was read.

    Raises BadDocument for a file that cannot be read (binary, damaged, a decompression bomb).
    """
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix in PDF_SUFFIXES:
        try:
            return pdf_text(data)
        except BadDocument:
            raise
        except Exception as exc:  # a damaged or encrypted file can fail anywhere inside pypdf
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            raise BadDocument(f"not a readable PDF ({reason})") from exc
    if _looks_binary(data):
        raise BadDocument("a binary file, not text")
    text = decode(data, warn)
    if suffix in HTML_SUFFIXES:
        try:
            return Extracted(html_text(text))
        except RecursionError as exc:
            raise BadDocument("HTML nested too deeply to read") from exc
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


# ---------------------------------------------------------------------------------------------
# HTML: the main content's blocks, in document order.

# Never content: page chrome, code, forms and embedded media.
_DROP = {
    "script", "style", "noscript", "template", "nav", "aside", "form", "button", "select",
    "svg", "canvas", "iframe", "object", "embed", "video", "audio", "map", "dialog", "footer",
    "head", "title", "meta", "link", "input", "textarea", "label", "-comment",
}  # fmt: skip
_BLOCKS = {
    "p", "div", "section", "article", "main", "header", "blockquote", "figure", "figcaption",
    "address", "details", "summary", "dl", "dt", "dd", "center", "hgroup", "body", "html", "hr",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_NOTES_HINT = re.compile(
    r"foot-?notes?|end-?notes?|doc-(?:end|foot)notes?|^notes$|references", re.I
)
_NOTE_HEADINGS = {"endnotes", "notes", "footnotes", "references", "sources", "end notes"}
_BACKLINK = re.compile(r"[↩↑⤴]\ufe0e?")
_SPACES = re.compile(r"[^\S\n]+")


def html_text(html: str) -> str:
    """The main text of an HTML page: headings as `#` lines, paragraphs separated by blank lines."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    articles = tree.css("article")
    root = articles[0] if len(articles) == 1 else tree.css_first("main") or tree.body
    if root is None:
        return ""
    renderer = _HtmlRenderer(page_level=root is tree.body)
    renderer.walk(root)
    blocks = renderer.finish()
    if not any(b.startswith("# ") for b in blocks):
        # The page's title, when the main content does not repeat it as its own <h1>.
        h1 = tree.css_first("h1")
        title = h1.text(separator=" ") if h1 is not None else None
        if not title and (node := tree.css_first("title")) is not None:
            title = node.text()
        if title and (title := _collapse(title)):
            blocks.insert(0, f"# {title}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _collapse(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").split("\n"))
    return "\n".join(line for line in lines if line)


def _note_number(node) -> str | None:
    """The number of an endnote reference (`<sup>3</sup>`, `<sup>[3]</sup>`, a doc-noteref link)."""
    text = node.text(separator="").strip().strip("[]()").strip()
    return text if text.isdigit() and len(text) <= 4 else None


def _is_notes_container(node) -> bool:
    attrs = node.attributes
    hint = " ".join(str(attrs.get(a) or "") for a in ("class", "id", "role"))
    return bool(hint) and bool(_NOTES_HINT.search(hint))


class _HtmlRenderer:
    def __init__(self, page_level: bool) -> None:
        self.page_level = page_level  # drop the page's own <header>; keep an article's
        self.blocks: list[str] = []
        self.buffer: list[str] = []
        self.in_notes = False  # after an endnotes heading, or inside a footnotes container

    def finish(self) -> list[str]:
        self.flush()
        return self.blocks

    def flush(self) -> None:
        text = _collapse("".join(self.buffer))
        self.buffer = []
        if text:
            self.blocks.append(text)

    def inline(self, node) -> str:
        """All of node's text on one line, blocks inside it joined by spaces."""
        inner = _HtmlRenderer(self.page_level)
        inner.walk(node)
        return " ".join(b.replace("\n", " ") for b in inner.finish())

    def walk(self, node) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.buffer.append(re.sub(r"\s+", " ", child.text_content or ""))
            elif tag in _DROP or (tag == "header" and self.page_level):
                continue
            elif tag == "br":
                self.buffer.append("\n")
            elif (
                tag in ("sup", "a")
                and (tag == "sup" or child.attributes.get("role") == "doc-noteref")
                and (number := _note_number(child))
            ):
                self.buffer.append(f"[{number}]")
            elif tag == "a" and (
                child.attributes.get("role") == "doc-backlink"
                or _BACKLINK.fullmatch(child.text().strip())
            ):
                continue
            elif tag in _HEADINGS:
                self.flush()
                if text := self.inline(child):
                    self.blocks.append("#" * _HEADINGS[tag] + " " + text)
                    self.in_notes = text.strip(" :").lower() in _NOTE_HEADINGS
            elif tag in ("ul", "ol"):
                self.flush()
                self.list_items(child)
            elif tag == "table":
                self.flush()
                rows = (
                    " | ".join(self.inline(c) for c in tr.css("th, td")) for tr in child.css("tr")
                )
                self.blocks.append(_collapse("\n".join(r for r in rows if r.strip(" |"))))
            elif tag == "pre":
                self.flush()
                self.blocks.append(_collapse(child.text(deep=True)))
            elif tag in _BLOCKS or tag == "li":
                self.flush()
                notes = _is_notes_container(child)
                if notes and not self.in_notes:
                    self.blocks.append("## Notes")  # a footnotes section with no heading of its own
                was, self.in_notes = self.in_notes, self.in_notes or notes
                self.walk(child)
                self.flush()
                self.in_notes = was if notes else self.in_notes
            else:
                self.walk(child)

    def list_items(self, node) -> None:
        """Endnote lists become one `[n] text` block per note; other lists one block of lines."""
        ordered = node.tag == "ol"
        notes = self.in_notes or _is_notes_container(node)
        if notes and ordered and not self.in_notes:
            self.blocks.append("## Notes")
            self.in_notes = True
        number = int(node.attributes.get("start") or 1) if ordered else 0
        lines = []
        for item in node.iter():
            if item.tag != "li":
                continue
            if ordered and (value := item.attributes.get("value")) and value.isdigit():
                number = int(value)
            text = _BACKLINK.sub("", self.inline(item)).strip()
            if text and notes and ordered:
                self.blocks.append(f"[{number}] {text}")
            elif text:
                lines.append(f"{number}. {text}" if ordered else f"- {text}")
            number += 1
        if lines:
            self.blocks.append("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# PDF: text per page (pypdf's layout mode keeps blank lines between paragraphs).

_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—]", re.I
)
_TERMINAL = (".", "!", "?", ":", ";", "”", '"', "’", ")", "]")


# What a PDF may expand to. pypdf decompresses content streams to extract text; a decompression
# bomb (a few KB that inflate to GB) is refused after at most this much work, never expanded.
PDF_STREAM_MAX_BYTES = 32 * 2**20  # any one decompressed stream
PDF_CONTENT_MIN_BUDGET = 32 * 2**20  # all pages' content together: at least this much...
PDF_CONTENT_RATIO = 20  # ...or this many times the file's size (text content compresses ~3-10x)
_PYPDF_LIMITS = (
    "zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
    "brotli_maximum_output_length", "jbig2_maximum_output_length", "image_maximum_buffer_size",
    "array_based_stream_maximum_output_length", "maximum_declared_stream_length",
)  # fmt: skip


def pdf_text(data: bytes) -> Extracted:
    """Paragraphs of each page, joined in order; a paragraph broken by a page break is rejoined."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    try:
        with apply_configuration(**dict.fromkeys(_PYPDF_LIMITS, PDF_STREAM_MAX_BYTES)):
            reader = PdfReader(io.BytesIO(data))
            _check_expansion(reader, len(data))
            pages = [_page_lines(p.extract_text(extraction_mode="layout")) for p in reader.pages]
    except LimitReachedError as exc:
        raise BadDocument(
            f"refused: a stream expands beyond {PDF_STREAM_MAX_BYTES // 2**20} MB "
            "(a decompression bomb?)"
        ) from exc
    pages = _drop_running_lines(pages)
    text, starts = "", []
    for lines in pages:
        paragraphs = _paragraphs(lines)
        if text and paragraphs and _continues(text, paragraphs[0]):
            text += " "
        elif text and paragraphs:
            text += "\n\n"
        starts.append(len(text))
        text += "\n\n".join(paragraphs)
    return Extracted(text + "\n" if text else "", tuple(starts))


def _check_expansion(reader, size: int) -> None:
    """Decompress every page's content (cheap next to extracting text from it) and refuse the
    file before extraction if, all together, it is out of proportion to the file."""
    budget = max(PDF_CONTENT_MIN_BUDGET, PDF_CONTENT_RATIO * size)
    total = 0
    for page in reader.pages:
        for stream in _content_streams(page):
            total += len(stream.get_data())
            if total > budget:
                raise BadDocument(
                    f"refused: its pages expand to over {budget // 2**20} MB of content "
                    "(a decompression bomb?)"
                )


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


def _page_lines(page: str) -> list[str]:
    return [_SPACES.sub(" ", line).strip() for line in page.replace("\xa0", " ").splitlines()]


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove page numbers and headers or footers repeated at the top or bottom of most pages."""

    def edges(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line]
        return sorted({filled[0], filled[-1]}) if filled else []

    shape = Counter()
    for lines in pages:
        shape.update({re.sub(r"\d+", "#", lines[i]) for i in edges(lines)})
    repeated = {s for s, n in shape.items() if len(pages) >= 3 and n >= max(3, 0.6 * len(pages))}
    cleaned = []
    for lines in pages:
        drop = {
            i
            for i in edges(lines)
            if _PAGE_NUMBER.fullmatch(lines[i]) or re.sub(r"\d+", "#", lines[i]) in repeated
        }
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs, current = [], ""
    for line in [*lines, ""]:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
        elif current.endswith("-") and current[-2:-1].isalpha():
            current += line  # a word broken at its hyphen: keep the hyphen, drop the break
        else:
            current = f"{current} {line}" if current else line
    return paragraphs


def _continues(text: str, first: str) -> bool:
    """Whether a page's first paragraph carries on the previous page's last one."""
    last = text[text.rfind("\n\n") + 2 :] if "\n\n" in text else text
    if first[:1].islower():
        return True
    return not last.endswith(_TERMINAL) and len(last.split()) > 12
