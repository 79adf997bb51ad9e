"""Dropout: zeroes a random fraction ``rate`` of the inputs while training, scaling the rest by
1 / (1 - rate) so that inference needs no change (inverted dropout, as Keras)."""

from __future__ import annotations

import numpy as np

from .. import ops, random
from ..serialization import register
from .base import Layer


@register("layer")
class Dropout(Layer):
    """Keras semantics; ``noise_shape`` broadcasts one mask over some axes (None entries take the
    input's size), ``seed`` makes the masks repeatable (else drawn from ``nncore.set_seed``)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = random.make_generator(seed)

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._cache = None
            return x
        seed = int(self._rng.integers(0, 2**63 - 1))
        if self.noise_shape is None:
            y, mask = ops.dropout(x, self.rate, seed)
            self._cache = ("op", mask)
            return y
        shape = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(self.noise_shape))
        keep = np.random.default_rng(seed).random(shape) >= self.rate
        scale = (keep / (1.0 - self.rate)).astype(x.dtype)
        self._cache = ("broadcast", scale)
        return x * scale

    def backward(self, grad_out):
        if self._cache is None:
            return grad_out
        kind, data = self._cache
        if kind == "op":
            return ops.dropout_backward(grad_out, data, self.rate)
        return grad_out * data

    def get_rng_state(self):
        return self._rng.bit_generator.state

    def set_rng_state(self, state):
        self._rng.bit_generator.state = state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                "seed": self.seed}
