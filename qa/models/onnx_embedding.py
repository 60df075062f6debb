"""Query-time embeddings without torch: the model exported to ONNX, run with onnxruntime and tokenizers.

`qa index` (which has torch at hand) exports the sentence-transformers model once into a cache
keyed by the model's content and copies it into the build folder:

    build-<id>/encoder/model.onnx      transformer + attention-mask mean pooling + L2 normalisation
    build-<id>/encoder/model.weights   its tensors (external data, memory-mapped when loaded)
    build-<id>/encoder/tokenizer.json  the model's own fast tokenizer
    build-<id>/encoder/encoder.json    model name and hash, dimension, max length, probe vectors,
                                       and the sha256 of each of the three files above

Queries then pay for onnxruntime (a fraction of a second to import) instead of torch and
sentence-transformers (seconds). An encoder is used only when its files match their checksums
(hashed on another thread while the session loads) and its output matches the probe vectors,
sentence-transformers' own embeddings of two texts; else the query path falls back to
sentence-transformers with a one-line notice. The probes alone do not suffice: 1 MiB flipped in
the middle of the weights left them within MIN_COSINE while queries ranked differently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.models.checksums import Verification, file_sha256
from qa.models.embedding import Embedder, resolve_model

ENCODER_DIR = "encoder"
# 3: encoder.json holds the sha256 of the files it describes (CHECKED)
EXPORT_VERSION = 3
WEIGHTS = "model.weights"  # beside model.onnx: the graph's tensors as external data
CHECKED = ("model.onnx", WEIGHTS, "tokenizer.json")
MIN_COSINE = 0.9999
# Two texts of different lengths, so that the check also covers padding and the attention mask.
PROBES = (
    "What did the allies agree at the summit?",
    'Naïve résumé — Europe\'s defence [12]: 74 joint proposals in 2016–2017, "information sharing" '
    "remains problematic, and the Common Security and Defence Policy got its name in 2007.",
)


class EncoderUnavailable(Exception):
    """No usable ONNX encoder; the message says why (the caller falls back)."""


class OnnxEmbedder:
    """Same interface and vectors as `Embedder`, from an exported encoder folder.

    Its files are hashed against their checksums on a thread of its own, while the session and
    then the rest of a command load; the first encode waits for the result. Damaged, the encoder
    is never used: its texts go to instead(reason) (load_embedder's fallback, which says so), or
    EncoderUnavailable is raised; verify() asks at once."""

    def __init__(
        self,
        folder: Path,
        threads: int | None = None,
        instead: Callable[[str], Embedder] | None = None,
    ) -> None:
        problem = export_problem(folder)
        if problem is not None:
            raise EncoderUnavailable(f"encoder in {folder}: {problem}")
        try:
            meta = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
            self.name: str = meta["model"]
            self.dimension: int = int(meta["dimension"])
            self.max_length: int = int(meta["max_length"])
            probes = np.asarray(meta["probes"], dtype=np.float32)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EncoderUnavailable(f"no valid encoder.json in {folder} ({exc})") from exc
        self.path = folder
        self.meta = meta
        self._checking: Verification | None = Verification(folder, meta["files"])
        self._instead = instead
        self._damage: str | None = None
        self._settling = threading.Lock()
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._tokenizer.no_padding()  # padded per batch below, to the batch's longest text
            self._tokenizer.enable_truncation(max_length=self.max_length)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or default_threads()
            options.inter_op_num_threads = 1
            # Idle pool threads wait instead of spinning: on a shared machine (the norm for a
            # build) spinning takes the cores the work needs (benchmarks/RESULTS.md).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            self._inputs = [i.name for i in self._session.get_inputs()]
            self._pad_id = (self._tokenizer.padding or {}).get("pad_id", 0)
            vectors = self._encode(list(PROBES))
        except EncoderUnavailable:
            raise
        except Exception as exc:  # onnxruntime and tokenizers raise their own exception types
            raise EncoderUnavailable(f"encoder in {folder} does not load ({_short(exc)})") from exc
        if (
            vectors.shape != probes.shape
            or float(np.min(np.sum(vectors * probes, axis=1))) < MIN_COSINE
        ):
            raise EncoderUnavailable(
                f"encoder in {folder} does not reproduce the model's embeddings"
            )

    def verify(self) -> None:
        """Wait until the files are checked; EncoderUnavailable if they do not match."""
        damage = self._settled()
        if damage is not None:
            raise EncoderUnavailable(damage)

    def _settled(self) -> str | None:
        """What is damaged (None when nothing is), once the check has ended; the first caller to
        see damage hands over to the fallback."""
        if self._checking is None:
            return self._damage
        with self._settling:
            if self._checking is not None:
                problem = self._checking.problem()
                if problem is not None:
                    self._damage = f"encoder in {self.path} is damaged ({problem})"
                    self._instead = self._instead(self._damage) if self._instead else None
                self._checking = None
        return self._damage

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in order; never from damaged files."""
        if self._settled() is not None:
            if self._instead is None:
                raise EncoderUnavailable(self._damage)
            return self._instead.encode(texts, batch_size=batch_size, progress=progress)
        return self._encode(texts, batch_size, progress)

    def _encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        if len(texts) == 1:  # a query: no thread pool to wake
            encodings = [self._tokenizer.encode(texts[0])]
        else:
            encodings = self._tokenizer.encode_batch(list(texts))
        bar = _progress_bar(len(texts)) if progress else None
        for rows in _batches([len(e.ids) for e in encodings], batch_size):
            feed = self._feed([encodings[i] for i in rows])
            out[rows] = self._session.run(None, feed)[0]
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _feed(self, encodings) -> dict[str, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        arrays = {
            "input_ids": np.full((len(encodings), width), self._pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), width), dtype=np.int64),
        }
        for row, e in enumerate(encodings):
            n = len(e.ids)
            arrays["input_ids"][row, :n] = e.ids
            arrays["attention_mask"][row, :n] = e.attention_mask
            arrays["token_type_ids"][row, :n] = e.type_ids
        return {name: arrays[name] for name in self._inputs}


def export_problem(folder: Path) -> str | None:
    """Why the export in folder cannot be checked (no encoder.json, an older export format, no
    checksums of its files), or None; whether its files match is Verification's to say."""
    try:
        meta = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"no valid encoder.json ({_short(exc)})"
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_VERSION:
        return "an older export format, without checksums of its files"
    files = meta.get("files")
    if not isinstance(files, dict) or sorted(files) != sorted(CHECKED):
        return "encoder.json lists no checksums of its files"
    return None


def _batches(lengths: list[int], size: int, slack: float = 0.8) -> list[list[int]]:
    """Indices in batches, longest first, each padded by at most 1/slack - 1 (a short text
    batched with a long one pays for the long one's length) and holding at most size texts of
    128 tokens' worth (attention's memory grows with the square of the length)."""
    batches: list[list[int]] = []
    width = 0
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        fits = (len(batches[-1]) + 1) * max(width, 128) <= size * 128 if batches else False
        if fits and lengths[i] >= slack * width:
            batches[-1].append(i)
        else:
            batches.append([i])
            width = lengths[i]
    return batches


def _progress_bar(total: int):
    from tqdm import tqdm  # installed with bm25s and sentence-transformers

    return tqdm(total=total, desc="embedding", unit=" passages", file=sys.stderr)


def default_threads() -> int:
    """onnxruntime threads per model call (a query encode, a reading): QA_ONNX_THREADS, else two
    (one on one core). On two cores, two threads that wait rather than spin encode a query in
    6.8 ms against 10.2 and serve 119 searches/s against 110 (benchmarks/RESULTS.md); more
    would split a short query too finely while the server runs several at once."""
    given = os.environ.get("QA_ONNX_THREADS", "")
    return int(given) if given.isdigit() and int(given) > 0 else min(2, os.cpu_count() or 1)


def load_embedder(index_folder: Path, model: str | None = None) -> OnnxEmbedder | Embedder:
    """The index's ONNX encoder when it is valid, else sentence-transformers with a notice."""
    name, _ = resolve_model(model)
    folder = index_folder / ENCODER_DIR

    def fallback(reason: str) -> Embedder:
        print(
            f"notice: {reason}; using sentence-transformers instead (slower start; "
            "`qa index` re-exports it)",
            file=sys.stderr,
            flush=True,
        )
        return Embedder(model)

    try:
        if not (folder / "encoder.json").is_file():
            raise EncoderUnavailable(f"no ONNX encoder in {folder}")
        embedder = OnnxEmbedder(folder, instead=fallback)
        if embedder.name != name:
            raise EncoderUnavailable(f"the encoder in {folder} is for {embedder.name}, not {name}")
        return embedder
    except EncoderUnavailable as exc:
        return fallback(str(exc))


# Export (needs torch; only `qa index` gets here) -------------------------------------------------


def cache_root() -> Path:
    """Where exports are kept between builds: QA_CACHE_DIR, else the user's cache folder."""
    given = os.environ.get("QA_CACHE_DIR")
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa"


def model_hash(path: Path) -> str:
    """sha256 over every file of a local model folder (names and contents)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def cached_encoder(embedder: Embedder, notice: Callable[[str], None], threads: int | None = None) -> OnnxEmbedder:  # fmt: skip
    """The verified export of embedder's model from the cache, exported now (with torch) if
    missing: once per model content, since the cache is keyed by it."""
    content = model_hash(embedder.path)
    cached = cache_root() / "encoders" / f"v{EXPORT_VERSION}-{content[:32]}"
    try:
        encoder = OnnxEmbedder(cached, threads)
        encoder.verify()
        return encoder
    except EncoderUnavailable:
        notice(f"exporting {embedder.name} to ONNX (once per model)")
        _export_into_cache(embedder, cached, content)
        encoder = OnnxEmbedder(cached, threads)
        encoder.verify()
        return encoder


class BuildEncoder:
    """The encoder for `qa index`: the cached ONNX export on every core, so that a build needs
    torch only for a model's first export; sentence-transformers if the export fails. Both give
    the same vectors (tests/test_onnx.py). Chosen on first use: an up-to-date index needs none."""

    def __init__(self, model: str | None, notice: Callable[[str], None] = lambda m: None) -> None:
        self.name, self.path = resolve_model(model)
        self._model = model
        self._notice = notice
        self._chosen: OnnxEmbedder | Embedder | None = None

    @property
    def chosen(self) -> OnnxEmbedder | Embedder:
        if self._chosen is None:
            embedder = Embedder(self._model)
            try:
                self._chosen = cached_encoder(embedder, self._notice, threads=os.cpu_count())
            except QAError:  # the model itself is damaged: no build from it
                raise
            except Exception as exc:  # torch's exporter can fail in many ways; the build goes on
                self._notice(f"could not export the model to ONNX ({_short(exc)}): using sentence-transformers")  # fmt: skip
                self._chosen = embedder
        return self._chosen

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return self.chosen.encode(texts, batch_size=batch_size, progress=progress)


def write_encoder(
    embedder, target: Path, notice: Callable[[str], None] = lambda message: None
) -> bool:
    """Put a verified ONNX export of embedder's model in target; False (with a notice) if none.

    A failure never fails the build: queries then use sentence-transformers.
    """
    try:
        if isinstance(embedder, BuildEncoder):
            embedder = embedder.chosen
        if isinstance(embedder, OnnxEmbedder):
            source = embedder.path
        elif isinstance(embedder, Embedder):
            source = cached_encoder(embedder, notice, threads=1).path
        else:
            return False  # a test double: no model to export
        shutil.copytree(source, target)
        return True
    except QAError:  # the model itself is damaged: no build from it
        shutil.rmtree(target, ignore_errors=True)
        raise
    except Exception as exc:  # torch's exporter can fail in many ways; the build goes on
        shutil.rmtree(target, ignore_errors=True)
        notice(f"could not export the model to ONNX ({_short(exc)}): queries will use sentence-transformers")  # fmt: skip
        return False


def _export_into_cache(embedder: Embedder, cached: Path, content: str) -> None:
    staging = cached.parent / f".tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        export_onnx(embedder, staging, content)
        OnnxEmbedder(staging, threads=1).verify()  # against the probes and its checksums
        shutil.rmtree(cached, ignore_errors=True)
        try:
            staging.rename(cached)
        except OSError as exc:
            try:  # a concurrent build may just have put a good one there
                OnnxEmbedder(cached, threads=1).verify()
            except EncoderUnavailable:
                raise exc from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for older in cached.parent.glob(f"v*-{content[:32]}"):  # earlier export formats of this model
        if older != cached:
            shutil.rmtree(older, ignore_errors=True)


def export_onnx(embedder: Embedder, folder: Path, content: str | None = None) -> None:
    """Export embedder's sentence-transformers model (mean pooling, normalised) into folder."""
    import torch

    model = embedder.model
    modules = list(model)
    transformer, pooling = modules[0], modules[1] if len(modules) > 1 else None
    kinds = [type(m).__name__ for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise EncoderUnavailable(f"unsupported module layout {kinds}")
    if getattr(pooling, "pooling_mode", "mean") != "mean":
        raise EncoderUnavailable(f"unsupported pooling {pooling.pooling_mode}")
    backend = getattr(transformer.tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise EncoderUnavailable("the model has no fast tokenizer")

    # A padded batch, so that tracing sees a real attention mask.
    features = model.preprocess(list(PROBES))
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]
    example = tuple(features[n] for n in names)

    class Encoder(torch.nn.Module):
        def __init__(self, auto_model) -> None:
            super().__init__()
            self.auto_model = auto_model

        def forward(self, *inputs):
            kwargs = dict(zip(names, inputs, strict=True))
            tokens = self.auto_model(**kwargs)[0]
            mask = kwargs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["sentence_embedding"] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter; the probes verify
        torch.onnx.export(
            Encoder(transformer.auto_model).eval(),
            example,
            str(folder / "model.onnx"),
            dynamo=False,  # the torch.export-based exporter needs onnxscript, not installed
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
            opset_version=17,
        )
    _weights_apart(folder / "model.onnx")
    (folder / "tokenizer.json").write_text(backend.to_str(), encoding="utf-8")
    reference = embedder.encode(list(PROBES))
    meta = {
        "format": EXPORT_VERSION,
        "model": embedder.name,
        "model_sha256": content or model_hash(embedder.path),
        "dimension": int(reference.shape[1]),
        "max_length": int(model.max_seq_length),
        "probes": [[round(float(x), 8) for x in row] for row in reference],
        "files": {name: file_sha256(folder / name) for name in CHECKED},
    }
    (folder / "encoder.json").write_text(json.dumps(meta), encoding="utf-8")


def _weights_apart(path: Path) -> None:
    """Move the weights out of the graph into WEIGHTS, which onnxruntime maps from disk instead
    of parsing: a session then opens in about half the time (benchmarks/RESULTS.md)."""
    import onnx

    model = onnx.load(str(path))
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=WEIGHTS,
        size_threshold=1024,
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
