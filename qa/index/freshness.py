"""Freshness: whether the current build still matches the corpus, the model and qa's formats."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.errors import IndexCorrupt, IndexStale
from qa.index import layout
from qa.index.integrity import encoder_damage, verify
from qa.index.lexical import VERSION as LEXICAL_VERSION
from qa.ingest.corpus import scan
from qa.settings import is_database

# Bump whenever parsing, chunking or `index_text` change: every stored passage and vector is stale.
# 2: index_text names untitled documents by file name; long first-line titles
# 3: PDF read by PDFium in reading order without furniture; page_end; titles and dates stated by
#    the file; Markdown front matter and markup; per-document kept text and warnings
# 4: PDF footnotes that outweigh the body (issue 18)
# 5: web pages' navigation and metadata, Markdown's broken emphasis, sentences at abbreviations
#    and list items, line-end compounds in PDFs (issue 18)
# 6: notes saved as numbered rows in Markdown are notes (issue 18)
# 7: a figure's or a table's caption names no section
# 8: no passage of bare markup ("###"), a label ("Disclaimer:") or a caption alone
FORMAT_VERSION = 8


def fingerprint(corpus: Path, max_bytes: int | None = None, files: list[Path] | None = None) -> dict[str, str]:  # fmt: skip
    """sha256 of every corpus file (or of files, already listed), by path relative to corpus."""
    listed = scan(corpus, max_bytes).files if files is None else files
    return {
        p.relative_to(corpus).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in listed
    }


def check_fresh(
    manifest: dict,
    corpus: Path | None,
    model: str | None,
    files: dict[str, str] | None = None,
    index: str | None = None,
) -> None:
    """Raise IndexStale unless the build matches; files is the corpus fingerprint when the
    caller already has it (a build hashes the corpus once); index names the index in messages
    (a folder, or a database as shown)."""
    if manifest.get("lexical") != LEXICAL_VERSION:
        # Only BM25 is rebuilt: the passages and vectors of unchanged files are reused.
        raise IndexStale("the index matches words the old way: run `qa index`")
    if model is not None and manifest["model"]["name"] != model:
        raise IndexStale(
            f"index was built with model {manifest['model']['name']}, not {model}: "
            "run `qa index --rebuild`"
        )
    if files is None and corpus is not None and corpus.is_dir():
        # Judged by the rules the build used: a file the build skipped for its size stays skipped.
        files = fingerprint(corpus, (manifest.get("limits") or {}).get("max_file_bytes"))
    if files is not None and files != manifest["files"]:
        raise IndexStale(_changed(manifest.get("corpus"), corpus, index))


def _changed(built: str | None, corpus: Path | None, index: str | None) -> str:
    """Why an index does not match its corpus, naming both folders, and what to run."""
    at = f" at {index}" if index else ""
    corpus = corpus.absolute() if corpus is not None else None
    option = "" if index is None else f" --store {index}" if is_database(index) else f" --index {index}"  # fmt: skip
    if built and corpus is not None and Path(built) != corpus.resolve():
        return (
            f"the index{at} was built from {built}, not {corpus}: give `--corpus {built}`, or "
            f"run `qa index --corpus {corpus}{option}` to rebuild it from {corpus}"
        )
    source = f"the corpus at {corpus}" if corpus is not None else "the corpus"
    return f"{source} changed since the index{at} was built from it: run `qa index{option}`"


def status(root: Path, corpus: Path, model: str, files: dict[str, str] | None = None) -> str:
    """'missing', 'corrupt', 'stale', 'encoder damaged' (all but the ONNX encoder is fresh: `qa
    index` repairs it) or 'fresh'. Hashes the encoder (about 90 MB, about 0.1 s)."""
    folder = layout.current(root)
    if not layout.has_manifest(folder):
        return "missing"
    try:
        manifest = layout.read_manifest(folder)
        if manifest.get("format") != FORMAT_VERSION:
            return "stale"
        verify(root, folder, manifest)
        check_fresh(manifest, corpus, model, files)
    except (IndexCorrupt, OSError, ValueError, KeyError, TypeError, AttributeError):
        return "corrupt"
    except IndexStale:
        return "stale"
    return "encoder damaged" if encoder_damage(folder, manifest) else "fresh"
