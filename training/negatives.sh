#!/usr/bin/env bash
# What each kind of negative buys (issue 25): four runs of training/reader.py from the base
# model on 3,200 examples of all the training data, seeded alike, that differ only in the
# negatives they are given (all three kinds; no near miss; no out of scope; no swapped key),
# each exported to int8 and judged by benchmarks/reader_heldout.py, which reports an AUC per
# kind of negative. Resume points and models live outside the work tree; a run cut off goes on
# where it stopped when this script runs again.
#
#     bash training/negatives.sh [THREADS]      # 2 by default; about 15 minutes a run on 2 idle cores
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
threads=${1:-2}
python=${PYTHON:-$PWD/.venv/bin/python}
work=${QA_TRAINING_CACHE:-$HOME/.cache/qa-training}/negatives
mkdir -p "$work"
common=(--data all --limit "${LIMIT:-3200}" --epochs 1 --batch 32 --lr 5e-5 --seed 31 --threads "$threads" --bf16 --save-every 25)
runs=(
  "all:--negatives 0.3 --other 0.3 --swapped 0.3"
  "no-near-miss:--negatives 0 --other 0.3 --swapped 0.3"
  "no-out-of-scope:--negatives 0.3 --other 0 --swapped 0.3"
  "no-swapped:--negatives 0.3 --other 0.3 --swapped 0"
)
readers=()
for run in "${runs[@]}"; do
  name=${run%%:*}
  read -r -a flags <<< "${run#*:}"
  out=$work/$name
  [ -f "$out/reader.pt" ] || "$python" training/reader.py "${common[@]}" "${flags[@]}" --out "$out" --resume
  [ -f "$out-int8/model.onnx" ] || (cd training && "$python" export.py --checkpoint "$out" --out "$out-int8" --weights int8 --per-channel)
  readers+=(--reader "$out-int8")
done
"$python" benchmarks/reader_heldout.py "${readers[@]}"
