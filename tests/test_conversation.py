"""Follow-up questions: the rewrite into a standalone query, history validation, and the surfaces."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from qa.answer.conversation import MAX_TURNS, Turn, check_history, standalone
from qa.errors import BadInput
from qa.surfaces.server import create_app

# Topics unlike the brief's on purpose: the rewrite reads the shape of a question, not its words.
LIBRARY = "When was the new city library opened?"
LIBRARY_ANSWER = "The new city library was opened in 2019. [1]"


def ask_after(question: str, *turns: tuple[str, str]) -> str:
    return standalone(question, [Turn(q, a) for q, a in turns])


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        # a pronoun: the earlier question's subject takes its place
        ("Who designed it?", (LIBRARY, LIBRARY_ANSWER), "Who designed the new city library?"),
        (
            "How much did its roof cost?",
            (LIBRARY, LIBRARY_ANSWER),
            "How much did the new city library’s roof cost?",
        ),  # fmt: skip
        # an ellipsis whose noun the earlier question holds: that phrase swapped, or its
        # ordinal alone; a source named with "according to" swapped for another
        (
            "And the second battery?",
            (
                "Which task force was the Army's first Typhon battery activated as part of?",
                "The 3rd. [1]",
            ),  # fmt: skip
            "Which task force was the Army's second Typhon battery activated as part of?",
        ),
        (
            "And the smallest city?",
            ("What is the population of the largest city?", "About 2 million. [1]"),
            "What is the population of the smallest city?",
        ),
        (
            "And according to analytics firms?",
            ("According to the 2020 rule, what share of activity was illicit?", "0.34%. [1]"),
            "According to analytics firms, what share of activity was illicit?",
        ),
        # "them" after a question that asks for several things, whose answer names none
        (
            "Who leads them?",
            (
                "What mission-focused commands sit below the Chief of Space Operations?",
                "Generals lead three such commands. [1]",
            ),  # fmt: skip
            "Who leads the mission-focused commands?",
        ),
        # "what about <year>": the year swapped, or added
        (
            "What about 2012?",
            ("How many bridges were repaired in 2015?", "Four. [1]"),
            "How many bridges were repaired in 2012?",
        ),  # fmt: skip
        (
            "And in 2004?",
            ("Who chaired the harbour board?", "Ana Silva. [1]"),
            "Who chaired the harbour board in 2004?",
        ),  # fmt: skip
        # "and <name>?": the name swapped
        (
            "And Norway?",
            ("What did Sweden export to Finland?", "Timber. [1]"),
            "What did Norway export to Finland?",
        ),  # fmt: skip
        # "the one before": the earlier subject, one step back
        (
            "And the one before?",
            ("When was the latest census taken?", "In 2021. [1]"),
            "When was the previous census taken?",
        ),  # fmt: skip
        (
            "And the one on rail freight?",
            ("Who wrote the report on road safety?", "Jo Park. [1]"),
            "Who wrote the report on rail freight?",
        ),  # fmt: skip
        # a bare noun phrase: the earlier subject replaced
        (
            "The east wing?",
            ("When was the old museum built?", "In 1890. [1]"),
            "When was the east wing built?",
        ),  # fmt: skip
        # the thing the answer named, after a "what" question
        (
            "When was it founded?",
            (
                "What did the two cities set up together?",
                "They set up the “Harbour Trust” to run the port. [1]",
            ),
            "When was Harbour Trust founded?",
        ),  # fmt: skip
        (
            "Why did they merge?",
            ("Which two banks merged last year?", "Nordbank and Westbank merged. [1]"),
            "Why did Nordbank and Westbank merge?",
        ),  # fmt: skip
        # a person pronoun: the person the answer named
        (
            "When did he retire?",
            ("Who led the orchestra?", "Marta Kovacs led it for ten years. [1]"),
            "When did Marta Kovacs retire?",
        ),  # fmt: skip
        # a bare question word
        ("Why?", (LIBRARY, LIBRARY_ANSWER), "Why was the new city library opened?"),
        # an ordinal alone: the earlier subject, that one of the series
        (
            "And the third?",
            ("When did the second ferry arrive?", "In May. [1]"),
            "When did the third ferry arrive?",
        ),  # fmt: skip
        # "its" in a bare phrase: the earlier subject's owner
        (
            "And its branches?",
            ("Who runs the Baltic Bank's head office?", "A board. [1]"),
            "Who runs the Baltic Bank’s branches?",
        ),  # fmt: skip
        # "it" cannot mean two things: the thing last named
        (
            "How long did it last?",
            ("When did Peru and Chile sign a truce?", "In 1883. [1]"),
            "How long did the truce last?",
        ),  # fmt: skip
        # a question word and little else: the earlier question's matter beside it
        (
            "In which year?",
            ("How many towers did the city rebuild?", "Three. [1]"),
            "In which year? (towers did the city rebuild)",
        ),  # fmt: skip
        (
            "What about FY2030?",
            ("How much did the agency spend in FY2029?", "$3 million. [1]"),
            "How much did the agency spend in FY2030?",
        ),
        # a bare adverb: the same question, so qualified
        (
            "And formally?",
            ("How is the treaty ratified?", "By parliament. [1]"),
            "How is the treaty ratified formally?",
        ),
        # "them" after a plural subject means the subject, not the things the answer listed
        (
            "Is Tartu one of them?",
            ("How many member cities are there?", "Five: Riga and Tartu [1]"),
            "Is Tartu one of member cities?",
        ),
        # a month in an answer is no referent
        (
            "When was it signed?",
            (
                "What does the new charter require?",
                "The charter, adopted in March, requires audits. [1]",
            ),
            "When was the new charter signed?",
        ),
        # a phrase led by a preposition takes the place of the earlier one with it
        (
            "And to repair?",
            ("What are the council's new funds intended to build?", "Schools. [1]"),
            "What are the council's new funds intended to repair?",
        ),
        (
            "And for the museum?",
            ("What is the budget for the library?", "2 million. [1]"),
            "What is the budget for the museum?",
        ),
        # "the one on X": the earlier subject's own topic replaced, a long title included
        (
            "The one on water supply?",
            (
                "When was the council report on the Old Town Harbour Plan 2030 published?",
                "In May. [1]",
            ),  # fmt: skip
            "When was the council report on water supply published?",
        ),
        # "the one after it": the next of the series, the pointer dropped
        (
            "And the one after it?",
            ("When was the first city charter signed?", "In 1901. [1]"),
            "When was the next city charter signed?",
        ),
        # "besides that": the earlier answer set aside (the answerer passes over it), not a referent
        (
            "Besides those, which other towns were flooded?",
            ("Which towns were flooded in the storm?", "Arles and Nîmes were flooded. [1]"),
            "Which other towns were flooded?",
        ),
        # "that period": the time the earlier question named
        (
            "What else did the council build during that period, besides that?",
            ("How many schools did the council build between 1998 and 2004?", "Nine. [1]"),
            "What else did the council build during that period? (between 1998 and 2004)",
        ),
        # "that year": the one year the earlier question named, in its place; "besides passing
        # those" sets the earlier answer aside as "besides those" does
        (
            "Besides passing those, what else did the council do that year?",
            ("Which bylaws did the council pass in 2018?", "Two bylaws on noise. [1]"),
            "What else did the council do in 2018?",
        ),
        # "they" after a question asking which ones: all the names the answer listed, not the
        # question's word for them, nor the first of them
        (
            "What were they warning about?",
            (
                "In July 2024, which countries did Norway join in issuing an advisory?",
                "In July 2024, Norway joined the United States, Canada, Japan, and the UK in issuing an advisory about a cyber group. [1]",  # fmt: skip
            ),
            "What were United States, Canada, Japan, and the UK warning about?",
        ),
        # "that office": the person holding the office the earlier answer named
        (
            "Who's in charge in that office right now?",
            (
                "What is the title of the police force’s top officer?",
                "The Chief of Harbour Police is its top officer and reports to the Secretary of the Port Board. [1]",  # fmt: skip
            ),
            "Who is the current Chief of Harbour Police?",
        ),
        # "they" after "What are X called?" is the name the answer gave them
        (
            "What do they get in return?",
            (
                "What are the participants called who watch the loans?",
                'Participants, referred to as "keepers," watch the loans. [1]',
            ),
            "What do keepers get in return?",
        ),
        # or the one time the earlier answer gave
        (
            "Who chaired the council that year?",
            ("When did the council pass the noise bylaw?", "In 2018. [1]"),
            "Who chaired the council in 2018?",
        ),
        # a pronoun that does something, after a question that counted: the one that does it
        (
            "And how many did it lend in 2019?",
            ("How many books does the city library hold?", "It holds 120,000 books. [1]"),
            "How many did the city library lend in 2019?",
        ),
        # an ellipsis with a preposition takes the place of the earlier one's phrase on that noun
        (
            "And in lending libraries alone?",
            ("How many books were held across public libraries in 2020?", "About 9 million. [1]"),
            "How many books were held in lending libraries alone in 2020?",
        ),
        # "it" is one thing: the owner of the several things the earlier question asked about
        (
            "What else does it show, besides those?",
            ("What are the city museum's main exhibits?", "Its main exhibits are paintings. [1]"),
            "What else does the city museum show?",
        ),
        # "they" who do something, after "what did X and Y <verb>": X and Y, not what they did
        (
            "How far had they got with it by May?",
            (
                "What plan did the Mint and the Old Hall announce in 2021?",
                "A joint harbour exhibition. [1]",
            ),  # fmt: skip
            "How far had the Mint and the Old Hall got with it by May?",
        ),
        # "they" are several things: those the earlier question ends on, not its one subject
        (
            "Where else could they be shown?",
            ("How has the city museum used old photographs?", "It printed them as posters. [1]"),
            "Where else could old photographs be shown?",
        ),
        # one of them: they are the things the earlier question asked for, not the answer's name
        (
            "Which is the last of them?",
            (
                "What exhibits does the city museum show?",
                "The Harbour Trust lends it paintings. [1]",
            ),  # fmt: skip
            "Which is the last of the exhibits?",
        ),
        (
            "And the second of those?",
            (
                "What exhibits does the city museum show?",
                "The Harbour Trust lends it paintings. [1]",
            ),  # fmt: skip
            "Which is the second of the exhibits?",
        ),
        (
            "How much did they spend on rent?",
            ("How much funding did the two museums get in 2020?", "They got $2 million. [1]"),
            "How much did the two museums spend on rent?",
        ),
    ],
)
def test_follow_ups_become_standalone(question, previous, expected):
    assert ask_after(question, previous) == expected


# Answers as qa gave them over the real documents (../shared/benchmarks): the CRS primer on the
# Space Force (IF12610), the CRS insight on the Iran ceasefire (IN12678) and the White House
# fact sheet on the 2022 NATO summit in Madrid.
SALTZMAN = "The current CSO, General Chance B. Saltzman, was appointed in November 2022. [1]"
CSO = "The Chief of Space Operations (CSO) is the highest-ranking uniformed space advisor and reports to the civilian Secretary of the Air Force. [1]"  # fmt: skip
FIELD_COMMANDS = "The Space Force’s three field commands are Combat Forces Command (CFC), previously Space Operations Command (SpOC); Space Training and Readiness Command (STARCOM); and Space Systems Command (SSC). [1]"  # fmt: skip
MEMBERSHIP = "Membership Invitations for Finland and Sweden: On May 18, Finland and Sweden made the sovereign decision to apply for NATO membership, demonstrating the continued importance of NATO’s Open Door policy. [1]"  # fmt: skip
CEASEFIRE = "On April 7, 2026, the United States and Iran agreed to a two-week ceasefire, which may bring a temporary halt to 40 days of conflict. [1]"  # fmt: skip


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        # a name is kept whole across its initials and its "Jr."
        (
            "When was he appointed?",
            ("Who is the Chief of Space Operations?", SALTZMAN),
            "When was General Chance B. Saltzman appointed?",
        ),
        (
            "When did he retire?",
            (
                "Who chaired the panel?",
                "The panel was chaired by Robert F. Kennedy Jr. in 2019. [1]",
            ),
            "When did Robert F. Kennedy Jr. retire?",
        ),  # fmt: skip
        # an office is no person's name: after "who is X", "he" is X; else "the" office
        (
            "When was he appointed?",
            ("Who is the Chief of Space Operations?", CSO),
            "When was the Chief of Space Operations appointed?",
        ),
        (
            "When was he appointed?",
            ("Who does the CSO report to?", CSO),
            "When was the Secretary of the Air Force appointed?",
        ),
        # "it" is never the person the answer named: the thing the question was about
        (
            "What did it cost?",
            ("Which general leads the Space Force?", SALTZMAN),
            "What did the Space Force cost?",
        ),
        # one of a counted or owned series: "the second of" it, the verb made singular
        (
            "the second one?",
            ("What are the Space Force’s three field commands?", FIELD_COMMANDS),
            "What is the second of the Space Force’s three field commands?",
        ),
        (
            "And the last?",
            ("What were NATO's two new partners?", "Finland and Sweden. [1]"),
            "What was the last of NATO's two new partners?",
        ),
        # a heading-like label opening the answer is not what "they" means
        (
            "When did they apply for membership?",
            ("Which countries were invited to join NATO?", MEMBERSHIP),
            "When did Finland and Sweden apply for membership?",
        ),
        # "before that": the referent in its place, not in brackets
        (
            "How long did the conflict last before that?",
            ("When was the ceasefire agreed?", CEASEFIRE),
            "How long did the conflict last before the ceasefire?",
        ),
        (
            "How long did the conflict last before that?",
            ("When did the United States and Iran agree to a ceasefire?", CEASEFIRE),
            "How long did the conflict last before the ceasefire?",
        ),
    ],
)
def test_follow_ups_over_real_answers(question, previous, expected):
    assert ask_after(question, previous) == expected


@pytest.mark.parametrize(
    "question",
    [
        "How many ferries cross the strait each day?",
        "What is the population of the capital?",
        "Who is the mayor of Tartu and what is her party?",  # "her" follows the name it means
        "What is the policy that the council adopted?",  # a relative "that"
    ],
)
def test_standalone_questions_are_left_alone(question):
    assert ask_after(question, (LIBRARY, LIBRARY_ANSWER)) == question


def test_those_before_a_noun_names_the_things():
    asked = ("What exhibits does the city museum show?", "The Harbour Trust lends it paintings. [1]")  # fmt: skip
    rewritten = ask_after("What was the last of those paintings?", asked)
    assert rewritten.startswith("What was the last of those paintings?")
    assert "exhibits" not in rewritten


def test_no_history_no_rewrite():
    assert standalone("What did it cost?", []) == "What did it cost?"


def test_a_third_turn_sees_what_the_second_was_about():
    turns = [(LIBRARY, LIBRARY_ANSWER), ("Who designed it?", "An architect from Riga. [1]")]
    assert ask_after("And the one before?", *turns) == "Who designed the previous city library?"


def test_a_refusal_names_no_referent():
    previous = ("What did the council ban?", "The corpus does not answer this question.")
    assert ask_after("Why did it do that?", previous) == "Why did the council do that?"


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("not a list", "history must be a list"),
        ([{"answer": "x"}], "history[0].question"),
        ([{"question": "  "}], "history[0].question"),
        ([{"question": "q", "answer": 3}], "history[0].answer"),
        (["q"], "history[0] must be an object"),
        ([{"question": "q"}] * (MAX_TURNS + 1), "history is too long"),
        ([{"question": "q" * 2001}], "question is too long"),
        ([{"question": "q", "answer": "a" * 4001}], "answer is too long"),
    ],
)
def test_bad_history_is_bad_input(history, message):
    with pytest.raises(BadInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_history(history)


def test_history_turns_read():
    turns = check_history([{"question": " a? ", "answer": None}, Turn("b?", "B.")])
    assert turns == [Turn("a?", ""), Turn("b?", "B.")]


# ---------------------------------------------------------------- through the assistant and HTTP


@pytest.fixture(scope="module")
def client(settings, assistant):
    with TestClient(create_app(settings, assistant)) as c:
        yield c


FIRST = "When was the latest joint declaration published?"


def test_ask_follow_up_over_http(client):
    first = client.post("/ask", json={"question": FIRST}).json()
    assert first["query_used"] == FIRST  # a standalone question is searched as typed
    history = [{"question": FIRST, "answer": first["answer"]}]
    data = client.post("/ask", json={"question": "What did it include?", "history": history}).json()
    assert data["question"] == "What did it include?"
    assert data["query_used"] == "What did the latest joint declaration include?"
    assert data["answerable"] is True


def test_search_follow_up_over_http(client):
    history = [{"question": FIRST, "answer": "In 2023. [1]"}]
    r = client.post("/search", json={"query": "What did it include?", "history": history})
    assert r.status_code == 200
    data = r.json()
    assert data["query"] == "What did it include?"
    assert data["query_used"] == "What did the latest joint declaration include?"
    assert data["results"]


@pytest.mark.parametrize(
    "history",
    [
        "text",
        [{"answer": "no question"}],
        [{"question": ""}],
        [{"question": "q", "answer": ["x"]}],
        [{"question": "q"}] * (MAX_TURNS + 1),
    ],
)
@pytest.mark.parametrize("path", ["/ask", "/search"])
def test_bad_history_over_http_is_422(client, path, history):
    field = "question" if path == "/ask" else "query"
    r = client.post(path, json={field: "What did it include?", "history": history})
    assert r.status_code == 422
    assert "history" in r.json()["detail"]


def test_chat_keeps_the_conversation(brief_corpus, brief_index):
    session = f"{FIRST}\nWhat did it include?\n/new\nWhat did it include?\n"
    env = {"QA_CORPUS": str(brief_corpus), "QA_INDEX": str(brief_index), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "qa", "chat"], input=session, capture_output=True, text=True, env=env, timeout=120
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("(searched for: What did the latest joint declaration include?)") == 1
    assert "New conversation." in out.stdout


# ------------------------------------------- readings: the conversation and the earlier answer


def test_the_one_before_is_read_from_the_earlier_answer(assistant):
    """'The one before it' is the series the earlier question was about, placed by the earlier
    answer's own short answer (the reader's span of it)."""
    from qa.answer.resolution import readings

    turns = [Turn(FIRST, "The latest joint declaration was published in 2023. [1]")]
    found = readings("And the one before it?", turns, assistant.reader)
    queries = [r.query for r in found.rewrites]
    assert "When was the joint declaration before 2023 published?" in queries
    assert found.context == [f"{FIRST} 2023 And the one before it?"]
    assert found.given == ("2023",)  # what the answer must go beyond


@pytest.mark.parametrize(
    ("question", "previous", "short", "expected", "taking"),
    [
        (
            "And the one before it?",
            LIBRARY,
            "2019",
            "When was the city library before 2019 opened?",
            "Taking 'the one before it' as the city library before 2019",
        ),  # fmt: skip
        (
            "What was the second one called?",
            "What were the museums of the old town?",
            "",
            "What was the second museum of the old town called?",
            "Taking 'the second one' as the second museum of the old town",
        ),  # fmt: skip
        (
            "Where was the second one of those built?",
            "What were the museums of the old town?",
            "",
            "Where was the second museum of the old town built?",
            "Taking 'the second one of those' as the second museum of the old town",
        ),  # fmt: skip
    ],
)
def test_one_of_a_series_is_the_earlier_subject_reselected(assistant, question, previous, short, expected, taking):  # fmt: skip
    from qa.answer.resolution import readings

    rewrites = readings(
        question, [Turn(previous, "An answer. [1]", short)], assistant.reader
    ).rewrites
    assert rewrites[0].query == standalone(question, [Turn(previous, "An answer. [1]")])
    assert (rewrites[-1].query, rewrites[-1].taking) == (expected, taking)


@pytest.mark.parametrize(
    ("question", "previous", "answer", "expected", "taking"),
    [
        (
            "What does the second one do?",
            "What are the Space Force’s three field commands?",
            FIELD_COMMANDS,
            "What does Space Training and Readiness Command (STARCOM) do?",
            "Taking 'the second one' as Space Training and Readiness Command (STARCOM)",
        ),
        (
            "And the last one?",
            "What were the museums of the old town?",
            "The museums are the Old Hall, the Mint and the Tower. [1]",
            "What was the Tower?",
            "Taking 'the last one' as the Tower",
        ),
        # asked only which item is at that place, in other words
        (
            "Which one is listed second?",
            "What are the Space Force’s three field commands?",
            FIELD_COMMANDS,
            "What is Space Training and Readiness Command (STARCOM)?",
            "Taking 'listed second' as Space Training and Readiness Command (STARCOM)",
        ),
        (
            "What was the second of those?",
            "What were the museums of the old town?",
            "The museums are the Old Hall, the Mint and the Tower. [1]",
            "What was the Mint?",
            "Taking 'the second of those' as the Mint",
        ),
        (
            "Which one comes last on that list?",
            "What were the museums of the old town?",
            "The museums are the Old Hall, the Mint and the Tower. [1]",
            "What was the Tower?",
            "Taking 'comes last' as the Tower",
        ),
    ],
)
def test_one_of_a_list_is_the_item_the_earlier_answer_gave(assistant, question, previous, answer, expected, taking):  # fmt: skip
    from qa.answer.resolution import readings

    rewrites = readings(question, [Turn(previous, answer)], assistant.reader).rewrites
    # read first, and taken where it answers (qa.answer.resolution: "sure")
    assert (rewrites[0].query, rewrites[0].taking, rewrites[0].sure) == (expected, taking, True)


def test_a_list_of_another_length_is_not_the_series(assistant):
    from qa.answer.resolution import readings

    two = "The field commands are Combat Forces Command and Space Systems Command. [1]"
    previous = "What are the Space Force’s three field commands?"
    rewrites = readings("the second one?", [Turn(previous, two)], assistant.reader).rewrites
    assert all("Space Systems Command" not in r.query for r in rewrites)


def test_short_answer_is_read_from_history(assistant):
    turns = check_history([{"question": "q?", "answer": "A.", "short_answer": {"text": " 2018 "}}])
    assert turns == [Turn("q?", "A.", "2018")]


def test_the_conversation_brings_candidates_a_poor_query_misses(assistant):
    """Candidates found with the conversation join the query's, and are read against it."""
    poor = "Where were they held?"
    conversation = "How many cross briefings have been held since the 2016 Joint Declaration? 325"
    alone = {h.passage.id for h in assistant.retriever.search(poor, 8)}
    fused = assistant.retriever.with_context([conversation]).search(poor, 8)
    held = [h for h in fused if "325 cross briefings" in h.passage.text]
    assert held and held[0].passage.id in {h.passage.id for h in fused}
    assert all(h.reading is not None for h in fused)  # every candidate read
    assert {h.passage.id for h in fused} != alone


def test_short_answer_in_history_over_http(client):
    """A client may send the earlier answer's short answer back; "that year" is then read as it."""
    history = [{"question": "When was the second joint declaration published?", "answer": "In 2018, alongside the NATO summit in Brussels, a second joint declaration was published. [1]", "short_answer": "2018"}]  # fmt: skip
    data = client.post("/ask", json={"question": "Where was the NATO summit that year?", "history": history}).json()  # fmt: skip
    assert data["answerable"] is True
    assert "Brussels" in data["answer"]
    assert data["query_used"]


# ------------------------------------------------- a standalone question written by an LLM

DECLARATION = [Turn(FIRST, "The latest joint declaration was published in 2023. [1]")]


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("What did the latest joint declaration of 2023 prioritise?", True),
        ("What did the 2019 joint declaration prioritise?", False),  # a year nobody said
        ("What did NATO's Strategic Concept prioritise?", False),  # a name nobody said
        ("What did it prioritise?", False),  # brings nothing of the conversation in
        ("The joint declaration prioritised resilience.", False),  # an answer, not a question
        ("What did the latest joint declaration prioritise? " * 12, False),  # runs on
    ],
)
def test_a_written_follow_up_is_read_only_where_it_keeps_to_the_conversation(assistant, written, kept):  # fmt: skip
    from qa.answer.resolution import readings

    found = readings("What did it prioritise?", DECLARATION, assistant.reader, written)
    first = found.rewrites[0]
    assert (first.written and first.query == written) is kept
    assert written not in [r.query for r in found.rewrites[1:]]  # never read any other way
    if kept:
        assert first.taking == f"Reading the question as '{written}'"
        assert found.rewrites[1].query == standalone("What did it prioritise?", DECLARATION)


def test_which_things_a_question_asked_for_are_its_subject(assistant):
    from qa.answer.questions import subject_of
    from qa.answer.resolution import readings

    earlier = "Which city charters does the report discuss?"
    assert subject_of(earlier) == "the city charters"
    assert subject_of("Which mayor leads the council?") == "the council"  # no auxiliary: the object
    # an -ed word after "of" is an adjective, not the participle that closes the subject
    assert subject_of("What are the four pillars of integrated deterrence?") == "the four pillars of integrated deterrence"  # fmt: skip
    assert subject_of("When was the old museum built?") == "the old museum"
    # however long the things asked for are named
    long = "What points of possible conflict over the Anglo-French harbour treaty does the report list?"  # fmt: skip
    assert subject_of(long) == "the points of possible conflict over the Anglo-French harbour treaty"  # fmt: skip
    # and the perfect's participle closes the subject
    assert subject_of("How has the city museum used old photographs?") == "the city museum"
    assert subject_of("What is the largest covered market by floor area?") == "the largest covered market"  # fmt: skip
    # a source named first is not the subject
    assert subject_of("According to the council's annual report, where was the first lending library opened?") == "the first lending library"  # fmt: skip
    found = readings("On what date was the first one signed?", [Turn(earlier, "Three charters. [1]")], assistant.reader)  # fmt: skip
    assert "On what date was the first city charter signed?" in [r.query for r in found.rewrites]


def test_what_else_is_not_what_was_said(assistant):
    """'What else did she write?' leads with another reference than the one just given."""
    first = "Who wrote the ICDS piece on the White Paper for European Defence Readiness 2030?"
    said = assistant.ask(first)
    assert said.answerable and "Marianne Paire" in said.answer
    other = assistant.ask("What else did she write?", history=[{"question": first, "answer": said.answer}])  # fmt: skip
    assert other.answerable and "Strengthening the Industry" in other.answer
    assert other.answer.split(" [")[0] not in said.answer


@pytest.mark.parametrize(
    "question,previous,short,expected",
    [
        # a "which" question's answer is its short answer where that is a name, not the
        # longest name of the sentence that gave it (the agency that sanctioned it)
        (
            "When was it delisted?",
            "Which defi application did Treasury's Office of Foreign Assets Control sanction in August 2022?",  # fmt: skip
            "Tornado Cash",
            "When was Tornado Cash delisted?",
        ),
        (
            "Who leads its government?",
            "Which country brokered the ceasefire?",
            "Pakistan",
            "Who leads Pakistan’s government?",
        ),  # fmt: skip
        # "that department" after "Which department ...?" is the department it named
        (
            "Who heads that department?",
            "Which department put out a report in March 2026 on illicit finance?",
            "Treasury",
            "Who heads Treasury?",
        ),
        # a "which" question opened by a preposition asks for a thing as well
        (
            "When did that take effect?",
            "Under which agreement did the allies commit to closer cooperation?",
            "AUKUS",
            "When did that take effect? (AUKUS)",
        ),
        # a committee's name may list its fields with commas, and is still one name
        (
            "Who chairs it?",
            "Which Senate committee released a draft bill in January 2026?",
            "Senate Banking, Housing, and Urban Affairs Committee",
            "Who chairs Senate Banking, Housing, and Urban Affairs Committee?",
        ),
        # "that signing" after "Which accord did they sign?": the act the question asked of,
        # done to what it was answered with (and "that planning" of "planned", "issuing" of
        # "issue"); "that meeting" is no act of the question's, and no pointer to the answer
        (
            "When did that signing take place?",
            "Which accord did the two leaders sign in Washington?",
            "Critical Minerals Framework",
            "When did the signing of Critical Minerals Framework take place?",
        ),
        (
            "Who attended that meeting?",
            "Which accord did the two leaders sign in Washington?",
            "Critical Minerals Framework",
            None,
        ),
        # "that" as a relative pronoun, or before another noun, is no pointer to the answer
        (
            "Who wrote the policy that replaced the act?",
            "Which policy requires audits?",
            "Foo Act",
            None,
        ),
        # "what is X" is answered by a description: "it" is still X
        ("What does it do?", "What is the Space Force?", "Guardians", None),
        # a short answer that is no name is no referent
        ("Where was it signed?", "Which agreement did they sign?", "in 2022", None),
    ],
)
def test_a_pronoun_after_which_means_the_short_answer(question, previous, short, expected):
    from qa.answer.followups import refer
    from qa.answer.names import is_name

    referred = refer(question, previous, short) if is_name(short) else None
    assert referred == expected


@pytest.mark.parametrize(
    "question,previous,answer,short,expected",
    [
        # "that" after "what did X <verb>": the thing acted on, not the country its sentence
        # names first
        (
            "What will that lead to at the summit?",
            "What did the three ministers sign in May?",
            "Portugal welcomes the accord signed in May by the three ministers. [1]",
            "accord",
            "(the accord)",
        ),
        # "what is X" is answered by a description: "it" is still X
        (
            "When was it founded?",
            "What is the harbour board?",
            "The harbour board is a public body that runs the port of Leith. [1]",
            "a public body",
            "the harbour board",
        ),
    ],
)
def test_that_after_what_did_means_the_thing_acted_on(question, previous, answer, short, expected):
    from qa.answer.resolution import readings

    found = readings(question, [Turn(previous, answer, short)], reader=None)
    assert expected in found.rewrites[0].query, found.rewrites[0].query


def test_the_thing_acted_on_is_read_from_the_answer_where_no_short_answer_was_found():
    from qa.answer.resolution import _object_of

    signed = "Portugal welcomes the accord signed in May by the three ministers. [1]"
    assert _object_of("What did the three ministers sign in May?", signed) == "the accord"
    adopted = "In 2019 the council adopted a new housing plan for the harbour. [1]"
    assert _object_of("What did the council adopt in 2019?", adopted) == "a new housing plan"
    assert _object_of("Who chairs the council?", adopted) == ""  # no "what did X <verb>"


def test_besides_those_sets_aside_all_the_earlier_answer_named():
    """'Besides those, what else ...?' sets aside every thing the answer named, so its sentence
    never answers again; 'besides that' only the one thing it gave (the sentence may name
    another)."""
    from qa.answer.resolution import readings

    earlier = "Which galleries did the museum open in Leith?"
    answer = "The museum opened a print gallery, a map room and a cafe in Leith. [1]"
    turns = [Turn(earlier, answer, "a print gallery")]
    those = readings("Besides those, what else did the museum open in Leith?", turns, reader=None)
    assert those.given == ("a print gallery", answer.removesuffix(" [1]"))
    that = readings("Besides that, what else did the museum open in Leith?", turns, reader=None)
    assert that.given == ("a print gallery",)
    act = readings("Besides opening those, what else did the museum do in Leith?", turns, reader=None)  # fmt: skip
    assert act.given == ("a print gallery",)  # one act set aside: the sentence may hold another


@pytest.mark.parametrize("question", ["How did that end up?", "What happened next?", "What came of it?"])  # fmt: skip
def test_what_followed_is_never_what_was_said(question):
    """A question on what followed ("How did that end up?") asks beyond the earlier answer:
    its sentences may not answer again."""
    from qa.answer.resolution import readings

    answer = "In April the council received a complaint about the harbour plan. [1]"
    turns = [Turn("What did the council receive in April?", answer, "a complaint")]
    found = readings(question, turns, reader=None)
    assert found.said == (answer.removesuffix(" [1]"),)
    assert found.given == ("a complaint", answer.removesuffix(" [1]"))
    assert readings("Who sent it?", turns, reader=None).said == ()


def test_a_plural_pronoun_is_not_one_short_answer():
    from qa.answer.followups import refer

    assert refer("Who else reacted, besides them?", "Which Gulf states were attacked?", "Kuwait") is None  # fmt: skip
