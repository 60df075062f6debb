"""The folder an index was built from: recorded at each build, used when a command names no
corpus, and guarded, so that a rebuild from another folder never drops documents unasked.

`qa ask --index /tmp/idx` from any working folder answers from the documents /tmp/idx was built
from; `qa index --index /tmp/idx` updates it from that folder, not from ./corpus (where a
34-document index once became a 1-document one, silently).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from qa.errors import QAError
from qa.ingest.corpus import max_file_bytes, scan
from qa.settings import Settings

SHOWN = 3  # documents named in a message; the rest are counted


@dataclass(frozen=True)
class Origin:
    """What an index records of where it came from."""

    corpus: Path  # the folder it was built from, absolute
    sources: tuple[str, ...]  # the documents it holds, by path relative to that folder


def origin(settings: Settings) -> Origin | None:
    """What the index settings name records of its folder; None where it records none (no index
    yet, one built before qa recorded it, or one that cannot be read: loading it says why)."""
    try:
        manifest = _manifest(settings)
        return Origin(Path(manifest["corpus"]), tuple(manifest["files"]))
    except Exception:  # no index, an older one, an unreadable one: loading it says which
        return None


def _manifest(settings: Settings) -> dict:
    if settings.database:
        from qa.index.postgres import schema

        conn = schema.connect(settings.database)
        try:
            return schema.read_meta(conn, "manifest")
        finally:
            conn.close()
    from qa.index import layout

    return layout.read_manifest(layout.current(settings.index))


def recorded(corpus: Path) -> str:
    """A corpus folder as a manifest records it."""
    return str(corpus.resolve())


def with_own_corpus(settings: Settings) -> Settings:
    """settings with, where no corpus was chosen (no --corpus, no QA_CORPUS), the folder the
    index was built from."""
    if settings.corpus_from != "default":
        return settings
    built = origin(settings)
    if built is None:
        return settings
    return replace(settings, corpus=built.corpus, corpus_from="index")


def check_rebuild(
    settings: Settings, location: str, max_file_mb: float | None, say: Callable[[str], None]
) -> None:
    """Before a build from settings.corpus: refuse one from another folder than the index's own
    that would drop documents, unless the corpus was chosen (by --corpus, or by the code that
    made settings); say what a chosen one drops."""
    built = origin(settings)
    if built is None or built.corpus == settings.corpus.resolve() or not settings.corpus.is_dir():
        return  # the same folder; or none that can be read, which the build then says
    here, there = settings.corpus.absolute(), built.corpus
    listing = scan(here, max_file_bytes(max_file_mb)).files
    dropped = sorted(set(built.sources) - {p.relative_to(here).as_posix() for p in listing})
    if not dropped:
        say(f"the index at {location} was built from {there}: it is now built from {here}")
        return
    lost = f"{len(dropped):,} of its {len(built.sources):,} documents ({_named(dropped)})"
    if settings.corpus_from in ("given", "option"):
        say(f"rebuilding the index at {location} from {here}, not {there} where it was built: dropping {lost}")  # fmt: skip
        return
    raise QAError(
        f"the index at {location} was built from {there}, not {here}: rebuilding it from "
        f"{here} would drop {lost}: give `--corpus {here}` to rebuild it from there all the "
        f"same, or `--corpus {there}`"
    )


def _named(sources: list[str]) -> str:
    shown = ", ".join(sources[:SHOWN])
    return shown if len(sources) <= SHOWN else f"{shown} and {len(sources) - SHOWN:,} more"
