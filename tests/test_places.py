"""Countries in any of their forms: a capital or a people for a country is a paraphrase, another
country in the answer sentence a near miss."""

from __future__ import annotations

import pytest

from qa.answer import keys, places

TRADE = (
    "# Trade in the Pacific\n\n"
    "U.S. goods and services trade with Australia totalled $62.8 billion in 2025, according to "
    "the U.S. Trade Representative. Exports made up $43.1 billion of it.\n\n"
    "The Japanese government approved a new defence budget in December 2025, the largest since "
    "1945. It raised spending on missiles by a third.\n"
)


def test_a_country_is_found_by_its_name_its_capital_its_people_and_its_short_names():
    found = places.places("Ankara, Türkiye and Turkey; Tokyo and the Japanese; the U.S., the UK and Britain; Beijing")  # fmt: skip
    assert [(p.text, p.code) for p in found] == [
        ("Ankara", "TR"), ("Türkiye", "TR"), ("Turkey", "TR"), ("Tokyo", "JP"), ("Japanese", "JP"),
        ("U.S.", "US"), ("UK", "GB"), ("Britain", "GB"), ("Beijing", "CN"),
    ]  # fmt: skip
    # the longest form wins, and ISO codes, lower-case words and small capitals are no country
    assert [p.code for p in places.places("New Zealand and South Korea")] == ["NZ", "KR"]
    assert places.countries("IN FOCUS: it is in turkey season; Victoria said so") == set()
    # a hyphen joins two names, or is part of one
    assert [p.code for p in places.places("the U.S.-Iran ceasefire; Guinea-Bissau")] == ["US", "IR", "GW"]  # fmt: skip


def test_a_question_s_country_that_the_evidence_never_names_is_unnamed_only_beside_another():
    question = "What was the total value of U.S. trade with New Zealand in 2025?"
    sentence = "U.S. goods and services trade with Australia totalled $62.8 billion in 2025."
    assert [p.text for p in places.unnamed(question, TRADE, sentence)] == ["New Zealand"]
    assert places.instead(question, sentence).text == "Australia"
    # named in another form, it is there; with no other country beside it, it is not held
    assert places.unnamed("What did Canberra trade with the U.S. in 2025?", TRADE, sentence) == []
    alone = "Goods and services trade totalled $62.8 billion in 2025."
    assert places.unnamed(question, alone, alone) == []
    # the U.S. of a title "U.S.-EU Summit" is named, as Serbia's sentence stands beside it
    title = "U.S.-EU Summit Joint Statement. We note the need for Kosovo and Serbia to return to the dialogue."  # fmt: skip
    assert places.unnamed("What dialogue should the United States return to?", title, title) == []
    heading = "AUSTRALIA AND THE UNITED STATES. Trade with New Zealand grew."
    assert places.unnamed("How much did trade with Australia grow?", heading, heading) == []


def test_a_country_named_in_another_form_is_not_a_missing_name():
    assert keys.missing_names("What budget did Tokyo approve?", TRADE) == 0.0
    assert keys.missing_names("What budget did Seoul approve?", TRADE) == 1.0


@pytest.fixture(scope="module")
def pacific(tmp_path_factory, embedder):
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("pacific")
    (corpus / "pacific.md").write_text(TRADE, encoding="utf-8")
    index = tmp_path_factory.mktemp("pacific-index")
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    return Assistant(settings, embedder)


def test_a_question_about_another_country_is_a_near_miss_that_says_which_one_the_documents_name(pacific):  # fmt: skip
    from qa.surfaces.schemas import AskResponse

    answer = pacific.ask("What was the total value of U.S. goods and services trade with New Zealand in 2025?")  # fmt: skip
    assert not answer.answerable, answer.answer
    assert answer.answer.startswith("The documents say nothing of New Zealand; they speak of Australia")  # fmt: skip
    miss = AskResponse.model_validate(answer.to_dict()).near_miss
    assert miss["asked"] == "New Zealand" and miss["found"] == "Australia"
    assert "$62.8 billion" in dict(answer.citations)[1].passage.text
    asked = pacific.ask("What was the total value of U.S. goods and services trade with Australia in 2025?")  # fmt: skip
    assert asked.answerable and "$62.8 billion" in asked.answer, asked.signals


def test_a_capital_asked_for_its_country_is_answered(pacific):
    answer = pacific.ask("What did Tokyo approve in December 2025?")
    assert answer.answerable and "defence budget" in answer.answer, answer.signals
    assert answer.signals["key_missing"] == 0.0


def test_the_table_is_what_the_pinned_countryinfo_gives():
    import json

    assert json.loads(places.TABLE.read_text(encoding="utf-8")) == places.forms_from_countryinfo()


def test_a_question_about_one_country_takes_its_span_from_that_country_s_sentence():
    """Asked about Poland's site, the span from the sentence on Romania's tells of another
    country, however the reader ranks it; a country that is the span is the answer; a question
    naming no country keeps the reader's choice."""
    from qa.answer import spans
    from qa.models.reading import Reading

    text = (
        "The first Aegis-Ashore site, in Romania, transferred to NATO control in 2016. "
        "The site in Poland is scheduled to transfer to NATO control in July 2024."
    )
    romania, poland = text.index("2016"), text.index("July 2024")
    reading = Reading(3.0, (romania, romania + 4), 9.0, 0.0, ((romania, romania + 4, 9.0), (poland, poland + 9, 3.0)))  # fmt: skip
    idf = lambda term: 1.0  # noqa: E731
    asked = "When is the Aegis-Ashore site in Poland scheduled to transfer to NATO control?"
    assert spans.choose(asked, text, reading, idf).span == (poland, poland + 9)
    asked = "When did the Romanian site transfer to NATO control?"
    assert spans.choose(asked, text, reading, idf).span == (romania, romania + 4)
    asked = "When did the first Aegis-Ashore site transfer to NATO control?"
    assert spans.choose(asked, text, reading, idf).span == (romania, romania + 4)
    text = "Pakistan brokered the ceasefire. Talks went on in Geneva for a week."
    at, other = text.index("Pakistan"), text.index("Geneva")
    reading = Reading(3.0, (at, at + 8), 9.0, 0.0, ((at, at + 8, 9.0), (other, other + 6, 3.0)))
    asked = "Which country brokered the ceasefire between the U.S. and Iran?"
    assert spans.choose(asked, text, reading, idf).span == (at, at + 8)
