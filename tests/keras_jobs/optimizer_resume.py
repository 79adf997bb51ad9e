"""Keras' side of tests/test_keras_fixtures.py::test_optimizer_state_crosses_over (run with
KERAS_BACKEND=torch): for every ``a_<name>.keras`` in DIR (trained by nncore) one more
``train_on_batch``, weights to ``a_<name>.after.npz``; for every ``b_<name>.keras`` (compiled by
nncore, untrained) three steps, saved as ``b_<name>.trained.keras``, then one more step, weights
to ``b_<name>.after.npz``. The batch is ``data.npz`` (x, y)."""

import pathlib
import sys

import keras
import numpy as np


def weights(model):
    return {str(i): np.asarray(w) for i, w in enumerate(model.get_weights())}


def main(directory):
    d = pathlib.Path(directory)
    with np.load(d / "data.npz") as data:
        x, y = data["x"], data["y"]
    for path in sorted(d.glob("a_*.keras")):
        model = keras.saving.load_model(path)
        model.train_on_batch(x, y)
        np.savez(d / f"{path.stem}.after.npz", **weights(model))
    for path in sorted(d.glob("b_*.keras")):
        if path.stem.endswith(".trained"):
            continue
        model = keras.saving.load_model(path)
        for _ in range(3):
            model.train_on_batch(x, y)
        model.save(d / f"{path.stem}.trained.keras")
        model.train_on_batch(x, y)
        np.savez(d / f"{path.stem}.after.npz", **weights(model))
    print("done")


if __name__ == "__main__":
    main(sys.argv[1])
