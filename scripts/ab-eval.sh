#!/usr/bin/env bash
# A/B timing of two snn-train builds on the same evaluation. A and B run at the same time, one
# per core (pinned with taskset, cores swapped every pair), so the VM's drift in speed hits both
# alike; the script prints each build's rates and the median of the per-pair ratios B/A. On this
# 2-core VM, consecutive runs of one binary differ by up to ±10 %; the simultaneous ratio of a
# binary against itself stayed within about ±5 % in a calm phase (median 0.995 over 6 pairs) but
# ranged 0.80-1.10 in a noisy one, so run a self-comparison first when in doubt.
#
#   scripts/ab-eval.sh BUILD_A BUILD_B [PAIRS=6]
#
# Each run: LeNet (reports/mnist-lenet/model.snn), 1000 MNIST test images, T = 100, 1 thread.
# A build may be a wrapper script, e.g. one that sets SNN_NO_AVX512=1 before exec'ing the binary.
# e.g. scripts/ab-eval.sh /tmp/snn-train-old target/release/snn-train 8
set -euo pipefail
a=$1
b=$2
pairs=${3:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rate() {
    taskset -c "$2" "$1" eval --model reports/mnist-lenet/model.snn --dataset mnist \
        --timesteps 100 --test-limit 1000 --threads 1 --seed 1 | grep samples_per_second | tr -dc '0-9.'
}
for i in $(seq "$pairs"); do
    core_a=$((i % 2))
    rate "$a" "$core_a" >"$tmp/a" &
    rate "$b" $((1 - core_a)) >"$tmp/b"
    wait
    echo "$(cat "$tmp/a") $(cat "$tmp/b")"
done | python3 -c '
import statistics, sys
a, b = [], []
for line in sys.stdin:
    x, y = map(float, line.split())
    a.append(x)
    b.append(y)
ratios = sorted(y / x for x, y in zip(a, b))
print("A samples/s:", [round(x) for x in a], "median %.1f" % statistics.median(a))
print("B samples/s:", [round(x) for x in b], "median %.1f" % statistics.median(b))
print("B/A per pair: median %.3f" % statistics.median(ratios), [round(r, 3) for r in ratios])
'
