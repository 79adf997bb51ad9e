"""MobileNetV2 (96x96 input, alpha 1, batch 32) depthwise 3x3 and pointwise 1x1 layers, float32:
forward, backward-input and backward-weight of nncore against PyTorch channels_last at the same
thread count. Each pass of each layer is timed in interleaved rounds (nncore, torch, nncore, ...)
so that load from other processes hits both alike; prints each one's fastest round, the
torch/nncore ratio of those and that of the medians (the issue 18 target is nncore <= 0.8x
torch's time, i.e. a ratio >= 1.25).

With NNCORE_ISA=avx2 or generic, PyTorch is held to the same instruction set (oneDNN, ATen and
MKL caps as in bench/_harness.py) unless --torch-full-isa is given.

    NNCORE_ISA=avx512 PYTHONPATH=python python bench/bench_mobilenet_layers.py [--threads 2]
        [--rounds 9] [--only dw|pw] [--passes fwd,bwd_in,bwd_w]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

# (H, C, stride) of the depthwise 3x3 layers (one per distinct shape; 'same' padding).
DEPTHWISE = [
    (48, 32, 1), (48, 96, 2), (24, 144, 1), (24, 144, 2), (12, 192, 1), (12, 192, 2),
    (6, 384, 1), (6, 576, 1), (6, 576, 2), (3, 960, 1),
]
# (H, Cin, Cout) of the expand / project 1x1 layers.
POINTWISE = [
    (48, 32, 16), (48, 16, 96), (24, 96, 24), (24, 24, 144), (24, 144, 24), (12, 144, 32),
    (12, 32, 192), (12, 192, 32), (6, 192, 64), (6, 64, 384), (6, 384, 64), (6, 96, 576),
    (6, 576, 96), (3, 576, 160), (3, 160, 960), (3, 960, 160), (3, 320, 1280),
]
BATCH = 32


def timed(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def compare(a, b, rounds, budget=0.02):
    """Interleaved timings of a and b; returns each one's fastest round (the least disturbed by
    other load on a shared machine) and median."""
    a(); b()
    one = min(min(timed(a, 1), timed(b, 1)) for _ in range(3))
    reps = max(1, int(budget / max(one, 1e-6)))
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(timed(a, reps))
        tb.append(timed(b, reps))
    return min(ta), min(tb), statistics.median(ta), statistics.median(tb)


def depthwise_cases(ops, torch, F):
    aten = torch.ops.aten
    for h, c, s in DEPTHWISE:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((BATCH, h, h, c)).astype(np.float32)
        k = rng.standard_normal((3, 3, c, 1)).astype(np.float32)
        g = dict(strides=s, padding="same")
        y = ops.depthwise_conv2d(x, k, **g)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        yo, dxo, dwo = np.empty_like(y), np.empty_like(x), np.empty_like(k)
        # Keras 'same' at stride 2 on even sizes pads (0, 1); torch pads 1 on both sides: the
        # same output size and the same work.
        xt = torch.from_numpy(x).permute(0, 3, 1, 2)
        wt = torch.from_numpy(np.ascontiguousarray(k.transpose(2, 3, 0, 1)))
        dyt = torch.from_numpy(dy).permute(0, 3, 1, 2)
        assert F.conv2d(xt, wt, stride=s, padding=1, groups=c).shape == dyt.shape
        args = ([0], [s, s], [1, 1], [1, 1], False, [0, 0], c)  # bias, stride, pad, dil, ...
        yield (f"dw3x3 {h}x{h}x{c} s{s}", {
            "fwd": (lambda: ops.depthwise_conv2d(x, k, out=yo, **g),
                    lambda: F.conv2d(xt, wt, stride=s, padding=1, groups=c)),
            "bwd_in": (lambda: ops.depthwise_conv2d_backward_input(dy, k, x.shape, out=dxo, **g),
                       lambda: aten.convolution_backward(dyt, xt, wt, *args, [True, False, False])),
            "bwd_w": (lambda: ops.depthwise_conv2d_backward_weight(x, dy, k.shape, out=dwo, **g),
                      lambda: aten.convolution_backward(dyt, xt, wt, *args, [False, True, False])),
        })


def pointwise_cases(ops, torch, F):
    aten = torch.ops.aten
    for h, ci, co in POINTWISE:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((BATCH, h, h, ci)).astype(np.float32)
        k = (rng.standard_normal((1, 1, ci, co)) / np.sqrt(ci)).astype(np.float32)
        dy = rng.standard_normal((BATCH, h, h, co)).astype(np.float32)
        yo, dxo, dwo = np.empty_like(dy), np.empty_like(x), np.empty_like(k)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2)
        wt = torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1))).contiguous(
            memory_format=torch.channels_last)
        dyt = torch.from_numpy(dy).permute(0, 3, 1, 2)
        args = ([0], [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
        yield (f"pw1x1 {h}x{h} {ci}->{co}", {
            "fwd": (lambda: ops.conv2d(x, k, out=yo), lambda: F.conv2d(xt, wt)),
            "bwd_in": (lambda: ops.conv2d_backward_input(dy, k, x.shape, out=dxo),
                       lambda: aten.convolution_backward(dyt, xt, wt, *args, [True, False, False])),
            "bwd_w": (lambda: ops.conv2d_backward_weight(x, dy, k.shape, out=dwo),
                      lambda: aten.convolution_backward(dyt, xt, wt, *args, [False, True, False])),
        })


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--only", choices=["dw", "pw"])
    ap.add_argument("--passes", default="fwd,bwd_in,bwd_w")
    ap.add_argument("--torch-full-isa", action="store_true")
    args = ap.parse_args()

    isa = os.environ.get("NNCORE_ISA", "")
    if not args.torch_full_isa and isa in ("avx2", "generic"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from _harness import ISA_CAPS
        os.environ.update(ISA_CAPS[isa])

    import torch
    import torch.nn.functional as F

    from nncore import ops

    torch.set_num_threads(args.threads)
    ops.set_num_threads(args.threads)
    print(f"threads {args.threads}, nncore isa {ops.active_isa()}, torch {torch.__version__} "
          f"(oneDNN cap {os.environ.get('ONEDNN_MAX_CPU_ISA', 'none')}), "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'layer':26s} {'pass':7s} {'nncore ms':>10s} {'torch ms':>9s} {'torch/nn':>9s} {'(medians)':>10s}")
    passes = args.passes.split(",")
    gens = []
    if args.only in (None, "dw"):
        gens.append(depthwise_cases(ops, torch, F))
    if args.only in (None, "pw"):
        gens.append(pointwise_cases(ops, torch, F))
    with torch.no_grad():
        for gen in gens:
            for name, fns in gen:
                for p in passes:
                    a, b = fns[p]
                    ta, tb, ma, mb = compare(a, b, args.rounds)
                    flag = "" if tb / ta >= 1.25 else "  <- misses 0.8x"
                    print(f"{name:26s} {p:7s} {ta * 1e3:10.3f} {tb * 1e3:9.3f} {tb / ta:9.2f} "
                          f"{mb / ma:10.2f}{flag}", flush=True)
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
