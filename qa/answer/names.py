"""Names: the runs of capitalised words in a question or an answer, and the one an answer gives.

A name is kept whole across its initials and abbreviations ("General Chance B. Saltzman",
"Martin Luther King Jr.", "the U.S. Space Force"): a full stop there ends no name and no sentence.
Which name an earlier answer gives is read from the sentence that answers, past a heading-like
label that opens it ("Membership Invitations for Finland and Sweden: On May 18, Finland and
Sweden made ..."); a person ("General ...", a middle initial) is what "he" or "she" means, and
never what "it" means.
"""

from __future__ import annotations

import difflib
import re

from qa.answer import places
from qa.ingest.passages import sentence_spans

# Abbreviations that belong to the name around them: an initialism ("U.S."), an initial before
# the next name ("B. Saltzman"), a title or a suffix ("Dr.", "Jr.").
_ABBREVIATION = r"(?:[A-Z]\.){2,}|[A-Z]\.(?=\s+[A-Z])|\b(?:Jr|Sr|St|Dr|Mr|Mrs|Ms|Gen|Lt|Col|Adm|Sgt|Sen|Rep|Gov|Prof)\."  # fmt: skip
WORD = re.compile(rf"{_ABBREVIATION}|[\w’'-]+|[?,;:]")
_NAME_WORD = rf"(?:{_ABBREVIATION}|[A-Z][\w’'-]*)"
NAME_RUN = re.compile(
    rf"(?<![\w’']){_NAME_WORD}(?:\s+(?:(?:and|of|the|for|de|von|der|&)\s+)*{_NAME_WORD})*"
)
# Word classes the readings of a question share.
DETERMINERS = {"the", "a", "an"}
PREPOSITIONS = {"in", "on", "at", "by", "for", "with", "from", "to", "into", "during", "after", "before", "since", "under", "over", "about", "against", "through", "within", "without", "among", "between", "as"}  # fmt: skip
YEAR = re.compile(r"(?<![\d.,])(?:1[5-9]|20)\d\d(?![\d.,]\d|\d)")  # also inside "FY2026"
_QUOTED = re.compile(r"[“\"‘]([^”\"’]{3,80})[”\"’]")
_CALENDAR = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday"}  # fmt: skip
# Words that open a person's name: ranks, offices and forms of address.
_TITLES = {"general", "gen.", "admiral", "adm.", "colonel", "col.", "lieutenant", "lt.", "sergeant", "sgt.", "president", "vice", "prime", "secretary", "chief", "senator", "sen.", "representative", "rep.", "governor", "gov.", "ambassador", "minister", "chancellor", "king", "queen", "prince", "princess", "pope", "judge", "justice", "speaker", "mr.", "mrs.", "ms.", "dr.", "prof.", "professor", "sir", "dame", "lord", "lady"}  # fmt: skip
_INITIAL = re.compile(r"\b[A-Z][a-z]+\s+(?:[A-Z]\.\s+)+[A-Z][a-z]|\b(?:Jr|Sr)\.")
_LABEL_WORDS = {"and", "or", "of", "for", "the", "a", "an", "in", "on", "to", "with", "&"}


def words(text: str) -> list[str]:
    return WORD.findall(text)


# The head of an organisation's or an agreement's name, which may list its fields with commas.
_BODY = re.compile(r"\b(?:Committee|Subcommittee|Department|Agency|Office|Council|Commission|Bureau|Board|Authority|Administration|Ministry|Compact|Agreement|Accord|Treaty|Framework|Partnership|Initiative|Strategy|Act)$")  # fmt: skip


def is_name(text: str) -> bool:
    """Whether the text is one name and nothing else ("Tornado Cash", "Pakistan", "Golden Dome
    for America (GDA)"), not a year, a month or a clause."""
    name = re.sub(r"\s*\([A-Z][\w.&-]*\)$", "", text.strip())
    if _BODY.search(name):  # "the Senate Banking, Housing, and Urban Affairs Committee"
        name = re.sub(r",\s+(?:and\s+)?(?=[A-Z])", " ", name)
    return (
        bool(NAME_RUN.fullmatch(name)) and not YEAR.search(name) and name.lower() not in _CALENDAR
    )


def is_person(name: str) -> bool:
    """Whether a name reads as a person's: titles and then a name open it ("General Chance
    Saltzman", not the office "Secretary of the Air Force"), or a middle initial or a "Jr."
    sits in it."""
    parts = name.split()
    rest = next((i for i, w in enumerate(parts) if w.lower() not in _TITLES), len(parts))
    titled = 0 < rest < len(parts) and parts[rest][:1].isupper()
    return titled or bool(_INITIAL.search(name))


def is_office(name: str) -> bool:
    """Whether a name is an office rather than the person holding it ("Secretary of the Air
    Force", "Vice President")."""
    return bool(name.split()) and name.split()[0].lower() in _TITLES and not is_person(name)


def answering_sentence(answer: str) -> str:
    """The answer's first sentence, endnote markers aside and past a heading-like label that
    opens it (a run of capitalised words closed by a colon or a full stop)."""
    text = re.sub(r"\[\d+\]", "", answer).strip()
    spans = sentence_spans(text)
    if not spans:
        return text
    first = text[spans[0][0] : spans[0][1]]
    if len(spans) > 1 and _is_label(first.rstrip(".:")):  # "Lebanon. U.S.-Israeli strikes ..."
        first = text[spans[1][0] : spans[1][1]]
    label = re.match(r"([^:]{3,80}):\s+(?=\S)", first)
    if label and _is_label(label.group(1)):
        first = first[label.end() :]
    return first


def _is_label(text: str) -> bool:
    found = words(text)
    return 0 < len(found) <= 8 and all(w[:1].isupper() or w in _LABEL_WORDS for w in found)


def answer_entity(
    answer: str, previous: str, person: bool = False, plural: bool = False
) -> str | None:
    """The thing an earlier answer named that its question (`previous`) did not: a quoted title,
    or a name (the longest; a capitalised word opening the sentence is no name unless it is an
    acronym). With `person`, a person's name first and no quoted title; with `plural`, names
    joined by "and" first."""
    if not answer:
        return None
    first = answering_sentence(answer)
    known = {w.lower().removesuffix("’s").removesuffix("'s") for w in words(previous)}
    for m in [] if person else _QUOTED.finditer(first):
        if m.group(1).lower() not in previous.lower():
            return m.group(1).strip(" ,.")
    names = []
    for m in NAME_RUN.finditer(first):
        name = re.sub(r"^(?:The|In|A|An|It|This|At|On)\s+", "", m.group().strip())
        name = re.sub(r"[’']s$", "", name)
        if not name or (m.start() == 0 and " " not in name and not name.isupper()):
            continue
        new = [w for w in words(name) if w.lower() not in known | {"and", "of", "the"}]
        if new and not YEAR.fullmatch(name) and name.lower() not in _CALENDAR:
            names.append(name)
    if plural and (listed := _listed_names(first, known)):
        return listed  # "the United States, Canada, Germany, and the UK": all of them
    first_choice = is_person if person else (lambda n: plural and " and " in n)
    return max(names, key=lambda n: (first_choice(n), len(n.split())), default=None)


_LIST_GAP = re.compile(r"\s*,\s*(?:and\s+|or\s+)?(?:the\s+)?|\s+(?:and|or)\s+(?:the\s+)?")


def _listed_names(sentence: str, known: set[str]) -> str | None:
    """The longest list of three or more names the sentence gives one after another ("the United
    States, Canada, Japan, and the UK"), where the question did not name them all."""
    runs, best = [], None
    for m in NAME_RUN.finditer(sentence):
        if runs and _LIST_GAP.fullmatch(sentence[runs[-1].end() : m.start()]):
            runs.append(m)
            continue
        best = max((best, runs), key=lambda r: len(r or []))
        runs = [m]
    best = max((best, runs), key=lambda r: len(r or []))
    if not best or len(best) < 3:
        return None
    text = sentence[best[0].start() : best[-1].end()]
    if all(w.lower() in known for w in words(text) if w[:1].isupper()):
        return None
    return re.sub(r"^(?:The|In|A|An)\s+", "", text)


# Words a name's run may hold that tell nothing of which one it is.
_JOINERS = {"and", "of", "the", "for", "de", "von", "der", "&", "a", "an", "in", "on", "to"}


def _content(run: str) -> list[str]:
    """A name's words as compared: folded, a country in any form as its code (qa.answer.places:
    "Japanese" and "Japan" are one word here), joiners aside."""
    for place in places.places(run):  # "United States" is one word, "US"
        run = run.replace(place.text, f" {place.code} ")
    out = []
    for w in re.findall(r"[\w’'.-]+", run):
        folded = w.strip(".,’'").lower().removesuffix("’s").removesuffix("'s")
        if folded and folded not in _JOINERS:
            out.append(folded)
    return out


def sibling(question: str, evidence: str, sentence: str) -> str | None:
    """A name of two words or more the question asks about that the evidence never states (a
    word of it the evidence never uses, nor its initials), where the answer sentence names
    another of the same family (`kin`): "European Defence Agency" asked of the sentence on the
    "European Security and Defence Policy". The asked name, else None."""
    runs = []
    for m in NAME_RUN.finditer(question):
        run = m.group(0)
        if m.start() == 0:  # "When", "What": the question's first word opens no name
            run = run.split(" ", 1)[1] if " " in run else ""
        if len(asked := _content(run)) >= 2 and not YEAR.search(run):
            runs.append((run, asked))
    held = set(_content(evidence)) if runs else set()  # the evidence read only where it counts
    joined = re.sub(r"\s+", "", evidence).lower() if runs else ""
    for run, asked in runs:
        initials = "".join(w[0] for w in asked if w[:1].isalpha()).upper()
        lacking = {w for w in asked if not _used(w, held, joined)}
        if not lacking or re.search(rf"\b{re.escape(initials)}\b", evidence):
            continue
        if kin(run, sentence, lacking=lacking) is not None:
            return re.sub(r"[’']s$", "", run)
    return None


def _used(word: str, held: set[str], joined: str) -> bool:
    """Whether the evidence (its words `held`; `joined`, folded without spaces) uses the word:
    as it is, misspelt ("ARPNET" for "ARPANET") or run together ("UserDatagram")."""
    if word in held or word in joined:
        return True
    return bool(difflib.get_close_matches(word, held, n=1, cutoff=0.8))


def kin(name: str, text: str, lacking: set[str] | None = None) -> str | None:
    """The first name in the text of the same family as `name`: sharing a word with it and
    holding one it lacks, and none of `lacking` (the words of it the evidence never uses)."""
    asked = set(_content(name))
    for m in NAME_RUN.finditer(text):
        theirs = set(_content(m.group(0)))
        if theirs & asked and theirs - asked and not (lacking or set()) & theirs:
            return re.sub(r"^(?:The|A|An)\s+", "", m.group(0))
    return None
