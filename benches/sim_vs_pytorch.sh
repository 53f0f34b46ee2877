#!/usr/bin/env bash
# snn-sim's two engines, snn-train eval and PyTorch dense inference of the same LeNet SNN,
# measured side by side in one run: the whole MNIST test set at T=100 through the simulated chip
# (snn-sim float mode, 2 worker threads) on the layer engine (the default) and on the event
# engine (one chip replica per worker; EVENT_ONE_CHIP=1 adds one chip spread over the workers),
# `snn-train eval` of the same model, images and T, and PyTorch inference of the same network
# (benches/peers/lenet_peer.py --no-train, 2 threads, every peer: torch-authors, snntorch,
# torch-tuned, torch-aggregate, torch-aggregate-tuned). Ratios: each engine against eval and
# against the fastest peer. Run it with nothing else on the machine. Writes
# $OUT/sim_vs_pytorch.{json,md}.
# Env: MODEL (reports/mnist-lenet/model.snn), MAPPING (reports/mnist-lenet/loihi/mapping/mapping.bin),
#      SAMPLES (10000), TIMESTEPS (100), THREADS (2), PEER_ITERS (2), OUT (reports/benchmarks),
#      NO_PEER (unset; 1 skips PyTorch), EVENT_ONE_CHIP (unset).
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
cargo build --release -p snn-sim -p snn-train
BIN="${CARGO_TARGET_DIR:-target}/release"
TMP=$(mktemp -d)
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
echo "load before: $LOAD_BEFORE"
export LOAD_BEFORE
sim() { # name, extra flags...
    local name=$1; shift
    "$BIN/snn-sim" --model "$MODEL" --mapping "$MAPPING" --test-limit "$SAMPLES" \
        --timesteps "$TIMESTEPS" --threads "$THREADS" --out "$TMP/$name" "$@"
}
sim layer --engine layer
sim event --engine event --replicas "$THREADS"
if [ -n "${EVENT_ONE_CHIP:-}" ]; then sim event-one-chip --engine event --replicas 1; fi
"$BIN/snn-train" eval --model "$MODEL" --test-limit "$SAMPLES" --timesteps "$TIMESTEPS" \
    --threads "$THREADS" > "$TMP/eval.json"
if [ -z "${NO_PEER:-}" ]; then
    bash benches/peers/setup.sh >/dev/null
    benches/peers/.venv/bin/python benches/peers/lenet_peer.py --timesteps "$TIMESTEPS" --no-train \
        --threads "$THREADS" --iters "$PEER_ITERS" --omp-wait-policy active --json "$TMP/peer.json" | tail -8
else
    echo '{}' > "$TMP/peer.json"
fi
python3 - "$TMP" "$OUT" <<'PY'
import json, sys, os
tmp, out = sys.argv[1], sys.argv[2]
sims = {}
for name in ("layer", "event", "event-one-chip"):
    p = os.path.join(tmp, name, "report.json")
    if os.path.exists(p):
        sims[name] = json.load(open(p))
ev = json.load(open(os.path.join(tmp, "eval.json")))
peer = json.load(open(os.path.join(tmp, "peer.json")))
peers = [(n, r["infer_samples_per_s"]) for n, r in peer.get("results", peer).items()
         if isinstance(r, dict) and "infer_samples_per_s" in r]
failed = {n: r["error"] for n, r in peer.items() if isinstance(r, dict) and "error" in r}
best = max(peers, key=lambda p: p[1]) if peers else None
for s in sims.values():
    assert s["accuracy"] == ev["accuracy"], "the engines and eval must agree"
keys = ("engine", "samples", "timesteps", "threads", "replicas", "accuracy", "sim_seconds",
        "samples_per_second", "synaptic_events_per_second", "chip", "cores_used")
rate = {name: s["samples_per_second"] for name, s in sims.items()}
rate_eval = ev["samples_per_second"]
res = {
    "command": "bash benches/sim_vs_pytorch.sh",
    "load_before": os.environ.get("LOAD_BEFORE", "").split(),
    "snn_sim": {name: {k: s.get(k) for k in keys} for name, s in sims.items()},
    "snn_train_eval": {k: ev.get(k) for k in ("samples", "timesteps", "accuracy", "seconds",
                                              "samples_per_second")},
    "ratio_over_eval": {name: r / rate_eval for name, r in rate.items()},
    "ratio_layer_over_event": rate["layer"] / rate["event"],
    "peers": {n: {"infer_samples_per_s": v, "compiled": peer[n].get("compiled")} for n, v in peers},
    "peers_failed": failed,
    "fastest_peer": best and {"name": best[0], "infer_samples_per_s": best[1]},
    "ratio_over_fastest_peer": best and {name: r / best[1] for name, r in
                                         list(rate.items()) + [("eval", rate_eval)]},
    "peer_run": {k: peer.get(k) for k in ("torch_version", "threads", "timesteps", "batch_size",
                                          "iters", "omp_wait_policy", "load_average_before")},
}
json.dump(res, open(os.path.join(out, "sim_vs_pytorch.json"), "w"), indent=2)
first = next(iter(sims.values()))
what = {"layer": "layer engine (default)", "event": f"event engine, {first['threads']} chip replicas",
        "event-one-chip": "event engine, one chip spread over the workers"}
md = [f"# snn-sim vs snn-train eval vs PyTorch inference, LeNet, T={first['timesteps']}, "
      f"{first['threads']} threads\n",
      f"Command: `bash benches/sim_vs_pytorch.sh` (one run, same machine; load before: "
      f"{res['load_before']}).\n",
      "| run | chip | test images | seconds | samples/s | accuracy | vs eval | vs fastest peer |",
      "|---|---|---:|---:|---:|---:|---:|---:|"]
vs_peer = lambda r: f"{r / best[1]:.2f}x" if best else ""
for name, s in sims.items():
    md.append(f"| snn-sim, {what[name]} | {s['chip']}, {s['cores_used']} cores | {s['samples']} | "
              f"{s['sim_seconds']:.1f} | **{s['samples_per_second']:.1f}** | "
              f"{100*s['accuracy']:.2f} % | {s['samples_per_second'] / rate_eval:.2f}x | "
              f"{vs_peer(s['samples_per_second'])} |")
md.append(f"| snn-train eval | | {ev['samples']} | {ev['seconds']:.1f} | **{rate_eval:.1f}** | "
          f"{100*ev['accuracy']:.2f} % | 1.00x | {vs_peer(rate_eval)} |")
md += ["", f"Layer engine over event engine: **{res['ratio_layer_over_event']:.2f}x**. Every "
       "engine's report equals the other's apart from timings (tests assert it)."]
if peers:
    md += ["", "| PyTorch peer (batch %s, T=%s) | inference samples/s |"
           % (peer.get("batch_size"), peer.get("timesteps")), "|---|---:|"]
    md += [f"| {n}{' (fastest)' if best and n == best[0] else ''} | {v:.1f} |" for n, v in peers]
    md += [f"| {n} | failed: {e} |" for n, e in failed.items()]
open(os.path.join(out, "sim_vs_pytorch.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
rm -rf "$TMP"
