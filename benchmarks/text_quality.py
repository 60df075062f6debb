"""Real documents in: words run together, line-end hyphens and sentence boundaries in qa's text.

Data: ../shared/benchmarks/real-pdfs/ (seven CRS reports as PDFs and as their web pages saved as
Markdown) and ../shared/benchmarks/real-markdown/ (White House pages). Each report's PDF and web
page say the same words, so each is the other's reference:

- words run together: a word of one version, not in the other, that is two or three adjacent
  words of the other ("Forceissoliciting", "secondlargest");
- line-end hyphens in the PDFs (PDFium marks each): a compound when the web page spells it with
  its hyphen ("second-largest"), a word broken in two when it spells it whole; counted by what
  qa's text makes of them;
- sentence boundaries qa makes (`qa.ingest.passages.sentence_spans`, over every body paragraph
  and note of all 17 documents) where no sentence ends: after an initialism or a short
  abbreviation before a number, a section sign or another abbreviation ("P.L. | 119-27",
  "18 U.S.C. | §1960", "(D.C. | Cir. 2022)"), after a numbered paragraph's number alone
  ("18. | The United States"); and sentences that start with a list bullet.

    .venv/bin/python benchmarks/text_quality.py [--show]

Run it on another checkout's code with PYTHONPATH to compare (the figures in
benchmarks/RESULTS-quality.md were taken so, before and after).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import SHARED, table  # noqa: E402

PDFS = SHARED / "benchmarks" / "real-pdfs"
MARKDOWN = SHARED / "benchmarks" / "real-markdown"


def report_id(name: str) -> str:
    return re.match(r"[A-Z]+\d+", name).group(0)


def tokens(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z]+", text)]


def run_together(text: str, reference: str) -> list[str]:
    """Words of text that are two or three adjacent words of reference, not one of its words."""
    ours, theirs = set(tokens(text)), tokens(reference)
    words, pairs = set(theirs), set(zip(theirs, theirs[1:], strict=False))
    found = []
    for t in sorted(ours - words):
        two = any((t[:i], t[i:]) in pairs for i in range(1, len(t)))
        three = any(
            (t[:i], t[i:j]) in pairs and (t[i:j], t[j:]) in pairs
            for i in range(1, len(t) - 1)
            for j in range(i + 1, len(t))
        )
        if len(t) >= 5 and (two or three):
            found.append(t)
    return found


def hyphens(pdf: Path, web: str, text: str) -> dict[str, int]:
    import pypdfium2 as pdfium

    counts = {"compound kept": 0, "compound joined": 0, "word joined": 0, "word kept": 0}
    document = pdfium.PdfDocument(pdf)
    for i in range(len(document)):
        page = document[i].get_textpage().get_text_range()
        for m in re.finditer(r"(\w+)\ufffe(?:\r\n)?(\w+)", page):
            head, tail = m.group(1).lower(), m.group(2).lower()
            compound = f"{head}-{tail}" in web
            whole = re.search(rf"\b{head}{tail}", web) is not None
            if compound == whole:
                continue  # the web page does not tell
            kind = "compound" if compound else "word"
            counts[f"{kind} {'kept' if f'{head}-{tail}' in text else 'joined'}"] += 1
    return counts


_NOT_AN_END = re.compile(
    r"(?:\b(?:[A-Za-z]{1,3}\.){2,}|\b[A-Z][a-z]{1,3}\.)$"  # an initialism, a short abbreviation
)


def wrong_boundaries(text: str, start: int, end: int, spans) -> list[str]:
    found = []
    for (a, b), (c, _) in zip(spans, spans[1:], strict=False):
        before, after = text[a:b], text[c : c + 12]
        next_paragraph = re.match(r"\d{1,3}\. [A-Z]", after)  # "Law. | 16. We call"
        abbreviation = _NOT_AN_END.search(before) and re.match(r"[\d§(]|[A-Z][a-z]{0,3}\.", after)
        abbreviation = abbreviation and not next_paragraph
        number = re.fullmatch(r"\(?\d{1,3}[.)]", before.strip())
        if abbreviation or number:
            found.append(f"{before[-30:]} | {after}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true", help="print each case")
    args = parser.parse_args()

    from qa.ingest.documents import parse
    from qa.ingest.extract import extract
    from qa.ingest.passages import sentence_spans

    webs = {report_id(p.name): p for p in (PDFS / "web-version").glob("*.md")}
    rows, hyphen_rows = [], []
    totals = {"pdf": 0, "web": 0}
    for pdf in sorted((PDFS / "pdf").glob("*.pdf")):
        web_path = webs[report_id(pdf.name)]
        pdf_text, web_text = extract(pdf).text, extract(web_path).text
        in_pdf, in_web = run_together(pdf_text, web_text), run_together(web_text, pdf_text)
        totals["pdf"] += len(in_pdf)
        totals["web"] += len(in_web)
        rows.append([report_id(pdf.name), str(len(in_pdf)), str(len(in_web))])
        if args.show:
            print(report_id(pdf.name), "PDF:", in_pdf, "web page:", in_web)
        raw_web = web_path.read_text(encoding="utf-8").lower()
        counts = hyphens(pdf, raw_web, pdf_text.lower())
        hyphen_rows.append([report_id(pdf.name), *map(str, counts.values())])
    rows.append(["all", str(totals["pdf"]), str(totals["web"])])
    print("Words run together (against the other version of the same report)")
    print(table(["report", "in qa's PDF text", "in qa's web page text"], rows))
    print()
    print("Line-end hyphens in the PDFs, by what the web page spells, and what qa's text has")
    sums = [str(sum(int(r[k]) for r in hyphen_rows)) for k in range(1, 5)]
    heads = ["report", "compound kept", "compound joined", "word joined", "word kept"]
    print(table(heads, [*hyphen_rows, ["all", *sums]]))
    print()
    documents = [
        *sorted((PDFS / "pdf").glob("*.pdf")),
        *sorted(webs.values()),
        *sorted(MARKDOWN.glob("*.md")),
    ]
    boundaries = wrong = bullets = 0
    for path in documents:
        got = extract(path)
        document = parse(path.name, got.text, got.pages, got.page_numbers, got.title, got.date)
        for block in document.blocks:
            if block.kind not in ("body", "endnote"):
                continue
            spans = sentence_spans(document.text, block.start, block.end)
            boundaries += max(len(spans) - 1, 0)
            cases = wrong_boundaries(document.text, block.start, block.end, spans)
            wrong += len(cases)
            starts = [document.text[a : a + 2] for a, _ in spans]
            bullets += sum(s in ("- ", "• ") for s in starts)
            if args.show:
                for case in cases:
                    print(f"{path.name[:12]}: {case}")
    print(f"Sentence boundaries over {len(documents)} documents: {boundaries}")
    print(
        table(
            ["where no sentence ends", "boundaries"],
            [
                ["after an abbreviation or a paragraph number", str(wrong)],
                ["sentences starting with a list bullet", str(bullets)],
            ],
        )
    )


if __name__ == "__main__":
    main()
