#!/usr/bin/env bash
# Regenerates the measurements of reports/mapping/: LeNet (the trained MNIST model and its
# activity profile) on every shipped chip, VGG9 on 14 Loihi chips (uniform activity, and the
# VGG9-on-MNIST layers with their profile), and the METIS comparison. The LeNet/Loihi mapping
# files are written to reports/mapping/lenet-loihi/ and reports/mapping/vgg9-mnist/loihi/; the
# other runs go to $TMP and their mapping.json files are summarised on standard output.
# Needs benches/peers/.venv (bash benches/peers/setup.sh) for METIS.
# Env: TMP (a fresh temporary directory), METIS (1; 0 skips the METIS comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
TMP="${TMP:-$(mktemp -d)}"
mkdir -p "$TMP"
METIS="${METIS:-1}"
R=reports/mapping
cargo build --release -p snn-map
BIN="${CARGO_TARGET_DIR:-target}/release"
summary() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
s, r = d["baselines"]["sequential"], d["baselines"]["random"]
red = d["reduction_vs_sequential"]
print(f"{sys.argv[1]}: cores {d['cores_used']}/{d['cores_available']}, packets {d['inter_core_packets']:.1f} "
      f"(seq {s['inter_core_packets']:.1f}, random {r['inter_core_packets']:.1f}, {-100*red['inter_core_packets']:+.1f} %), "
      f"hops {d['hop_weighted_traffic']:.1f} (seq {s['hop_weighted_traffic']:.1f}, random {r['hop_weighted_traffic']:.1f}, "
      f"{-100*red['hop_weighted_traffic']:+.1f} %), busiest {d['max_core_load']:.1f} (seq {s['max_core_load']:.1f}), "
      f"bound {d['inter_core_packets_lower_bound']:.1f}, {d['seconds']:.2f} s")
PY
}
for chip in loihi loihi-nxtf spinnaker2 generic-45nm truenorth dynapcnn; do
    out=$TMP/lenet-$chip
    [ "$chip" = loihi ] && out=$R/lenet-loihi
    if "$BIN/snn-map" --model reports/mnist-lenet/model.snn --chip hardware-models/$chip.toml \
        --profile $R/lenet-profile.json --out "$out" > /dev/null 2> "$TMP/err-$chip.txt"; then
        summary "lenet/$chip" "$out/mapping.json"
    else
        echo "lenet/$chip: fails: $(cat "$TMP/err-$chip.txt")"
    fi
done
"$BIN/snn-map" --network vgg9 --chip hardware-models/loihi.toml --chips 14 --out "$TMP/vgg9" > /dev/null
summary "vgg9/loihi x14 uniform" "$TMP/vgg9/mapping.json"
# Traffic and bound do not depend on the weights: the spec and its profile are enough.
"$BIN/snn-map" --network $R/vgg9-mnist/vgg9-mnist.toml --chip hardware-models/loihi.toml --chips 10 \
    --profile $R/vgg9-mnist/profile.json --out $R/vgg9-mnist/loihi > /dev/null
summary "vgg9-mnist/loihi x10 profile" "$R/vgg9-mnist/loihi/mapping.json"
if [ "$METIS" = 1 ]; then
    PY=benches/peers/.venv/bin/python
    $PY benches/peers/metis_compare.py --sweep --snn-map "$BIN/snn-map" --out "$TMP/metis-lenet" \
        -- --model reports/mnist-lenet/model.snn --chip hardware-models/loihi.toml \
        --profile $R/lenet-profile.json | tail -6
    cp "$TMP/metis-lenet/metis_compare.json" $R/metis/lenet-loihi.json
    $PY benches/peers/metis_compare.py --sweep --extra-rounds 1 --max-parts 1792 \
        --snn-map "$BIN/snn-map" --out "$TMP/metis-vgg9" -- --network vgg9 \
        --chip hardware-models/loihi.toml --chips 14 | tail -6
    cp "$TMP/metis-vgg9/metis_compare.json" $R/metis/vgg9-loihi14.json
fi
echo "runs in $TMP"
