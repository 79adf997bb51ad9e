"""Elementwise ops: per-call overhead at tiny sizes and throughput at ~1M elements, nncore vs NumPy
vs PyTorch (float32, each framework in its own process, same thread count).

Tiny cases run the op `inner` times per timed call and report the time per op, so that the timer's
own cost does not swamp sub-microsecond calls. Every framework writes into preallocated outputs
where its API allows it (nncore `out=`, NumPy `out=`, torch `out=`), as a training loop would.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

M = 1 << 20  # elements of the throughput cases

CASES = [
    # tiny: a Dense 10 -> 10 layer at batch 1 (the per-step overhead workload of PERF.md)
    {"name": "relu 1x10", "op": "relu", "shape": (1, 10), "inner": 200},
    {"name": "sigmoid 1x10", "op": "sigmoid", "shape": (1, 10), "inner": 200},
    {"name": "relu_backward 1x10", "op": "relu_backward", "shape": (1, 10), "inner": 200},
    {"name": "bias_add 1x10", "op": "bias_add", "shape": (1, 10), "inner": 200},
    {"name": "bias_grad 1x10", "op": "bias_grad", "shape": (1, 10), "inner": 200},
    {"name": "softmax 1x10", "op": "softmax", "shape": (1, 10), "inner": 200},
    {"name": "sparse_ce 1x10", "op": "sparse_ce", "shape": (1, 10), "inner": 200},
    {"name": "adam 110 params", "op": "adam", "shape": (110,), "inner": 200},
    {"name": "dropout 1x10", "op": "dropout", "shape": (1, 10), "inner": 200},
    {"name": "batch_norm 4x10", "op": "batch_norm", "shape": (4, 10), "inner": 200},
    # throughput
    {"name": "relu 1M", "op": "relu", "shape": (M,), "inner": 1},
    {"name": "relu_backward 1M", "op": "relu_backward", "shape": (M,), "inner": 1},
    {"name": "sigmoid 1M", "op": "sigmoid", "shape": (M,), "inner": 1},
    {"name": "tanh 1M", "op": "tanh", "shape": (M,), "inner": 1},
    {"name": "gelu_tanh 1M", "op": "gelu_tanh", "shape": (M,), "inner": 1},
    {"name": "gelu 1M", "op": "gelu", "shape": (M,), "inner": 1},
    {"name": "softmax 1024x1024", "op": "softmax", "shape": (1024, 1024), "inner": 1},
    {"name": "bias_add 32x32x32x32", "op": "bias_add", "shape": (32, 32, 32, 32), "inner": 1},
    {"name": "bias_grad 32x32x32x32", "op": "bias_grad", "shape": (32, 32, 32, 32), "inner": 1},
    {"name": "bias_grad 32x32x32x8", "op": "bias_grad", "shape": (32, 32, 32, 8), "inner": 1},
    {"name": "batch_norm 32768x32", "op": "batch_norm", "shape": (32768, 32), "inner": 1},
    {"name": "dropout 1M", "op": "dropout", "shape": (M,), "inner": 1},
    {"name": "adam 1M params", "op": "adam", "shape": (M,), "inner": 1},
    {"name": "sparse_ce 8192x128", "op": "sparse_ce", "shape": (8192, 128), "inner": 1},
]


def _data(case):
    rng = np.random.default_rng(0)
    shape = case["shape"]
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    c = shape[-1]
    labels = rng.integers(0, c, shape[:-1]) if len(shape) > 1 else None
    return x, g, c, labels


def _repeat(fn, inner):
    if inner == 1:
        return fn

    def run():
        for _ in range(inner):
            fn()

    return run


def build_nncore(case):
    from nncore import ops

    x, g, c, labels = _data(case)
    y = np.empty_like(x)
    b = np.zeros(c, np.float32)
    op = case["op"]
    if op in ("relu", "sigmoid", "tanh"):
        f = getattr(ops, op)
        fn = lambda: f(x, out=y)  # noqa: E731
    elif op == "gelu":
        fn = lambda: ops.gelu(x, out=y)  # noqa: E731
    elif op == "gelu_tanh":
        fn = lambda: ops.gelu(x, True, out=y)  # noqa: E731
    elif op == "relu_backward":
        fn = lambda: ops.relu_backward(g, x, out=y)  # noqa: E731
    elif op == "bias_add":
        fn = lambda: ops.bias_add(x, b, out=y)  # noqa: E731
    elif op == "bias_grad":
        fn = lambda: ops.bias_grad(g, out=b)  # noqa: E731
    elif op == "softmax":
        fn = lambda: ops.softmax(x, out=y)  # noqa: E731
    elif op == "sparse_ce":
        out = (np.empty_like(x), np.empty_like(x))
        fn = lambda: ops.sparse_softmax_cross_entropy(x, labels, out=out)  # noqa: E731
    elif op == "adam":
        p, m, v = x.copy(), np.zeros_like(x), np.zeros_like(x)
        fn = lambda: ops.adam_step(p, g, m, v, lr=1e-3, step=1)  # noqa: E731
    elif op == "dropout":
        out = (y, np.empty(x.shape, bool))
        fn = lambda: ops.dropout(x, 0.5, 1234, out=out)  # noqa: E731
    elif op == "batch_norm":
        gamma, beta = np.ones(c, np.float32), np.zeros(c, np.float32)
        stats = (y, np.empty(c, np.float32), np.empty(c, np.float32), np.empty(c, np.float32))
        fn = lambda: ops.batch_norm_train(x, gamma, beta, 1e-3, out=stats)  # noqa: E731
    else:
        return None
    return _repeat(fn, case["inner"])


def build_numpy(case):
    x, g, c, labels = _data(case)
    y = np.empty_like(x)
    t = np.empty_like(x)
    b = np.zeros(c, np.float32)
    op = case["op"]
    if op == "relu":
        fn = lambda: np.maximum(x, 0, out=y)  # noqa: E731
    elif op == "relu_backward":
        fn = lambda: np.multiply(g, x > 0, out=y)  # noqa: E731
    elif op == "sigmoid":
        def fn():
            np.negative(x, out=y)
            np.exp(y, out=y)
            y[...] += 1
            np.reciprocal(y, out=y)
    elif op == "tanh":
        fn = lambda: np.tanh(x, out=y)  # noqa: E731
    elif op == "gelu_tanh":
        def fn():
            np.multiply(x, x, out=t)
            t[...] *= 0.044715
            t[...] += 1
            t[...] *= x
            t[...] *= 0.7978845608
            np.tanh(t, out=t)
            t[...] += 1
            np.multiply(x, t, out=y)
            y[...] *= 0.5
    elif op == "bias_add":
        fn = lambda: np.add(x, b, out=y)  # noqa: E731
    elif op == "bias_grad":
        g2 = g.reshape(-1, c)
        fn = lambda: np.sum(g2, axis=0, out=b)  # noqa: E731
    elif op == "softmax":
        def fn():
            np.subtract(x, x.max(axis=-1, keepdims=True), out=y)
            np.exp(y, out=y)
            y[...] /= y.sum(axis=-1, keepdims=True)
    elif op == "sparse_ce":
        rows = np.arange(x.shape[0])
        def fn():
            np.subtract(x, x.max(axis=-1, keepdims=True), out=y)
            np.exp(y, out=t)
            s = t.sum(axis=-1, keepdims=True)
            loss = float(np.mean(np.log(s[:, 0]) - y[rows, labels]))
            t[...] /= s
            t[rows, labels] -= 1
            t[...] /= x.shape[0]
            return loss
    elif op == "adam":
        p, m, v = x.copy(), np.zeros_like(x), np.zeros_like(x)
        def fn():
            m[...] += (g - m) * 0.1
            v[...] += (g * g - v) * 0.001
            p[...] -= m * 1e-3 / (np.sqrt(v) + 1e-7)
    elif op == "dropout":
        rng = np.random.default_rng(0)
        def fn():
            mask = rng.random(x.shape, dtype=np.float32) >= 0.5
            np.multiply(x, mask, out=y)
            y[...] *= 2.0
    elif op == "batch_norm":
        def fn():
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            np.subtract(x, mean, out=y)
            y[...] *= 1 / np.sqrt(var + 1e-3)
    else:
        return None
    return _repeat(fn, case["inner"])


def build_torch(case):
    import torch
    import torch.nn.functional as F

    x_np, g_np, c, labels = _data(case)
    x, g = torch.from_numpy(x_np), torch.from_numpy(g_np)
    y = torch.empty_like(x)
    b = torch.zeros(c)
    op = case["op"]
    if op == "relu":
        fn = lambda: torch.clamp_min(x, 0, out=y)  # noqa: E731
    elif op == "relu_backward":
        fn = lambda: torch.ops.aten.threshold_backward(g, x, 0)  # noqa: E731
    elif op == "sigmoid":
        fn = lambda: torch.sigmoid(x, out=y)  # noqa: E731
    elif op == "tanh":
        fn = lambda: torch.tanh(x, out=y)  # noqa: E731
    elif op == "gelu":
        fn = lambda: F.gelu(x)  # noqa: E731
    elif op == "gelu_tanh":
        fn = lambda: F.gelu(x, approximate="tanh")  # noqa: E731
    elif op == "bias_add":
        fn = lambda: torch.add(x, b, out=y)  # noqa: E731
    elif op == "bias_grad":
        g2 = g.reshape(-1, c)
        fn = lambda: torch.sum(g2, 0, out=b)  # noqa: E731
    elif op == "softmax":
        fn = lambda: torch.softmax(x, -1)  # noqa: E731
    elif op == "sparse_ce":
        lab = torch.from_numpy(labels)
        xr = x.clone().requires_grad_(True)
        def fn():
            xr.grad = None
            loss = F.cross_entropy(xr, lab)
            loss.backward()
            return loss
    elif op == "adam":
        p = torch.nn.Parameter(x.clone())
        p.grad = g.clone()
        opt = torch.optim.Adam([p], lr=1e-3, fused=True)
        fn = opt.step
    elif op == "dropout":
        fn = lambda: F.dropout(x, 0.5, training=True)  # noqa: E731
    elif op == "batch_norm":
        w, bb = torch.ones(c), torch.zeros(c)
        fn = lambda: F.batch_norm(x, None, None, w, bb, training=True, eps=1e-3)  # noqa: E731
    else:
        return None
    torch.set_grad_enabled(op == "sparse_ce")
    return _repeat(fn, case["inner"])


def columns(case, times):
    cells = []
    n = int(np.prod(case["shape"]))
    for fw in ("nncore", "numpy", "torch"):
        if fw in times:
            per_op = times[fw]["median"] / case["inner"]
            cells.append((f"{fw} µs", f"{per_op * 1e6:.2f}" if per_op < 1e-4 else f"{per_op * 1e6:.0f}"))
    if "nncore" in times and case["inner"] == 1:
        cells.append(("nncore ns/elt", f"{times['nncore']['median'] / n * 1e9:.3f}"))
    else:
        cells.append(("nncore ns/elt", "–"))
    return cells


if __name__ == "__main__":
    _harness.main(
        name="eltwise",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "numpy": build_numpy, "torch": build_torch},
        columns=columns,
        anchors=("numpy", "torch"),
    )
