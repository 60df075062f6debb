"""`GET /documents/{source}`: a corpus document opened at a cited place.

A PDF is served as the file itself (a citation links it with `#page=N`). Every other format is
served as a readable page of the text the index keeps, the text that citations' offsets refer
to, with `?start=S&end=E` marked and scrolled to: Markdown, HTML and Word laid out as documents
(qa/surfaces/layout.py), plain text as it stands. Only documents the index holds are served,
and only from inside the corpus folder: any other name, a traversal or a symbolic link that
leads out of the corpus is answered 404, as an unknown document would be.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi.responses import FileResponse, HTMLResponse, Response

from qa.errors import BadInput, UnknownDocument
from qa.surfaces import layout
from qa.surfaces.access import printable

SERVED_AS_FILE = {".pdf": "application/pdf"}
SHOWN_NAME = 200  # characters of a requested name repeated in a 404
# A PDF is shown by the browser's viewer, which Chrome builds as a page embedding the file with
# inline styles: the server's CSP (object-src 'none', style-src 'self') would leave it blank
# (chromium issue 271452). Nothing else may load or run in it.
PDF_CSP = (
    "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def opened(assistant, source: str, start: int | None, end: int | None) -> Response:
    """The answer to `GET /documents/{source}` from this assistant's index and corpus (None:
    `qa serve --watch` still waiting for documents)."""
    if assistant is None:
        raise UnknownDocument(f"no document {_named(source)} in the corpus")
    kept = assistant.index.documents
    path = corpus_file(assistant.settings.corpus, kept, source)
    kind = media_type(source)
    if kind is None:
        html = page(source, kept[source], start, end)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})
    if path is None:
        raise UnknownDocument(
            f"{_named(source)} is indexed but no longer in the corpus: run `qa index`"
        )
    headers = {"Content-Disposition": "inline", "Content-Security-Policy": PDF_CSP}
    return FileResponse(path, media_type=kind, headers=headers)


def corpus_file(corpus: Path, documents: dict, source: str) -> Path | None:
    """The corpus file behind an indexed source, or None where it is missing; UnknownDocument
    for a source the index does not hold or one whose path resolves out of the corpus."""
    if source not in documents or source.startswith("/") or ".." in Path(source).parts:
        raise UnknownDocument(f"no document {_named(source)} in the corpus")
    root = corpus.resolve()
    path = corpus / source
    if not path.exists():
        return None
    resolved = path.resolve()
    if not resolved.is_relative_to(root):  # a symbolic link out of the corpus
        raise UnknownDocument(f"no document {_named(source)} in the corpus")
    return resolved


def _named(source: str) -> str:
    """A requested name as an answer repeats it: escaped, and cut (a 70 KB path asked for got a
    70 KB answer)."""
    return printable(source, SHOWN_NAME)


def media_type(source: str) -> str | None:
    """The media type a document is served with as a file, or None: served as a text page."""
    return SERVED_AS_FILE.get(Path(source).suffix.lower())


def page(source: str, kept: dict, start: int | None, end: int | None) -> str:
    """The document's kept text as an HTML page, text[start:end] marked (id "cited"). The text
    is data: every character of it is escaped."""
    text = kept["text"]
    if (start is None) != (end is None):
        raise BadInput("give both start and end, or neither")
    if start is not None and not 0 <= start <= end <= len(text):
        raise BadInput(f"{source} holds {len(text)} characters: give 0 <= start <= end <= {len(text)}")  # fmt: skip
    title = kept.get("title") or source
    origin = " · ".join(x for x in (source, kept.get("date")) if x)
    kind = "qa-document-text"
    heading = f'<h1 class="qa-document-title">{escape(title)}</h1>\n'
    if layout.laid_out(source):  # Markdown, HTML, Word: headings, lists, tables, as written
        body, kind = layout.body(text, start, end), "qa-document-text qa-laid-out"
        if body.startswith(f"<h1>{escape(title)}</h1>"):  # the text opens with the title
            heading = ""
    elif start is None:
        body = escape(text)
    else:
        body = (
            f'{escape(text[:start])}<mark id="cited" class="qa-cited" tabindex="-1">'
            f"{escape(text[start:end])}</mark>{escape(text[end:])}"
        )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · qa</title>\n"
        '<link rel="icon" href="data:,">\n'
        '<link rel="stylesheet" href="/static/document.css">\n'
        '<script src="/static/document.js" defer></script>\n'
        '</head>\n<body class="qa-document">\n<header class="qa-document-head">\n'
        f"{heading}"
        f'<p class="qa-document-origin">{escape(origin)}</p>\n'
        "</header>\n"
        f'<main><div class="{kind}">{body}</div></main>\n'
        "</body>\n</html>\n"
    )
