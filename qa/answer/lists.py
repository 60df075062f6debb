"""Lists a document gives after a sentence: the items an answer introduced but did not quote.

An answer often quotes the sentence that opens a list ("Major acquisition programs included the
following:", "The mission statement refers to each of the service's core functions:") and not
the items, which follow as bullets, numbered lines or paragraphs that each open with a label
("In space. ...", "From space. ..."). A follow-up that asks for one by its place ("What does the
second one do?") is about the item there, which only the document holds.
"""

from __future__ import annotations

import re

from qa.index.lexical import tokenize
from qa.ingest.documents import MARKER, normalise
from qa.ingest.passages import sentence_spans

MAX_ITEMS = 40  # enough for "the last one" of a long list
_BULLET = re.compile(r"[ \t]*(?:[-–•●▪■◦‣∙·*]|\(?\d{1,3}[.)])[ \t]+(?=\S)")
_OPENS_LIST = re.compile(r"(?::|\b(?:following|include|includes|including|are|were))\s*$")
_HEADING = re.compile(r"#{1,6} ")
# A paragraph item's label: a few words ending in a full stop or a colon ("From space.",
# "Critical Minerals.", "AUKUS."), then its text.
_LABEL = re.compile(r"(?P<label>[^.:\n]{2,40}?)[.:]\s+(?=[A-Z“\"(])")
# A bullet's subject: its words before the first verb of its sentence, or up to a closing
# bracket that ends a name ("The National Security Space Launch (NSSL) program").
_VERB = re.compile(
    r"\s(?:is|are|was|were|will|would|can|could|may|provides?|procures?|supply|supplies|"
    r"delivers?|refers?|includes?|offers?|enables?|directs?|seeks?|aims?|allows?|has|have)\b"
)
HEAD_WORDS = 12
_LOOSE_ENDS = {"and", "or", "of", "the", "a", "an", "to", "for", "in", "on", "with", "by"}


def items_after(index, sentence: str, things: str = "") -> list[str]:
    """The items of the list that `sentence` (as an answer quoted it), or a sentence after it in
    its paragraph, opens in its document, in order; [] where none opens one, or no document
    holds the sentence. With `things` (what a question asked for: "core tasks"), only a list
    whose opening sentence names them ("U.S. actions ... include:" lists no tasks)."""
    wanted = normalise(MARKER.sub("", sentence))
    if not wanted:
        return []
    for passage in index.passages:
        if wanted not in normalise(MARKER.sub("", passage.text)):
            continue
        for a, b in sentence_spans(passage.text):
            if normalise(MARKER.sub("", passage.text[a:b])) != wanted:
                continue
            text = index.documents[passage.source]["text"]
            opener = _opener(text, passage.start + a)
            if opener is None or not _names(text[opener[0] : opener[1]], things):
                return []
            return _items(text, opener[1])
    return []


def _names(sentence: str, things: str) -> bool:
    """Whether a sentence names the things (their last word, stemmed), or no things are asked."""
    wanted = tokenize(things)[-1:]
    return not wanted or wanted[0] in tokenize(sentence)


def _opener(text: str, at: int) -> tuple[int, int] | None:
    """Where the sentence that opens a list stands: the one at `at` or one after it in its
    paragraph, or the next paragraph's first line, which may stand alone ("U.S. actions to
    strengthen NATO deterrence and defense include:")."""
    for _ in range(2):  # its own paragraph, then the next
        stop = text.find("\n", at)
        stop = len(text) if stop < 0 else stop
        if _HEADING.match(text, at):
            return None
        for s, e in sentence_spans(text, at, stop):
            if _OPENS_LIST.search(normalise(text[s:e]).rstrip(".")):
                return s, e
        at = stop
        while at < len(text) and text[at] == "\n":
            at += 1
    return None


def _items(text: str, at: int) -> list[str]:
    """The bullets, numbered lines or labelled paragraphs that follow offset `at`."""
    lines = [line.strip() for line in text[at : at + 20_000].split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return []
    if _BULLET.match(lines[0]):
        items = []
        for line in lines:
            if not (bullet := _BULLET.match(line)):
                break
            items.append(line[bullet.end() :])
        return items[:MAX_ITEMS]
    items = []
    for line in lines:
        if _HEADING.match(line) or line.startswith("|") or not _LABEL.match(line):
            break
        items.append(line)
    return items[:MAX_ITEMS] if len(items) > 1 else []


def head(item: str) -> str:
    """What an item is about, short enough to stand in a question: its words before its first
    verb, at most HEAD_WORDS of them, after its label where it has one ("From space: Delivering
    global mission operations like satellite communications")."""
    if (label := _LABEL.match(item)) and len(label.group("label").split()) <= 5:
        # the label alone ("From space") finds nothing: with the words that say what it is
        return f"{label.group('label').strip()}: {head(item[label.end() :])}"
    first = item[: b if (spans := sentence_spans(item)) and (b := spans[0][1]) else len(item)]
    first = first.split(";")[0]
    if verb := _VERB.search(first):
        first = first[: verb.start()]
    words = first.split()[:HEAD_WORDS]
    while words and words[-1].lower() in _LOOSE_ENDS:
        words.pop()
    return " ".join(words).rstrip(",;:")
