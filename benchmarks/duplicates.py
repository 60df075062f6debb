"""One card per passage: how qa tells a passage repeated by another file from a merely similar one.

Data: ../shared/benchmarks/real-pdfs/ as one folder (pdf/ and web-version/: seven CRS reports,
each as PDF and as its web page saved as Markdown), copied to a temporary folder and indexed as
`qa index` does.

1. Pairs. Every pair of passages from two different files, judged by
   qa.search.duplicates.same_passage at several shares of word pairs (CONTAINED): how many are
   paired across a report's two files or word for word, and how many pair two different reports'
   passages that are not word for word (none should).
2. Searches. Eight questions, `qa search` (Assistant.search, top 5): passages shown twice in a
   top 5, judged independently of qa's rule (letters and digits only, difflib ratio >= 0.9 or
   one inside the other), with the duplicate check switched off ("before") and on ("after");
   how many shown passages name another file; and the search's median time either way.
3. Copies found. With the scan for copies bounded (hybrid.COPIES_BEYOND) against scanning every
   candidate: the share of the copies of the top 5 that are named.

    .venv/bin/python benchmarks/duplicates.py
"""

from __future__ import annotations

import difflib
import re
import shutil
import statistics
import tempfile
import time
import unicodedata
from itertools import combinations
from pathlib import Path

from timing import SHARED, log

REAL_PDFS = SHARED / "benchmarks" / "real-pdfs"
SHARES = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
QUESTIONS = [
    "How many launchers are in a Typhon MRC battery?",
    "How much did the Space Force request for FY2027?",
    "What are biometric technologies vulnerable to?",
    "What is decentralized finance?",
    "What tariff did President Trump impose on semi-finished copper products?",
    "What did Iran's 10-point plan reportedly include?",
    "What is AUKUS?",
    "Who leads the Space Force?",
]


def squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(re.findall(r"[^\W_]+", re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)))


def shown_twice(a: str, b: str) -> bool:
    """The same passage to a reader's eye, by a rule that is not qa's."""
    x, y = squash(a), squash(b)
    if not x or not y:
        return x == y
    short, long_ = sorted((x, y), key=len)
    return short in long_ or difflib.SequenceMatcher(None, x, y, autojunk=False).ratio() >= 0.9


def report_of(source: str) -> str:
    return re.match(r"(?:pdf|web-version)/([A-Z]+\d+)", source).group(1)


def disclaimer(text: str) -> bool:
    return "Congressional Research Service" in text or "CRS Report" in text


def pairs(passages) -> None:
    from qa.search import duplicates

    chosen = duplicates.CONTAINED
    print("## Pairs of passages from two files, paired by share of word pairs contained\n")
    print("| share | same report, or word for word | different reports: the CRS disclaimer | different reports: other |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: |")
    for share in SHARES:
        duplicates.CONTAINED = share
        same = notice = other = 0
        for p, q in combinations(passages, 2):
            if p.source == q.source or not duplicates.same_passage(p.text, q.text):
                continue
            words = duplicates.shingles(p.text).words == duplicates.shingles(q.text).words
            if report_of(p.source) == report_of(q.source) or words:
                same += 1
            elif disclaimer(p.text) and disclaimer(q.text):
                notice += 1
            else:
                other += 1
        print(f"| {share:.2f} | {same} | {notice} | {other} |")
    duplicates.CONTAINED = chosen
    print()


def searches(assistant) -> None:
    from qa.search import hybrid

    print("## Eight questions, top 5 (`qa search`)\n")
    print("| duplicate check | passages shown twice | hits naming another file | median search |")
    print("| --- | ---: | ---: | ---: |")
    twin = hybrid._twin
    flagged: list[tuple[str, str]] = []
    for label, check in (("off (before)", lambda passage, hits: None), ("on (after)", twin)):
        hybrid._twin = check
        twice = named = 0
        times = []
        for question in QUESTIONS:
            for _ in range(3):
                started = time.perf_counter()
                hits = assistant.search(question, 5)
                times.append(time.perf_counter() - started)
            for a, b in combinations(hits, 2):
                if shown_twice(a.passage.text, b.passage.text):
                    twice += 1
                    if check is twin:
                        flagged.append((a.passage.text, b.passage.text))
            named += sum(bool(h.also_in) for h in hits)
        print(f"| {label} | {twice} | {named} of {5 * len(QUESTIONS)} | {statistics.median(times) * 1000:.1f} ms |")  # fmt: skip
    hybrid._twin = twin
    print()
    for a, b in flagged:
        print(f"- shown twice after: “{a[:90]}” and “{b[:90]}”")
    print()


def copies(assistant) -> None:
    from qa.search import hybrid

    chosen = hybrid.COPIES_BEYOND
    retriever = assistant.retriever
    vectors = {q: retriever.encode_query(q) for q in QUESTIONS}
    print("## Copies of the top 5 named, by candidates scanned a hit (hybrid.COPIES_BEYOND)\n")
    print("| candidates a hit | copies named | median hybrid search |")
    print("| ---: | ---: | ---: |")
    for beyond in (1, 2, 4, 8, 1000):
        hybrid.COPIES_BEYOND = beyond
        named, times = 0, []
        for q in QUESTIONS:
            for _ in range(3):
                started = time.perf_counter()
                hits = retriever.hybrid(q, vectors[q], 5)
                times.append(time.perf_counter() - started)
            named += sum(len(h.also_in) for h in hits)
        label = "all" if beyond == 1000 else str(beyond)
        print(f"| {label} | {named} | {statistics.median(times) * 1000:.2f} ms |")
    hybrid.COPIES_BEYOND = chosen
    print()


def main() -> None:
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.models.embedding import Embedder
    from qa.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="qa-duplicates-"))
    try:
        corpus, index = folder / "corpus", folder / "index"
        shutil.copytree(REAL_PDFS, corpus)
        embedder = Embedder()
        log("indexing ../shared/benchmarks/real-pdfs (pdf/ and web-version/ in one folder)")
        build(corpus, index, embedder)
        assistant = Assistant(Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None), embedder)  # fmt: skip
        passages = assistant.index.passages
        print(f"{len(passages)} passages from {len(assistant.index.documents)} files\n")
        pairs(passages)
        searches(assistant)
        copies(assistant)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
