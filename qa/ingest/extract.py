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
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qa.errors import BadDocument
from qa.ingest.docx import docx_text
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
            return markdown(text, warn)
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


_META_TITLE = ("og:title", "citation_title", "dc.title", "dcterms.title", "twitter:title", "title")
_META_DATE = (
    "article:published_time", "citation_publication_date", "citation_date", "dc.date",
    "dcterms.date", "dcterms.created", "date", "pubdate", "publish-date", "publication_date",
    "datepublished", "article:modified_time",
)  # fmt: skip


def html_meta(html: str) -> dict:
    """Title and date an HTML page states in its <meta> tags or a <time datetime>. The title is
    given only when the page's content has no <h1> of its own (which then names it)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    metas: dict[str, str] = {}
    for node in tree.css("meta"):
        key = (node.attributes.get("property") or node.attributes.get("name") or "").lower()
        key = key or (node.attributes.get("itemprop") or "").lower()
        if key and (content := (node.attributes.get("content") or "").strip()):
            metas.setdefault(key, content)
    title = next((metas[k] for k in _META_TITLE if metas.get(k)), None)
    if tree.css_first("h1") is not None:
        title = None
    stamps = [metas[k] for k in _META_DATE if metas.get(k)]
    stamps += [n.attributes.get("datetime") or "" for n in tree.css("time")]
    date = next((d for stamp in stamps if (d := iso_date(stamp))), None)
    return {"title": _collapse(title) or None if title else None, "date": date}


def iso_date(value) -> str | None:
    """An ISO 8601 date (YYYY-MM-DD) from a date, a datetime or a string that starts with one
    (2025-06-19, 2025-06-19T08:00:00-04:00); None for anything else."""
    if hasattr(value, "isoformat") and hasattr(value, "year"):
        return value.isoformat()[:10]
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(value or ""))
    if not m:
        return None
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))).date().isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Markdown: front matter read for title and date; the rest rendered, then read as HTML is, so
# that emphasis, links, images and tables are text, not syntax.

_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)


_LOOSE_STRONG = re.compile(r"(\*\*|__)(\S[^*_\n]*?)[ \t]+\1(?=\S)")


def markdown(text: str, warn: Callable[[str], None] = lambda message: None) -> Extracted:
    from markdown_it import MarkdownIt

    title = date = None
    if m := _FRONT_MATTER.match(text):
        meta = _front_matter(m.group(1), warn)
        title = meta.get("title")
        title = " ".join(title.split()) if isinstance(title, str) and title.strip() else None
        date = next((d for k in ("date", "published", "published_time", "created") if (d := iso_date(meta.get(k)))), None)  # fmt: skip
        text = text[m.end() :]
    # Pages converted to Markdown often close emphasis after a space ("**Label: **Text"), which
    # CommonMark leaves as literal asterisks: the space moves outside so that it is emphasis.
    text = _LOOSE_STRONG.sub(r"\1\2\1 ", text)
    # Raw HTML in Markdown is read like any page's (scripts and styles dropped).
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    return Extracted(html_text(f"<body>{html}</body>"), title=title, date=date)


def _front_matter(block: str, warn: Callable[[str], None]) -> dict:
    import yaml

    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        warn(f"front matter is not valid YAML ({' '.join(str(exc).split())[:120]}): ignored")
        return {}
    return meta if isinstance(meta, dict) else {}


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
