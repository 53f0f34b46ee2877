#!/usr/bin/env bash
# The loop for VGG9 on CIFAR-10 (JPEG copy): train briefly → activity profile → snn-map on Loihi
# (joined chips) with the profile → snn-sim float and fixed point on part of the test set; the
# same on Loihi with conv weights shared (loihi-nxtf.toml), float only. Writes
# reports/vgg9-cifar10/ (the model itself, 24 MB, stays in $RUN).
# Env: T (25), EPOCHS (13), TRAIN (20000), TEST (2000), PROFILE (500), SIM (200), CHIPS (14),
#      NXTF_CHIPS (4), THREADS (2), RUN (runs/vgg9-cifar; an existing run there is reused, not retrained).
set -euo pipefail
cd "$(dirname "$0")/.."
T="${T:-25}"
EPOCHS="${EPOCHS:-13}"
TRAIN="${TRAIN:-20000}"
TEST="${TEST:-2000}"
PROFILE="${PROFILE:-500}"
SIM="${SIM:-200}"
CHIPS="${CHIPS:-14}"
NXTF_CHIPS="${NXTF_CHIPS:-4}"
THREADS="${THREADS:-2}"
RUN="${RUN:-runs/vgg9-cifar}"
R=reports/vgg9-cifar10
cargo build --release -p snn-train -p snn-map -p snn-sim
BIN="${CARGO_TARGET_DIR:-target}/release"
"$BIN/snn-train" fetch-data --dataset cifar10
if [ ! -f "$RUN/model.snn" ]; then
    "$BIN/snn-train" --arch vgg9 --dataset cifar10 --epochs "$EPOCHS" --timesteps "$T" \
        --train-limit "$TRAIN" --test-limit "$TEST" --threads "$THREADS" --quiet --out "$RUN" \
        > /dev/null
fi
mkdir -p $R
cp "$RUN/log.jsonl" "$RUN/summary.json" "$RUN/training.png" $R/
"$BIN/snn-train" eval --model "$RUN/model.snn" --test-limit "$PROFILE" --timesteps "$T" \
    --threads "$THREADS" --profile-out $R/profile.json > $R/eval.json
"$BIN/snn-map" --model "$RUN/model.snn" --chip hardware-models/loihi.toml --chips "$CHIPS" \
    --profile $R/profile.json --out $R/loihi/mapping
"$BIN/snn-sim" --model "$RUN/model.snn" --mapping $R/loihi/mapping/mapping.bin --dataset cifar10 \
    --test-limit "$SIM" --timesteps "$T" --threads "$THREADS" --out $R/loihi/sim-float
"$BIN/snn-sim" --model "$RUN/model.snn" --mapping $R/loihi/mapping/mapping.bin --dataset cifar10 \
    --test-limit "$SIM" --timesteps "$T" --threads "$THREADS" --mode fixed --out $R/loihi/sim-fixed
# The same chip with conv weights shared per core (NxTF): far fewer cores.
"$BIN/snn-map" --model "$RUN/model.snn" --chip hardware-models/loihi-nxtf.toml --chips "$NXTF_CHIPS" \
    --profile $R/profile.json --out $R/loihi-nxtf/mapping
"$BIN/snn-sim" --model "$RUN/model.snn" --mapping $R/loihi-nxtf/mapping/mapping.bin --dataset cifar10 \
    --test-limit "$SIM" --timesteps "$T" --threads "$THREADS" --out $R/loihi-nxtf/sim-float
