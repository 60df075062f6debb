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


class LLMError(QAError):
    """The configured LLM server is down or answered something unusable (HTTP 502)."""


class LLMTimeout(LLMError):
    """The configured LLM server did not answer in time (HTTP 504)."""


class UnknownDocument(QAError):
    """A document named in a request that the index does not hold (HTTP 404)."""
