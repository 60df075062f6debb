"""HTML: the main content's text, headings as `#` lines and endnote references as `[n]`."""

from __future__ import annotations

import re
from datetime import datetime

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


def _collapse(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").split("\n"))
    return "\n".join(line for line in lines if line)


# Where an element that gave no text stood (a link around an icon, emphasis the converter broke)
# its spaces stay: "(see Figure 1 )", "said the record . [1]". No space comes before closing
# punctuation that ends a word's run, or after an opening bracket; an endnote marker follows
# its sentence's full stop at once, as everywhere else ("defend.[1]").
_BEFORE_CLOSING = re.compile(
    r"(?<=[^\W_]|[\]”’\"')%])[ \t]+(?=(?:[,;:!?)]|\.(?!\.))[.,;:!?)]*(?:\s|\[|$))", re.M
)
_AFTER_OPENING = re.compile(r"(?<=\()[ \t]+(?=\w)")
_BEFORE_MARKER = re.compile(r"(?<=\w[.!?])[ \t]+(?=\[\^?\d{1,4}\](?:\s|$))", re.M)


def tighten(text: str) -> str:
    """Text without the spaces that removed elements left before punctuation and markers."""
    text = _BEFORE_CLOSING.sub("", text)
    return _BEFORE_MARKER.sub("", _AFTER_OPENING.sub("", text))


def _note_number(node) -> str | None:
    """The number of an endnote reference (`<sup>3</sup>`, `<sup>[3]</sup>`, a doc-noteref link)."""
    text = node.text(separator="").strip().strip("[]()").strip()
    return text if text.isdigit() and len(text) <= 4 else None


# Navigation is text that is mostly links: a line of links (a breadcrumb, "Download PDF | PDF
# Version History", "Hide Overview") and a list of links (a table of contents, a version
# history). On the seven CRS web pages (../shared/benchmarks/real-pdfs/web-version), such lines
# are 0.89-1.00 link text and prose at most 0.30, but for one lead-in that ends with a comma
# ("According to the U.S. Army Pacific Public Affairs Office," 0.98); such lists' items are
# 1.00 link text, prose lists' at most 0.09.
LINK_SHARE = 0.8
_RUNS_ON = re.compile(r"[.,;:!?…][”\"’')\]]*$")


def _link_share(node) -> float:
    text = re.sub(r"\s+", "", node.text(deep=True))
    linked = sum(len(re.sub(r"\s+", "", a.text(deep=True))) for a in node.css("a"))
    return linked / len(text) if text else 0.0


def _is_link_line(node) -> bool:
    """A paragraph of links that is not the start of a sentence running on."""
    return _link_share(node) >= LINK_SHARE and not _RUNS_ON.search(node.text(deep=True).strip())


def _is_link_list(node) -> bool:
    """A list whose items are links. Its last item may run on into the line after the list (as
    Markdown continues an item lazily: 5 of the 7 CRS pages)."""
    items = [li for li in node.css("li") if li.parent == node]
    links = [_link_share(li) >= LINK_SHARE for li in items]
    return bool(items) and all(links[:-1]) and (links[-1] or len(items) > 2)


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
        text = tighten(_collapse("".join(self.buffer)))
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
                if not _is_link_list(child):
                    self.list_items(child)
            elif tag == "p" and _is_link_line(child):
                self.flush()
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
