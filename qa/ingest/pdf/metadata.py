"""Title and date: from a PDF's first page, and from its own metadata."""

from __future__ import annotations

import re
from datetime import datetime

from qa.ingest.pdf.lines import Line

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
DATE_LINE = re.compile(
    rf"^(?:(?:updated|published|issued|revised|released|dated|as of|date)\s*:?\s*)?"
    rf"((?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}})\s*$",
    re.I,
)
_JUNK_TITLE = re.compile(
    r"^(untitled|microsoft word|document\d*|slide \d+|title)\b|\.(docx?|pdf|indd|tex|rtf)$", re.I
)


def page_title(pages: list[list[Line]], body_size: float) -> tuple[str | None, float | None]:  # fmt: skip
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


def metadata_title(metadata: dict) -> str | None:
    """The PDF's own title, when it is meaningful (not "Microsoft Word - draft3.docx")."""
    title = " ".join((metadata.get("Title") or "").split())
    meaningful = len(title.split()) >= 2 and any(c.isalpha() for c in title)
    return title if meaningful and not _JUNK_TITLE.search(title) else None


def page_date(pages: list[list[Line]]) -> str | None:
    for line in pages[0] if pages else []:
        if m := DATE_LINE.match(line.text):
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


def metadata_date(metadata: dict) -> str | None:
    """A date stated in the PDF's keywords or subject ("Cover Date: April 17, 2026"); never the
    creation date, which is when the file was made, not the document's date."""
    for key in ("Keywords", "Subject"):
        value = metadata.get(key) or ""
        if m := re.search(rf"((?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}})", value):
            return _iso(m.group(1))
    return None
