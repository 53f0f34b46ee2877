#!/usr/bin/env bash
# snn-sim vs PyTorch dense inference of the same LeNet SNN, measured side by side in one run:
# the whole MNIST test set at T=100 through the simulated chip (snn-sim, float mode, 2 worker
# threads), once as one chip whose cores are spread over the workers and once as one chip
# replica per worker (--replicas), and PyTorch inference of the same network
# (benches/peers/lenet_peer.py --no-train, 2 threads, every peer: torch-authors, snntorch,
# torch-tuned, torch-aggregate, torch-aggregate-tuned). The headline ratio is against the
# fastest peer's inference (all peers run the same forward pass; normally torch-tuned:
# channels_last, inference_mode, compiled step). Writes $OUT/sim_vs_pytorch.{json,md}.
# Env: MODEL (reports/mnist-lenet/model.snn), MAPPING (reports/mnist-lenet/loihi/mapping/mapping.bin),
#      SAMPLES (10000), TIMESTEPS (100), THREADS (2), PEER_ITERS (2), OUT (reports/benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${MODEL:-reports/mnist-lenet/model.snn}"
MAPPING="${MAPPING:-reports/mnist-lenet/loihi/mapping/mapping.bin}"
SAMPLES="${SAMPLES:-10000}"
TIMESTEPS="${TIMESTEPS:-100}"
THREADS="${THREADS:-2}"
PEER_ITERS="${PEER_ITERS:-2}"
OUT="${OUT:-reports/benchmarks}"
mkdir -p "$OUT"
cargo build --release -p snn-sim
bash benches/peers/setup.sh >/dev/null
TMP=$(mktemp -d)
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
echo "load before: $LOAD_BEFORE"
export LOAD_BEFORE
for R in 1 "$THREADS"; do
    "${CARGO_TARGET_DIR:-target}/release/snn-sim" --model "$MODEL" --mapping "$MAPPING" --test-limit "$SAMPLES" \
        --timesteps "$TIMESTEPS" --threads "$THREADS" --replicas "$R" --out "$TMP/sim-r$R" | tee "$TMP/sim.txt"
done
benches/peers/.venv/bin/python benches/peers/lenet_peer.py --timesteps "$TIMESTEPS" --no-train \
    --threads "$THREADS" --iters "$PEER_ITERS" --omp-wait-policy active --json "$TMP/peer.json" | tail -8
python3 - "$TMP/sim-r1/report.json" "$TMP/sim-r$THREADS/report.json" "$TMP/peer.json" "$OUT" <<'PY'
import json, sys, os
one, rep = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
peer, out = json.load(open(sys.argv[3])), sys.argv[4]
peers = [(n, r["infer_samples_per_s"]) for n, r in peer.get("results", peer).items()
         if isinstance(r, dict) and "infer_samples_per_s" in r]
failed = {n: r["error"] for n, r in peer.items() if isinstance(r, dict) and "error" in r}
best = max(peers, key=lambda p: p[1]) if peers else None
keys = ("samples", "timesteps", "threads", "replicas", "accuracy", "sim_seconds",
        "samples_per_second", "synaptic_events_per_second",
        "synaptic_events_per_second_per_worker", "chip", "cores_used")
res = {
    "command": "bash benches/sim_vs_pytorch.sh",
    "load_before": os.environ.get("LOAD_BEFORE", "").split(),
    "snn_sim": {f"replicas_{s['replicas']}": {k: s.get(k) for k in keys} for s in (one, rep)},
    "peers": {n: {"infer_samples_per_s": v, "compiled": peer[n].get("compiled"),
                  "ratio_sim_over_peer": {f"replicas_{s['replicas']}": s["samples_per_second"] / v
                                          for s in (one, rep)}} for n, v in peers},
    "peers_failed": failed,
    "fastest_peer": best and {"name": best[0], "infer_samples_per_s": best[1]},
    "ratio_sim_over_fastest_peer": best and {f"replicas_{s['replicas']}":
                                             s["samples_per_second"] / best[1] for s in (one, rep)},
    "peer_run": {k: peer.get(k) for k in ("torch_version", "threads", "timesteps", "batch_size",
                                          "iters", "omp_wait_policy", "load_average_before")},
}
json.dump(res, open(os.path.join(out, "sim_vs_pytorch.json"), "w"), indent=2)
md = [f"# snn-sim vs PyTorch inference, LeNet, T={one['timesteps']}, {one['threads']} threads\n",
      f"Command: `bash benches/sim_vs_pytorch.sh` (one run, same machine).\n",
      "| snn-sim run | chip | test images | seconds | samples/s | accuracy | synaptic events/s (per worker) |",
      "|---|---|---:|---:|---:|---:|---:|"]
for s in (one, rep):
    what = "one chip, cores spread over the workers" if s["replicas"] == 1 else \
        f"{s['replicas']} chip replicas, one per worker (`--replicas {s['replicas']}`)"
    md.append(f"| {what} | {s['chip']}, {s['cores_used']} cores | {s['samples']} | {s['sim_seconds']:.1f} | "
              f"**{s['samples_per_second']:.1f}** | {100*s['accuracy']:.2f} % | "
              f"{s['synaptic_events_per_second']:.3e} ({s['synaptic_events_per_second_per_worker']:.3e}) |")
if best:
    md += ["", f"Against the fastest PyTorch inference, **{best[0]}** ({best[1]:.1f} samples/s; "
           f"every peer runs the same forward pass): one chip **{one['samples_per_second'] / best[1]:.2f}x**, "
           f"{rep['replicas']} replicas **{rep['samples_per_second'] / best[1]:.2f}x**."]
md += ["", "| PyTorch peer (batch %s, T=%s) | inference samples/s | one chip / peer | replicas / peer |"
       % (peer.get("batch_size"), peer.get("timesteps")),
       "|---|---:|---:|---:|"]
md += [f"| {n}{' (fastest)' if best and n == best[0] else ''} | {v:.1f} | "
       f"{one['samples_per_second'] / v:.2f}x | {rep['samples_per_second'] / v:.2f}x |"
       for n, v in peers]
md += [f"| {n} | failed: {e} | | |" for n, e in failed.items()]
open(os.path.join(out, "sim_vs_pytorch.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
rm -rf "$TMP"
