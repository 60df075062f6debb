"""The PostgreSQL store open for queries: what hybrid search, answering and the surfaces read of
an index (the folder store's Index offers the same), each read from the database when asked."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from qa.errors import IndexStale
from qa.index.freshness import check_fresh
from qa.index.loaded import Candidates
from qa.index.postgres import schema
from qa.index.postgres.building import encoder_home
from qa.index.postgres.ranking import PAIRS, SENTENCES, WORDS, lexical_scores
from qa.index.postgres.reading import Readers
from qa.ingest.documents import Endnote
from qa.ingest.passages import Passage

_COLUMNS = (
    "id, source, start_char, end_char, text, section, paragraph, endnotes, title, date, page, "
    "page_end"
)
_PASSAGE = ", ".join(f"p.{column}" for column in _COLUMNS.split(", "))
# Full text: websearch_to_tsquery ANDs the question's words, so common words stay cheap; when
# no passage holds them all, their OR (ranking every match costs more: 67 ms for 8 words over
# 200,000 passages, against 0.4 ms for two ANDed, issue 20).
_STRICT = "websearch_to_tsquery('english', %(q)s)"
_LOOSE = "replace(plainto_tsquery('english', %(q)s)::text, '&', '|')::tsquery"


def _passage(row) -> Passage:
    *head, endnotes, title, date, page, page_end = row
    notes = tuple(Endnote(**note) for note in endnotes)
    return Passage(*head, notes, title, date, page, page_end)


class DatabaseIndex:
    """An index in PostgreSQL: one connection (to a replica, or the primary: reading.py),
    shared by threads under a lock."""

    # The query encoder is this machine's cached export (encoder_home), checked as it loads.
    encoder_damage: str | None = None

    def __init__(self, database: str, corpus: Path | None = None, model: str | None = None, replicas: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.database = database
        self._readers = Readers(database, replicas)  # the replicas first, else the primary
        self._lock = threading.Lock()
        self.manifest = self._readers.run(lambda conn: schema.check(conn, database))
        if self.manifest.get("format") is None or "lexicon" not in self.manifest:
            raise IndexStale(f"index in {schema.shown(database)} has an old format: run `qa index --store {schema.shown(database)}`")  # fmt: skip
        check_fresh(self.manifest, corpus, model, index=schema.shown(database))
        self._tables = self._readers.run(schema.passage_tables)
        self.folder = encoder_home(database)  # where this machine keeps the query encoder
        self.documents = _Documents(self)
        self.passages = _Passages(self)
        self.lexical = _Lexicon(self)

    def query(self, sql: str, params=None) -> list[tuple]:
        with self._lock:
            return self._readers.execute(sql, params)

    @property
    def reading_from(self) -> str:
        """The server queries are read from now (a replica, or the primary)."""
        return schema.shown(self._readers.current)

    def close(self) -> None:
        self._readers.close()

    def _top(self, where: str, key: str, descending: bool = False) -> str:
        """The passages' top %(k)s rows by key, as a subquery. Across shards, each shard's own
        top first (qa/index/postgres/shards.py): postgres_fdw sends each shard its ORDER BY and
        LIMIT, and the coordinator fetches the candidates only, never a shard's whole table."""
        order = f"key {'desc' if descending else 'asc'}"
        columns = f"{_COLUMNS}, position, search_text, embedding <=> %(v)s::vector as distance, {key} as key"  # fmt: skip
        tops = [f"select {columns} from {table} where {where} order by {order} limit %(k)s" for table in self._tables]  # fmt: skip
        if len(tops) == 1:
            return tops[0]
        every = " union all ".join(f"({top})" for top in tops)
        return f"select * from ({every}) tops order by {order} limit %(k)s"

    def candidates(self, query: str, vector: np.ndarray, depth: int, sources: Iterable[str] | None = None) -> Candidates:  # fmt: skip
        """The HNSW top depth and the full-text top depth, united, with each one's cosine and
        lexical score (qa/index/postgres/ranking.py), in corpus order."""
        wanted = list(sources or [])
        only = "and source = any(%(sources)s)" if wanted else ""
        params = {"q": query, "v": "[" + ",".join(map(str, vector.tolist())) + "]", "k": depth, "sources": wanted}  # fmt: skip
        for words in (_STRICT, _LOOSE):
            dense = self._top(f"true {only}", "embedding <=> %(v)s::vector")
            lexical = self._top(f"tsv @@ {words} {only}", f"ts_rank_cd(tsv, {words})", True)
            rows = self.query(
                f"""with found as (
                    select *, false as matched from ({dense}) dense
                    union all select *, true from ({lexical}) lexical)
                select distinct on (d.position, p.position) {_PASSAGE}, 1 - p.distance,
                    p.search_text, p.matched
                from found p join documents d using (source)
                order by d.position, p.position, p.matched desc""",
                params,
            )
            if any(row[-1] for row in rows):
                break
        passages = [_passage(row[:-3]) for row in rows]
        dense = np.array([row[-3] for row in rows], dtype=np.float32)
        texts = [row[-2] for row in rows]
        lexicon = self.lexical
        lexical = lexical_scores(query, passages, texts, lexicon.frequencies, lexicon.statistics)
        return Candidates(passages, dense, lexical)

    def page_at(self, source: str, offset: int) -> int | None:
        from qa.ingest.extract import page_at

        rows = self.query(
            "select record->'pages', record->'page_numbers' from documents where source = %s",
            (source,),
        )
        if not rows:
            return None
        return page_at(rows[0][0] or (), offset, rows[0][1] or ())

    def summaries(self) -> list[dict]:
        """Each document as `qa info` and `GET /health` list it (qa/index/inventory.py)."""
        return summaries(self.query)


def summaries(query) -> list[dict]:
    """Each document's summary, as the folder store lists them (qa/index/inventory.py)."""
    from qa.index.inventory import summary

    rows = query(
        "select d.source, d.record - 'text' - 'pages', count(p.position) from documents d "
        "left join passages p using (source) group by d.source, d.position order by d.position"
    )
    return [summary(source, record, n) for source, record, n in rows]


class _Documents(Mapping):
    """Each document's kept record, by source, read when asked."""

    def __init__(self, index: DatabaseIndex) -> None:
        self._index = index

    def __getitem__(self, source: str) -> dict:
        rows = self._index.query("select record from documents where source = %s", (source,))
        if not rows:
            raise KeyError(source)
        return rows[0][0]

    def __contains__(self, source: object) -> bool:
        return bool(self._index.query("select 1 from documents where source = %s", (source,)))

    def __iter__(self) -> Iterator[str]:
        return iter(s for (s,) in self._index.query("select source from documents order by position"))  # fmt: skip

    def __len__(self) -> int:
        return self._index.query("select count(*) from documents")[0][0]


class _Passages(Sequence):
    """The passages in corpus order; counted without being read."""

    def __init__(self, index: DatabaseIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.query("select count(*) from passages")[0][0]

    def __getitem__(self, i):
        return list(self)[i]

    def __iter__(self) -> Iterator[Passage]:
        rows = self._index.query(
            f"select {_PASSAGE} from passages p join documents d using (source) "
            "order by d.position, p.position"
        )
        return iter(_passage(row) for row in rows)


class _Lexicon:
    """qa's document frequencies (the lexicon table, counted at each build): what candidates
    are ranked by (ranking.py) and answering weighs the question's words by."""

    def __init__(self, index: DatabaseIndex) -> None:
        self._index = index
        self._counts: dict[tuple[int, str], int] = {}
        self.size = index.manifest["passages"]
        self.average_words = index.manifest.get("average_words") or 1.0
        self.statistics = index.manifest["lexicon"] | {"passages": self.size, "average_words": self.average_words}  # fmt: skip

    def frequencies(self, terms: Iterable[str]) -> dict[tuple[int, str], int]:
        """{(kind, term): count} for each kind the terms occur as (absent: none)."""
        wanted = sorted(set(terms))
        missing = [t for t in wanted if not all((k, t) in self._counts for k in (WORDS, PAIRS, SENTENCES))]  # fmt: skip
        if missing:
            found = dict.fromkeys(((k, t) for t in missing for k in (WORDS, PAIRS, SENTENCES)), 0)
            rows = self._index.query(  # both key columns given: the primary key's index serves it
                "select kind, term, passages from lexicon where kind in (0, 1, 2) and term = any(%s)",
                (missing,),
            )
            found.update({(kind, term): n for kind, term, n in rows})
            if len(self._counts) > 100_000:  # a long-running server's cache stays bounded
                self._counts.clear()
            self._counts.update(found)
        return {(k, t): self._counts.get((k, t), 0) for t in wanted for k in (WORDS, PAIRS, SENTENCES)}  # fmt: skip

    def document_frequency(self, token: str) -> int:
        return self.frequencies([token])[(WORDS, token)]
