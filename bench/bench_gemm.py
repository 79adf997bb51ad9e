"""GEMM throughput: nncore vs NumPy (its BLAS) vs PyTorch.

Cases: the float32 shapes of PERF.md section 1 (M x K x N, C = A @ B), float64 rows, the four
transpose combinations at one size, and a thread-scaling table for the large squares. Every
framework writes into a preallocated C, so allocation is not timed.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

PERF_SHAPES = [  # (M, K, N)
    (64, 64, 64), (128, 128, 128), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
    (32768, 27, 8), (8, 27, 32768), (32, 1024, 128), (1024, 32, 128),
]
F64_SHAPES = [(128, 128, 128), (512, 512, 512), (1024, 1024, 1024), (32768, 27, 8),
              (32, 1024, 128), (1024, 32, 128)]
TRANSPOSE_SIZE = (1024, 1024, 1024)


def _case(m, k, n, dtype="float32", ta=False, tb=False):
    name = f"{m}x{k}x{n}"
    if ta or tb:
        name += " " + ("T" if ta else "N") + ("T" if tb else "N")
    if dtype != "float32":
        name = "f64 " + name
    return {"name": name, "m": m, "k": k, "n": n, "dtype": dtype, "ta": ta, "tb": tb}


CASES = (
    [_case(*s) for s in PERF_SHAPES]
    + [_case(*s, dtype="float64") for s in F64_SHAPES]
    + [_case(*TRANSPOSE_SIZE, ta=ta, tb=tb) for ta, tb in [(False, True), (True, False), (True, True)]]
)
SCALING = ["512x512x512", "1024x1024x1024", "2048x2048x2048", "f64 1024x1024x1024"]


def _operands(case):
    """A stored (k, m) when op(A) = A.T, B stored (n, k) when op(B) = B.T; C preallocated."""
    rng = np.random.default_rng(0)
    dt = np.dtype(case["dtype"])
    m, k, n = case["m"], case["k"], case["n"]
    a = rng.standard_normal((k, m) if case["ta"] else (m, k)).astype(dt)
    b = rng.standard_normal((n, k) if case["tb"] else (k, n)).astype(dt)
    return a, b, np.empty((m, n), dt)


def build_nncore(case):
    from nncore import ops

    a, b, c = _operands(case)
    ta, tb = case["ta"], case["tb"]
    return lambda: ops.gemm(a, b, c, transpose_a=ta, transpose_b=tb)


def build_numpy(case):
    a, b, c = _operands(case)
    a = a.T if case["ta"] else a
    b = b.T if case["tb"] else b
    return lambda: np.matmul(a, b, out=c)


def build_torch(case):
    import torch

    a, b, c = (torch.from_numpy(x) for x in _operands(case))
    a = a.T if case["ta"] else a
    b = b.T if case["tb"] else b
    return lambda: torch.matmul(a, b, out=c)


def columns(case, times):
    flops = 2.0 * case["m"] * case["n"] * case["k"]
    cells = []
    for fw in ("nncore", "numpy", "torch"):
        cells.append((f"{fw} GFLOP/s", f"{flops / times[fw]['median'] / 1e9:.1f}" if fw in times else "–"))
    return cells


if __name__ == "__main__":
    _harness.main(
        name="gemm",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "numpy": build_numpy, "torch": build_torch},
        columns=columns,
        anchors=("numpy", "torch"),
        scaling=SCALING,
    )
