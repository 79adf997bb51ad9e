"""Seeded random weights and inputs for whole models, shared by the tests that compare two ways
of running the same model (saved and reloaded, exported, planned)."""

from __future__ import annotations

import numpy as np


def randomize_weights(model, seed=0):
    """Seeded random weights, variances in [0.3, 2] (non-trivial BatchNormalization statistics)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "variance" in w.name:
            w.assign(rng.uniform(0.3, 2.0, w.value.shape).astype(w.value.dtype))
        else:
            w.assign((rng.standard_normal(w.value.shape) * 0.5).astype(w.value.dtype))
    return model


def random_inputs(model, batch, seed, dtype=None):
    """One standard-normal array per model input (a bare array for a single input), of the
    input's dtype unless ``dtype`` is given."""
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((batch, *t.shape[1:])).astype(t.dtype if dtype is None else dtype)
          for t in model.inputs]
    return xs if len(xs) > 1 else xs[0]
