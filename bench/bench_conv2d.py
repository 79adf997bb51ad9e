"""conv2d forward / backward-input / backward-weight: nncore vs a NumPy im2col reference vs PyTorch
(NCHW and channels_last), float32, the seed model's layers and a GEMM-bound big layer (PERF.md §2).
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

LAYERS = {  # name: (N, H, W, C_in, C_out, k)
    "conv1": (32, 32, 32, 3, 8, 3),
    "conv2": (32, 16, 16, 8, 16, 3),
    "big": (64, 32, 32, 64, 64, 3),
}
OPS = ("forward", "backward_input", "backward_weight")
CASES = [{"name": f"{layer} {op}", "layer": layer, "op": op, "dtype": "float32"}
         for layer in LAYERS for op in OPS]


def _operands(case):
    n, h, w, ci, co, k = LAYERS[case["layer"]]
    rng = np.random.default_rng(0)
    dt = np.dtype(case["dtype"])
    x = rng.standard_normal((n, h, w, ci)).astype(dt)
    wt = (rng.standard_normal((k, k, ci, co)) / np.sqrt(k * k * ci)).astype(dt)
    b = rng.standard_normal(co).astype(dt)
    dy = rng.standard_normal((n, h, w, co)).astype(dt)  # stride 1 'same': output size = input size
    return x, wt, b, dy


def build_nncore(case):
    from nncore import ops

    x, w, b, dy = _operands(case)
    if case["op"] == "forward":
        y = np.empty(dy.shape, x.dtype)
        return lambda: ops.conv2d(x, w, b, padding="same", out=y)
    if case["op"] == "backward_input":
        dx = np.empty_like(x)
        return lambda: ops.conv2d_backward_input(dy, w, x.shape, padding="same", out=dx)
    dw = np.empty_like(w)
    return lambda: ops.conv2d_backward_weight(x, dy, w.shape, padding="same", out=dw)


def _im2col(xp, k, h, w):
    """(N, H, W, k*k*C) patches of a padded NHWC batch, in HWIO order."""
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(xp, (k, k), axis=(1, 2))[:, :h, :w]  # N, H, W, C, kh, kw
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(-1, k * k * xp.shape[3])


def build_numpy(case):
    x, w, b, dy = _operands(case)
    n, h, wd, ci = x.shape
    k, co = w.shape[0], w.shape[3]
    p = k // 2
    wm = w.reshape(-1, co)
    dym = dy.reshape(-1, co)
    if case["op"] == "forward":
        def fwd():
            xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
            return (_im2col(xp, k, h, wd) @ wm + b).reshape(n, h, wd, co)
        return fwd
    if case["op"] == "backward_input":
        def bin_():
            cols = (dym @ wm.T).reshape(n, h, wd, k, k, ci)
            dxp = np.zeros((n, h + 2 * p, wd + 2 * p, ci), x.dtype)
            for i in range(k):
                for j in range(k):
                    dxp[:, i:i + h, j:j + wd] += cols[:, :, :, i, j]
            return dxp[:, p:p + h, p:p + wd]
        return bin_

    def bw():
        xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        return (_im2col(xp, k, h, wd).T @ dym).reshape(w.shape)
    return bw


def _build_torch(case, channels_last):
    import torch

    x, w, b, dy = (torch.from_numpy(a) for a in _operands(case))
    x = x.permute(0, 3, 1, 2)        # NCHW view of NHWC data (channels_last strides)
    dy = dy.permute(0, 3, 1, 2)
    w = w.permute(3, 2, 0, 1)        # OIHW
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x, dy, w = (t.contiguous(memory_format=fmt) for t in (x, dy, w))
    p = w.shape[2] // 2
    conv = torch.nn.functional.conv2d
    if case["op"] == "forward":
        return lambda: conv(x, w, b, padding=p)
    mask = [case["op"] == "backward_input", case["op"] == "backward_weight", False]
    back = torch.ops.aten.convolution_backward
    return lambda: back(dy, x, w, [w.shape[0]], [1, 1], [p, p], [1, 1], False, [0, 0], 1, mask)


def build_torch(case):
    return _build_torch(case, channels_last=False)


def build_torch_cl(case):
    return _build_torch(case, channels_last=True)


def columns(case, times):
    return [(f"{fw} µs", f"{times[fw]['median'] * 1e6:.0f}" if fw in times else "–")
            for fw in ("nncore", "numpy", "torch", "torch_cl")]


if __name__ == "__main__":
    _harness.main(
        name="conv2d",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "numpy": build_numpy, "torch": build_torch,
                  "torch_cl": build_torch_cl},
        columns=columns,
        anchors=("torch_cl", "torch", "numpy"),
    )
