#!/usr/bin/env bash
# The paper's ablations on LeNet / MNIST at one fixed short budget (same epochs, seed, batch,
# validation split; full 10,000-image test set), then reports/ablations/lenet/ with compare.json,
# compare.md and charts per question:
#   gradient/  leak correction on vs off and code vs aggregate: --grad code | if | aggregate at T = 40
#   timesteps/ training T in {10, 20, 40, 100} with the code gradient (accuracy and wall time)
# plus inference-T sweeps of each T model (eval at T = 10, 20, 40, 100) in timesteps/eval-T*.json.
# Runs resume where they stopped (each has its own directory under $RUNS); rerunning the script
# after an interruption continues, and finished runs are not retrained.
# Env: EPOCHS (6), THREADS (2), RUNS ($SNN_RUNS_DIR/ablations-lenet, default runs/ablations-lenet),
#      TRAIN_LIMIT / TEST_LIMIT (0 = all; only for a quick smoke run, whose results are subsets),
#      OUT (reports/ablations/lenet).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-6}"
THREADS="${THREADS:-2}"
RUNS="${RUNS:-${SNN_RUNS_DIR:-runs}/ablations-lenet}"
OUT="${OUT:-reports/ablations/lenet}"
LIMITS=(--train-limit "${TRAIN_LIMIT:-0}" --test-limit "${TEST_LIMIT:-0}")
cargo build --release -p snn-train
BIN=target/release/snn-train
mkdir -p "$RUNS" "$OUT/gradient" "$OUT/timesteps"

# train NAME FLAGS...: trains (or resumes, or skips when finished) one run.
train() {
    local name=$1
    shift
    local dir="$RUNS/$name"
    if [ -f "$dir/summary.json" ] && [ "$(grep -c . "$dir/log.jsonl")" -ge "$EPOCHS" ]; then
        echo "== $name: done"
    elif [ -f "$dir/last.snn" ]; then
        echo "== $name: resuming"
        "$BIN" --resume "$dir" --epochs "$EPOCHS" --threads "$THREADS" --quiet > /dev/null
    else
        echo "== $name: training"
        "$BIN" --arch lenet --epochs "$EPOCHS" --seed 1 --threads "$THREADS" --quiet \
            "${LIMITS[@]}" --out "$dir" "$@" > /dev/null
    fi
}

for g in code if aggregate; do
    train "grad-$g-t40" --grad "$g" --timesteps 40
done
"$BIN" compare "$RUNS"/grad-code-t40 "$RUNS"/grad-if-t40 "$RUNS"/grad-aggregate-t40 \
    --out "$OUT/gradient" --title "LeNet/MNIST, T = 40, $EPOCHS epochs: gradient"

for t in 10 20 40 100; do
    if [ "$t" = 40 ]; then
        name=grad-code-t40
    else
        name="t$t-code"
        train "$name" --grad code --timesteps "$t"
    fi
    for e in 10 20 40 100; do
        "$BIN" eval --model "$RUNS/$name/model.snn" --timesteps "$e" --threads "$THREADS" \
            --test-limit "${TEST_LIMIT:-0}" > "$OUT/timesteps/eval-train-T$t-infer-T$e.json"
    done
done
"$BIN" compare "$RUNS"/t10-code "$RUNS"/t20-code "$RUNS"/grad-code-t40 "$RUNS"/t100-code \
    --out "$OUT/timesteps" --title "LeNet/MNIST, code gradient, $EPOCHS epochs: training T"
# Inference-T sweep as a table: rows = training T, columns = inference T.
python3 - "$OUT/timesteps" > "$OUT/timesteps/inference_t.md" <<'PY'
import json, sys, os
d = sys.argv[1]
ts = [10, 20, 40, 100]
print("# Test accuracy by training T (rows) and inference T (columns)\n")
print("| train T \\ infer T | " + " | ".join(map(str, ts)) + " |")
print("|---|" + "---:|" * len(ts))
for t in ts:
    cells = []
    for e in ts:
        j = json.load(open(os.path.join(d, f"eval-train-T{t}-infer-T{e}.json")))
        cells.append(f"{100 * j['accuracy']:.2f} % ({j['samples']} images)")
    print(f"| {t} | " + " | ".join(cells) + " |")
PY
echo "wrote $OUT"
