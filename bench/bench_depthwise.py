"""Depthwise 3x3 conv2d forward and backward (input + weight gradients), float32, on MobileNetV2-like
layers: nncore vs PyTorch channels_last (torch.set_num_threads to nncore's thread count). Rounds
interleave the two libraries so that machine noise hits both alike; prints medians and ratios.

    PYTHONPATH=python python bench/bench_depthwise.py [--threads 2] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

LAYERS = [  # (N, H, W, C), kernel 3x3, stride, padding
    ((32, 48, 48, 96), 1),
    ((32, 48, 48, 96), 2),
    ((32, 12, 12, 576), 1),
    ((32, 12, 12, 576), 2),
]


def timed(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F

    from nncore import ops

    torch.set_num_threads(args.threads)
    ops.set_num_threads(args.threads)
    print(f"threads {args.threads}, isa {ops.get_isa() if hasattr(ops, 'get_isa') else '?'}, "
          f"torch {torch.__version__}")
    print(f"{'layer':28s} {'pass':9s} {'nncore ms':>10s} {'torch ms':>10s} {'torch/nncore':>13s}")
    for shape, stride in LAYERS:
        n, h, w, c = shape
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape).astype(np.float32)
        k = rng.standard_normal((3, 3, c, 1)).astype(np.float32)
        g = dict(strides=stride, padding="same")
        y = ops.depthwise_conv2d(x, k, **g)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        yo = np.empty_like(y)
        dxo = np.empty_like(x)
        dwo = np.empty_like(k)

        def nn_fwd():
            ops.depthwise_conv2d(x, k, out=yo, **g)

        def nn_bwd():
            ops.depthwise_conv2d_backward_input(dy, k, x.shape, out=dxo, **g)
            ops.depthwise_conv2d_backward_weight(x, dy, k.shape, out=dwo, **g)

        xt = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_(True)  # channels_last memory
        wt = torch.from_numpy(np.ascontiguousarray(k.transpose(2, 3, 0, 1))).requires_grad_(True)
        dyt = torch.from_numpy(dy).permute(0, 3, 1, 2)
        # Keras/TF 'same' for stride 2 pads (0, 1); torch pads symmetrically, so the stride-2
        # layers pad 1 on both sides (same work, one more output row only when H is odd).
        pad = 1

        def t_fwd():
            with torch.no_grad():
                F.conv2d(xt, wt, stride=stride, padding=pad, groups=c)

        yt = F.conv2d(xt, wt, stride=stride, padding=pad, groups=c)
        dyt = dyt[:, :, :yt.shape[2], :yt.shape[3]].contiguous(memory_format=torch.channels_last) \
            if yt.shape[2:] == dyt.shape[2:] else torch.randn(yt.shape).contiguous(
                memory_format=torch.channels_last)

        def t_bwd():
            out = F.conv2d(xt, wt, stride=stride, padding=pad, groups=c)
            torch.autograd.grad(out, (xt, wt), dyt)

        def t_fwd_only_for_bwd():
            F.conv2d(xt, wt, stride=stride, padding=pad, groups=c)

        for name, a, b, b_extra in (("forward", nn_fwd, t_fwd, None),
                                    ("backward", nn_bwd, t_bwd, t_fwd_only_for_bwd)):
            a(); b()
            reps = max(1, int(0.05 / max(timed(a, 1), 1e-6)))
            ta, tb, te = [], [], []
            for _ in range(args.rounds):
                ta.append(timed(a, reps))
                tb.append(timed(b, reps))
                if b_extra is not None:
                    te.append(timed(b_extra, reps))
            ma, mb = statistics.median(ta), statistics.median(tb)
            if te:  # torch's backward timing includes a forward (autograd): take it out
                mb -= statistics.median(te)
            print(f"{str(shape) + ' s' + str(stride):28s} {name:9s} {ma * 1e3:10.2f} {mb * 1e3:10.2f} "
                  f"{mb / ma:13.2f}")


if __name__ == "__main__":
    main()
