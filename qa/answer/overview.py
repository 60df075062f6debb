"""Overview questions: "What does <a document's title> say?" is answered with that document's
opening, cited.

The page and the widget offer such a question for each indexed title (qa/surfaces/web), and a
user asks it of a report they have not read. The reader was trained on questions whose answer
is one span, so it scores a question this open near its refusal threshold, and whether the
example a page offers is answered would be chance. A question that names a whole document and
asks what it says is answered by where the document says it: its first body passages.

A question may name a document by words of its title beside a word for a document ("the copper
report"); one that asks about a topic there ("What does the Australia report say about
China?") is answered as any question is, from that document alone (qa.answer.assistant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from qa.answer import keys, spans
from qa.answer.answering import Answer, evidence
from qa.answer.quoting import unmarked
from qa.ingest.passages import Passage, sentence_spans
from qa.search.hybrid import Hit
from qa.search.retrieval import Retriever

# "What does X say?", "What is X about?", "Summarise X", "What does X say about Y?": X names a
# document by its whole title, or by words of its title and a word for a document ("the Space
# Force report", "the joint statement").
_ASKS = re.compile(
    r"^\s*(?:what\s+(?:does|do)\s+(?P<say>.+?)\s+(?:say|cover|contain)(?:\s+(?:about|on)\s+(?P<topic>.+?))?"
    r"|what\s+is\s+(?P<about>.+?)\s+about|summari[sz]e\s+(?P<sum>.+?))\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_DOCUMENT_WORDS = frozenset({"report", "brief", "document", "paper", "article", "page", "fact", "sheet", "statement", "study", "memo", "analysis", "publication", "pdf", "crs", "insight"})  # fmt: skip
_SMALL = frozenset({"the", "a", "an", "this", "that", "of", "on", "in", "for", "and", "s"})
_ARTICLE = re.compile(r"^(?:the|this|that)\s+", re.IGNORECASE)
# Passages searched within the named document for its opening, and the shortest that opens it:
# a heading or a byline ("By Jane Doe") says nothing of what the document says.
LOOKED_AT = 64
MIN_WORDS = 12
# The overview quotes the opening passage's first sentences up to about this many characters.
MAX_CHARS = 400


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def asked(question: str) -> tuple[str, str | None] | None:
    """What a question names as a document, and the topic it asks about there (None for what
    the whole document says); None when it names no document this way."""
    m = _ASKS.match(question)
    if not m:
        return None
    named = next(g for g in (m.group("say"), m.group("about"), m.group("sum")) if g)
    return _ARTICLE.sub("", named), m.group("topic")


def named_document(named: str, titles: dict[str, str | None]) -> str | None:
    """The one source (of sources mapped to titles) that `named` names: by its whole title, or
    by words that are all in its title beside a word for a document ("the joint statement");
    None where no document fits, or several with different titles (of files with one title,
    the first)."""
    words = _norm(named).split()
    loose = bool(set(words) & _DOCUMENT_WORDS)
    wanted = {w for w in words if w not in _DOCUMENT_WORDS | _SMALL}
    found = []
    for source, title in titles.items():
        if not title:
            continue
        whole = _norm(named) in (_norm(title), _norm(_ARTICLE.sub("", title)))
        held = set(_norm(title).split())
        if whole or (
            loose and wanted and all(w in held or _other_number(w) in held for w in wanted)
        ):
            found.append(source)
    # one report saved as several files (a PDF and its web page) is one document
    return found[0] if len({_norm(titles[s] or "") for s in found}) == 1 else None


def _other_number(word: str) -> str:
    """The word in the other number, as a title may write it: "reports" <-> "report"."""
    return word[:-1] if word.endswith("s") and len(word) > 3 else word + "s"


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


def document_named(question: str, index, sources: Iterable[str] | None = None) -> tuple[str, str | None] | None:  # fmt: skip
    """The document a question names by its title ("What does the joint statement say about
    methane?") and the topic it asks about there (None: what the whole
    document says); None where it names none (among `sources`, where given)."""
    found = asked(question)
    if found is None:
        return None
    named, topic = found
    wanted = set(sources) if sources is not None else None
    documents = index.documents
    titles = {s: documents[s].get("title") for s in sorted(documents) if wanted is None or s in wanted}  # fmt: skip
    source = named_document(named, titles)
    return None if source is None else (source, topic)


def overview_of(question: str, retriever: Retriever, source: str, k: int = 5) -> Answer | None:
    """What the document says, for a question that asks what all of it says: its opening
    sentences, cited; None where it has no body passage."""
    title = retriever.index.documents[source].get("title") or source
    found = retriever.candidates(title, LOOKED_AT, [source], notes=False)
    first = opening([h.passage for h in found])
    if first is None:
        return None
    rule = "a question asking what one document says is answered with its opening"
    return _quoting(question, found, first, lead(first), {"overview": source, "rule": rule}, k)  # fmt: skip


def passage_on(question: str, topic: str, retriever: Retriever, source: str, k: int = 5) -> Answer | None:  # fmt: skip
    """What the document says about a topic, for "What does <it> say about <topic>?" that the
    reader would not answer (a question this open is not one it was trained on): the sentence
    of its likeliest passage that holds most of the topic's words, cited; None where no passage
    of it names the topic at all, or states the years and figures the topic names (a near miss
    is still one: qa.answer.keys)."""
    found = [h for h in retriever.candidates(topic, k, [source], notes=False) if h.lexical > 0]
    found = [h for h in found if not keys.unstated(topic, evidence(h))]
    if not found:
        return None
    first = found[0].passage
    idf = spans.corpus_idf(retriever.index.lexical.document_frequency, retriever.index.lexical.size)  # fmt: skip
    sentences = sentence_spans(first.text) or [(0, len(first.text))]
    at = max(sentences, key=lambda se: spans.match(topic, first.text[se[0] : se[1]], idf))
    rule = "a question asking what one document says about a topic is answered with its passage on it"  # fmt: skip
    return _quoting(question, found, first, at, {"topic": topic, "source": source, "rule": rule}, k)  # fmt: skip


def _quoting(question: str, found: list[Hit], first, span: tuple[int, int], signals: dict, k: int) -> Answer:  # fmt: skip
    """An answer that quotes `span` of the passage `first`, cited first among `found`."""
    ordered = sorted(found, key=lambda h: h.passage is not first)[:k]
    hits = [replace(h, rank=i) for i, h in enumerate(ordered, start=1)]
    text = unmarked(first.text[span[0] : span[1]])
    return Answer(question, f"{text} [1]", True, list(enumerate(hits, 1)), signals, quoted=span)
