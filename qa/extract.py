"""Extraction: the text of a corpus file (text, Markdown, HTML or PDF) and where its pages start.

Every later step (parsing, passages, citations) works on the text made here, and the index keeps
it, so a citation's offsets can always be checked against it. The text is shaped for the parser:
paragraphs are separated by blank lines, HTML headings become Markdown `#` lines, and endnote
references become `[n]` markers, so that each format yields the same passages as its plain-text
twin.
"""

from __future__ import annotations

import bisect
import io
import re
from collections import Counter
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


def extract(path: Path) -> Extracted:
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix in HTML_SUFFIXES:
        return Extracted(html_text(_decode(data)))
    if suffix in PDF_SUFFIXES:
        try:
            return pdf_text(data)
        except Exception as exc:  # a damaged or encrypted file can fail anywhere inside pypdf
            raise BadDocument(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    return Extracted(_decode(data))


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace")


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


def pdf_text(data: bytes) -> Extracted:
    """Paragraphs of each page, joined in order; a paragraph broken by a page break is rejoined."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = [_page_lines(page.extract_text(extraction_mode="layout")) for page in reader.pages]
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
