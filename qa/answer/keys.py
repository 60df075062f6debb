"""Keys: the quantities, times and names a question asks about, read, normalised and compared.

A question's keys are of two kinds, and they weigh differently:

- **Quantities and times** (years, fiscal years, ranges of years, dates, numbers, amounts,
  percentages, ordinals). They are normalised before they are compared, so that FY2024, fiscal
  year 2024 and FY24 are one key, 2019-20 is 2019-2020, 1st is first, and $26.1 billion is 26.1
  billion dollars. A question that names one written in figures ("FY2024", "10th", "$3 million")
  which the evidence never states in any form is a near miss: the evidence is about another
  year or amount, and qa does not answer it (qa.answer.answering). One written in words
  ("the first", "three") is often what a list implies rather than states, so it only weighs.
- **Names.** A name the passage lacks is evidence, not a veto: a question may name a short name
  for an organisation, and the reader and the calibrated refusal weigh it (`missing_names`). A
  country is a name with known forms (qa.answer.places): asked by its capital or its people
  ("Ankara", "the Japanese"), it is there where the passage names it in any form; never named
  in any form where the answer sentence names another country, the question is a near miss. So
  is a name the passage never uses a word of, where the answer sentence names another of its
  family (qa.answer.names.sibling: "European Defence Agency" of the "European Security and
  Defence Policy").
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.answer import places
from qa.answer.names import NAME_RUN
from qa.ingest.passages import sentence_spans

_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}  # fmt: skip
_WORD_NUMBERS = {w: n for n, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}  # fmt: skip
_WORD_NUMBERS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100}  # fmt: skip
_WORD_ORDINALS = {w: n for n, w in enumerate(["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"])}  # fmt: skip
_WORD_ORDINALS |= {"thirtieth": 30, "fortieth": 40, "fiftieth": 50, "hundredth": 100}
# Words that place a thing in a series without naming a number of it.
_SERIES = {"last", "latest", "next", "previous", "half", "quarter", "several", "single", "double", "twice", "dozen", "dozens", "hundreds", "thousands", "millions", "billions"}  # fmt: skip
_YEARS = r"(?:1[5-9]\d\d|20\d\d)"
_FISCAL = re.compile(
    r"\b(?:FY|fiscal\s+years?)\s*[’']?(\d{4}|\d{2})\b(?:\s*(?:-|–|—|to|through)\s*(?:FY\s*)?[’']?(\d{4}|\d{2})\b)?",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(rf"\b({_YEARS})-(\d\d)-(\d\d)\b")
_YEAR_RANGE = re.compile(rf"\b({_YEARS})\s*(?:-|–|—|/)\s*(\d{{4}}|\d\d)\b(?![-–/]\d)")
_FIGURE = re.compile(
    r"(?<![\w.,’'-])([$€£]\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"(?:\s?(%|percent\b|per\s?cent\b|st\b|nd\b|rd\b|th\b|s\b"
    r"|(?:thousand|million|billion|trillion|bn|mn|tn)\b|[kmb]\b(?![’'.]\w)))?"
    r"(?![\w-]*\d)(?!\w)",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[A-Za-z]+")
MAX_NAMES = 40  # of a passage's names compared with a question's name
# A year after these is a reference point, not what the evidence must state ("the one after 2016").
_RELATIVE = re.compile(r"\b(?:before|after)\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class Key:
    """One quantity or time, normalised: kind "year", "number", "percent", "ordinal" or "word"
    (a word that places a thing in a series), its value, and the text as written; or, by its
    text alone, a country (kind "place", qa.answer.places) or a name (kind "name",
    qa.answer.names.sibling) that a near miss asks about."""

    kind: str
    value: float
    text: str
    figure: float | None = None  # the number as written, before its scale ("26.1" of "$26.1 bn")
    written: bool = True  # written in figures: a key the evidence must state
    fiscal: bool = False
    dated: bool = False  # the year of a date written 2026-04-20 (a document's date, often)


def quantities(text: str) -> list[Key]:
    """Every quantity and time the text states, normalised, in order."""
    found: list[tuple[int, Key]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return not any(a < z and s < b for s, z in taken)

    def add(m: re.Match, keys: list[Key]) -> None:
        taken.append(m.span())
        found.extend((m.start(), k) for k in keys)

    for m in _FISCAL.finditer(text):
        first = _full_year(m.group(1))
        keys = [Key("year", first, m.group(0), fiscal=True)]
        if m.group(2):
            keys.append(Key("year", _full_year(m.group(2), first), m.group(0), fiscal=True))
        add(m, keys)
    for m in _ISO_DATE.finditer(text):
        if free(*m.span()):
            y, mo, d = (int(g) for g in m.groups())
            add(m, [Key("year", y, str(y), dated=True), Key("number", mo, m.group(0), mo), Key("number", d, m.group(0), d)])  # fmt: skip
    for m in _YEAR_RANGE.finditer(text):
        first, second = int(m.group(1)), m.group(2)
        last = _full_year(second, first)
        if free(*m.span()) and first < last <= first + 100:
            add(m, [Key("year", first, m.group(0)), Key("year", last, m.group(0))])
    for m in _FIGURE.finditer(text):
        if free(*m.span()):
            key = _figure(m)
            if key is not None:
                add(m, [key])
    for m in _WORDS.finditer(text):
        word = m.group(0).lower()
        if word in _WORD_NUMBERS:
            found.append((m.start(), Key("number", _WORD_NUMBERS[word], m.group(0), _WORD_NUMBERS[word], written=False)))  # fmt: skip
        elif word in _WORD_ORDINALS:
            found.append((m.start(), Key("ordinal", _WORD_ORDINALS[word], m.group(0), written=False)))  # fmt: skip
        elif word in _SERIES:
            found.append((m.start(), Key("word", 0, word, written=False)))
    return [k for _, k in sorted(found, key=lambda x: x[0])]


def _full_year(digits: str, after: int | None = None) -> int:
    """A year from 4 digits, or from 2 ("FY24", the "20" of "2019-20") in the century that fits."""
    if len(digits) == 4:
        return int(digits)
    if after is not None:
        return after // 100 * 100 + int(digits)
    return 2000 + int(digits)


def _figure(m: re.Match) -> Key | None:
    currency, whole, fraction, suffix = m.groups()
    figure = float(whole.replace(",", "") + (fraction or ""))
    suffix = (suffix or "").lower().replace(" ", "")
    text = m.group(0).strip()
    if suffix in ("st", "nd", "rd", "th"):
        return Key("ordinal", figure, text)
    if suffix in ("%", "percent"):
        return Key("percent", figure, text, figure)
    if suffix == "s":  # "the 1990s"; "5s" is no quantity
        return Key("year", figure, text) if _is_year(whole, fraction, currency) else None
    if suffix in _SCALES:
        if suffix in ("k", "m", "b") and not currency:  # "5 m" may be metres: a scale only after $
            return Key("number", figure, text, figure)
        return Key("number", figure * _SCALES[suffix], text, figure)
    if _is_year(whole, fraction, currency):
        return Key("year", figure, text)
    return Key("number", figure, text, figure)


def _is_year(whole: str, fraction: str | None, currency: str | None) -> bool:
    return not fraction and not currency and bool(re.fullmatch(_YEARS, whole))


def question_keys(question: str) -> list[Key]:
    """The question's quantities and times, less a year it names as a reference point ("the
    declaration after 2016")."""
    out = []
    for key in quantities(question):
        at = question.find(key.text)
        if key.kind == "year" and at >= 0 and _RELATIVE.search(question[:at]):
            continue
        out.append(key)
    return out


def states(key: Key, evidence: list[Key]) -> bool:
    """Whether the evidence states the key in any of its forms."""
    return any(_same(key, e) for e in evidence)


def _same(q: Key, e: Key) -> bool:
    if q.kind == "word" or e.kind == "word":
        return q.kind == e.kind and q.text.lower() == e.text.lower()
    if q.kind == "year" or e.kind == "year":  # "1866" may be a year or a count: equal values
        if (q.fiscal and e.dated) or (e.fiscal and q.dated):
            return False  # a report dated 2026-04-20 says nothing of fiscal year 2026
        other = e if q.kind == "year" else q
        plain = other.kind == "year" or (other.kind == "number" and other.figure == other.value)
        return plain and q.value == e.value
    if q.kind == "ordinal" or e.kind == "ordinal":
        return q.value == e.value  # "10th" is the 10th; "report number 10" too
    if _close(q.value, e.value):
        return True
    # A figure given without its scale on one side: "26.1" asked of "$26.1 billion".
    unscaled = q.figure == q.value or e.figure == e.value
    return unscaled and q.figure is not None and e.figure is not None and _close(q.figure, e.figure)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


def unstated(question: str, evidence: str) -> list[Key]:
    """The question's keys written in figures that the evidence never states in any form."""
    held = quantities(evidence)
    return [k for k in question_keys(question) if k.written and not states(k, held)]


def out_of_period(question: str, sentence: str, before: list[str]) -> list[Key]:
    """The question's fiscal years that the sentence's own period is not. A budget sentence
    belongs to the fiscal year it states or, stating none, to the one its passage last stated
    before it ("Congress appropriated $26.1 billion for FY2026 ... For the Space Force, the act
    provided $14.9 billion for RDT&E"): asked for FY2025, that sentence answers another year,
    though the passage names FY2025 further on. Calendar years are not held to this: "after the
    2014 annexation" often names an event, not the sentence's period."""
    asked = _fiscal_asked(question)
    if not asked:
        return []
    period = next((found for text in (sentence, *reversed(before)) if (found := _fiscal_years(text))), [])  # fmt: skip
    return [k for k in asked if period and not states(k, period)]


def out_of_period_in(question: str, text: str, start: int, end: int) -> list[Key]:
    """out_of_period for the sentence(s) text[start:end] of a passage, read after the
    passage's sentences before them."""
    before = [text[a:b] for a, b in sentence_spans(text) if b <= start]
    return out_of_period(question, text[start:end], before)


def ordinals_asked(question: str) -> list[Key]:
    """The ordinals a question names ("the second battery")."""
    return [k for k in question_keys(question) if k.kind == "ordinal"]


def other_ordinal(asked: list[Key], sentence: str) -> list[Key]:
    """The asked ordinals (ordinals_asked) that a sentence naming ordinals of its own never
    states: asked for "the second battery", "the Army activated this first battery ..." tells
    of another of the series. A sentence that names no ordinal is not held to this."""
    stated = [k for k in quantities(sentence) if k.kind == "ordinal"] if asked else []
    return [k for k in asked if stated and not states(k, stated)]


def asks_fiscal_year(question: str) -> bool:
    """Whether the question names a fiscal year in figures ("FY2026", "fiscal year 2026")."""
    return bool(_FISCAL.search(question)) and bool(_fiscal_asked(question))


def _fiscal_asked(question: str) -> list[Key]:
    return [k for k in question_keys(question) if k.fiscal and k.written]


# A year written bare where a budget names it: "Of the discretionary request for 2027".
_BUDGET_YEAR = re.compile(
    rf"\b(?:request(?:ed|s)?|budget(?:ed|s)?|appropriations?|appropriated|enacted|funding|funds|spending|outlays)\s+(?:for|in)\s+({_YEARS})\b",
    re.IGNORECASE,
)


def _fiscal_years(text: str) -> list[Key]:
    """The fiscal years the text states: as fiscal years, or as bare years a budget names."""
    budget = [Key("year", float(m.group(1)), m.group(0), fiscal=True) for m in _BUDGET_YEAR.finditer(text)]  # fmt: skip
    return [k for k in quantities(text) if k.fiscal] + budget


def nearest(key: Key, evidence: str) -> Key | None:
    """What the evidence states in the asked key's place: a key of its kind (a fiscal year for
    a fiscal year where there is one), the closest in value."""
    family = {"year"} if key.kind == "year" else {"number", "percent", "ordinal"}
    found = [e for e in quantities(evidence) if e.kind in family and e.written]
    if key.kind == "year":
        found = [e for e in found if e.fiscal == key.fiscal] or found
    return min(found, key=lambda e: abs(e.value - key.value), default=None)


def held_share(keys: list[Key], sentence: str) -> float:
    """The share of the keys that the sentence states (1 when there are none)."""
    if not keys:
        return 1.0
    held = quantities(sentence)
    return sum(states(k, held) for k in keys) / len(keys)


_NAME_WORD = re.compile(r"[A-Z][\w'’.-]*")
_SMALL = frozenset({"a", "an", "the", "of", "and", "for", "in", "on", "at", "to", "de", "von", "van", "der", "la", "le", "du"})  # fmt: skip


def names(question: str) -> set[str]:
    """The question's names: its capitalised words after the first, folded."""
    return {_fold(w) for w in _names(question)}


def _names(question: str) -> list[str]:
    words = re.findall(r"[\w’'.-]+", question)
    return [
        w.strip(".,'’")
        for w in words[1:]
        if _NAME_WORD.fullmatch(w) and w.lower() not in _SMALL and not any(c.isdigit() for c in w)
    ]


def missing_names(question: str, evidence: str, likeness: NameLikeness | None = None) -> float:
    """How much of the question's names the evidence lacks, from 0 (all stated) to 1 (none
    stated, nothing like them). A name the evidence never states counts as missing less the
    closer the evidence's nearest name is to it (`likeness`): "Normans" asked of a passage
    about oxygen is not there. A country the evidence names in another form ("Beijing" of a
    passage about China, qa.answer.places) is there. Evidence to weigh, never a veto."""
    wanted = {_fold(w): w for w in _names(question)}
    if not wanted:
        return 0.0
    held = {_fold(w) for w in re.findall(r"[\w’'.-]+", evidence)}
    lacking = [w for folded, w in wanted.items() if folded not in held]
    asked = [p for p in places.places(question) if lacking]
    if asked:  # a country the evidence names in another form: "Ankara" of "Türkiye"
        named = places.countries(evidence)
        same = {_fold(w) for p in asked if p.code in named for w in p.text.split()}
        lacking = [w for w in lacking if _fold(w) not in same]
    if lacking and likeness is not None:
        return sum(1.0 - likeness.nearest(w, evidence) for w in lacking) / len(wanted)
    return len(lacking) / len(wanted)


class NameLikeness:
    """Cosine similarity between a name and the evidence's nearest name, with the encoder's
    vectors of names cached (names repeat from question to question); thread-safe."""

    LIMIT = 4096  # names cached; the least recently used goes first

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def nearest(self, name: str, evidence: str) -> float:
        found = list(dict.fromkeys(m.group(0) for m in NAME_RUN.finditer(evidence)))[:MAX_NAMES]
        if not found:
            return 0.0
        vectors = self._vectors_of([name, *found])
        return max(0.0, float(np.max(vectors[1:] @ vectors[0])))

    def _vectors_of(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in known:
                self._vectors.move_to_end(t)
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            known.update(zip(new, self._encode(new), strict=True))
            with self._lock:
                self._vectors.update((t, known[t]) for t in new)
                while len(self._vectors) > self.LIMIT:
                    self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])


_TERM = re.compile(rf"\b(\d[\d,.]*\w*|{'|'.join([*_WORD_ORDINALS, *_WORD_NUMBERS, *_SERIES])})\b", re.IGNORECASE)  # fmt: skip


def terms(text: str) -> set[str]:
    """The text's names, numbers and ordinals as folded words: what a rewritten question must
    keep of the one it rewrites (qa.answer.resolution)."""
    return names(text) | {_fold(m.group(0)) for m in _TERM.finditer(text)}


def terms_held(wanted: set[str], text: str) -> float:
    """The share of the folded words that the text holds (1 when there are none)."""
    if not wanted:
        return 1.0
    held = {_fold(w) for w in re.findall(r"[\w’'.-]+", text)}
    return sum(w in held for w in wanted) / len(wanted)


def _fold(word: str) -> str:
    return word.strip(".,'’").lower().removesuffix("'s").removesuffix("’s")
