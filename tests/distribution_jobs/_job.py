"""What the distribution jobs share: the command line, the data, the model, and one result file
per process (``<out>/<tag>.rank<r>.npz``) that tests/test_distribution.py compares."""

from __future__ import annotations

import argparse
import os

import numpy as np

import nncore
from nncore import layers as L


def parse(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--tag", default="run")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--data", default="synthetic", help="'synthetic' or the folder holding mnist/")
    p.add_argument("--n", type=int, default=60000)
    p.add_argument("--no-distribution", action="store_true",
                   help="leave out initialize() and set_distribution() (plain nncore)")
    for args, kwargs in extra or []:
        p.add_argument(*args, **kwargs)
    a = p.parse_args()
    if not a.no_distribution:
        nncore.distribution.initialize()
        nncore.distribution.set_distribution(nncore.distribution.DataParallel())
    nncore.backend.set_floatx(a.dtype)
    return a


def rank() -> int:
    return nncore.distribution.process_index()


def data(a, n=None, split="train"):
    """``n`` rows of MNIST (flattened, scaled to [0, 1]) or of a synthetic set a linear teacher
    labels, so that training has something to learn either way."""
    n = a.n if n is None else n
    if a.data == "synthetic":
        rng = np.random.default_rng(0 if split == "train" else 1)
        x = rng.random((n, 784))
        teacher = np.random.default_rng(2).standard_normal((784, 10))
        y = np.argmax(x @ teacher + 0.5 * rng.standard_normal((n, 10)), axis=1)
    else:
        train, test = nncore.datasets.mnist.load_data(a.data, download=False)
        x, y = train if split == "train" else test
        x, y = x[:n].reshape(-1, 784) / 255.0, y[:n]
    assert len(x) == n, f"asked for {n} rows, the data has {len(x)}"
    return x.astype(a.dtype), y.astype(np.int64)


def mlp(a, width=64, synchronized=True, seed=7):
    nncore.set_seed(seed)
    model = nncore.Sequential([
        nncore.Input((784,), dtype=a.dtype),
        L.Dense(width, use_bias=False),
        L.BatchNormalization(synchronized=synchronized),
        L.Activation("relu"),
        L.Dense(10, activation="softmax"),
    ])
    model.compile(nncore.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def batch_norm(model):
    return next(layer for layer in model.layers if isinstance(layer, L.BatchNormalization))


def save(a, model=None, **arrays):
    """This process's results; the weights in model order as w0, w1, ..."""
    if model is not None:
        arrays.update({f"w{i}": w for i, w in enumerate(model.get_weights())})
        arrays["num_weights"] = np.array(len(model.get_weights()))
    arrays["nncore_file"] = np.array(os.path.abspath(nncore.__file__))
    arrays["process_count"] = np.array(nncore.distribution.process_count())
    path = os.path.join(a.out, f"{a.tag}.rank{rank()}.npz")
    np.savez(path, **arrays)


def history_arrays(history) -> dict:
    return {f"h_{k}": np.asarray(v, np.float64) for k, v in history.history.items()}

