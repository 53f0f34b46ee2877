#!/usr/bin/env bash
# Creates benches/peers/.venv with PyTorch (used on CPU only) and snnTorch from PyPI, for the
# Python peer benchmarks in this folder (lenet_peer.py). Python is a benchmark dependency only.
#
# Idempotent: if the venv already imports the pinned torch and snntorch versions and passes the
# smoke test, nothing is installed. `--force` rebuilds the venv from scratch.
#
# Environment overrides: PYTHON (interpreter that creates the venv, default python3),
# TORCH_VERSION (default 2.15.0), SNNTORCH_VERSION (default 1.0.0), PYMETIS_VERSION (default
# 2025.2.2; pymetis is the METIS partitioner used by metis_compare.py), NIR_VERSION (default
# 1.0.8; the `nir` package with h5py, for snntorch_nir_fixture.py and snn-nir's Python test).
#
# Why the CUDA dependency set is installed (about 2.7 GB download, 4.4 GB on disk): PyPI only
# has CUDA builds of torch for Linux x86_64, and their shared libraries link the CUDA libraries
# at load time, not lazily (`readelf -d`: libtorch_cpu.so needs libcudart.so.13 and libcupti.so.13;
# libtorch_python.so needs libtorch_cuda.so, which needs cublas, cublasLt, cudnn, cufft, cufile,
# cusparse, cusparseLt, nccl, nvrtc, nvshmem). `pip install --no-deps torch` therefore fails at
# `import torch` ("libcublasLt.so.*[0-9] not found"). The CPU-only wheels live on a different
# index that is not reachable here. No GPU is needed or used: the CUDA libraries are only loaded.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="${TORCH_VERSION:-2.15.0}"
SNNTORCH_VERSION="${SNNTORCH_VERSION:-1.0.0}"
PYMETIS_VERSION="${PYMETIS_VERSION:-2025.2.2}"
NIR_VERSION="${NIR_VERSION:-1.0.8}"
FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument '$arg' (only --force)" >&2; exit 2 ;;
    esac
done

START=$(date +%s)
log() { echo "[peers/setup] $*"; }

# Smoke test: versions, a tensor op, conv2d forward+backward, one snnTorch Leaky step.
smoke_test() {
    "$VENV/bin/python" - "$TORCH_VERSION" "$SNNTORCH_VERSION" <<'EOF'
import sys
import torch, snntorch
import snntorch as snn
want_torch, want_snn = sys.argv[1], sys.argv[2]
tv = torch.__version__.split("+")[0]
if tv != want_torch or snntorch.__version__ != want_snn:
    print(f"version mismatch: torch {torch.__version__} (want {want_torch}), "
          f"snntorch {snntorch.__version__} (want {want_snn})")
    sys.exit(3)
s = torch.randn(2).sum()
x = torch.rand(2, 1, 28, 28, requires_grad=True)
w = torch.randn(20, 1, 5, 5, requires_grad=True)
y = torch.nn.functional.conv2d(x, w, padding=2)
y.square().sum().backward()
assert w.grad is not None and w.grad.shape == w.shape and torch.isfinite(w.grad).all()
lif = snn.Leaky(beta=0.99, threshold=1.0, reset_mechanism="zero")
mem = lif.init_leaky()
spk, mem = lif(torch.full((3,), 1.5), mem)
assert spk.tolist() == [1.0, 1.0, 1.0], spk
print(f"ok: torch {torch.__version__} (cuda build {torch.version.cuda}, cuda available: "
      f"{torch.cuda.is_available()}), snntorch {snntorch.__version__}, "
      f"randn(2).sum()={s.item():.4f}, conv2d fwd+bwd ok, snn.Leaky ok")
EOF
}

if [[ $FORCE -eq 0 && -x "$VENV/bin/python" ]]; then
    if out=$(smoke_test 2>&1); then
        "$VENV/bin/python" -c "import pymetis" 2>/dev/null \
            || "$VENV/bin/python" -m pip --disable-pip-version-check install --quiet --no-cache-dir "pymetis==${PYMETIS_VERSION}"
        "$VENV/bin/python" -c "import nir" 2>/dev/null \
            || "$VENV/bin/python" -m pip --disable-pip-version-check install --quiet --no-cache-dir "nir==${NIR_VERSION}"
        log "already installed, nothing to do: $out"
        log "venv: $VENV ($(du -sh "$VENV" | cut -f1))"
        exit 0
    fi
    log "existing venv is incomplete or has other versions; (re)installing"
    log "  (${out##*$'\n'})"
fi

if [[ $FORCE -eq 1 && -d "$VENV" ]]; then
    log "--force: removing $VENV"
    rm -rf "$VENV"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating venv with $("$PYTHON" --version 2>&1) at $VENV"
    "$PYTHON" -m venv "$VENV"
fi

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
REQS=("torch==$TORCH_VERSION" "snntorch==$SNNTORCH_VERSION" numpy)
T0=$(date +%s)
# Resolve the full dependency set from metadata only (no wheel downloads), then install it minus
# triton: triton is not linked by any torch library (only torch.compile's GPU backend imports it)
# and is 286 MB to download, 1 GB on disk. Everything else, CUDA libraries included, is needed
# (see the header). Falls back to a plain install if the report cannot be read.
REPORT="$(mktemp)"
trap 'rm -f "$REPORT"' EXIT
log "resolving ${REQS[*]} on PyPI"
"${PIP[@]}" install --quiet --dry-run --ignore-installed --report "$REPORT" "${REQS[@]}"
mapfile -t PINS < <("$VENV/bin/python" - "$REPORT" <<'EOF'
import json, sys
for item in json.load(open(sys.argv[1]))["install"]:
    name, ver = item["metadata"]["name"], item["metadata"]["version"]
    if name.lower() != "triton":
        print(f"{name}=={ver}")
EOF
)
if [[ ${#PINS[@]} -gt 3 ]]; then
    log "installing ${#PINS[@]} packages with --no-deps (triton left out; about 2.7 GB download incl. CUDA libs)"
    # --no-cache-dir: do not keep a second multi-GB copy of the wheels in ~/.cache/pip.
    "${PIP[@]}" install --no-cache-dir --progress-bar off --no-deps "${PINS[@]}"
else
    log "could not read the resolver report; plain install (includes triton, about 3 GB)"
    "${PIP[@]}" install --no-cache-dir --progress-bar off "${REQS[@]}"
fi
log "pip install took $(( $(date +%s) - T0 )) s"

log "smoke test"
smoke_test | sed 's/^/[peers\/setup]   /'
# pymetis (METIS graph partitioner, a binary wheel) for metis_compare.py.
"${PIP[@]}" install --quiet --no-cache-dir "pymetis==${PYMETIS_VERSION}"
"$VENV/bin/python" -c "import pymetis; p = pymetis.part_graph(2, adjacency=[[1], [0, 2], [1]]); print('[peers/setup]   ok: pymetis', len(p.vertex_part), 'vertices partitioned')"
# nir (Neuromorphic Intermediate Representation; pulls h5py) for the NIR interop fixture.
"${PIP[@]}" install --quiet --no-cache-dir "nir==${NIR_VERSION}"
"$VENV/bin/python" -c "import nir; print('[peers/setup]   ok: nir', nir.version)"
log "venv size: $(du -sh "$VENV" | cut -f1)"
log "done in $(( $(date +%s) - START )) s"
