"""What is alive at the end of a training step's forward pass (where the step's memory peaks),
by category: the arrays each layer keeps for backward (deduplicated: an array two layers keep
counts once, for the first), arrays kept by the step-buffer pool, weights and gradients, beside
the process's resident size. Usage:

    PYTHONPATH=python python bench/cnn_memory_account.py resnet20|mobilenetv2 [--steps 3]

C++ scratch and the malloc heap's free chunks are not arrays: they are the difference between
the resident growth and the listed total.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_cnn  # noqa: E402


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _arrays(obj, out: list) -> list:
    if isinstance(obj, np.ndarray):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            _arrays(v, out)
    return out


def inventory(net) -> dict[str, int]:
    from nncore.layers import _workspace

    seen: set[int] = set()
    cats: dict[str, int] = {}

    def add(cat, arrays):
        for a in arrays:
            r = _root(a)
            if id(r) not in seen:
                seen.add(id(r))
                cats[cat] = cats.get(cat, 0) + r.nbytes

    for layer in net._graph.layers_in_call_order:
        add(f"kept for backward: {type(layer).__name__}", _arrays(getattr(layer, "_cache", None), []))
    pool = getattr(_workspace, "_pool", {})
    add("step buffers kept idle (shared pool)", [e[0] for blocks in pool.values() for e in blocks])
    for layer in net._graph.layers_in_call_order:   # per-layer buffers of earlier versions
        kept = [v[0] for v in layer.__dict__.get("_step_buffers", {}).values()]
        add(f"step buffers kept idle: {type(layer).__name__}", kept)
    weights = [v for layer in net._graph.layers for v in layer.weights]
    add("weights", [v.value for v in weights])
    add("gradients", [v.grad for v in weights if getattr(v, "grad", None) is not None])
    return cats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=[m for m, v in bench_cnn.MODELS.items() if v[0] == "train"])
    parser.add_argument("--steps", type=int, default=3, help="steps before the one looked at")
    args = parser.parse_args(argv)
    from nncore.models import graph

    x, y, _ = bench_cnn.make_batches(args.model, None)
    net = bench_cnn.nncore_model(args.model)
    batch = bench_cnn.MODELS[args.model][2]
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]
    rss_setup = _status_mb("VmRSS")
    for i in range(args.steps):
        net.train_on_batch(*batches[i % len(batches)])
    found = {}
    forward = graph.Graph.forward

    def looked_at(self, xs, training, logits=()):
        outs = forward(self, xs, training, logits)
        if training and not found:
            found.update(inventory(net))
            found["(resident above set-up)"] = int((_status_mb("VmRSS") - rss_setup) * 2**20)
        return outs

    graph.Graph.forward = looked_at
    try:
        net.train_on_batch(*batches[args.steps % len(batches)])
    finally:
        graph.Graph.forward = forward
    resident = found.pop("(resident above set-up)")
    print(f"{args.model}: at the end of the forward pass of step {args.steps + 1}")
    for cat, n in sorted(found.items(), key=lambda kv: -kv[1]):
        if n >= 2**20 // 10:
            print(f"  {n / 2**20:8.1f} MB  {cat}")
    print(f"  {sum(found.values()) / 2**20:8.1f} MB  listed (weights were there before the steps)")
    print(f"  {resident / 2**20:8.1f} MB  resident growth since before the first step; "
          f"high-water mark {_status_mb('VmHWM') - rss_setup:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
