"""Documents: parse a document's text into title, date, sections, paragraphs and endnotes.

Nothing here knows about any one document. Web pages saved as text carry noise (photo credits,
"Download as PDF" links, pull quotes that repeat the body); the rules below recognise such noise
by its shape, so that only the author's prose becomes passages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime

ENDNOTES_SECTION = "Endnotes"

_ENDNOTE_HEADINGS = {"endnotes", "notes", "footnotes", "references", "sources", "end notes"}
_BOILERPLATE_SECTIONS = ("Disclaimer", "Copyright", "About the author", "About the authors")
# Calls to action and page chrome that web pages wrap around an article.
_FURNITURE = re.compile(
    r"^(download\b|read (our|more|the full|also)\b|subscribe\b|sign up\b|share (this|on)\b|"
    r"follow us\b|click here\b|print (this|page)\b|back to top\b|related (articles|posts|content)\b|"
    r"(photo|image|picture|credit|cover)( credit)?\s*:|skip to\b|advertisement\b)",
    re.IGNORECASE,
)
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ENDNOTE_ITEM = re.compile(r"^(?:\[(\d{1,4})\]|\[\^(\d{1,4})\]:|(\d{1,4})[.)])\s*")
MARKER = re.compile(r"\[\^?(\d{1,4})\](?!:)")
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %Y")
_WORD = re.compile(r"\w+(?:[’'-]\w+)*")
_SENTENCE_END = (".", ";", ",", ":")


@dataclass(frozen=True)
class Endnote:
    number: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Block:
    """A run of non-blank lines, as an exact span of the document's text."""

    start: int
    end: int
    kind: str  # body | heading | endnote | title | date | furniture | pullquote | caption
    section: str | None
    paragraph: int  # 1-based position among the document's blocks


@dataclass(frozen=True)
class Document:
    source: str
    text: str
    title: str | None
    date: str | None
    blocks: tuple[Block, ...]
    endnotes: dict[int, Endnote] = field(default_factory=dict)
    pages: tuple[int, ...] = ()  # offset where each page (or part of one) starts, if paged
    page_numbers: tuple[int, ...] = ()  # the page of each part, when not 1, 2, 3, ...

    @property
    def sections(self) -> list[str]:
        names = [b.section for b in self.blocks if b.kind == "heading" and b.section]
        return list(dict.fromkeys(names))

    @property
    def paragraphs(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "body"]

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def normalise(text: str) -> str:
    """Fold text for matching: NFKC, lower case, straight quotes, plain dashes, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[‘’‚‛′]", "'", text)
    text = re.sub(r"[“”„‟″]", '"', text)
    text = re.sub(r"[‐‑‒–—―]", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_date(text: str) -> str | None:
    candidate = re.sub(r"\s+", " ", text.strip().rstrip("."))
    candidate = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", candidate)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(candidate, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# A date stated with its label, in a page's metadata: "Publication Date: 04/17/2026" (the seven
# CRS web pages, as month/day/year), "Updated April 17, 2026" (run on to the title before it on
# the same pages: "Space ForceUpdated"), "Published: 2024-07-11".
_DATE_LABEL = re.compile(
    r"(?:\b|(?<=[a-z])(?=[A-Z]))(?:(?:publication|release|issue|posted|revised)\s+date|"
    r"date(?:\s+(?:published|issued))?|"
    r"published(?:\s+on)?|updated|issued|released|posted)\s*:?\s*\|?\s*",
    re.I,
)
_DATE_VALUE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})\b|\d{4}-\d{2}-\d{2}\b|[A-Z][a-z]{2,8}\.? \d{1,2}(?:st|nd|rd|th)?, \d{4}"
    r"|\d{1,2} [A-Z][a-z]{2,8} \d{4}"
)
# Metadata written as labels and values ("Product Type: In Focus Report No.: IF12610 Version: 6",
# "| Topics: | Foreign Affairs |"): three labels or more, one to every eight words at least.
_LABEL = re.compile(r"(?:^|[|\s])[A-Z][\w.()/&'’ -]{0,30}?:(?=\s|$)", re.M)


# A figure's or a table's caption set like a heading ("Figure 1. Typhon Launchers and Battery
# Operations Center" in IF12135, four in R48883) names the figure, not the prose after it.
CAPTION = re.compile(r"(?:Figure|Table|Chart|Map|Exhibit|Box)\s+[A-Z]?\d+[.:]\s", re.I)
_SHORT_HEADING = re.compile(r"[A-Z][\w’'&-]*(?: [\w’'&-]+){0,3}")


def labelled_date(text: str) -> str | None:
    """The first date in text that a label names as the date ("Publication Date: 04/17/2026")."""
    for m in _DATE_LABEL.finditer(text):
        value = _DATE_VALUE.match(text, m.end())
        if value is None:
            continue
        if value.group(1):  # month/day/year, unless the first number cannot be a month
            a, b, year = (int(g) for g in value.groups())
            month, day = (b, a) if a > 12 else (a, b)
            try:
                return datetime(year, month, day).date().isoformat()
            except ValueError:
                continue
        if found := parse_date(value.group()):
            return found
    return None


# A block this long before the first paragraph is the first paragraph, not a caption or credit.
PROSE_WORDS = 60


def _is_label_run(text: str) -> bool:
    labels = _LABEL.findall(text)
    return len(labels) >= 3 and 8 * len(labels) >= len(words(text))


def split_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of runs of non-blank lines, trimmed of surrounding white space.

    A Markdown heading line always stands as a block of its own.
    """
    spans: list[tuple[int, int]] = []
    start = None
    end = 0
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        stripped = line.strip()
        if not stripped or _MARKDOWN_HEADING.match(stripped):
            if start is not None:
                spans.append((start, end))
                start = None
            if stripped:
                lead = len(line) - len(line.lstrip())
                spans.append((line_start + lead, line_start + len(line.rstrip())))
            continue
        if start is None:
            start = line_start + len(line) - len(line.lstrip())
        end = line_start + len(line.rstrip())
    if start is not None:
        spans.append((start, end))
    return spans


def _bigrams(text: str) -> set[tuple[str, str]]:
    tokens = [w.lower() for w in words(text)]
    return set(zip(tokens, tokens[1:], strict=False))


def _is_sentence_like(text: str) -> bool:
    return text.rstrip("”\"’')]").endswith((".", "!", "?", ":", ";")) or bool(MARKER.search(text))


def _looks_like_heading(text: str) -> bool:
    one_line = "\n" not in text
    short = len(words(text)) <= 12 and len(text) <= 100
    ends_open = not MARKER.sub("", text).rstrip().rstrip("”\"’')").endswith(_SENTENCE_END)
    return one_line and short and ends_open and bool(text[:1].isupper() or text[:1].isdigit())


def _is_title_line(text: str, following: str) -> bool:
    """A line standing alone above much longer prose: a title, even a long one that ends with a
    full stop, as scientific papers and reports have."""
    n = len(words(text))
    return (
        "\n" not in text
        and 2 <= n <= 30
        and len(text) <= 300
        and len(words(following)) >= 2 * n + 10
        and bool(text[:1].isupper() or text[:1].isdigit())
        and not MARKER.search(text)
        and not _FURNITURE.match(text)
    )


def _is_pull_quote(text: str, bigrams_elsewhere: list[set[tuple[str, str]]]) -> bool:
    """A short paragraph whose wording is mostly repeated by the body (a pull quote)."""
    n = len(words(text))
    if not 5 <= n <= 40 or "\n" in text or MARKER.search(text):
        return False
    own = _bigrams(text)
    if not own:
        return False
    best = max((len(own & other) / len(own) for other in bigrams_elsewhere), default=0.0)
    return best >= 0.6


def parse(
    source: str,
    text: str,
    pages: tuple[int, ...] = (),
    page_numbers: tuple[int, ...] = (),
    title: str | None = None,
    date: str | None = None,
) -> Document:
    """The document's structure; title and date, when the file states them (metadata, front
    matter), win over what the text suggests."""
    stated_title, stated_date = title, date
    spans = split_blocks(text)
    raw = [text[s:e] for s, e in spans]
    kinds: list[str | None] = [None] * len(spans)
    title: str | None = None
    date: str | None = None

    # Markdown headings and the title.
    headings: dict[int, str] = {}
    for i, chunk in enumerate(raw):
        m = _MARKDOWN_HEADING.match(chunk)
        if m:
            if title is None and len(m.group(1)) == 1 and not headings:
                title, kinds[i] = m.group(2), "title"
            else:
                headings[i] = m.group(2)
                kinds[i] = "heading"

    # Front matter: a date and a title among the first few blocks.
    for i, chunk in enumerate(raw[:4]):
        if kinds[i] is not None:
            continue
        if date is None and "\n" not in chunk and (d := parse_date(chunk)):
            date, kinds[i] = d, "date"
        elif title is None and _looks_like_heading(chunk) and not _is_sentence_like(chunk):
            title, kinds[i] = chunk.strip(), "title"
    if title is None:
        first = next((i for i, kind in enumerate(kinds[:4]) if kind is None), None)
        if (
            first is not None
            and first + 1 < len(raw)
            and _is_title_line(raw[first], raw[first + 1])
        ):
            title, kinds[first] = raw[first].strip(), "title"

    # Before the first real paragraph: a page's metadata ("Publication Date: 04/17/2026"), which
    # may state its date; short unpunctuated blocks, which are captions and credits, or repeat
    # the title; but the last of them, right before the prose, may be its heading: a few words
    # only ("Summary", "Overview" on CRS web pages; not the brief's "Alireza Parpaei/Unsplash
    # The Hague, Netherlands").
    front: list[int] = []
    prose = len(raw)  # where the first real paragraph stands
    for i, chunk in enumerate(raw):
        if kinds[i] is not None:
            continue
        if _is_label_run(chunk):
            kinds[i] = "furniture"
            date = date or labelled_date(chunk)
            continue
        # prose: a sentence, or a block too long for front matter whatever its end (a
        # paragraph that ends on a footnote such as "[n 1]")
        if len(words(chunk)) >= 12 and (
            _is_sentence_like(chunk) or len(words(chunk)) >= PROSE_WORDS
        ):
            if front and front[-1] == i - 1 and _SHORT_HEADING.fullmatch(raw[i - 1].strip()):
                kinds[i - 1] = None if kinds[i - 1] == "furniture" else kinds[i - 1]
            prose = i
            break
        date = date or labelled_date(chunk)
        if title is not None and not _is_sentence_like(chunk):
            repeat = normalise(title) in normalise(chunk) and len(chunk) < 2 * len(title) + 60
            kinds[i] = "title" if repeat else "furniture"
            front.append(i)

    bigram_sets = [_bigrams(c) if len(words(c)) > 40 else set() for c in raw]
    section: str | None = title
    in_endnotes = False
    endnotes: dict[int, Endnote] = {}
    blocks: list[Block] = []
    for i, ((start, end), chunk) in enumerate(zip(spans, raw, strict=True)):
        kind = kinds[i]
        item = _ENDNOTE_ITEM.match(chunk)
        label = chunk.strip().strip("#:").strip().lower()
        if kind == "heading" and CAPTION.match(headings[i]):
            kind = "caption"
        elif kind == "heading":
            section = headings[i]
            in_endnotes = section.strip().lower() in _ENDNOTE_HEADINGS
            if in_endnotes:
                section = ENDNOTES_SECTION
        elif kind is not None:
            pass
        elif label in _ENDNOTE_HEADINGS:
            kind, section, in_endnotes = "heading", ENDNOTES_SECTION, True
        elif item and (in_endnotes or chunk.startswith("[^")):
            number = int(next(g for g in item.groups() if g))
            body_start = start + item.end()
            endnotes.setdefault(number, Endnote(number, text[body_start:end], body_start, end))
            kind = "endnote"
            section = ENDNOTES_SECTION
        elif _FURNITURE.match(chunk) and len(words(chunk)) <= 30:
            kind = "furniture"
        elif boiler := next((b for b in _BOILERPLATE_SECTIONS if chunk.startswith(b)), None):
            kind, section, in_endnotes = "body", boiler, False
        elif _is_pull_quote(chunk, bigram_sets[:i] + bigram_sets[i + 1 :]):
            kind = "pullquote"
        elif _looks_like_heading(chunk) and CAPTION.match(chunk):
            kind = "caption"
        elif _looks_like_heading(chunk) and i + 1 < len(spans):
            kind, section, in_endnotes = "heading", chunk.strip(), False
        else:
            kind = "body"
            if in_endnotes:  # prose after the notes is no longer part of them
                in_endnotes = False
                section = None
        blocks.append(Block(start, end, kind, section, i + 1))
    # A heading over the page's chrome before its first paragraph (a metadata table, a list of
    # links) names that, not the prose after it ("CRS PRODUCT (LIBRARY OF CONGRESS)" on CRS web
    # pages). Further on, a heading over a photo credit still names its section.
    for k, block in enumerate(blocks[: min(prose, len(blocks) - 1)]):
        if block.kind == "heading" and blocks[k + 1].kind == "furniture":
            before = blocks[k - 1].section if k else title
            blocks[k] = replace(block, kind="furniture", section=before)
            for j in range(k + 1, len(blocks)):
                if blocks[j].kind == "heading" or blocks[j].section != block.section:
                    break
                blocks[j] = replace(blocks[j], section=before)
    return Document(
        source,
        text,
        stated_title or title,
        stated_date or date,
        tuple(blocks),
        endnotes,
        tuple(pages),
        tuple(page_numbers),
    )
