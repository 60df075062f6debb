"""Markdown: front matter read for title and date; the rest rendered, then read as HTML is, so
that emphasis, links, images and tables are text, not syntax."""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.ingest.html import html_text, iso_date, tighten

_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)

# Pages converted to Markdown carry emphasis the converter broke, each seen on the seven CRS web
# pages in ../shared/benchmarks/real-pdfs/web-version (29 places):
# - an emphasised space whose space was lost ("Force****is****soliciting", "defi__eschews"): an
#   empty pair of markers between two words, which must be a space, where two pairs run together
#   inside emphasis ("**s****pace**", "_S__trategic_") close one and open the next: nothing;
# - emphasis closed after a space ("**Label: **Text", "_protected _SATCOM"), which CommonMark
#   leaves as literal markers: the space moves outside, so that it is emphasis;
_LOOSE = re.compile(r"(\*\*|__|_)(?=[^\s*_])([^*_\n]+?)[ \t]+\1(?=[^\W_])")
# - and, once rendered, what is left of them (markers CommonMark could not pair: "Figure 1***",
#   "_liquidity _providers"): never text. A marker inside a word (snake_case) stays.
_DEBRIS = re.compile(r"\*{2,}|_+(?![^\W_])|(?<![^\W_])_+")
_MARKERS = re.compile(r"\*+|_+")
# A page's notes saved as rows with no table header ("| 3. | Vitalik Buterin, ..."; R48883's web
# page, 121 of them under "# Footnotes"): numbered items, which under a notes heading become
# `[n]` notes, each its own passage. A table's rows (under a `|---|` line) stay a table.
_NOTE_ROW = re.compile(r"\|\s*(\d{1,4})\.\s*\|\s*(.*?)\s*\|?\s*")
_TABLE_RULE = re.compile(r"\|?\s*:?-{3,}")


def _note_rows(text: str) -> str:
    lines = text.split("\n")
    in_table = False
    for i, line in enumerate(lines):
        in_table = bool(_TABLE_RULE.match(line)) or (in_table and line.startswith("|"))
        if not in_table and (m := _NOTE_ROW.fullmatch(line)):
            lines[i] = f"{m.group(1)}. {m.group(2)}"
    return "\n".join(lines)


def _repair_pairs(line: str) -> str:
    """Empty emphasis in a line: a space where it stood for one, nothing where it joins two.
    Runs of four or more asterisks, and of underscores inside a word, are such pairs; the rest
    only open or close emphasis, which says which pairs are which."""
    out, at, bold, em = [], 0, False, False
    for m in _MARKERS.finditer(line):
        run, before, after = m.group(), line[m.start() - 1 : m.start()], line[m.end() : m.end() + 1]
        star = run[0] == "*"
        tokens = len(run) // 2 if star else len(run)
        inword = before.isalnum() and after.isalnum()
        if (star and len(run) < 4) or (not star and (len(run) < 2 or not inword)):
            if star or not inword:  # (one underscore inside a word is snake_case)
                bold, em = (
                    (bold ^ (tokens % 2 == 1), em) if star else (bold, em ^ (tokens % 2 == 1))
                )
            continue
        unit = run[: 2 if star else 1]
        space = " " if before.strip() and after.strip() else ""
        inside = bold if star else em
        # Inside, the run closes first: pairs that join two emphases, or one that closes and a
        # space. Outside, it opens first: an empty pair (a lost space), perhaps one that opens.
        odd = tokens % 2
        piece = (unit + space if odd else "") if inside else space + unit * odd
        if odd:
            bold, em = (not bold, em) if star else (bold, not em)
        out += [line[at : m.start()], piece]
        at = m.end()
    return "".join(out) + line[at:]


def markdown(text: str, warn: Callable[[str], None] = lambda message: None) -> dict:
    """The text of a Markdown file, with the title and date its front matter states."""
    from markdown_it import MarkdownIt

    title = date = None
    if m := _FRONT_MATTER.match(text):
        meta = _front_matter(m.group(1), warn)
        title = meta.get("title")
        title = " ".join(title.split()) if isinstance(title, str) and title.strip() else None
        date = next((d for k in ("date", "published", "published_time", "created") if (d := iso_date(meta.get(k)))), None)  # fmt: skip
        text = text[m.end() :]
    text = _LOOSE.sub(r"\1\2\1 ", "\n".join(map(_repair_pairs, _note_rows(text).split("\n"))))
    # Raw HTML in Markdown is read like any page's (scripts and styles dropped).
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    rendered = html_text(f"<body>{html}</body>")
    rendered = re.sub(r"[ \t]+$", "", _DEBRIS.sub("", rendered), flags=re.M)
    rendered = tighten(re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", rendered))
    return {"text": rendered, "title": title, "date": date}


def _front_matter(block: str, warn: Callable[[str], None]) -> dict:
    import yaml

    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        warn(f"front matter is not valid YAML ({' '.join(str(exc).split())[:120]}): ignored")
        return {}
    return meta if isinstance(meta, dict) else {}
