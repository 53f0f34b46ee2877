#!/usr/bin/env bash
# snn-sim vs PyTorch dense inference of the same LeNet SNN, measured side by side in one run:
# the whole MNIST test set at T=100 through the simulated chip (snn-sim, float mode, 2 worker
# threads) and PyTorch inference of the same network (benches/peers/lenet_peer.py, 2 threads,
# both peers). Writes reports/benchmarks/sim_vs_pytorch.{json,md}.
# Env: MODEL (reports/mnist-lenet/model.snn), MAPPING (reports/mnist-lenet/loihi/mapping/mapping.bin),
#      SAMPLES (10000), TIMESTEPS (100), THREADS (2), PEER_ITERS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${MODEL:-reports/mnist-lenet/model.snn}"
MAPPING="${MAPPING:-reports/mnist-lenet/loihi/mapping/mapping.bin}"
SAMPLES="${SAMPLES:-10000}"
TIMESTEPS="${TIMESTEPS:-100}"
THREADS="${THREADS:-2}"
PEER_ITERS="${PEER_ITERS:-2}"
OUT=reports/benchmarks
mkdir -p "$OUT"
cargo build --release -p snn-sim
bash benches/peers/setup.sh >/dev/null
TMP=$(mktemp -d)
echo "load before: $(cat /proc/loadavg)"
"${CARGO_TARGET_DIR:-target}/release/snn-sim" --model "$MODEL" --mapping "$MAPPING" --test-limit "$SAMPLES" \
    --timesteps "$TIMESTEPS" --threads "$THREADS" --out "$TMP/sim" | tee "$TMP/sim.txt"
benches/peers/.venv/bin/python benches/peers/lenet_peer.py --timesteps "$TIMESTEPS" \
    --threads "$THREADS" --iters "$PEER_ITERS" --omp-wait-policy active --json "$TMP/peer.json" | tail -4
python3 - "$TMP/sim/report.json" "$TMP/peer.json" "$OUT" "$*" <<'PY'
import json, sys, os
sim, peer, out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
sps = sim["samples_per_second"]
rows = []
for name, r in peer.get("results", peer).items():
    if isinstance(r, dict) and "infer_samples_per_s" in r:
        rows.append((name, r["infer_samples_per_s"], sps / r["infer_samples_per_s"]))
res = {
    "command": "bash benches/sim_vs_pytorch.sh",
    "load_before": open("/proc/loadavg").read().split()[:3],
    "snn_sim": {k: sim[k] for k in ("samples", "timesteps", "threads", "accuracy", "sim_seconds",
                "samples_per_second", "synaptic_events_per_second",
                "synaptic_events_per_second_per_worker", "chip", "cores_used")},
    "peers": {n: {"infer_samples_per_s": v, "ratio_sim_over_peer": q} for n, v, q in rows},
}
json.dump(res, open(os.path.join(out, "sim_vs_pytorch.json"), "w"), indent=2)
md = [f"# snn-sim vs PyTorch inference, LeNet, T={sim['timesteps']}, {sim['threads']} threads\n",
      f"Command: `bash benches/sim_vs_pytorch.sh` (one run, same machine).\n",
      f"snn-sim ({sim['chip']}, {sim['cores_used']} cores, float mode): {sim['samples']} test images in "
      f"{sim['sim_seconds']:.1f} s = **{sps:.1f} samples/s**, accuracy {100*sim['accuracy']:.2f} %, "
      f"{sim['synaptic_events_per_second']:.3e} synaptic events/s "
      f"({sim['synaptic_events_per_second_per_worker']:.3e} per worker thread).\n",
      "| PyTorch peer | inference samples/s | snn-sim / peer |", "|---|---:|---:|"]
md += [f"| {n} | {v:.1f} | {q:.2f}x |" for n, v, q in rows]
open(os.path.join(out, "sim_vs_pytorch.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
rm -rf "$TMP"
