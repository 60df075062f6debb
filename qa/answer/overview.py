"""Overview questions: "What does <a document's title> say?" is answered with that document's
opening, cited.

The page and the widget offer such a question for each indexed title (qa/surfaces/web), and a
user asks it of a report they have not read. The reader was trained on questions whose answer
is one span, so it scores a question this open near its refusal threshold, and whether the
example a page offers is answered would be chance. A question that names a whole document and
asks what it says is answered by where the document says it: its first body passages.
"""

from __future__ import annotations

import re

from qa.ingest.documents import MARKER
from qa.ingest.passages import Passage, sentence_spans

# "What does X say?", "What is X about?", "Summarise X": X must be a document's whole title.
_ASKS = re.compile(
    r"^\s*(?:what\s+(?:does|do)\s+(?P<say>.+?)\s+(?:say|cover|contain)"
    r"|what\s+is\s+(?P<about>.+?)\s+about|summari[sz]e\s+(?P<sum>.+?))\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:the|this|that)\s+", re.IGNORECASE)
# Passages searched within the named document for its opening, and the shortest that opens it:
# a heading or a byline ("By Jane Doe") says nothing of what the document says.
LOOKED_AT = 64
MIN_WORDS = 12
# The overview quotes the opening passage's first sentences up to about this many characters.
MAX_CHARS = 400


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def asks_overview(question: str) -> bool:
    return bool(_ASKS.match(question))


def named_document(question: str, titles: dict[str, str | None]) -> str | None:
    """The source whose whole title the question asks an overview of, if it does (sources
    mapped to titles; a title shared by several documents names none of them)."""
    m = _ASKS.match(question)
    if not m:
        return None
    named = _norm(_ARTICLE.sub("", next(g for g in m.groups() if g)))
    found = [s for s, t in titles.items() if t and named in (_norm(t), _norm(_ARTICLE.sub("", t)))]
    return found[0] if len(found) == 1 else None


def opening(passages: list[Passage]) -> Passage | None:
    """The first body passage of a document that says something (not a heading or a byline)."""
    body = [p for p in passages if not p.is_endnote and len(p.text.split()) >= MIN_WORDS]
    return min(body, key=lambda p: p.start, default=None)


def lead(passage: Passage) -> tuple[int, int]:
    """The opening sentences of a passage, up to about MAX_CHARS, as offsets into its text."""
    spans = sentence_spans(passage.text) or [(0, len(passage.text))]
    end = spans[0][1]
    for _, e in spans[1:]:
        if e - spans[0][0] > MAX_CHARS:
            break
        end = e
    return spans[0][0], end


def quoted(passage: Passage, span: tuple[int, int]) -> str:
    return " ".join(MARKER.sub("", passage.text[span[0] : span[1]]).split())
