"""UpSampling2D: each image enlarged by integer factors, by repeating pixels ("nearest") or by
bilinear interpolation with half-pixel centers (Keras' ``ops.image.resize`` without antialiasing,
as torch's ``interpolate(align_corners=False)`` and ``jax.image.resize``). float32 and float64
images run on the C++ kernels (nncore.ops.upsample2d); the NumPy forms below serve other dtypes
and give the same bits."""

from __future__ import annotations

import numbers

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import register
from .base import Layer
from .conv import standardize_data_format, to_first, to_last

_INTERPOLATIONS = ("nearest", "bilinear")
_KERAS_ONLY = ("bicubic", "lanczos3", "lanczos5", "area")


def _size(value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * 2
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = ()
        if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                       for v in values):
            raise ValueError(f"UpSampling2D: the `size` argument must be a tuple of 2 integers. "
                             f"Received size={value!r}")
        values = tuple(int(v) for v in values)
    bad = {v for v in values if v <= 0}
    if bad:
        raise ValueError(f"UpSampling2D: the `size` argument must be a tuple of 2 integers. Received "
                         f"size={value!r}, including values {bad} that do not satisfy `value > 0`")
    return values


@register("layer")
class UpSampling2D(Layer):
    """Repeats rows ``size[0]`` times and columns ``size[1]`` times (``interpolation="nearest"``)
    or interpolates bilinearly between pixel centers (``"bilinear"``)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, "UpSampling2D")
        self.size = _size(size)
        if not isinstance(interpolation, str):
            raise ValueError(f"UpSampling2D: `interpolation` must be a string, got {interpolation!r}")
        self.interpolation = interpolation.lower()
        if self.interpolation in _KERAS_ONLY:
            raise ValueError(f"UpSampling2D: interpolation={interpolation!r} is not supported; "
                             f"use one of {_INTERPOLATIONS}")
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"UpSampling2D: invalid interpolation {interpolation!r}; expected one "
                             f"of {_INTERPOLATIONS}")

    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"UpSampling2D '{self.name}' expects a 4-D input, got shape "
                             f"{tuple(input_shape)}")
        out = list(input_shape)
        for axis, s in zip(self._spatial_axes(), self.size):
            if out[axis] is not None:
                out[axis] = out[axis] * s
        return tuple(out)

    def _check_eager_input(self, x) -> None:
        # Stateless: any image size works, whatever the layer was first called with (Keras).
        self.compute_output_shape(np.shape(x))

    def forward(self, x, training=False):
        # Layers compute in float32 or float64, both of which the C++ kernels take.
        first = self.data_format == "channels_first"
        y = ops.upsample2d(to_last(x) if first else x, self.size, self.interpolation)
        return to_first(y) if first else y

    def backward(self, grad_out):
        first = self.data_format == "channels_first"
        dx = ops.upsample2d_backward(to_last(grad_out) if first else grad_out, self.size,
                                     self.interpolation)
        return to_first(dx) if first else dx

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}
