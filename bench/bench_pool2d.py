"""Max / average pooling forward and backward: nncore vs a NumPy sliding_window_view reference vs
PyTorch (NCHW and channels_last), float32, the seed model's pooling layers (PERF.md §2)."""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

LAYERS = {  # name: (N, H, W, C), 2x2 windows, stride 2
    "pool1": (32, 32, 32, 8),
    "pool2": (32, 16, 16, 16),
}
OPS = ("max forward", "max backward", "avg forward", "avg backward")
CASES = [{"name": f"{layer} {op}", "layer": layer, "op": op, "dtype": "float32"}
         for layer in LAYERS for op in OPS]


def _operands(case):
    n, h, w, c = LAYERS[case["layer"]]
    rng = np.random.default_rng(0)
    dt = np.dtype(case["dtype"])
    x = rng.standard_normal((n, h, w, c)).astype(dt)
    dy = rng.standard_normal((n, h // 2, w // 2, c)).astype(dt)
    return x, dy


def build_nncore(case):
    """The training-loop calls: forward with argmax, backward from the argmax, outputs reused."""
    from nncore import ops

    x, dy = _operands(case)
    if case["op"] == "max forward":
        return lambda: ops.max_pool2d_with_argmax(x, 2)
    if case["op"] == "max backward":
        _, am = ops.max_pool2d_with_argmax(x, 2)
        dx = np.empty_like(x)
        return lambda: ops.max_pool2d_backward_argmax(dy, am, x.shape, out=dx)
    if case["op"] == "avg forward":
        y = np.empty_like(dy)
        return lambda: ops.avg_pool2d(x, 2, out=y)
    dx = np.empty_like(x)
    return lambda: ops.avg_pool2d_backward(dy, x.shape, 2, out=dx)


def build_numpy(case):
    from numpy.lib.stride_tricks import sliding_window_view

    x, dy = _operands(case)
    if case["op"] == "max forward":
        return lambda: sliding_window_view(x, (2, 2), axis=(1, 2))[:, ::2, ::2].max(axis=(4, 5))
    if case["op"] == "avg forward":
        return lambda: sliding_window_view(x, (2, 2), axis=(1, 2))[:, ::2, ::2].mean(axis=(4, 5))
    if case["op"] == "max backward":
        n, h, w, c = x.shape

        def back():
            win = x.reshape(n, h // 2, 2, w // 2, 2, c)
            y = win.max(axis=(2, 4), keepdims=True)
            mask = win == y
            # first maximum only, as the framework ops route it
            first = np.cumsum(np.cumsum(mask, axis=2), axis=4) == 1
            return (mask & first) * dy.reshape(n, h // 2, 1, w // 2, 1, c)
        return back
    n, h, w, c = x.shape
    return lambda: np.broadcast_to(dy.reshape(n, h // 2, 1, w // 2, 1, c) / 4, (n, h // 2, 2, w // 2, 2, c)
                                   ).reshape(n, h, w, c).copy()


def _build_torch(case, channels_last):
    import torch

    x, dy = (torch.from_numpy(a).permute(0, 3, 1, 2) for a in _operands(case))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x, dy = x.contiguous(memory_format=fmt), dy.contiguous(memory_format=fmt)
    F = torch.nn.functional
    if case["op"] == "max forward":
        return lambda: F.max_pool2d(x, 2, return_indices=True)
    if case["op"] == "max backward":
        _, idx = F.max_pool2d(x, 2, return_indices=True)
        back = torch.ops.aten.max_pool2d_with_indices_backward
        return lambda: back(dy, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
    if case["op"] == "avg forward":
        return lambda: F.avg_pool2d(x, 2)
    back = torch.ops.aten.avg_pool2d_backward
    return lambda: back(dy, x, [2, 2], [2, 2], [0, 0], False, True, None)


def build_torch(case):
    return _build_torch(case, channels_last=False)


def build_torch_cl(case):
    return _build_torch(case, channels_last=True)


def columns(case, times):
    return [(f"{fw} µs", f"{times[fw]['median'] * 1e6:.1f}" if fw in times else "–")
            for fw in ("nncore", "numpy", "torch", "torch_cl")]


if __name__ == "__main__":
    _harness.main(
        name="pool2d",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "numpy": build_numpy, "torch": build_torch,
                  "torch_cl": build_torch_cl},
        columns=columns,
        anchors=("torch_cl", "torch", "numpy"),
    )
