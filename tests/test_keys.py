"""Keys: a question's years and figures are compared in every form the evidence may write them,
and a name the evidence lacks weighs but never vetoes."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer import keys
from qa.answer.spans import in_caption


def _values(text: str) -> list[tuple[str, float]]:
    return [(k.kind, k.value) for k in keys.quantities(text) if k.written]


@pytest.mark.parametrize(
    ("asked", "stated"),
    [
        ("How much for FY2024?", "In fiscal year 2024 it got more."),
        ("How much for FY2024?", "The FY24 request rose."),
        ("How much for fiscal year 2026?", "Congress appropriated $26.1 billion for FY2026."),
        ("What changed in 2019-20?", "Between 2019 and 2020 it doubled."),
        ("What changed in 2019–2020?", "In 2019-20 it doubled."),
        ("Who came 1st?", "She came first in the race."),
        ("What was the 10th report about?", "The tenth report was published."),
        ("What did $26.1 billion pay for?", "It cost 26.1 billion dollars."),
        ("Who paid 5 percent?", "Members paid 5% of GDP."),
        ("What happened on 19 June 2025?", "The brief is dated 2025-06-19."),
        ("What did the 1,866 passages hold?", "It held 1866 passages."),
    ],
)
def test_a_key_is_stated_in_any_of_its_forms(asked: str, stated: str) -> None:
    assert keys.unstated(asked, stated) == []


@pytest.mark.parametrize(
    ("asked", "stated", "missing"),
    [
        ("How much for FY2024?", "Congress appropriated $26.1 billion for FY2026.", "FY2024"),
        ("What did the 2030 NATO summit decide?", "The 2025 NATO summit in The Hague.", "2030"),
        ("What did $26.1 billion pay for?", "It cost 26.1 million dollars.", "$26.1 billion"),
        ("What was the 11th report about?", "The tenth report was published.", "11th"),
        ("Who paid 3%?", "Members paid 5% of GDP.", "3%"),
    ],
)
def test_a_key_the_evidence_never_states_is_unstated(asked: str, stated: str, missing: str) -> None:  # fmt: skip
    assert [k.text for k in keys.unstated(asked, stated)] == [missing]


def test_figures_inside_names_and_keys_in_words_are_no_veto() -> None:
    # F-35, G7 and COVID-19 are names; "first" and "three" are what a list may imply.
    assert _values("the F-35, the G7, COVID-19 and an A400M") == []
    assert keys.unstated("Who was the first High Representative?", "Javier Solana held it.") == []  # fmt: skip
    assert keys.unstated("What are the three field commands?", "Its commands are A, B and C.") == []  # fmt: skip
    # A year named as a reference point is not what the evidence must state.
    assert keys.unstated("Which declaration came after 2016?", "The 2018 declaration.") == []


def test_the_nearest_key_is_of_the_asked_kind() -> None:
    asked = keys.question_keys("How much for FY2024?")[0]
    found = keys.nearest(asked, "In 2025, Congress gave $26.1 billion for FY2026 and 2027.")
    assert found is not None and found.text == "FY2026"
    assert keys.nearest(asked, "No year here at all.") is None


def test_a_missing_name_weighs_less_the_closer_the_evidence_names_something_like_it() -> None:
    vectors = {"Pentagon": [1.0, 0.0], "Defense": [0.8, 0.6], "Oxygen": [0.0, 1.0]}
    likeness = keys.NameLikeness(lambda texts: np.array([vectors[t] for t in texts]))
    question = "What did the Pentagon announce?"
    assert keys.missing_names(question, "The Pentagon announced it.", likeness) == 0.0
    assert keys.missing_names(question, "Defense announced it.", likeness) == pytest.approx(0.2)
    assert keys.missing_names(question, "Oxygen was announced.", likeness) == pytest.approx(1.0)
    assert keys.missing_names(question, "Defense announced it.") == 1.0  # no likeness: all missing
    # a country named in another form is there, whatever the likeness (qa.answer.places)
    assert keys.missing_names("What did Beijing announce?", "China announced it.") == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Source: Adapted from U.S. Space Force Headquarters Air Force - April 19, 2022.",
        "Figure 1. Space Force field commands",
        "The force grew. Notes: figures are in current dollars.",
        "Table 2: Appropriations by year",
    ],
)
def test_captions_source_lines_and_notes_are_found(text: str) -> None:
    assert in_caption(text, len(text) - 5)


def test_a_statement_is_no_caption() -> None:
    text = "The Space Force was established on December 20, 2019. Its sources of funding vary."
    assert not in_caption(text, 10) and not in_caption(text, len(text) - 5)


def _hit(text: str):
    from qa.ingest.passages import Passage
    from qa.models.reading import Reading
    from qa.search.hybrid import Hit

    passage = Passage("d.txt#1.1", "d.txt", 0, len(text), text, "Intro", 1, (), "A report", "2025-06-19")  # fmt: skip
    at = text.index("applied")  # the reader's span: in the sentence that answers
    return Hit(passage, 0.5, 1, 0.5, 0.5, reading=Reading(1.0, (at, at + 7), 5.0, 0.0))


def test_a_passage_that_tells_its_time_by_pointing_back_is_not_held_to_a_year() -> None:
    from qa.answer.answering import unstated

    pointing = _hit("In the same year, both Finland and Sweden applied for NATO membership.")
    assert unstated("Which countries applied for NATO membership in 2022?", pointing) == []
    plain = _hit("In 2023, both Finland and Sweden applied for NATO membership.")
    # Only the sentence that answers counts: another that points back holds no year off.
    elsewhere = _hit("It was adopted a year earlier. In 2023, Finland and Sweden applied.")
    assert [k.text for k in unstated("Which countries applied in 2022?", elsewhere)] == ["2022"]
    assert [k.text for k in unstated("Which countries applied in 2022?", plain)] == ["2022"]
    # The document's own date is evidence: a report of 2025 states 2025.
    assert unstated("What did the alliance do in 2025?", plain) == []


def test_a_fiscal_year_is_the_answer_sentences_own_period() -> None:
    # The sentence states FY2027: asked for FY2026, it answers another year.
    asked = "How much is the Army requesting for RDT&E in FY2026?"
    sentence = "For FY2027 RDT&E funding, the Army is requesting $212 million."
    assert [k.text for k in keys.out_of_period(asked, sentence, [])] == ["FY2026"]
    # Stating none, it belongs to the one its passage last stated before it, not to one further on.
    before = ["Congress appropriated $26.1 billion for FY2026.", "It funded accounts unevenly."]
    sentence = "For the Space Force, the act provided $14.9 billion for RDT&E."
    assert [k.text for k in keys.out_of_period("How much for RDT&E in FY2025?", sentence, before)] == ["FY2025"]  # fmt: skip
    assert keys.out_of_period("How much for RDT&E in fiscal year 2026?", sentence, before) == []
    # A bare year a budget names is that fiscal year: "the discretionary request for 2027",
    # stated after FY2026's total, is the period of the sentence that follows it.
    before = ["It is 123% more than the FY2026 enacted total.", "Of the discretionary request for 2027, $38.4 billion is for RDT&E."]  # fmt: skip
    sentence = "The Space Force has also requested $9.3 billion for O&M."
    assert keys.out_of_period("How much is for O&M in FY2027?", sentence, before) == []
    assert [k.text for k in keys.out_of_period("How much is for O&M in FY2026?", sentence, before)] == ["FY2026"]  # fmt: skip
    # Nothing states a period: nothing to hold it to (the passage-wide check still applies).
    assert keys.out_of_period("How much for RDT&E in FY2025?", sentence, []) == []
    # Calendar years often name an event, not the sentence's period: never held to this.
    assert keys.out_of_period("What followed the 2014 annexation?", "In 2016, they signed.", []) == []  # fmt: skip


def test_a_reports_date_does_not_state_a_fiscal_year() -> None:
    evidence = (
        "The U.S. Army's Typhon 2026-04-20 For FY2027 funding, the Army requests $212 million."
    )
    assert [k.text for k in keys.unstated("How much for FY2026?", evidence)] == ["FY2026"]
    assert keys.unstated("What did the Army do in 2026?", evidence) == []  # a calendar year, dated
