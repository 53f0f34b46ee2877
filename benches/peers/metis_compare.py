#!/usr/bin/env python3
"""Partition snn-map's atom hypergraph with METIS and score the result with snn-map itself.

Usage:
    benches/peers/.venv/bin/python benches/peers/metis_compare.py \
        --snn-map target/release/snn-map --out DIR -- <snn-map args without --out>

Steps:
 1. runs `snn-map <args> --out DIR/ours --export-graph DIR/graph.json` (our mapping + the graph:
    atoms with vertex_neurons / vertex_memory_bits / vertex_load, activity-weighted hyperedges,
    "cores" = the number of cores our partitioner used);
 2. turns the hypergraph into the weighted graph METIS needs. Default: *clique expansion*, every
    hyperedge of weight w and k pins adds w/(k-1) to each of its k(k-1)/2 pin pairs, so a
    hyperedge cut into two parts costs about w, like one multicast packet; `--expansion star`
    instead links the hyperedge's lowest-id pin (the sending atom: atoms are numbered layer by
    layer and spikes go forward) to every other pin with weight w, which over-counts a spike
    whose targets share one remote core;
 3. calls pymetis.part_graph with nparts = our core count and vertex weights. Default
    (`--constraints capacity`): one weight per atom, the fraction of a core it fills on its
    tightest resource, max(neurons/limit, memory bits/limit, stand-alone fan-in/limit), so a
    part whose weights sum to at most one core respects every per-core limit but fan-out;
    `neurons+memory` gives METIS two constraints instead (see the pymetis note below);
    objective edge-cut, or total communication volume with `--objective vol`;
 4. writes DIR/metis_parts_<parts>_<expansion>_<objective>.json (core of every atom) and runs
    `snn-map <args> --out DIR/metis_<...> --evaluate-partition that.json`, so our own evaluator
    scores the METIS partition on the same traffic model and placer; `cores_over_limits` tells
    whether METIS respected the per-core limits (it only balances weights within --ufactor; it
    knows nothing of fan-in or hard capacities). While no valid partition is found, the part
    count grows by --growth (5 %, up to --max-parts) and a few more counts are tried after
    the first valid one (--extra-rounds): the best *valid* METIS partition is the fair
    comparison; the one with our core count is reported too;
 5. prints and writes DIR/metis_compare.json: ours, sequential, random, METIS at our core
    count, best valid METIS, every trial, and the ratios ours/METIS.

pymetis note: its C wrapper computes ncon = len(vweights) // len(xadj) and len(xadj) = n + 1, so
a list of exactly 2n weights silently becomes ncon = 1. We append `ncon` padding zeros (ignored by
METIS, which reads ncon*n entries) so that the integer division gives ncon.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def clique_or_star(g, expansion):
    n = g["atoms"]
    adj = [dict() for _ in range(n)]
    for pins, w in zip(g["hyperedges"], g["hyperedge_weight"]):
        k = len(pins)
        if k < 2 or w <= 0:
            continue
        if expansion == "clique":
            share = w / (k - 1)
            for i in range(k):
                a = pins[i]
                for j in range(i + 1, k):
                    b = pins[j]
                    adj[a][b] = adj[a].get(b, 0.0) + share
                    adj[b][a] = adj[b].get(a, 0.0) + share
        else:
            c = pins[0]
            for b in pins[1:]:
                adj[c][b] = adj[c].get(b, 0.0) + w
                adj[b][c] = adj[b].get(c, 0.0) + w
    # integer edge weights >= 1, scaled so the heaviest edge is about 1e6
    wmax = max((w for row in adj for w in row.values()), default=1.0)
    scale = 1e6 / wmax
    xadj, adjncy, eweights = [0], [], []
    for a in range(n):
        for b in sorted(adj[a]):
            adjncy.append(b)
            eweights.append(max(1, int(round(adj[a][b] * scale))))
        xadj.append(len(adjncy))
    return xadj, adjncy, eweights


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(f"metis_compare: command failed ({r.returncode})")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--snn-map", default="target/release/snn-map")
    ap.add_argument("--out", required=True)
    ap.add_argument("--expansion", choices=["clique", "star"], default="clique")
    ap.add_argument("--objective", choices=["cut", "vol"], default="cut")
    ap.add_argument("--ufactor", type=int, default=30,
                    help="METIS load imbalance allowed, in 1/1000 (default 30 = 3 %%)")
    ap.add_argument("--constraints", choices=["capacity", "neurons", "neurons+memory"],
                    default="capacity",
                    help="vertex weights: capacity = max fraction of a core's neurons, memory "
                         "and fan-in (one constraint, default); neurons; neurons+memory "
                         "(two constraints)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sweep", action="store_true",
                    help="try both expansions and both objectives at every part count")
    ap.add_argument("--extra-rounds", type=int, default=2,
                    help="part counts tried after the first one with a valid partition")
    ap.add_argument("--growth", type=float, default=1.05,
                    help="factor between part counts tried (default 1.05)")
    ap.add_argument("--max-parts", type=int, default=0,
                    help="largest part count tried when METIS breaks a limit (default 4x ours)")
    ap.add_argument("args", nargs=argparse.REMAINDER,
                    help="snn-map arguments after --, without --out")
    a = ap.parse_args()
    import pymetis

    args = [x for x in a.args if x != "--"]
    os.makedirs(a.out, exist_ok=True)
    graph = os.path.join(a.out, "graph.json")
    t0 = time.time()
    run([a.snn_map, *args, "--out", os.path.join(a.out, "ours"), "--export-graph", graph])
    ours_s = time.time() - t0
    g = json.load(open(graph))
    n, parts = g["atoms"], g["cores"]

    def metis(nparts, expansion, objective):
        xadj, adjncy, ew = clique_or_star(g, expansion)
        vw = []
        if a.constraints == "capacity":
            # fraction of a core each atom fills on its tightest resource; a part whose
            # fractions sum to <= 1 respects neurons and memory, and fan-in too (distinct
            # presynaptic neurons of a union never exceed the sum)
            lim = g["limits"]
            for nn, m, f in zip(g["vertex_neurons"], g["vertex_memory_bits"],
                                g["vertex_fan_in"]):
                frac = max(nn / lim["max_neurons"], m / lim["memory_bits"],
                           f / lim["max_fan_in"])
                vw.append(max(1, int(round(1000 * frac))))
        elif a.constraints == "neurons":
            vw = [max(1, x) for x in g["vertex_neurons"]]
        else:
            # memory normalised to the neuron scale so both constraints weigh alike
            mem = g["vertex_memory_bits"]
            tot_n, tot_m = sum(g["vertex_neurons"]), max(1, sum(mem))
            for nn, m in zip(g["vertex_neurons"], mem):
                vw += [max(1, nn), max(1, int(round(m * tot_n / tot_m)))]
            vw += [0, 0]  # ncon = 2; see the pymetis note in the module docstring
        opts = pymetis.Options(seed=a.seed, ufactor=a.ufactor,
                               objtype=1 if objective == "vol" else 0)
        res = pymetis.part_graph(nparts, xadj=xadj, adjncy=adjncy, vweights=vw, eweights=ew,
                                 options=opts, recursive=False)
        return [int(p) for p in res.vertex_part], len(adjncy) // 2

    def evaluate(tag, part):
        pfile = os.path.join(a.out, f"metis_parts_{tag}.json")
        json.dump(part, open(pfile, "w"))
        d = os.path.join(a.out, f"metis_{tag}")
        run([a.snn_map, *args, "--out", d, "--evaluate-partition", pfile])
        return json.load(open(os.path.join(d, "mapping.json")))

    def fig(s):
        return {k: s[k] for k in ("cores_used", "inter_core_packets",
                                  "hop_weighted_traffic", "max_core_load")}

    # Same number of parts as our cores, then (if METIS breaks a limit there) more parts until
    # its partition is valid: the best valid METIS partition is the fair comparison.
    trials = []
    best = None
    nparts = parts
    limit = a.max_parts or 4 * parts
    found = 0
    while nparts <= limit:
        for expansion in ([a.expansion] if not a.sweep else ["clique", "star"]):
            for objective in ([a.objective] if not a.sweep else ["cut", "vol"]):
                t0 = time.time()
                part, edges = metis(nparts, expansion, objective)
                sec = time.time() - t0
                tag = f"{nparts}_{expansion}_{objective}"
                j = evaluate(tag, part)
                ext = j["external"]
                t = {"nparts": nparts, "expansion": expansion, "objective": objective,
                     "metis_seconds": sec, **fig(ext),
                     "cores_over_limits": ext["cores_over_limits"],
                     "ours_over_metis": ext["ours_over_external"]}
                trials.append(t)
                if ext["cores_over_limits"] == 0 and (
                        best is None or t["inter_core_packets"] < best["inter_core_packets"]):
                    best = t
        if best is not None:
            found += 1
            if found > a.extra_rounds:
                break
        nparts = max(nparts + 1, int(nparts * a.growth))
    out = {
        "command": args,
        "graph": {"atoms": n, "hyperedges": len(g["hyperedges"]), "graph_edges": edges,
                  "constraints": a.constraints, "ufactor": a.ufactor, "our_cores": parts},
        "seconds": {"snn_map_total": ours_s, "snn_map_partition_and_place": j["seconds"]},
        "ours": fig(j),
        "sequential": fig(j["baselines"]["sequential"]),
        "random": fig(j["baselines"]["random"]),
        "metis_same_core_count": trials[0],
        "metis_best_valid": best,
        "ours_over_best_valid_metis": None if best is None else {
            "inter_core_packets": j["inter_core_packets"] / best["inter_core_packets"],
            "hop_weighted_traffic": j["hop_weighted_traffic"] / best["hop_weighted_traffic"],
        },
        "trials": trials,
    }
    json.dump(out, open(os.path.join(a.out, "metis_compare.json"), "w"), indent=2)
    short = {k: v for k, v in out.items() if k != "trials"}
    print(json.dumps(short, indent=2))


if __name__ == "__main__":
    main()
