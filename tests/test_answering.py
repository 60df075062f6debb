"""Answers: verbatim sentences with markers that match the citations, an exact short answer where
the question asks for a thing, or a plain refusal that says why."""

from __future__ import annotations

import re
import shutil

import pytest

from qa.answer import keys, overview, spans
from qa.answer.answering import REFUSAL, Refusal, asks_for_thing
from qa.answer.evaluation import load_questions
from qa.ingest.documents import normalise
from tests.conftest import DEV_SET, SHARED

SPACE_FORCE = SHARED / "benchmarks" / "real-pdfs" / "pdf" / "IF12610.6.pdf"


def sentences_of(answer: str) -> list[tuple[str, int]]:
    return [(m.group(1).strip(), int(m.group(2))) for m in re.finditer(r"(.+?) \[(\d+)\]", answer)]


@pytest.mark.parametrize(
    "question,expected",
    [
        ("When was the latest joint declaration published?", "2023"),
        ("How many cross briefings have been held since 2016?", "325"),
        ("Who is expected to join the informal leaders' dinner on 24 June?", "Costa"),
        ("Who wrote the ICDS brief on military mobility?", "Chihaia"),
    ],
)
def test_answers_are_verbatim_and_every_marker_is_cited(assistant, question, expected):
    answer = assistant.ask(question)
    assert answer.answerable, answer.signals
    assert expected in answer.answer
    markers = [m for _, m in sentences_of(answer.answer)]
    cited = [m for m, _ in answer.citations]
    assert cited == sorted(set(markers), key=markers.index)  # numbered in order of first use
    assert cited == list(range(1, len(cited) + 1))
    by_marker = dict(answer.citations)
    for sentence, marker in sentences_of(answer.answer):
        assert normalise(sentence) in normalise(
            re.sub(r"\[\^?\d+\]", "", by_marker[marker].passage.text)
        )


@pytest.mark.parametrize(
    "question,expected",
    [
        ("When was the latest joint declaration published?", "2023"),
        ("How many cross briefings have been held since 2016?", "325"),
    ],
)
def test_the_short_answer_is_an_exact_span_inside_the_answer(assistant, question, expected):
    answer = assistant.ask(question)
    short = answer.short_answer
    assert short is not None and expected in short.text
    document = assistant.index.documents[short.source]["text"]
    assert document[short.start : short.end] == short.text
    assert short.text in answer.answer
    assert len(short.text.split()) < len(answer.answer.split())


def test_the_answer_is_the_sentence_that_answers_not_the_first_that_mentions_the_topic(assistant):
    # The reader's best span alone was "2023", from the next sentence (the latest declaration).
    answer = assistant.ask("When was the second joint declaration published?")
    assert answer.answerable, answer.signals
    assert answer.short_answer is not None and answer.short_answer.text == "2018"
    assert "a second joint declaration was published" in answer.answer
    assert "2023" not in answer.answer


@pytest.fixture(scope="module")
def space_force(tmp_path_factory, embedder):
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("space-force")
    shutil.copy(SPACE_FORCE, corpus / SPACE_FORCE.name)
    index = tmp_path_factory.mktemp("space-force-index")
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    return Assistant(settings, embedder)


def test_a_crs_report_answers_who_with_the_sentence_that_names_the_person(space_force):
    # The definition sentence before it ("The Chief of Space Operations (CSO) is the highest-
    # ranking ...") holds the question's words, and was quoted; the answer is the next sentence.
    answer = space_force.ask("Who is the current Chief of Space Operations?")
    assert answer.answerable, answer.signals
    assert "Saltzman" in answer.answer
    assert "highest-ranking" not in answer.answer
    assert answer.short_answer is not None and "Saltzman" in answer.short_answer.text


def test_a_year_the_report_never_states_is_a_near_miss_that_says_what_it_does_state(space_force):
    from qa.surfaces.schemas import AskResponse

    answer = space_force.ask("How much did Congress appropriate for the Space Force for FY2024?")
    assert not answer.answerable
    assert answer.answer.startswith("The documents do not give FY2024's figure; they give FY2026's")
    miss = AskResponse.model_validate(answer.to_dict()).near_miss  # kept by the HTTP schema
    assert miss["asked"] == "FY2024" and miss["found"] == "FY2026" and miss["marker"] == 1
    cited = dict(answer.citations)[1].passage
    assert "$26.1 billion" in cited.text and miss["citation"]["id"] == cited.id
    # The same question in the report's own year, in another of its forms, is answered.
    for year in ("FY2026", "fiscal year 2026", "FY26"):
        asked = space_force.ask(
            f"How much did Congress appropriate for the Space Force for {year}?"
        )
        assert asked.answerable and "$26.1 billion" in asked.answer, (year, asked.signals)
        assert asked.near_miss is None


def test_a_budget_sentence_answers_only_for_its_own_fiscal_year(space_force):
    # The passage names FY2025 further on ("600 (6%) more than in FY2025"), but the sentence
    # with the RDT&E figure belongs to FY2026, the year the passage stated before it.
    answer = space_force.ask("What did the Space Force receive for RDT&E in FY2025?")
    assert not answer.answerable, answer.answer
    assert answer.near_miss is not None and answer.near_miss["found"] == "FY2026", answer.answer
    asked = space_force.ask("What did the Space Force receive for RDT&E in FY2026?")
    assert asked.answerable and asked.near_miss is None, asked.signals


def test_a_name_the_passage_lacks_weighs_but_does_not_veto(space_force):
    # "the Pentagon" for the Department of Defense: the report never says Pentagon, and is right
    # all the same.
    answer = space_force.ask("How much did the Pentagon request for the Space Force for FY2026?")
    assert answer.answerable and "$26.1 billion" in answer.answer, answer.signals
    assert 0.0 < answer.signals["key_missing"] < 0.5  # missing, but like the names it holds
    # "Washington" for the United States is a country the report names (qa.answer.places)
    answer = space_force.ask("How much did Washington appropriate for the Space Force for FY2026?")
    assert answer.answerable and "$26.1 billion" in answer.answer, answer.signals
    assert answer.signals["key_missing"] == 0.0


def test_a_source_line_is_never_the_answer(space_force):
    # The figure's "Source: Adapted from U.S. Space Force Headquarters ... April 19, 2022" was
    # quoted for this question: a date, in a passage about the Space Force.
    answer = space_force.ask("When was the Space Force founded?")
    assert not answer.answer.startswith("Source")
    assert answer.answerable and "2020" in answer.answer, answer.signals


def test_spans_know_what_a_question_asks_for_and_what_an_acronym_stands_for():
    assert spans.expected_kind("When did Finland join NATO?") == "date"
    assert spans.expected_kind("How many cross briefings were held?") == "number"
    assert spans.expected_kind("Who will host the 2030 NATO summit?") == "name"
    assert spans.expected_kind("Why is cooperation hard?") is None
    assert spans.fits("date", "24 June") and not spans.fits("date", "the same year")
    assert spans.fits("name", "General Chance B. Saltzman")
    assert not spans.fits("name", "CSO) is the highest-ranking uniformed space advisor")
    assert keys.terms("Who will host the 2030 NATO summit?") == {"2030", "nato"}
    assert keys.missing_names("Who will host the 2030 NATO summit?", "The NATO summit of 2024") == 0  # fmt: skip
    assert keys.missing_names("Why is cooperation hard?", "anything") == 0.0
    text = "The Chief of Space Operations (CSO) reports to the Secretary. The current CSO is X."
    assert spans.expand_acronyms(text) == {"CSO": "Chief Space Operations"}


def test_a_follow_up_passes_over_the_span_the_conversation_already_answered():
    from qa.models.reading import Reading

    text = "Joint declarations were published in 2016, 2018 and 2023."
    spans_at = [(text.index(y), text.index(y) + 4) for y in ("2023", "2018", "2016")]
    reading = Reading(3.0, spans_at[0], 9.0, 0.0, tuple((a, b, 9.0 - i) for i, (a, b) in enumerate(spans_at)))  # fmt: skip
    question = "When was the previous declaration published?"
    idf = lambda term: 1.0  # noqa: E731
    assert spans.choose(question, text, reading, idf).span == spans_at[0]
    assert spans.choose(question, text, reading, idf, given=("2023",)).span == spans_at[1]
    asked = (
        "When was the declaration before 2023 published?"  # the question's own year is no answer
    )
    assert spans.choose(asked, text, reading, idf).span == spans_at[1]
    # a year after "before" or "after" is a reference point, not a key the sentence must hold
    two = "In 2016 a declaration was published by the EU. Another declaration followed in 2018."
    at = [
        (two.index("the EU"), two.index("the EU") + 6),
        (two.index("2018"), two.index("2018") + 4),
    ]
    read = Reading(3.0, at[0], 9.0, 0.0, ((*at[0], 9.0), (*at[1], 8.5)))
    weights = {"type_weight": 2.0, "match_weight": 0.0, "key_weight": 10.0}
    after = spans.choose(
        "When was the declaration after 2016 published?", two, read, idf, **weights
    )
    assert after.span == at[1]
    of = spans.choose("Who published the declaration of 2016?", two, read, idf, **weights)
    assert of.span == at[0]
    # nothing new anywhere: the reader's own span stands
    only = Reading(3.0, spans_at[0], 9.0, 0.0, ((*spans_at[0], 9.0), (*spans_at[0], 1.0)))
    assert spans.choose(question, text, only, idf, given=("2023",)).span == spans_at[0]
    assert not spans.says_something_new("Who leads NATO?", "NATO")
    assert not spans.says_something_new("When?", "in 2023", given=("2023",))
    assert spans.says_something_new("When?", "in 2018", given=("2023",))


def test_only_questions_that_ask_for_a_thing_get_a_short_answer(assistant):
    answer = assistant.ask("Why is information sharing between the EU and NATO problematic?")
    assert answer.answerable
    assert answer.short_answer is None
    assert asks_for_thing("Which countries are not members of both?")
    assert asks_for_thing("What is the plan called?")
    assert not asks_for_thing("Why does the brief say cooperation is hard?")


def test_a_question_opened_by_a_phrase_still_asks_for_what_its_which_asks():
    """What a follow-up's "it" or "they" may mean (qa.answer.questions)."""
    from qa.answer import questions

    asked = "In July 2024, which countries did Australia join in an advisory?"
    assert questions.asks_for_thing(asked) and questions.asked_plural(asked) == "countries"
    assert not questions.asks_for_thing("In 2018, why did the parliament pass them?")
    assert questions.asked_plural("Under which act was it set up?") is None  # no plural asked
    # "what are they called" asks for a name; "what is X" for a description
    assert questions.asks_for_thing("What are the participants called who watch the loans?")
    assert not questions.asks_for_thing("What is the Space Force?")
    assert questions.asked_plural("What mission-focused commands sit below the CSO?") == "mission-focused commands"  # fmt: skip


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Estonia?",
        "How many troops does NATO keep in Poland?",
    ],
)
def test_unanswerable_questions_are_refused_with_reasons_and_related_reading(assistant, question):
    answer = assistant.ask(question)
    assert not answer.answerable
    assert answer.answer == REFUSAL
    assert answer.short_answer is None
    assert answer.citations  # the closest passages, offered as related reading
    s = answer.signals
    assert s["answer_probability"] < s["threshold"] == Refusal.of(assistant.reader).threshold


@pytest.mark.parametrize(
    "question",
    [
        "What did US officials object to?",
        "Why is information sharing between the EU and NATO problematic?",
        "What does the ReArm Europe plan aim to do?",
    ],
)
def test_endnotes_never_lead_an_answer_unless_the_question_asks_who_wrote_what(assistant, question):
    answer = assistant.ask(question)
    assert (
        all(not hit.passage.is_endnote for _, hit in answer.citations[:1]) or not answer.answerable
    )


def test_a_reference_list_does_not_crowd_the_body_out_of_an_answer(assistant):
    """An endnote's title can hold every word of a question ("Why does Maga world hate
    Europe?" is note 1's title): search finds it, but answering reads body passages only, so a
    report whose reference list repeats its subject (R48883's 'Decentralized Finance') still
    answers from its text."""
    question = "Why does Maga world hate Europe?"
    found = assistant.retriever.search(question, 8, depth=8)
    assert found[0].passage.is_endnote and "Maga" in found[0].passage.text
    body = assistant.retriever.search(question, 8, depth=8, notes=False)
    assert len(body) == 8 and not any(h.passage.is_endnote for h in body)
    answer = assistant.ask(question)
    assert not any(hit.passage.is_endnote for _, hit in answer.citations)
    # a question that asks who wrote what still reads the notes
    assert any(h.passage.is_endnote for _, h in assistant.ask("Who wrote about Maga world?").citations)  # fmt: skip


def test_an_endnote_answer_is_the_whole_reference_not_a_piece_of_its_title(assistant):
    answer = assistant.ask("Who wrote the ICDS piece on defence spending?")
    assert answer.answerable, answer.signals
    assert "Felix Gasper" in answer.answer and "Defence Spending" in answer.answer


def test_json_shape_follows_the_contract(assistant):
    data = assistant.ask("What does the ReArm Europe plan aim to do?").to_dict()
    assert set(data) >= {"question", "answer", "answerable", "citations", "short_answer", "signals"}
    assert {"answer_probability", "threshold", "type_misfit", "key_missing"} <= set(data["signals"])
    for citation in data["citations"]:
        assert {"marker", "rank", "score", "text", "citation"} <= set(citation)
        assert f"[{citation['marker']}]" in data["answer"]


def test_a_short_answer_keeps_the_currency_sign_before_its_number():
    from qa.answer.quoting import short_answer
    from qa.ingest.passages import Passage
    from qa.models.reading import Reading
    from qa.search.hybrid import Hit

    text = "For FY2027, the Space Force requested a total of $71.3 billion."
    a = text.index("71.3")
    passage = Passage("r.pdf#1.1", "r.pdf", 100, 100 + len(text), text, None, 1, ())
    hit = Hit(passage, 0.5, 1, 0.5, 0.5, reading=Reading(2.0, (a, a + 12), 9.0, 0.0))
    short = short_answer(hit)
    assert (short.text, short.start) == ("$71.3 billion", 100 + a - 1)


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        (
            "The current CSO is General Chance B. Saltzman.",
            "Saltzman",
            "General Chance B. Saltzman",
        ),
        ("The Commission also took part.", "Commission", "Commission"),  # "The" opens the sentence
        ("In 2019 the Space Force was made.", "Space Force", "Space Force"),
        ("It was led by Mark Rutte.", "Rutte", "Mark Rutte"),
        ("It was led by Mark Rutte.", "led", "led"),  # not a name: left as the reader gave it
    ],
)
def test_a_short_answer_that_ends_a_name_is_the_whole_name(text, span, expected):
    from qa.answer.quoting import short_answer
    from qa.ingest.passages import Passage
    from qa.models.reading import Reading
    from qa.search.hybrid import Hit

    a = text.index(span)
    passage = Passage("r.pdf#1.1", "r.pdf", 0, len(text), text, None, 1, ())
    hit = Hit(passage, 0.5, 1, 0.5, 0.5, reading=Reading(2.0, (a, a + len(span)), 9.0, 0.0))
    assert short_answer(hit).text == expected


def test_answering_reads_the_rest_only_when_its_first_candidates_leave_it_unsure(settings, embedder):  # fmt: skip
    """The candidates are read in stages (the top one, then three, then all); an answer a
    stage gives with at least its probability is the one reading all of them gives, and no
    other passage is read."""
    from qa.answer.answering import CANDIDATE_PASSAGES, STAGES, decide
    from qa.answer.assistant import Assistant
    from qa.models.reading import Reader

    fresh = Assistant(settings, embedder, Reader())  # a reading cache of its own
    questions = [q.question for q in load_questions(DEV_SET) if q.answerable]
    stopped = 0
    for question in questions:
        fresh.reader._cache.clear()
        answer = fresh.ask(question)
        read = len(fresh.reader._cache)
        everything = fresh.retriever.search(question, CANDIDATE_PASSAGES, depth=CANDIDATE_PASSAGES)
        full, p = decide(question, everything, fresh.index, 5, Refusal.of(fresh.reader), likeness=fresh.likeness)  # fmt: skip
        sure = dict(STAGES).get(read)
        if sure is not None:
            stopped += 1
            assert answer.answerable and answer.signals["answer_probability"] >= sure
        else:
            assert read == CANDIDATE_PASSAGES
        assert (answer.answer, answer.answerable) == (full.answer, full.answerable), question
    assert stopped > 0  # the dev set's questions are not all unsure


def test_the_same_question_again_is_answered_from_what_was_kept(assistant):
    question = "How many cross briefings have been held since 2016?"
    first = assistant.extractive(question)
    assert assistant.extractive(question) is first
    assert assistant.extractive(question, k=3) is not first  # another request, another answer
    assert assistant.refreshed().extractive(question) is not first  # a new index: answered anew
    vector = assistant.retriever.encode_query(question)
    assert assistant.retriever.encode_query(question) is vector and not vector.flags.writeable


def test_what_else_may_be_the_other_figure_of_the_sentence_already_said(tmp_path, embedder):
    """'What else ..., besides that?' after a figure: the sentence said holds another figure of
    the same kind, which answers; the one given is passed over."""
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "scanners.md").write_text(
        "# Scanners at the border\n\n"
        "The agency bought its first scanners in 2006. An audit office has found that, between "
        "2008 and 2017, the agency used scanners to arrest 1,700 smugglers and to deny 92,000 "
        "travellers entry at its crossings. Scanners are also used by the police to find missing "
        "persons.\n\nThe scanners cost 40 million euros. They were replaced in 2019.\n",
        encoding="utf-8",
    )
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    assistant = Assistant(settings, embedder)
    first = "According to the audit office, how many smugglers did the agency arrest with scanners between 2008 and 2017?"  # fmt: skip
    said = assistant.ask(first)
    assert said.answerable and "1,700" in said.answer, said.signals
    history = [{"question": first, "answer": said.answer}]
    other = assistant.ask("What else did scanners let the agency do over that period, besides that?", history=history)  # fmt: skip
    assert other.answerable and "92,000" in other.answer, (other.query_used, other.answer)
    assert other.short_answer is None or "1,700" not in other.short_answer.text


def _read(text: str, span: str):
    from qa.ingest.passages import Passage
    from qa.models.reading import Reading
    from qa.search.hybrid import Hit

    passage = Passage("d.txt#1.1", "d.txt", 0, len(text), text, "Intro", 1, (), "A report", None)
    at = text.index(span)
    return Hit(passage, 0.5, 1, 0.5, 0.5, reading=Reading(1.0, (at, at + len(span)), 5.0, 0.0))


def test_a_sentence_said_answers_what_else_only_with_what_was_neither_answered_nor_asked():
    from qa.answer.answering import _another

    text = "Agencies such as the Secret Service use scanners to investigate crimes and to find missing persons."  # fmt: skip
    asked = "Which agencies use scanners to investigate crimes?"
    question = "What else do those agencies use scanners for?"
    assert _another(
        question, _read(text, "to find missing persons"), ("the Secret Service",), asked
    )
    assert not _another(question, _read(text, "the Secret Service"), ("the Secret Service",), asked)
    assert not _another(
        question, _read(text, "to investigate crimes"), ("the Secret Service",), asked
    )
    # after "Who wrote ...?", her sentence names the piece asked about and a date: nothing else
    cited = "Jo Park, “The Harbour Plan,” ICDS, 7 April 2025."
    asked = "Who wrote the ICDS piece on the Harbour Plan?"
    for span in ("The Harbour Plan", "7 April 2025", "ICDS"):
        assert not _another("What else did she write?", _read(cited, span), ("Jo Park",), asked), (
            span
        )
    # a figure given: another figure of the sentence, not a clause without one
    text = "It arrested 1,700 smugglers and denied 92,000 travellers entry, a record."
    assert _another("What else did it do?", _read(text, "92,000 travellers"), ("1,700 smugglers",), "How many smugglers did it arrest?")  # fmt: skip
    assert not _another("What else did it do?", _read(text, "a record"), ("1,700 smugglers",), "How many smugglers did it arrest?")  # fmt: skip


def test_a_question_naming_a_whole_document_is_answered_with_its_opening(assistant, space_force):
    """ "What does <title> say?" (the page's example questions) quotes the document's first body
    passage; a question about something in it, or naming no title, is read as ever."""
    brief = assistant.index.documents["eu-nato-relationship.txt"]["title"]
    answer = assistant.ask(f"What is the {brief} about?")
    first = answer.citations[0][1].passage
    assert answer.answerable and first.source == "eu-nato-relationship.txt"
    body = [p for p in assistant.index.passages if p.source == first.source and not p.is_endnote and len(p.text.split()) >= 12]  # fmt: skip
    assert first.start == min(p.start for p in body)
    quoted = answer.answer.removesuffix(" [1]")
    assert quoted and " ".join(first.text.split()).startswith(quoted)
    marked = answer.to_dict()["citations"][0]["sentence"]  # what the surfaces mark
    assert " ".join(marked["text"].split()) == quoted and marked["start"] == first.start
    title = space_force.index.documents["IF12610.6.pdf"]["title"]
    answer = space_force.ask(f"What does {title} say?")
    assert answer.answerable and answer.citations[0][1].passage.source == "IF12610.6.pdf"
    assert overview.asked(f"What does the {brief} say about Russia?") == (brief, "Russia")
    assert overview.asked("When was it published?") is None
    titles = {"a": brief, "b": "U.S.-EU Summit Joint Statement", "c": "FACT SHEET: The 2022 NATO Summit in Madrid"}  # fmt: skip
    assert overview.named_document(brief.upper(), titles) == "a"
    assert overview.named_document("joint statement", titles) == "b"  # words of its title
    assert overview.named_document("Madrid fact sheet", titles) == "c"
    assert overview.named_document("report", titles) is None  # no words of any title
    assert overview.named_document("NATO", titles) is None  # a name, not a document's
    assert overview.named_document("NATO brief", titles) is None  # two documents fit
    twins = {"r.pdf": "Typhon Mid-Range Capability", "r.md": "Typhon Mid-Range Capability"}
    assert overview.named_document("the Typhon report", twins) == "r.pdf"  # one report, two files


def test_a_fiscal_year_question_takes_its_span_from_a_sentence_of_that_year():
    """Of a passage that gives FY2026's total and then FY2027's request, a FY2027 question
    takes its span from FY2027's sentences, however the reader ranks FY2026's."""

    text = (
        "Congress enacted $31.9 billion for FY2026. Of the discretionary request for 2027, "
        "$38.4 billion is for RDT&E. The Space Force also requested $9.3 billion for O&M."
    )
    old, new = text.index("$31.9 billion"), text.index("$9.3 billion")
    reading = _read_as((old, old + 13, 9.0), (new, new + 12, 6.0))
    idf = lambda term: 1.0  # noqa: E731
    asked = "How much did the Space Force request for O&M in FY2027?"
    assert spans.choose(asked, text, reading, idf).span == (new, new + 12)
    # and a FY2026 question from FY2026's, though FY2027's sentence holds more of its words
    asked = "How much did the Space Force request for O&M in FY2026?"
    assert spans.choose(asked, text, reading, idf).span == (old, old + 13)


def test_a_question_on_the_second_of_a_series_takes_its_span_from_the_second_s_sentence():
    """Asked about "the second battery", a span from the sentence on "this first battery" tells
    of another of the series, however the reader ranks it; a sentence without ordinals is not
    held to this, and a question without one keeps the reader's choice."""

    text = (
        "The Army activated this first battery as part of the 1st MDTF in January 2024. "
        "A second battery was assigned to the Hawaii-based 3rd MDTF later in 2025."
    )
    first, second = text.index("1st MDTF"), text.index("Hawaii")
    reading = _read_as((first, first + 8, 9.0), (second, second + 6, 3.0))
    idf = lambda term: 1.0  # noqa: E731
    asked = "Which task force was the second battery activated as part of?"
    assert spans.choose(asked, text, reading, idf).span == (second, second + 6)
    asked = "Which task force was the first battery activated as part of?"
    assert spans.choose(asked, text, reading, idf).span == (first, first + 8)
    asked = "Which task force was the battery activated as part of?"
    assert spans.choose(asked, text, reading, idf).span == (first, first + 8)
    assert keys.other_ordinal(keys.ordinals_asked("Who won the third round?"), "The round was won by Ada.") == []  # fmt: skip


def test_a_sentence_that_states_no_time_or_figure_cannot_answer_when_or_how_many():
    from qa.answer.answering import lacks

    listing = "They include the SAFE instrument, the escape clause and the defence strategy."
    assert lacks("What is the budget of the SAFE instrument?", _read(listing, "the SAFE instrument")) == "number"  # fmt: skip
    assert lacks("How many instruments are there?", _read(listing, "the escape clause")) == "number"
    priced = "The SAFE instrument lends up to EUR 150 billion to member states."
    assert lacks("What is the budget of the SAFE instrument?", _read(priced, "EUR 150 billion")) is None  # fmt: skip
    applied = "Finland and Sweden applied for NATO membership, as Norway had hoped."
    assert lacks("When did Sweden apply to join NATO?", _read(applied, "as Norway had hoped")) == "date"  # fmt: skip
    # a time may be any figure, or told by an event
    assert lacks("When was Europe forested?", _read("By 9000 BP, it was forested.", "9000 BP")) is None  # fmt: skip
    debate = "Immediately after Decision Time a debate is held."
    assert lacks("When is the debate held?", _read(debate, "Immediately after Decision Time")) is None  # fmt: skip
    occurs = "It occurs when the immune system is less active than normal."
    assert lacks("When does it occur?", _read(occurs, "when the immune system is less active")) is None  # fmt: skip
    # a time told by pointing at another may answer: its year is the passage's to say
    pointing = "This was shown in the same year, when Finland and Sweden applied for membership."
    assert lacks("When did Sweden apply to join NATO?", _read(pointing, "the same year")) is None
    dated = "Sweden joined NATO in March 2024."
    assert lacks("When did Sweden join NATO?", _read(dated, "March 2024")) is None
    # a question that asks for no time or figure is never held to one
    assert lacks("Who applied for NATO membership?", _read(applied, "Finland and Sweden")) is None
    assert lacks("How many biomolecules contain no oxygen?", _read("Only a few contain none.", "Only a few")) is None  # fmt: skip
    assert lacks("How many treaties protected rights?", _read("None of them did.", "None")) is None
    # only what asks for a time or a figure alone: not "when" that opens a clause or asks for a
    # condition, nor "which period", nor "how fast"
    assert spans.asks_only("What is the budget used for?") is None
    assert spans.asks_only("What was the total cost of the programme?") == "number"
    assert spans.asks_only("When can oxygen gas be toxic?") is None
    assert spans.asks_only("When dating rocks, what is the isotopic date applied to?") is None
    assert spans.asks_only("The Pleistocene takes place during which period?") is None
    assert spans.asks_only("How fast is pharmacy informatics growing?") is None
    assert spans.asks_only("How much of the region is left undeveloped?") is None


def test_a_which_country_question_takes_a_country_s_name_over_a_run_of_words():
    """Of two candidates in one sentence, "Which country ...?" takes the one that is a country's
    name, though the reader scores the other higher; another question keeps the reader's."""

    text = "The systems went to the regimes of the region, and the largest buyer was Venezuela."
    run, name = text.index("the regimes of the region"), text.index("Venezuela")
    reading = _read_as((run, run + 25, 6.0), (name, name + 9, 5.0))
    idf = lambda term: 1.0  # noqa: E731
    asked = "Which country bought the most systems?"
    assert spans.choose(asked, text, reading, idf).span == (name, name + 9)
    asked = "Where did the systems go?"
    assert spans.choose(asked, text, reading, idf).span == (run, run + 25)


def _read_as(*candidates: tuple[int, int, float]):
    """A reading whose candidate spans are these (start, end, logit), the first its best."""
    from qa.models.reading import Reading

    (a, b, logit), *_ = candidates
    return Reading(3.0, (a, b), logit, 0.0, candidates)
