"""Export a trained reader (training/reader.py) to ONNX with 8-bit weights, as qa loads it.

    .venv/bin/python training/export.py [--checkpoint training/checkpoint] [--out qa/models/reader]

Writes `model.onnx` (weights quantised to int8 by onnxruntime's dynamic quantisation),
`tokenizer.json` (the base model's own) and `reader.json` (how it was made), then checks that the
quantised model agrees with the float one on held-out calibration questions and prints by how
much: the answer logits' largest difference and how often the best span is the same.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

import numpy as np
from reader import MAX_LENGTH, ROOT, build_model, split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "training" / "checkpoint")
    parser.add_argument("--out", type=Path, default=ROOT / "qa" / "models" / "reader")
    parser.add_argument("--check", type=int, default=64, help="calibration questions to compare on")
    parser.add_argument(
        "--per-channel", action="store_true", help="one int8 scale per output channel"
    )
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer

    from qa.models.embedding import default_model_path

    base = default_model_path()
    model = build_model(base)
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
        quantize_dynamic(
            str(full),
            str(args.out / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=args.per_channel,
        )
        float_session = ort.InferenceSession(str(full), providers=["CPUExecutionProvider"])
        int8_session = ort.InferenceSession(str(args.out / "model.onnx"), providers=["CPUExecutionProvider"])  # fmt: skip

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
    training = json.loads((args.checkpoint / "training.json").read_text(encoding="utf-8"))
    agreement = {
        "answer_logit_max_diff": round(float(np.abs(a32 - a8).max()), 4),
        "same_start": float(np.mean(s32.argmax(1) == s8.argmax(1))),
        "same_end": float(np.mean(e32.argmax(1) == e8.argmax(1))),
        "pairs": args.check,
    }
    meta = {"format": 1, "max_length": MAX_LENGTH, "training": training, "int8_vs_float": agreement}
    reader_json = args.out / "reader.json"
    if reader_json.is_file():  # keep the calibration that training/calibrate.py wrote
        meta = json.loads(reader_json.read_text(encoding="utf-8")) | meta
    reader_json.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    size = (args.out / "model.onnx").stat().st_size / 1e6
    print(f"{args.out / 'model.onnx'}: {size:.1f} MB; int8 against float: {agreement}")


if __name__ == "__main__":
    main()
