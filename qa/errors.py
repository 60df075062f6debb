"""Domain errors: each carries a one-line message that says what to do."""

from __future__ import annotations


class QAError(Exception):
    """Something the user can fix; surfaces print the message, never a traceback."""


class IndexMissing(QAError):
    pass


class IndexStale(QAError):
    pass


class IndexCorrupt(QAError):
    pass


class CorpusEmpty(QAError):
    pass


class BadInput(QAError):
    pass


class BadDocument(QAError):
    """A corpus file that cannot be read (a damaged PDF, say); the build skips it."""


class UnknownDocument(QAError):
    """A document named in a request that the index does not hold (HTTP 404)."""
