"""Duplicates: one passage held by several files (a report saved as PDF and as web page), told
apart from a passage that only resembles another.

The two extractions of one report differ in small ways: curly against straight quotes, words
the PDF glued together ("totalof"), superscript ordinals the web page lost ("5th" against "5"),
a line-end hyphen, and passages cut at different places (a PDF paragraph split at a page break,
a web page's paragraph that ends a sentence earlier). So a passage repeats another when nearly
all of its word pairs, in order, are in the other, and every number it states is there too:
two endnotes that cite one source at different pages ("p. 37", "p. 40") are two passages.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import weakref
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

# benchmarks/duplicates.py over ../shared/benchmarks/real-pdfs (pdf/ and web-version/ in one
# folder, 670 passages of 14 files): every share from 0.75 to 0.85 pairs the same 365 passages
# across files (each with its twin in the other format, or a word-for-word repeat such as the
# CRS disclaimer) and no two different ones; 0.90 loses a PDF paragraph whose web twin ends a
# sentence earlier (0.87).
CONTAINED = 0.8
# Below this many words a passage ("Source: CRS.", "[9] P.L. 119-27 §4(a)(5).") repeats another
# only word for word: a few shared words say nothing.
MIN_WORDS = 8

_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\n\s*(?=[^\W\d_])")
_WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Shingles:
    """A passage's words as compared: normalised, their ordered pairs and their numbers."""

    words: tuple[str, ...]
    pairs: frozenset[tuple[str, str]]
    numbers: frozenset[str]


def compared_words(text: str) -> tuple[str, ...]:
    """The text's words as passages are compared: folded, ordinals and line-end hyphens aside."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return tuple(_WORD.findall(_ORDINAL.sub(r"\1", _LINE_END_HYPHEN.sub("", text))))


@lru_cache(maxsize=16384)  # a passage is compared at every search that finds it
def shingles(text: str) -> Shingles:
    words = compared_words(text)
    pairs = frozenset(pairwise(words))
    numbers = frozenset(n for w in words for n in _NUMBER.findall(w))
    return Shingles(words, pairs, numbers)


def same_passage(a: str, b: str) -> bool:
    """Whether texts a and b are one passage as two files hold it (see the module's note)."""
    x, y = shingles(a), shingles(b)
    if len(x.words) > len(y.words):
        x, y = y, x
    if len(x.words) < MIN_WORDS:
        return x.words == y.words
    if not x.numbers <= y.numbers:
        return False
    return len(x.pairs & y.pairs) >= CONTAINED * len(x.pairs)


# A sentence that this many documents of different titles state word for word (a publisher's
# disclaimer, a copyright notice) says nothing about any one of them: it never answers
# (qa.answer.spans), though search still finds its passage.
BOILERPLATE_DOCUMENTS = 3
_ROUGH_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MIN_CHARS = 5 * MIN_WORDS
_BOILERPLATE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BOILERPLATE_LOCK = threading.Lock()


def boilerplate(index) -> frozenset[tuple[str, ...]]:
    """The index's boilerplate sentences, as compared_words gives them, found once per loaded
    index. A store that keeps its passages in PostgreSQL (qa.index.postgres) is not read whole
    for it: none there."""
    passages = index.passages
    if not isinstance(passages, list):
        return frozenset()
    with _BOILERPLATE_LOCK:
        found = _BOILERPLATE.get(index)
    if found is None:
        # Grouped by a rough split first (a tenth of the cost of sentence_spans over every
        # passage); what repeats is then compared as spans.choose compares its sentences.
        titles: dict[str, set[str]] = defaultdict(set)
        for passage in passages:
            for piece in _ROUGH_SENTENCE.split(passage.text):
                if len(piece) >= _MIN_CHARS:
                    titles[piece.strip().casefold()].add(passage.title or passage.source)
        repeated = (compared_words(t) for t, where in titles.items() if len(where) >= BOILERPLATE_DOCUMENTS)  # fmt: skip
        found = frozenset(w for w in repeated if len(w) >= MIN_WORDS)
        with _BOILERPLATE_LOCK:
            _BOILERPLATE[index] = found
    return found
