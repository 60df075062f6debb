"""Conversation: a follow-up question rewritten into a standalone query from the turns before it.

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

Earlier turns are themselves resolved first, oldest first, so a third turn sees what the second
was really about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.errors import BadInput

# A request carries at most the last MAX_TURNS turns, each field at most MAX_TURN_CHARS long (a
# client cuts longer answers: the rewrite reads only their first sentence). Together with a
# 2,000-character question they fit the server's 64 KB body limit even as JSON \u escapes.
MAX_TURNS = 4
MAX_TURN_CHARS = 1000
READ_TURNS = 3  # turns further back than this rarely hold the referent, and often mislead

_WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
_AUX = {"is", "are", "was", "were", "be", "been", "do", "does", "did", "has", "have", "had", "can", "could", "will", "would", "should", "shall", "may", "might", "must"}  # fmt: skip
_DETERMINERS = {"the", "a", "an"}
_BE = {"is", "are", "was", "were"}
_DEMONSTRATIVES = {"this", "that", "these", "those"}
_OBJECT_PRONOUNS = {"it", "they", "them"}
_POSSESSIVES = {"its", "their"}
_PERSONAL = {"he", "him", "she", "her", "his", "hers"}
_PREPOSITIONS = {"in", "on", "at", "by", "for", "with", "from", "to", "into", "during", "after", "before", "since", "under", "over", "about", "against", "through", "within", "without", "among", "between", "as"}  # fmt: skip
# Words that start a clause after a noun phrase, so end it.
_BOUNDARY = _AUX | _WH | {"and", "or", "but", "that", "which", "who", "?", ",", ";", ":"}
# Selectors that pick one of a series; "the one before" replaces them.
_SELECTORS = {"latest", "last", "first", "second", "third", "previous", "next", "earlier", "later", "most", "recent", "current", "new", "newest", "oldest", "final", "initial"}  # fmt: skip
_RELATIVE = {
    "before": "previous", "earlier": "previous", "previous": "previous", "prior": "previous",
    "after": "next", "later": "next", "next": "next", "following": "next",
    "first": "first", "last": "last", "latest": "latest", "other": "other", "second": "second",
}  # fmt: skip
_LEADS = re.compile(r"^(?:and|but|so|also|ok|okay|then|now|well)\b[\s,]*", re.IGNORECASE)
_ABOUT = re.compile(
    r"^(?:(?:and|but|so)\s+)?(?:what|how)\s+about\s+(?P<x>.+)$|^(?:and|also|or|same\s+for|now)\s+(?P<y>.+)$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME_RUN = re.compile(
    r"(?<![\w’'])(?:[A-Z][\w’'-]*|[A-Z]{2,})(?:\s+(?:(?:and|of|the|for|de|von|der|&)\s+)*(?:[A-Z][\w’'-]*))*"
)
_QUOTED = re.compile(r"[“\"‘]([^”\"’]{3,80})[”\"’]")
_WORD = re.compile(r"[\w’'-]+|[?,;:]")
_REFUSALS = ("does not answer", "doesn't answer", "not in the corpus", "cannot answer")


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what was asked and what was answered."""

    question: str
    answer: str = ""


def check_history(history: Iterable | None) -> list[Turn]:
    """The conversation so far as turns, oldest first; a malformed one is a BadInput."""
    if history is None:
        return []
    if isinstance(history, str | bytes | dict) or not isinstance(history, Iterable):
        raise BadInput("history must be a list of {question, answer} turns, oldest first")
    turns = []
    for i, item in enumerate(history):
        if isinstance(item, Turn):
            question, answer = item.question, item.answer
        elif isinstance(item, dict):
            question, answer = item.get("question"), item.get("answer", "")
        else:
            raise BadInput(f"history[{i}] must be an object with a question and an answer")
        if not isinstance(question, str) or not question.strip():
            raise BadInput(f"history[{i}].question must be a non-empty string")
        if answer is None:
            answer = ""
        if not isinstance(answer, str):
            raise BadInput(f"history[{i}].answer must be a string")
        if len(question) > MAX_TURN_CHARS or len(answer) > MAX_TURN_CHARS:
            raise BadInput(f"history[{i}] is too long: at most {MAX_TURN_CHARS} characters a field")
        turns.append(Turn(question.strip(), answer.strip()))
    if len(turns) > MAX_TURNS:
        raise BadInput(f"history is too long: at most {MAX_TURNS} turns")
    return turns


def standalone(question: str, history: Sequence[Turn]) -> str:
    """The query to search for `question` asked after `history` (oldest first)."""
    resolved: list[tuple[str, str]] = []  # (standalone query, answer) of each earlier turn
    for turn in history[-READ_TURNS:]:
        resolved.append((_resolve(turn.question, resolved), turn.answer))
    return _resolve(question, resolved)


def _resolve(question: str, earlier: list[tuple[str, str]]) -> str:
    if not earlier:
        return question
    previous, answer = earlier[-1]
    if _is_refusal(answer):
        answer = ""
    text = question.strip()
    words = _words(text)
    lower = [w.lower() for w in words]

    # "Why?", "When?": the earlier question, asked with this question word.
    if lower and lower[0] in _WH and len([w for w in lower if w != "?"]) <= 2:
        return _swap_question_word(previous, text)
    if set(lower) & _WH and len([w for w in lower if w != "?"]) <= 2:  # "Since when?"
        return _clean(f"{text.rstrip(' ?')} {_content(previous)}?")

    about = _ABOUT.match(text.rstrip(" ?.!"))
    if about:
        rest = (about.group("x") or about.group("y") or "").strip()
        rest_words = [w.lower() for w in _words(rest)]
        if rest and not (set(rest_words) & (_WH | _AUX)):
            return _substitute(previous, rest)
        text = _LEADS.sub("", text) or text  # "And when was it published?": read without the "and"
        words = _words(text)
        lower = [w.lower() for w in words]

    has_wh = bool(set(lower) & (_WH | _AUX))
    if not has_wh and len([w for w in lower if w not in "?,;:"]) <= 6:
        return _substitute(previous, text.rstrip(" ?.!"))  # a bare noun phrase

    anaphor = _find_anaphor(words)
    if anaphor is None:
        return question
    return _replace_anaphor(text, words, anaphor, previous, answer)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _is_refusal(answer: str) -> bool:
    low = answer.lower()
    return any(r in low for r in _REFUSALS)


def _find_anaphor(words: list[str]) -> int | None:
    """Index of the first word that points back to an earlier turn, if any.

    A pronoun that follows a name in the same question refers to that name ("What is NATO's
    role and its budget?"), so it is no cue."""
    for i, word in enumerate(words):
        w = word.lower()
        earlier_name = any(_is_name_word(words, j) for j in range(i))
        if w in _OBJECT_PRONOUNS | _POSSESSIVES | _PERSONAL and not earlier_name:
            return i
        if w in ("this", "these", "those") and not earlier_name:
            return i
        if w == "that" and i + 1 < len(words) and not earlier_name:
            before = words[i - 1].lower() if i else ""
            # "that year", "about that", "was that": not the relative "the policy that ..."
            if before in _PREPOSITIONS or before in _AUX or before in _WH or words[i + 1] == "?":
                return i
        if w == "one" and i and words[i - 1].lower() in ("the", "that", "this"):
            return i
        if w in ("there", "then") and i == len(words) - 2 and words[-1] == "?":
            return i
    return None


def _is_name_word(words: list[str], j: int) -> bool:
    w = words[j]
    return j > 0 and w[:1].isupper() and w.lower() not in _WH | _AUX and w != "I"


def _frame_end(words: list[str]) -> int:
    """Where the question's frame ("When was", "How many", "What did") ends."""
    i = 0
    while i < len(words) and words[i].lower() in _WH | {"many", "much", "long", "often", "far", "kind", "type", "sort", "of", "year", "date", "month", "day", "number", "percentage", "share"}:  # fmt: skip
        i += 1
    while i < len(words) and words[i].lower() in _AUX:
        i += 1
    return i


def _subject(query: str) -> str | None:
    """The earlier question's subject, where it can be read cleanly: the noun phrase after the
    question's frame ("When was | the latest joint declaration | published?", "Who wrote | the
    ICDS brief on military mobility?", "What did | France and the UK | push for?")."""
    words = _words(query)
    start = _frame_end(words)
    aux = words[start - 1].lower() if 0 < start <= len(words) and words[start - 1].lower() in _AUX else ""  # fmt: skip
    if start >= len(words):
        return None
    if not aux:  # "Who wrote the brief": the subject is the verb's object
        start = next((j for j in range(start, len(words)) if words[j].lower() in _DETERMINERS or _is_name_word(words, j)), len(words))  # fmt: skip
        if start >= len(words):
            return None
    first = words[start]
    if first[:1].isupper() and first.lower() not in _DETERMINERS:
        name = _NAME_RUN.match(query[_offset(query, words, start) :])
        return name.group().strip() if name else None
    end = start + (1 if first.lower() in _DETERMINERS | {"its", "their"} else 0)
    while end < len(words) and end - start <= 8:
        w = words[end].lower()
        joins = w in ("and", "&") and end + 1 < len(words) and words[end + 1][:1].isupper()
        if (w in _BOUNDARY and not joins) or (
            w.endswith("ed") and end > start + 1 and not words[end][:1].isupper()
        ):
            break
        if w in _PREPOSITIONS and w not in ("of", "on", "between", "for", "about", "in", "to"):
            break
        if w in _PREPOSITIONS and aux in ("do", "does", "did"):
            break
        end += 1
    if aux in ("do", "does", "did") and end - start >= 2 and not words[end - 1][:1].isupper():
        end -= 1  # "What did the EU adopt": the bare verb closes the subject
    elif aux in _BE and end == len(words) - 1 and end - start >= 3 and _closes_with_verb(words):
        end -= 1  # "When was the old museum built", "Why is X problematic": the last word is not X
    while end > start + 1 and words[end - 1].lower() in _PREPOSITIONS | _DETERMINERS | {
        "and",
        "or",
    }:
        end -= 1
    if end - start >= 1 and not (end - start == 1 and first.lower() in _DETERMINERS):
        return _span(query, words, start, end)
    return None


def _closes_with_verb(words: list[str]) -> bool:
    """After "when/where/why/how was X ...", the question's last word is a participle or an
    adjective; after "what/who is X", it belongs to X."""
    last = words[-2].lower() if words[-1] == "?" else words[-1].lower()
    return words[0].lower() in ("when", "where", "why", "how") or bool(
        re.search(r"(ic|ed|al|ant|ent|ive|ous|ful|able|ible|ary|ing|en)$", last)
    )


def _offset(text: str, words: list[str], index: int) -> int:
    """Character offset of words[index] in text (words come from _WORD in order)."""
    pos = 0
    for i, m in enumerate(_WORD.finditer(text)):
        if i == index:
            return m.start()
        pos = m.end()
    return pos


def _span(text: str, words: list[str], start: int, end: int) -> str:
    spans = list(_WORD.finditer(text))
    return text[spans[start].start() : spans[end - 1].end()]


def _content(query: str) -> str:
    """The earlier query without its frame or its question mark: what it was about."""
    words = _words(query)
    rest = [w for w in words[_frame_end(words) :] if w not in "?,;:"]
    return " ".join(rest)


def _answer_entity(answer: str, previous: str, person: bool = False) -> str | None:
    """The thing an earlier answer named that its question did not: a quoted title or a name."""
    if not answer:
        return None
    first = re.sub(r"\[\d+\]", "", re.split(r"(?<=[.!?])\s", answer, maxsplit=1)[0])
    known = previous.lower()
    for m in [] if person else _QUOTED.finditer(first):
        if m.group(1).lower() not in known:
            return m.group(1).strip(" ,.")
    for m in _NAME_RUN.finditer(first):
        name = m.group().strip()
        if m.start() == 0 and " " not in name and name.lower() in {"the", "in", "a", "it", "this"}:
            continue
        name = re.sub(r"^(?:The|In|A|An|It|This|At|On)\s+", "", name)
        if name and name.lower() not in known and not _YEAR.fullmatch(name):
            return name
    return None


def _asks_for_thing(query: str) -> bool:
    low = query.lower()
    return bool(re.match(r"^\s*(what|which|who|whom|whose)\b", low)) and not re.match(
        r"^\s*what\s+(year|date|month|day|time|number|percentage|share)\b", low
    )


def _referent(previous: str, answer: str, personal: bool) -> str | None:
    if personal:
        return _answer_entity(answer, previous, person=True) or _first_name(previous)
    entity = _answer_entity(answer, previous)
    if entity and _asks_for_thing(previous):
        return entity
    return _subject(previous)


def _first_name(query: str) -> str | None:
    words = _words(query)
    for j in range(1, len(words)):
        if _is_name_word(words, j):
            m = _NAME_RUN.match(query[_offset(query, words, j) :])
            if m:
                return m.group().strip()
    return None


def _replace_anaphor(text: str, words: list[str], i: int, previous: str, answer: str) -> str:
    w = words[i].lower()
    referent = _referent(previous, answer, personal=w in _PERSONAL)
    spans = list(_WORD.finditer(text))
    if referent is None:
        context = _content(previous)
        return f"{text.rstrip()} ({context})" if context else text
    a, b = spans[i].start(), spans[i].end()
    lead = referent if i else referent[:1].upper() + referent[1:]
    if w in _OBJECT_PRONOUNS or w in ("he", "she", "him"):
        return _clean(text[:a] + lead + text[b:])
    if w in _POSSESSIVES or w in ("his", "her"):
        return _clean(text[:a] + lead + "’s" + text[b:])
    # "this policy", "that year", "the one", "there": kept, with the referent beside them.
    return f"{text.rstrip()} ({referent})"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _swap_question_word(previous: str, question: str) -> str:
    words = _words(previous)
    if words and words[0].lower() in _WH:
        wh = _words(question)[0]
        spans = list(_WORD.finditer(previous))
        rest = previous[spans[_frame_end(words[:1]) if words[0].lower() != "how" else 1].start() :]
        # "When was X published?" + "Why?" -> "Why was X published?"; drop "many"/"much" frames.
        while _words(rest) and _words(rest)[0].lower() in {"many", "much", "long", "year", "date"}:
            rest = rest[len(_words(rest)[0]) :].lstrip()
        return _clean(f"{wh[:1].upper()}{wh[1:].lower()} {rest}")
    return _clean(f"{question.rstrip(' ?')} {_content(previous)}?")


def _substitute(previous: str, new: str) -> str:
    """The earlier query asked about `new` instead of the thing of the same kind in it."""
    new = new.strip().rstrip("?.! ")
    if not new:
        return previous
    year = _YEAR.search(new)
    if year and _YEAR.search(previous):
        replaced = _YEAR.sub(year.group(), previous, count=1)
        return _drop_selectors(replaced) if replaced != previous else previous
    if year:
        return _clean(f"{_drop_selectors(previous).rstrip(' ?')} in {year.group()}?")
    if _NUMBER.fullmatch(new) and _NUMBER.search(previous):
        return _NUMBER.sub(new, previous, count=1)
    one = re.match(r"^(?:the|that|this)\s+ones?\s*(?P<rest>.*)$", new, re.IGNORECASE)
    subject = _subject(previous)
    if subject and new.split()[0].lower() in _PREPOSITIONS | {"of"}:  # "And of the Commission?"
        return previous.replace(subject, _relative_subject(subject, new), 1)
    if one and subject:
        return previous.replace(subject, _relative_subject(subject, one.group("rest")), 1)
    if new[:1].isupper() and not new.lower().startswith(("the ", "a ", "an ")):
        name = _first_name(previous)
        if name and (subject is None or name in subject or subject in name):
            return previous.replace(name, new, 1)
    if subject:
        inside = previous.find(subject) > 0
        replacement = new[:1].upper() + new[1:] if not inside else new
        if inside and re.match(r"(?:The|A|An)\s", new):
            replacement = new[:1].lower() + new[1:]
        return previous.replace(subject, replacement, 1)
    name = _first_name(previous)
    if name and new[:1].isupper():
        return previous.replace(name, new, 1)
    return _clean(f"{new} ({_content(previous)})")


def _relative_subject(subject: str, relation: str) -> str:
    """'the latest joint declaration' + 'before' -> 'the previous joint declaration';
    'the ICDS brief on military mobility' + 'on defence spending' -> 'the ICDS brief on
    defence spending'."""
    words = subject.split()
    det = words[0] if words[0].lower() in _DETERMINERS | {"its", "their"} else "the"
    body = words[1:] if words[0].lower() in _DETERMINERS | {"its", "their"} else words
    cut = next((i for i, w in enumerate(body) if w.lower() in _PREPOSITIONS | {"of"}), len(body))
    head, tail = body[:cut], body[cut:]
    head = [w for w in head if w.lower() not in _SELECTORS and not _YEAR.fullmatch(w)]
    relation = relation.strip()
    rel_words = relation.split()
    if rel_words and rel_words[0].lower() in _RELATIVE and len(rel_words) == 1:
        return " ".join([det if det.lower() != "a" else "the", _RELATIVE[rel_words[0].lower()], *head, *tail])  # fmt: skip
    if rel_words and rel_words[0].lower() in _PREPOSITIONS | {"of"}:
        return " ".join([det, *head, relation])
    if relation:
        return " ".join([det, *head, relation])
    return " ".join([det, "other", *head, *tail])


def _drop_selectors(query: str) -> str:
    """A year now says which one: 'the latest declaration' in 2018 is 'the declaration'."""
    return _clean(
        re.sub(r"\b(?:the\s+)?(?:most\s+recent|latest|last|newest|current)\s+", "the ", query)
    )
