"""One card per passage, over a real folder: three CRS reports of ../shared/benchmarks/real-pdfs,
each saved as PDF (pdf/) and as web page (web-version/), indexed in one folder."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import unicodedata
from itertools import combinations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qa.search.duplicates import same_passage
from tests.conftest import SHARED

REAL_PDFS = SHARED / "benchmarks" / "real-pdfs"
REPORTS = ("IF12135", "IF12610", "IF11783")  # Typhon, the Space Force, biometrics
QUESTIONS = [
    "How many launchers are in a Typhon MRC battery?",
    "Where has the Army deployed Typhon launchers?",
    "How much did the Space Force request for FY2027?",
    "Who leads the Space Force?",
    "When was the Space Force established?",
    "What are biometric technologies vulnerable to?",
    "How do facial recognition technologies work?",
    "What is a presentation attack?",
]


def squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(re.findall(r"[^\W_]+", re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)))


def shown_twice(a: str, b: str) -> bool:
    """The same passage to a reader's eye, by a rule of this test's own (not qa's): letters and
    digits alike, one inside the other, or nine tenths alike."""
    x, y = squash(a), squash(b)
    short, long_ = sorted((x, y), key=len)
    return short in long_ or difflib.SequenceMatcher(None, x, y, autojunk=False).ratio() >= 0.9


@pytest.fixture(scope="module")
def twice_saved(tmp_path_factory, embedder):
    """An assistant over the three reports, each as PDF and as web page, in one folder."""
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("twice-saved")
    corpus, index = root / "corpus", root / "index"
    for kind, pattern in (("pdf", "{}.*.pdf"), ("web-version", "{}v*.md")):
        (corpus / kind).mkdir(parents=True)
        for report in REPORTS:
            (found,) = (REAL_PDFS / kind).glob(pattern.format(report))
            shutil.copy(found, corpus / kind / found.name)
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    return Assistant(settings, embedder)


def test_no_top_five_holds_a_passage_twice_and_each_names_its_other_file(twice_saved):
    named = 0
    for question in QUESTIONS:
        hits = twice_saved.search(question, 5)
        assert len(hits) == 5
        for a, b in combinations(hits, 2):
            assert not shown_twice(a.passage.text, b.passage.text), (question, a.passage.id, b.passage.id)  # fmt: skip
        for hit in hits:
            for copy in hit.also_in:
                kept = twice_saved.index.documents[copy.source]["text"]
                assert kept[copy.start : copy.end] == copy.text  # an exact citation of its own
                assert copy.source != hit.passage.source
                assert shown_twice(copy.text, hit.passage.text)
            named += bool(hit.also_in)
    assert named >= 30  # of 40: nearly every passage is in both files


def test_the_same_passage_as_pdf_and_web_page_and_two_that_only_look_alike():
    # IF12135: the PDF's superscript ordinals and curly quotes, lost on the web page
    pdf = "the Army activated this first MRC battery—D Battery, 5th Battalion, 3rd Field Artillery Regiment—as part of Joint Base Lewis-McChord’s (JBLM’s) 1st MDTF in January 2024."  # fmt: skip
    web = "the Army activated this first MRC battery—D Battery, 5 Battalion, 3 Field Artillery Regiment—as part of Joint Base Lewis-McChord's (JBLM's) 1 MDTF in January 2024."  # fmt: skip
    assert same_passage(pdf, web)
    # IF12610: words the PDF glued together; the web page's passage runs one sentence on
    glued = "Congress appropriated the requested totalof $26.1 billion for FY2026 in discretionary funding for the Space Force."  # fmt: skip
    spaced = "Congress appropriated the requested total of $26.1 billion for FY2026 in discretionary funding for the Space Force. The Space Force requested $71.3 billion for FY2027."  # fmt: skip
    assert same_passage(glued, spaced) and same_passage(spaced, glued)
    # R48883: two endnotes citing one work at different pages are two passages
    assert not same_passage(
        "[63] Makarov and Schoarr, “Cryptocurrencies and Decentralized Finance,” p. 37.",
        '[108] Makarov and Schoarr, "Cryptocurrencies and Decentralized Finance," p. 40.',
    )
    # a short line inside a longer one says nothing
    assert not same_passage("Source: CRS.", "Source: CRS from various presidential documents.")
    assert same_passage("Source: CRS.", "Source: “CRS”.")
    # another year, another passage
    assert not same_passage(spaced, spaced.replace("FY2026", "FY2025"))


def test_search_and_a_refusal_show_each_passage_once_in_the_terminal_and_over_http(twice_saved, monkeypatch):  # fmt: skip
    from qa.surfaces.cli import app
    from qa.surfaces.server import create_app

    settings = twice_saved.settings
    monkeypatch.setenv("QA_CORPUS", str(settings.corpus))
    monkeypatch.setenv("QA_INDEX", str(settings.index))
    question = "How many launchers are in a Typhon MRC battery?"
    result = CliRunner().invoke(app, ["search", question])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("planned to consist of four launchers") == 1
    first = out.split("\n\n")[0]
    other = {"pdf": "web-version/IF12135v30-", "web-version": "pdf/IF12135.30.pdf"}
    shown = re.search(r"· (pdf|web-version)/\S+ \[\d+:\d+\]", first).group(1)
    assert f"\n   also in {other[shown]}" in first

    with TestClient(create_app(settings, twice_saved)) as client:
        found = client.post("/search", json={"query": question, "top_k": 5}).json()["results"]
        texts = [r["text"] for r in found]
        assert not any(shown_twice(a, b) for a, b in combinations(texts, 2))
        top = found[0]
        (copy,) = top["also_in"]
        assert copy["source"] != top["citation"]["source"]
        assert copy["url"] == f"/documents/{copy['source']}?start={copy['start']}&end={copy['end']}" + (f"#page={copy['page']}" if copy["source"].endswith(".pdf") else "")  # fmt: skip

        answer = client.post("/ask", json={"question": question}).json()
        assert answer["answerable"]
        cited = answer["citations"]  # one file's copy of each passage, naming the other file
        assert not any(shown_twice(a["text"], b["text"]) for a, b in combinations(cited, 2))
        assert all(c["also_in"] and c["also_in"][0]["source"] != c["citation"]["source"] for c in cited)  # fmt: skip

        refused = client.post("/ask", json={"question": "What is the population of Estonia?"})
        refusal = refused.json()
        assert not refusal["answerable"]
        related = [c["text"] for c in refusal["citations"]]
        assert len(related) >= 3
        assert not any(shown_twice(a, b) for a, b in combinations(related, 2))
        assert json.dumps(refusal).count('"also_in": [{') >= 1


def test_a_follow_up_fuses_a_passage_found_in_either_file_as_one(twice_saved):
    """A follow-up's candidates are found with the question and with the conversation, fused by
    reciprocal rank; where one search kept the web page's copy of a passage and the other the
    PDF's, they are one candidate with both searches' votes, not two that each fall behind."""
    from dataclasses import replace

    from qa.search.retrieval import fuse

    hits = twice_saved.retriever.candidates("How many launchers are in a Typhon MRC battery?", 8)
    shared = hits[3]
    assert shared.also_in  # saved twice
    other_file = replace(shared, passage=shared.also_in[0], also_in=(shared.passage,))
    fused = fuse([hits[:5], [other_file, *hits[5:8]]], 8)
    assert shown_twice(fused[0].passage.text, shared.passage.text)  # 4th and 1st beat 1st alone
    assert {fused[0].passage.id, *(c.id for c in fused[0].also_in)} >= {shared.passage.id, other_file.passage.id}  # fmt: skip
    places = [p.id for h in fused for p in (h.passage, *h.also_in)]
    assert len(places) == len(set(places))  # no file's passage in two entries
    assert [h.rank for h in fused] == list(range(1, 9))  # 9 hits, one passage twice
    # the conversation's own fusion: each passage once
    conversation = twice_saved.retriever.with_context(["What is the Typhon Mid-Range Capability?"])  # fmt: skip
    found = conversation.candidates("How many launchers are in a Typhon MRC battery?", 8)
    for a, b in combinations(found, 2):
        assert not shown_twice(a.passage.text, b.passage.text), (a.passage.id, b.passage.id)


def test_a_publishers_disclaimer_never_answers_a_question_about_a_report(twice_saved):
    """Each CRS report ends with the same disclaimer ("CRS serves as nonpartisan shared staff
    to congressional committees ..."): a sentence three reports state word for word says
    nothing about any one of them, so it never answers; asked who prepared a report, it does."""
    from qa.search.duplicates import boilerplate, compared_words

    repeated = boilerplate(twice_saved.index)
    staff = compared_words("CRS serves as nonpartisan shared staff to congressional committees and Members of Congress.")  # fmt: skip
    assert staff in repeated
    for words in repeated:  # each stated by three reports, not just by a report's two files
        titles = {
            p.title
            for p in twice_saved.index.passages
            if " ".join(words) in " ".join(compared_words(p.text))
        }
        assert len(titles) >= 3
    asked = twice_saved.ask("Which laws does the CRS biometrics report cite as examples of congressionally authorized biometric applications?")  # fmt: skip
    assert "nonpartisan shared staff" not in asked.answer
    assert "solely at the behest" not in asked.answer
    prepared = twice_saved.ask("Who prepared the biometrics report?")
    assert prepared.answerable and "Congressional Research Service" in prepared.answer
