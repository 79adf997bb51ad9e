"""Batch norm (+ ReLU) training forward + backward per call, nncore vs PyTorch channels_last,
interleaved; prints medians (ms) and the ratio nncore / torch.

    python bench/bench_batchnorm.py [--threads 2] [--reps 15] [--act none|relu|relu6]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import nncore
from nncore import ops

SHAPES = [(128, 32, 32, 16), (128, 16, 16, 32), (128, 8, 8, 64),
          (32, 48, 48, 32), (32, 48, 48, 96), (32, 24, 24, 144), (32, 12, 12, 192),
          (32, 6, 6, 384), (32, 3, 3, 960)]


def nn_step(x, g, gamma, beta, act):
    if act == "separate_relu":
        y, mean, _, inv = ops.batch_norm_train(x, gamma, beta, 1e-3)
        z = ops.relu(y)
        gz = ops.relu_backward_from_output(g, z)
        return ops.batch_norm_backward(gz, x, gamma, mean, inv)
    kw = {} if act == "none" else {"activation": act}
    y, mean, _, inv = ops.batch_norm_train(x, gamma, beta, 1e-3, **kw)
    return ops.batch_norm_backward(g, x, gamma, mean, inv, beta=beta, **kw)


def torch_step(xt, gt, w, b, act):
    xt.grad = None
    y = torch.nn.functional.batch_norm(xt, None, None, w, b, training=True, eps=1e-3)
    if act in ("relu", "separate_relu"):
        y = torch.relu(y)
    elif act == "relu6":
        y = torch.nn.functional.relu6(y)
    y.backward(gt)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--act", default="none")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    nncore.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    print(f"isa={ops.active_isa() if hasattr(ops, 'active_isa') else '?'} threads={a.threads} "
          f"act={a.act}")
    for shp in SHAPES:
        x = rng.standard_normal(shp, dtype=np.float32)
        g = rng.standard_normal(shp, dtype=np.float32)
        c = shp[-1]
        gamma = np.ones(c, np.float32)
        beta = np.full(c, 0.1, np.float32)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_(True)
        gt = torch.from_numpy(g).permute(0, 3, 1, 2)
        w = torch.ones(c, requires_grad=True)
        b = torch.full((c,), 0.1, requires_grad=True)
        tn, tt = [], []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            nn_step(x, g, gamma, beta, a.act)
            t1 = time.perf_counter()
            torch_step(xt, gt, w, b, a.act)
            t2 = time.perf_counter()
            tn.append(t1 - t0)
            tt.append(t2 - t1)
        mn, mt = np.median(tn) * 1e3, np.median(tt) * 1e3
        print(f"{'x'.join(map(str, shp)):>16}  nncore {mn:7.3f} ms  torch {mt:7.3f} ms  "
              f"ratio {mn / mt:5.2f}  (min {min(tn) * 1e3:7.3f} / {min(tt) * 1e3:7.3f} ms: "
              f"{min(tn) / min(tt):5.2f})")


if __name__ == "__main__":
    main()
