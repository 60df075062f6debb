"""Series: one of the things an earlier question was about, picked by position or relation.

"The one before", "the second one", "the others": the earlier subject reselected ("the latest
joint declaration" -> "the previous joint declaration", "the museums of the old town" -> "the
second museum of the old town", "the Space Force’s three field commands" -> "the second of the
Space Force’s three field commands"), and a question asked of it with its verb agreeing.
"""

from __future__ import annotations

import re

from qa.answer.names import DETERMINERS, PREPOSITIONS, YEAR

ORDINALS = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "last", "latest", "next", "previous", "other"}  # fmt: skip
_COUNTS = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "both", "several"}  # fmt: skip
# Selectors that pick one of a series; "the one before" replaces them.
_SELECTORS = {"latest", "last", "first", "second", "third", "previous", "next", "earlier", "later", "most", "recent", "current", "new", "newest", "oldest", "final", "initial"}  # fmt: skip
_RELATIVE = {
    "before": "previous", "earlier": "previous", "previous": "previous", "prior": "previous",
    "after": "next", "later": "next", "next": "next", "following": "next",
    "first": "first", "last": "last", "latest": "latest", "other": "other", "second": "second",
    "third": "third", "fourth": "fourth", "fifth": "fifth", "sixth": "sixth", "seventh": "seventh",
    "eighth": "eighth", "ninth": "ninth", "tenth": "tenth",
}  # fmt: skip


def member(subject: str, relation: str, singular: bool = False) -> str:
    """One of the series `subject` names: 'the museums of the old town' + 'second' -> 'the
    second museum of the old town' (singular); a subject that counts or owns its members is
    kept whole: 'the Space Force’s three field commands' + 'second' -> 'the second of the Space
    Force’s three field commands'."""
    position = relation.strip().lower()
    counted = any(w.lower() in _COUNTS or w[:1].isdigit() or w.endswith(("’s", "'s")) for w in subject.split())  # fmt: skip
    if counted and position in ORDINALS - {"next", "previous", "other"}:
        return f"the {position} of {subject}"
    phrase = relative_subject(subject, relation)
    if not singular:
        return phrase
    cut = re.search(r"\s(?:to|of|on|in|for|between|with|from|about)\s", phrase + " ")
    head, tail = (phrase[: cut.start()], phrase[cut.start() :]) if cut else (phrase, "")
    return re.sub(r"(\w\w[^s\W])s$", r"\1", head) + tail


def reselect(query: str, subject: str, phrase: str, singular: bool = False) -> str:
    """`query` asked of `phrase` in place of `subject`; where one of a plural subject is now
    meant, its verb agrees ("What are the three commands?" -> "What is the second of ...")."""
    out = query.replace(subject, phrase, 1)
    if singular or re.match(r"the \w+ of ", phrase):
        verb = {"are": "is", "were": "was", "Are": "Is", "Were": "Was"}
        at = rf"\b(are|were|Are|Were)(\s+{re.escape(phrase)})"
        out = re.sub(at, lambda m: verb[m.group(1)] + m.group(2), out, count=1)
    return out


def relative_subject(subject: str, relation: str) -> str:
    """'the latest joint declaration' + 'before' -> 'the previous joint declaration';
    'the ICDS brief on military mobility' + 'on defence spending' -> 'the ICDS brief on
    defence spending'."""
    words = subject.split()
    det = words[0] if words[0].lower() in DETERMINERS | {"its", "their"} else "the"
    body = words[1:] if words[0].lower() in DETERMINERS | {"its", "their"} else words
    cut = next((i for i, w in enumerate(body) if w.lower() in PREPOSITIONS | {"of"}), len(body))
    head, tail = body[:cut], body[cut:]
    head = [w for w in head if w.lower() not in _SELECTORS and not YEAR.fullmatch(w)]
    relation = re.sub(r"\s+(?:it|that|this|them)$", "", relation.strip(), flags=re.IGNORECASE)
    rel_words = relation.split()  # "after it": after the earlier subject
    if rel_words and rel_words[0].lower() in _RELATIVE and len(rel_words) == 1:
        return " ".join([det if det.lower() != "a" else "the", _RELATIVE[rel_words[0].lower()], *head, *tail])  # fmt: skip
    if rel_words and rel_words[0].lower() in PREPOSITIONS | {"of"}:
        return " ".join([det, *head, relation])
    if relation:
        return " ".join([det, *head, relation])
    return " ".join([det, "other", *head, *tail])


def drop_selectors(query: str) -> str:
    """A year now says which one: 'the latest declaration' in 2018 is 'the declaration'."""
    dropped = re.sub(r"\b(?:the\s+)?(?:most\s+recent|latest|last|newest|current)\s+", "the ", query)  # fmt: skip
    return re.sub(r"\s+", " ", dropped).strip()
