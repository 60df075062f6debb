"""Word (.docx): the body's paragraphs, headings as `#` lines, tables as rows, footnotes and
endnotes as `[n]` markers and a Notes section, the title from the document's properties.

A .docx is a zip of XML parts (ECMA-376); reading the few parts qa needs with the standard
library keeps a dependency (and its lxml) out. The text is shaped like the other formats' (see
qa/ingest/extract.py), so the same parser makes the same passages of it.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from xml.etree import ElementTree

from qa.errors import BadDocument

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC = "{http://purl.org/dc/elements/1.1/}"
# A .docx whose XML parts expand beyond this is refused (a zip bomb), before any is parsed.
DOCX_MAX_XML_BYTES = 64 * 2**20
_HEADING_NAME = re.compile(r"^(?:heading|überschrift|titre|título|titolo)\s*(\d)$", re.I)


@dataclass(frozen=True)
class DocxText:
    text: str
    title: str | None


def docx_text(data: bytes) -> DocxText:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        parts = {info.filename: info for info in archive.infolist()}
        if "word/document.xml" not in parts:
            raise BadDocument("not a Word document (no word/document.xml)")
        if sum(info.file_size for info in parts.values() if info.filename.endswith(".xml")) > DOCX_MAX_XML_BYTES:  # fmt: skip
            raise BadDocument(
                f"refused: its XML expands beyond {DOCX_MAX_XML_BYTES // 2**20} MB (a zip bomb?)"
            )

        def xml(name: str):
            return ElementTree.fromstring(archive.read(name)) if name in parts else None

        document, styles = xml("word/document.xml"), xml("word/styles.xml")
        notes = {**_notes(xml("word/footnotes.xml"), "footnote"), **_notes(xml("word/endnotes.xml"), "endnote")}  # fmt: skip
        core = xml("docProps/core.xml")
    except BadDocument:
        raise
    except Exception as exc:  # a damaged zip can fail anywhere (bad headers, methods, passwords)
        raise BadDocument(f"not a readable Word document ({type(exc).__name__})") from exc
    levels = _heading_levels(styles)
    blocks: list[str] = []
    numbering: dict[tuple[str, str], int] = {}  # (kind, id) -> the note's number in the text
    body = document.find(f"{W}body")
    elements = []
    for element in body if body is not None else []:
        # Content controls (w:sdt) wrap paragraphs of their own.
        elements += list(element.iter(f"{W}p")) if element.tag == f"{W}sdt" else [element]
    for element in elements:
        if element.tag == f"{W}p":
            text = _paragraph(element, notes, numbering)
            level = levels.get(_style(element)) if text else None
            if level is not None:
                blocks.append("#" * level + " " + text)
            elif text:
                blocks.append(text)
        elif element.tag == f"{W}tbl":
            rows = []
            for row in element.iter(f"{W}tr"):
                cells = [" ".join(_paragraph(p, notes, numbering) for p in cell.iter(f"{W}p")).strip() for cell in row.iter(f"{W}tc")]  # fmt: skip
                if any(cells):
                    rows.append(" | ".join(cells))
            if rows:
                blocks.append("\n".join(rows))
    if numbering:
        blocks.append("## Notes")
        for key, number in sorted(numbering.items(), key=lambda item: item[1]):
            blocks.append(f"[{number}] {notes[key]}")
    # The title its properties state; not their dates, which say when the file was made or saved
    # (the parser reads a date line among the first paragraphs instead).
    title = " ".join((core.findtext(f"{_DC}title") or "").split()) or None if core is not None else None  # fmt: skip
    return DocxText("\n\n".join(blocks) + "\n" if blocks else "", title)


def _heading_levels(styles) -> dict[str, int]:
    """Style id -> heading level (Title is 1, Heading n is n; by name, as ids vary by language)."""
    levels = {"Title": 1, **{f"Heading{n}": n for n in range(1, 7)}}
    for style in styles.iter(f"{W}style") if styles is not None else []:
        name = (style.find(f"{W}name").get(f"{W}val") if style.find(f"{W}name") is not None else "") or ""  # fmt: skip
        style_id = style.get(f"{W}styleId")
        if m := _HEADING_NAME.match(name.strip()):
            levels[style_id] = min(int(m.group(1)), 6)
        elif name.strip().lower() == "title":
            levels[style_id] = 1
    return levels


def _style(paragraph) -> str | None:
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    return style.get(f"{W}val") if style is not None else None


def _paragraph(paragraph, notes: dict, numbering: dict) -> str:
    """A paragraph's text; a footnote or endnote reference becomes `[n]`, numbered in order."""
    out: list[str] = []
    for node in paragraph.iter():
        if node.tag == f"{W}t":
            out.append(node.text or "")
        elif node.tag in (f"{W}tab", f"{W}br", f"{W}cr"):
            out.append(" ")
        elif node.tag in (f"{W}footnoteReference", f"{W}endnoteReference"):
            kind = "footnote" if node.tag == f"{W}footnoteReference" else "endnote"
            key = (kind, node.get(f"{W}id"))
            if key in notes:
                numbering.setdefault(key, len(numbering) + 1)
                out.append(f"[{numbering[key]}]")
    return " ".join("".join(out).split())


def _notes(part, kind: str) -> dict[tuple[str, str], str]:
    """Footnotes or endnotes by (kind, id), without Word's separator notes."""
    found = {}
    for note in part.iter(f"{W}{kind}") if part is not None else []:
        if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        text = " ".join(_paragraph(p, {}, {}) for p in note.iter(f"{W}p")).strip()
        if text:
            found[(kind, note.get(f"{W}id"))] = text
    return found
