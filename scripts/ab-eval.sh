#!/usr/bin/env bash
# Interleaved A/B timing of two snn-train builds on the same evaluation (single thread, so the
# other core absorbs the VM's noise): runs each build N times, alternating, and prints the
# median and the sorted rates. Use it for kernel changes whose effect is a few per cent, which
# consecutive single runs on a VM cannot show.
#
#   scripts/ab-eval.sh BUILD_A BUILD_B [RUNS=6]
#
# Each run: LeNet (reports/mnist-lenet/model.snn), 1000 MNIST test images, T = 100, 1 thread.
# e.g. scripts/ab-eval.sh /tmp/snn-train-old target/release/snn-train 6
set -euo pipefail
a=$1
b=$2
runs=${3:-6}
for _ in $(seq "$runs"); do
    for which in A B; do
        if [ "$which" = A ]; then bin=$a; else bin=$b; fi
        rate=$("$bin" eval --model reports/mnist-lenet/model.snn --dataset mnist --timesteps 100 \
            --test-limit 1000 --threads 1 --seed 1 | grep samples_per_second | tr -dc '0-9.')
        echo "$which $rate"
    done
done | python3 -c '
import statistics, sys
rates = {}
for line in sys.stdin:
    k, v = line.split()
    rates.setdefault(k, []).append(float(v))
for k in sorted(rates):
    print(k, "median %.1f samples/s" % statistics.median(rates[k]), sorted(round(x) for x in rates[k]))
'
