"""Flatten and Reshape: views of the batch, no copies."""

from __future__ import annotations

import math

from ..errors import ShapeError
from ..serialization import register
from .base import Layer


@register("layer")
class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...), in C order as Keras' channels_last Flatten."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: data_format={data_format!r} is not supported")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def forward(self, x, training=False):
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        return grad_out.reshape(self._cache)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


@register("layer")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d < -1 or d == 0 for d in self.target_shape):
            raise ValueError(f"Reshape: invalid target_shape {target_shape!r}")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0], *[None if d == -1 else d for d in self.target_shape])
        total = math.prod(rest)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if total % known:
                raise ShapeError(
                    f"Reshape '{self.name}': cannot reshape input shape {tuple(input_shape)} "
                    f"to {self.target_shape}"
                )
            target = tuple(total // known if d == -1 else d for d in self.target_shape)
        else:
            target = self.target_shape
        if math.prod(target) != total:
            raise ShapeError(
                f"Reshape '{self.name}': input shape {tuple(input_shape)} has {total} values per "
                f"sample, target_shape {self.target_shape} has {math.prod(target)}"
            )
        return (input_shape[0], *target)

    def forward(self, x, training=False):
        self._cache = x.shape
        return x.reshape(x.shape[0], *self.target_shape)

    def backward(self, grad_out):
        return grad_out.reshape(self._cache)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
