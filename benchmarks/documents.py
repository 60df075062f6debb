"""Real documents in: sentence recall of PDF extraction, for qa end to end and for each library.

Data: ../shared/benchmarks/real-pdfs/ (CRS reports as PDFs, and each report's web page converted
to Markdown, in true reading order) and ../shared/benchmarks/real-markdown/ (White House pages
with YAML front matter). Read from there, never copied into the repository.

Ground truth: the sentences of 12 or more words of each report's web version (its body and its
footnotes, not the page's navigation, tables and link furniture). A sentence counts as kept when
it appears in the text word for word, comparing letters and digits only (so hyphenation, white
space, punctuation and ordinal suffixes aside, since the web copies drop some spaces and
superscripts).

- each library: the sentence appears in the library's plain text of the whole PDF;
- `qa text`: the sentence appears in the text qa keeps for the document (its extracted text);
- `qa search`: the sentence, asked through `POST /search` restricted to that report (top_k 5),
  appears within one returned passage: what a user of qa can actually get back.

Then titles and dates: qa's against the web page's title and publication date, for the PDF and
for the web page itself (Markdown), and the Markdown documents' front matter. For each web page:
its own sentences kept in the text qa keeps for it (what dropping its navigation must not lose),
and its passages that are site furniture or start with a list bullet.

    .venv/bin/pip install -c requirements.lock -e '.[bench]'   # pdfminer.six, for its column
    .venv/bin/python benchmarks/documents.py [--top-k 5] [--misses]

A library that is not installed is left out of the table (PyMuPDF is AGPL: never installed here).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import SHARED, log, table  # noqa: E402

PDFS = SHARED / "benchmarks" / "real-pdfs"
MARKDOWN = SHARED / "benchmarks" / "real-markdown"
MIN_WORDS = 12


# Ground truth ----------------------------------------------------------------------------------


def report_id(name: str) -> str:
    return re.match(r"[A-Z]+\d+", name).group(0)


def web_sentences(markdown: str) -> list[str]:
    """Sentences of 12+ words from the report's body and footnotes on its web page."""
    header, _, body = markdown.partition("\n---\n")
    kept = []
    for line in body.splitlines():
        line = line.strip()
        note = re.match(r"^\|\s*\d+\.\s*\|\s*(.*)$", line)  # a footnote row: | 3. | text
        if note:
            line = note.group(1)
        elif line.startswith(("|", "#", "- [", "[", "**")) or not line:
            continue
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links and images: their text
        line = re.sub(r"(\*\*|__|(?<!\w)_|_(?!\w))", "", line)
        kept.append(line.lstrip("- ").strip())
    sentences = []
    for paragraph in kept:
        cuts = [m.end() for m in re.finditer(r"[.!?][”\"’)]?(?=\s+[A-Z“\"(])", paragraph)]
        for a, b in zip([0, *cuts], [*cuts, len(paragraph)], strict=True):
            if len((sentence := paragraph[a:b].strip()).split()) >= MIN_WORDS:
                sentences.append(sentence)
    return sentences


def web_title_date(markdown: str) -> tuple[str, str | None]:
    title = re.search(r"^# (.+)$", markdown, re.M).group(1).strip()
    found = re.search(r"\*\*(?:CRS )?Publication Date:\*\*[\s|]*(\d\d/\d\d/\d{4})", markdown)
    date = datetime.strptime(found.group(1), "%m/%d/%Y").date().isoformat() if found else None
    return title, date


def squash(text: str) -> str:
    """Letters and digits only, lower case, ordinal suffixes dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    return re.sub(r"[^0-9a-z]+", "", text)


def recall(sentences: list[str], text: str) -> float:
    whole = squash(text)
    return sum(squash(s) in whole for s in sentences) / len(sentences)


# Libraries -------------------------------------------------------------------------------------


def pypdf_plain(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def pypdf_layout(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text(extraction_mode="layout") for p in PdfReader(path).pages)


def pypdfium2_plain(path: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def pdfminer_six(path: Path) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(path))


def pymupdf(path: Path) -> str:
    import pymupdf

    with pymupdf.open(path) as document:
        return "\n".join(page.get_text() for page in document)


LIBRARIES = {
    "pypdf plain (BSD)": (pypdf_plain, "pypdf"),
    "pypdf layout (BSD; qa before)": (pypdf_layout, "pypdf"),
    "pypdfium2 plain (Apache/BSD)": (pypdfium2_plain, "pypdfium2"),
    "pdfminer.six (MIT)": (pdfminer_six, "pdfminer"),
    "PyMuPDF (AGPL)": (pymupdf, "pymupdf"),
}


def available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# qa ---------------------------------------------------------------------------------------------


def qa_index(corpus: Path, index: Path):
    from qa.index import build
    from qa.models.onnx_embedding import BuildEncoder

    report = build(corpus, index, BuildEncoder(None, notice=log), progress=log)
    log(f"qa index: {report.passages} passages from {report.documents} documents")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="print the sentences qa misses")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from qa.settings import Settings
    from qa.surfaces.server import create_app

    pdfs = sorted((PDFS / "pdf").glob("*.pdf"))
    webs = {report_id(p.name): p for p in (PDFS / "web-version").glob("*.md")}
    truth = {}
    for pdf in pdfs:
        markdown = webs[report_id(pdf.name)].read_text(encoding="utf-8")
        truth[pdf.name] = (web_sentences(markdown), *web_title_date(markdown))

    rows: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for name, (extract, module) in LIBRARIES.items():
        if not available(module):
            log(f"{name}: not installed, left out")
            continue
        rows[name] = {}
        started = time.perf_counter()
        for pdf in pdfs:
            rows[name][pdf.name] = recall(truth[pdf.name][0], extract(pdf))
        seconds[name] = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as work:
        corpus, index = Path(work) / "corpus", Path(work) / "index"
        corpus.mkdir()
        for path in [*pdfs, *webs.values(), *sorted(MARKDOWN.glob("*.md"))]:
            shutil.copy(path, corpus / path.name)
        started = time.perf_counter()
        qa_index(corpus, index)
        seconds["qa index (extraction, passages, embedding)"] = time.perf_counter() - started
        settings = Settings(corpus=corpus, index=index)
        with TestClient(create_app(settings)) as client:
            documents = {d["source"]: d for d in client.get("/health").json()["documents"]}
            from qa.index import Index

            loaded = Index.load(index)
            kept = loaded.documents
            rows["qa text (kept for citations)"] = {
                pdf.name: recall(truth[pdf.name][0], kept[pdf.name]["text"]) for pdf in pdfs
            }
            rows[f"qa end to end (POST /search, top {args.top_k})"] = end_to_end = {}
            for pdf in pdfs:
                found = 0
                for sentence in truth[pdf.name][0]:
                    body = {"query": sentence, "top_k": args.top_k, "sources": [pdf.name]}
                    results = client.post("/search", json=body).json()["results"]
                    hit = any(squash(sentence) in squash(r["text"]) for r in results)
                    found += hit
                    if args.misses and not hit:
                        where = "search" if squash(sentence) in squash(kept[pdf.name]["text"]) else "text"  # fmt: skip
                        log(f"missed in {where}: {pdf.name}: {sentence}")
                end_to_end[pdf.name] = found / len(truth[pdf.name][0])
            markdown_meta = [
                (path.name, documents[path.name]) for path in sorted(MARKDOWN.glob("*.md"))
            ]
            web_rows = []
            for pdf in pdfs:
                web = webs[report_id(pdf.name)]
                own = web_sentences(web.read_text(encoding="utf-8"))
                passages = [p for p in loaded.passages if p.source == web.name]
                chrome = [p for p in passages if re.search(r"Version: \d|Hide Overview|Download PDF", p.text)]  # fmt: skip
                bullets = [p for p in passages if p.text.startswith(("- ", "• "))]
                labels = sorted({p.section for p in passages if p.section and p.section.isupper()})
                web_rows.append([web.name[:28], str(len(own)), f"{recall(own, kept[web.name]['text']):.3f}", str(len(passages)), str(len(chrome)), str(len(bullets)), "; ".join(labels) or "-"])  # fmt: skip

    sizes = {pdf.name: len(truth[pdf.name][0]) for pdf in pdfs}
    total = sum(sizes.values())
    headers = ["report", "sentences", *rows]
    lines = [
        [pdf.name[:28], str(sizes[pdf.name]), *(f"{rows[r][pdf.name]:.3f}" for r in rows)]
        for pdf in pdfs
    ]
    overall = [
        "all (by sentence)",
        str(total),
        *(f"{sum(rows[r][p] * sizes[p] for p in sizes) / total:.3f}" for r in rows),
    ]
    print("Sentence recall: web-version sentences of 12+ words found word for word")
    print(table(headers, [*lines, overall]))
    print()
    print(
        table(["extractor", "seconds for all PDFs"], [[k, f"{v:.2f}"] for k, v in seconds.items()])
    )
    print()
    title_rows, right = [], 0
    for pdf in pdfs:
        _, title, date = truth[pdf.name]
        got = documents[pdf.name]
        ok = squash(got["title"] or "") == squash(title) and got["date"] == date
        right += ok
        title_rows.append([pdf.name[:28], got["title"] or "(none)", str(got["date"]), title, str(date), "yes" if ok else "no"])  # fmt: skip
    for pdf in pdfs:
        web = webs[report_id(pdf.name)]
        _, title, date = truth[pdf.name]
        got = documents[web.name]
        ok = squash(got["title"] or "") == squash(title) and got["date"] == date
        right += ok
        title_rows.append([web.name[:28], got["title"] or "(none)", str(got["date"]), title, str(date), "yes" if ok else "no"])  # fmt: skip
    for name, got in markdown_meta:
        text = (MARKDOWN / name).read_text(encoding="utf-8")
        want_title = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", text, re.M).group(1)
        want_title = want_title.replace("\\_", " ").replace("\\u00a0", " ")
        want_date = re.search(r"^date:\s*'?(\d{4}-\d{2}-\d{2})", text, re.M).group(1)
        ok = squash(got["title"] or "") == squash(want_title) and got["date"] == want_date
        right += ok
        title_rows.append([name[:28], got["title"] or "(none)", str(got["date"]), want_title, want_date, "yes" if ok else "no"])  # fmt: skip
    print(f"Titles and dates right: {right} of {len(title_rows)}")
    print(
        table(["document", "qa title", "qa date", "true title", "true date", "right"], title_rows)
    )
    print()
    print(
        "Web pages (Markdown): own sentences kept; passages of site furniture, starting with a bullet"
    )
    headers = ["web page", "sentences", "kept", "passages", "site furniture", "bullet first", "upper-case sections"]  # fmt: skip
    print(table(headers, web_rows))


if __name__ == "__main__":
    main()
