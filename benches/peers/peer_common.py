"""Pieces shared by the PyTorch peer scripts (`lenet_peer.py`, `deep_peer.py`): the autograd
functions of the authors' spike gate, the NG gate and the aggregate gradient's count gate, and
the timing and machine-load helpers. Python and PyTorch are a benchmark dependency only."""

import json
import os
import resource
import time

import torch


class SpikeFn(torch.autograd.Function):
    """Heaviside on (u / V_th - 1) (or P - 0.75): forward 1 where > 0 (strict); backward passes
    the incoming gradient only where the neuron spiked (the authors' gate; 1/V_th comes from
    autograd through the division)."""

    @staticmethod
    def forward(ctx, mem_thr):
        out = (mem_thr > 0).to(mem_thr.dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


class NGGate(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient arriving at a step's spikes by the
    layer's NG (the authors' per-step hook, as a Function so that torch.compile captures the
    whole step in one graph). `ng` is a buffer that is zero during the forward pass and filled
    (through `.data`, so autograd's version check does not object) once the last step has run;
    the backward reads the filled values."""

    @staticmethod
    def forward(ctx, s, ng):
        ctx.save_for_backward(ng)
        return s.view_as(s)

    @staticmethod
    def backward(ctx, grad_output):
        (ng,) = ctx.saved_tensors
        return grad_output * ng, None


class CountGate(torch.autograd.Function):
    """Count domain of the aggregate gradient: forward returns the layer's recorded spike counts
    (the pre-activation `a` only carries the graph); backward multiplies by the per-neuron gate
    (NG/V_th for LIF neurons that fired, 1 for pooling neurons that fired, 0 otherwise)."""

    @staticmethod
    def forward(ctx, a, counts, gate):
        ctx.save_for_backward(gate)
        return counts.clone()

    @staticmethod
    def backward(ctx, grad_output):
        (gate,) = ctx.saved_tensors
        return grad_output * gate, None, None


def time_iterations(fn, warmup, iters, before=None):
    """Runs fn warmup + iters times; returns the wall times of the last iters runs and of the
    warm-up ones. `before` runs ahead of every call, outside the timed region."""
    times, warm = [], []
    for i in range(warmup + iters):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        (times if i >= warmup else warm).append(time.perf_counter() - t0)
    return times, warm


def cpu_pressure():
    try:
        with open("/proc/pressure/cpu") as f:
            first = f.readline().split()
        fields = dict(kv.split("=") for kv in first[1:])
        return {k: float(fields[k]) for k in ("avg10", "avg60", "avg300")}
    except (OSError, ValueError, KeyError):
        return None


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def write_json_atomic(path, doc):
    """Writes `doc` as indented JSON to `path` through a temporary file and a rename, so a
    reader never sees half a file; creates the directory."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
