#!/usr/bin/env python3
"""Peer throughput benchmark: the paper's CIFAR-10 VGG9 and ResNet11 SNNs in PyTorch, five ways.

Times training and inference of the deep networks of Lee et al. 2020 (paper-method.md §6.1) in

* ``torch-authors``: hand-written PyTorch the way the authors' released code does it (the same
  semantics as ``lenet_peer.py``'s ``torch-authors``; paper-method.md §4.3, §11): the T steps
  unrolled in a Python loop, a custom autograd spike function that passes the gradient only at
  spike steps (scaled by 1/V_th), hard reset ``(1 - s.detach()) * u``, the leak applied forward
  and treated as identity backward, and a hook on every step's spike tensor that multiplies the
  arriving gradient by ``NG = 1[LF > 1e-3] + ln(lambda) * LF / max*(gamma)``. Contiguous NCHW,
  ``torch.no_grad()`` inference.
* ``torch-tuned``: the same algorithm as a competent PyTorch user would tune it for a CPU:
  ``channels_last`` activations and weights, ``torch.inference_mode()`` inference, and the
  per-step body (state in, new state out) compiled with ``torch.compile`` (inductor, C++ code
  generation); the NG hook becomes a custom autograd Function so the step compiles as one graph.
* ``torch-aggregate``: the paper's aggregate gradient (paper-method.md §4.2; snn-train's
  ``GradMode::Aggregate``): a ``no_grad`` forward over the T steps that records spike counts and
  the LF/gamma traces, then ONE backward over the counts (``delta_j = (sum_k w_jk delta_k) *
  NG_j / V_th`` for LIF neurons that fired, 1 for pooling neurons that fired, ``dW = delta (x)
  x_total``), done by autograd over a single count-domain forward.
* ``torch-aggregate-tuned``: the same with channels_last and both parts compiled.
* ``snntorch``: the networks with snnTorch ``snn.Leaky`` neurons and its surrogate gradient
  (BPTT); same forward dynamics, different gradient by design.

Network (no biases, no dropout): input 3x32x32 signed Bernoulli spikes (sign(x) with
probability |x| of the per-channel normalised pixel, fresh every step); conv 3x3 pad 1 + LIF
(lambda 0.99, V_th 1, strict >, hard reset, leak after reset); 2x2 average pool + IF (0.75, no
leak); ResNet blocks add the shortcut current (1x1 conv, or stride-2 subsampling) into the
second LIF's membrane; FC + LIF; readout V = lambda (V + I), output V(T)/T. Loss: summed squared
error vs one-hot. SGD lr 0.0033 (VGG9) / 0.0025 (ResNet11), weight decay 5e-4, no momentum.

The Rust benchmark (``benches/deep_throughput.rs``) calls ``benches/peers/.venv/bin/python
benches/peers/deep_peer.py --json PATH --arch vgg9,resnet11 ...`` and, for the cross-check with
snn-train on the same weights and input, ``... --check-against DIR``. Keep the command line and
the JSON keys stable. Create the venv with ``setup.sh``.
"""

import argparse
import functools
import json
import math
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback

IMPLS = ("torch-authors", "torch-tuned", "torch-aggregate", "torch-aggregate-tuned", "snntorch")
ARCHS = ("vgg9", "resnet11")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--arch", default="all",
                   help="vgg9, resnet11, a comma list of them, or all")
    p.add_argument("--timesteps", "-T", type=int, default=25, help="time steps per sample")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed iterations per measurement (torch.compile compiles in the first)")
    p.add_argument("--iters", type=int, default=3, help="timed iterations per measurement")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--omp-wait-policy", choices=("passive", "active"), default=None,
                   help="OpenMP idle threads sleep (passive) or spin (active). Default: "
                        "$OMP_WAIT_POLICY if set, else passive (see lenet_peer.py / README)")
    p.add_argument("--impl", default="all",
                   help="comma list of " + ", ".join(IMPLS) + ", or all")
    p.add_argument("--surrogate", choices=("atan", "fast_sigmoid"), default="atan",
                   help="snnTorch surrogate gradient (atan is snnTorch's default)")
    p.add_argument("--data-dir", default=None,
                   help="folder containing cifar10/cifar-10-batches-bin/data_batch_1.bin (the "
                        "repo's data/ after `snn-train fetch-data --dataset cifar10`); the first "
                        "batch-size images are used. Default: random CIFAR-like input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", default=None, help="write the results as JSON")
    p.add_argument("--check", action="store_true",
                   help="run the built-in correctness checks before timing")
    p.add_argument("--check-only", action="store_true",
                   help="run the built-in correctness checks, time nothing")
    p.add_argument("--check-against", metavar="DIR", default=None,
                   help="compare every peer with snn-train's numbers in DIR (check.json + "
                        "weights.f32, or a folder of such folders, one per arch, as `cargo bench "
                        "--bench deep_throughput -- --write-check DIR` writes them), print a "
                        "table, exit 1 on a mismatch (2 if DIR cannot be read); times nothing")
    p.add_argument("--check-compiled", action="store_true",
                   help="also run the torch.compile'd tuned peers in --check/--check-against "
                        "(slow: compiles at the check's shapes); default: their eager form")
    p.add_argument("--write-check-dir", metavar="DIR", default=None,
                   help="write a check directory in --check-against's format for the first "
                        "--arch, with expected numbers from this script's independent NumPy "
                        "reference (channel-last, snn-train's algorithm); for testing the loader")
    args = p.parse_args(argv)
    for name in ("timesteps", "batch_size", "iters", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        p.error("--warmup must be >= 0")
    archs = ARCHS if args.arch == "all" else tuple(a.strip() for a in args.arch.split(",") if a.strip())
    bad = [a for a in archs if a not in ARCHS]
    if bad or not archs:
        p.error(f"--arch: unknown {bad}; choose from {', '.join(ARCHS)} or all")
    args.archs = archs
    impls = IMPLS if args.impl == "all" else tuple(i.strip() for i in args.impl.split(",") if i.strip())
    bad = [i for i in impls if i not in IMPLS]
    if bad or not impls:
        p.error(f"--impl: unknown {bad}; choose from {', '.join(IMPLS)} or all")
    args.impls = impls
    return args


# Thread settings must be in the environment before torch (and its OpenMP runtime) loads.
_ARGS = parse_args() if __name__ == "__main__" else None
# NumPy (the checks' reference only) with one OpenBLAS thread: its two default threads spin while
# waiting and, on a busy 2-core machine, made its small products 40x slower (0.44 s vs 0.01 s).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if _ARGS is not None:
    os.environ.setdefault("OMP_NUM_THREADS", str(_ARGS.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(_ARGS.threads))
    if _ARGS.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = _ARGS.omp_wait_policy.upper()
    else:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import logging  # noqa: E402

# torch.compile imports torch.utils.flop_counter, which warns on every run that triton (the GPU
# backend, deliberately not installed; see setup.sh) is missing. Only the CPU backend is used.
logging.getLogger("torch.utils.flop_counter").setLevel(logging.ERROR)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from peer_common import (  # noqa: E402
    CountGate,
    NGGate,
    SpikeFn,
    cpu_pressure,
    peak_rss_mib,
    time_iterations,
    write_json_atomic,
)

NEURON = {"leak": 0.99, "threshold": 1.0, "pool_threshold": 0.75}  # paper-method.md §3
LR = {"vgg9": 0.0033, "resnet11": 0.0025}  # paper-method.md §5.5
HE_K = {"vgg9": 2.0, "resnet11": 1.0}  # init std sqrt(k / fan_in), paper-method.md §5.4
WEIGHT_DECAY = 5e-4
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)  # paper-method.md §2.2; snn-data cifar.rs
CIFAR_STD = (0.557, 0.549, 0.5534)
NG_EPS = 1e-3
# The built-in checks and --write-check-dir scale the He-init std by this: with the plain init
# and T=10 the deep layers of both networks stay silent on a CIFAR image (VGG9's fc1 is silent
# even at T=25), so output and gradients would be zero and the comparison vacuous.
CHECK_GAIN = 1.5
CHECK_T = 10  # time steps of the compiled-vs-eager check that each tuned peer runs before timing
# ... whose weights are also rounded to multiples of 2^-12: every conv/linear sum of spikes is
# then exact in float32 whatever the summation order, so channels_last, oneDNN's blocking and
# inductor's fusion cannot flip a near-threshold spike (which at batch 16 happens within a few
# steps and then cascades: e.g. 2 of 500k conv3 spikes differ at step 6, 140 of 3k fc1 spikes
# by step 10), and loss and gradients must agree to float rounding.
CHECK_QUANTUM = 2.0 ** -12


def check_weights(canon):
    """Weights for the equality checks: x CHECK_GAIN, rounded to multiples of CHECK_QUANTUM."""
    return {k: torch.round(v * (CHECK_GAIN / CHECK_QUANTUM)) * CHECK_QUANTUM
            for k, v in canon.items()}

# Worked single-neuron vector (paper-method.md §4.3; same numbers as lenet_peer.py).
REF_I = [0.6, 0.7, -0.2, 1.3, 0.1, 0.05, 0.95, 0.0]
REF_U = [0.6, 1.294, -0.2, 1.102, 0.1, 0.149, 1.09751, 0.0]
REF_S = [0, 1, 0, 1, 0, 0, 1, 0]
REF_LF = 2.892076
REF_GAMMA = 3
REF_NG = 0.99031122
REF_G = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8]
REF_DU = [-0.19806224, -0.19806224, 0.39612449, 0.39612449,
          0.69321785, 0.69321785, 0.69321785, 0.0]

FLOP_FORMULA = {
    "infer": "2 * dense_macs_per_step * T * batch (every conv/linear/shortcut executed densely "
             "at every step; pooling, neuron updates and the input encoding not counted)",
    "train_bptt": "3 * 2 * dense_macs_per_step * T * batch (forward + backward ~ 2x forward: "
                  "input and weight gradients; torch-authors, torch-tuned, snntorch)",
    "train_aggregate": "(T + 3) * 2 * dense_macs_per_step * batch (T no_grad forward steps + one "
                       "count-domain forward and its backward; torch-aggregate[-tuned])",
}


def _tune_dynamo():
    """Room for one compiled graph per (network, mode) in one process."""
    import torch._dynamo.config as dc
    for key in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                "accumulated_recompile_limit"):
        if hasattr(dc, key):
            setattr(dc, key, max(getattr(dc, key), 256))


# --------------------------------------------------------------------------------------------
# The plan: snn-core's NetworkPlan (plan.rs) as serde writes it
# --------------------------------------------------------------------------------------------

def _shape(c, h, w):
    return {"channels": c, "height": h, "width": w}


def _conv_syn(inp, cout, k, stride, pad):
    ho = (inp["height"] + 2 * pad - k) // stride + 1
    wo = (inp["width"] + 2 * pad - k) // stride + 1
    return {"Conv": {"kernel": k, "stride": stride, "padding": pad, "input": inp,
                     "output": _shape(cout, ho, wo)}}


def python_plan(arch):
    """The serde JSON of snn_core::step::CompiledNet::new(&preset::<arch>()).plan, built here
    the way plan.rs builds it (a residual block becomes `resNa` + `resNb`, the latter with the
    shortcut whose `source` is the plan index of the block's input layer)."""
    if arch == "vgg9":
        spec = [("conv", 64), ("conv", 64), ("pool",), ("conv", 128), ("conv", 128), ("pool",),
                ("conv", 256), ("conv", 256), ("conv", 256), ("pool",), ("fc", 1024), ("readout", 10)]
    elif arch == "resnet11":
        spec = [("conv", 64), ("pool",), ("res", 128, 1), ("res", 256, 2), ("res", 512, 1),
                ("res", 512, 2), ("fc", 1024), ("readout", 10)]
    else:
        raise ValueError(arch)
    cur = _shape(3, 32, 32)
    layers = []
    n = {"conv": 0, "pool": 0, "fc": 0, "res": 0}

    def add(name, kind, inp, syn, shortcut=None):
        out = next(iter(syn.values())).get("output") if "Dense" not in syn else \
            _shape(syn["Dense"]["outputs"], 1, 1)
        layers.append({"name": name, "kind": kind, "input": inp, "output": out,
                       "synapses": syn, "shortcut": shortcut})
        return out

    for item in spec:
        if item[0] == "conv":
            n["conv"] += 1
            cur = add(f"conv{n['conv']}", "Conv", cur, _conv_syn(cur, item[1], 3, 1, 1))
        elif item[0] == "pool":
            n["pool"] += 1
            out = _shape(cur["channels"], cur["height"] // 2, cur["width"] // 2)
            cur = add(f"pool{n['pool']}", "Pool", cur, {"AvgPool2": {"input": cur, "output": out}})
        elif item[0] in ("fc", "readout"):
            name = "readout" if item[0] == "readout" else f"fc{n['fc'] + 1}"
            if item[0] == "fc":
                n["fc"] += 1
            length = cur["channels"] * cur["height"] * cur["width"]
            cur = add(name, "Readout" if item[0] == "readout" else "Linear", cur,
                      {"Dense": {"inputs": length, "outputs": item[1]}})
        else:
            _, cout, stride = item
            n["res"] += 1
            block_in = cur
            source = len(layers) - 1 if layers else None
            a_out = add(f"res{n['res']}a", "Conv", cur, _conv_syn(cur, cout, 3, 1, 1))
            b_syn = _conv_syn(a_out, cout, 3, stride, 1)
            if block_in["channels"] == cout:
                out = _shape(cout, (block_in["height"] - 1) // stride + 1,
                             (block_in["width"] - 1) // stride + 1)
                sc = {"Subsample": {"stride": stride, "input": block_in, "output": out}}
            else:
                sc = _conv_syn(block_in, cout, 1, stride, 0)
            cur = add(f"res{n['res']}b", "Conv", a_out, b_syn, {"source": source, "synapses": sc})
    return {"input": _shape(3, 32, 32), "layers": layers}


class Syn:
    """One synapse set (main or shortcut) of a plan layer."""

    def __init__(self, doc):
        (self.type, body), = doc.items()
        if self.type not in ("Conv", "Dense", "AvgPool2", "Subsample"):
            raise ValueError(f"unknown synapses {self.type}")
        self.kernel = body.get("kernel", 1)
        self.stride = body.get("stride", 1)
        self.padding = body.get("padding", 0)
        if self.type == "Dense":
            self.inputs, self.outputs = body["inputs"], body["outputs"]
        else:
            self.input = tuple(body["input"][k] for k in ("channels", "height", "width"))
            self.output = tuple(body["output"][k] for k in ("channels", "height", "width"))

    def weight_count(self):
        if self.type == "Conv":
            return self.kernel * self.kernel * self.input[0] * self.output[0]
        if self.type == "Dense":
            return self.inputs * self.outputs
        return 0

    def dense_macs(self):
        if self.type == "Conv":
            return math.prod(self.output) * self.kernel * self.kernel * self.input[0]
        if self.type == "Dense":
            return self.inputs * self.outputs
        return 0

    def fan_in(self):
        return self.weight_count() // (self.output[0] if self.type == "Conv" else self.outputs)


class Layer:
    """One plan layer, parsed from the serde JSON."""

    def __init__(self, index, doc):
        self.index = index
        self.name = doc["name"]
        self.kind = doc["kind"]
        if self.kind not in ("Conv", "Pool", "Linear", "Readout"):
            raise ValueError(f"layer {self.name}: unknown kind {self.kind}")
        self.input = tuple(doc["input"][k] for k in ("channels", "height", "width"))
        self.output = tuple(doc["output"][k] for k in ("channels", "height", "width"))
        self.syn = Syn(doc["synapses"])
        sc = doc.get("shortcut")
        self.sc = Syn(sc["synapses"]) if sc else None
        self.sc_source = sc["source"] if sc else None
        self.lif = self.kind in ("Conv", "Linear")
        if self.kind == "Pool" and self.syn.type != "AvgPool2":
            raise ValueError(f"layer {self.name}: pooling layer with {self.syn.type} synapses")
        if self.sc is not None and self.sc.type not in ("Conv", "Subsample"):
            raise ValueError(f"layer {self.name}: shortcut with {self.sc.type} synapses")

    def flat(self):
        """True when the layer's neurons are a vector (C x 1 x 1)."""
        return self.output[1] == 1 and self.output[2] == 1 and self.syn.type == "Dense"


def parse_plan(plan):
    layers = [Layer(i, d) for i, d in enumerate(plan["layers"])]
    if not layers or layers[-1].kind != "Readout":
        raise ValueError("the plan's last layer must be the readout")
    return layers


def dense_macs_per_step(layers):
    return sum(L.syn.dense_macs() + (L.sc.dense_macs() if L.sc else 0) for L in layers)


# --------------------------------------------------------------------------------------------
# Autograd pieces
# --------------------------------------------------------------------------------------------

def neuron_gate(lf, gamma, leak):
    """NG = 1[LF > 1e-3] + ln(lambda) LF / max*(gamma) (paper-method.md §4.3)."""
    gamma_safe = torch.where(gamma >= NG_EPS, gamma, torch.ones_like(gamma))
    return (lf > NG_EPS).to(lf.dtype) + math.log(leak) * lf / gamma_safe


# --------------------------------------------------------------------------------------------
# The network, built from the plan
# --------------------------------------------------------------------------------------------

class PlanNet(nn.Module):
    """A network built from a plan, stepped one time step at a time.

    `flatten="chw"` flattens a spatial input of a dense layer in torch's (c, y, x) order (the
    authors'), `"hwc"` in (y, x, c) order (free for channels_last activations; snn-train's
    order). Weights are kept in torch layouts (conv OIHW, dense (out, in) with that column
    order) and converted from/to snn-train's canonical layout by `load_canonical` /
    `canonical`.
    """

    def __init__(self, layers, neuron=None, flatten="chw", channels_last=False):
        super().__init__()
        self.plan_layers = layers
        neuron = neuron or NEURON
        self.leak = float(neuron["leak"])
        self.threshold = float(neuron["threshold"])
        self.pool_threshold = float(neuron["pool_threshold"])
        self.flatten_hwc = flatten == "hwc"
        self.channels_last = channels_last
        self.w = nn.ParameterDict()
        for L in layers:
            for key, syn in self._syns(L):
                self.w[key] = nn.Parameter(torch.empty(self._torch_shape(syn)))
        self._ng = {}
        self._margins = None
        self.record_counts = False  # run() then keeps per-layer spike totals in last_counts
        self.last_counts = None

    # ---- weights ----------------------------------------------------------------------------

    @staticmethod
    def _syns(L):
        out = []
        if L.syn.weight_count():
            out.append((L.name, L.syn))
        if L.sc is not None and L.sc.weight_count():
            out.append((L.name + "__sc", L.sc))
        return out

    @staticmethod
    def _torch_shape(syn):
        if syn.type == "Conv":
            return (syn.output[0], syn.input[0], syn.kernel, syn.kernel)
        return (syn.outputs, syn.inputs)

    def _dense_input(self, L):
        return L.input  # (C, H, W) of the dense layer's input

    def to_torch_layout(self, L, syn, flat):
        """snn-train's canonical flat weights -> this net's torch tensor."""
        flat = torch.as_tensor(flat, dtype=torch.float32)
        if syn.type == "Conv":
            k, cin, cout = syn.kernel, syn.input[0], syn.output[0]
            w = flat.reshape(k, k, cin, cout).permute(3, 2, 0, 1)
        else:
            c, h, wd = self._dense_input(L)
            if self.flatten_hwc or h * wd == 1:
                w = flat.reshape(syn.inputs, syn.outputs).t()
            else:
                w = flat.reshape(h, wd, c, syn.outputs).permute(3, 2, 0, 1).reshape(syn.outputs, -1)
        w = w.contiguous()
        if self.channels_last and w.dim() == 4:
            w = w.contiguous(memory_format=torch.channels_last)
        return w

    def to_canonical(self, L, syn, w):
        """This net's torch tensor (a weight or its gradient) -> canonical flat (a copy)."""
        w = w.detach()
        if syn.type == "Conv":
            return w.permute(2, 3, 1, 0).reshape(-1).clone()
        c, h, wd = self._dense_input(L)
        if self.flatten_hwc or h * wd == 1:
            return w.t().reshape(-1).clone()
        return w.reshape(syn.outputs, c, h, wd).permute(2, 3, 1, 0).reshape(-1).clone()

    def load_canonical(self, canon):
        """canon: {param key: flat canonical tensor}."""
        with torch.no_grad():
            for L in self.plan_layers:
                for key, syn in self._syns(L):
                    w = self.to_torch_layout(L, syn, canon[key])
                    self.w[key].data = w.clone(memory_format=torch.preserve_format)

    def canonical(self, grads=False):
        out = {}
        for L in self.plan_layers:
            for key, syn in self._syns(L):
                p = self.w[key]
                t = p.grad if grads else p
                out[key] = None if t is None else self.to_canonical(L, syn, t)
        return out

    def he_init_(self, k, generator=None):
        with torch.no_grad():
            for L in self.plan_layers:
                for key, syn in self._syns(L):
                    std = math.sqrt(k / syn.fan_in())
                    w = torch.randn(self._torch_shape(syn), generator=generator) * std
                    if self.channels_last and w.dim() == 4:
                        w = w.contiguous(memory_format=torch.channels_last)
                    self.w[key].data = w

    def layer_grad_norms(self):
        """[(main norm, shortcut norm)] per plan layer, float64."""
        out = []
        for L in self.plan_layers:
            pair = []
            for key in (L.name, L.name + "__sc"):
                p = self.w[key] if key in self.w else None
                g = None if p is None else p.grad
                pair.append(0.0 if g is None else float(g.double().norm()))
            out.append(tuple(pair))
        return out

    # ---- one time step -----------------------------------------------------------------------

    def _flat(self, x):
        if x.dim() == 2:
            return x
        if self.flatten_hwc:
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return x.flatten(1)

    def _apply_syn(self, syn, key, x):
        if syn.type == "Conv":
            return F.conv2d(x, self.w[key], stride=syn.stride, padding=syn.padding)
        if syn.type == "Dense":
            return F.linear(self._flat(x), self.w[key])
        if syn.type == "Subsample":
            return x[:, :, ::syn.stride, ::syn.stride]
        return F.avg_pool2d(x, 2)

    def current(self, L, x_main, outs, x_input):
        """Input current of layer L: main synapses (+ the shortcut, added as in snn-train:
        current = main + shortcut, then u = v + current)."""
        i = self._apply_syn(L.syn, L.name, x_main)
        if L.sc is not None:
            src = x_input if L.sc_source is None else outs[L.sc_source]
            i = i + self._apply_syn(L.sc, L.name + "__sc", src)
        return i

    def init_state(self, batch, mode, like):
        """mode: infer | count | train_hook | train_gate."""
        train = mode.startswith("train")
        st = {}

        def z(shape):
            t = like.new_zeros((batch,) + tuple(shape))
            if self.channels_last and t.dim() == 4:
                t = t.contiguous(memory_format=torch.channels_last)
            return t

        for L in self.plan_layers:
            k = str(L.index)
            shape = L.output if not L.flat() else (L.output[0],)
            if L.kind == "Readout":
                st["V"] = z(shape)
            elif L.kind == "Pool":
                st["q" + k] = z(shape)
                if mode == "count":
                    st["c" + k] = z(shape)
            else:
                st["v" + k] = z(shape)
                if train or mode == "count":
                    st["lf" + k] = z(shape)
                    st["c" + k] = z(shape)
        if mode == "count":
            st["x"] = z(tuple(self.plan_layers[0].input))
        return st

    def step(self, x, state, mode, ng=None, spikes_out=None):
        """One time step: returns the new state dict. `x`: this step's input spikes.
        mode "train_hook" registers the authors' NG hook on each spike tensor; "train_gate"
        applies NGGate with the buffers `ng` (dict: layer index -> tensor). `spikes_out` (a
        list; eager checks only) receives this step's per-layer spike tensors."""
        lam, th, pth = self.leak, self.threshold, self.pool_threshold
        train = mode.startswith("train")
        new = {}
        outs = []
        cur = x
        if mode == "count":
            new["x"] = state["x"] + x
        for L in self.plan_layers:
            k = str(L.index)
            if L.kind == "Pool":
                p = state["q" + k] + F.avg_pool2d(cur, 2)
                r = SpikeFn.apply(p - pth)
                new["q" + k] = (1.0 - (r.detach() if train else r)) * p
                if mode == "count":
                    new["c" + k] = state["c" + k] + r
                cur = r
            elif L.kind == "Readout":
                a = state["V"] + self.current(L, cur, outs, x)
                new["V"] = a + (lam - 1.0) * a.detach() if train else lam * a
                cur = None
            else:
                u = state["v" + k] + self.current(L, cur, outs, x)
                if self._margins is not None:
                    self._margins.append((L.index, (u.detach() - th).abs().min().item(),
                                          int(((u.detach() - th).abs() < 1e-5).sum())))
                s = SpikeFn.apply(u / th - 1.0)
                if train:
                    if mode == "train_hook":
                        s.register_hook(functools.partial(self._ng_hook, L.index))
                    else:
                        s = NGGate.apply(s, ng[k])
                    with torch.no_grad():
                        new["lf" + k] = state["lf" + k] * lam + s
                        new["c" + k] = state["c" + k] + s
                    # Hard reset with the spike detached: d/du = (1 - s).
                    ur = (1.0 - s.detach()) * u
                    # Leak forward, identity backward (straight-through).
                    new["v" + k] = ur + (lam - 1.0) * ur.detach()
                else:
                    new["v" + k] = lam * ((1.0 - s) * u)
                    if mode == "count":
                        new["lf" + k] = state["lf" + k] * lam + s
                        new["c" + k] = state["c" + k] + s
                cur = s
            outs.append(cur)
        if spikes_out is not None:
            spikes_out.append(outs)
        return new

    def _ng_hook(self, index, grad):
        return grad * self._ng[index]

    def lif_layers(self):
        return [L for L in self.plan_layers if L.lif]

    def ng_buffers(self, batch, like):
        """Zero NG buffers for mode train_gate (filled by finish() after the last step)."""
        st = self.init_state(batch, "train_gate", like)
        return {str(L.index): torch.zeros_like(st["v" + str(L.index)]) for L in self.lif_layers()}

    def finish(self, state, mode, ng=None):
        """After the last step: NG per LIF layer for the backward pass."""
        with torch.no_grad():
            for L in self.lif_layers():
                k = str(L.index)
                g = neuron_gate(state["lf" + k], state["c" + k], self.leak)
                if mode == "train_hook":
                    self._ng[L.index] = g
                else:
                    ng[k].data.copy_(g)

    def run(self, timesteps, input_fn, mode, step_fn=None, ng=None):
        """Forward over T steps; returns (output V(T)/T, final state)."""
        x0 = input_fn(0)
        state = self.init_state(x0.shape[0], mode, x0)
        fn = step_fn or functools.partial(self.step, mode=mode)
        for t in range(timesteps):
            x = x0 if t == 0 else input_fn(t)
            state = fn(x, state, ng=ng) if ng is not None else fn(x, state)
        if mode.startswith("train"):
            self.finish(state, mode, ng)
        if self.record_counts:
            self.last_counts = {L.name: int(state["c" + str(L.index)].sum())
                                for L in self.plan_layers if "c" + str(L.index) in state}
        return state["V"] / timesteps, state

    # ---- aggregate gradient ------------------------------------------------------------------

    def count_loss(self, state, out, onehot, timesteps):
        """The count-domain forward of the aggregate gradient; backward() of the returned loss
        gives snn-train's GradMode::Aggregate weight gradients. `state`: the final state of a
        "count" run, `out`: its output V(T)/T."""
        xcnt = state["x"]
        cur = xcnt
        cs = []
        o = None
        for L in self.plan_layers:
            k = str(L.index)
            if L.kind == "Readout":
                i = self.current(L, cur, cs, xcnt) / timesteps  # d o / d I(t) = 1/T
                o = out + (i - i.detach())
                cs.append(None)
                continue
            counts = state["c" + k]
            with torch.no_grad():
                if L.kind == "Pool":
                    gate = (counts > 0).to(counts.dtype)
                else:
                    gate = torch.where(counts > 0,
                                       neuron_gate(state["lf" + k], counts, self.leak) / self.threshold,
                                       torch.zeros_like(counts))
            a = F.avg_pool2d(cur, 2) if L.kind == "Pool" else self.current(L, cur, cs, xcnt)
            cur = CountGate.apply(a, counts, gate)
            cs.append(cur)
        return (o - onehot).square().sum()


# --------------------------------------------------------------------------------------------
# snnTorch
# --------------------------------------------------------------------------------------------

def build_snntorch(layers, neuron, surrogate_name):
    import snntorch as snn
    from snntorch import surrogate

    spike_grad = getattr(surrogate, surrogate_name)()

    class SnnTorchNet(PlanNet):
        """snn.Leaky(reset_mechanism="zero", default reset_delay=True) computes
        mem(t) = beta (1 - s(t-1)) mem(t-1) + I(t), s(t) = 1[mem(t) - thr > 0]: the paper's LIF
        with mem = the pre-reset membrane u. Pooling IF = snn.Leaky(beta=1, threshold=0.75). The
        readout is a non-resetting Leaky whose membrane at the last step is sum_t beta^(T-t) I(t),
        the paper's V(T)/lambda. A residual block's shortcut current is added to the second
        Leaky's input current (weights and currents are PlanNet's)."""

        def __init__(self):
            super().__init__(layers, neuron, flatten="chw")
            lam = self.leak
            mods = []
            for L in layers:
                if L.kind == "Pool":
                    mods.append(snn.Leaky(beta=1.0, threshold=self.pool_threshold,
                                          reset_mechanism="zero", spike_grad=spike_grad))
                elif L.kind == "Readout":
                    mods.append(snn.Leaky(beta=lam, reset_mechanism="none", spike_grad=spike_grad))
                else:
                    mods.append(snn.Leaky(beta=lam, threshold=self.threshold,
                                          reset_mechanism="zero", spike_grad=spike_grad))
            self.neurons = nn.ModuleList(mods)

        def forward(self, timesteps, input_fn):
            mems = [n.reset_mem() for n in self.neurons]
            for t in range(timesteps):
                x = input_fn(t)
                cur = x
                outs = []
                for L, n in zip(self.plan_layers, self.neurons):
                    i = F.avg_pool2d(cur, 2) if L.kind == "Pool" else self.current(L, cur, outs, x)
                    spk, mems[L.index] = n(i, mems[L.index])
                    cur = spk
                    outs.append(spk)
            return self.leak * mems[-1] / timesteps

    return SnnTorchNet()


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------

def _find_cifar_batch(data_dir):
    for sub in ("cifar10/cifar-10-batches-bin", "cifar-10-batches-bin", "."):
        path = os.path.join(data_dir, sub, "data_batch_1.bin")
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no cifar10/cifar-10-batches-bin/data_batch_1.bin under {data_dir}")


def normalize_bytes(raw):
    """uint8 (B, 3, 32, 32) -> the authors' normalised floats (snn-data cifar.rs `normalize`)."""
    x = raw.to(torch.float32) / 255.0
    mean = torch.tensor(CIFAR_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


def make_batch(batch, data_dir, seed):
    """(normalised images (B,3,32,32), labels (B,), description)."""
    if data_dir:
        path = _find_cifar_batch(data_dir)
        with open(path, "rb") as f:
            body = f.read(3073 * batch)
        if len(body) != 3073 * batch:
            raise ValueError(f"{path} has fewer than {batch} records")
        rec = torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(batch, 3073)
        labels = rec[:, 0].long()
        raw = rec[:, 1:].reshape(batch, 3, 32, 32)
        desc = f"CIFAR-10 {path} (first {batch} training images)"
    else:
        gen = torch.Generator().manual_seed(seed)
        raw = torch.randint(0, 256, (batch, 3, 32, 32), generator=gen, dtype=torch.uint8)
        labels = torch.randint(0, 10, (batch,), generator=gen)
        desc = "random CIFAR-like (uniform bytes, normalised like CIFAR-10)"
    return normalize_bytes(raw), labels, desc


class SpikeSource:
    """Signed Bernoulli input (paper-method.md §2.1; snn-data encode.rs with scale 1): pixel x
    fires sign(x) with probability min(|x|, 1), fresh every step."""

    def __init__(self, images, channels_last=False):
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        self.p = images.abs()
        self.sign = torch.sign(images)

    def __call__(self, t=None):
        return (self.p > torch.rand_like(self.p)).to(self.p.dtype) * self.sign


def fixed_source(spikes):
    return lambda t: spikes[t]


# --------------------------------------------------------------------------------------------
# Independent NumPy reference of snn-train's algorithm (channel-last, canonical weights)
# --------------------------------------------------------------------------------------------

def _np_conv(x, w, stride, pad):
    """x (H, W, Cin), w (k, k, Cin, Cout) -> (Ho, Wo, Cout)."""
    k = w.shape[0]
    h, wd, _ = x.shape
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    out = np.zeros((ho, wo, w.shape[3]), dtype=np.result_type(x, w))
    for ky in range(k):
        for kx in range(k):
            patch = xp[ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride, :]
            out += patch @ w[ky, kx]
    return out


def _np_conv_back(x, w, d, stride, pad, need_input_grad=True):
    """Weight gradient and input gradient (None if not needed) of _np_conv for output gradient
    d, in float64 (`w` in float64)."""
    k = w.shape[0]
    h, wd, cin = x.shape
    ho, wo, cout = d.shape
    xp = np.pad(x.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    gxp = np.zeros_like(xp)
    gw = np.zeros(w.shape, dtype=np.float64)
    d2 = d.reshape(-1, cout)
    for ky in range(k):
        for kx in range(k):
            sl = (slice(ky, ky + stride * (ho - 1) + 1, stride),
                  slice(kx, kx + stride * (wo - 1) + 1, stride))
            gw[ky, kx] = np.ascontiguousarray(xp[sl]).reshape(-1, cin).T @ d2
            if need_input_grad:
                gxp[sl] += (d2 @ w[ky, kx].T).reshape(ho, wo, cin)
    return gw, (gxp[pad:pad + h, pad:pad + wd] if need_input_grad else None)


class NumpyReference:
    """snn-train's forward (f32, channel-last, canonical weights) and both gradient modes
    (f64), written from plan.rs / step.rs / grad/mod.rs without torch, for one sample."""

    def __init__(self, layers, neuron, canon):
        self.layers = layers
        self.leak = np.float32(neuron["leak"])
        self.th = np.float32(neuron["threshold"])
        self.pth = np.float32(neuron["pool_threshold"])
        self.w = {}
        for L in layers:
            for key, syn in PlanNet._syns(L):
                a = np.asarray(canon[key], dtype=np.float32)
                if syn.type == "Conv":
                    a = a.reshape(syn.kernel, syn.kernel, syn.input[0], syn.output[0])
                else:
                    a = a.reshape(syn.inputs, syn.outputs)
                self.w[key] = a
        self.w64 = {k: a.astype(np.float64) for k, a in self.w.items()}

    @staticmethod
    def _hwc(shape):
        c, h, w = shape
        return (h, w, c)

    def _syn_fwd(self, syn, key, x):
        if syn.type == "Conv":
            return _np_conv(x, self.w[key], syn.stride, syn.padding)
        if syn.type == "Dense":
            return x.reshape(-1) @ self.w[key]
        if syn.type == "Subsample":
            return x[::syn.stride, ::syn.stride, :]
        h, w, c = x.shape
        return x.reshape(h // 2, 2, w // 2, 2, c).sum(axis=(1, 3)) * np.float32(0.25)

    def _syn_back(self, syn, key, x, d, need_input_grad=True):
        """(weight gradient or None, input gradient shaped like x, or None if not needed)."""
        if syn.type == "Conv":
            return _np_conv_back(x, self.w64[key], d, syn.stride, syn.padding, need_input_grad)
        if syn.type == "Dense":
            xf = x.reshape(-1).astype(np.float64)
            return np.outer(xf, d), (self.w64[key] @ d).reshape(x.shape) if need_input_grad else None
        if syn.type == "Subsample":
            g = np.zeros(x.shape)
            g[::syn.stride, ::syn.stride, :] += d
            return None, g
        g = np.repeat(np.repeat(d, 2, axis=0), 2, axis=1) * 0.25
        return None, g

    def forward(self, spikes):
        """spikes: list of (H, W, C) float32 arrays in {-1, 0, 1}. Returns output (f32) and the
        spike record acts[l][t] (float32 arrays; the readout's entries are None)."""
        n = len(self.layers)
        mem = [np.zeros(self._hwc(L.output) if not L.flat() else (L.output[0],), np.float32)
               for L in self.layers]
        acts = [[] for _ in range(n)]
        for x in spikes:
            outs = []
            cur = x
            for L in self.layers:
                cur_in = self._syn_fwd(L.syn, L.name, cur)
                if L.sc is not None:
                    src = x if L.sc_source is None else outs[L.sc_source]
                    cur_in = cur_in + self._syn_fwd(L.sc, L.name + "__sc", src)
                cur_in = cur_in.reshape(mem[L.index].shape).astype(np.float32)
                u = mem[L.index] + cur_in
                if L.kind == "Readout":
                    mem[L.index] = self.leak * u
                    s = None
                else:
                    thr = self.pth if L.kind == "Pool" else self.th
                    fired = u > thr
                    s = fired.astype(np.float32)
                    lk = np.float32(1.0) if L.kind == "Pool" else self.leak
                    mem[L.index] = np.where(fired, np.float32(0.0), lk * u).astype(np.float32)
                acts[L.index].append(s)
                outs.append(s)
                cur = s
        T = len(spikes)
        return mem[-1] / np.float32(T), acts

    def gradients(self, spikes, out, acts, label, mode):
        """{param key: f64 gradient in canonical shape}, per snn-train's grad/mod.rs."""
        T = len(spikes)
        n = len(self.layers)
        R = n - 1
        lam = float(self.leak)
        gates = []
        for L in self.layers[:R]:
            st = np.stack(acts[L.index]).astype(np.float64)
            cnt = st.sum(axis=0)
            if L.kind == "Pool":
                gates.append((cnt > 0).astype(np.float64))
            else:
                w = lam ** np.arange(T - 1, -1, -1, dtype=np.float64)
                lf = np.tensordot(w, st, axes=(0, 0))
                ng = (lf > NG_EPS) + math.log(lam) * lf / np.where(cnt >= NG_EPS, cnt, 1.0)
                gates.append(np.where(cnt > 0, ng / float(self.th), 0.0))
        y = np.zeros(out.shape[0])
        y[label] = 1.0
        d_out = 2.0 * (out.astype(np.float64) - y) / T
        grads = {key: np.zeros(w.shape) for key, w in self.w.items()}

        def src_act(idx, t):
            if idx is None:
                return spikes[t] if t is not None else sum(s.astype(np.float64) for s in spikes)
            return acts[idx][t] if t is not None else sum(a.astype(np.float64) for a in acts[idx])

        def backprop(L, delta, t, g):
            """delta: gradient at L's membrane; adds weight gradients and the gradient at the
            sources' spike outputs (g[source])."""
            main_src = None if L.index == 0 else L.index - 1
            x = src_act(main_src, t)
            gw, gx = self._syn_back(L.syn, L.name, x, delta, main_src is not None)
            if gw is not None:
                grads[L.name] += gw
            if main_src is not None:
                g[main_src] += gx.reshape(g[main_src].shape)
            if L.sc is not None:
                xs = src_act(L.sc_source, t)
                gw, gx = self._syn_back(L.sc, L.name + "__sc", xs, delta,
                                        L.sc_source is not None)
                if gw is not None:
                    grads[L.name + "__sc"] += gw
                if L.sc_source is not None:
                    g[L.sc_source] += gx.reshape(g[L.sc_source].shape)

        shapes = [np.zeros(acts[L.index][0].shape) for L in self.layers[:R]]
        if mode == "aggregate":
            g = [z.copy() for z in shapes]
            backprop(self.layers[R], d_out, None, g)
            for l in range(R - 1, -1, -1):
                cnt = src_act(l, None)
                backprop(self.layers[l], np.where(cnt > 0, gates[l] * g[l], 0.0), None, g)
        else:
            du = [z.copy() for z in shapes]
            for t in range(T - 1, -1, -1):
                g = [z.copy() for z in shapes]
                backprop(self.layers[R], d_out, t, g)
                for l in range(R - 1, -1, -1):
                    s = acts[l][t] > 0
                    du[l] = np.where(s, gates[l] * g[l], du[l])
                    backprop(self.layers[l], du[l], t, g)
        return {k: v.reshape(-1) for k, v in grads.items()}


def per_layer_norms(layers, grads):
    """[(main, shortcut)] norms per plan layer from {key: flat array}."""
    out = []
    for L in layers:
        pair = []
        for key in (L.name, L.name + "__sc"):
            g = grads.get(key)
            pair.append(0.0 if g is None else float(np.sqrt(np.sum(np.square(np.asarray(g, np.float64))))))
        out.append(pair)
    return out


# --------------------------------------------------------------------------------------------
# Check directory (snn-train <-> PyTorch cross-check)
# --------------------------------------------------------------------------------------------

def spikes_to_lists(spikes_hwc):
    """(H, W, C) arrays in {-1,0,1} -> input_pos / input_neg index lists (channel-last)."""
    pos = [np.flatnonzero(s.reshape(-1) > 0).tolist() for s in spikes_hwc]
    neg = [np.flatnonzero(s.reshape(-1) < 0).tolist() for s in spikes_hwc]
    return pos, neg


def lists_to_spikes(pos, neg, shape_chw):
    """input_pos / input_neg -> list of (H, W, C) float32 arrays."""
    c, h, w = shape_chw
    out = []
    for p, q in zip(pos, neg):
        a = np.zeros(h * w * c, np.float32)
        a[np.asarray(p, dtype=np.int64)] = 1.0
        a[np.asarray(q, dtype=np.int64)] = -1.0
        out.append(a.reshape(h, w, c))
    return out


def write_check_dir(path, arch, timesteps, images, labels, seed):
    """A check directory in snn-train's --write-check format with expected numbers from the
    NumPy reference (He-initialised weights through check_weights(), sample 0 of `images`)."""
    plan = python_plan(arch)
    layers = parse_plan(plan)
    net = PlanNet(layers)
    net.he_init_(HE_K[arch], torch.Generator().manual_seed(seed))
    canon = {k: v.numpy() for k, v in check_weights(net.canonical()).items()}
    rng = np.random.default_rng(seed + 7)
    img = images[0].permute(1, 2, 0).numpy()  # HWC
    p = np.minimum(np.abs(img), 1.0)
    spikes = [((rng.random(img.shape) < p) * np.sign(img)).astype(np.float32) for _ in range(timesteps)]
    ref = NumpyReference(layers, NEURON, canon)
    out, acts = ref.forward(spikes)
    label = int(labels[0])
    y = np.zeros(out.shape[0])
    y[label] = 1.0
    loss = float(np.sum(np.square(out.astype(np.float64) - y)))
    expected = {"output": out.tolist(), "loss": loss}
    for mode in ("code", "aggregate"):
        g = ref.gradients(spikes, out, acts, label, mode)
        per = per_layer_norms(layers, g)
        expected["grad_" + mode] = {"norm": math.sqrt(sum(a * a + b * b for a, b in per)),
                                    "per_layer": per}
    os.makedirs(path, exist_ok=True)
    entries, chunks, at = [], [], 0
    for L in layers:
        e = {"layer": L.name}
        for part, key in (("main", L.name), ("shortcut", L.name + "__sc")):
            a = canon.get(key)
            a = np.zeros(0, np.float32) if a is None else a.astype("<f4")
            e[part] = [at, int(a.size)]
            chunks.append(a)
            at += a.size
        entries.append(e)
    with open(os.path.join(path, "weights.f32"), "wb") as f:
        for a in chunks:
            f.write(a.astype("<f4").tobytes())
    pos, neg = spikes_to_lists(spikes)
    doc = {"arch": arch, "timesteps": timesteps, "sample": 0, "label": label, "neuron": NEURON,
           "plan": plan, "input_pos": pos, "input_neg": neg, "weights_file": "weights.f32",
           "weights": entries, "expected": expected,
           "writer": "deep_peer.py --write-check-dir (NumPy reference)"}
    with open(os.path.join(path, "check.json"), "w") as f:
        json.dump(doc, f)
    counts = [int(sum(a.sum() for a in acts[L.index])) for L in layers[:-1]]
    return counts


def load_check_dir(path):
    with open(os.path.join(path, "check.json")) as f:
        doc = json.load(f)
    for key in ("plan", "timesteps", "label", "input_pos", "input_neg", "weights", "expected"):
        if key not in doc:
            raise ValueError(f"{path}/check.json has no '{key}'")
    layers = parse_plan(doc["plan"])
    raw = np.fromfile(os.path.join(path, doc.get("weights_file", "weights.f32")), dtype="<f4")
    by_name = {e["layer"]: e for e in doc["weights"]}
    canon = {}
    for L in layers:
        e = by_name.get(L.name)
        for part, key, syn in (("main", L.name, L.syn), ("shortcut", L.name + "__sc", L.sc)):
            need = syn.weight_count() if syn is not None else 0
            span = e.get(part) if e else None
            have = span[1] if span else 0
            if need != have:
                raise ValueError(f"layer {L.name} {part}: plan needs {need} weights, "
                                 f"check.json gives {have}")
            if need:
                off = span[0]
                if off + need > raw.size:
                    raise ValueError(f"layer {L.name} {part}: [{off}, {need}] beyond the "
                                     f"{raw.size} floats of the weights file")
                canon[key] = torch.from_numpy(raw[off:off + need].astype(np.float32))
    neuron = dict(NEURON)
    neuron.update(doc.get("neuron") or {})
    T = int(doc["timesteps"])
    if len(doc["input_pos"]) != T or len(doc["input_neg"]) != T:
        raise ValueError(f"input spike lists have {len(doc['input_pos'])}/"
                         f"{len(doc['input_neg'])} steps, timesteps is {T}")
    shape = tuple(doc["plan"]["input"][k] for k in ("channels", "height", "width"))
    spikes_hwc = lists_to_spikes(doc["input_pos"], doc["input_neg"], shape)
    return doc, layers, neuron, canon, spikes_hwc


def spikes_nchw(spikes_hwc, channels_last=False):
    out = []
    for s in spikes_hwc:
        t = torch.from_numpy(np.ascontiguousarray(s)).permute(2, 0, 1).unsqueeze(0).contiguous()
        if channels_last:
            t = t.contiguous(memory_format=torch.channels_last)
        out.append(t)
    return out


def make_peer(kind, layers, neuron, canon, compiled):
    """(net, train_fn, infer_fn) for kind in authors|tuned|aggregate|aggregate-tuned; train_fn
    (timesteps, input_fn, onehot) -> (loss tensor after backward, output), gradients left in
    net.w[*].grad; infer_fn (timesteps, input_fn) -> output."""
    tuned = kind in ("tuned", "aggregate-tuned")
    net = PlanNet(layers, neuron, flatten="hwc" if tuned else "chw", channels_last=tuned)
    net.load_canonical(canon)
    info = {"compiled": None}

    if kind == "authors":
        def train_fn(T, input_fn, onehot):
            out, _ = net.run(T, input_fn, "train_hook")
            loss = (out - onehot).square().sum()
            loss.backward()
            return loss, out

        def infer_fn(T, input_fn):
            with torch.no_grad():
                return net.run(T, input_fn, "infer")[0]
        return net, train_fn, infer_fn, info

    if kind == "tuned":
        step_train = functools.partial(net.step, mode="train_gate")
        step_infer = functools.partial(net.step, mode="infer")
        if compiled:
            step_train = torch.compile(step_train, dynamic=False)
            step_infer = torch.compile(step_infer, dynamic=False)
            info["compiled"] = ("torch.compile (inductor, CPU C++ backend, dynamic=False) of the "
                                "per-step body: one graph per time step holding every layer "
                                "(convs/linears as oneDNN calls, the LIF/IF updates, NG gate and "
                                "LF/gamma traces fused into C++ loops); its backward via "
                                "AOTAutograd; the inference step compiled separately")
        buffers = {}

        def train_fn(T, input_fn, onehot):
            x0 = input_fn(0)
            key = tuple(x0.shape)
            if key not in buffers:
                buffers[key] = net.ng_buffers(x0.shape[0], x0)
            ng = buffers[key]
            for b in ng.values():
                b.data.zero_()
            out, _ = net.run(T, lambda t: x0 if t == 0 else input_fn(t), "train_gate",
                             step_fn=step_train, ng=ng)
            loss = (out - onehot).square().sum()
            loss.backward()
            return loss, out

        def infer_fn(T, input_fn):
            with torch.inference_mode():
                return net.run(T, input_fn, "infer", step_fn=step_infer)[0]
        return net, train_fn, infer_fn, info

    # aggregate, aggregate-tuned
    step_count = functools.partial(net.step, mode="count")
    step_infer = functools.partial(net.step, mode="infer")
    count_loss = net.count_loss
    if compiled:
        step_count = torch.compile(step_count, dynamic=False)
        step_infer = torch.compile(step_infer, dynamic=False)
        count_loss = torch.compile(count_loss, dynamic=False)
        info["compiled"] = ("torch.compile (inductor, CPU C++ backend, dynamic=False) of the "
                            "no_grad counting step (every layer of one time step plus the spike "
                            "counts and LF traces), of the count-domain forward (its one backward "
                            "via AOTAutograd), and of the inference step")

    def train_fn(T, input_fn, onehot):
        with torch.no_grad():
            out, state = net.run(T, input_fn, "count", step_fn=step_count)
        loss = count_loss(state, out, onehot, T)
        loss.backward()
        return loss, out

    def infer_fn(T, input_fn):
        ctx = torch.inference_mode() if tuned else torch.no_grad()
        with ctx:
            return net.run(T, input_fn, "infer", step_fn=step_infer)[0]
    return net, train_fn, infer_fn, info


def _rel(a, b, atol=0.0):
    return abs(a - b) / max(abs(b), atol, 1e-300)


def near_threshold(layers, neuron, canon, spikes_hwc):
    """LIF membrane values within 1e-5 of V_th in a float32 forward (where float summation
    order can flip a spike between two implementations)."""
    net = PlanNet(layers, neuron)
    net.load_canonical(canon)
    net._margins = []
    with torch.no_grad():
        net.run(len(spikes_hwc), fixed_source(spikes_nchw(spikes_hwc)), "infer")
    per = {}
    for idx, m, n in net._margins:
        lo, cnt = per.get(idx, (float("inf"), 0))
        per[idx] = (min(lo, m), cnt + n)
    return per


def check_against(path, compiled, surrogate="atan", rtol=1e-3, otol=1e-4, quiet=False):
    """Compares every peer with the expected numbers of a check directory; returns True if all
    agree."""
    doc, layers, neuron, canon, spikes_hwc = load_check_dir(path)
    T = int(doc["timesteps"])
    label = int(doc["label"])
    exp = doc["expected"]
    n_cls = layers[-1].output[0]
    onehot = F.one_hot(torch.tensor([label]), n_cls).float()
    exp_out = np.asarray(exp["output"], dtype=np.float64)
    total_in = sum(len(p) + len(q) for p, q in zip(doc["input_pos"], doc["input_neg"]))
    print(f"check against {path}: arch {doc.get('arch')}, T={T}, label {label}, "
          f"{len(layers)} plan layers, {total_in} input spikes, neuron {neuron}")
    probe = PlanNet(layers, neuron)
    probe.load_canonical(canon)
    with torch.no_grad():
        _, st = probe.run(T, fixed_source(spikes_nchw(spikes_hwc)), "count")
    counts = {L.name: int(st["c" + str(L.index)].sum()) for L in layers if L.kind != "Readout"}
    print(f"  spikes per layer (PyTorch forward): {counts}")
    del probe, st
    ok_all = True
    results = {}
    for kind, mode in (("authors", "code"), ("tuned", "code"), ("aggregate", "aggregate"),
                       ("aggregate-tuned", "aggregate")):
        name = "torch-" + kind
        t0 = time.perf_counter()
        try:
            use_compile = compiled and kind.endswith("tuned")
            net, train_fn, _, _ = make_peer(kind, layers, neuron, canon, use_compile)
            src = fixed_source(spikes_nchw(spikes_hwc, channels_last=kind.endswith("tuned")))
            loss, out = train_fn(T, src, onehot)
        except Exception as e:  # report, don't crash the table
            print(f"  {name}: FAILED: {type(e).__name__}: {e}")
            traceback.print_exc()
            ok_all = False
            continue
        per = net.layer_grad_norms()
        norm = math.sqrt(sum(a * a + b * b for a, b in per))
        results[name] = dict(out=out.detach().double().numpy()[0], loss=loss.item(), per=per,
                             norm=norm, mode=mode, secs=time.perf_counter() - t0,
                             compiled=use_compile)
    # snnTorch: forward only (its gradient is a different algorithm by design).
    try:
        snt = build_snntorch(layers, neuron, surrogate)
        snt.load_canonical(canon)
        with torch.no_grad():
            out_s = snt(T, fixed_source(spikes_nchw(spikes_hwc))).double().numpy()[0]
        results["snntorch"] = dict(out=out_s)
    except Exception as e:
        print(f"  snntorch: FAILED: {type(e).__name__}: {e}")
        ok_all = False

    def verdict(good):
        return "ok" if good else "MISMATCH"

    print(f"  {'peer':<32} {'max|out-exp|':>13} {'loss':>13} {'exp loss':>13} {'rel':>9} "
          f"{'grad norm':>12} {'exp norm':>12} {'rel':>9}  verdict")
    for name, r in results.items():
        err = float(np.max(np.abs(r["out"] - exp_out)))
        good_out = err <= otol * max(1.0, float(np.max(np.abs(exp_out))))
        if "loss" not in r:
            ok_all &= good_out
            print(f"  {name + ' (forward)':<32} {err:>13.2e} {'':>13} {'':>13} {'':>9} {'':>12} "
                  f"{'':>12} {'':>9}  {verdict(good_out)}")
            continue
        e = exp["grad_" + r["mode"]]
        lrel = _rel(r["loss"], exp["loss"], 1e-12)
        nrel = _rel(r["norm"], e["norm"], 1e-12)
        good = good_out and lrel <= rtol and nrel <= rtol
        layer_bad = []
        per_exp = e["per_layer"]
        if len(per_exp) != len(layers):
            layer_bad.append(f"expected per_layer has {len(per_exp)} entries for {len(layers)} layers")
        else:
            atol = 1e-6 * max(e["norm"], 1e-12)
            for L, got, want in zip(layers, r["per"], per_exp):
                for part, a, b in (("main", got[0], want[0]), ("shortcut", got[1], want[1])):
                    if abs(a - b) > rtol * abs(b) + atol:
                        layer_bad.append(f"{L.name} {part}: {a:.6g} vs {b:.6g} "
                                         f"(rel {_rel(a, b, atol):.1e})")
        good = good and not layer_bad
        ok_all &= good
        tag = " (compiled)" if r.get("compiled") else ""
        print(f"  {name + tag:<32} {err:>13.2e} {r['loss']:>13.6g} {exp['loss']:>13.6g} "
              f"{lrel:>9.1e} {r['norm']:>12.6g} {e['norm']:>12.6g} {nrel:>9.1e}  {verdict(good)}"
              f"  [{r['mode']} mode, {r['secs']:.1f} s]")
        for msg in layer_bad:
            print(f"      per-layer mismatch: {msg}")
    if not quiet:
        names = [n for n in results if "per" in results[n]]
        print(f"  per-layer gradient norms (main / shortcut); code = snn-train GradMode::Code, "
              f"agg = GradMode::Aggregate:")
        hdr = f"    {'layer':<9}{'exp code':>12}" + "".join(
            f"{n.replace('torch-', ''):>17}" for n in names if results[n]["mode"] == "code") + \
            f"{'exp agg':>12}" + "".join(
            f"{n.replace('torch-', ''):>17}" for n in names if results[n]["mode"] == "aggregate")
        print(hdr)
        for i, L in enumerate(layers):
            for part in (0, 1):
                if (L.sc is None or not L.sc.weight_count()) and part == 1:
                    continue
                if part == 0 and not L.syn.weight_count():
                    continue
                line = f"    {L.name + ('.sc' if part else ''):<9}"
                line += f"{exp['grad_code']['per_layer'][i][part]:>12.5g}"
                for n in names:
                    if results[n]["mode"] == "code":
                        line += f"{results[n]['per'][i][part]:>17.5g}"
                line += f"{exp['grad_aggregate']['per_layer'][i][part]:>12.5g}"
                for n in names:
                    if results[n]["mode"] == "aggregate":
                        line += f"{results[n]['per'][i][part]:>17.5g}"
                print(line)
    silent = [name for name, c in counts.items() if c == 0]
    if silent or not exp["grad_code"]["norm"] > 0:
        print(f"  WARNING: the check is (partly) vacuous: layers that never fire: "
              f"{silent or 'none'}; expected code-mode gradient norm "
              f"{exp['grad_code']['norm']:.3g}. Silent layers get zero gradients, and a silent "
              f"last hidden layer makes the output 0 and every gradient 0. Use trained weights "
              f"or more time steps for a meaningful comparison.")
    if not ok_all:
        per = near_threshold(layers, neuron, canon, spikes_hwc)
        close = {layers[i].name: c for i, (m, c) in per.items() if c}
        closest = min((m for m, _ in per.values()), default=float("nan"))
        print(f"  note: closest LIF membrane to threshold in a float32 forward: |u - V_th| = "
              f"{closest:.1e}; values within 1e-5: {close or 'none'}. Different float "
              f"summation orders (PyTorch vs snn-train) can flip such a spike, after which "
              f"outputs and gradients legitimately differ.")
    print("check against " + path + (": all peers agree with snn-train" if ok_all
                                     else ": MISMATCH (see above)"))
    return ok_all


# --------------------------------------------------------------------------------------------
# Built-in checks
# --------------------------------------------------------------------------------------------

def check_single_neuron():
    """PlanNet.step (the code every torch peer but snnTorch runs) on one LIF neuron reproduces
    the §4.3 vector, with the authors' hook and with NGGate (as lenet_peer.py's check)."""
    one = _shape(1, 1, 1)
    layers = parse_plan({"input": one, "layers": [
        {"name": "fc1", "kind": "Linear", "input": one, "output": one,
         "synapses": {"Dense": {"inputs": 1, "outputs": 1}}, "shortcut": None},
        {"name": "readout", "kind": "Readout", "input": one, "output": one,
         "synapses": {"Dense": {"inputs": 1, "outputs": 1}}, "shortcut": None}]})
    results = {}
    for mode in ("train_hook", "train_gate"):
        net = PlanNet(layers).double()
        with torch.no_grad():
            net.w["fc1"].fill_(1.0)  # I(t) = 1 * x(t) exactly: x(t) is the current
            net.w["readout"].fill_(0.0)
        current = torch.tensor(REF_I, dtype=torch.float64).reshape(-1, 1, 1).requires_grad_(True)
        g = torch.tensor(REF_G, dtype=torch.float64)
        state = net.init_state(1, mode, current)
        ng = net.ng_buffers(1, current) if mode == "train_gate" else None
        spikes, us = [], []
        for t in range(len(REF_I)):
            us.append((state["v0"] + current[t]).item())
            state = net.step(current[t], state, mode, ng=ng, spikes_out=spikes)
        net.finish(state, mode, ng)
        ss = [outs[0] for outs in spikes]
        # L = sum_t g(t) s(t): g(t) is the gradient arriving at the spike output of step t, and
        # dL/dI(t) is the gradient at the pre-reset membrane u(t) = v(t-1) + I(t).
        loss = sum(g[t] * ss[t].sum() for t in range(len(ss)))
        loss.backward()
        ngv = net._ng[0] if mode == "train_hook" else ng["0"]
        got = dict(u=us, s=[int(x.item()) for x in ss], lf=state["lf0"].item(),
                   gamma=state["c0"].item(), ng=ngv.item(), du=current.grad.reshape(-1).tolist())
        want = dict(u=REF_U, s=REF_S, lf=REF_LF, gamma=REF_GAMMA, ng=REF_NG, du=REF_DU)
        worst = 0.0
        for key, ref in want.items():
            a = got[key] if isinstance(got[key], list) else [got[key]]
            r = ref if isinstance(ref, list) else [ref]
            err = max(abs(x - y) for x, y in zip(a, r))
            worst = max(worst, err)
            if err > 1e-5:
                raise AssertionError(f"single-neuron check ({mode}): {key} = {got[key]}, "
                                     f"expected {ref}")
        results[mode] = worst
    print(f"check ok: single LIF neuron (T=8) through PlanNet.step: u, s, LF, gamma, NG, du "
          f"match paper-method.md §4.3 with the authors' hook (max err "
          f"{results['train_hook']:.1e}) and with NGGate ({results['train_gate']:.1e})")


def check_plans():
    """python_plan gives the shapes and MAC counts of plan.rs (numbers from the Rust side)."""
    want = {"vgg9": (194717696, 5938880), "resnet11": (607856640, 17936064)}
    for arch, (macs, params) in want.items():
        layers = parse_plan(python_plan(arch))
        got_macs = dense_macs_per_step(layers)
        got_params = sum(L.syn.weight_count() + (L.sc.weight_count() if L.sc else 0) for L in layers)
        if (got_macs, got_params) != (macs, params):
            raise AssertionError(f"{arch}: plan gives {got_macs} MACs / {got_params} params, "
                                 f"snn-core says {macs} / {params}")
    print("check ok: plans of vgg9 and resnet11 (dense MACs per step 194,717,696 / 607,856,640; "
          "params 5,938,880 / 17,936,064, as snn-core)")


def check_batch_equivalence(arch, seed, compiled, data_dir):
    """Batch 2: tuned / aggregate-tuned (eager unless compiled) give torch-authors' /
    torch-aggregate's loss and gradients; snnTorch gives the same forward."""
    layers = parse_plan(python_plan(arch))
    base = PlanNet(layers)
    base.he_init_(HE_K[arch], torch.Generator().manual_seed(seed))
    canon = check_weights(base.canonical())
    images, labels, _ = make_batch(2, data_dir, seed)
    onehot = F.one_hot(labels, 10).float()
    torch.manual_seed(seed)
    T = 8
    src = SpikeSource(images * 1.0)
    spikes = [src() for _ in range(T)]
    spikes_cl = [s.contiguous(memory_format=torch.channels_last) for s in spikes]
    res = {}
    for kind in ("authors", "tuned", "aggregate", "aggregate-tuned"):
        net, train_fn, infer_fn, _ = make_peer(kind, layers, NEURON, canon,
                                               compiled and kind.endswith("tuned"))
        sp = spikes_cl if kind.endswith("tuned") else spikes
        loss, out = train_fn(T, fixed_source(sp), onehot)
        grads = net.canonical(grads=True)
        out_i = infer_fn(T, fixed_source(sp))
        res[kind] = (loss.item(), out.detach().clone(), grads, out_i.clone())
    worst = {}
    for a, b in (("tuned", "authors"), ("aggregate-tuned", "aggregate")):
        la, oa, ga, ia = res[a]
        lb, ob, gb, ib = res[b]
        if _rel(la, lb) > 1e-4:
            raise AssertionError(f"{arch}: {a} loss {la} vs {b} {lb}")
        gn = math.sqrt(sum(float(g.double().square().sum()) for g in gb.values()))
        err = max(float((ga[k] - gb[k]).abs().max()) for k in gb) / max(gn, 1e-30)
        if err > 1e-4:
            raise AssertionError(f"{arch}: {a} gradient differs from {b} by {err:.1e} of the norm")
        worst[a] = err
    la, oa, _, ia = res["authors"]
    for k in ("tuned", "aggregate", "aggregate-tuned"):
        if float((res[k][3] - ia).abs().max()) > 1e-4:
            raise AssertionError(f"{arch}: {k} inference output differs from torch-authors'")
    if float((oa - ia).abs().max()) > 1e-4:
        raise AssertionError(f"{arch}: torch-authors train-mode output differs from inference")
    snt = build_snntorch(layers, NEURON, "atan")
    snt.load_canonical(canon)
    with torch.no_grad():
        out_s = snt(T, fixed_source(spikes))
    err_s = float((out_s - ia).abs().max())
    if err_s > 1e-5:
        raise AssertionError(f"{arch}: snnTorch forward differs from torch-authors' by {err_s:.1e}")
    print(f"check ok: {arch} batch 2, T={T}: torch-tuned{' (compiled)' if compiled else ' (eager)'}"
          f" = torch-authors (grad rel diff {worst['tuned']:.1e}), torch-aggregate-tuned = "
          f"torch-aggregate ({worst['aggregate-tuned']:.1e}); all inference outputs agree; "
          f"snnTorch forward = torch-authors ({err_s:.1e})")


def run_checks(args):
    t0 = time.perf_counter()
    check_single_neuron()
    check_plans()
    images, labels, _ = make_batch(1, args.data_dir, args.seed)
    ok = True
    for arch in args.archs:
        check_batch_equivalence(arch, args.seed, args.check_compiled, args.data_dir)
        tmp = tempfile.mkdtemp(prefix=f"deep-peer-check-{arch}-")
        try:
            counts = write_check_dir(tmp, arch, 10, images, labels, args.seed)
            print(f"  NumPy reference ({arch}, T=10): spikes per layer {counts}")
            ok &= check_against(tmp, args.check_compiled, args.surrogate, quiet=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"checks {'passed' if ok else 'FAILED'} in {time.perf_counter() - t0:.1f} s")
    return ok


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

def equality_vs(ref_kind, kind, layers, canon, images, onehot, T, compiled_fns):
    """Loss, gradients and inference output of the compiled peer vs the eager reference peer on
    one fixed spike train and the same weights (`canon`, from check_weights), at the timing
    batch size (no recompile); also the per-layer spike totals of both training forwards."""
    torch.manual_seed(12345)
    src = SpikeSource(images)
    spikes = [src() for _ in range(T)]
    out = {}
    for k, fns in ((ref_kind, None), (kind, compiled_fns)):
        if fns is None:
            net, train_fn, infer_fn, _ = make_peer(k, layers, NEURON, canon, False)
            sp = spikes
        else:
            net, train_fn, infer_fn = fns
            sp = [s.contiguous(memory_format=torch.channels_last) for s in spikes]
        for p in net.parameters():
            p.grad = None
        net.record_counts = True
        loss, _ = train_fn(T, fixed_source(sp), onehot)
        net.record_counts = False
        grads = net.canonical(grads=True)
        for p in net.parameters():
            p.grad = None
        out[k] = (loss.item(), grads, net.last_counts, infer_fn(T, fixed_source(sp)).clone())
    (lr_, gr, cr, ir), (lt, gt, ct, it) = out[ref_kind], out[kind]
    gn = math.sqrt(sum(float(g.double().square().sum()) for g in gr.values()))
    gmax = max(float((gt[k] - gr[k]).abs().max()) for k in gr) / max(gn, 1e-30)
    lrel = _rel(lt, lr_, 1e-30)
    imax = float((it - ir).abs().max())
    silent = [k.replace("__sc", ".sc") for k, g in gr.items() if not bool(g.abs().max() > 0)]
    diff = {name: ct[name] - cr[name] for name in cr if ct.get(name) != cr[name]}
    return {"against": "torch-" + ref_kind, "timesteps": T,
            "weights": f"the benchmark's initial weights x {CHECK_GAIN} (so that every layer "
                       f"spikes within {T} steps), rounded to multiples of 2^-12 (exact sums)",
            "loss": lt, "loss_ref": lr_, "loss_rel_diff": lrel, "grad_norm_ref": gn,
            "grad_max_abs_diff_over_norm": gmax, "zero_gradient_layers_ref": silent,
            "spikes_ref": cr, "spike_count_diff": diff, "infer_output_max_abs_diff": imax,
            "ok": bool(lrel <= 1e-4 and gmax <= 1e-4 and not diff and imax <= 1e-5)}


def bench_impl(impl, arch, args, images, labels, canon, layers):
    T, b = args.timesteps, args.batch_size
    onehot = F.one_hot(labels, 10).to(torch.float32)
    macs = dense_macs_per_step(layers)
    extra = {}
    compile_s = None
    if impl == "snntorch":
        torch.manual_seed(args.seed)
        model = build_snntorch(layers, NEURON, args.surrogate)
        model.load_canonical(canon)
        src = SpikeSource(images)

        def train_body():
            out = model(T, src)
            loss = (out - onehot).square().sum()
            loss.backward()
            return loss

        def infer_body():
            with torch.no_grad():
                return model(T, src).argmax(1)
        compiled = None
    else:
        kind = impl.replace("torch-", "")
        tuned = kind.endswith("tuned")
        model, train_fn, infer_fn, info = make_peer(kind, layers, NEURON, canon, tuned)
        compiled = info["compiled"]
        src = SpikeSource(images, channels_last=tuned)

        def train_body():
            return train_fn(T, src, onehot)[0]

        def infer_body():
            return infer_fn(T, src).argmax(1)

        if tuned:
            # Compile outside the timed region (first calls of the training and the inference
            # step), then check the compiled steps against the eager peer on other weights (the
            # compiled graphs take the weights as inputs), then put the benchmark's weights back.
            t0 = time.perf_counter()
            train_body()
            for p in model.parameters():
                p.grad = None
            compile_s = {"train": time.perf_counter() - t0}
            t0 = time.perf_counter()
            infer_body()
            compile_s["infer"] = time.perf_counter() - t0
            ref = "authors" if kind == "tuned" else "aggregate"
            model.load_canonical(check_weights(canon))
            extra["check_vs_eager"] = equality_vs(ref, kind, layers, check_weights(canon), images,
                                                  onehot, CHECK_T, (model, train_fn, infer_fn))
            model.load_canonical(canon)
            if not extra["check_vs_eager"]["ok"]:
                print(f"    WARNING: {impl} differs from torch-{ref}: {extra['check_vs_eager']}",
                      flush=True)

    opt = torch.optim.SGD(model.parameters(), lr=LR[arch], momentum=0.0,
                          weight_decay=WEIGHT_DECAY)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    losses, grad_norms = [], []

    def restore():
        with torch.no_grad():
            for k, v in model.state_dict().items():
                v.copy_(initial[k])

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = train_body()
        opt.step()
        losses.append(loss.item())
        grad_norms.append(math.sqrt(sum(float(p.grad.square().sum())
                                        for p in model.parameters() if p.grad is not None)))

    train_times, train_warm = time_iterations(train_step, args.warmup, args.iters, before=restore)
    if not all(math.isfinite(x) for x in losses + grad_norms):
        raise RuntimeError(f"non-finite loss {losses} or gradient norm {grad_norms}")
    restore()
    infer_times, infer_warm = time_iterations(infer_body, args.warmup, args.iters)
    flop_step = 2.0 * macs * b
    train_flop = (T + 3) * flop_step if "aggregate" in impl else 3 * T * flop_step
    infer_flop = T * flop_step
    r = {
        "train_samples_per_s": b * len(train_times) / sum(train_times),
        "infer_samples_per_s": b * len(infer_times) / sum(infer_times),
        "train_samples_per_s_best": b / min(train_times),
        "infer_samples_per_s_best": b / min(infer_times),
        "train_s_per_iter": train_times,
        "infer_s_per_iter": infer_times,
        "train_warmup_s": train_warm,
        "infer_warmup_s": infer_warm,
        "train_loss": losses,
        "train_grad_norm": grad_norms,
        "peak_rss_mib_so_far": round(peak_rss_mib(), 1),
        "gflops_per_s_train": train_flop * len(train_times) / sum(train_times) / 1e9,
        "gflops_per_s_infer": infer_flop * len(infer_times) / sum(infer_times) / 1e9,
        "gflop_per_iter_train": train_flop / 1e9,
        "gflop_per_iter_infer": infer_flop / 1e9,
        "compiled": compiled,
        "gradient": ("aggregate (paper §4.2, GradMode::Aggregate)" if "aggregate" in impl else
                     "snnTorch surrogate BPTT (atan)" if impl == "snntorch" else
                     "authors' gated recurrence (paper §4.3, GradMode::Code)"),
    }
    if compile_s is not None:
        # Wall time of the first call of each compiled function (compilation + one run).
        r["compile_s"] = compile_s
    r.update(extra)
    return r


def main(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    _tune_dynamo()
    import snntorch

    if args.write_check_dir:
        images, labels, _ = make_batch(1, args.data_dir, args.seed)
        counts = write_check_dir(args.write_check_dir, args.archs[0], args.timesteps, images,
                                 labels, args.seed)
        print(f"wrote {args.write_check_dir} ({args.archs[0]}, T={args.timesteps}); spikes per "
              f"layer {counts}")
        return 0
    if args.check_against:
        root = args.check_against
        dirs = [root] if os.path.exists(os.path.join(root, "check.json")) else sorted(
            os.path.join(root, d) for d in (os.listdir(root) if os.path.isdir(root) else [])
            if os.path.exists(os.path.join(root, d, "check.json")))
        if not dirs:
            print(f"deep_peer.py: no check.json in {root} or its subfolders", file=sys.stderr)
            return 2
        ok = True
        for d in dirs:
            try:
                ok &= check_against(d, args.check_compiled, args.surrogate)
            except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
                print(f"deep_peer.py: cannot use --check-against {d}: {type(e).__name__}: {e}",
                      file=sys.stderr)
                return 2
        return 0 if ok else 1
    if args.check or args.check_only:
        if not run_checks(args):
            return 1
        if args.check_only:
            return 0

    try:
        images, labels, desc = make_batch(args.batch_size, args.data_dir, args.seed)
    except (OSError, ValueError) as e:
        print(f"deep_peer.py: cannot read --data-dir: {e}", file=sys.stderr)
        return 2
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    print(f"deep SNN peers: {', '.join(args.archs)}; T={args.timesteps}, batch {args.batch_size}, "
          f"threads {args.threads}, warmup {args.warmup}, iters {args.iters}, OMP_WAIT_POLICY "
          f"{os.environ['OMP_WAIT_POLICY']}; torch {torch.__version__}, snntorch "
          f"{snntorch.__version__}; input: {desc}", flush=True)
    pressure_before = cpu_pressure()
    if load:
        print(f"load average before timing: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
              f"{os.cpu_count()} CPUs" + (f"; CPU pressure avg10 {pressure_before['avg10']:.1f} %, "
                                          f"avg60 {pressure_before['avg60']:.1f} %"
                                          if pressure_before else ""), flush=True)
    doc = {}
    for arch in args.archs:
        layers = parse_plan(python_plan(arch))
        base = PlanNet(layers)
        base.he_init_(HE_K[arch], torch.Generator().manual_seed(args.seed))
        canon = base.canonical()
        del base
        res = {"dense_macs_per_step": dense_macs_per_step(layers), "lr": LR[arch],
               "init": f"normal(0, sqrt({HE_K[arch]:g} / fan_in))"}
        for impl in args.impls:
            t0 = time.perf_counter()
            try:
                r = bench_impl(impl, arch, args, images, labels, canon, layers)
            except Exception as e:  # record and go on with the other peers
                traceback.print_exc()
                r = {"error": f"{type(e).__name__}: {e}"}
                print(f"  {arch} {impl}: ERROR {r['error']}", flush=True)
            else:
                print(f"  {arch} {impl}: train {r['train_samples_per_s']:.3f} samples/s "
                      f"(s/iter {', '.join(f'{x:.2f}' for x in r['train_s_per_iter'])}; "
                      f"{r['gflops_per_s_train']:.1f} GFLOP/s), infer "
                      f"{r['infer_samples_per_s']:.3f} samples/s (s/iter "
                      f"{', '.join(f'{x:.2f}' for x in r['infer_s_per_iter'])}; "
                      f"{r['gflops_per_s_infer']:.1f} GFLOP/s), "
                      f"{time.perf_counter() - t0:.0f} s total", flush=True)
            res[impl] = r
        doc[arch] = res
    pressure_after = cpu_pressure()

    print()
    print(f"{'arch':<9} {'peer':<22} {'train samples/s':>16} {'(best)':>8} {'infer samples/s':>16} "
          f"{'(best)':>8} {'train s/iter':>13} {'infer s/iter':>13} {'GFLOP/s tr/inf':>15}")
    for arch in args.archs:
        for impl in args.impls:
            r = doc[arch][impl]
            if "error" in r:
                print(f"{arch:<9} {impl:<22} error: {r['error']}")
                continue
            print(f"{arch:<9} {impl:<22} {r['train_samples_per_s']:>16.3f} "
                  f"{r['train_samples_per_s_best']:>8.3f} {r['infer_samples_per_s']:>16.3f} "
                  f"{r['infer_samples_per_s_best']:>8.3f} "
                  f"{statistics.median(r['train_s_per_iter']):>13.3f} "
                  f"{statistics.median(r['infer_s_per_iter']):>13.3f} "
                  f"{r['gflops_per_s_train']:>7.1f}/{r['gflops_per_s_infer']:<7.1f}")
    print(f"(T={args.timesteps}, batch {args.batch_size}, {args.threads} threads; samples/s = mean "
          f"over {args.iters} timed iterations, best = fastest one; s/iter = median; peak RSS "
          f"{peak_rss_mib():.0f} MiB" + (f"; CPU pressure avg60 after timing "
                                         f"{pressure_after['avg60']:.1f} %" if pressure_after else "")
          + ")")

    if args.json:
        doc.update({
            "torch_version": torch.__version__,
            "snntorch_version": snntorch.__version__,
            "threads": args.threads,
            "timesteps": args.timesteps,
            "batch_size": args.batch_size,
            "warmup": args.warmup,
            "iters": args.iters,
            "input": desc,
            "surrogate": args.surrogate,
            "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
            "python_version": platform.python_version(),
            "gflop_formula": FLOP_FORMULA,
            "load_average_before": list(load) if load else None,
            "cpu_pressure_before": pressure_before,
            "cpu_pressure_after": pressure_after,
        })
        write_json_atomic(args.json, doc)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(_ARGS))
