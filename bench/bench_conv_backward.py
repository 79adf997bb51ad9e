"""conv2d backward: the weight gradient alone, and a whole Conv2D(relu, bias) training step (forward,
relu mask, bias and weight gradients, input gradient), float32, batch 32, against PyTorch
channels_last (oneDNN). Issue 18's layers: 64->64 and 128->128 3x3 'same' at 32x32 and 16x16.

Frameworks: ``nncore`` (this checkout), ``nncore_before`` (the nncore package found in
$NNCORE_BENCH_BEFORE, default /work/main/python, with its own build: the same cases before a
change, interleaved with after), ``torch_cl``. The weight gradient's Winograd path can be compared
with the direct sum through ``nncore._core.set_conv2d_wgrad_winograd(False)``.

    PYTHONPATH=python python bench/bench_conv_backward.py --rounds 3 --isa avx512
"""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

BEFORE = os.environ.get("NNCORE_BENCH_BEFORE", "/work/main/python")
LAYERS = {  # name: (N, H, W, C_in, C_out, k)
    "64to64@32": (32, 32, 32, 64, 64, 3),
    "64to64@16": (32, 16, 16, 64, 64, 3),
    "128to128@32": (32, 32, 32, 128, 128, 3),
    "128to128@16": (32, 16, 16, 128, 128, 3),
    # ResNet-20's three stages at its training batch (128): equal work, channels x2 per halving.
    "r20-16to16@32": (128, 32, 32, 16, 16, 3),
    "r20-32to32@16": (128, 16, 16, 32, 32, 3),
    "r20-64to64@8": (128, 8, 8, 64, 64, 3),
}
OPS = ("backward_weight", "train_step")
CASES = [{"name": f"{layer} {op}", "layer": layer, "op": op} for layer in LAYERS for op in OPS]


def _operands(case):
    n, h, w, ci, co, k = LAYERS[case["layer"]]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, ci)).astype(np.float32)
    wt = (rng.standard_normal((k, k, ci, co)) / np.sqrt(k * k * ci)).astype(np.float32)
    b = (0.1 * rng.standard_normal(co)).astype(np.float32)
    dy = rng.standard_normal((n, h, w, co)).astype(np.float32)  # stride 1 'same'
    return x, wt, b, dy


def _build_nncore(case):
    import nncore
    from nncore import layers as L
    from nncore import ops

    x, w, b, dy = _operands(case)
    if case["op"] == "backward_weight":
        dw = np.empty_like(w)
        return lambda: ops.conv2d_backward_weight(x, dy, w.shape, padding="same", out=dw)
    layer = L.Conv2D(w.shape[3], w.shape[0], padding="same", activation="relu")
    layer.build(x.shape)
    layer.set_weights([w, b])
    nncore.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))

    def step():
        layer.forward(x, training=True)
        return layer.backward(dy)
    return step


def build_nncore(case):
    return _build_nncore(case)


def build_nncore_before(case):
    if "nncore" not in sys.modules:
        sys.path.insert(0, BEFORE)
    return _build_nncore(case)


def build_torch_cl(case):
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    x, w, b, dy = (torch.from_numpy(a) for a in _operands(case))
    x, dy = (t.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last) for t in (x, dy))
    w = w.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)  # OIHW
    p = w.shape[2] // 2
    if case["op"] == "backward_weight":
        back = torch.ops.aten.convolution_backward
        return lambda: back(dy, x, w, [w.shape[0]], [1, 1], [p, p], [1, 1], False, [0, 0], 1,
                            [False, True, False])
    x.requires_grad_(True)
    w.requires_grad_(True)
    b.requires_grad_(True)

    def step():
        x.grad = w.grad = b.grad = None
        y = torch.relu(torch.nn.functional.conv2d(x, w, b, padding=p))
        y.backward(dy)
        return x.grad
    return step


def columns(case, times):
    return [(f"{fw} µs", f"{times[fw]['median'] * 1e6:.0f}" if fw in times else "–")
            for fw in ("nncore", "nncore_before", "torch_cl")]


if __name__ == "__main__":
    _harness.main(
        name="conv_backward",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "nncore_before": build_nncore_before,
                  "torch_cl": build_torch_cl},
        columns=columns,
        anchors=("torch_cl", "nncore_before"),
    )
