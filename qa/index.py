"""The index: a self-describing folder of passages, dense vectors and a BM25 index.

Layout of the index folder:

    current -> build-<id>/       a symlink, swapped atomically when a build finishes
    build-<id>/manifest.json      format, model, dimension, chunking, fingerprint of every file,
                                  sha256 of every other file of the build, and a seal of itself
    build-<id>/passages.jsonl     passages with their exact spans and citations
    build-<id>/documents.json     each document's kept (for PDF and HTML, extracted) text, title,
                                  date and page starts
    build-<id>/dense.faiss        inner product over normalised embeddings
    build-<id>/lexical/           BM25 (bm25s arrays, no pickle) over stems, stem pairs and
                                  sentences, and each sentence's passage

A build writes a new `build-<id>` beside the old one and only then repoints `current`, so a
failed or killed build leaves the previous index in use (`.lock` keeps builds one at a time).
Loading checks every checksum, so a truncated or altered file is refused, never half-read.

A build reuses the passages and vectors of every file whose hash, model and chunking are
unchanged since the current build, so only changed and added files are embedded again; bump FORMAT_VERSION whenever parsing, chunking or
`index_text` change, since that makes every stored passage and vector stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

import numpy as np

from qa.corpus import max_file_bytes, scan
from qa.documents import Document, Endnote, parse
from qa.errors import BadDocument, CorpusEmpty, IndexCorrupt, IndexMissing, IndexStale
from qa.extract import SUFFIXES, extract
from qa.lexical import VERSION as LEXICAL_VERSION
from qa.lexical import Lexical, tokenize
from qa.onnx_embedding import ENCODER_DIR, write_encoder
from qa.passages import DEFAULT_MAX_WORDS, Passage, cut

FORMAT_VERSION = 2  # 2: index_text names untitled documents by file name; long first-line titles
CORPUS_SUFFIXES = SUFFIXES
CURRENT = "current"
# Dense search may turn approximate above this many passages: exact search of 200,000 takes
# about 30 ms a query on one core, HNSW under 1 ms on real vectors (benchmarks/RESULTS.md, benchmarks/scale.py).
HNSW_ABOVE = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 100
# A build tries these efSearch in turn and keeps the first whose recall@10 against exact search
# reaches MIN_RECALL on probes drawn from the passages themselves; if none does, it stays exact.
# Real questions over real passages reach 0.994 at 64; random vectors, which have no
# neighbourhoods, 0.65 at 512 (100,000 of them). The target is 0.98 for questions; probes from
# the indexed vectors are a little easier than outside queries (0.985 against 0.970 on 5,000
# random vectors at efSearch 128), so a build asks 0.99 of them.
HNSW_EF_SEARCH = (64, 128, 256, 512)
MIN_RECALL = 0.99
RECALL_PROBES = 200


def corpus_files(corpus: Path, max_bytes: int | None = None) -> list[Path]:
    """The files to index (see qa/corpus.py for what is skipped and why)."""
    return scan(corpus, max_bytes).files


def fingerprint(corpus: Path, max_bytes: int | None = None) -> dict[str, str]:
    """sha256 of every corpus file, by its path relative to the corpus folder."""
    return {
        p.relative_to(corpus).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in corpus_files(corpus, max_bytes)
    }


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
    extracted = extract(corpus / relative, warn)
    return parse(relative, extracted.text, extracted.pages)


@dataclass(frozen=True)
class BuildReport:
    built: bool
    documents: int
    passages: int
    seconds: float
    folder: Path
    reason: str
    embedded: int | None = None  # passages embedded by this build; the others were reused


class Index:
    """A loaded index: passages, their vectors and their BM25 scores."""

    def __init__(self, folder: Path, manifest: dict, passages: list[Passage], documents: dict, dense, lexical: Lexical) -> None:  # fmt: skip
        self.folder = folder
        self.manifest = manifest
        self.passages = passages
        self.documents = documents
        self.dense = dense
        self.lexical = lexical
        self._position = {p.id: i for i, p in enumerate(passages)}

    @cached_property
    def evidence_frequencies(self) -> Counter[str]:
        """In how many passages each term occurs, counting what passages state (not the titles
        and headings they are enriched with for search, which would make every title word common)."""
        return Counter(t for p in self.passages for t in set(tokenize(p.evidence)))

    def preceding(self, passage: Passage, n: int) -> list[Passage]:
        """Up to n passages just before this one in the same document and section."""
        found: list[Passage] = []
        i = self._position[passage.id] - 1
        while i >= 0 and len(found) < n:
            p = self.passages[i]
            if p.source != passage.source or p.section != passage.section:
                break
            found.insert(0, p)
            i -= 1
        return found

    @classmethod
    def load(cls, root: Path, corpus: Path | None = None, model: str | None = None) -> Index:
        """Load the current build under root; refuse one that is stale for corpus or model, or
        damaged. Everything is read into memory, so the build may be removed once loaded."""
        folder = (root / CURRENT).resolve()  # once: every file comes from the same build
        try:
            return cls._load(root, folder, corpus, model)
        except IndexCorrupt:
            # A build swapped in and removed this one while it was being read: read the new one.
            if (root / CURRENT).resolve() == folder:
                raise
            return cls._load(root, (root / CURRENT).resolve(), corpus, model)

    @classmethod
    def _load(cls, root: Path, folder: Path, corpus: Path | None, model: str | None) -> Index:
        import faiss

        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise IndexMissing(f"no index at {root}: run `qa index`")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexStale(f"index at {root} has an old format: run `qa index --rebuild`")
            verify(root, folder, manifest)
            check_fresh(manifest, corpus, model)
            passages = [_passage_from_json(line) for line in _lines(folder / "passages.jsonl")]
            documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
            dense = faiss.read_index(str(folder / "dense.faiss"))
            lexical = Lexical.load(folder / "lexical")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
            reason = " ".join(str(exc).split())[:160]  # faiss's messages run over several lines
            raise IndexCorrupt(
                f"index at {root} is damaged ({reason}): run `qa index --rebuild`"
            ) from exc
        if dense.ntotal != len(passages) or lexical.size != len(passages):
            raise IndexCorrupt(f"index at {root} is inconsistent: run `qa index --rebuild`")
        return cls(folder, manifest, passages, documents, dense, lexical)


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a build but its manifest and its encoder, by relative path.

    The ONNX encoder is checked otherwise: it must reproduce the model's probe vectors, and a
    damaged one falls back to sentence-transformers rather than failing the index. Hashing its
    90 MB would also cost every `qa ask` a quarter of a second."""
    return {
        p.relative_to(folder).as_posix(): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and p != folder / "manifest.json"
        and p.relative_to(folder).parts[0] != ENCODER_DIR
    }


def verify(root: Path, folder: Path, manifest: dict) -> None:
    """Refuse a build any of whose files is missing, truncated or altered since it was written."""
    expected = manifest.get("checksums")
    if not isinstance(expected, dict) or not expected:
        raise IndexCorrupt(f"index at {root} has no checksums: run `qa index --rebuild`")
    if manifest.get("seal") != seal(manifest):
        raise IndexCorrupt(
            f"index at {root} is damaged (manifest.json was altered): run `qa index --rebuild`"
        )
    for relative, digest in expected.items():
        path = folder / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts or not path.is_file():
            problem = "is missing"
        elif _sha256(path) != digest:
            problem = "does not match its checksum"
        else:
            continue
        raise IndexCorrupt(
            f"index at {root} is damaged ({relative} {problem}): run `qa index --rebuild`"
        )


def seal(manifest: dict) -> str:
    """sha256 of the manifest's own content, so that an edit to it is noticed too."""
    content = {key: value for key, value in manifest.items() if key != "seal"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_fresh(manifest: dict, corpus: Path | None, model: str | None) -> None:
    if manifest.get("lexical") != LEXICAL_VERSION:
        # Only BM25 is rebuilt: the passages and vectors of unchanged files are reused.
        raise IndexStale("the index matches words the old way: run `qa index`")
    if model is not None and manifest["model"]["name"] != model:
        raise IndexStale(
            f"index was built with model {manifest['model']['name']}, not {model}: "
            "run `qa index --rebuild`"
        )
    # Judged by the rules the build used: a file the build skipped for its size stays skipped.
    max_bytes = (manifest.get("limits") or {}).get("max_file_bytes")
    if (
        corpus is not None
        and corpus.is_dir()
        and fingerprint(corpus, max_bytes) != manifest["files"]
    ):
        raise IndexStale("corpus changed since the index was built: run `qa index`")


def status(root: Path, corpus: Path, model: str) -> str:
    """'missing', 'corrupt', 'stale' or 'fresh'."""
    folder = (root / CURRENT).resolve()
    path = folder / "manifest.json"
    if not path.is_file():
        return "missing"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            return "stale"
        verify(root, folder, manifest)
        check_fresh(manifest, corpus, model)
    except (IndexCorrupt, OSError, ValueError, KeyError, TypeError, AttributeError):
        return "corrupt"
    except IndexStale:
        return "stale"
    return "fresh"


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
    import faiss

    started = time.perf_counter()
    max_bytes = max_file_bytes(max_file_mb)
    listing = scan(corpus, max_bytes)
    for skipped in listing.skipped:
        progress(f"skipping {skipped.source}: {skipped.reason}")
    files = fingerprint(corpus, max_bytes)
    if not files and listing.skipped:
        raise CorpusEmpty(f"nothing to index in {corpus}: every file was skipped (see above)")
    if not files:
        raise CorpusEmpty(f"no documents in {corpus}: add some, then run `qa index`")
    state = status(root, corpus, embedder.name)
    if state == "fresh" and not rebuild:
        current = json.loads((root / CURRENT / "manifest.json").read_text(encoding="utf-8"))
        if current["chunking"]["max_words"] == max_words and current["files"] == files:
            with _build_lock(root):  # still clear what killed builds left behind
                _remove_old_builds(root, keep=(root / CURRENT).resolve().name)
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
        "files": files,
        "documents": len(documents),
        "passages": len(passages),
        "dense": dense_choice,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    # One writer at a time, so that no build removes another's staging folder as debris.
    with _build_lock(root):
        staging = root / f".tmp-{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        try:
            _write_lines(
                staging / "passages.jsonl",
                (json.dumps(asdict(p), ensure_ascii=False) for p in passages),
            )
            _write_text(staging / "documents.json", json.dumps(documents, ensure_ascii=False))
            faiss.write_index(dense, str(staging / "dense.faiss"))
            lexical.save(staging / "lexical")
            write_encoder(embedder, staging / ENCODER_DIR, progress)
            # The manifest goes last, with a checksum of every other file: a build folder without
            # one is never loaded, and one whose files changed since is refused.
            manifest["checksums"] = checksums(staging)
            manifest["seal"] = seal(manifest)
            _write_text(staging / "manifest.json", json.dumps(manifest, indent=2))
            _fsync_tree(staging)
            final = root / f"build-{time.strftime('%Y%m%d%H%M%S')}-{staging.name[5:]}"
            staging.rename(final)
            _swap_current(root, final.name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _remove_old_builds(root, keep=final.name)
    reason = (
        "rebuilt on request"
        if state == "fresh"
        else {
            "missing": "new",
            "stale": "corpus or model changed",
            "corrupt": "the old one was damaged",
        }[state]
    )
    seconds = time.perf_counter() - started
    return BuildReport(True, len(documents), len(passages), seconds, root, reason, embedded)


@dataclass(frozen=True)
class Stored:
    """One file's share of an earlier build: its kept document, passages and their vectors."""

    document: dict
    passages: list[Passage]
    vectors: np.ndarray


def reusable(root: Path, files: dict[str, str], model: str, max_words: int) -> dict[str, Stored]:
    """What the current build holds for each file that is unchanged since (same hash, format,
    model and chunking); empty when there is no usable build."""
    import faiss

    folder = (root / CURRENT).resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        verify(root, folder, manifest)  # never carry damaged passages or vectors into a new build
        built_with = (manifest.get("format"), manifest["model"]["name"], manifest["chunking"])
        if built_with != (FORMAT_VERSION, model, {"max_words": max_words}):
            return {}
        unchanged = {s for s, digest in files.items() if manifest["files"].get(s) == digest}
        if not unchanged:
            return {}
        documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        passages = [_passage_from_json(line) for line in _lines(folder / "passages.jsonl")]
        dense = faiss.read_index(str(folder / "dense.faiss"))
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

        def warn(message: str, source: str = relative) -> None:
            progress(f"warning: {source}: {message}")

        try:
            document = read_document(corpus, relative, warn)
            own = cut(document, max_words)
        except BadDocument as exc:
            progress(f"skipping {relative}: {exc}")
            document, own = parse(relative, ""), []
        except Exception as exc:  # a file that breaks a parser costs that file, not the build
            progress(f"skipping {relative}: could not be parsed ({type(exc).__name__})")
            document, own = parse(relative, ""), []
        kept = {"title": document.title, "date": document.date, "text": document.text}
        fresh[relative] = (kept | {"pages": list(document.pages)}, own)
    new_passages = [p for _, passages in fresh.values() for p in passages]
    reused = f", reusing {len(previous)} unchanged" if previous else ""
    progress(f"embedding {len(new_passages)} passages from {len(fresh)} documents{reused}")
    # The same text (a document saved as both PDF and HTML, say) is embedded once.
    texts = list(dict.fromkeys(index_text(p) for p in new_passages))
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


def dense_index(vectors: np.ndarray, progress: Callable[[str], None] = lambda message: None) -> tuple[object, dict]:  # fmt: skip
    """The dense index and what was chosen: exact inner product up to HNSW_ABOVE vectors; above,
    HNSW if it finds, at one of HNSW_EF_SEARCH, MIN_RECALL of the exact top 10 of probes drawn
    from the vectors (the probe itself left out), else exact search again."""
    import faiss

    if len(vectors) > HNSW_ABOVE:
        hnsw = hnsw_index(vectors)
        ef, recall = tune(hnsw, vectors)
        if ef is not None:
            progress(f"dense search: HNSW, efSearch {ef} (recall@10 {recall:.3f} against exact)")
            return hnsw, {"kind": "hnsw", "ef_search": ef, "recall_at_10": round(recall, 4)}
        progress(f"dense search stays exact: HNSW found only {recall:.3f} of the exact top 10")
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    return exact, {"kind": "exact"}


def tune(hnsw, vectors: np.ndarray) -> tuple[int | None, float]:
    """Set hnsw's efSearch to the first of HNSW_EF_SEARCH whose recall@10 against exact search
    reaches MIN_RECALL on probes drawn from vectors; return it (None if none does) and its recall."""
    import faiss

    rng = np.random.default_rng(0)
    probes = vectors[rng.choice(len(vectors), min(RECALL_PROBES, len(vectors)), replace=False)]
    _, truth = faiss.knn(probes, vectors, 11, metric=faiss.METRIC_INNER_PRODUCT)
    recall = 0.0
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = ef  # saved with the index
        _, found = hnsw.search(probes, 11)
        recall = _recall_at_10(found, truth)
        if recall >= MIN_RECALL:
            return ef, recall
    return None, recall


def hnsw_index(vectors: np.ndarray):
    """An HNSW graph over vectors with qa's parameters (efSearch is set by dense_index)."""
    import faiss

    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    return hnsw


def _recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of each row's exact top 10 (its first hit, the probe itself, left out) found."""
    shares = []
    for got, want in zip(found, truth, strict=True):
        wanted = set(want[want >= 0].tolist()) - {int(want[0])}
        shares.append(len(wanted & set(got.tolist())) / len(wanted) if wanted else 1.0)
    return float(np.mean(shares))


@contextmanager
def _build_lock(root: Path):
    """Hold root/.lock for writing; the lock goes with its process, even one killed with -9."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _swap_current(root: Path, target: str) -> None:
    link = root / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(target, link)
    os.replace(link, root / CURRENT)
    _fsync_dir(root)


def _remove_old_builds(root: Path, keep: str) -> None:
    """Remove earlier builds and what killed builds left behind (staging folders, spare links).

    A process that loaded an earlier build keeps answering: it holds everything in memory."""
    for child in root.iterdir():
        if child.name.startswith(f".{CURRENT}-") and child.is_symlink():
            child.unlink(missing_ok=True)
        elif child.name != keep and child.name.startswith(("build-", ".tmp-")):
            shutil.rmtree(child, ignore_errors=True)


def _lines(path: Path):
    with path.open(encoding="utf-8") as f:
        yield from (line for line in f if line.strip())


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_lines(path: Path, lines) -> None:
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _passage_from_json(line: str) -> Passage:
    data = json.loads(line)
    data["endnotes"] = tuple(Endnote(**note) for note in data["endnotes"])
    return Passage(**data)


def vectors_of(index: Index) -> np.ndarray:
    """All passage vectors, in passage order (for exact scoring of small candidate sets)."""
    return index.dense.reconstruct_n(0, index.dense.ntotal)
