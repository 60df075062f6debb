"""Questions: how an earlier question reads, for the follow-ups that lean on it (qa.answer.followups,
qa.answer.resolution): its frame ("When was", "How many"), its subject, the thing it asks for
("Which department ...?": a department) and the names in it."""

from __future__ import annotations

import re

from qa.answer.names import DETERMINERS, NAME_RUN, PREPOSITIONS, WORD
from qa.answer.names import words as _words

WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
AUX = {"is", "are", "was", "were", "be", "been", "do", "does", "did", "has", "have", "had", "can", "could", "will", "would", "should", "shall", "may", "might", "must"}  # fmt: skip
BE = {"is", "are", "was", "were"}
# Words that start a clause after a noun phrase, so end it.
BOUNDARY = AUX | WH | {"and", "or", "but", "that", "which", "who", "?", ",", ";", ":"}
SOURCE_FIRST = re.compile(r"^\s*(?:according\s+to|per|in)\s+(?:the\s+)?[^,?]{3,80}?,\s*(?=(?:what|which|who|whom|whose|when|where|why|how)\b)", re.IGNORECASE)  # fmt: skip
# "that period", "this year": the time the earlier question named.
TIME_NOUNS = {"period", "year", "years", "time", "month", "decade", "date", "day", "week", "quarter"}  # fmt: skip
# "Under which compact ...?": a preposition before the question word.
# What may come before a question's "what" or "which": a preposition ("Under which act ...?"),
# or a phrase set off by a comma ("In July 2024, which countries ...?").
LEADING_PREPOSITION = re.compile(rf"^\s*(?:[^,?]{{1,60}},\s+)?(?:(?:{'|'.join(sorted(PREPOSITIONS))})\s+)?(?=(?:what|which)\b)", re.IGNORECASE)  # fmt: skip


def is_name_word(words: list[str], j: int) -> bool:
    w = words[j]
    return j > 0 and w[:1].isupper() and w.lower() not in WH | AUX and w != "I"


def frame_end(words: list[str]) -> int:
    """Where the question's frame ("When was", "How many", "In which year did") ends."""
    i = 1 if len(words) > 1 and words[0].lower() in PREPOSITIONS and words[1].lower() in WH else 0
    while i < len(words) and words[i].lower() in WH | {"many", "much", "long", "often", "far", "kind", "type", "sort", "of", "year", "date", "month", "day", "number", "percentage", "share"}:  # fmt: skip
        i += 1
    while i < len(words) and words[i].lower() in AUX:
        i += 1
    return i


def subject_of(query: str) -> str | None:
    """The earlier question's subject, where it can be read cleanly: the noun phrase after the
    question's frame ("When was | the latest joint declaration | published?", "Who wrote | the
    ICDS brief on military mobility?", "What did | France and the UK | push for?"); a source
    named first ("According to the fact sheet, where was ...") is not it."""
    query = SOURCE_FIRST.sub("", query)
    words = _words(query)
    start = frame_end(words)
    aux = words[start - 1].lower() if 0 < start <= len(words) and words[start - 1].lower() in AUX else ""  # fmt: skip
    if start >= len(words):
        return None
    counted = start >= 2 and words[start - 1].lower() in ("many", "much") and not aux
    if counted:  # "How many U.S. destroyers will be ...": the thing counted
        end = _phrase_end(words, start)
        return span_of(query, words, start, end) if end > start else None
    opens = words[start].lower() in DETERMINERS | {"its", "their"} or is_name_word(words, start)
    # "Which joint declarations on EU-NATO cooperation does the brief ...": the thing asked for
    verb = next((j for j in range(2, len(words)) if words[j].lower() in AUX), 0)
    if start == 1 and words[0].lower() in ("which", "what") and words[1][:1].islower() and 1 < verb <= 12:  # fmt: skip
        return f"the {span_of(query, words, 1, verb)}"
    if not aux or (
        not opens and aux not in BE
    ):  # "Who wrote the brief", "Who will attend the dinner": the object
        start = next((j for j in range(start, len(words)) if words[j].lower() in DETERMINERS or is_name_word(words, j)), len(words))  # fmt: skip
        if start >= len(words):
            return None
    first = words[start]
    possessive = first.endswith(("’s", "'s"))  # "Europe's primary task": a noun phrase
    if first[:1].isupper() and first.lower() not in DETERMINERS and not possessive:
        name = NAME_RUN.match(query[offset_of(query, words, start) :])
        return name.group().strip() if name else None
    end = start + (1 if first.lower() in DETERMINERS | {"its", "their"} or possessive else 0)
    while end < len(words) and end - start <= 8:
        w = words[end].lower()
        joins = w in ("and", "&") and end + 1 < len(words) and words[end + 1][:1].isupper()
        # a participle closes it ("the old museum | built", "the treaty | signed in Lisbon"),
        # not an adjective before its noun ("the largest | decentralized exchange") or after a
        # preposition or article ("the building blocks of | decentralized finance")
        participle = w.endswith("ed") and end > start + 1 and not words[end][:1].isupper()
        after = words[end + 1].lower() if end + 1 < len(words) else "?"
        if participle and (
            words[end - 1].lower() in PREPOSITIONS | DETERMINERS | {"of"}
            or not (after in BOUNDARY or after in PREPOSITIONS or after in ("by", "of"))
        ):
            participle = False
        if (w in BOUNDARY and not joins) or participle:
            break
        if aux in ("has", "have", "had") and w.endswith("ed") and end > start + 1:
            break  # "How has the city museum | used ...": the perfect's participle
        if w in PREPOSITIONS and w not in ("of", "on", "between", "for", "about", "in", "to"):
            break
        if w in PREPOSITIONS and aux in ("do", "does", "did"):
            break
        if w in DETERMINERS and end > start + 1 and words[end - 1].lower() not in PREPOSITIONS | {"of"}:  # fmt: skip
            break  # "military mobility | a priority": a second noun phrase
        end += 1
    while 0 < end < len(words) and words[end - 1][:1].isupper() and words[end][:1].isupper() | words[end][:1].isdigit():  # fmt: skip
        end += 1  # a name runs to its end ("the White Paper for European Defence Readiness 2030")
    if aux in ("do", "does", "did") and end - start >= 2 and not words[end - 1][:1].isupper():
        end -= 1  # "What did the EU adopt": the bare verb closes the subject
    elif aux in BE and end == len(words) - 1 and end - start >= 3 and closes_with_verb(words):
        end -= 1  # "When was the old museum built", "Why is X problematic": the last word is not X
    while end > start + 1 and words[end - 1].lower() in PREPOSITIONS | DETERMINERS | {
        "and",
        "or",
    }:
        end -= 1
    if end - start >= 1 and not (end - start == 1 and first.lower() in DETERMINERS):
        return span_of(query, words, start, end)
    return None


def _phrase_end(words: list[str], start: int) -> int:
    """Where the noun phrase from words[start] ends: at a clause's or a preposition's word."""
    end = start
    while end < len(words) and words[end].lower() not in BOUNDARY | PREPOSITIONS:
        end += 1
    return end


def agent_of(query: str) -> str | None:
    """Who does what a question that counts asks about ("How much funding does | the Space
    Force | plan to spend?"): what a later "it" that does something means, not the amount."""
    query = SOURCE_FIRST.sub("", query)
    words = _words(query)
    start = frame_end(words)
    if not (2 <= start < len(words) and words[start - 1].lower() in ("many", "much")):
        return None
    end = _phrase_end(words, start)
    if end >= len(words) or words[end].lower() not in AUX - BE:
        return None
    start, end = end + 1, _phrase_end(words, end + 1)
    verb = end < len(words) and words[end].lower() in AUX  # "does the new council | have"
    if end - start >= 2 and not verb and not words[end - 1][:1].isupper():
        end -= 1  # the bare verb closes it: "does the Space Force | plan"
    return span_of(query, words, start, end) if end > start else None


_JOINED_DOERS = re.compile(
    r"^\s*(?i:what|which)\b[^?]*?\b(?:did|do|does|have|has|had|will|would)\s+"
    r"(?P<doers>(?:the\s+)?[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*"
    r"(?:,\s*(?:the\s+)?[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)*,?\s+(?:and|&)\s+"
    r"(?:the\s+)?[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)\s+[a-z]",
)


def joined_doers(query: str) -> str | None:
    """The names joined by "and" that do what a "what did X and Y <verb>" question asks about
    ("What arrangement did | the U.S. and EU | announce?"): what a later "they" that does
    something means, not the thing they did."""
    found = _JOINED_DOERS.match(query)
    return found.group("doers") if found else None


def plural_object(query: str, subject: str | None) -> str | None:
    """The several things a question ends on, where it asks what its subject does with them
    ("How has DOD used | biometric technologies?"): what a later "they" means when the subject
    is one thing. At most two words, none a function word, the subject's verb left out."""
    words = [w for w in _words(query) if w not in "?.!"]
    stop = DETERMINERS | PREPOSITIONS | AUX | WH | {"and", "or", "of", "its", "their", "it", "they"}
    at = len(words)
    while at > 0 and len(words) - at < 2 and words[at - 1].lower() not in stop:
        at -= 1
    phrase = words[at:]
    last = subject.split()[-1] if subject else ""
    if len(phrase) == 2 and at > 0 and words[at - 1] == last:
        phrase = phrase[1:]  # "does DOD | use technologies": "use" is DOD's verb
    head = phrase[-1].lower() if phrase else ""
    if not re.fullmatch(r"[a-z][\w-]*[^\Ws]s", head) or head in TIME_NOUNS:
        return None
    return " ".join(phrase)


def closes_with_verb(words: list[str]) -> bool:
    """After "when/where/why/how was X ...", the question's last word is a participle or an
    adjective; after "what/who is X", it belongs to X."""
    last = words[-2].lower() if words[-1] == "?" else words[-1].lower()
    return words[0].lower() in ("when", "where", "why", "how") or bool(
        re.search(r"(ic|ed|al|ant|ent|ive|ous|ful|able|ible|ary|ing|en)$", last)
    )


def offset_of(text: str, words: list[str], index: int) -> int:
    """Character offset of words[index] in text (words come from _WORD in order)."""
    pos = 0
    for i, m in enumerate(WORD.finditer(text)):
        if i == index:
            return m.start()
        pos = m.end()
    return pos


def span_of(text: str, words: list[str], start: int, end: int) -> str:
    spans = list(WORD.finditer(text))
    return text[spans[start].start() : spans[end - 1].end()]


def content_of(query: str) -> str:
    """The earlier query without its frame or its question mark: what it was about."""
    words = _words(query)
    rest = [w for w in words[frame_end(words) :] if w not in "?,;:"]
    return " ".join(rest)


def asks_for_thing(query: str) -> bool:
    """A "what"/"which" question's answer is a thing an "it" or "they" can mean; a "who"
    question's answer is a person, for "he" or "she"; "what is X" and "what does X do" are
    answered by a description, and "it" then still means X."""
    low = LEADING_PREPOSITION.sub("", query.lower())  # "Under which compact ...?" too
    if re.match(r"^\s*what\s+(is|are|was|were)\b.*\b(called|named|known\s+as|termed)\b", low):
        return True  # "What are the participants called who ...?": a name
    if re.match(r"^\s*what\s+(is|are|was|were)\b", low) or re.search(r"\b(do|mean)\s*\??\s*$", low):
        return False
    return bool(re.match(r"^\s*(what|which)\b", low)) and not re.match(
        r"^\s*what\s+(year|date|month|day|time|number|percentage|share)\b", low
    )


def asked_plural(previous: str) -> str | None:
    """The things a "what"/"which" question asks for, when it asks for several: "mission-focused
    commands" in "What mission-focused commands sit below the CSO?"."""
    m = re.match(r"^\s*(?:what|which)\s+((?:[\w’'.-]+\s+){0,3}?[\w’'-]+s)\b", LEADING_PREPOSITION.sub("", previous), re.IGNORECASE)  # fmt: skip
    if not m or m.group(1).split()[0].lower() in AUX | WH | DETERMINERS:
        return None
    if any(w.lower() in AUX for w in m.group(1).split()[1:]):
        return None  # "Which act was ...?": no plural asked for
    return m.group(1)


def last_noun_phrase(query: str) -> str | None:
    """The question's last noun phrase opened by an article ("... agree to a ceasefire")."""
    found = re.findall(r"\b(?:the|a|an)\s+((?:[\w’'-]+\s+){0,2}[\w’'-]+)\s*\??\s*$", query, re.IGNORECASE)  # fmt: skip
    return f"the {found[-1]}" if found else None


def first_name(query: str) -> str | None:
    words = _words(query)
    for j in range(1, len(words)):
        if is_name_word(words, j):
            m = NAME_RUN.match(query[offset_of(query, words, j) :])
            if m:
                return m.group().strip()
    return None


def asked_kind(previous: str) -> str | None:
    """The kind of thing a "which" question asks for: "department" in "Which department put
    out ...?" (a question word, a verb or a time noun is no kind)."""
    m = re.match(r"^\s*(?:which|what)\s+([a-z]+)\b", LEADING_PREPOSITION.sub("", previous), re.IGNORECASE)  # fmt: skip
    kind = m.group(1).lower() if m else None
    return None if kind is None or kind in AUX | WH | TIME_NOUNS | DETERMINERS else kind
