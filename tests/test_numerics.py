"""Float32 training gradients of a small CNN (conv, pooling, several activations) stay within a
bounded distance of the float64 ones (the dense case is in test_reliability_numerics.py)."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L


def model(dtype):
    nncore.set_seed(0)
    inp = nncore.Input(shape=(8, 8, 3), dtype=dtype)
    h = L.Conv2D(5, 3, padding="same", activation="relu", dtype=dtype)(inp)
    h = L.MaxPool2D(2, dtype=dtype)(h)
    h = L.Conv2D(6, 3, activation="tanh", dtype=dtype)(h)
    h = L.Flatten(dtype=dtype)(h)
    h = L.Dense(16, activation="elu", dtype=dtype)(h)
    m = nncore.Model(inp, L.Dense(4, activation="softmax", dtype=dtype)(h))
    m.compile(optimizer=nncore.optimizers.SGD(learning_rate=1.0), loss="categorical_crossentropy")
    return m


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_float32_gradients_track_float64(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 8, 8, 3))
    y = np.eye(4)[rng.integers(0, 4, 16)]
    m64, m32 = model("float64"), model("float32")
    m32.set_weights([w.astype(np.float32) for w in m64.get_weights()])
    start = m64.get_weights()
    m64.train_on_batch(x, y)
    m32.train_on_batch(x.astype(np.float32), y.astype(np.float32))
    # With SGD at learning rate 1 a step subtracts the gradient itself.
    for w0, w64, w32 in zip(start, m64.get_weights(), m32.get_weights()):
        g64 = w0 - w64
        g32 = w0.astype(np.float32) - w32
        scale = np.abs(g64).max()
        assert scale > 0
        assert np.abs(g32 - g64).max() <= 1e-4 * scale
