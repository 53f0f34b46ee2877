#!/usr/bin/env python3
"""Peer throughput benchmark: the paper's MNIST LeNet SNN in PyTorch, two ways.

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

Network (no biases): input 1x28x28 Bernoulli spikes p = pixel/2 (fresh every step) ->
conv 20C5 pad 2 -> LIF -> AvgPool2 -> IF(0.75) -> conv 50C5 pad 2 -> LIF -> AvgPool2 -> IF(0.75)
-> FC 2450->200 -> LIF -> FC 200->10 readout V = lambda (V + I), output V(T)/T.
LIF: lambda = 0.99, V_th = 1, strict >, hard reset to 0, leak after reset. Loss: summed squared
error vs one-hot. SGD lr 0.0085, weight decay 5e-4, no momentum.

The Rust benchmark calls ``benches/peers/.venv/bin/python benches/peers/lenet_peer.py --json PATH
...``; keep the command line and the JSON keys stable. Create the venv with ``setup.sh``.
"""

import argparse
import gzip
import json
import math
import os
import platform
import resource
import statistics
import struct
import sys
import time

LAMBDA = 0.99  # membrane leak per step (paper-method.md §3)
V_TH = 1.0  # LIF threshold (§3.1)
POOL_TH = 0.75  # pooling IF threshold (§3.2)
LR = 0.0085  # MNIST LeNet (§5.5)
WEIGHT_DECAY = 5e-4
MNIST_MEAN = 0.1307  # mean pixel intensity of MNIST; the random input is scaled to it
IMPLS = ("torch-authors", "snntorch")

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
    p.add_argument("--warmup", type=int, default=1, help="untimed iterations per measurement")
    p.add_argument("--iters", type=int, default=3, help="timed iterations per measurement")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--omp-wait-policy", choices=("passive", "active"), default=None,
                   help="OpenMP idle threads sleep (passive) or spin (active). Default: "
                        "$OMP_WAIT_POLICY if set, else passive, which keeps 2 threads on a "
                        "shared 2-core machine from stalling at every parallel region")
    p.add_argument("--impl", choices=IMPLS + ("all",), default="all",
                   help="which peer(s) to time")
    p.add_argument("--surrogate", choices=("atan", "fast_sigmoid"), default="atan",
                   help="snnTorch surrogate gradient (atan is snnTorch's default)")
    p.add_argument("--data-dir", default=None,
                   help="folder with MNIST IDX files (train-images-idx3-ubyte[.gz], "
                        "train-labels-idx1-ubyte[.gz]); default: random MNIST-like input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", default=None, help="write the results as JSON")
    p.add_argument("--check", action="store_true",
                   help="run the correctness checks (single-neuron gradient vector; both peers "
                        "give the same forward pass) before timing")
    p.add_argument("--check-only", action="store_true", help="run the checks, time nothing")
    args = p.parse_args(argv)
    for name in ("timesteps", "batch_size", "iters", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        p.error("--warmup must be >= 0")
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

class SpikeFn(torch.autograd.Function):
    """Heaviside on (u / V_th - 1): forward 1 where > 0 (strict); backward passes the incoming
    gradient only where the neuron spiked. The 1/V_th scale comes from autograd through the
    division, as in the authors' code."""

    @staticmethod
    def forward(ctx, mem_thr):
        out = (mem_thr > 0).to(mem_thr.dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


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


def build(impl, surrogate_name):
    return AuthorsLeNet() if impl == "torch-authors" else build_snntorch_lenet(surrogate_name)


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


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

def time_iterations(fn, warmup, iters, before=None):
    """Runs fn warmup + iters times; returns the wall times of the last iters runs. `before`
    runs ahead of every call, outside the timed region."""
    times = []
    for i in range(warmup + iters):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def cpu_pressure():
    """Linux PSI 'some' averages (% of time runnable tasks waited for a CPU), or None."""
    try:
        with open("/proc/pressure/cpu") as f:
            first = f.readline().split()
        fields = dict(kv.split("=") for kv in first[1:])
        return {k: float(fields[k]) for k in ("avg10", "avg60", "avg300")}
    except (OSError, ValueError, KeyError):
        return None


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_impl(impl, args, images, onehot):
    torch.manual_seed(args.seed)
    model = build(impl, args.surrogate)
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
        out = model(images, args.timesteps)
        loss = summed_squared_error(out, onehot)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        grad_norms.append(math.sqrt(sum(p.grad.square().sum().item()
                                        for p in model.parameters())))

    def infer_step():
        with torch.no_grad():
            out = model(images, args.timesteps)
        return out.argmax(1)

    train_times = time_iterations(train_step, args.warmup, args.iters, before=restore)
    if not all(math.isfinite(x) for x in losses + grad_norms):
        raise RuntimeError(f"{impl}: non-finite loss {losses} or gradient norm {grad_norms}")
    restore()
    infer_times = time_iterations(infer_step, args.warmup, args.iters)
    b = args.batch_size
    return {
        # Mean over the timed iterations (batch * iters / total time).
        "train_samples_per_s": b * len(train_times) / sum(train_times),
        "infer_samples_per_s": b * len(infer_times) / sum(infer_times),
        # From the fastest iteration: less sensitive to other load on a shared machine.
        "train_samples_per_s_best": b / min(train_times),
        "infer_samples_per_s_best": b / min(infer_times),
        "train_s_per_iter": train_times,
        "infer_s_per_iter": infer_times,
        "train_loss": losses,
        "train_grad_norm": grad_norms,
        "peak_rss_mib_so_far": round(peak_rss_mib(), 1),
    }


def main(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    import snntorch

    if args.check or args.check_only:
        check_single_neuron()
        check_forward_equivalence(args)
        if args.check_only:
            return 0

    try:
        images, onehot, desc = make_batch(args)
    except (OSError, ValueError) as e:
        print(f"lenet_peer.py: cannot read --data-dir: {e}", file=sys.stderr)
        return 2
    impls = IMPLS if args.impl == "all" else (args.impl,)
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
        results[impl] = bench_impl(impl, args, images, onehot)
        r = results[impl]
        print(f"  {impl}: train {r['train_samples_per_s']:.2f} samples/s "
              f"(s/iter {', '.join(f'{x:.2f}' for x in r['train_s_per_iter'])}), "
              f"infer {r['infer_samples_per_s']:.2f} samples/s "
              f"(s/iter {', '.join(f'{x:.2f}' for x in r['infer_s_per_iter'])}), "
              f"{time.perf_counter() - t0:.0f} s total", flush=True)

    pressure_after = cpu_pressure()
    print()
    print(f"{'peer':<15} {'train samples/s':>16} {'(best iter)':>12} {'infer samples/s':>16} "
          f"{'(best iter)':>12} {'train s/iter':>13} {'infer s/iter':>13}")
    for impl, r in results.items():
        print(f"{impl:<15} {r['train_samples_per_s']:>16.2f} {r['train_samples_per_s_best']:>12.2f} "
              f"{r['infer_samples_per_s']:>16.2f} {r['infer_samples_per_s_best']:>12.2f} "
              f"{statistics.median(r['train_s_per_iter']):>13.3f} "
              f"{statistics.median(r['infer_s_per_iter']):>13.3f}")
    print(f"(T={args.timesteps}, batch {args.batch_size}, {args.threads} threads; samples/s = mean "
          f"over {args.iters} timed iterations, best iter = fastest one; s/iter = median; "
          f"peak RSS {peak_rss_mib():.0f} MiB"
          + (f"; CPU pressure avg60 after timing {pressure_after['avg60']:.1f} %"
             if pressure_after else "") + ")")

    if args.json:
        doc = dict(results)
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
            "load_average_before": list(load) if load else None,
            "cpu_pressure_before": pressure_before,
            "cpu_pressure_after": pressure_after,
        })
        directory = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(directory, exist_ok=True)
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(_ARGS))
