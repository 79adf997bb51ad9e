"""Data pipelines: seconds per epoch of the seed CIFAR-10 CNN fed from in-memory arrays (the fast
path) and from a ``PyDataset`` (inline and with 2 worker threads), a Python generator and a
PyTorch ``DataLoader`` over the same arrays, as ratios to the array path, interleaved in one
process (``--rounds`` keeps each variant's fastest round).

``--accuracy`` instead trains the seed recipe (adam, batch 32, ``--epochs`` epochs, the test set
as validation) on the real CIFAR-10 files once per pipeline, same seed, and prints each
pipeline's final val_accuracy next to the array path's.

    python bench/bench_pipeline.py --rounds 10
    python bench/bench_pipeline.py --accuracy --data-dir ../shared/data --epochs 10
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"


def seed_cnn():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from bench_fit import nncore_model

    return nncore_model("cnn")


def make_dataset_class():
    from nncore.utils import PyDataset

    class ShuffledArrays(PyDataset):
        """What a user writes: batches sliced from arrays, a new sample order every epoch."""

        def __init__(self, x, y, batch_size, seed, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(x))

        def __len__(self):
            return -(-len(self.x) // self.batch_size)

        def __getitem__(self, i):
            idx = self.order[i * self.batch_size:(i + 1) * self.batch_size]
            return self.x[idx], self.y[idx]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(self.x))

    return ShuffledArrays


def generator(x, y, batch_size, seed):
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(x))
        for lo in range(0, len(x), batch_size):
            idx = order[lo:lo + batch_size]
            yield x[idx], y[idx]


def pipelines(x, y, batch_size, seed):
    """name -> (x argument of fit, extra fit keywords)."""
    ds = make_dataset_class()
    steps = -(-len(x) // batch_size)
    out = {
        "arrays": (x, {"y": y, "batch_size": batch_size, "shuffle": True}),
        "pydataset": (ds(x, y, batch_size, seed), {"shuffle": False}),
        "pydataset_workers2": (ds(x, y, batch_size, seed, workers=2), {"shuffle": False}),
        "generator": (generator(x, y, batch_size, seed), {"steps_per_epoch": steps}),
    }
    try:
        import torch
        from torch.utils.data import DataLoader, TensorDataset
    except ImportError:
        return out
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                        batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    out["torch_dataloader"] = (loader, {})
    return out


def run_speed(args):
    import nncore

    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.samples)]
    variants = pipelines(x, y, args.batch_size, seed=0)
    models = {}
    for name in variants:
        nncore.set_seed(0)
        models[name] = seed_cnn()
    best = {name: float("inf") for name in variants}
    names = list(variants)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:   # rotating order
            data, kw = variants[name]
            t0 = time.perf_counter()
            models[name].fit(data, epochs=1, verbose=0, **kw)
            best[name] = min(best[name], time.perf_counter() - t0)
    base = best["arrays"]
    print(f"# seed CNN, {args.samples} samples, batch {args.batch_size}, fastest of "
          f"{args.rounds} interleaved rounds; cpu {nncore.info()['cpu']}, isa {nncore.info()['isa']}, "
          f"threads {nncore.get_num_threads()}, load {os.getloadavg()[0]:.2f}")
    print("| pipeline | s/epoch | vs arrays |\n|---|---:|---:|")
    for name in names:
        print(f"| {name} | {best[name]:.3f} | {best[name] / base:.3f} |")
    return {"samples": args.samples, "batch_size": args.batch_size, "rounds": args.rounds,
            "seconds": best, "ratio": {k: v / base for k, v in best.items()}}


def run_accuracy(args):
    import nncore

    (x_train, y_train), (x_test, y_test) = nncore.datasets.cifar10.load_data(
        args.data_dir, download=False)
    x = (x_train / 255.0).astype(np.float32)
    y = nncore.to_categorical(y_train, 10)
    xt = (x_test / 255.0).astype(np.float32)
    yt = nncore.to_categorical(y_test, 10)
    results = {}
    for name, (data, kw) in pipelines(x, y, 32, seed=args.seed).items():
        nncore.set_seed(args.seed)
        model = seed_cnn()
        t0 = time.perf_counter()
        hist = model.fit(data, epochs=args.epochs, validation_data=(xt, yt), verbose=0, **kw)
        seconds = time.perf_counter() - t0
        results[name] = {"val_accuracy": hist.history["val_accuracy"][-1],
                         "seconds_per_epoch": seconds / args.epochs}
        print(f"{name:20s} val_accuracy {results[name]['val_accuracy']:.4f}   "
              f"{seconds / args.epochs:.2f} s/epoch", flush=True)
    base = results["arrays"]["val_accuracy"]
    for name, r in results.items():
        print(f"{name:20s} differs from arrays by {r['val_accuracy'] - base:+.4f}")
    return {"epochs": args.epochs, "seed": args.seed, "results": results}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--samples", type=int, default=20_000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--accuracy", action="store_true")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="where to write the results (default: bench/results/)")
    args = p.parse_args(argv)
    result = run_accuracy(args) if args.accuracy else run_speed(args)
    out = pathlib.Path(args.json) if args.json else RESULTS_DIR / (
        "pipeline_accuracy.json" if args.accuracy else "pipeline.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
