#!/usr/bin/env python3
"""Peer throughput benchmark: the paper's MNIST LeNet SNN in PyTorch, five ways.

Times training (forward over T steps + backward + SGD step) and inference (no_grad forward over
T steps) of the LeNet of Lee et al. 2020 (paper-method.md §6.1) in

* ``torch-authors``: hand-written PyTorch the way the authors' released code does it
  (paper-method.md §4.3, §11): the T steps unrolled in a Python loop, a custom autograd spike
  function that passes the gradient only at spike steps (scaled by 1/V_th), hard reset
  ``(1 - s) * u`` with the spike detached so the temporal path is cut at every spike, the leak
  lambda applied forward but treated as identity backward, and a hook on every step's spike
  tensor that multiplies the arriving gradient by the per-neuron factor
  ``NG = 1[LF > 1e-3] + ln(lambda) * LF / max*(gamma)``.
* ``snntorch``: the same network with snnTorch neurons (``snn.Leaky``) and a surrogate gradient.
* ``torch-tuned``: torch-authors' algorithm (same forward, same gradient) as a PyTorch user would
  tune it for a CPU: ``channels_last`` conv weights and activations, ``torch.inference_mode()``
  for inference, and the per-step body (state in, new state out) compiled with
  ``torch.compile`` (inductor's C++ backend); the NG hook becomes an autograd Function
  (``NGGate``) so that one step compiles as one graph.
* ``torch-aggregate``: the paper's aggregate gradient (paper-method.md §4.2; snn-train's
  ``GradMode::Aggregate``): a ``no_grad`` forward over the T steps that records spike counts and
  LF, then ONE backward over the counts (``delta_j = (sum_k w_jk delta_k) NG_j / V_th`` for LIF
  neurons that fired, 1 for pooling neurons that fired, ``dW = delta (x) x_total``), as autograd
  over a single count-domain forward (``CountGate``).
* ``torch-aggregate-tuned``: the same with channels_last, its counting step and the count-domain
  forward/backward compiled.

Network (no biases): input 1x28x28 Bernoulli spikes p = pixel/2 (fresh every step) ->
conv 20C5 pad 2 -> LIF -> AvgPool2 -> IF(0.75) -> conv 50C5 pad 2 -> LIF -> AvgPool2 -> IF(0.75)
-> FC 2450->200 -> LIF -> FC 200->10 readout V = lambda (V + I), output V(T)/T.
LIF: lambda = 0.99, V_th = 1, strict >, hard reset to 0, leak after reset. Loss: summed squared
error vs one-hot. SGD lr 0.0085, weight decay 5e-4, no momentum.

The Rust benchmark calls ``benches/peers/.venv/bin/python benches/peers/lenet_peer.py --json PATH
...``; keep the command line and the JSON keys stable. Create the venv with ``setup.sh``.
"""

import argparse
import contextlib
import gzip
import io
import json
import math
import os
import platform
import resource
import statistics
import struct
import sys
import time
import traceback

LAMBDA = 0.99  # membrane leak per step (paper-method.md §3)
V_TH = 1.0  # LIF threshold (§3.1)
POOL_TH = 0.75  # pooling IF threshold (§3.2)
LR = 0.0085  # MNIST LeNet (§5.5)
WEIGHT_DECAY = 5e-4
MNIST_MEAN = 0.1307  # mean pixel intensity of MNIST; the random input is scaled to it
IMPLS = ("torch-authors", "snntorch", "torch-tuned", "torch-aggregate", "torch-aggregate-tuned")

# Worked single-neuron vector (paper-method.md §4.3; shared/reference/lif_neuron_vector.json).
REF_I = [0.6, 0.7, -0.2, 1.3, 0.1, 0.05, 0.95, 0.0]
REF_U = [0.6, 1.294, -0.2, 1.102, 0.1, 0.149, 1.09751, 0.0]
REF_S = [0, 1, 0, 1, 0, 0, 1, 0]
REF_LF = 2.892076
REF_GAMMA = 3
REF_NG = 0.99031122
REF_G = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8]
REF_DU = [-0.19806224, -0.19806224, 0.39612449, 0.39612449,
          0.69321785, 0.69321785, 0.69321785, 0.0]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--timesteps", "-T", type=int, default=100, help="time steps per sample")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed iterations per measurement (torch.compile compiles in the first)")
    p.add_argument("--iters", type=int, default=3, help="timed iterations per measurement")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--omp-wait-policy", choices=("passive", "active"), default=None,
                   help="OpenMP idle threads sleep (passive) or spin (active). Default: "
                        "$OMP_WAIT_POLICY if set, else passive, which keeps 2 threads on a "
                        "shared 2-core machine from stalling at every parallel region")
    p.add_argument("--impl", default="all",
                   help="which peer(s) to time: all, or one or more (comma-separated) of "
                        + ", ".join(IMPLS))
    p.add_argument("--no-train", action="store_true",
                   help="time inference only (the JSON then has no train_* keys)")
    p.add_argument("--surrogate", choices=("atan", "fast_sigmoid"), default="atan",
                   help="snnTorch surrogate gradient (atan is snnTorch's default)")
    p.add_argument("--data-dir", default=None,
                   help="folder with MNIST IDX files (train-images-idx3-ubyte[.gz], "
                        "train-labels-idx1-ubyte[.gz]); default: random MNIST-like input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", default=None, help="write the results as JSON")
    p.add_argument("--check", action="store_true",
                   help="run the correctness checks before timing (single-neuron gradient "
                        "vector; snntorch's forward = torch-authors'; torch-tuned = "
                        "torch-authors; torch-aggregate = the hand-written aggregate formula; "
                        "torch-aggregate-tuned = torch-aggregate); a failure is reported and "
                        "recorded in the JSON, the timing still runs")
    p.add_argument("--check-only", action="store_true", help="run the checks, time nothing")
    args = p.parse_args(argv)
    for name in ("timesteps", "batch_size", "iters", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        p.error("--warmup must be >= 0")
    names = IMPLS if args.impl == "all" else tuple(x.strip() for x in args.impl.split(","))
    unknown = [x for x in names if x not in IMPLS]
    if unknown or not names:
        p.error(f"--impl: unknown peer(s) {unknown}; choose from all, {', '.join(IMPLS)}")
    args.impls = names
    return args


# Thread settings must be in the environment before torch (and its OpenMP runtime) loads.
_ARGS = parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(_ARGS.threads))
os.environ.setdefault("MKL_NUM_THREADS", str(_ARGS.threads))
if _ARGS.omp_wait_policy:
    os.environ["OMP_WAIT_POLICY"] = _ARGS.omp_wait_policy.upper()
else:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------

def he_init_(model):
    """Normal(0, sqrt(2 / fan_in)) for every conv/FC weight (paper-method.md §5.4, LeNet k = 2)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            with torch.no_grad():
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in))


def make_layers(module):
    """The four weight layers of LeNet, no biases (§5.1, §6.1)."""
    module.conv1 = nn.Conv2d(1, 20, 5, padding=2, bias=False)
    module.conv2 = nn.Conv2d(20, 50, 5, padding=2, bias=False)
    module.fc1 = nn.Linear(50 * 7 * 7, 200, bias=False)
    module.fc2 = nn.Linear(200, 10, bias=False)


def bernoulli_spikes(images, t=None):
    """MNIST input encoding (§2.1): spike iff pixel/2 > U, U ~ Uniform[0,1), fresh every step."""
    return (images * 0.5 > torch.rand_like(images)).to(images.dtype)


def summed_squared_error(out, onehot):
    """Loss of the authors' code (§3.4): sum over batch and classes, no 1/2."""
    return (out - onehot).square().sum()


# --------------------------------------------------------------------------------------------
# Peer a: the authors' style (paper-method.md §4.3 and §11)
# --------------------------------------------------------------------------------------------

class AuthorsLIF:
    """One hidden LIF layer's state during one forward pass (§3.1, §4.1, §4.3)."""

    def __init__(self, shape, like, train):
        self.v = like.new_zeros(shape)
        self.train = train
        if train:
            self.lf = like.new_zeros(shape)  # LF <- lambda LF + s   (§4.1)
            self.gamma = like.new_zeros(shape)  # gamma <- gamma + s
            self.ng = None  # set by finish(), read by the hooks during backward

    def step(self, current):
        """Returns (s, u): the spikes and the pre-reset membrane of this step."""
        u = self.v + current
        s = SpikeFn.apply(u / V_TH - 1.0)
        if self.train:
            s.register_hook(self._ng_hook)
            with torch.no_grad():
                self.lf.mul_(LAMBDA).add_(s)
                self.gamma.add_(s)
            # Hard reset with the spike detached: d/du = (1 - s), the temporal path is cut at spikes.
            u_reset = (1.0 - s.detach()) * u
            # Leak lambda forward, identity backward (straight-through).
            self.v = u_reset + (LAMBDA - 1.0) * u_reset.detach()
        else:
            self.v = LAMBDA * ((1.0 - s) * u)
        return s, u

    def _ng_hook(self, grad):
        return grad * self.ng

    def finish(self):
        """NG = 1[LF > 1e-3] + ln(lambda) * LF / max*(gamma), per neuron and sample (§4.3)."""
        if self.train:
            gamma_safe = torch.where(self.gamma >= 1e-3, self.gamma, torch.ones_like(self.gamma))
            self.ng = (self.lf > 1e-3).to(self.lf.dtype) + math.log(LAMBDA) * self.lf / gamma_safe


class AuthorsPoolIF:
    """AvgPool2x2 followed by an IF neuron: no leak, threshold 0.75, hard reset, gradient gated on
    its own spikes with factor 1 (§3.2, §4.3)."""

    def __init__(self, shape, like, train):
        self.q = like.new_zeros(shape)
        self.train = train

    def step(self, spikes_in):
        p = self.q + F.avg_pool2d(spikes_in, 2)
        r = SpikeFn.apply(p - POOL_TH)
        self.q = (1.0 - (r.detach() if self.train else r)) * p
        return r


class AuthorsLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        make_layers(self)
        he_init_(self)

    def forward(self, images, timesteps, input_spikes=bernoulli_spikes):
        train = torch.is_grad_enabled()
        b = images.shape[0]
        lif1 = AuthorsLIF((b, 20, 28, 28), images, train)
        pool1 = AuthorsPoolIF((b, 20, 14, 14), images, train)
        lif2 = AuthorsLIF((b, 50, 14, 14), images, train)
        pool2 = AuthorsPoolIF((b, 50, 7, 7), images, train)
        lif3 = AuthorsLIF((b, 200), images, train)
        v_out = images.new_zeros((b, 10))
        for t in range(timesteps):
            x = input_spikes(images, t)
            s1, _ = lif1.step(self.conv1(x))
            r1 = pool1.step(s1)
            s2, _ = lif2.step(self.conv2(r1))
            r2 = pool2.step(s2)
            s3, _ = lif3.step(self.fc1(r2.flatten(1)))
            # Readout (§3.3): V = lambda (V + I) forward; identity backward.
            a = v_out + self.fc2(s3)
            v_out = a + (LAMBDA - 1.0) * a.detach() if train else LAMBDA * a
        for layer in (lif1, lif2, lif3):
            layer.finish()
        return v_out / timesteps


# --------------------------------------------------------------------------------------------
# Peer b: snnTorch
# --------------------------------------------------------------------------------------------

def build_snntorch_lenet(surrogate_name):
    import snntorch as snn
    from snntorch import surrogate

    spike_grad = getattr(surrogate, surrogate_name)()

    class SnnTorchLeNet(nn.Module):
        """snn.Leaky with reset_mechanism="zero" and the default reset_delay=True computes
        mem(t) = beta (1 - s(t-1)) mem(t-1) + I(t), s(t) = 1[mem(t) - threshold > 0]: exactly the
        paper's LIF with mem = the pre-reset membrane u. The pooling IF neurons are
        snn.Leaky(beta=1, threshold=0.75). The readout is a non-resetting snn.Leaky whose membrane
        at the last step is read out: mem(T) = sum_t beta^(T-t) I(t), i.e. the paper's V(T)/lambda,
        hence the factor LAMBDA in forward()."""

        def __init__(self):
            super().__init__()
            make_layers(self)
            he_init_(self)
            self.pool = nn.AvgPool2d(2)
            lif = dict(beta=LAMBDA, threshold=V_TH, reset_mechanism="zero", spike_grad=spike_grad)
            pool_if = dict(beta=1.0, threshold=POOL_TH, reset_mechanism="zero",
                           spike_grad=spike_grad)
            self.lif1 = snn.Leaky(**lif)
            self.if1 = snn.Leaky(**pool_if)
            self.lif2 = snn.Leaky(**lif)
            self.if2 = snn.Leaky(**pool_if)
            self.lif3 = snn.Leaky(**lif)
            self.readout = snn.Leaky(beta=LAMBDA, reset_mechanism="none", spike_grad=spike_grad)

        def forward(self, images, timesteps, input_spikes=bernoulli_spikes):
            mem1 = self.lif1.reset_mem()
            memp1 = self.if1.reset_mem()
            mem2 = self.lif2.reset_mem()
            memp2 = self.if2.reset_mem()
            mem3 = self.lif3.reset_mem()
            mem_out = self.readout.reset_mem()
            for t in range(timesteps):
                x = input_spikes(images, t)
                spk1, mem1 = self.lif1(self.conv1(x), mem1)
                spkp1, memp1 = self.if1(self.pool(spk1), memp1)
                spk2, mem2 = self.lif2(self.conv2(spkp1), mem2)
                spkp2, memp2 = self.if2(self.pool(spk2), memp2)
                spk3, mem3 = self.lif3(self.fc1(spkp2.flatten(1)), mem3)
                _, mem_out = self.readout(self.fc2(spk3), mem_out)
            return LAMBDA * mem_out / timesteps

    return SnnTorchLeNet()


# --------------------------------------------------------------------------------------------
# Peers c-e: the same LeNet written as a step function (state in, new state out), so that
# torch.compile can take one time step as one graph
# --------------------------------------------------------------------------------------------

def neuron_gate(lf, gamma):
    """NG = 1[LF > 1e-3] + ln(lambda) LF / max*(gamma) (§4.3), the same expression as
    AuthorsLIF.finish."""
    gamma_safe = torch.where(gamma >= 1e-3, gamma, torch.ones_like(gamma))
    return (lf > 1e-3).to(lf.dtype) + math.log(LAMBDA) * lf / gamma_safe


def _tune_dynamo():
    """Room for every compiled variant of one process (check shapes + timing shapes, several
    model instances): dynamo's default of 8 recompiles per code object would fall back to eager
    silently."""
    import torch._dynamo.config as dc
    for key in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                "accumulated_recompile_limit"):
        if hasattr(dc, key):
            setattr(dc, key, max(getattr(dc, key), 256))


class StepLeNet(nn.Module):
    """The LeNet of AuthorsLeNet (same layers, same initialisation order, so the same seed gives
    the same weights) written as pure step functions of (input spikes, state tuple) -> new state
    tuple, for torch-tuned, torch-aggregate and torch-aggregate-tuned. `channels_last` keeps the
    conv weights, the 4-D states and the conv activations in NHWC memory order (oneDNN's native
    layout; logical shapes and values are unchanged)."""

    def __init__(self, channels_last=False):
        super().__init__()
        make_layers(self)
        he_init_(self)
        self.channels_last = channels_last
        if channels_last:
            for conv in (self.conv1, self.conv2):
                conv.weight.data = conv.weight.data.contiguous(memory_format=torch.channels_last)

    def _zeros(self, shape, like):
        t = like.new_zeros(shape)
        if self.channels_last and t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        return t

    def init_state(self, b, like, mode):
        """mode: infer -> (v1, q1, v2, q2, v3, V); train -> + (lf1, c1, lf2, c2, lf3, c3);
        count -> + (x_count, lf1, c1, cp1, lf2, c2, cp2, lf3, c3)."""
        z = self._zeros
        st = [z((b, 20, 28, 28), like), z((b, 20, 14, 14), like), z((b, 50, 14, 14), like),
              z((b, 50, 7, 7), like), z((b, 200), like), z((b, 10), like)]
        if mode == "train":
            st += [z((b, 20, 28, 28), like), z((b, 20, 28, 28), like),
                   z((b, 50, 14, 14), like), z((b, 50, 14, 14), like),
                   z((b, 200), like), z((b, 200), like)]
        elif mode == "count":
            st += [z((b, 1, 28, 28), like),
                   z((b, 20, 28, 28), like), z((b, 20, 28, 28), like), z((b, 20, 14, 14), like),
                   z((b, 50, 14, 14), like), z((b, 50, 14, 14), like), z((b, 50, 7, 7), like),
                   z((b, 200), like), z((b, 200), like)]
        return tuple(st)

    def ng_buffers(self, b, like):
        z = self._zeros
        return (z((b, 20, 28, 28), like), z((b, 50, 14, 14), like), z((b, 200), like))

    def step_train(self, x, st, ng1, ng2, ng3):
        """One training step of torch-authors' graph (AuthorsLIF / AuthorsPoolIF in train mode,
        the NG hook as NGGate): the same forward values and the same gradient."""
        v1, q1, v2, q2, v3, vo, lf1, c1, lf2, c2, lf3, c3 = st
        lam = LAMBDA

        def lif(v, current, ng, lf, c):
            u = v + current
            s = NGGate.apply(SpikeFn.apply(u / V_TH - 1.0), ng)
            with torch.no_grad():
                lf_new = lf * lam + s
                c_new = c + s
            ur = (1.0 - s.detach()) * u
            return s, ur + (lam - 1.0) * ur.detach(), lf_new, c_new

        def pool_if(q, s_in):
            p = q + F.avg_pool2d(s_in, 2)
            r = SpikeFn.apply(p - POOL_TH)
            return r, (1.0 - r.detach()) * p

        s1, v1, lf1, c1 = lif(v1, self.conv1(x), ng1, lf1, c1)
        r1, q1 = pool_if(q1, s1)
        s2, v2, lf2, c2 = lif(v2, self.conv2(r1), ng2, lf2, c2)
        r2, q2 = pool_if(q2, s2)
        s3, v3, lf3, c3 = lif(v3, self.fc1(r2.flatten(1)), ng3, lf3, c3)
        a = vo + self.fc2(s3)
        vo = a + (lam - 1.0) * a.detach()
        return v1, q1, v2, q2, v3, vo, lf1, c1, lf2, c2, lf3, c3

    def _infer_layers(self, x, v1, q1, v2, q2, v3, vo):
        """torch-authors' inference forward of one step; also returns the step's spikes."""
        lam = LAMBDA
        u1 = v1 + self.conv1(x)
        s1 = (u1 / V_TH - 1.0 > 0).to(u1.dtype)
        p1 = q1 + F.avg_pool2d(s1, 2)
        r1 = (p1 - POOL_TH > 0).to(p1.dtype)
        u2 = v2 + self.conv2(r1)
        s2 = (u2 / V_TH - 1.0 > 0).to(u2.dtype)
        p2 = q2 + F.avg_pool2d(s2, 2)
        r2 = (p2 - POOL_TH > 0).to(p2.dtype)
        u3 = v3 + self.fc1(r2.flatten(1))
        s3 = (u3 / V_TH - 1.0 > 0).to(u3.dtype)
        vo = lam * (vo + self.fc2(s3))
        new = (lam * ((1.0 - s1) * u1), (1.0 - r1) * p1, lam * ((1.0 - s2) * u2),
               (1.0 - r2) * p2, lam * ((1.0 - s3) * u3), vo)
        return new, (s1, r1, s2, r2, s3)

    def step_infer(self, x, st):
        return self._infer_layers(x, *st)[0]

    def step_count(self, x, st):
        """The inference step plus what the aggregate gradient needs: input spike counts, per LIF
        layer LF <- lambda LF + s and gamma <- gamma + s, per pooling layer its spike count."""
        new, (s1, r1, s2, r2, s3) = self._infer_layers(x, *st[:6])
        xc, lf1, c1, cp1, lf2, c2, cp2, lf3, c3 = st[6:]
        lam = LAMBDA
        return new + (xc + x, lf1 * lam + s1, c1 + s1, cp1 + r1, lf2 * lam + s2, c2 + s2,
                      cp2 + r2, lf3 * lam + s3, c3 + s3)

    def count_loss(self, counts, out, onehot, timesteps):
        """The aggregate gradient as autograd over one count-domain forward: backward() of the
        returned loss leaves in .grad exactly delta_j = (sum_k w_jk delta_k) * gate_j and
        dW = delta (x) x_total (§4.2; snn-train's GradMode::Aggregate). `counts`: the count part
        of a "count" run's final state; `out`: its output V(T)/T (the true, leaky readout)."""
        xc, lf1, c1, cp1, lf2, c2, cp2, lf3, c3 = counts
        with torch.no_grad():
            g1 = torch.where(c1 > 0, neuron_gate(lf1, c1) / V_TH, torch.zeros_like(c1))
            g2 = torch.where(c2 > 0, neuron_gate(lf2, c2) / V_TH, torch.zeros_like(c2))
            g3 = torch.where(c3 > 0, neuron_gate(lf3, c3) / V_TH, torch.zeros_like(c3))
            gp1 = (cp1 > 0).to(cp1.dtype)
            gp2 = (cp2 > 0).to(cp2.dtype)
        a = CountGate.apply(self.conv1(xc), c1, g1)
        a = CountGate.apply(F.avg_pool2d(a, 2), cp1, gp1)
        a = CountGate.apply(self.conv2(a), c2, g2)
        a = CountGate.apply(F.avg_pool2d(a, 2), cp2, gp2)
        a = CountGate.apply(self.fc1(a.flatten(1)), c3, g3)
        # Readout: d o / d I(t) = 1/T at every step (backward ignores the leak), so
        # d o / d W_out = x_total / T; the forward value stays the true output.
        i = self.fc2(a) / timesteps
        o = out + (i - i.detach())
        return summed_squared_error(o, onehot)


class Peer:
    """One timed implementation: loss_backward(images, onehot, T, input_spikes) runs forward and
    backward (gradients left in model's .grad) and returns (loss, output); infer(images, T,
    input_spikes) returns the output. `compiled` says what torch.compile compiled (or None)."""

    def __init__(self, model, loss_backward, infer, compiled=None, algorithm="code"):
        self.model = model
        self.loss_backward = loss_backward
        self.infer = infer
        self.compiled = compiled
        self.algorithm = algorithm


def make_peer(impl, surrogate_name="atan", compile_=True):
    """The peer `impl`; `compile_=False` gives the tuned peers' eager form (checks only)."""
    if impl in ("torch-authors", "snntorch"):
        model = AuthorsLeNet() if impl == "torch-authors" else build_snntorch_lenet(surrogate_name)

        def loss_backward(images, onehot, timesteps, input_spikes=bernoulli_spikes):
            out = model(images, timesteps, input_spikes=input_spikes)
            loss = summed_squared_error(out, onehot)
            loss.backward()
            return loss, out

        def infer(images, timesteps, input_spikes=bernoulli_spikes):
            with torch.no_grad():
                return model(images, timesteps, input_spikes=input_spikes)

        return Peer(model, loss_backward, infer, None,
                    "code" if impl == "torch-authors" else "surrogate-bptt")

    tuned = impl.endswith("-tuned")
    model = StepLeNet(channels_last=tuned)
    compiled = None
    step_infer = model.step_infer
    if tuned and compile_:
        _tune_dynamo()
        step_infer = torch.compile(model.step_infer, dynamic=False)

    def run(step, mode, images, timesteps, input_spikes, extra=()):
        st = model.init_state(images.shape[0], images, mode)
        for t in range(timesteps):
            st = step(input_spikes(images, t), st, *extra)
        return st

    def infer(images, timesteps, input_spikes=bernoulli_spikes):
        with (torch.inference_mode() if tuned else torch.no_grad()):
            return run(step_infer, "infer", images, timesteps, input_spikes)[5] / timesteps

    if impl == "torch-tuned":
        step_train = model.step_train
        if compile_:
            step_train = torch.compile(model.step_train, dynamic=False)
            compiled = ("the training step body (one time step of all layers: conv/linear, "
                        "LIF/IF updates, NG gate, LF/gamma traces; its backward through "
                        "AOTAutograd) and the inference step body; inductor C++ backend")
        buffers = {}

        def loss_backward(images, onehot, timesteps, input_spikes=bernoulli_spikes):
            key = (tuple(images.shape), images.dtype)
            if key not in buffers:
                buffers[key] = model.ng_buffers(images.shape[0], images)
            ng = buffers[key]
            for b in ng:
                b.data.zero_()
            st = run(step_train, "train", images, timesteps, input_spikes, ng)
            with torch.no_grad():
                for buf, lf, c in zip(ng, st[6::2], st[7::2]):
                    buf.data.copy_(neuron_gate(lf, c))
            out = st[5] / timesteps
            loss = summed_squared_error(out, onehot)
            loss.backward()
            return loss, out

        return Peer(model, loss_backward, infer, compiled, "code")

    # torch-aggregate, torch-aggregate-tuned
    step_count = model.step_count
    count_loss = model.count_loss
    if tuned and compile_:
        step_count = torch.compile(model.step_count, dynamic=False)
        count_loss = torch.compile(model.count_loss, dynamic=False)
        compiled = ("the no_grad counting step body (one time step of all layers plus input "
                    "counts, spike counts and LF traces), the count-domain forward (its backward "
                    "through AOTAutograd) and the inference step body; inductor C++ backend")

    def loss_backward(images, onehot, timesteps, input_spikes=bernoulli_spikes):
        with torch.no_grad():
            st = run(step_count, "count", images, timesteps, input_spikes)
        out = st[5] / timesteps
        loss = count_loss(st[6:], out, onehot, timesteps)
        loss.backward()
        return loss, out

    return Peer(model, loss_backward, infer, compiled, "aggregate")


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------

def _read_idx(path, count):
    """The first `count` items of an unsigned-byte IDX file (optionally gzipped)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        _, dtype_code, ndim = struct.unpack(">HBB", f.read(4))
        if dtype_code != 0x08:
            raise ValueError(f"{path}: expected unsigned-byte IDX data, got type 0x{dtype_code:02x}")
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        if dims[0] < count:
            raise ValueError(f"{path} has only {dims[0]} items, need {count}")
        item = math.prod(dims[1:])
        body = f.read(count * item)
    if len(body) != count * item:
        raise ValueError(f"{path}: truncated")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape((count,) + dims[1:])


def _find(data_dir, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no {stem}[.gz] in {data_dir}")


def make_batch(args):
    """(images in [0,1] of shape (B,1,28,28), one-hot labels (B,10), description)."""
    b = args.batch_size
    if args.data_dir:
        images = _read_idx(_find(args.data_dir, "train-images-idx3-ubyte"), b)
        labels = _read_idx(_find(args.data_dir, "train-labels-idx1-ubyte"), b).long()
        images = images.float().div_(255.0).unsqueeze(1)
        desc = f"MNIST IDX from {args.data_dir} (first {b} training images)"
    else:
        gen = torch.Generator().manual_seed(args.seed)
        # Uniform pixels scaled to MNIST's mean intensity: the dense PyTorch kernels do the same
        # work for any values, so only the spike statistics (not the timing) depend on this.
        images = torch.rand((b, 1, 28, 28), generator=gen) * (2 * MNIST_MEAN)
        labels = torch.randint(0, 10, (b,), generator=gen)
        desc = f"random MNIST-like (uniform pixels, mean {images.mean().item():.3f})"
    return images, F.one_hot(labels, 10).to(images.dtype), desc


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

def check_single_neuron():
    """The authors'-style backward on one neuron reproduces the §4.3 test vector."""
    dtype = torch.float64
    current = torch.tensor(REF_I, dtype=dtype, requires_grad=True)
    g = torch.tensor(REF_G, dtype=dtype)
    lif = AuthorsLIF((1,), current, train=True)
    us, ss = [], []
    for t in range(len(REF_I)):
        s, u = lif.step(current[t:t + 1])
        us.append(u)
        ss.append(s)
    lif.finish()
    # L = sum_t g(t) s(t) makes g(t) the gradient arriving at the spike output of step t.
    loss = sum(g[t] * ss[t].sum() for t in range(len(ss)))
    loss.backward()
    # u(t) = v(t-1) + I(t), so dL/dI(t) is the gradient at the pre-reset membrane u(t).
    du = current.grad.tolist()
    got = dict(u=[x.item() for x in us], s=[int(x.item()) for x in ss],
               lf=lif.lf.item(), gamma=lif.gamma.item(), ng=lif.ng.item(), du=du)
    want = dict(u=REF_U, s=REF_S, lf=REF_LF, gamma=REF_GAMMA, ng=REF_NG, du=REF_DU)
    worst = 0.0
    for key, ref in want.items():
        a = got[key] if isinstance(got[key], list) else [got[key]]
        r = ref if isinstance(ref, list) else [ref]
        err = max(abs(x - y) for x, y in zip(a, r))
        worst = max(worst, err)
        if err > 1e-5:
            raise AssertionError(f"single-neuron check: {key} = {got[key]}, expected {ref}")
    print(f"check ok: single LIF neuron (T=8) u, s, LF, gamma, NG and du match paper-method.md "
          f"§4.3 (max abs error {worst:.1e})")


def check_forward_equivalence(args):
    """Both peers, given the same weights and input spike trains, give the same output."""
    torch.manual_seed(args.seed)
    timesteps, b = 30, 8
    images = torch.rand((b, 1, 28, 28)) * 0.5  # brighter than MNIST so that every layer spikes
    spikes = [bernoulli_spikes(images) for _ in range(timesteps)]
    authors = AuthorsLeNet()
    snn_net = build_snntorch_lenet(args.surrogate)
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1", "fc2"):
            getattr(snn_net, name).weight.copy_(getattr(authors, name).weight)
        out_a = authors(images, timesteps, input_spikes=lambda _, t: spikes[t])
        out_s = snn_net(images, timesteps, input_spikes=lambda _, t: spikes[t])
    err = (out_a - out_s).abs().max().item()
    scale = out_a.abs().max().item()
    if not err <= 1e-5 * max(1.0, scale):
        raise AssertionError(f"forward equivalence: max |authors - snntorch| = {err:.3e} "
                             f"(max |output| {scale:.3e})")
    # The training-mode forward (straight-through leak) must give the same values too.
    out_t = authors(images, timesteps, input_spikes=lambda _, t: spikes[t]).detach()
    err_t = (out_a - out_t).abs().max().item()
    if not err_t <= 1e-5 * max(1.0, scale):
        raise AssertionError(f"train-mode forward differs from inference forward by {err_t:.3e}")
    print(f"check ok: torch-authors and snntorch outputs agree (T={timesteps}, batch {b}, max abs "
          f"diff {err:.1e}; train-mode forward vs no_grad forward {err_t:.1e})")


def _pool2(x):
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).mean(dim=(3, 5))


def _unpool2(g):
    """Backward of the 2x2 average pool: each of the 4 inputs gets 1/4."""
    return g.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3) / 4.0


def aggregate_reference(weights, spikes, onehot):
    """The paper's aggregate gradient (paper-method.md §4.2, snn-train's GradMode::Aggregate)
    written out by hand, independently of the peers' code and without autograd: an explicit
    forward loop (§3) that records spike counts and LF, then
    delta = (W^T delta_above) * gate with gate = NG/V_th for LIF neurons that fired, 1 for
    pooling neurons that fired, 0 otherwise; dW = delta (x) x_total (convolutions as
    unfold/einsum, pooling backward as 1/4 to each input); readout d o / d W = 2 (o - y) (x)
    x_total / T. Any dtype (the check uses float64). Returns (loss, output, {name: dW}, spike
    counts per layer)."""
    w1, w2, w3, w4 = (weights[n] for n in ("conv1.weight", "conv2.weight", "fc1.weight",
                                           "fc2.weight"))
    b, timesteps = spikes[0].shape[0], len(spikes)

    def conv(x, w):
        cols = F.unfold(x, w.shape[-1], padding=2)  # (B, Cin*25, H*W)
        out = torch.einsum("ok,bkp->bop", w.reshape(w.shape[0], -1), cols)
        return out.reshape(b, w.shape[0], x.shape[2], x.shape[3])

    z = spikes[0].new_zeros
    v1, q1, v2, q2, v3, vo = (z((b, 20, 28, 28)), z((b, 20, 14, 14)), z((b, 50, 14, 14)),
                              z((b, 50, 7, 7)), z((b, 200)), z((b, 10)))
    xc, c1, lf1, cp1 = z((b, 1, 28, 28)), z((b, 20, 28, 28)), z((b, 20, 28, 28)), z((b, 20, 14, 14))
    c2, lf2, cp2 = z((b, 50, 14, 14)), z((b, 50, 14, 14)), z((b, 50, 7, 7))
    c3, lf3 = z((b, 200)), z((b, 200))
    for x in spikes:
        u1 = v1 + conv(x, w1)
        s1 = (u1 > V_TH).to(u1.dtype)
        v1 = LAMBDA * (1 - s1) * u1
        p1 = q1 + _pool2(s1)
        r1 = (p1 > POOL_TH).to(p1.dtype)
        q1 = (1 - r1) * p1
        u2 = v2 + conv(r1, w2)
        s2 = (u2 > V_TH).to(u2.dtype)
        v2 = LAMBDA * (1 - s2) * u2
        p2 = q2 + _pool2(s2)
        r2 = (p2 > POOL_TH).to(p2.dtype)
        q2 = (1 - r2) * p2
        u3 = v3 + r2.reshape(b, -1) @ w3.t()
        s3 = (u3 > V_TH).to(u3.dtype)
        v3 = LAMBDA * (1 - s3) * u3
        vo = LAMBDA * (vo + s3 @ w4.t())
        xc, c1, cp1, c2, cp2, c3 = xc + x, c1 + s1, cp1 + r1, c2 + s2, cp2 + r2, c3 + s3
        lf1, lf2, lf3 = LAMBDA * lf1 + s1, LAMBDA * lf2 + s2, LAMBDA * lf3 + s3
    out = vo / timesteps
    e = out - onehot
    loss = (e * e).sum()

    def gate(lf, c):  # NG / V_th where the neuron fired (NG = 1 + ln(lambda) LF / gamma)
        fired = c > 0
        return torch.where(fired, (1 + math.log(LAMBDA) * lf / torch.where(fired, c, 1)) / V_TH, 0)

    d4 = 2 * e / timesteps  # dL/dI_out(t), the same at every step
    grads = {"fc2.weight": d4.t() @ c3}
    d3 = (d4 @ w4) * gate(lf3, c3)
    grads["fc1.weight"] = d3.t() @ cp2.reshape(b, -1)
    dp2 = (d3 @ w3).reshape(cp2.shape) * (cp2 > 0)
    d2 = _unpool2(dp2) * gate(lf2, c2)
    d2f = d2.reshape(b, 50, -1)
    grads["conv2.weight"] = torch.einsum(
        "bop,bkp->ok", d2f, F.unfold(cp1, 5, padding=2)).reshape(w2.shape)
    dp1 = F.fold(torch.einsum("ok,bop->bkp", w2.reshape(50, -1), d2f), (14, 14), 5,
                 padding=2) * (cp1 > 0)
    d1 = _unpool2(dp1) * gate(lf1, c1)
    grads["conv1.weight"] = torch.einsum(
        "bop,bkp->ok", d1.reshape(b, 20, -1), F.unfold(xc, 5, padding=2)).reshape(w1.shape)
    counts = {"input": xc.sum().item(), "conv1": c1.sum().item(), "pool1": cp1.sum().item(),
              "conv2": c2.sum().item(), "pool2": cp2.sum().item(), "fc1": c3.sum().item()}
    return loss, out, grads, counts


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def _rel_diff(a, b):
    """|a - b| / |b| for tensors (Frobenius norms) or numbers."""
    if isinstance(a, torch.Tensor):
        return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-300)).item()
    return abs(a - b) / max(abs(b), 1e-300)


def _grad_norm(grads):
    return math.sqrt(sum(g.double().square().sum().item() for g in grads.values()))


def check_new_peers(args, compile_=True, rtol=1e-4):
    """torch-tuned vs torch-authors (same algorithm), torch-aggregate vs the hand-written
    aggregate formula (float64), torch-aggregate-tuned vs torch-aggregate: loss, gradient norm,
    every layer's gradient and the inference output, on the same weights and input spikes.

    The weights are rounded to multiples of 2^-10 so that every conv/linear sum of 0/1 spikes is
    exact in float32 whatever the summation order (channels_last, oneDNN blocking and inductor
    change it): the forward passes are then bit-identical and no spike flips between peers;
    without rounding, a membrane within ~1e-7 of the threshold can spike in one peer and not in
    the other, which changes the gradients by more than summation-order noise."""
    torch.manual_seed(args.seed)
    timesteps, b = 30, 8
    images = torch.rand((b, 1, 28, 28)) * 0.5  # brighter than MNIST so that every layer spikes
    spikes = [bernoulli_spikes(images) for _ in range(timesteps)]
    onehot = F.one_hot(torch.randint(0, 10, (b,)), 10).to(images.dtype)
    ref_model = AuthorsLeNet()
    with torch.no_grad():
        for p in ref_model.parameters():
            p.copy_(torch.round(p * 1024.0) / 1024.0)
    weights = {k: v.clone() for k, v in ref_model.state_dict().items()}

    def run(impl, dtype=torch.float32):
        t0 = time.perf_counter()
        peer = make_peer(impl, args.surrogate, compile_=compile_)
        peer.model.to(dtype)
        peer.model.load_state_dict(weights)
        sp = [x.to(dtype) for x in spikes]
        loss, out = peer.loss_backward(images.to(dtype), onehot.to(dtype), timesteps,
                                       input_spikes=lambda _, t: sp[t])
        infer = peer.infer(images.to(dtype), timesteps, input_spikes=lambda _, t: sp[t])
        return dict(loss=loss.item(), out=out.detach().clone(), infer=infer.clone(),
                    grads=_grads(peer.model), secs=time.perf_counter() - t0,
                    compiled=peer.compiled is not None)

    def compare(name, got, want, tol, what):
        errs = {"loss": _rel_diff(got["loss"], want["loss"]),
                "grad norm": _rel_diff(_grad_norm(got["grads"]), _grad_norm(want["grads"]))}
        errs.update({f"d{k.split('.')[0]}": _rel_diff(got["grads"][k], want["grads"][k])
                     for k in want["grads"]})
        if "out" in want:
            errs["output"] = (got["out"].double() - want["out"].double()).abs().max().item()
        if "infer" in want and "infer" in got:
            errs["inference output"] = (got["infer"].double()
                                        - want["infer"].double()).abs().max().item()
        bad = {k: v for k, v in errs.items() if not v <= tol}
        detail = ", ".join(f"{k} {v:.1e}" for k, v in errs.items())
        tag = " (compiled)" if got.get("compiled") else ""
        if bad:
            raise AssertionError(f"{name}{tag} vs {what}: differs beyond {tol:g}: {detail}")
        print(f"check ok: {name}{tag} vs {what} (T={timesteps}, batch {b}; loss "
              f"{got['loss']:.6g}, gradient norm {_grad_norm(got['grads']):.6g}; relative "
              f"differences: {detail}; {got['secs']:.1f} s)")
        return errs

    authors = run("torch-authors")
    loss64, out64, grads64, counts = aggregate_reference(
        {k: v.double() for k, v in weights.items()}, [x.double() for x in spikes],
        onehot.double())
    silent = [k for k, v in counts.items() if v == 0]
    if silent:
        raise AssertionError(f"check input too weak: no spikes in {silent} ({counts})")
    print(f"check input: spikes per layer over T={timesteps}, batch {b}: "
          + ", ".join(f"{k} {int(v)}" for k, v in counts.items()))
    if not _grad_norm(authors["grads"]) > 0:
        raise AssertionError("check is vacuous: torch-authors' gradient is zero")
    compare("torch-tuned", run("torch-tuned"), authors, rtol, "torch-authors")
    reference = dict(loss=loss64.item(), out=out64, grads=grads64)
    compare("torch-aggregate (float64)", run("torch-aggregate", torch.float64), reference, 1e-10,
            "the hand-written aggregate formula (float64)")
    # Inference of every peer is the same forward pass: compared with torch-authors' output.
    reference["infer"] = authors["infer"]
    agg = run("torch-aggregate")
    compare("torch-aggregate", agg, reference, rtol, "the hand-written aggregate formula (float64)")
    agg["infer"] = authors["infer"]
    compare("torch-aggregate-tuned", run("torch-aggregate-tuned"), agg, rtol, "torch-aggregate")
    # The readout gradient is the same in both algorithms (paper-method.md §4.3): a cross-check
    # that ties the two together.
    err = _rel_diff(agg["grads"]["fc2.weight"], authors["grads"]["fc2.weight"])
    if not err <= rtol:
        raise AssertionError(f"readout gradient: torch-aggregate vs torch-authors differ by {err:.1e}")
    print(f"check ok: readout (fc2) gradient of torch-aggregate equals torch-authors' "
          f"(relative difference {err:.1e}; the two algorithms share it, §4.3)")


class _Tee(io.TextIOBase):
    """Copies what is written to stdout into a list of lines as well."""

    def __init__(self, stream):
        self.stream, self.buf = stream, []

    def write(self, text):
        self.buf.append(text)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()


def run_checks(args):
    """All checks; a failing check is reported (printed, and in the JSON under "checks") and
    does not stop the timing. Returns {"ok": bool, "lines": [...], "error": str or None}."""
    tee = _Tee(sys.stdout)
    error = None
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(tee):
        try:
            check_single_neuron()
            check_forward_equivalence(args)
            check_new_peers(args)
        except Exception as e:  # AssertionError, or a peer that fails to run
            traceback.print_exc()
            error = f"{type(e).__name__}: {e}"
            print(f"CHECK FAILED: {error}")
    lines = [x for x in "".join(tee.buf).splitlines() if x.startswith(("check", "CHECK"))]
    print(f"checks {'passed' if error is None else 'FAILED'} ({time.perf_counter() - t0:.0f} s)")
    return {"ok": error is None, "lines": lines, "error": error,
            "seconds": round(time.perf_counter() - t0, 1)}


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

def bench_impl(impl, args, images, onehot):
    # Every peer starts from the same seed: the same initial weights (same layers, same
    # initialisation order) and the same stream of Bernoulli input spikes, so the losses and
    # gradient norms of peers of the same algorithm can be compared iteration by iteration.
    torch.manual_seed(args.seed)
    peer = make_peer(impl, args.surrogate)
    model = peer.model
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.0, weight_decay=WEIGHT_DECAY)
    # Every timed iteration starts from the same initial weights (restored outside the timed
    # region): the timing then does not drift with training, and snnTorch's surrogate-gradient
    # updates, which diverge within a few steps at the authors' lr on this loss, stay finite.
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    losses, grad_norms = [], []

    def restore():
        model.load_state_dict(initial)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss, _ = peer.loss_backward(images, onehot, args.timesteps)
        opt.step()
        losses.append(loss.item())
        grad_norms.append(math.sqrt(sum(p.grad.double().square().sum().item()
                                        for p in model.parameters())))

    def infer_step():
        return peer.infer(images, args.timesteps).argmax(1)

    # A compiled peer compiles in its first call: never inside the timed iterations.
    warmup = max(args.warmup, 1) if peer.compiled else args.warmup
    b = args.batch_size
    out = {}
    if not args.no_train:
        train_times, train_warm = time_iterations(train_step, warmup, args.iters, before=restore)
        if not all(math.isfinite(x) for x in losses + grad_norms):
            raise RuntimeError(f"{impl}: non-finite loss {losses} or gradient norm {grad_norms}")
        restore()
        out.update({
            # Mean over the timed iterations (batch * iters / total time).
            "train_samples_per_s": b * len(train_times) / sum(train_times),
            # From the fastest iteration: less sensitive to other load on a shared machine.
            "train_samples_per_s_best": b / min(train_times),
            "train_s_per_iter": train_times,
            # Losses and gradient norms of every training iteration, warm-up ones first.
            "train_loss": losses,
            "train_grad_norm": grad_norms,
            # Untimed warm-up iterations (for the compiled peers: compilation included).
            "train_warmup_s": train_warm,
        })
    infer_times, infer_warm = time_iterations(infer_step, warmup, args.iters)
    out.update({
        "infer_samples_per_s": b * len(infer_times) / sum(infer_times),
        "infer_samples_per_s_best": b / min(infer_times),
        "infer_s_per_iter": infer_times,
        "infer_warmup_s": infer_warm,
        "peak_rss_mib_so_far": round(peak_rss_mib(), 1),
        "algorithm": peer.algorithm,
        "compiled": peer.compiled,
    })
    return out


# Reference peer per algorithm: the others of the same algorithm must reproduce its losses and
# gradient norms (same weights, same input spikes: see bench_impl).
REFERENCE = {"code": "torch-authors", "aggregate": "torch-aggregate"}


def consistency(results, rtol=1e-4):
    """Per timed peer, its losses and gradient norms vs the reference peer of its algorithm (and
    its losses vs torch-authors': every peer runs the same forward dynamics on the same input).
    Returns {impl: {...}} and adds it to the results."""
    out = {}
    for impl, r in results.items():
        if "error" in r:
            continue
        entry = {}
        ref_loss = results.get("torch-authors", {})
        if impl != "torch-authors" and "train_loss" in ref_loss:
            n = min(len(r["train_loss"]), len(ref_loss["train_loss"]))
            entry["loss_vs"] = "torch-authors"
            entry["loss_max_rel_diff"] = max(
                (abs(a - b) / max(abs(b), 1e-30)
                 for a, b in zip(r["train_loss"][:n], ref_loss["train_loss"][:n])), default=None)
        ref = REFERENCE.get(r.get("algorithm"))
        if ref and ref != impl and "train_grad_norm" in results.get(ref, {}):
            rr = results[ref]
            n = min(len(r["train_grad_norm"]), len(rr["train_grad_norm"]))
            entry["grad_norm_vs"] = ref
            entry["grad_norm_max_rel_diff"] = max(
                (abs(a - b) / max(abs(b), 1e-30)
                 for a, b in zip(r["train_grad_norm"][:n], rr["train_grad_norm"][:n])),
                default=None)
        if entry:
            bad = [v for k, v in entry.items()
                   if k.endswith("rel_diff") and v is not None and not v <= rtol]
            entry["ok"] = not bad
            entry["rtol"] = rtol
            out[impl] = entry
            r["consistency"] = entry
    return out


def main(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    import snntorch

    check_report = None
    if args.check or args.check_only:
        check_report = run_checks(args)
        if args.check_only:
            return 0 if check_report["ok"] else 1

    try:
        images, onehot, desc = make_batch(args)
    except (OSError, ValueError) as e:
        print(f"lenet_peer.py: cannot read --data-dir: {e}", file=sys.stderr)
        return 2
    impls = args.impls
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    print(f"LeNet SNN peers: T={args.timesteps}, batch {args.batch_size}, threads {args.threads}, "
          f"warmup {args.warmup}, iters {args.iters}, OMP_WAIT_POLICY "
          f"{os.environ['OMP_WAIT_POLICY']}; torch {torch.__version__}, "
          f"snntorch {snntorch.__version__}; input: {desc}")
    pressure_before = cpu_pressure()
    if load:
        print(f"load average before timing: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"on {os.cpu_count()} CPUs"
              + (f"; CPU pressure avg10 {pressure_before['avg10']:.1f} %, avg60 "
                 f"{pressure_before['avg60']:.1f} %" if pressure_before else ""))
    results = {}
    for impl in impls:
        t0 = time.perf_counter()
        try:
            results[impl] = bench_impl(impl, args, images, onehot)
        except Exception as e:  # report it in the JSON; the other peers still run
            traceback.print_exc()
            results[impl] = {"error": f"{type(e).__name__}: {e}"}
            print(f"  {impl}: FAILED: {results[impl]['error']}", flush=True)
            continue
        r = results[impl]
        warm = r.get("train_warmup_s", []) + r["infer_warmup_s"]
        train = "" if args.no_train else (
            f"train {r['train_samples_per_s']:.2f} samples/s "
            f"(s/iter {', '.join(f'{x:.2f}' for x in r['train_s_per_iter'])}), ")
        print(f"  {impl}: {train}"
              f"infer {r['infer_samples_per_s']:.2f} samples/s "
              f"(s/iter {', '.join(f'{x:.2f}' for x in r['infer_s_per_iter'])}), "
              f"warm-up {sum(warm):.0f} s{' (compiling)' if r['compiled'] else ''}, "
              f"{time.perf_counter() - t0:.0f} s total", flush=True)
    checks = consistency(results)

    pressure_after = cpu_pressure()
    print()
    print(f"{'peer':<22} {'algorithm':<15} {'train samples/s':>16} {'(best iter)':>12} "
          f"{'infer samples/s':>16} {'(best iter)':>12} {'train s/iter':>13} {'infer s/iter':>13}")
    for impl, r in results.items():
        if "error" in r:
            print(f"{impl:<22} FAILED: {r['error']}")
            continue
        tr = (f"{r['train_samples_per_s']:>16.2f} {r['train_samples_per_s_best']:>12.2f}"
              if "train_samples_per_s" in r else f"{'-':>16} {'-':>12}")
        tm = (f"{statistics.median(r['train_s_per_iter']):>13.3f}"
              if "train_s_per_iter" in r else f"{'-':>13}")
        print(f"{impl:<22} {r['algorithm']:<15} {tr} "
              f"{r['infer_samples_per_s']:>16.2f} {r['infer_samples_per_s_best']:>12.2f} "
              f"{tm} {statistics.median(r['infer_s_per_iter']):>13.3f}")
    print(f"(T={args.timesteps}, batch {args.batch_size}, {args.threads} threads; samples/s = mean "
          f"over {args.iters} timed iterations, best iter = fastest one; s/iter = median; "
          f"peak RSS {peak_rss_mib():.0f} MiB"
          + (f"; CPU pressure avg60 after timing {pressure_after['avg60']:.1f} %"
             if pressure_after else "") + ")")
    for impl, c in checks.items():
        parts = []
        if "loss_vs" in c:
            parts.append(f"loss vs {c['loss_vs']}: max rel diff {c['loss_max_rel_diff']:.1e}")
        if "grad_norm_vs" in c:
            parts.append(f"gradient norm vs {c['grad_norm_vs']}: max rel diff "
                         f"{c['grad_norm_max_rel_diff']:.1e}")
        note = "" if c["ok"] else f"  DIFFERS (> {c['rtol']:g})"
        if impl == "snntorch" and "grad_norm_vs" not in c:
            note += "  (gradient: a different algorithm by design)"
        print(f"same weights and input spikes, {impl}: {'; '.join(parts)}{note}")

    if args.json:
        doc = dict(results)
        doc.update({
            "impls": list(impls),
            "no_train": args.no_train,
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
            "load_average_before": list(load) if load else None,
            "cpu_pressure_before": pressure_before,
            "cpu_pressure_after": pressure_after,
            "consistency": checks,
            "checks": check_report,
        })
        write_json_atomic(args.json, doc)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(_ARGS))
