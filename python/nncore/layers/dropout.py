"""Dropout: zeroes a random fraction ``rate`` of the inputs while training, scaling the rest by
1 / (1 - rate) so that inference needs no change (inverted dropout, as Keras)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import ops, random
from ..errors import ShapeError
from ..serialization import register
from .base import Layer


def _noise_shape(noise_shape):
    if noise_shape is None:
        return None
    if isinstance(noise_shape, (str, bytes)) or not hasattr(noise_shape, "__iter__"):
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected a tuple or list of "
            f"integers. Received: noise_shape={noise_shape!r}")
    dims = tuple(noise_shape)
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral)):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all elements to be "
                f"integers or None. Received: noise_shape={noise_shape!r}")
        if d is not None and d <= 0:
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all dimensions to be "
                f"positive integers or None. Received: noise_shape={noise_shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


@register("layer")
class Dropout(Layer):
    """Keras semantics; ``noise_shape`` broadcasts one mask over some axes (None entries take the
    input's size), ``seed`` makes the masks repeatable (else drawn from ``nncore.set_seed``)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        # Keras also allows rate=1, which scales the kept units by 1/0; nothing would be kept.
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1 (1 excluded). Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = _noise_shape(noise_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError(f"Dropout: seed must be None or a non-negative int, got {seed!r}")
        self.seed = seed
        self._rng = random.make_generator(seed)

    def _mask_shape(self, x_shape):
        if len(self.noise_shape) != len(x_shape) or any(
                d is not None and d != 1 and d != n for d, n in zip(self.noise_shape, x_shape)):
            raise ShapeError(
                f"Dropout '{self.name}': noise_shape {self.noise_shape} does not broadcast to "
                f"input shape {tuple(x_shape)} (each entry must be None, 1 or the input's size)")
        return tuple(n if d is None else d for d, n in zip(self.noise_shape, x_shape))

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._cache = None
            return x
        seed = int(self._rng.integers(0, 2**63 - 1))
        if self.noise_shape is None:
            y, mask = ops.dropout(x, self.rate, seed)
            self._cache = ("op", mask)
            return y
        shape = self._mask_shape(x.shape)
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


@register("layer")
class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps: while training, each channel of each sample is zeroed with
    probability ``rate`` (the kept ones scaled by 1 / (1 - rate)); identity at inference. For
    convolution outputs, whose neighbouring pixels are strongly correlated (Tompson et al., 2014)."""

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        from .conv import standardize_data_format

        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = standardize_data_format(data_format, "SpatialDropout2D")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"SpatialDropout2D '{self.name}' expects a 4-D input, got shape "
                             f"{tuple(input_shape)}")
        return tuple(input_shape)

    def _check_eager_input(self, x) -> None:
        self.compute_output_shape(np.shape(x))

    def _mask_shape(self, x_shape):
        n, a, _, _ = x_shape
        return (n, a, 1, 1) if self.data_format == "channels_first" else (n, 1, 1, x_shape[3])

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._cache = None
            return x
        seed = int(self._rng.integers(0, 2**63 - 1))
        keep = np.random.default_rng(seed).random(self._mask_shape(x.shape)) >= self.rate
        scale = (keep / (1.0 - self.rate)).astype(x.dtype)
        self._cache = ("broadcast", scale)
        return x * scale

    def get_config(self):
        # Keras' keys: its constructor takes no `trainable` or `noise_shape`.
        config = {"name": self.name, "dtype": self.dtype.name, "rate": self.rate, "seed": self.seed,
                  "data_format": self.data_format}
        if self._declared_input_shape is not None:
            config["batch_input_shape"] = list(self._declared_input_shape)
        return config
