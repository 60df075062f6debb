"""Export a trained reader (training/reader.py) to ONNX, as qa loads it.

    .venv/bin/python training/export.py [--checkpoint training/checkpoint] [--out qa/models/reader]
        [--weights int8|float32|float16|int8-static|int8-ffn|int8-emb16] [--per-channel]

Writes `model.onnx`, `tokenizer.json` (the base model's own) and `reader.json` (how it was
made), then checks that the exported model agrees with the float one on held-out calibration
questions and prints by how much: the answer logits' largest difference and how often the best
span is the same. `--weights`:

- `float32`: the model as trained (about 90 MB: over the repository's 50 MB for a model file);
- `float16`: every float weight stored as float16 and restored to float32 when qa loads it
  (reader.json "stored": "float16"), so that it computes as the float model does;
- `int8`: onnxruntime's dynamic quantisation, one scale per output channel with --per-channel;
- `int8-static`: static quantisation in QDQ form, activations' ranges from 256 calibration
  questions (Packet_switching, Black_Death);
- `int8-ffn`: dynamic int8 on the feed-forward layers only, the rest stored as float16;
- `int8-emb16`: dynamic int8 on the encoder's matrix products, the embedding tables stored as float16 and
  cast to float32 inside the graph after their lookup (quantising the tables is what costs the
  int8 export its span accuracy; this loads as fast as `int8`, with nothing to restore).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

import numpy as np
from reader import MAX_LENGTH, ROOT, build_model, keep_layers, split

WEIGHTS = ("int8", "float32", "float16", "int8-static", "int8-ffn", "int8-emb16")
NAMES = ["input_ids", "attention_mask", "token_type_ids"]


def store(full: Path, out: Path, weights: str, per_channel: bool, tokenizer) -> str:
    """Write the float model at `full` to `out` as `weights` says; the type its float weights
    are stored as."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    from qa.models.reading import halve_embeddings

    if weights == "float32":
        onnx.save(onnx.load(str(full)), str(out))
        return "float32"
    if weights == "float16":
        half(full, out)
        return "float16"
    if weights == "int8":
        quantize_dynamic(str(full), str(out), weight_type=QuantType.QInt8, per_channel=per_channel)
        return "float32"
    if weights == "int8-static":
        quantize_static(
            str(full),
            str(out),
            Calibration(tokenizer),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
        )
        return "float32"
    graph = onnx.load(str(full)).graph
    if weights == "int8-emb16":
        # the encoder's matrix products; the heads (a few hundred weights) stay float32
        products = [n.name for n in graph.node if n.op_type == "MatMul" and n.name.startswith("/encoder/") and graph_weight(graph, n)]  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            quantised = Path(tmp) / "products.onnx"
            quantize_dynamic(str(full), str(quantised), weight_type=QuantType.QInt8, per_channel=per_channel, nodes_to_quantize=products)  # fmt: skip
            model = onnx.load(str(quantised))
        halve_embeddings(model)
        onnx.save(model, str(out))
        return "float32"
    feed_forward = [
        n.name
        for n in graph.node
        if n.op_type == "MatMul"
        and (
            "intermediate" in n.name or ("/output/" in n.name and "attention" not in n.name)
        )  # fmt: skip
    ]
    with tempfile.TemporaryDirectory() as tmp:
        quantised = Path(tmp) / "ffn.onnx"
        quantize_dynamic(str(full), str(quantised), weight_type=QuantType.QInt8, per_channel=per_channel, nodes_to_quantize=feed_forward)  # fmt: skip
        half(quantised, out)
    return "float16"


def graph_weight(graph, node) -> bool:
    """Whether a node multiplies by one of the graph's stored weights (not two activations)."""
    stored = {t.name for t in graph.initializer}
    return any(i in stored for i in node.input)


def half(source: Path, out: Path) -> None:
    """The model with its float32 weights stored as float16 (qa.models.reading restores them)."""
    import onnx

    from qa.models.reading import halve

    model = onnx.load(str(source))
    halve(model)
    onnx.save(model, str(out))


class Calibration:
    """Activations' ranges for static quantisation: calibration questions with their own
    paragraphs (held out of training), in batches of 8."""

    def __init__(self, tokenizer, count: int = 256) -> None:
        _, calibration = split()
        pairs = [(q["question"], p["context"]) for a in calibration for p in a["paragraphs"] for q in p["qas"]]  # fmt: skip
        pairs = random.Random(1).sample(pairs, count)
        self._feeds = iter(
            {n: enc[n].astype(np.int64) for n in NAMES}
            for enc in (
                tokenizer(
                    [q for q, _ in chunk],
                    [c for _, c in chunk],
                    truncation="only_second",
                    max_length=MAX_LENGTH,
                    padding="longest",
                    return_tensors="np",
                )  # fmt: skip
                for chunk in (pairs[i : i + 8] for i in range(0, len(pairs), 8))
            )
        )

    def get_next(self) -> dict | None:
        return next(self._feeds, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "training" / "checkpoint")
    parser.add_argument("--out", type=Path, default=ROOT / "qa" / "models" / "reader")
    parser.add_argument("--check", type=int, default=64, help="calibration questions to compare on")
    parser.add_argument(
        "--per-channel", action="store_true", help="one int8 scale per output channel"
    )
    parser.add_argument("--weights", choices=WEIGHTS, default="int8")
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer

    from qa.models.embedding import default_model_path
    from qa.models.reading import model_source

    base = default_model_path()
    training = json.loads((args.checkpoint / "training.json").read_text(encoding="utf-8"))
    model = build_model(base)
    keep_layers(model, training.get("layers"))
    model.load_state_dict(torch.load(args.checkpoint / "reader.pt", map_location="cpu"))
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    example = tokenizer(["a question?"], ["a passage."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes |= {"answer": {0: "batch"}, "start": {0: "batch", 1: "tokens"}, "end": {0: "batch", 1: "tokens"}}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "float.onnx"
        torch.onnx.export(
            model,
            tuple(example[n] for n in names),
            str(full),
            dynamo=False,  # the torch.export-based exporter needs onnxscript, not installed
            input_names=names,
            output_names=["answer", "start", "end"],
            dynamic_axes=axes,
            opset_version=17,
        )
        stored = store(full, args.out / "model.onnx", args.weights, args.per_channel, tokenizer)
        float_session = ort.InferenceSession(str(full), providers=["CPUExecutionProvider"])
        source = model_source(args.out / "model.onnx", {"stored": stored})
        int8_session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])

        _, calibration = split()
        pairs = [(q["question"], p["context"]) for a in calibration for p in a["paragraphs"] for q in p["qas"]]  # fmt: skip
        pairs = random.Random(0).sample(pairs, args.check)
        enc = tokenizer([q for q, _ in pairs], [c for _, c in pairs], truncation="only_second",
                        max_length=MAX_LENGTH, padding="longest", return_tensors="np")  # fmt: skip
        feed = {n: enc[n].astype(np.int64) for n in names}
        a32, s32, e32 = float_session.run(None, feed)
        a8, s8, e8 = int8_session.run(None, feed)
    (args.out / "tokenizer.json").write_text(
        (base / "tokenizer.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    agreement = {
        "answer_logit_max_diff": round(float(np.abs(a32 - a8).max()), 4),
        "same_start": float(np.mean(s32.argmax(1) == s8.argmax(1))),
        "same_end": float(np.mean(e32.argmax(1) == e8.argmax(1))),
        "pairs": args.check,
    }
    meta = {"format": 1, "max_length": MAX_LENGTH, "training": training, "weights": args.weights, "per_channel": args.per_channel, "stored": stored, "int8_vs_float": agreement}  # fmt: skip
    reader_json = args.out / "reader.json"
    if reader_json.is_file():  # keep the calibration that training/calibrate.py wrote
        meta = json.loads(reader_json.read_text(encoding="utf-8")) | meta
    reader_json.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    size = (args.out / "model.onnx").stat().st_size / 1e6
    print(f"{args.out / 'model.onnx'}: {size:.1f} MB ({args.weights}); against float: {agreement}")


if __name__ == "__main__":
    main()
