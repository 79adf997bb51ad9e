"""What every example shares: its command line, its output folder, data loading, saving figures.

Each example runs as ``python examples/NN_name.py [--epochs E] [--quick] [--out DIR]`` and writes
its figures (PNG) and logs under ``--out`` (default ``examples/output/<name>/``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import nncore
from nncore.callbacks import Callback

HERE = Path(__file__).resolve().parent


def parse_args(name: str, description: str, default_epochs: int, argv=None, extra=None):
    """The shared options; ``extra(parser)`` adds an example's own."""
    p = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    p.add_argument("--epochs", type=int, default=None,
                   help=f"training epochs (default {default_epochs}; fewer with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="a small subset and few epochs: finishes in seconds (for tests)")
    p.add_argument("--out", default=None, help=f"output folder (default examples/output/{name}/)")
    p.add_argument("--data-dir", default=None,
                   help="folder with the dataset files (default: $NNCORE_DATA_DIR, the user cache, download)")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    if extra is not None:
        extra(p)
    args = p.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        p.error(f"--epochs must be at least 1, got {args.epochs}")
    args.out = Path(args.out) if args.out else HERE / "output" / name
    args.out.mkdir(parents=True, exist_ok=True)
    if args.threads is not None:
        nncore.set_num_threads(args.threads)
    nncore.set_seed(args.seed)
    return args


def epochs(args, full: int, quick: int) -> int:
    if args.epochs is not None:
        return args.epochs
    return quick if args.quick else full


def _load(dataset: str, data_dir):
    from nncore.datasets import DatasetChecksumError, DatasetNotFoundError

    loader = getattr(nncore.datasets, dataset)
    try:
        return loader.load_data(data_dir=data_dir)
    except (DatasetNotFoundError, DatasetChecksumError) as exc:
        print(f"This example needs the {dataset} dataset, which is not available:\n{exc}", file=sys.stderr)
        sys.exit(2)


def load_mnist(args, n_train=None, n_test=None, channels=True):
    """MNIST scaled to [0, 1] as float32 (with a channel axis unless ``channels=False``, then
    flattened to 784), integer labels; the first ``n_train`` / ``n_test`` samples if given."""
    (x_train, y_train), (x_test, y_test) = _load("mnist", args.data_dir)
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]

    def prep(x):
        x = x.astype(np.float32) / np.float32(255.0)
        return x[..., None] if channels else x.reshape(len(x), -1)

    return (prep(x_train), y_train.astype(np.int64)), (prep(x_test), y_test.astype(np.int64))


def load_cifar10(args, n_train=None, n_test=None):
    """CIFAR-10 as ``keras.datasets`` returns it (uint8 images, labels of shape (n, 1)), cut to the
    first ``n_train`` / ``n_test`` samples if given. The shared copy's integrity warning (its
    images are partly decoded from JPEG) is shown once, as is."""
    (x_train, y_train), (x_test, y_test) = _load("cifar10", args.data_dir)
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


CIFAR10_LABELS = ["airplane", "automobile", "bird", "cat", "deer",
                  "dog", "frog", "horse", "ship", "truck"]


def save_figure(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"saved {path}")
    return path


def save_json(obj, path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, default=float)
        f.write("\n")
    print(f"saved {path}")
    return path


class EpochTimer(Callback):
    """Records the wall time of each epoch (``times``, seconds), validation included."""

    def __init__(self):
        super().__init__()
        self.times = []
        self._t0 = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t0)


def history_summary(history, timer=None) -> dict:
    """The last epoch's values, the best validation accuracy and the time per epoch."""
    h = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    out = {"final": {k: v[-1] for k, v in h.items() if v}, "history": h}
    if h.get("val_accuracy"):
        out["best_val_accuracy"] = max(h["val_accuracy"])
        out["best_epoch"] = int(np.argmax(h["val_accuracy"])) + 1
    if timer is not None and timer.times:
        out["seconds_per_epoch"] = [round(t, 3) for t in timer.times]
        out["median_seconds_per_epoch"] = float(np.median(timer.times))
    return out


def run_info() -> dict:
    facts = nncore.info()
    return {"nncore": facts["version"], "isa": facts["isa"], "threads": facts["threads"],
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}
