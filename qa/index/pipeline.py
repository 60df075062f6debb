"""The build pipeline: corpus files -> documents -> passages -> vectors and BM25 -> a new build.

A build scans and hashes the corpus once, and reuses the passages and vectors of every file whose
hash, model and chunking are unchanged since the current build, so only changed and added files
are read and embedded again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from qa.errors import BadDocument, CorpusEmpty, IndexCorrupt
from qa.index import layout
from qa.index.dense import dense_index
from qa.index.freshness import FORMAT_VERSION, fingerprint, status
from qa.index.integrity import checksums, encoder_checksums, seal, verify
from qa.index.lexical import VERSION as LEXICAL_VERSION
from qa.index.lexical import Lexical
from qa.index.origin import recorded
from qa.ingest.corpus import max_file_bytes, scan
from qa.ingest.documents import Document, parse
from qa.ingest.extract import SUFFIXES, Extracted, extract
from qa.ingest.passages import DEFAULT_MAX_WORDS, Passage, cut
from qa.models.onnx_embedding import write_encoder


def index_text(passage: Passage) -> str:
    """What is embedded and matched: the exact span enriched with its context and endnotes.

    A document without a stated title is named by its file name (`Super_Bowl_50.txt` gives
    "Super Bowl 50"): people name files for what they hold, and a passage that never repeats
    its topic (say, "It was held in February") needs it to be found.
    """
    title = passage.title or name_of(passage.source)
    section = passage.section if passage.section != title else None
    parts = [title, section or "", passage.text]
    parts += [note.text for note in passage.endnotes]
    return "\n".join(p for p in parts if p)


def name_of(source: str) -> str:
    """A file's name as words (no folder, no suffix, separators as spaces); "" for a bare number."""
    name = " ".join(re.split(r"[\s_]+", PurePosixPath(source).stem)).strip()
    return name if any(c.isalpha() for c in name) else ""


def read_document(
    corpus: Path, relative: str, warn: Callable[[str], None] = lambda message: None
) -> Document:
    """A corpus file read and parsed; warn(message) for each thing that could not be read."""
    return _read(corpus, relative, warn)[0]


def _read(corpus: Path, relative: str, warn: Callable[[str], None]) -> tuple[Document, Extracted]:
    extracted = extract(corpus / relative, warn)
    for message in extracted.warnings:
        warn(message)
    document = parse(
        relative,
        extracted.text,
        extracted.pages,
        extracted.page_numbers,
        extracted.title,
        extracted.date,
    )
    return document, extracted


def kept_record(document: Document, passages: list[Passage], extracted: Extracted | None, warnings: list[str]) -> dict:  # fmt: skip
    """What documents.json keeps of one document: its extracted text (which citations index),
    title, date, pages, how much of it became passages, and what could not be read."""
    record = {
        "title": document.title,
        "date": document.date,
        "text": document.text,
        "pages": list(document.pages),
    }
    if document.page_numbers:
        record["page_numbers"] = list(document.page_numbers)
    in_passages = sum(len(p.text.split()) for p in passages)
    record["kept"] = {"words": len(document.text.split()), "in_passages": in_passages}
    if extracted is not None and extracted.kept_share is not None:
        record["kept"]["share_of_file"] = round(extracted.kept_share, 3)
    if warnings:
        record["warning"] = "; ".join(dict.fromkeys(warnings))
    return record


def kept_line(source: str, record: dict) -> str:
    """One line saying what a build kept of a document (its warnings are said as they arise)."""
    kept = record.get("kept") or {}
    share = kept.get("share_of_file")
    of_file = f" ({share:.0%} of the text in the file)" if share is not None else ""
    return f"{source}: kept {counted(kept.get('words', 0), 'word')}{of_file}"


def counted(number: int, noun: str) -> str:
    """A count with its noun, plural unless it is one: "1 passage", "1,200 words"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


# The formats read, as messages name them: ".txt, .md, .markdown, .html, .htm, .pdf or .docx".
FORMATS = ", ".join(SUFFIXES[:-1]) + " or " + SUFFIXES[-1]


@dataclass(frozen=True)
class BuildReport:
    built: bool
    documents: int
    passages: int
    seconds: float
    folder: Path
    reason: str
    embedded: int | None = None  # passages embedded by this build; the others were reused
    # Passages whose text another passage of this build has word for word (a report saved as
    # both PDF and web page): embedded once, so `passages` can exceed `embedded` on a new build.
    repeats: int = 0
    reused: int | None = None  # unchanged files whose passages and vectors were carried over


def build(
    corpus: Path,
    root: Path,
    embedder,
    max_words: int = DEFAULT_MAX_WORDS,
    rebuild: bool = False,
    progress: Callable[[str], None] = lambda message: None,
    max_file_mb: float | None = None,
) -> BuildReport:
    """Build the index for corpus under root, unless the current one is up to date."""
    started = time.perf_counter()
    max_bytes = max_file_bytes(max_file_mb)
    listing = scan(corpus, max_bytes)
    for skipped in listing.skipped:
        progress(f"skipping {skipped.source}: {skipped.reason}")
    files = fingerprint(corpus, max_bytes, listing.files)  # the one read of every corpus file
    if not files and listing.skipped:
        raise CorpusEmpty(f"nothing to index in {corpus}: every file was skipped (see above)")
    if not files:
        raise CorpusEmpty(f"no documents in {corpus}: add {FORMATS} files, then run `qa index`")
    state = status(root, corpus, embedder.name, files)
    if state in ("fresh", "encoder damaged") and not rebuild:
        current = layout.read_manifest(layout.current(root))
        if current["chunking"]["max_words"] == max_words and state == "encoder damaged":
            return repair_encoder(root, embedder, progress, started)
        if current["chunking"]["max_words"] == max_words:
            with layout.build_lock(root):  # still clear what killed builds left behind
                layout.remove_old_builds(root, keep=layout.current(root).name)
            return BuildReport(False, len(files), current["passages"], 0.0, root, "up to date")

    previous = {} if rebuild else reusable(root, files, embedder.name, max_words)
    documents, passages, vectors, embedded = gather(
        corpus, files, previous, embedder, max_words, progress
    )
    if not passages:
        raise CorpusEmpty(f"the documents in {corpus} hold no text to index")
    texts = [index_text(p) for p in passages]
    dense, dense_choice = dense_index(vectors, progress)
    lexical = Lexical.build(texts, [p.sentences for p in passages])

    manifest = {
        "format": FORMAT_VERSION,
        "model": {"name": embedder.name, "dimension": int(vectors.shape[1])},
        "chunking": {"max_words": max_words},
        "lexical": LEXICAL_VERSION,
        "limits": {"max_file_bytes": max_bytes},
        "corpus": recorded(corpus),  # the folder a command naming no corpus uses (origin.py)
        "files": files,
        "documents": len(documents),
        "passages": len(passages),
        "dense": dense_choice,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    # One writer at a time, so that no build removes another's staging folder as debris.
    with layout.build_lock(root):
        staging = layout.new_staging(root)
        try:
            layout.write_build(staging, passages, documents, dense, lexical)
            write_encoder(embedder, layout.encoder_folder(staging), progress)
            # The manifest goes last, with a checksum of every other file: a build folder without
            # one is never loaded, and one whose files changed since is refused.
            manifest["checksums"] = checksums(staging)
            manifest["encoder"] = encoder_checksums(staging)
            manifest["seal"] = seal(manifest)
            layout.write_manifest(staging, manifest)
            final = layout.publish(root, staging)
        except BaseException:
            layout.discard(staging)
            raise
        layout.remove_old_builds(root, keep=final.name)
    reasons = {"missing": "new", "stale": "corpus or model changed", "corrupt": "the old one was damaged"}  # fmt: skip
    reason = "rebuilt on request" if state in ("fresh", "encoder damaged") else reasons[state]
    seconds = time.perf_counter() - started
    indexed = len({p.source for p in passages})  # skipped files are listed, but not counted
    fresh = len(passages) - sum(len(stored.passages) for stored in previous.values())
    return BuildReport(
        True, indexed, len(passages), seconds, root, reason, embedded,
        repeats=fresh - embedded, reused=len(previous),
    )  # fmt: skip


ENCODER_REPAIRED = "only its encoder was damaged: re-exported it"


def repair_encoder(root: Path, embedder, progress: Callable[[str], None], started: float) -> BuildReport:  # fmt: skip
    """A new build holding the current one's passages, vectors and BM25 as they are, with the
    ONNX encoder written afresh: no document is read or embedded again."""
    with layout.build_lock(root):
        folder = layout.current(root)
        manifest = layout.read_manifest(folder)
        verify(root, folder, manifest)  # only sound data is carried over
        staging = layout.new_staging(root)
        try:
            layout.copy_data(folder, staging)
            write_encoder(embedder, layout.encoder_folder(staging), progress)
            manifest["encoder"] = encoder_checksums(staging)
            manifest["seal"] = seal(manifest)
            layout.write_manifest(staging, manifest)
            final = layout.publish(root, staging)
        except BaseException:
            layout.discard(staging)
            raise
        layout.remove_old_builds(root, keep=final.name)
    seconds = time.perf_counter() - started
    return BuildReport(
        True, manifest["documents"], manifest["passages"], seconds, root, ENCODER_REPAIRED, 0
    )


@dataclass(frozen=True)
class Stored:
    """One file's share of an earlier build: its kept document, passages and their vectors."""

    document: dict
    passages: list[Passage]
    vectors: np.ndarray


def reusable(root: Path, files: dict[str, str], model: str, max_words: int) -> dict[str, Stored]:
    """What the current build holds for each file that is unchanged since (same hash, format,
    model and chunking); empty when there is no usable build."""
    folder = layout.current(root)
    try:
        manifest = layout.read_manifest(folder)
        verify(root, folder, manifest)  # never carry damaged passages or vectors into a new build
        built_with = (manifest.get("format"), manifest["model"]["name"], manifest["chunking"])
        if built_with != (FORMAT_VERSION, model, {"max_words": max_words}):
            return {}
        unchanged = {s for s, digest in files.items() if manifest["files"].get(s) == digest}
        if not unchanged:
            return {}
        documents = layout.read_documents(folder)
        passages = layout.read_passages(folder)
        dense = layout.read_dense(folder)
        vectors = dense.reconstruct_n(0, dense.ntotal)
    except (IndexCorrupt, OSError, ValueError, KeyError, TypeError, RuntimeError):
        return {}  # nothing usable: build from scratch
    if len(vectors) != len(passages):
        return {}
    rows: dict[str, list[int]] = {s: [] for s in unchanged}
    for i, p in enumerate(passages):
        if p.source in rows:
            rows[p.source].append(i)
    return {
        s: Stored(documents[s], [passages[i] for i in rows[s]], vectors[rows[s]])
        for s in unchanged
        if s in documents
    }


def gather(
    corpus: Path,
    files: dict[str, str],
    previous: dict[str, Stored],
    embedder,
    max_words: int,
    progress: Callable[[str], None],
) -> tuple[dict[str, dict], list[Passage], np.ndarray, int]:
    """Every file's kept document, passages and vectors, in file order: stored ones reused,
    the rest read, cut and embedded together. Returns them with the number of texts embedded."""
    fresh: dict[str, tuple[dict, list[Passage]]] = {}
    for relative in files:
        if relative in previous:
            continue

        warnings: list[str] = []

        def warn(message: str, source: str = relative, said: list[str] = warnings) -> None:
            said.append(message)
            progress(f"warning: {source}: {message}")

        extracted = None
        try:
            document, extracted = _read(corpus, relative, warn)
            own = cut(document, max_words)
        except BadDocument as exc:
            progress(f"skipping {relative}: {exc}")
            document, own = parse(relative, ""), []
            warnings.append(f"not indexed: {exc}")
        except Exception as exc:  # a file that breaks a parser costs that file, not the build
            progress(f"skipping {relative}: could not be parsed ({type(exc).__name__}): check that it opens, or remove it")  # fmt: skip
            document, own = parse(relative, ""), []
            warnings.append(f"not indexed: could not be parsed ({type(exc).__name__})")
        if not document.text.strip() and not warnings:
            warn("no text in it: nothing to index")
        elif not own and not warnings:
            warn("no passage could be cut from its text: check it with `qa show`")
        record = kept_record(document, own, extracted, warnings)
        if extracted is not None or own:  # a skipped file was said once, above
            progress(kept_line(relative, record))
        fresh[relative] = (record, own)
    new_passages = [p for _, passages in fresh.values() for p in passages]
    # The same text (a document saved as both PDF and HTML, say) is embedded once.
    texts = list(dict.fromkeys(index_text(p) for p in new_passages))
    reused = f", reusing {counted(len(previous), 'unchanged file')}" if previous else ""
    repeats = len(new_passages) - len(texts)
    repeated = f" (and {counted(repeats, 'word-for-word repeat')}, not embedded again)" if repeats else ""  # fmt: skip
    read = len({p.source for p in new_passages})  # skipped files are not documents
    progress(f"embedding {counted(len(texts), 'passage')} from {counted(read, 'document')}{reused}{repeated}")  # fmt: skip
    row = {text: i for i, text in enumerate(texts)}
    encoded = embedder.encode(texts, progress=True) if texts else None
    if encoded is not None:
        encoded = encoded[[row[index_text(p)] for p in new_passages]]
    documents, passages, chunks, offset = {}, [], [], 0
    for relative in files:
        if relative in previous:
            stored = previous[relative]
            documents[relative] = stored.document
            passages += stored.passages
            chunks.append(stored.vectors)
        else:
            documents[relative], own = fresh[relative]
            passages += own
            chunks.append(encoded[offset : offset + len(own)] if own else None)
            offset += len(own)
    chunks = [c for c in chunks if c is not None and len(c)]
    vectors = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, 0), np.float32)
    return documents, passages, vectors, len(texts)
