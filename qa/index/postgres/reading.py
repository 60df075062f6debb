"""Where a store open for queries reads: its read replicas (QA_STORE_REPLICAS, streaming
replicas of the primary), else the primary itself. Builds always write to the primary.

A server that fails (stopped, unreachable, or cancelling a query for a conflict with recovery)
is set aside for RETRY_S and the query retried on the next: the replicas (each process starts
at its own, by process id, so that many `qa serve` processes spread over them), then the primary. Only when none answers does a query fail, with one line (a 503 over HTTP).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from qa.errors import QAError
from qa.index.postgres import schema

# How long a server that failed is passed over before it is tried again: long enough that a
# stopped replica does not cost every query a connection attempt, short enough that a replica
# back from a restart takes its share again within a minute.
RETRY_S = 30.0


class Readers:
    """One connection at a time, to the first server that answers (replicas, then primary).
    Not thread-safe: its owner serialises queries (qa/index/postgres/loaded.py)."""

    def __init__(self, primary: str, replicas: tuple[str, ...] = ()) -> None:
        turn = os.getpid() % len(replicas) if replicas else 0
        self.servers = [*replicas[turn:], *replicas[:turn], primary]
        self._down: dict[str, float] = {}
        self._conn = None
        self.current: str | None = None  # the server read from now
        self._connect()

    def execute(self, sql: str, params=None) -> list[tuple]:
        """The rows of one query, from the first server that answers it."""
        return self.run(lambda conn: conn.execute(sql, params).fetchall())

    def run(self, work: Callable):
        """work(connection), on the first server that answers it."""
        import psycopg

        if self._conn is not None and self.current != self._ready()[0]:
            self.close()  # a replica set aside is due to be tried again
        for _ in self.servers:
            if self._conn is None:
                self._connect()
            try:
                return work(self._conn)
            except (psycopg.OperationalError, psycopg.errors.SerializationFailure) as exc:
                self._fail()
                reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        which = f"{schema.shown(self.servers[-1])}{' or its replicas' if len(self.servers) > 1 else ''}"  # fmt: skip
        raise QAError(f"cannot read from {which} ({reason}): check that it is running")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self) -> None:
        """Connect to the first server not set aside (the primary when all are)."""
        problem = None
        for server in self._ready():
            try:
                self._conn, self.current = schema.connect(server), server
                return
            except QAError as exc:
                self._down[server], problem = time.monotonic(), exc
        raise problem

    def _ready(self) -> list[str]:
        """The servers not set aside, in order (the primary alone when all are)."""
        now = time.monotonic()
        ready = [s for s in self.servers if now - self._down.get(s, -RETRY_S) >= RETRY_S]
        return ready or self.servers[-1:]

    def _fail(self) -> None:
        self._down[self.current] = time.monotonic()
        try:
            self._conn.close()
        finally:
            self._conn = None
