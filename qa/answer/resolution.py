"""Resolution: the readings of a follow-up question, for the reader to choose between.

The rules (qa.answer.followups) write one standalone query. Beside it:

- the conversation: the earlier turn's query and its answer beside the new question, a second
  query whose candidates are fused with the rewrite's (qa.search.retrieval.ContextRetriever),
  so that a poor rewrite no longer loses the passage the conversation is about;
- where the question asks for another of a series ("the second one", "the one before it", "the
  others"), the earlier question's subject with the new selector, placed by the earlier
  answer's own short answer (the reader's span of it, or the client's `short_answer`): "the
  joint declaration before 2023". Each reading is answered and the reader's calibrated answer
  probability chooses.
- where it asks for one by its place ("the second one", "the last of them") and the earlier
  answer gave a list of as many items as the question counted, that item itself: "What does
  Space Training and Readiness Command (STARCOM) do?"; where the answer only opened a list that
  its document goes on to give (bullets, or labelled paragraphs after a colon: qa.answer.lists),
  the item there. Such a reading is read first and taken where it answers ("sure").
- where "that" or "this" is a verb's subject or object after a question about an event ("When
  did Australia adopt the 1931 Statute of Westminster?" + "What did that give it?"), the event:
  "What did adopting the 1931 Statute of Westminster give Australia?".
- where an LLM is configured, the question as the model wrote it standing alone, where it passes
  `checked`: its names and numbers all said in the conversation, the question's own kept, and
  something of the earlier turns brought in; a rewrite that fails is dropped, never searched.
- what the earlier turn answered (its short answer): a follow-up's answer says something beyond
  it (qa.answer.spans), so "And the one before?" after "2023" is not answered "2023" again.

Other readings of a pronoun (the earlier short answer, the earlier subject) were tried and
dropped: on benchmarks/conversations.jsonl they changed no hit for the better and lost one
(b11), and they cost about 70 ms a follow-up (benchmarks/followups.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from qa.answer import lists, spans
from qa.answer.conversation import READ_TURNS, Turn, standalone
from qa.answer.followups import pointer, refer
from qa.answer.keys import terms, terms_held
from qa.answer.names import DETERMINERS, PREPOSITIONS, answering_sentence, is_name
from qa.answer.questions import BE, asked_plural, subject_of
from qa.answer.quoting import unmarked
from qa.answer.series import member, reselect
from qa.index.lexical import tokenize
from qa.ingest.documents import MARKER
from qa.ingest.passages import sentence_spans
from qa.models.reading import Reader

# a sentence, and the things asked for -> the items of the list on them it opens (qa.answer.lists)
Following = Callable[[str, str], list[str]]
MAX_WRITTEN = 300  # a standalone question; a longer reply is the model answering instead
_REFUSED = re.compile(r"does not answer|not in the corpus", re.IGNORECASE)
# "the second one", "the one before it", "the previous ones", "the others": one of the series
# the earlier question was about, so its subject with the new selector.
_ONE = re.compile(
    r"\b(?:the|that)\s+(?:(?P<rel>\w+)\s+)?ones?\b(?:\s+of\s+(?:them|those|these)\b)?"
    r"(?:\s+(?P<dir>before|after)(?:\s+(?:it|that|this))?)?"
    r"|\bthe\s+others\b",
    re.IGNORECASE,
)
_SERIES = {"first", "second", "third", "fourth", "fifth", "last", "latest", "previous", "next", "other", "earlier", "later", "before", "after"}  # fmt: skip
# asks for what was not answered yet; not "other", which often asks for the rest of a list the
# sentence already said gave ("And what other strategic subject?": space, beside the technologies)
_ELSE = re.compile(r"\b(?:else|another)\b", re.IGNORECASE)
# "Besides those, what else ...?": every thing the earlier answer named is set aside ("besides
# passing those" sets aside one act, beside which its sentence may name another).
_ALL_ASIDE = re.compile(
    r"\b(?:besides|other\s+than|apart\s+from|aside\s+from|except(?:\s+for)?|in\s+addition\s+to)"
    r"\s+(?:those|them|these|all\s+(?:those|these|of\s+them))\b",
    re.IGNORECASE,
)
# "How did that end up?", "What happened next?": what followed what was said, never it again.
_SEQUEL = re.compile(
    r"\bhow\s+did\s+(?:it|that|this|they)\s+end\b|\bend(?:ed)?\s+up\b|\bwhat\s+(?:happened|came)\s+"
    r"(?:next|then|after(?:wards|\s+that|\s+it)?|of\s+(?:it|that|this))\b|\bwhat\s+was\s+the\s+(?:outcome|result)\b",
    re.IGNORECASE,
)
_PREPOSITIONS_AFTER = {"on", "about", "of", "for", "in", "from", "by", "with", "to"}
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# "the second one", "the last of them", "And the third?": a place in a list.
_PLACES = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5, "last": -1}
_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_POSITION = re.compile(
    rf"(?:\bthe\s+|\b(?:listed|named|mentioned|given|comes?|came)\s+)(?P<place>{'|'.join(_PLACES)})"
    r"(?:\s+(?:one|item|entry|of\s+(?:them|those|these)(?:\s+[a-z]+)?)\b|(?=\s*[?.!]*\s*$)"
    r"|(?=\s+(?:on|in)\s+(?:the|that|this)\s+list\b))",
    re.IGNORECASE,
)
# What else a follow-up that only asks which item is at that place may say: "Which one is listed
# second?", "What was the second of those?", "Which one comes last on that list?".
_ONLY_WHICH = re.compile(
    r"^\W*(?:(?:and|but|so)\s+)?(?:(?:what|which)(?:\s+one)?(?:\s+(?:is|was|'s|’s))?(?:\s+it)?)?\s*$"
    r"|^\s*(?:on|in)\s+(?:the|that|this)\s+list\s*[?.!]*\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Rewrite:
    """One way to read a follow-up: the query to search, and what its pointer was taken as."""

    query: str
    pointer: str | None = None  # the word that points back ("it")
    referent: str | None = None  # what it was taken to mean
    written: bool = False  # written by the LLM
    sure: bool = False  # an item its list names ("the second one"): taken where it answers

    @property
    def taking(self) -> str | None:
        if self.written:
            return f"Reading the question as '{self.query}'"
        if not (self.pointer and self.referent):
            return None
        return f"Taking '{self.pointer}' as {self.referent}"


@dataclass(frozen=True)
class Readings:
    """A follow-up's readings (the rules' first), the conversation queries whose candidates join
    each reading's, and what the conversation has already answered."""

    rewrites: list[Rewrite]
    context: list[str] = field(default_factory=list)
    given: tuple[str, ...] = ()
    said: tuple[str, ...] = ()  # sentences the answer may not repeat ("What else did she write?")
    asked: str = ""  # the earlier question, where `said` is given: what is already known


def readings(question: str, turns: Sequence[Turn], reader: Reader, written: str | None = None, following: Following | None = None) -> Readings:  # fmt: skip
    """The readings of `question` asked after `turns`; `written`: the LLM's standalone question;
    `following`: the items of the list a sentence opens in its document (qa.answer.lists)."""
    rule = standalone(question, turns)
    if not turns:
        return Readings([Rewrite(rule)])
    turns = list(turns)[-READ_TURNS:]
    last = turns[-1]
    earlier = standalone(last.question, turns[:-1])
    refused = not last.answer or bool(_REFUSED.search(last.answer))
    short = "" if refused else (last.short_answer or _short_answer(earlier, last.answer, reader))
    context = [f"{earlier} {short} {question}".strip()]
    points = pointer(question, earlier, "" if refused else last.answer)
    acted_on = short or ("" if refused else _object_of(earlier, last.answer))
    thing = (short if is_name(short) else _acted_on(earlier, acted_on, points[0])) if points else ""
    referred = refer(question, earlier, thing) if thing else None
    if referred:
        # The thing a "which" question was answered with is its short answer where that is a
        # name, not the longest name of its sentence: "Tornado Cash", not "the U.S. Treasury's
        # Office of Foreign Assets Control" that sanctioned it.
        rule, points = referred, (points[0], thing)
    word, referent = points or (None, None)
    found = [Rewrite(rule, word, referent)]
    series = _one_of_series(question, earlier, short) or _event(question, word, earlier, turns)
    item = None if refused else _listed(question, earlier, last.answer, following)
    for other in (series, item):
        if other and other.query not in {r.query for r in found}:
            found.append(other)
    if item and item.sure:  # the place in a list the answer gave or opened: read it first
        found.sort(key=lambda r: not r.sure)
    written = checked(written or "", question, turns)
    if written and written not in {r.query for r in found}:
        found.insert(0, Rewrite(written, written=True))
    sequel = bool(_SEQUEL.search(question))
    said = () if refused or not (_ELSE.search(question) or sequel) else _sentences(last.answer)
    given = (short,) if short else ()
    if said and (sequel or _ALL_ASIDE.search(question)):  # "besides those", "how did it end?"
        given = (*given, *said)  # all it said, not one thing
    return Readings(found, context, given, said, earlier if said else "")


# "What did Turkey, Sweden and Finland sign?": the answer is what the subject acted on.
_ACTED_ON = re.compile(r"^\s*(?:what|which)\s+(?:\w+\s+)?(?:did|does|do|has|have|had|will|would)\b", re.IGNORECASE)  # fmt: skip


def _acted_on(earlier: str, short: str, word: str) -> str:
    """The thing, as a noun phrase, that a "what did X <verb>" question was answered with, where
    a singular "that"/"it" then means it ("What will that pave the way for?" after "What did they
    sign?": the agreement, not the country its sentence names first); "" otherwise."""
    words = short.split()
    if word.lower() not in ("that", "it", "this") or not _ACTED_ON.match(earlier):
        return ""
    if not 1 <= len(words) <= 6 or any(c.isdigit() for c in short) or not short[:1].islower():
        return ""
    return short if words[0].lower() in ("the", "a", "an", "its", "their") else f"the {short}"


_FUNCTION = "(?:" + "|".join(sorted(DETERMINERS | PREPOSITIONS | BE | {"of", "that", "which", "and", "or"})) + ")"  # fmt: skip


def _object_of(earlier: str, answer: str) -> str:
    """What the answer's sentence says the earlier question's verb was done to, where the reader
    gave no short answer: "the trilateral agreement" of "... welcomes the trilateral agreement
    signed on June 28 by Turkey, Sweden, and Finland" after "What did Turkey, Sweden, and
    Finland sign?"; "" where it names none."""
    asked, doer = _ACTED_ON.match(earlier), subject_of(earlier)
    at = earlier.find(doer, asked.end()) + len(doer) if asked and doer and doer in earlier else 0
    verb = at and re.search(rf"\b(?!{_FUNCTION}\b)([a-z]{{3,}})\b", earlier[at:])
    if not verb:
        return ""
    stem = verb.group(1).removesuffix("e")  # "sign", "agre(e)", "adopt"
    phrase = rf"(?:the|a|an)\s+(?:(?!{_FUNCTION}\b)[\w-]+\s+){{0,3}}(?!{_FUNCTION}\b)[\w-]+"
    sentence = answering_sentence(answer)
    doers = {w.lower() for w in re.findall(r"[\w-]+", doer)} - {"the", "a", "an"}
    before = re.search(rf"({phrase})\s+(?:that\s+was\s+|which\s+was\s+)?{stem}\w*\b", sentence)
    if before and not doers & {w.lower() for w in before.group(1).split()}:
        return before.group(1)  # "the agreement signed by ...", not "the council adopted ..."
    after = re.search(rf"\b{stem}\w*\s+({phrase})", sentence)
    return after.group(1) if after else ""


def checked(written: str, question: str, turns: Sequence[Turn]) -> str | None:
    """The LLM's standalone question where it keeps to the conversation: a question of at most
    MAX_WRITTEN characters whose names and numbers were all said, that keeps the question's own,
    and that brings in a word of the earlier turns (else it resolved nothing)."""
    written = " ".join(written.split())
    if not written.endswith("?") or len(written) > MAX_WRITTEN:
        return None
    earlier = " ".join(f"{t.question} {t.answer} {t.short_answer}" for t in turns)
    if terms_held(terms(written), f"{question} {earlier}") < 1.0:
        return None  # a name or number nobody said
    if terms_held(terms(question), written) < 1.0:
        return None  # the question's own dropped
    brought = set(tokenize(written)) - set(tokenize(question))
    return written if brought & set(tokenize(earlier)) else None


def _one_of_series(question: str, earlier: str, short: str = "") -> Rewrite | None:
    """'When was the latest X published?' + 'And the one before it?' -> 'the previous X', or
    'the X before 2023' where the earlier answer was the year 2023."""
    one, about = _ONE.search(question), subject_of(earlier)
    if not (one and about):
        return None
    rest = question[one.end() :].split()
    if (
        not (one.group("rel") or one.group("dir"))
        and rest
        and rest[0].lower() in _PREPOSITIONS_AFTER
    ):
        return None  # "The one on strengthening the industry?": the rules put it in the subject
    relation = (one.group("rel") or one.group("dir") or "other").lower()
    if relation not in _SERIES:
        return None
    relation = {"before": "previous", "earlier": "previous", "after": "next", "later": "next"}.get(relation, relation)  # fmt: skip
    year = _YEAR.search(short)
    if year and relation in ("previous", "next"):
        relation = f"{'before' if relation == 'previous' else 'after'} {year.group()}"
    # one of them: singular
    singular = relation in _SERIES and relation != "other" and not one.group(0).lower().endswith("ones")  # fmt: skip
    phrase = member(about, relation, singular)
    return _placed(question, one, earlier, about, phrase, singular)


# "When did Australia adopt the 1931 Statute of Westminster?": an event, which a following
# "that" ("What did that give it?") may mean rather than the thing it was about.
_EVENT = re.compile(
    r"^\s*(?:when|where|why|how)\s+(?:did|does|do|has|have|had)\s+(?P<rest>.+?)\s*\?*\s*$",
    re.IGNORECASE,
)


def _event(question: str, word: str | None, earlier: str, turns: Sequence[Turn]) -> Rewrite | None:  # fmt: skip
    """'When did Australia adopt the 1931 Statute of Westminster?' + 'What did that give it?'
    -> 'What did adopting the 1931 Statute of Westminster give Australia?': "that" as the event
    the earlier question asked about, its subject's other pointers read as the rules read them."""
    m, about = _EVENT.match(earlier), subject_of(earlier)
    if not (m and about and word and word.lower() in ("that", "this")):
        return None
    rest = m.group("rest")
    if not rest.lower().startswith(about.lower() + " "):
        return None
    verb, _, tail = rest[len(about) + 1 :].partition(" ")
    adverb = ""
    if verb.lower() in _ADVERBS or verb.endswith("ly"):  # "first test": "first testing"
        adverb, (verb, _, tail) = f"{verb} ", tail.partition(" ")
    if not verb.isalpha() or not verb.islower():
        return None
    event = f"{adverb}{_gerund(verb)} {tail}".strip()
    at = re.search(rf"\b{re.escape(word)}\b", question)
    before = question[: at.start()].split()
    if before and before[-1].lower() in _PREPOSITIONS_AFTER | {"before", "after", "since", "until"}:
        return None  # "two years before that": its time, which the rules read
    asked = question[: at.start()] + event + question[at.end() :]
    return Rewrite(standalone(asked, turns), word, event)


_ADVERBS = {"first", "last", "also", "ever", "never", "still", "just", "already", "again", "then", "once"}  # fmt: skip


def _gerund(verb: str) -> str:
    """adopt -> adopting, decide -> deciding, agree -> agreeing, apply -> applying."""
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    if re.fullmatch(r"[^aeiou]*[aeiou][bdgmnpt]", verb):  # one short syllable: stop -> stopping
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _listed(question: str, earlier: str, answer: str, following: Following | None = None) -> Rewrite | None:  # fmt: skip
    """'What are the Space Force’s three field commands?', answered by a list, + 'What does the
    second one do?' -> 'What does Space Training and Readiness Command (STARCOM) do?': the item
    at that place in the list the earlier answer gave; or, where the answer only opened a list
    that its document goes on to give ("... included the following:", then bullets), the item
    there: 'What does The National Security Space Launch (NSSL) program do?'."""
    at, about = _POSITION.search(question) or _named_place(question, earlier), subject_of(earlier)
    if not at:
        return None
    place = _PLACES[at.group("place").lower()]
    head = re.split(r"\s(?:of|on|in|for|to|from|with|about|between)\s", about or "")[0]
    if about and re.search(r"[^s’']s$", head):  # one of a plural subject
        items = _items(answering_sentence(answer))
        count = next((_COUNT[w] for w in about.lower().split() if w in _COUNT), len(items))
        if len(items) >= 2 and count == len(items) and place < len(items):
            return replace(_placed(question, at, earlier, about, items[place], singular=True), sure=True)  # fmt: skip
    said = _sentences(answer)
    listed = following(said[-1], asked_plural(earlier) or "") if following and said else []
    if not -len(listed) <= place < len(listed):
        return None
    phrase = lists.head(listed[place])
    pointed = at.group(0)
    if not question[at.end() :].strip(" ?.!") or not about:  # "And the third one?": the item
        return Rewrite(f"What about {phrase}?", pointed, phrase, sure=True)
    return Rewrite(question[: at.start()] + phrase + question[at.end() :], pointed, phrase, sure=True)  # fmt: skip


_PLACE_NAMED = re.compile(rf"\bthe\s+(?P<place>{'|'.join(_PLACES)})\s+(?P<noun>[a-z]+)\b", re.IGNORECASE)  # fmt: skip


def _named_place(question: str, earlier: str) -> re.Match | None:
    """A place in a list named by what the earlier question asked, where the question asks only
    which it is: "What was the second recommendation?" after "What actions did the Commerce
    Secretary recommend?" (not "What did the last recommendation add ...?")."""
    found = _PLACE_NAMED.search(question)
    if not found or not _ONLY_WHICH.match(question[: found.start()]) or question[found.end() :].strip(" ?.!"):  # fmt: skip
        return None
    noun = tokenize(found.group("noun"))
    return found if noun and noun[0] in tokenize(earlier) else None


def _items(sentence: str) -> list[str]:
    """The items of the list a sentence gives after "are", "include" or a colon: split at
    semicolons where it has them ("A (CFC), previously B; C; and D", each item up to its first
    comma), else at commas and a last "and"."""
    opens = re.search(r"\b(?:are|were|include|includes|included)\s+|:\s+", sentence)
    if not opens:
        return []
    rest = sentence[opens.end() :].strip().rstrip(".")
    if ";" in rest:
        items = [part.split(", ")[0] for part in re.split(r";\s*(?:and\s+|or\s+)?", rest)]
    else:
        items = re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+(?=[^,]*$)", rest)
    items = [i.strip() for i in items if i.strip()]
    return items if all(len(i.split()) <= 12 for i in items) else []


def _placed(question: str, found: re.Match, earlier: str, about: str, phrase: str, singular: bool) -> Rewrite:  # fmt: skip
    """`question` with `phrase` for the words that pointed back; where those words were all it
    said ("And the second one?"), the earlier question asked of `phrase`."""
    lead = re.sub(r"^\W*(?:(?:and|but|so)\s+)?(?:(?:what|how)\s+about\s+)?", "", question[: found.start()], flags=re.I)  # fmt: skip
    pointed = found.group(0)
    rest = question[found.end() :].strip(" ?.!")
    if (not lead and not rest) or (_ONLY_WHICH.match(question[: found.start()]) and (not rest or _ONLY_WHICH.match(rest))):  # fmt: skip
        return Rewrite(reselect(earlier, about, phrase, singular), pointed, phrase)
    return Rewrite(question[: found.start()] + phrase + question[found.end() :], pointed, phrase)


def _sentences(answer: str) -> tuple[str, ...]:
    text = unmarked(answer)
    return tuple(text[a:b] for a, b in sentence_spans(text))


def _short_answer(query: str, answer: str, reader: Reader) -> str:
    """The reader's answer span in the earlier answer, read with the earlier query and chosen
    as answering chooses it (qa.answer.spans: the kind asked for first), so that a "how many"
    question's answer is its figure, not the agency its sentence names first."""
    text = MARKER.sub("", answer)
    (reading,) = reader.read(query, [text])
    reading = spans.choose(query, text, reading, idf=lambda term: 1.0) or reading
    a, b = reading.span
    # only where the reader finds an answer there at all (P > 0.5)
    return text[a:b].strip(" ,.;:") if reading.answer_logit > 0 else ""
