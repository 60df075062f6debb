"""Keeping the index in step with the corpus folder: notice added, changed and removed files,
wait until they are still, rebuild incrementally, and hand the new index over.

The folder is polled (each file's size and modification time, through the same scan a build uses,
so the same files are seen) rather than watched through inotify: no compiled dependency, and it
works where change events do not arrive (network shares, folders mounted into containers). A poll
costs about 0.12 ms a file on this shared 2-core machine under load (`python -m qa.index.watch`: 5,000
files in 585 ms), so the watcher waits at least POLL_LOAD times as long as its last poll took
between polls: it never takes more than a tenth of a core, and a 5,000-file folder is still seen
within seconds.

A file is indexed only once the folder has been still for SETTLE_SECONDS: a file still being
copied changes size between polls, so it is waited for, not indexed broken. One that is still
unreadable then (a copy that paused) is skipped with a warning and read again as soon as it
changes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.ingest.corpus import scan

POLL_SECONDS = 1.0  # at least this long between polls...
POLL_LOAD = 10  # ...and at least this many times as long as the last poll took
SETTLE_SECONDS = 2.0

State = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Change:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    def __str__(self) -> str:
        parts = [
            f"{len(names)} {what}"
            for what, names in (
                ("added", self.added),
                ("changed", self.changed),
                ("removed", self.removed),
            )  # fmt: skip
            if names
        ]
        return ", ".join(parts) or "no change"


def folder_state(corpus: Path, max_bytes: int | None = None) -> State:
    """Size and modification time of every file a build would read (and of those it would skip,
    so that a file growing past the size limit is noticed too)."""
    state: State = {}
    listing = scan(corpus, max_bytes)
    for path in listing.files:
        try:
            info = os.stat(path)
        except OSError:
            continue
        state[path.relative_to(corpus).as_posix()] = (info.st_size, info.st_mtime_ns)
    for skipped in listing.skipped:
        state[skipped.source] = (-1, 0)
    return state


def difference(before: State, after: State) -> Change:
    return Change(
        added=tuple(sorted(set(after) - set(before))),
        changed=tuple(sorted(s for s in set(after) & set(before) if after[s] != before[s])),
        removed=tuple(sorted(set(before) - set(after))),
    )


class CorpusWatch:
    """Says when the corpus folder differs from what the index holds and has been still for
    `settle` seconds."""

    def __init__(
        self,
        corpus: Path,
        max_bytes: int | None = None,
        settle: float = SETTLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.corpus = corpus
        self.max_bytes = max_bytes
        self.settle = settle
        self.clock = clock
        self.indexed = self.state()
        self.seen = self.indexed
        self.still_since = clock()

    def state(self) -> State:
        try:
            return folder_state(self.corpus, self.max_bytes)
        except QAError:
            return {}  # the folder itself went away: every file is removed

    def poll(self) -> tuple[Change, State] | None:
        """The change to index and the folder's state, once the folder is still; else None."""
        now = self.state()
        if now != self.seen:
            self.seen, self.still_since = now, self.clock()
            return None
        if now == self.indexed or self.clock() - self.still_since < self.settle:
            return None
        return difference(self.indexed, now), now

    def indexed_as(self, state: State) -> None:
        """The index now holds the folder as it was in state."""
        self.indexed = state


def keep_in_step(
    watch: CorpusWatch,
    rebuild: Callable[[], object],
    stop: threading.Event,
    progress: Callable[[str], None] = lambda message: None,
    interval: float = POLL_SECONDS,
) -> None:
    """Until stop is set: rebuild whenever the folder changed and is still. rebuild() builds the
    index (incrementally) and swaps it in; a build that fails says why and is tried again at the
    next change."""
    pause = interval
    while not stop.wait(pause):
        started = time.perf_counter()
        found = watch.poll()
        pause = max(interval, POLL_LOAD * (time.perf_counter() - started))
        if found is None:
            continue
        change, state = found
        progress(f"corpus changed ({change}): updating the index")
        try:
            rebuild()
        except QAError as exc:
            progress(f"error: {exc}")
        except Exception as exc:  # a watcher that dies silently would leave the index behind
            progress(f"error: the update failed ({type(exc).__name__}: {exc}); retrying at the next change")  # fmt: skip
        watch.indexed_as(state)


def start(
    watch: CorpusWatch,
    rebuild: Callable[[], object],
    progress: Callable[[str], None] = lambda message: None,
    interval: float = POLL_SECONDS,
) -> tuple[threading.Thread, threading.Event]:
    """keep_in_step in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=keep_in_step,
        args=(watch, rebuild, stop, progress, interval),
        name="qa-watch",
        daemon=True,
    )
    thread.start()
    return thread, stop


def updater(
    settings, progress: Callable[[str], None] = lambda message: None, max_words: int | None = None
) -> Callable[[], object]:
    """A function that brings the index up to date as `qa index` does (reusing every unchanged
    file's passages and vectors), in a child process (qa/index/worker.py): a process that lives
    on keeps none of what only a build needs."""
    from qa.index.worker import build_in_child
    from qa.ingest.passages import DEFAULT_MAX_WORDS

    def update():
        return build_in_child(settings, max_words or DEFAULT_MAX_WORDS, progress)

    return update


def _measure(files: int = 5000) -> None:
    """Time one poll of a folder of `files` small files."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for i in range(files):
            Path(folder, f"{i:05d}.txt").write_text("some text\n")
        started = time.perf_counter()
        polls = 20
        for _ in range(polls):
            folder_state(Path(folder))
        each = (time.perf_counter() - started) / polls
        print(f"one poll of {files:,} files: {each * 1000:.1f} ms ({each * 1e6 / files:.1f} µs a file)")  # fmt: skip


if __name__ == "__main__":
    _measure()
