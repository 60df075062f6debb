"""Follow-ups: a question that leans on earlier turns rewritten into a standalone query.

No model is involved. A question is read for the cues that make it lean on earlier turns, and
only then rewritten; a question without them is searched exactly as typed.

- "What about 2018?", "And Germany?", "And the one before?", a bare noun phrase: the earlier
  query is asked again with the new thing put in place of the one of the same kind (a year for a
  year, a name for a name, "the one before" for the earlier subject, any other phrase for the
  earlier subject).
- A pronoun or demonstrative ("it", "they", "its", "this policy", "he"): the referent is the thing
  the earlier answer gave (after a "what"/"which"/"who" question) or else the earlier question's
  subject; a pronoun is replaced by it where that reads cleanly, otherwise the referent's words
  are added in brackets.
- A bare question word ("Why?", "When?"): the earlier query with its question word swapped.
"""

from __future__ import annotations

import re

from qa.answer.names import (
    DETERMINERS,
    NAME_RUN,
    PREPOSITIONS,
    WORD,
    YEAR,
    answer_entity,
    answering_sentence,
    is_office,
    is_person,
)
from qa.answer.names import words as _words
from qa.answer.questions import (
    AUX,
    BOUNDARY,
    TIME_NOUNS,
    WH,
    agent_of,
    asked_kind,
    asked_plural,
    asks_for_thing,
    content_of,
    first_name,
    frame_end,
    is_name_word,
    joined_doers,
    last_noun_phrase,
    plural_object,
    subject_of,
)
from qa.answer.series import ORDINALS, drop_selectors, member, relative_subject, reselect

_DEMONSTRATIVES = {"this", "that", "these", "those"}
# Words that end an ellipsis without naming its thing ("And in lending protocols alone?").
_TRAILING = {"alone", "only", "too", "instead", "overall", "then", "now", "as", "well"}
_MORE_PREPOSITIONS = {"across", "throughout", "toward", "towards", "per", "via", "outside", "inside", "beyond", "near", "around", "among", "amongst"}  # fmt: skip
_PICKS = {"one", "which", "each", "any", "some", "all", "both", "none", "most", "many", "few"}
_OBJECT_PRONOUNS = {"it", "they", "them"}
_POSSESSIVES = {"its", "their"}
_PERSONAL = {"he", "him", "she", "her", "his", "hers"}
_LEADS = re.compile(r"^(?:and|but|so|also|ok|okay|then|now|well)\b[\s,]*", re.IGNORECASE)
_ABOUT = re.compile(
    r"^(?:(?:and|but|so)\s+)?(?:what|how)\s+about\s+(?P<x>.+)$|^(?:and|also|or|same\s+for|now)\s+(?P<y>.+)$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
# "..., besides that?", "other than those": the earlier answer, set aside; what the question
# asks is read without it (the answerer passes over what was given and said: qa.answer.resolution).
_BESIDES = re.compile(
    r"[\s,]*\b(?:besides|other\s+than|apart\s+from|aside\s+from|except(?:\s+for)?|in\s+addition\s+to)"
    r"\s+(?:\w+ing\s+)?(?:that|those|this|these|it|them)\b",  # "besides passing those"
    re.IGNORECASE,
)
# "that year", "the same month": the one time the earlier question named ("in 2018").
_THAT_TIME = re.compile(
    r"\b(?:(?:in|during|for|over)\s+)?(?:that|this|the\s+same)\s+(?:year|month|fiscal\s+year)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:between|from)\s+(?:[\w,]+\s+){0,3}?(?:FY\s?)?(?:1[89]|20)\d\d\s+(?:and|to|through)\s+(?:[\w,]+\s+){0,3}?(?:FY\s?)?(?:1[89]|20)\d\d\b"
    r"|\b(?:in|on|during|since|by|for|as\s+of)\s+(?:[A-Z][a-z]+\s+)?(?:\d{1,2},?\s+)?(?:FY\s?|fiscal\s+year\s+)?(?:1[89]|20)\d\d\b",
    re.IGNORECASE,
)
_REFUSALS = ("does not answer", "doesn't answer", "not in the corpus", "cannot answer")
# "Who's in charge in that office now?", "Who holds that post?": the person in the office the
# earlier answer named.
_HOLDS = re.compile(
    r"^\W*(?:(?:and|so|ok)\s+)?who(?:['’]s|\s+is|\s+was)?\s+(?:currently\s+)?"
    r"(?:in\s+charge\s+(?:in|of)|holds?|holding|occupies|fills?|heads?|leads?|runs?)\s+"
    r"(?:that|this)\s+(?:office|post|position|role|job|seat)\b",
    re.IGNORECASE,
)


def resolve(question: str, earlier: list[tuple[str, str]]) -> str:
    if not earlier:
        return question
    previous, answer = earlier[-1]
    if _is_refusal(answer):
        answer = ""
    text = _BESIDES.sub("", question.strip()).strip(" ,")
    times = list(_TIME.finditer(previous)) or list(_TIME.finditer(answer))  # asked, or answered
    if len(times) == 1 and not re.match(r"between|from", times[0].group(0), re.IGNORECASE):
        time = times[0].group(0)
        text = _THAT_TIME.sub(time[:1].lower() + time[1:], text)
    text = text[:1].upper() + text[1:]
    plain = question if text == question.strip() else text  # as typed, unless set aside
    words = _words(text)
    lower = [w.lower() for w in words]

    if _HOLDS.match(text) and (office := _office_named(answer)):
        return f"Who is the current {office}?"

    # "Why?", "When?": the earlier question, asked with this question word.
    if lower and lower[0] in WH and len([w for w in lower if w != "?"]) == 1:
        return _swap_question_word(previous, text)

    about = _ABOUT.match(text.rstrip(" ?.!"))
    if about:
        rest = (about.group("x") or about.group("y") or "").strip()
        rest_words = [w.lower() for w in _words(rest)]
        if rest and not (set(rest_words) & (WH | AUX)):
            part = _words(rest)
            i = next((j for j in range(len(part)) if _part(part, j)), None)
            if i is not None and (asked := asked_plural(previous)):  # "And the last of them?"
                return (
                    f"Which is {_replace_anaphor(rest, part, i, previous, answer, f'the {asked}')}?"
                )
            return _substitute(previous, rest)
        text = _LEADS.sub("", text) or text  # "And when was it published?": read without the "and"
        text = text[:1].upper() + text[1:]
        words = _words(text)
        lower = [w.lower() for w in words]

    if set(lower) & WH and _elliptical(lower):  # "Since when?", "In how many areas?"
        return f"{text.rstrip()} ({content_of(previous)})"

    has_wh = bool(set(lower) & (WH | AUX))
    if not has_wh and len([w for w in lower if w not in "?,;:"]) <= 6:
        return _substitute(previous, text.rstrip(" ?.!"))  # a bare noun phrase

    anaphor = _find_anaphor(words, asked_kind(previous))
    if anaphor is None:
        return plain
    return _replace_anaphor(text, words, anaphor, previous, answer)


def _office_named(answer: str) -> str | None:
    """The first office the answer's sentence names ("The Chief of Space Operations (CSO) is
    ..."), where it names one."""
    for m in NAME_RUN.finditer(answering_sentence(answer)):
        name = re.sub(r"^(?:The|A|An)\s+", "", m.group(0).strip())
        if is_office(name):
            return name
    return None


def _elliptical(lower: list[str]) -> bool:
    """A question with a question word and at most one other word of substance ("Under which
    department?", "In how many areas?") leans on the question before it."""
    substance = [w for w in lower if w not in WH | AUX | PREPOSITIONS | DETERMINERS | {"?", ",", "many", "much", "ones", "one", "else", "exactly", "so"}]  # fmt: skip
    return len(substance) <= 1 and not any(w[:1].isdigit() for w in substance)


def _is_refusal(answer: str) -> bool:
    low = answer.lower()
    return any(r in low for r in _REFUSALS)


def _find_anaphor(words: list[str], kind: str | None = None) -> int | None:
    """Index of the first word that points back to an earlier turn, if any; `kind`: what the
    earlier question asked for ("department" after "Which department ...?"), which "that
    department" points back to wherever it stands.

    A pronoun that follows a name in its own clause refers to that name ("What is NATO's role
    and its budget?", "How does NATO fund its operations?"), so it is no cue."""
    for i, word in enumerate(words):
        w = word.lower()
        if kind and w in ("this", "that") and i + 1 < len(words) and words[i + 1].lower() == kind:
            return i
        earlier_name = _own_referent(words, i)
        if w in _OBJECT_PRONOUNS | _POSSESSIVES | _PERSONAL and not earlier_name:
            return i
        if w in ("this", "these", "those") and not earlier_name:
            return i
        if w == "that" and i + 1 < len(words) and not earlier_name:
            before = words[i - 1].lower() if i else ""
            # "that year", "about that", "was that": not the relative "the policy that ..."
            if before in PREPOSITIONS or before in AUX or before in WH or words[i + 1] == "?":
                return i
        if w == "one" and i and words[i - 1].lower() in ("the", "that", "this"):
            return i
        if w in ("there", "then") and i == len(words) - 2 and words[-1] == "?":
            return i
    return None


def _own_referent(words: list[str], i: int) -> bool:
    """Whether a name before words[i] is what the pronoun there means: one joined to it by
    "and" or a comma, or a possessive within three words of it."""
    names = [j for j in range(i) if is_name_word(words, j)]
    if not names:
        return False
    between = {w.lower() for w in words[names[0] + 1 : i]}
    possessive = words[i].lower() in _POSSESSIVES | {"his", "her"} and i - names[-1] <= 3
    return possessive or bool(between & {"and", ","})


def _referent(previous: str, answer: str, pronoun: str, agent: bool = False, part: bool = False) -> str | None:  # fmt: skip
    """What `pronoun` means after `previous` was answered by `answer`; `agent`: it does
    something ("did it request"), so it is no amount the earlier question counted; `part`: one
    of them is asked for ("the last of them"), so they are the things the question asked for."""
    if pronoun in _PERSONAL:
        named = answer_entity(answer, previous, person=True)
        if named and is_office(named) and re.match(r"who\s+(is|was)\b", previous, re.I):
            return subject_of(previous)  # "Who is the CSO?" answered by what the CSO does
        if named and is_office(named):
            return f"the {named}"
        return named or first_name(previous)
    # "they" most likely means those named together ("Finland and Sweden"); "it" or "that" is
    # never the person an answer named, so then means what the question was about.
    group = pronoun in ("they", "them", "their") or part
    if agent and (doer := agent_of(previous)):
        return doer
    if agent and pronoun == "they" and (doers := joined_doers(previous)):
        return doers  # "had they made" after "What did the U.S. and EU announce?"
    if part and (asked := asked_plural(previous)):  # "What core tasks ...?"
        return f"the {asked}"
    entity = answer_entity(answer, previous, plural=group)
    if entity and not group and is_person(entity):
        entity = None
    if entity and (asks_for_thing(previous) or (group and ", " in entity)):
        return entity  # what was asked for, or the several things the answer listed
    if group and (asked := asked_plural(previous)):  # "What commands ...?" then "Who leads them?"
        return f"the {asked}"
    subject = subject_of(previous)
    owner = re.match(r"^(.+?)[’']s\s+(?:[\w-]+\s+){0,3}[\w-]*[^\Ws]s$", subject or "")
    if pronoun in ("it", "its") and owner:  # not "the Space Force's core functions": its owner
        return owner.group(1)
    plural = bool(subject and re.search(r"\s(?:and|&)\s", subject))
    if pronoun in ("it", "its", "this", "that") and plural:  # not "the United States and Iran"
        return last_noun_phrase(previous) or subject
    many = plural or bool(subject and re.search(r"[^s’']s$", subject))  # "partner countries"
    if pronoun in ("they", "them", "their") and not many and entity and " and " in entity:
        return entity
    if group and not many and (things := plural_object(previous, subject)):
        return things  # "they" after "How has DOD used biometric technologies?"
    return subject


def _agent(words: list[str], i: int) -> bool:
    """Whether words[i] is the subject of a question's verb: "did it request", "will they"."""
    return i > 0 and words[i - 1].lower() in AUX


def _part(words: list[str], i: int) -> bool:
    """Whether words[i] is what one is picked from: "the last of them", "which of those"."""
    before = [w.lower() for w in words[max(0, i - 2) : i]]
    after = words[i + 1].lower() if i + 1 < len(words) else "?"
    if words[i].lower() in ("those", "these") and after not in BOUNDARY | PREPOSITIONS:
        return False  # "the last of those demands": a determiner, the noun named
    return len(before) == 2 and before[1] == "of" and before[0] in ORDINALS | _PICKS


def _referents(previous: str, answer: str, words: list[str], i: int) -> str | None:
    return _referent(previous, answer, words[i].lower(), _agent(words, i), _part(words, i))


def pointer(question: str, previous: str, answer: str) -> tuple[str, str | None] | None:
    """The word of `question` that points back ("it", "that", "he"), and what these rules take it
    to mean after `previous` was answered by `answer`; None when nothing points back."""
    words = _words(question.strip())
    i = _find_anaphor(words, asked_kind(previous))
    if i is None:
        return None
    return words[i], _referents(previous, answer, words, i)


def refer(question: str, previous: str, referent: str) -> str | None:
    """`question` with the word that points back read as `referent`, the thing a "what" or
    "which" question (`previous`) was answered with; None where nothing points back or the
    earlier question asked for no such thing."""
    text = question.strip()
    if _HOLDS.match(text):
        return None  # the person in the office, read by resolve
    words = _words(text)
    i = _find_anaphor(words, asked_kind(previous))
    plural = {"they", "them", "their", "these", "those"}  # a span is one of them, not all
    if i is None or words[i].lower() in _PERSONAL | plural or not asks_for_thing(previous):
        return None
    return _replace_anaphor(text, words, i, previous, "", referent)


def _replace_anaphor(text: str, words: list[str], i: int, previous: str, answer: str, referent: str | None = None) -> str:  # fmt: skip
    w = words[i].lower()
    after = words[i + 1].lower() if i + 1 < len(words) else ""
    when = _TIME.search(previous) if w in ("that", "this") and after in TIME_NOUNS else None
    if when:  # "over that period" after "... between 2008 and 2017?"
        return f"{text.rstrip()} ({when.group(0)})"
    referent = referent or _referents(previous, answer, words, i)
    spans = list(WORD.finditer(text))
    if referent is None:
        context = content_of(previous)
        return f"{text.rstrip()} ({context})" if context else text
    a, b = spans[i].start(), spans[i].end()
    lead = referent if i else referent[:1].upper() + referent[1:]
    if w in _OBJECT_PRONOUNS or w in ("he", "she", "him") or _part(words, i):
        return _clean(text[:a] + lead + text[b:])  # "the second of those": of the things
    if w in _POSSESSIVES or w in ("his", "her"):
        return _clean(text[:a] + lead + "’s" + text[b:])
    if w in ("this", "that") and i and words[i - 1].lower() in PREPOSITIONS and words[i + 1 :] in ([], ["?"]):  # fmt: skip
        return _clean(text[:a] + referent + text[b:])  # "before that?": the thing itself
    kind = asked_kind(previous)
    if w in ("this", "that") and kind and i + 1 < len(words) and words[i + 1].lower() == kind:
        return _clean(text[:a] + referent + text[spans[i + 1].end() :])  # "that department"
    if w in ("this", "that") and i + 1 < len(words) and _act_of(words[i + 1], previous):
        # "When did that signing take place?" after "What deal did they sign?": the act the
        # earlier question asked about, done to what it was answered with
        return _clean(f"{text[:a]}the {words[i + 1]} of {referent}{text[spans[i + 1].end() :]}")
    # "this policy", "that year", "the one", "there": kept, with the referent beside them.
    return f"{text.rstrip()} ({referent})"


def _act_of(noun: str, previous: str) -> bool:
    """Whether `noun` names the act of a verb of `previous` ("signing" of "sign", "planning" of
    "planned", "issuing" of "issue")."""
    noun = noun.lower()
    if not noun.endswith("ing") or len(noun) < 6:
        return False
    stem = noun[:-3]
    stems = {stem, stem + "e"} | ({stem[:-1]} if len(stem) > 2 and stem[-1] == stem[-2] else set())
    done = {w.lower() for w in _words(previous)}
    return any(s in done or s + "s" in done or s + "ed" in done or s + "d" in done for s in stems)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _swap_question_word(previous: str, question: str) -> str:
    words = _words(previous)
    if words and words[0].lower() in WH:
        wh = _words(question)[0]
        spans = list(WORD.finditer(previous))
        rest = previous[spans[frame_end(words[:1]) if words[0].lower() != "how" else 1].start() :]
        # "When was X published?" + "Why?" -> "Why was X published?"; drop "many"/"much" frames.
        while _words(rest) and _words(rest)[0].lower() in {"many", "much", "long", "year", "date"}:
            rest = rest[len(_words(rest)[0]) :].lstrip()
        return _clean(f"{wh[:1].upper()}{wh[1:].lower()} {rest}")
    return _clean(f"{question.rstrip(' ?')} {content_of(previous)}?")


def _same_head(previous: str, new: str) -> str | None:
    """The earlier query with its noun phrase that ends in the new phrase's noun put in the new
    phrase's place: "And the second battery?" after "... the Army's first Typhon battery ..."
    swaps the ordinal alone ("the Army's second Typhon battery"), "And Iran's own proposal?"
    the whole phrase; None where the earlier query has no such noun."""
    words = new.split()
    while len(words) > 2 and words[-1].lower() in _TRAILING:  # "in lending protocols alone"
        words.pop()
    head = words[-1]
    if len(words) < 2 or not head.isalpha() or not head.islower() or head in ORDINALS:
        return None
    found = list(re.finditer(rf"\b{re.escape(head)}s?\b", previous))
    if not found:
        return None
    end = found[0].end()
    before = list(WORD.finditer(previous[: found[0].start()]))
    start = found[0].start()
    prepositions = PREPOSITIONS | _MORE_PREPOSITIONS
    for m in reversed(before[-5:]):  # its modifiers, back to a determiner or a possessor
        w = m.group().lower()
        if w in AUX | WH | prepositions | {"and", "or", "of"}:
            if w in prepositions and words[0].lower() in prepositions:
                # "And in lending protocols?": in place of "across defi protocols"
                start = m.start()
            break
        start = m.start()
        if w in DETERMINERS | _POSSESSIVES | {"this", "that", "these", "those"} or w.endswith(("’s", "'s")):  # fmt: skip
            break
    phrase = previous[start:end]
    ordinal_new = next((w for w in words if w.lower() in ORDINALS), None)
    ordinal_old = next((w for w in phrase.split() if w.lower() in ORDINALS), None)
    if ordinal_new and ordinal_old:  # the same thing, another of the series
        phrase_new = re.sub(rf"\b{ordinal_old}\b", ordinal_new, phrase, count=1)
    else:
        phrase_new = new if start else new[:1].upper() + new[1:]
    return _clean(previous[:start] + phrase_new + previous[end:])


def _substitute(previous: str, new: str) -> str:
    """The earlier query asked about `new` instead of the thing of the same kind in it."""
    new = new.strip().rstrip("?.! ")
    if not new:
        return previous
    if re.fullmatch(r"[a-z]+ly", new):  # "And thematically?": the same question, so qualified
        return _clean(f"{previous.rstrip(' ?')} {new}?")
    year = YEAR.search(new)
    if year and YEAR.search(previous):
        replaced = YEAR.sub(year.group(), previous, count=1)
        return drop_selectors(replaced) if replaced != previous else previous
    if year:
        return _clean(f"{drop_selectors(previous).rstrip(' ?')} in {year.group()}?")
    if _NUMBER.fullmatch(new) and _NUMBER.search(previous):
        return _NUMBER.sub(new, previous, count=1)
    one = re.match(r"^(?:the|that|this)\s+ones?\s*(?P<rest>.*)$", new, re.IGNORECASE)
    ordinal = re.fullmatch(r"(?:the\s+)?(\w+)(\s+one)?", new, re.IGNORECASE)
    subject = subject_of(previous)
    if subject and ordinal and ordinal.group(1).lower() in ORDINALS:  # "And the sixth (one)?"
        phrase = member(subject, ordinal.group(1), singular=bool(ordinal.group(2)))
        return reselect(previous, subject, phrase, singular=bool(ordinal.group(2)))
    owner = re.match(r"^(its|their)\s+(.+)$", new, re.IGNORECASE)
    if owner and subject:  # "And its deltas?": the owner is the earlier subject's name
        name = re.sub(r"[’']s$", "", first_name(previous) or subject)
        det = "the " if re.search(rf"\bthe\s+{re.escape(name)}", previous) else ""
        return previous.replace(subject, f"{det}{name}’s {owner.group(2)}", 1)
    lead = new.split()[0].lower()
    same = list(re.finditer(rf"\b{lead}\s+[^?,;]+", previous, re.IGNORECASE)) if lead in PREPOSITIONS | {"according"} else []  # fmt: skip
    same = [m for m in same if year or not _TIME.fullmatch(m.group().strip())]  # "in 2020": a time
    if same:  # "And to mobilise?", "And for NATO?", "And according to analysts?": the earlier
        at = same[-1]  # phrase with that preposition
        swapped = previous[: at.start()] + new + previous[at.end() :]
        return _clean(swapped[:1].upper() + swapped[1:])
    if (head := _same_head(previous, new)) is not None:
        return head
    if subject and lead in PREPOSITIONS | {"of"}:  # "And of the Commission?"
        return previous.replace(subject, relative_subject(subject, new), 1)
    if one and subject:
        return previous.replace(subject, relative_subject(subject, one.group("rest")), 1)
    if new[:1].isupper() and not new.lower().startswith(("the ", "a ", "an ")):
        name = first_name(previous)
        if name and (subject is None or name in subject or subject in name):
            return previous.replace(name, new, 1)
    if subject:
        inside = previous.find(subject) > 0
        replacement = new[:1].upper() + new[1:] if not inside else new
        if inside and re.match(r"(?:The|A|An)\s", new):
            replacement = new[:1].lower() + new[1:]
        return previous.replace(subject, replacement, 1)
    name = first_name(previous)
    if name and new[:1].isupper():
        return previous.replace(name, new, 1)
    return _clean(f"{new} ({content_of(previous)})")
