"""Winograd F(4x4, 3x3) conv2d vs nncore's direct kernel vs PyTorch channels_last, float32, 3x3
'same' layers at batch 32, forward and backward-input. `nncore` runs with the Winograd path on,
`direct` the same build with it off (nncore.set_winograd(False)).

    python bench/bench_winograd.py --rounds 3 [--isa avx2|generic]
    python bench/bench_winograd.py --error   # accuracy table against a float64 reference
    NNCORE_ISA=avx2 python bench/bench_winograd.py --cpu-time   # 1 thread, CPU time per call
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

LAYERS = {  # name: (N, H, W, C_in, C_out)
    "64->64 32x32": (32, 32, 32, 64, 64),
    "64->64 16x16": (32, 16, 16, 64, 64),
    "128->128 32x32": (32, 32, 32, 128, 128),
    "128->128 16x16": (32, 16, 16, 128, 128),
    "256->256 8x8": (32, 8, 8, 256, 256),
    "32->32 8x8": (32, 8, 8, 32, 32),
    "16->16 32x32 b128": (128, 32, 32, 16, 16),  # ResNet-20's first stage
}
OPS = ("forward", "backward_input")
CASES = [{"name": f"{layer} {op}", "layer": layer, "op": op} for layer in LAYERS for op in OPS]


def _operands(case):
    n, h, w, ci, co = LAYERS[case["layer"]]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, ci)).astype(np.float32)
    wt = (rng.standard_normal((3, 3, ci, co)) / np.sqrt(9 * ci)).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    dy = rng.standard_normal((n, h, w, co)).astype(np.float32)
    return x, wt, b, dy


def _build_nncore(case, winograd):
    import nncore
    from nncore import ops

    nncore.set_winograd(winograd)
    x, w, b, dy = _operands(case)
    if case["op"] == "forward":
        y = np.empty(dy.shape, x.dtype)
        return lambda: ops.conv2d(x, w, b, padding="same", out=y)
    dx = np.empty_like(x)
    return lambda: ops.conv2d_backward_input(dy, w, x.shape, padding="same", out=dx)


def build_nncore(case):
    return _build_nncore(case, True)


def build_direct(case):
    return _build_nncore(case, False)


def build_torch_cl(case):
    import torch

    x, w, b, dy = (torch.from_numpy(a) for a in _operands(case))
    x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    dy = dy.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    w = w.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.functional.conv2d
    if case["op"] == "forward":
        return lambda: conv(x, w, b, padding=1)
    back = torch.ops.aten.convolution_backward
    return lambda: back(dy, x, w, [w.shape[0]], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                        [True, False, False])


def columns(case, times):
    return [(f"{fw} µs", f"{times[fw]['median'] * 1e6:.0f}" if fw in times else "–")
            for fw in ("nncore", "direct", "torch_cl")]


def _local(s):
    """max of s over the 7 x 7 pixels around each pixel: the outputs whose tiles can mix."""
    from numpy.lib.stride_tricks import sliding_window_view

    p = np.pad(s, ((0, 0), (3, 3), (3, 3), (0, 0)), mode="edge")
    return sliding_window_view(p, (7, 7), axis=(1, 2)).max(axis=(-2, -1))


def error_table(channels=(16, 32, 64, 128, 256), size=16, batch=2, seed=0):
    """Max abs error, max error relative to the output's RMS, and max error relative to S, the
    largest sum |x||w| of the outputs within 3 pixels (tests/test_conv2d_winograd.py), of the
    float32 Winograd and direct passes against float64, for standard normal x and w."""
    import nncore
    from nncore import ops

    rng = np.random.default_rng(seed)
    print("| channels | pass | path | max abs err | max err / RMS(y) | max err / S |")
    print("|---|---|---|---|---|---|")
    for c in channels:
        x = rng.standard_normal((batch, size, size, c))
        w = rng.standard_normal((3, 3, c, c))
        dy = rng.standard_normal((batch, size, size, c))
        nncore.set_winograd(False)  # the float64 reference: direct sums
        want_f = ops.conv2d(x, w, padding="same")
        scale_f = _local(ops.conv2d(np.abs(x), np.abs(w), padding="same"))
        want_b = ops.conv2d_backward_input(dy, w, x.shape, padding="same")
        scale_b = _local(ops.conv2d_backward_input(np.abs(dy), np.abs(w), x.shape, padding="same"))
        x32, w32, dy32 = (a.astype(np.float32) for a in (x, w, dy))
        for path in ("winograd", "direct"):
            nncore.set_winograd(path == "winograd")
            for name, got, want, scale in (
                    ("forward", ops.conv2d(x32, w32, padding="same"), want_f, scale_f),
                    ("backward_input", ops.conv2d_backward_input(dy32, w32, x.shape, padding="same"),
                     want_b, scale_b)):
                err = np.abs(got.astype(np.float64) - want)
                rms = np.sqrt(np.mean(want ** 2))
                print(f"| {c} | {name} | {path} | {err.max():.3g} | {err.max() / rms:.3g} | "
                      f"{(err / scale).max():.3g} |")
        nncore.set_winograd(None)


def cpu_time_table(reps=7):
    """One thread, every case, the three variants in turn: each call's CPU time (time.thread_time,
    which a busy machine's preemptions do not inflate as they do wall time), the fastest of
    `reps` after a warm-up, and the ratios."""
    import os
    import time

    _harness.apply_isa(os.environ.get("NNCORE_ISA"))  # PyTorch held to the same instruction set
    import nncore
    import torch

    nncore.set_num_threads(1)
    torch.set_num_threads(1)
    print(f"ISA path {nncore.info()['isa']}, 1 thread, CPU time per call (fastest of {reps})")
    print("| case | nncore µs | direct µs | torch_cl µs | nncore/torch_cl | nncore/direct |")
    print("|---|---:|---:|---:|---:|---:|")
    builders = (build_nncore, build_direct, build_torch_cl)
    for case in CASES:
        best = [float("inf")] * 3
        fns = []
        for b in builders:
            fns.append(b(case))
        for _ in range(reps):
            for i, (b, fn) in enumerate(zip(builders, fns)):
                if b is not build_torch_cl:
                    nncore.set_winograd(b is build_nncore)
                fn()
                t = time.thread_time()
                fn()
                best[i] = min(best[i], time.thread_time() - t)
        nncore.set_winograd(None)
        w, d, t = (v * 1e6 for v in best)
        print(f"| {case['name']} | {w:.0f} | {d:.0f} | {t:.0f} | {w / t:.2f} | {w / d:.2f} |",
              flush=True)


if __name__ == "__main__":
    if "--cpu-time" in sys.argv:
        cpu_time_table()
        sys.exit(0)
    if "--error" in sys.argv:
        error_table()
        sys.exit(0)
    _harness.main(
        name="winograd",
        script=__file__,
        cases=CASES,
        builders={"nncore": build_nncore, "direct": build_direct, "torch_cl": build_torch_cl},
        columns=columns,
        anchors=("torch_cl", "direct"),
    )
