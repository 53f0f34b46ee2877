#!/usr/bin/env bash
# The long CIFAR-10 runs of issue 16: the full training set of the JPEG copy (45,000 images after
# holding out 5,000 for validation), the full 10,000-image test set, T = 25 instead of the paper's
# 100, and the paper's hyper-parameters (paper-method §8: VGG9 lr 0.0033, dropout 0.2; ResNet11
# lr 0.0025, dropout 0.25; batch 16, SGD without momentum, weight decay 5e-4, ×0.2 steps) on a
# schedule compressed from 150 epochs to what fits about 12 hours of a 2-core CPU:
#   VGG9     "compressed-26": 26 epochs, ×0.2 after epochs 13, 19, 23 (paper: 70, 100, 125 of 150);
#   ResNet11 "compressed-18": 18 epochs, ×0.2 after epochs 9, 13, 16 (about 0.62 h per epoch at
#            22 training samples/s with the code gradient, reports/benchmarks/deep_throughput.md).
# model.snn is the epoch with the best validation accuracy. Runs live outside git
# ($SNN_RUNS_DIR, default ~/runs) and survive interruptions: Ctrl-C (or SIGINT) writes a
# checkpoint, and running this script again resumes where the run stopped.
#
#   scripts/cifar10-long-runs.sh vgg9|resnet11
#
# Run it from anywhere; data come from data/ in the repository (snn-train fetch-data). Run nothing
# else heavy beside it: the hours in log.jsonl are wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${1:?usage: $0 vgg9|resnet11}"
runs="${SNN_RUNS_DIR:-$HOME/runs}"
case "$arch" in
vgg9) out="$runs/vgg9-c10-t25" epochs=26 milestones=13,19,23 ;;
resnet11) out="$runs/resnet11-c10-t25" epochs=18 milestones=9,13,16 ;;
*) echo "unknown network '$arch' (vgg9 or resnet11)" >&2; exit 2 ;;
esac
cargo build --release -p snn-train
bin="${CARGO_TARGET_DIR:-target}/release/snn-train"
if [ -f "$out/last.snn" ]; then
    exec "$bin" --resume "$out" --threads 2
fi
exec "$bin" --arch "$arch" --dataset cifar10 --timesteps 25 --epochs "$epochs" \
    --lr-milestones "$milestones" --val-split 5000 --threads 2 --out "$out"
