"""Follow-ups over real documents: a place in a list the first answer only opened, and "that" for
the event the first question asked about (issue 27's kinds, benchmarks/conversations-folder*)."""

from __future__ import annotations

import shutil

import pytest

from qa.answer.conversation import Turn
from qa.answer.lists import head, items_after
from qa.answer.resolution import _event
from tests.conftest import SHARED

WEB = SHARED / "benchmarks" / "real-pdfs" / "web-version"
PAGES = [
    WEB / "IF12610v6-defense-primer-u-s-space-force.md",
    WEB / "IF10491v14-australia-background-and-u-s-relations.md",
    WEB / "IN12614v3-section-232-national-security-tariffs-on-copper-.md",
    SHARED
    / "benchmarks"
    / "real-markdown"
    / "2024-07-11-fact-sheet-u-s-contributions-to-nato-deterrence-and-defense.md",  # fmt: skip
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, embedder):
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("folder")
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir()
    for page in PAGES:
        shutil.copy(page, corpus / page.name)
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    return Assistant(settings, embedder)


def test_the_items_a_document_lists_after_a_sentence(folder):
    # bullets after "... included the following:", the sentence after the one an answer quoted
    quoted = "Congress provided FY2026 funding and DOD has requested FY2027 funding for the Space Force to develop and procure launch vehicles, spacecraft (satellites and orbital vehicles), and terrestrial systems and equipment."  # fmt: skip
    programs = items_after(folder.index, quoted)
    assert len(programs) == 6
    assert head(programs[0]) == "The National Security Space Launch (NSSL) program"
    assert head(programs[1]) == "The GPS Enterprise"
    # paragraphs that open with a label, after a sentence ending in a colon
    functions = items_after(folder.index, "The Space Force’s mission is to “secure our Nation’s interests in, from, and to space.”")  # fmt: skip
    assert [head(f).split(":")[0] for f in functions] == ["In space", "From space", "To space"]
    # a list's opening line standing alone in the next paragraph
    opening = "In early 2022, President Biden ordered the United States to reinforce NATO’s eastern flank, sending additional rotational forces to Europe alongside NATO’s battle groups in response to Russia’s unprovoked aggression against Ukraine to deter threats against our NATO Allies."  # fmt: skip
    actions = items_after(folder.index, opening)
    assert len(actions) == 16 and actions[0].startswith("Establishing a permanent V Corps")
    assert actions[-1].startswith("The United States will begin episodic deployments")
    # a list on other things than those asked for is not theirs: these are actions, not tasks
    assert items_after(folder.index, opening, "actions") == actions
    assert items_after(folder.index, opening, "core tasks") == []
    # a sentence that opens no list, and one no document holds
    assert items_after(folder.index, "The current CSO, General Chance B. Saltzman, was appointed in November 2022.") == []  # fmt: skip
    assert items_after(folder.index, "No document says this:") == []


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        (
            [
                "What are the Space Force's major acquisition programs?",
                "What does the first one do?",
            ],
            "commercial launch services",
        ),
        (
            ["What did the Commerce Secretary recommend for copper?", "And the third one?"],
            "domestic sales requirement",
        ),
        (
            ["When did Australia adopt the 1931 Statute of Westminster?", "What did that give it?"],
            "legal independence",
        ),
    ],
)
def test_a_follow_up_over_real_documents_is_answered(folder, turns, expected):
    history = []
    for question in turns[:-1]:
        history.append({"question": question, "answer": folder.ask(question).answer})
    answer = folder.ask(turns[-1], history=history)
    assert answer.answerable and expected in answer.answer, (answer.query_used, answer.answer)


def test_that_is_the_event_only_as_a_verbs_argument():
    earlier = "When did the EU introduce a common foreign and security policy?"
    turns = [Turn(earlier, "In 1993.")]
    event = _event("Who proposed that?", "that", earlier, turns)
    assert event and event.query == "Who proposed introducing a common foreign and security policy?"  # fmt: skip
    assert _event("What fell two years before that?", "that", earlier, turns) is None  # its time
    assert _event("Why was that?", "that", "What is the EU?", turns) is None  # no event asked
    first = _event("Why was that a turning point?", "that", "When did China first test an anti-satellite weapon?", turns)  # fmt: skip
    assert first and first.query.startswith("Why was first testing an anti-satellite weapon")


def test_a_question_about_a_topic_in_a_named_document_reads_only_that_document(folder):
    """ "What does the Australia report say about China?" reads the report whose title holds
    its words; "What does the copper report say?" quotes that report's opening."""
    answer = folder.ask("What does the Australia report say about China?")
    assert answer.answerable and "China" in answer.answer
    assert {hit.passage.source for _, hit in answer.citations} == {PAGES[1].name}
    overview = folder.ask("What does the copper report say?")
    assert overview.answerable and overview.signals["overview"] == PAGES[2].name
    assert overview.citations[0][1].passage.source == PAGES[2].name


def test_what_a_document_says_about_a_topic_is_its_passage_on_it(folder):
    """Where the reader declines "What does the copper report say about <topic>?" (a question
    this open), the report's likeliest passage on the topic is quoted at the sentence that holds
    most of it, cited and marked; a topic it never names gets no passage."""
    from qa.answer.overview import passage_on

    copper = PAGES[2].name
    question = "What does the copper report say about scrap?"
    answer = passage_on(question, "scrap", folder.retriever, copper)
    assert answer is not None and answer.answerable
    hit = answer.citations[0][1]
    assert hit.passage.source == copper and "scrap" in answer.answer.lower()
    marked = answer.to_dict()["citations"][0]["sentence"]
    assert " ".join(marked["text"].split()) == answer.answer.removesuffix(" [1]")
    assert passage_on("What does the copper report say about penguins?", "penguins", folder.retriever, copper) is None  # fmt: skip
    assert not folder.ask("What does the copper report say about penguins?").answerable
    # a year the report never states keeps it a near miss, not a passage on the topic
    assert passage_on("What does it say about scrap in 1999?", "scrap in 1999", folder.retriever, copper) is None  # fmt: skip


def test_a_place_in_a_list_named_by_what_was_asked(folder):
    """ "What was the second recommendation?" after "What actions did the Commerce Secretary
    recommend?", answered by the sentence that opens the list: the second item the document
    gives; a noun the earlier question never used names no place in it."""
    from functools import partial

    from qa.answer.resolution import readings

    earlier = "What actions did the Commerce Secretary recommend for copper?"
    opened = "According to President Trump, the Commerce Secretary recommended a range of actions including [1]"  # fmt: skip
    following = partial(items_after, folder.index)
    found = readings("What was the second recommendation?", [Turn(earlier, opened)], folder.reader, None, following)  # fmt: skip
    assert found.rewrites[0].sure and "phased universal tariff" in found.rewrites[0].query
    other = readings("What was the second penguin?", [Turn(earlier, opened)], folder.reader, None, following)  # fmt: skip
    assert not any(r.sure for r in other.rewrites)
    # a question about it, not which it is, keeps its words
    about = readings("What did the last recommendation add to the tariff?", [Turn(earlier, opened)], folder.reader, None, following)  # fmt: skip
    assert not any(r.sure for r in about.rewrites)
