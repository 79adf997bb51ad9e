"""GEMM throughput: nncore vs NumPy (its BLAS) vs PyTorch, float32, shapes of PERF.md section 1."""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

SHAPES = [  # (M, K, N)
    (64, 64, 64), (128, 128, 128), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
    (32768, 27, 8), (8, 27, 32768), (32, 1024, 128), (1024, 32, 128),
]
CASES = [{"name": f"{m}x{k}x{n}", "m": m, "k": k, "n": n, "dtype": "float32"} for m, k, n in SHAPES]


def _operands(case):
    rng = np.random.default_rng(0)
    dt = np.dtype(case["dtype"])
    a = rng.standard_normal((case["m"], case["k"])).astype(dt)
    b = rng.standard_normal((case["k"], case["n"])).astype(dt)
    return a, b


def build_nncore(case):
    from nncore import ops

    a, b = _operands(case)
    c = np.empty((case["m"], case["n"]), a.dtype)
    return lambda: ops.gemm(a, b, c)


def build_numpy(case):
    a, b = _operands(case)
    c = np.empty((case["m"], case["n"]), a.dtype)
    return lambda: np.matmul(a, b, out=c)


def build_torch(case):
    import torch

    a, b = (torch.from_numpy(x) for x in _operands(case))
    c = torch.empty((case["m"], case["n"]), dtype=a.dtype)
    return lambda: torch.matmul(a, b, out=c)


def columns(case, times):
    flops = 2.0 * case["m"] * case["n"] * case["k"]
    cells = []
    for fw in ("nncore", "numpy", "torch"):
        if fw in times:
            cells.append((f"{fw} GFLOP/s", f"{flops / times[fw]['median'] / 1e9:.1f}"))
    return cells


if __name__ == "__main__":
    _harness.main(
        name="gemm",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "numpy": build_numpy, "torch": build_torch},
        columns=columns,
        anchors=("numpy", "torch"),
    )
