"""Answering: the sentence that holds the reader's answer, cited, or a plain refusal.

The retriever's candidates come back reranked and read (qa.search.reranking, qa.models.reading): for each, the
probability that it answers the question and the best answer span inside it. The answer is the
sentence of the most likely passage that holds that span, verbatim (endnote markers aside, since
the endnotes travel with the citation); where the question asks for a thing (who, when, how
many, which, what is X called) the span itself is the short answer, with exact offsets.

Whether to answer at all is one decision: a logistic model over the reader's scores, fitted and
thresholded on held-out SQuAD 2.0 articles (training/calibrate.py), never on the brief.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from qa.answer import keys, names, places, spans
from qa.answer.quoting import ShortAnswer, answer_sentence, sentence_around, short_answer, unmarked
from qa.ingest.passages import sentence_spans
from qa.models.reading import Reader
from qa.search.duplicates import boilerplate
from qa.search.hybrid import Hit
from qa.search.retrieval import Retriever

REFUSAL = "The corpus does not answer this question."
CANDIDATE_PASSAGES = 8
# Candidates read in stages, stopping at the first stage that answers with at least its
# probability: the top three at 0.15, then all eight. training/adaptive.py, on the 835
# calibration questions with the 130k reader: the fewest passages read (5.88 a question, against
# 8) of the policies whose answer or refusal is the one reading all eight gives for at least
# 99.5% of questions (answered right 0.794, declined 0.485 alike). Reading the top one first
# where it answers with P >= 0.4 agreed as often and read 5.67, but on held-out SQuAD v1.1
# (benchmarks/answers.py) its answer hit fell 0.890 -> 0.870, outside issue 28's 0.01.
STAGES = ((3, 0.15),)
# A second sentence joins the answer when another passage is nearly as likely to answer.
SECOND_SHARE = 0.9

# Questions that ask for a thing, whose answer is a short span.
_FACTOID = re.compile(
    r"^\s*(who|whom|whose|when|where|which)\b|\bhow (many|much|long|old|far)\b"
    r"|\bwhat (year|date|month|day|percentage|share|number|amount|is the name|was the name|name)\b"
    r"|\b(called|named|known as|stand for)\b\s*\??\s*$",
    re.IGNORECASE,
)
# Endnotes (publication details) are the evidence for who wrote or published what.
_ASKS_FOR_SOURCE = re.compile(
    r"\b(wr[io]te|written|writes|authors?|authored|publish\w*|prepared|sources?|articles?|papers?|reports? by|briefs? by)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    answerable: bool
    citations: list[tuple[int, Hit]]  # (marker, hit), in order of first use
    signals: dict = field(default_factory=dict)
    query_used: str | None = None  # the standalone query searched, when a conversation led here
    mode: str = "extractive"  # or "llm": written by a local model, every sentence checked
    sentences: list[dict] = field(default_factory=list)  # an LLM's sentences (qa.answer.checking)
    note: str | None = None  # why an LLM answer was not given, when one was asked for
    short_answer: ShortAnswer | None = None
    reading: str | None = None  # which reading of a follow-up was taken, when others differed
    # a question whose year or figure the documents never state: asked, found and cited
    near_miss: dict | None = None
    # what an answer that quotes its first citation without reading it quotes (an overview, a
    # document's passage on a topic): offsets into that passage's text
    quoted: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        citations = [
            {**hit.to_dict(), "marker": marker} | self._sentence_of(hit)
            for marker, hit in self.citations
        ]
        return {
            "question": self.question,
            "answer": self.answer,
            "answerable": self.answerable,
            "short_answer": self.short_answer.to_dict() if self.short_answer else None,
            "citations": citations,
            "signals": self.signals,
            "query_used": self.query_used or self.question,
            "near_miss": self.near_miss,
            "mode": self.mode,
            **({"sentences": self.sentences} if self.mode == "llm" or self.sentences else {}),
            **({"note": self.note} if self.note else {}),
            **({"reading": self.reading} if self.reading else {}),
        }

    def _sentence_of(self, hit: Hit) -> dict:
        """Where the quoted sentence stands in an answer's cited passage (offsets into the
        document, like the citation's), so that a surface can mark it; {} where none was quoted."""
        if not self.answerable or self.mode != "extractive":
            return {}
        p = hit.passage
        if self.quoted is not None and hit is self.citations[0][1]:
            s, e = self.quoted
        elif hit.reading is None:
            return {}
        else:
            s, e = sentence_around(hit)
        return {"sentence": {"text": p.text[s:e], "start": p.start + s, "end": p.start + e}}


@dataclass(frozen=True)
class Refusal:
    """The calibrated decision: P(answering is right) = sigmoid(bias + weights · features)."""

    weights: dict[str, float]
    bias: float
    threshold: float
    criterion: str
    # Where the likeliest passage answers for another year or figure (a near miss), another
    # passage that states the question's keys answers only with at least this share of its
    # probability; else the near miss is what the documents say.
    near_share: float = 0.0

    @classmethod
    def of(cls, reader: Reader) -> Refusal:
        """The decision calibrated for this reader's model (training/calibrate.py)."""
        c = reader.calibration["refusal"]
        return cls(c["weights"], c["bias"], c["threshold"], c["criterion"], c.get("near_share", 0.0))  # fmt: skip

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z))


def evidence(hit: Hit) -> str:
    """What a passage states for a question's keys: its text, its document's title and date, its
    section and the endnotes it cites."""
    p = hit.passage
    notes = " ".join(n.text for n in p.endnotes)
    return f"{p.title or ''} {p.date or ''} {p.section or ''} {p.text} {notes}"


# A time told by pointing at another ("in the same year", "a year earlier", "that month").
_REFERS_BACK = re.compile(
    r"\b(?:(?:the\s+(?:same|following|next|previous|preceding)|that|later\s+that|earlier\s+that)"
    r"\s+(?:year|month|fiscal\s+year|decade|summer|spring|autumn|fall|winter)"
    r"|(?:a|one|two|three|four|five|\d+)\s+(?:years?|months?|decades?)\s+(?:earlier|later|before|after))\b",
    re.IGNORECASE,
)


def unstated(question: str, hit: Hit) -> list[keys.Key]:
    """The question's years and figures (written in figures) that the passage's evidence never
    states, its countries that the evidence never names in any form where the answer sentence
    names another (qa.answer.places), else a name it never uses a word of where the sentence
    names another of its family (qa.answer.names.sibling), and its fiscal years that are not the
    answer sentence's own (keys.out_of_period). Where the sentence that answers tells its time
    by pointing at another ("in the same year"), its years cannot be checked and none is held
    against it: the brief's "Finland and Sweden applied for NATO membership" "in the same year"
    as documents "a year earlier" than 2023."""
    stated, sentence = evidence(hit), answer_sentence(hit)
    missing = keys.unstated(question, stated)
    missing += [keys.Key("place", 0.0, p.text) for p in places.unnamed(question, stated, sentence)]
    if not missing and (name := names.sibling(question, stated, sentence)):
        missing.append(keys.Key("name", 0.0, name))
    if keys.asks_fiscal_year(question):  # else no period to hold the sentence to
        s, e = sentence_around(hit)
        missing += [k for k in keys.out_of_period_in(question, hit.passage.text, s, e) if k not in missing]  # fmt: skip
    if missing and _REFERS_BACK.search(sentence):
        missing = [k for k in missing if k.kind != "year"]
    return missing


def lacks(question: str, hit: Hit) -> str | None:
    """What a question that asks when, how many or how much asks for ("date", "number") where
    the sentence that would answer it states none: not even a time told by pointing at another
    ("in the same year"). The sentence cannot answer it, however likely the reader finds it:
    "What is the budget of the Security Assistance for Europe instrument?" is not answered by a
    sentence that lists the instrument among others."""
    kind = spans.asks_only(question)
    if kind is None:
        return None
    sentence = answer_sentence(hit)
    if spans.states(kind, sentence) or (kind == "date" and _REFERS_BACK.search(sentence)):
        return None
    return kind


def features(question: str, hit: Hit, likeness: keys.NameLikeness | None = None) -> dict[str, float]:  # fmt: skip
    """The scores the decision weighs, for a hit read and given its span (`leads`)."""
    r = hit.reading
    p = hit.passage
    kind = spans.expected_kind(question)
    return {
        "answer_logit": r.answer_logit,
        "span_margin": r.span_margin,
        "retrieval": hit.retrieval if hit.retrieval is not None else hit.score,
        # the span is not what the question asks for (when: a date, who: a name, ...)
        "type_misfit": float(
            kind is not None and not spans.fits(kind, p.text[r.span[0] : r.span[1]])
        ),  # fmt: skip
        # the question's names that the passage (with its title) lacks, less where it names
        # something like them (qa.answer.keys); a number written in figures is a veto instead
        "key_missing": keys.missing_names(question, evidence(hit), likeness),
    }


def leads(question: str, hits: list[Hit], index, given: Collection[str] = ()) -> list[Hit]:
    """The read hits that may lead an answer, each given the span that best answers the question
    (qa.answer.spans) and says something beyond `given` (what the conversation already
    answered), never in a caption or a source line; endnotes, and what several documents repeat
    word for word (qa.search.duplicates.boilerplate), only when the question asks who wrote or
    published what."""
    idf = spans.corpus_idf(index.lexical.document_frequency, index.lexical.size)
    source = bool(_ASKS_FOR_SOURCE.search(question))
    repeated = frozenset() if source else boilerplate(index)  # "This document was prepared by"
    out = []
    for h in hits:
        if h.reading is None or (h.passage.is_endnote and not source):
            continue
        reading = spans.choose(question, h.passage.text, h.reading, idf, given=given, repeated=repeated)  # fmt: skip
        if reading is not None:  # else its every span is in a caption or a source line
            out.append(replace(h, reading=reading))
    return out


def asks_for_thing(question: str) -> bool:
    return bool(_FACTOID.search(question))


def compose(
    question: str,
    retriever: Retriever,
    k: int = 5,
    sources: Iterable[str] | None = None,
    refusal: Refusal | None = None,
    given: Collection[str] = (),
    said: Collection[str] = (),
    likeness: keys.NameLikeness | None = None,
    asked: str = "",
) -> Answer:
    """The answer to `question`: its best candidate's sentence where the refusal lets it answer
    and the candidate states the question's quantities and times; a near miss where the only
    candidates that may answer state another year or figure. A follow-up's answer goes beyond
    `given` (qa.answer.spans) and, where it asks for something else, leads with no sentence
    already `said`.

    Reading is most of an answer's cost, so the candidates are read in STAGES: more only when
    those read so far answer with less than the stage's probability."""
    refusal = refusal or Refusal.of(retriever.reader)
    notes = bool(_ASKS_FOR_SOURCE.search(question))  # else only body passages may answer
    n = max(k, CANDIDATE_PASSAGES)
    found = retriever.candidates(question, n, sources, notes=notes)  # found once, read twice
    for depth, sure in (*STAGES, (CANDIDATE_PASSAGES, 0.0)):
        hits = retriever.read(question, found, n, depth)
        answer, p = decide(
            question, hits, retriever.index, k, refusal, given, said, likeness, asked
        )
        if answer.answerable and p >= sure:
            break
    return answer


def decide(
    question: str,
    hits: list[Hit],
    index,
    k: int,
    refusal: Refusal,
    given: Collection[str] = (),
    said: Collection[str] = (),
    likeness: keys.NameLikeness | None = None,
    asked: str = "",
) -> tuple[Answer, float]:
    """The answer that the read ones of `hits` give, and its probability of being right."""
    candidates = leads(question, hits, index, given)
    if said:  # sentence_spans per candidate: only for a follow-up that asks for something else
        fresh = [h for h in candidates if answer_sentence(h) not in said or _another(question, h, given, asked)]  # fmt: skip
        candidates = fresh or candidates
    weighed = {id(h): features(question, h, likeness) for h in candidates}
    scored = sorted(((refusal.probability(weighed[id(h)]), h) for h in candidates), key=lambda x: -x[0])  # fmt: skip
    if not scored:
        return Answer(question, REFUSAL, False, list(enumerate(hits[:k], 1)), {"reason": "no passages"}), 0.0  # fmt: skip
    passing = [(p, h) for p, h in scored if p >= refusal.threshold]
    stating = [(p, h) for p, h in passing if not unstated(question, h)]
    if stating and stating[0] is not passing[0]:  # the likeliest is a near miss
        stating = [(p, h) for p, h in stating if p >= refusal.near_share * passing[0][0]]
    answering = [(p, h) for p, h in stating if not lacks(question, h)]
    p, best = (answering or stating or passing or scored)[0]
    signals = _signals(p, best, refusal, weighed[id(best)])
    if not passing:
        return Answer(question, REFUSAL, False, list(enumerate(hits[:k], 1)), signals), p
    if not stating:
        return near_miss(question, best, hits[:k], signals), p
    if not answering:  # "when?" of sentences that state no time, "how many?" of no number
        reason = {"date": "no date stated", "number": "no figure stated"}[lacks(question, best)]
        return Answer(question, REFUSAL, False, list(enumerate(hits[:k], 1)), signals | {"reason": reason}), p  # fmt: skip
    stating = answering

    chosen = [best]
    for q, other in stating[1:2]:
        if q >= SECOND_SHARE * p and other.passage.source == best.passage.source:
            chosen.append(other)
    parts, citations = [], []
    for marker, hit in enumerate(chosen, start=1):
        parts.append(f"{answer_sentence(hit)} [{marker}]")
        citations.append((marker, hit))
    short = short_answer(best) if asks_for_thing(question) else None
    if short is not None:
        short = replace(short, page=index.page_at(short.source, short.start))
    return Answer(question, " ".join(parts), True, citations, signals, short_answer=short), p


def _another(question: str, hit: Hit, given: Collection[str], asked: str) -> bool:
    """Whether a sentence already said may answer "What else ...?" with this hit's span: a
    second figure or date beside the one given ("to capture or kill 1,700 individuals and deny
    92,000 individuals access"); else a name or a clause that neither the earlier answer nor
    the earlier question (`asked`) holds ("will increase its funding to the Erasmus+ programme,
    and will double EU support to the Fulbright-Schuman programme"; "... to assist in the
    investigation of crimes and to identify missing persons"). After "Who wrote the piece on
    X?", the sentence that named her holds nothing else of that kind: X was asked about."""
    r = hit.reading
    span = hit.passage.text[r.span[0] : r.span[1]]
    if not spans.says_something_new(question, span, (*given, asked)):
        return False
    kinds = [kind for kind in ("date", "number") for g in given if spans.fits(kind, g)]
    if kinds:
        return any(spans.holds(kind, span) for kind in kinds)
    return not (spans.fits("date", span) or spans.fits("number", span))


def _signals(p: float, best: Hit, refusal: Refusal, weighed: dict[str, float]) -> dict:
    return {
        "answer_probability": round(p, 3),
        "threshold": refusal.threshold,
        "rule": f"answer when answer_probability >= threshold ({refusal.criterion}) and the "
        "passage states the question's years and figures",
        "passage_probability": round(best.reading.probability, 3),
        "span_margin": round(best.reading.span_margin, 3),
        **{name: round(value, 3) for name, value in weighed.items() if name != "answer_logit"},
    }


def near_miss(question: str, best: Hit, related: list[Hit], signals: dict) -> Answer:
    """The refusal of a question whose years, figures or countries the evidence never states:
    what the documents do state in their place, quoted and cited, where they state one."""
    asked = unstated(question, best)[0]
    text = best.passage.text
    s, e = sentence_around(best)
    # The reader's sentence first, then the passage's others, the nearest before it first (the
    # period it belongs to), then the passage's evidence.
    others = [(a, b) for a, b in sentence_spans(text) if (a, b) != (s, e)]
    ordered = [*reversed([x for x in others if x[1] <= s]), *(x for x in others if x[1] > s)]
    texts = [text[s:e], *(text[a:b] for a, b in ordered)]
    found, sentence = None, texts[0]
    for candidate in texts:
        found = _in_place_of(asked, question, candidate)
        if found is not None:
            sentence = candidate
            break
    found = found or _in_place_of(asked, question, evidence(best))
    quoted = unmarked(sentence)
    named, instead = asked.text, found.text if found else ""
    if asked.kind in ("place", "name"):  # "the United States", not "the 2021"
        named, instead = _with_article(named, question), _with_article(instead, sentence)
    if found is None:
        said = f"The documents do not mention {named}; the closest passage says: {quoted} [1]"
    elif spans.expected_kind(question) == "number":
        said = f"The documents do not give {named}'s figure; they give {instead}'s: {quoted} [1]"  # fmt: skip
    else:
        said = f"The documents say nothing of {named}; they speak of {instead}: {quoted} [1]"  # fmt: skip
    others = [h for h in related if h.passage.id != best.passage.id]
    citations = [(1, best), *enumerate(others, start=2)]
    miss = {
        "asked": asked.text,
        "found": found.text if found else None,
        "marker": 1,
        "citation": best.to_dict()["citation"],
    }
    return Answer(question, said, False, citations, signals | {"reason": "near miss"}, near_miss=miss)  # fmt: skip


def _with_article(name: str, text: str) -> str:
    """A name as the text writes it: "the United States", "the European Defence Agency" where
    the text puts "the" before it; as it is elsewhere ("FY2024", "New Zealand")."""
    return f"the {name}" if re.search(rf"\bthe\s+{re.escape(name)}", text, re.IGNORECASE) else name


def _in_place_of(asked: keys.Key, question: str, text: str) -> keys.Key | places.Place | None:
    """What the text states where the question asks for `asked`: a year or figure of its kind,
    or another country."""
    if asked.kind == "place":
        return places.instead(question, text)
    if asked.kind == "name":
        found = names.kin(asked.text, text)
        return keys.Key("name", 0.0, found) if found else None
    return keys.nearest(asked, text)
