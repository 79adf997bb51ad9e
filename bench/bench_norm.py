"""Layer normalization, group normalization and 2-D upsampling, forward and forward+backward,
float32: nncore's C++ ops vs the NumPy code the layers used before (kept here as the reference)
vs PyTorch (F.layer_norm; F.group_norm and F.interpolate on channels_last tensors).

Shapes: transformer rows (4096, 512) for layer norm, a MobileNetV2/U-Net activation
(32, 96, 96, 32) in 8 groups for group norm, a U-Net decoder map (32, 48, 48, 64) enlarged 2x for
upsampling. Run once per ISA path, e.g.

    PYTHONPATH=python python bench/bench_norm.py --isa avx2 --json bench/results/norm_avx2.json
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

SHAPES = {
    "layernorm": (4096, 512),
    "groupnorm": (32, 96, 96, 32),
    "nearest": (32, 48, 48, 64),
    "bilinear": (32, 48, 48, 64),
}
GROUPS = 8
EPS = 1e-3
CASES = [{"name": f"{op} {pass_}", "op": op, "pass": pass_}
         for op in SHAPES for pass_ in ("fwd", "fwd+bwd")]


def _operands(case):
    rng = np.random.default_rng(0)
    shape = SHAPES[case["op"]]
    x = rng.standard_normal(shape).astype(np.float32)
    c = shape[-1]
    gamma = rng.standard_normal(c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    if case["op"] in ("nearest", "bilinear"):
        n, h, w, c = shape
        dy = rng.standard_normal((n, 2 * h, 2 * w, c)).astype(np.float32)
    else:
        dy = rng.standard_normal(shape).astype(np.float32)
    return x, gamma, beta, dy


# ---------------------------------------------------------------- the former NumPy code


def np_normalize_rows(x, eps):
    mean = x.mean(axis=1, keepdims=True)
    dev = x - mean
    inv = (1.0 / np.sqrt(np.mean(dev * dev, axis=1, keepdims=True) + eps)).astype(x.dtype)
    return dev * inv, inv


def np_normalize_rows_backward(g_hat, x_hat, inv):
    return inv * (g_hat - g_hat.mean(axis=1, keepdims=True)
                  - x_hat * np.mean(g_hat * x_hat, axis=1, keepdims=True))


def np_layer_norm(x, gamma, beta, dy, backward):
    x_hat, inv = np_normalize_rows(x, EPS)
    y = x_hat * gamma + beta
    if not backward:
        return y
    d_gamma, d_beta = np.sum(dy * x_hat, axis=0), np.sum(dy, axis=0)
    return np_normalize_rows_backward(dy * gamma, x_hat, inv), d_gamma, d_beta


def np_group_norm(x, gamma, beta, dy, backward):
    """Channels moved second, one row per (image, group), as GroupNormalization did."""
    n, c = x.shape[0], x.shape[-1]
    x3 = np.ascontiguousarray(np.moveaxis(x, -1, 1)).reshape(n, c, -1)
    x_hat, inv = np_normalize_rows(x3.reshape(n * GROUPS, -1), EPS)
    x_hat = x_hat.reshape(n, c, -1)
    y = np.moveaxis((x_hat * gamma[:, None] + beta[:, None]).reshape(n, c, *x.shape[1:-1]), 1, -1)
    if not backward:
        return y
    g = np.ascontiguousarray(np.moveaxis(dy, -1, 1)).reshape(n, c, -1)
    d_gamma, d_beta = np.einsum("ncr,ncr->c", g, x_hat), g.sum(axis=(0, 2))
    dx = np_normalize_rows_backward((g * gamma[:, None]).reshape(n * GROUPS, -1),
                                    x_hat.reshape(n * GROUPS, -1), inv)
    return np.ascontiguousarray(np.moveaxis(dx.reshape(n, c, *x.shape[1:-1]), 1, -1)), d_gamma, d_beta


def _taps(n, f):
    src = np.maximum((np.arange(n * f) + 0.5) / f - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
    return i0, np.minimum(i0 + 1, n - 1), (src - i0).astype(np.float32)


def _interp(x, taps, axis):
    i0, i1, w = taps
    shape = [1] * x.ndim
    shape[axis] = len(w)
    w = w.reshape(shape)
    a = np.take(x, i0, axis=axis)
    return a + (np.take(x, i1, axis=axis) - a) * w


def _interp_back(g, taps, axis, n):
    i0, i1, w = taps
    shape = [1] * g.ndim
    shape[axis] = len(w)
    w = w.reshape(shape)
    out = list(g.shape)
    out[axis] = n
    dx = np.zeros(out, g.dtype)
    gw = g * w
    for idx, v in ((i0, g - gw), (i1, gw)):
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        index = [slice(None)] * g.ndim
        index[axis] = idx[starts]
        dx[tuple(index)] += np.add.reduceat(v, starts, axis=axis)
    return dx


def np_upsample(x, dy, mode, backward):
    n, h, w, c = x.shape
    if mode == "nearest":
        y = np.ascontiguousarray(np.broadcast_to(x[:, :, None, :, None, :], (n, h, 2, w, 2, c))
                                 ).reshape(n, 2 * h, 2 * w, c)
        return dy.reshape(n, h, 2, w, 2, c).sum(axis=(2, 4)) if backward else y
    y = _interp(_interp(x, _taps(h, 2), 1), _taps(w, 2), 2)
    if not backward:
        return y
    return _interp_back(_interp_back(dy, _taps(w, 2), 2, w), _taps(h, 2), 1, h)


# ---------------------------------------------------------------- builders


def build_nncore(case):
    from nncore import ops

    x, gamma, beta, dy = _operands(case)
    bwd = case["pass"] == "fwd+bwd"
    if case["op"] == "layernorm":
        def run():
            y, m, i = ops.layer_norm(x, gamma, beta, EPS)
            if bwd:
                ops.layer_norm_backward(dy, x, gamma, m, i)
        return run
    if case["op"] == "groupnorm":
        def run():
            y, m, i = ops.group_norm(x, gamma, beta, GROUPS, EPS)
            if bwd:
                ops.group_norm_backward(dy, x, gamma, m, i, GROUPS)
        return run
    mode = case["op"]

    def run():
        ops.upsample2d(x, (2, 2), mode)
        if bwd:
            ops.upsample2d_backward(dy, (2, 2), mode)
    return run


def build_numpy(case):
    x, gamma, beta, dy = _operands(case)
    bwd = case["pass"] == "fwd+bwd"
    if case["op"] == "layernorm":
        return lambda: np_layer_norm(x, gamma, beta, dy, bwd)
    if case["op"] == "groupnorm":
        return lambda: np_group_norm(x, gamma, beta, dy, bwd)
    mode = case["op"]

    def run():
        np_upsample(x, dy, mode, False)
        if bwd:
            np_upsample(x, dy, mode, True)
    return run


def build_torch(case):
    import torch
    import torch.nn.functional as F

    x, gamma, beta, dy = (torch.from_numpy(a) for a in _operands(case))
    bwd = case["pass"] == "fwd+bwd"
    if case["op"] != "layernorm":  # NHWC data as channels_last NCHW tensors
        x = x.permute(0, 3, 1, 2)
        dy = dy.permute(0, 3, 1, 2)
    if bwd:
        x, gamma, beta = (t.requires_grad_(True) for t in (x, gamma, beta))
    if case["op"] == "layernorm":
        def fwd():
            return F.layer_norm(x, (x.shape[-1],), gamma, beta, EPS)
    elif case["op"] == "groupnorm":
        def fwd():
            return F.group_norm(x, GROUPS, gamma, beta, EPS)
    else:
        mode = case["op"]
        kw = {} if mode == "nearest" else {"align_corners": False}

        def fwd():
            return F.interpolate(x, scale_factor=2, mode=mode, **kw)
    if not bwd:
        def run():
            with torch.no_grad():
                fwd()
        return run
    inputs = (x,) if case["op"] in ("nearest", "bilinear") else (x, gamma, beta)
    return lambda: torch.autograd.grad(fwd(), inputs, dy)


def columns(case, times):
    return [(f"{fw} ms", f"{times[fw]['median'] * 1e3:.2f}" if fw in times else "–")
            for fw in ("nncore", "numpy", "torch")]


if __name__ == "__main__":
    _harness.main(
        name="norm",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "numpy": build_numpy, "torch": build_torch},
        columns=columns,
        anchors=("torch", "numpy"),
    )
