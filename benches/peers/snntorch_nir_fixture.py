"""Interop fixture: a small conv SNN trained in snnTorch on MNIST, written as NIR.

Trains for one epoch on the first --train-images MNIST training images, measures snnTorch's own
inference accuracy on the first --test-images test images, and writes the graph with the `nir`
package from the trained weights. snnTorch 1.0.0's own exporter (`export_to_nir`) fails on conv
nets with nir 1.0.6-1.0.8 (IndexError in nir's type inference, see shared/nir-notes.md), so the
graph is built by hand with snnTorch's convention: beta -> tau = dt/(1-beta), r = tau/dt.

The network uses snnTorch primitives whose semantics equal snn's (SPEC §3), so `snn-train eval`
of the NIR file runs the same network:
    Conv2d(1,8,5,pad 2) -> Leaky(beta, threshold 1, reset to zero)
    -> AvgPool2d(2) -> Leaky(beta=1, threshold 0.75, reset to zero)          (snn's pooling IF)
    -> Conv2d(8,16,5,pad 2) -> Leaky -> AvgPool2d(2) -> Leaky(beta=1, 0.75)
    -> Flatten -> Linear(784,10) -> Leaky(beta, reset_mechanism="none")      (non-spiking readout)
prediction = argmax of the readout membrane at the last step. No biases (snn's synapses have
none). Input: snntorch.spikegen.rate, a Bernoulli spike with p = pixel per step.

snnTorch's Leaky with reset to zero and reset_delay=True computes
mem_t = beta*(1 - s_{t-1})*mem_{t-1} + I_t, s_t = mem_t > threshold, which is snn's
u = v + I; fire on u > theta; reset; v = lambda*u with lambda = beta. The readout membrane
mem_t = beta*mem_{t-1} + I_t is snn's V_t / lambda (snn integrates V = lambda*(V + I)); NIR's LI
with r = tau/dt has input gain 1, and snn's importer scales the readout weights by 1/lambda.

Also evaluates snnTorch on binarized test images (pixel > 0.5 -> 1), for which the rate code is
deterministic (p in {0, 1}), and writes that test set as IDX under --binarized-dir so that
`snn-train eval --data-dir DIR` sees exactly the same input spikes.

Usage (from the repository root, with the peer venv of benches/peers/setup.sh plus `pip install nir`):
    benches/peers/.venv/bin/python benches/peers/snntorch_nir_fixture.py \
        --data-dir data --out crates/snn-nir/tests/data/snntorch_mnist.nir \
        --report reports/nir/snntorch_fixture.json --binarized-dir /tmp/mnist-binarized
"""

import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import nir
import snntorch as snn
from snntorch import spikegen

DT = 1e-4  # snnTorch's NIR time step


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        ndim = magic & 0xFF
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def write_idx(path, array):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 | array.ndim))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def mnist(data_dir, split):
    d = os.path.join(data_dir, "mnist")
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte"))
    return images, labels


class Net(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, padding=2, bias=False)
        self.lif1 = snn.Leaky(beta=beta, threshold=1.0, reset_mechanism="zero")
        self.pool1 = nn.AvgPool2d(2)
        self.pif1 = snn.Leaky(beta=1.0, threshold=0.75, reset_mechanism="zero")
        self.conv2 = nn.Conv2d(8, 16, 5, padding=2, bias=False)
        self.lif2 = snn.Leaky(beta=beta, threshold=1.0, reset_mechanism="zero")
        self.pool2 = nn.AvgPool2d(2)
        self.pif2 = snn.Leaky(beta=1.0, threshold=0.75, reset_mechanism="zero")
        self.fc = nn.Linear(16 * 7 * 7, 10, bias=False)
        self.readout = snn.Leaky(beta=beta, threshold=1.0, reset_mechanism="none")

    def forward(self, spikes):
        """spikes: [T, B, 1, 28, 28]; returns the readout membrane at the last step."""
        m = [n.init_leaky() for n in (self.lif1, self.pif1, self.lif2, self.pif2, self.readout)]
        for x in spikes:
            s, m[0] = self.lif1(self.conv1(x), m[0])
            s, m[1] = self.pif1(self.pool1(s), m[1])
            s, m[2] = self.lif2(self.conv2(s), m[2])
            s, m[3] = self.pif2(self.pool2(s), m[3])
            _, m[4] = self.readout(self.fc(s.flatten(1)), m[4])
        return m[4]


def predict(net, images, steps, seed, batch=250):
    """Predicted classes of uint8 images [N, 28, 28] with spikegen.rate under `seed`."""
    torch.manual_seed(seed)
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.tensor(images[i : i + batch], dtype=torch.float32).div(255.0).unsqueeze(1)
            out.append(net(spikegen.rate(x, num_steps=steps)).argmax(1))
    return torch.cat(out).numpy()


def to_nir(net, beta):
    tau = DT / (1.0 - beta)
    w = lambda layer: layer.weight.detach().numpy().astype(np.float32)

    def lif(shape):
        return nir.LIF(
            tau=np.full(shape, tau), r=np.full(shape, tau / DT), v_leak=np.zeros(shape),
            v_threshold=np.full(shape, 1.0), v_reset=np.zeros(shape),
        )

    def pool_if(shape):
        # snnTorch Leaky(beta=1) is an IF neuron; r = 1 is snnTorch's per-step gain.
        return nir.IF(r=np.ones(shape), v_threshold=np.full(shape, 0.75), v_reset=np.zeros(shape))

    def pool():
        return nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))

    def conv(layer, hw):
        return nir.Conv2d(
            input_shape=hw, weight=w(layer), stride=1, padding=2, dilation=1, groups=1,
            bias=np.zeros(layer.out_channels, dtype=np.float32),
        )

    nodes = {
        "input": nir.Input(input_type=np.array([1, 28, 28])),
        "conv1": conv(net.conv1, (28, 28)),
        "lif1": lif((8, 28, 28)),
        "pool1": pool(),
        "pif1": pool_if((8, 14, 14)),
        "conv2": conv(net.conv2, (14, 14)),
        "lif2": lif((16, 14, 14)),
        "pool2": pool(),
        "pif2": pool_if((16, 7, 7)),
        "flatten": nir.Flatten(input_type={"input": np.array([16, 7, 7])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=w(net.fc), bias=np.zeros(10, dtype=np.float32)),
        "readout": nir.LI(tau=np.full(10, tau), r=np.full(10, tau / DT), v_leak=np.zeros(10)),
        "output": nir.Output(output_type=np.array([10])),
    }
    order = list(nodes)
    edges = list(zip(order[:-1], order[1:]))
    meta = {"producer": f"snntorch {snn.__version__} + nir {nir.version}", "dt": DT,
            "input_encoding": "snntorch.spikegen.rate (Bernoulli, p = pixel per step)",
            "readout": "prediction = argmax of the LI membrane at the last step"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("SNN_DATA_DIR", "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--binarized-dir", required=True)
    ap.add_argument("--train-images", type=int, default=6000)
    ap.add_argument("--test-images", type=int, default=1000)
    ap.add_argument("--timesteps", type=int, default=20)
    ap.add_argument("--beta", type=float, default=0.95)
    ap.add_argument("--seeds", type=int, default=8, help="encoder seeds for snnTorch's inference")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    train_x, train_y = mnist(a.data_dir, "train")
    test_x, test_y = mnist(a.data_dir, "test")
    train_x, train_y = train_x[: a.train_images], train_y[: a.train_images]
    test_x, test_y = test_x[: a.test_images], test_y[: a.test_images]

    net = Net(a.beta)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    perm = torch.randperm(len(train_x)).numpy()
    for i in range(0, len(perm), 64):
        idx = perm[i : i + 64]
        x = torch.tensor(train_x[idx], dtype=torch.float32).div(255.0).unsqueeze(1)
        y = torch.tensor(train_y[idx], dtype=torch.long)
        loss = loss_fn(net(spikegen.rate(x, num_steps=a.timesteps)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_seconds = time.time() - start

    # snnTorch's own inference, several encoder seeds: accuracy and per-image variability.
    correct = np.stack([predict(net, test_x, a.timesteps, 1000 + s) == test_y for s in range(a.seeds)])
    acc = correct.mean(axis=1)
    p = correct.mean(axis=0)  # per-image probability of a correct prediction (estimate)
    k = a.seeds
    var_sum = float((p * (1 - p)).sum() * k / (k - 1))  # unbiased estimate of sum p_i (1 - p_i)
    n = len(test_y)
    # The difference of two accuracies under independent encodings: Var = 2 sum p_i(1-p_i) / n^2.
    sd_diff = float(np.sqrt(2 * var_sum) / n)
    a_mean = float(acc.mean())
    sd_diff_conservative = float(np.sqrt(2 * a_mean * (1 - a_mean) / n))

    # Deterministic encoding: binarized images (p in {0, 1}).
    bin_x = np.where(test_x > 127, 255, 0).astype(np.uint8)
    bin_pred = predict(net, bin_x, a.timesteps, 0)
    full_x, full_y = mnist(a.data_dir, "test")
    d = os.path.join(a.binarized_dir, "mnist")
    os.makedirs(d, exist_ok=True)
    write_idx(os.path.join(d, "t10k-images-idx3-ubyte"), np.where(full_x > 127, 255, 0))
    write_idx(os.path.join(d, "t10k-labels-idx1-ubyte"), full_y)

    graph = to_nir(net, a.beta)
    tmp = a.out + ".tmp"
    nir.write(tmp, graph)
    os.replace(tmp, a.out)
    nir.read(a.out)  # type-checks the written graph

    report = {
        "command": "benches/peers/snntorch_nir_fixture.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items()),
        "versions": {"torch": torch.__version__, "snntorch": snn.__version__, "nir": nir.version},
        "train_images": len(train_x), "epochs": 1, "timesteps": a.timesteps, "beta": a.beta,
        "dt": DT, "train_seconds": round(train_seconds, 1),
        "test_images": n,
        "snntorch_accuracy_per_seed": [float(x) for x in acc],
        "snntorch_accuracy_mean": a_mean,
        "sum_p_1_minus_p": var_sum,
        "sd_of_accuracy_difference": sd_diff,
        "sd_of_accuracy_difference_conservative": sd_diff_conservative,
        "binarized_accuracy": float((bin_pred == test_y).mean()),
        "binarized_predictions": [int(x) for x in bin_pred],
    }
    os.makedirs(os.path.dirname(a.report) or ".", exist_ok=True)
    with open(a.report, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in report.items() if k != "binarized_predictions"}, indent=1))


if __name__ == "__main__":
    main()
