"""qa: offline, cited question answering over a folder of documents.

The public API, loaded lazily so that `qa --help` stays instant:

    from qa import Assistant, Settings
    assistant = Assistant(Settings(corpus=Path("corpus"), index=Path("index")))
    assistant.ask("When was the latest joint declaration published?").to_dict()
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["Answer", "Assistant", "Hit", "QAError", "Settings", "build"]

_WHERE = {
    "Answer": "qa.answer.answering",
    "Assistant": "qa.answer.assistant",
    "Hit": "qa.search.hybrid",
    "QAError": "qa.errors",
    "Settings": "qa.settings",
    "build": "qa.index",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
