"""Rescaling: ``x * scale + offset``, a fixed affine map (e.g. pixels from [0, 255] to [0, 1])."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ShapeError
from ..serialization import register
from .base import Layer


def _factor(value, name):
    """A float, or a list of floats for an array (broadcast against the input's last axes)."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        # Keras' serialization of a NumPy array.
        value = value.get("config", {}).get("value")
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    try:
        arr = None if value is None else np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"Rescaling: `{name}` must be a finite number or a non-empty array of "
                         f"finite numbers, got {value!r}")
    return float(arr) if arr.ndim == 0 else arr.tolist()


@register("layer")
class Rescaling(Layer):
    """``y = x * scale + offset``; ``scale`` and ``offset`` are numbers or arrays broadcast against
    the trailing axes of the input (per-channel values for channels_last images). Not trained."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _factor(scale, "scale")
        self.offset = _factor(offset, "offset")

    def _arrays(self, dtype):
        return np.asarray(self.scale, dtype=dtype), np.asarray(self.offset, dtype=dtype)

    def compute_output_shape(self, input_shape):
        scale, offset = self._arrays(np.float64)
        for name, arr in (("scale", scale), ("offset", offset)):
            # A factor must not enlarge the input: its shape broadcasts *into* the input's.
            if arr.ndim > len(input_shape) or any(
                    a != 1 and d is not None and a != d
                    for a, d in zip(arr.shape[::-1], tuple(input_shape)[::-1])):
                raise ShapeError(f"Rescaling '{self.name}': {name} of shape {arr.shape} does not "
                                 f"broadcast to the input shape {tuple(input_shape)}")
        return tuple(input_shape)

    def _check_eager_input(self, x) -> None:
        # Stateless: any input the factors broadcast to.
        self._output_shape(np.shape(x))

    def forward(self, x, training=False):
        scale, offset = self._arrays(x.dtype)
        self._cache = scale
        return (x * scale + offset).astype(x.dtype, copy=False)

    def backward(self, grad_out):
        return (grad_out * self._cache).astype(grad_out.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
