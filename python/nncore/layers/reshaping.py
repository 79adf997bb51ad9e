"""Flatten and Reshape: views of the batch, no copies."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..serialization import register
from .base import Layer
from .conv import shape_to_last, standardize_data_format


@register("layer")
class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...), in C order as Keras' channels_last Flatten;
    with data_format="channels_first" the channel axis (1) is moved last first, as in Keras, so
    that both layouts give the same vector."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, "Flatten")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def _check_eager_input(self, x) -> None:
        # Stateless: any input of rank >= 1 flattens, whatever it was first called with (Keras).
        if np.ndim(x) < 1:
            raise ShapeError(f"Flatten '{self.name}' needs an input with a batch axis, got a scalar")

    def _moves_channels(self, ndim) -> bool:
        return self.data_format == "channels_first" and ndim >= 3

    def forward(self, x, training=False):
        self._cache = x.shape
        if self._moves_channels(x.ndim):
            x = np.moveaxis(x, 1, -1)
        # A contiguous result (free for a contiguous x), never a view over a broadcast input.
        return np.ascontiguousarray(x).reshape(x.shape[0], -1)

    def _inference_step(self, x_shape, dtype):
        """For an inference plan (``models.inference_plan``): the forward without keeping the
        shape for backward."""
        if type(self).forward is not Flatten.forward or "forward" in self.__dict__ or \
                self.data_format == "channels_first" or not x_shape:
            return None
        contiguous = np.ascontiguousarray
        return lambda x: contiguous(x).reshape(x.shape[0], -1)

    def backward(self, grad_out):
        shape = self._cache
        if self._moves_channels(len(shape)):
            return np.moveaxis(grad_out.reshape(shape_to_last(shape)), -1, 1)
        return grad_out.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@register("layer")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)):
            target_shape = (target_shape,)
        try:
            dims = tuple(target_shape)
        except TypeError:
            raise ValueError(f"Reshape: target_shape must be a tuple of ints, got {target_shape!r}") from None
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims):
            raise ValueError(f"Reshape: target_shape must be a tuple of ints, got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in dims)
        if any(d < -1 for d in self.target_shape):
            raise ValueError(
                "Reshape: each entry of target_shape must be a non-negative integer or -1 (one "
                f"unknown dimension). Received: target_shape={self.target_shape}")
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(
                "Reshape: target_shape can have at most one unknown dimension (-1). Received: "
                f"target_shape={self.target_shape}")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0], *[None if d == -1 else d for d in self.target_shape])
        total = math.prod(rest)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or total % known:
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

    def _check_eager_input(self, x) -> None:
        # Stateless: with a -1 entry, inputs of other sizes reshape too (Keras); the target
        # shape must still hold the values of each sample.
        self._output_shape((None, *np.shape(x)[1:]))

    def forward(self, x, training=False):
        self._cache = x.shape
        return np.ascontiguousarray(x).reshape(x.shape[0], *self.target_shape)

    def backward(self, grad_out):
        return grad_out.reshape(self._cache)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
