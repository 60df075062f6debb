"""Places: the countries a text names, in whatever form it names them.

A question may name a country by its capital, its people or a short name ("Ankara" for Türkiye,
"Tokyo" for the Japanese government, "the UK"), and the passage by another; both are the same
key. A question that names a country its evidence never names in any form, answered by a
sentence about another country, is a near miss ("trade with New Zealand" asked of the sentence
on trade with Australia): qa.answer.answering refuses it and says which country the documents
speak of instead.

The forms come from countryinfo (MIT licence), written out once into countries.json beside this
module (`python -m qa.answer.places`; tests/test_places.py checks that the file is what the
pinned countryinfo gives), so that a query loads 30 KB of JSON instead of the library's 255
files: each country's name, other spellings, native name, demonym, and capital (where the
country has a million people or more, so that the capitals Victoria, Hamilton or Stanley are
not read as people). A form two countries share ("Dominican") names neither.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("countries.json")
MIN_CAPITAL_POPULATION = 1_000_000
MAX_FORM_WORDS = 8  # "United Kingdom of Great Britain and Northern Ireland"
# Short forms English texts use that the data lacks (its ISO codes "US" and "USA" are left out
# with every other code, since "IN", "IT" or "NO" are words in a heading).
_COMMON = {"US": "US", "U.S.": "US", "U.S.A.": "US", "America": "US", "U.K.": "GB", "Britain": "GB"}  # fmt: skip
# A word as forms begin and end: a hyphen joins two ("U.S.-Iran", "Guinea-Bissau" is matched whole)
_WORD = re.compile(r"[^\W\d_][\w.’']*")


@dataclass(frozen=True)
class Place:
    """One country named in a text: the form written, and the country's ISO code."""

    text: str
    code: str


def forms_from_countryinfo() -> dict[str, str]:
    """Every usable form of every country, mapped to its ISO code (what countries.json holds)."""
    from countryinfo import all_countries

    found: dict[str, set[str]] = {}
    for country in all_countries():
        code = country.iso(2)
        if not code:
            continue
        iso = {code, country.iso(3)}
        forms = [country.name(), *country.alt_spellings(), *(country.native_name() or "").split(" / "), country.demonym()]  # fmt: skip
        capital = country.capital() or ""
        if capital and (country.population() or 0) >= MIN_CAPITAL_POPULATION:
            forms += [capital, re.sub(r"\s+\w\.\w\.$", "", capital)]  # "Washington D.C."
        for form in forms:
            form = " ".join((form or "").split())
            if form and form not in iso and _usable(form):
                found.setdefault(form, set()).add(code)
    table = {form: next(iter(codes)) for form, codes in found.items() if len(codes) == 1}
    return dict(sorted((table | _COMMON).items()))


def _usable(form: str) -> bool:
    """A form written in Latin letters that begins with a capital: "Türkiye", not a name in
    Arabic or Cyrillic letters, nor a lower-case word."""
    latin = all(c.isascii() or (c.isalpha() and ord(c) < 0x250) for c in form)
    return form[:1].isupper() and latin and len(form.split()) <= MAX_FORM_WORDS


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, int]]:
    """The forms, and for each word that begins one, the most words a form it begins has."""
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    starts: dict[str, int] = {}
    for form in table:
        words = _WORD.findall(form)
        starts[words[0]] = max(starts.get(words[0], 0), len(words))
    return table, starts


@lru_cache(maxsize=8192)  # a passage is read for many questions
def places(text: str) -> tuple[Place, ...]:
    """The countries the text names, in order, each as written (the longest form where forms
    overlap: "New Zealand", not "Zealand")."""
    table, starts = _table()
    words = list(_WORD.finditer(text))
    found, i = [], 0
    while i < len(words):
        word = words[i].group()
        most = word[0].isupper() and max(starts.get(w, 0) for w in _variants(word))
        for j in range(min(len(words), i + most), i, -1):
            written = text[words[i].start() : words[j - 1].end()]
            form = next((f for f in _variants(written) if " ".join(f.split()) in table), None)
            if form is not None:
                found.append(Place(form, table[" ".join(form.split())]))
                i = j - 1
                break
        i += 1
    return tuple(found)


def _variants(written: str) -> tuple[str, ...]:
    """The text as written, without a full stop that ends its sentence, and without "'s"."""
    return (
        written,
        written.rstrip("."),
        written[:-2] if written.endswith(("’s", "'s")) else written,
    )


def countries(text: str) -> set[str]:
    """The ISO codes of the countries the text names, in any form."""
    return {p.code for p in places(text)}


def unnamed(question: str, evidence: str, sentence: str) -> list[Place]:
    """The question's countries that the evidence never names in any form, where the sentence
    that would answer names another country the question does not: the evidence is about that
    one. A sentence that names no other country is not held to this (the question's country
    may be the one it speaks of without naming)."""
    asked = places(question)
    if not asked:
        return []
    held = countries(evidence)
    missing = [p for p in asked if p.code not in held and not _written(p.text, evidence)]
    wanted = {p.code for p in asked}
    if not missing or not any(p.code not in wanted for p in places(sentence)):
        return []
    return list({p.code: p for p in missing}.values())


def _written(form: str, text: str) -> bool:
    """Whether the text holds the form, in any case ("AUSTRALIA" in a heading), however the
    words around it run."""
    return (
        re.search(rf"(?<![^\W\d_]){re.escape(form)}(?![^\W\d_])", text, re.IGNORECASE) is not None
    )


def instead(question: str, text: str) -> Place | None:
    """The first country the text names that the question does not."""
    wanted = countries(question)
    return next((p for p in places(text) if p.code not in wanted), None)


if __name__ == "__main__":
    TABLE.write_text(json.dumps(forms_from_countryinfo(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")  # fmt: skip
    print(f"{TABLE}: {len(_table.__wrapped__())} forms")
