"""A float checkpoint from the shipped int8 reader, so that training can go on from it.

    .venv/bin/python training/unpack.py [--model qa/models/reader/model.onnx] --out DIR
    .venv/bin/python training/reader.py --init DIR ...

The float weights of a shipped reader are not kept (only `model.onnx`, 23 MB), so continuing its
training would otherwise mean starting again from MiniLM. This reads the ONNX file back into
training/reader.py's model: float tensors as they are, int8 ones dequantised (scale × (q − zero
point)), and the word embeddings from the base model, since training never changes them
(reader.py freezes them). The quantised matrices carry the exporter's names (`onnx::MatMul_911`),
so each is matched to its layer by graph order and checked against the base model's matrix of
that name (the fine-tuned matrix must be nearer its own base matrix than any other of its shape).
Last, the float model and the ONNX model read the same calibration pairs, and the largest
difference of their answer logits is printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from reader import MAX_LENGTH, ROOT, build_model, split

_LINEAR = (
    "attention.self.query", "attention.self.key", "attention.self.value",
    "attention.output.dense", "intermediate.dense", "output.dense",
)  # fmt: skip


def dequantised(model) -> dict[str, np.ndarray]:
    """Every weight of the ONNX reader as float32, under its own name or the exporter's."""
    from onnx import numpy_helper

    tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    weights = {}
    for name, value in tensors.items():
        if name.endswith("_quantized"):
            stem = name.removesuffix("_quantized")
            scale, zero = tensors[stem + "_scale"], tensors[stem + "_zero_point"]
            weights[stem] = (value.astype(np.float32) - zero.astype(np.float32)) * scale
        elif not name.endswith(("_scale", "_zero_point")) and value.dtype == np.float32:
            weights[name] = value
    return weights


def state_dict(onnx_path: Path, base_state: dict) -> dict:
    """reader.py's state dict, filled from the ONNX file (see the module docstring)."""
    import onnx
    import torch

    model = onnx.load(str(onnx_path))
    weights = dequantised(model)
    matmuls = [n for n in weights if n.startswith("onnx::MatMul_")]
    matmuls.sort(key=lambda n: int(n.rsplit("_", 1)[1]))
    layers = len({k.split(".")[3] for k in base_state if k.startswith("encoder.encoder.layer.")})
    names = [f"encoder.encoder.layer.{i}.{linear}.weight" for i in range(layers) for linear in _LINEAR]  # fmt: skip
    names.append("span.weight")
    if len(matmuls) != len(names):
        raise SystemExit(f"{len(matmuls)} quantised matrices, expected {len(names)}")
    state = {}
    for name, matmul in zip(names, matmuls, strict=True):
        state[name] = torch.from_numpy(weights[matmul].T.copy())  # MatMul holds W transposed
    state["answer.weight"] = torch.from_numpy(weights["answer.weight_Transposed"].T.copy())
    for name, value in weights.items():
        if name in base_state and name not in state:
            state[name] = torch.from_numpy(value.copy())
    state["encoder.embeddings.word_embeddings.weight"] = base_state[
        "encoder.embeddings.word_embeddings.weight"
    ].clone()  # frozen in training: the base model's own
    for name, value in base_state.items():  # buffers (position ids) as the base has them
        state.setdefault(name, value.clone())
    _check_order(state, base_state, names[:-1])
    return state


def _check_order(state: dict, base_state: dict, names: list[str]) -> None:
    """Each matched matrix is nearest its own base matrix among those of its shape."""
    for name in names:
        own = state[name].flatten()
        rivals = [n for n in names if base_state[n].shape == base_state[name].shape]
        nearest = min(rivals, key=lambda n: float((own - base_state[n].flatten()).norm()))
        if nearest != name:
            raise SystemExit(f"{name} is nearer the base's {nearest}: the graph order is not the layers'")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "qa" / "models" / "reader" / "model.onnx")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", type=int, default=32, help="calibration pairs to compare on")
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer

    from qa.models.embedding import default_model_path

    base = default_model_path()
    model = build_model(base)
    state = state_dict(args.model, model.state_dict())
    missing = set(model.state_dict()) - set(state)
    if missing:
        raise SystemExit(f"not in the ONNX file: {sorted(missing)}")
    model.load_state_dict(state)
    model.eval()

    tokenizer = AutoTokenizer.from_pretrained(str(base))
    _, calibration = split()
    pairs = [(q["question"], p["context"]) for a in calibration for p in a["paragraphs"] for q in p["qas"]]  # fmt: skip
    pairs = pairs[:: max(1, len(pairs) // args.check)][: args.check]
    enc = tokenizer([q for q, _ in pairs], [c for _, c in pairs], truncation="only_second",
                    max_length=MAX_LENGTH, padding="longest", return_tensors="np")  # fmt: skip
    names = ["input_ids", "attention_mask", "token_type_ids"]
    session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
    answer8, start8, _ = session.run(None, {n: enc[n].astype(np.int64) for n in names})
    with torch.no_grad():
        answer, start, _ = model(*(torch.from_numpy(enc[n].astype(np.int64)) for n in names))
    diff = float(np.abs(answer.numpy() - answer8).max())
    same = float(np.mean(start.numpy().argmax(1) == start8.argmax(1)))
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.out / "reader.pt")
    shipped = json.loads((args.model.parent / "reader.json").read_text(encoding="utf-8"))
    (args.out / "training.json").write_text(json.dumps(shipped.get("training", {}), indent=1) + "\n", encoding="utf-8")  # fmt: skip
    print(f"{args.out / 'reader.pt'}: float from {args.model}; against it on {len(pairs)} pairs: "
          f"answer logits within {diff:.3f}, same best start {same:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
