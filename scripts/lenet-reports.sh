#!/usr/bin/env bash
# Regenerates reports/mnist-lenet/<chip>/ for the trained LeNet (reports/mnist-lenet/model.snn):
# activity profile (1000 test images) → snn-map on every shipped chip → snn-sim on the full
# MNIST test set (float, and fixed point on Loihi, plus an accuracy-vs-T sweep on Loihi).
# Env: T (40, the model's training T), SAMPLES (10000), THREADS (2), SWEEP_SAMPLES (2000).
set -euo pipefail
cd "$(dirname "$0")/.."
T="${T:-40}"
SAMPLES="${SAMPLES:-10000}"
THREADS="${THREADS:-2}"
SWEEP_SAMPLES="${SWEEP_SAMPLES:-2000}"
R=reports/mnist-lenet
cargo build --release -p snn-train -p snn-map -p snn-sim
BIN="${CARGO_TARGET_DIR:-target}/release"
"$BIN/snn-train" eval --model $R/model.snn --test-limit 1000 --timesteps "$T" \
    --profile-out $R/profile.json --threads "$THREADS" > /dev/null
"$BIN/snn-train" eval --model $R/model.snn --test-limit "$SAMPLES" --timesteps "$T" \
    --threads "$THREADS" > $R/eval_t$T.json
for chip in loihi loihi-nxtf spinnaker2 generic-45nm dynapcnn truenorth; do
    mkdir -p $R/$chip
    chips=1
    [ "$chip" = dynapcnn ] && chips=5
    if ! "$BIN/snn-map" --model $R/model.snn --chip hardware-models/$chip.toml --chips $chips \
        --profile $R/profile.json --out $R/$chip/mapping 2> $R/$chip/map-error.txt; then
        echo "$chip: $(cat $R/$chip/map-error.txt)"
        continue
    fi
    rm -f $R/$chip/map-error.txt
    "$BIN/snn-sim" --model $R/model.snn --mapping $R/$chip/mapping/mapping.bin --test-limit "$SAMPLES" \
        --timesteps "$T" --threads "$THREADS" --out $R/$chip/sim-float
done
"$BIN/snn-sim" --model $R/model.snn --mapping $R/loihi/mapping/mapping.bin --test-limit "$SAMPLES" \
    --timesteps "$T" --threads "$THREADS" --mode fixed --out $R/loihi/sim-fixed
"$BIN/snn-sim" --model $R/model.snn --mapping $R/loihi/mapping/mapping.bin --test-limit "$SWEEP_SAMPLES" \
    --timesteps "$T" --threads "$THREADS" --sweep-timesteps 5,10,20,30,40,60,100 --out $R/loihi/sim-sweep
