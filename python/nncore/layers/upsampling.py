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


def linear_taps(n: int, factor: int, dtype):
    """For each of the ``n * factor`` outputs of one axis: the two source indices and the weight
    of the second. The source coordinate of output ``o`` is ``(o + 0.5) / factor - 0.5``, clamped
    at 0 (beyond the last pixel the second tap repeats the first)."""
    src = np.maximum((np.arange(n * factor) + 0.5) / factor - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (src - i0).astype(dtype)


def _sum_into(dx, idx, g, axis):
    """``dx[idx] += g`` along ``axis`` for a nondecreasing ``idx``: one reduceat per run of
    equal indices (repeated indices must add, which fancy-index assignment does not)."""
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    index = [slice(None)] * dx.ndim
    index[axis] = idx[starts]
    dx[tuple(index)] += np.add.reduceat(g, starts, axis=axis)


def _axis_shape(n, axis, ndim):
    shape = [1] * ndim
    shape[axis] = n
    return shape


def _interp_axis(x, taps, axis):
    i0, i1, w = taps
    w = w.reshape(_axis_shape(len(w), axis, x.ndim))
    a = np.take(x, i0, axis=axis)
    return a + (np.take(x, i1, axis=axis) - a) * w


def _interp_axis_backward(g, taps, axis, n):
    i0, i1, w = taps
    w = w.reshape(_axis_shape(len(w), axis, g.ndim))
    shape = list(g.shape)
    shape[axis] = n
    dx = np.zeros(shape, dtype=g.dtype)
    gw = g * w
    _sum_into(dx, i0, g - gw, axis)
    _sum_into(dx, i1, gw, axis)
    return dx


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
        first = self.data_format == "channels_first"
        xl = to_last(x) if first else x
        self._cache = xl.shape
        if xl.dtype in (np.float32, np.float64):
            y = ops.upsample2d(xl, self.size, self.interpolation)
            return to_first(y) if first else y
        n, h, w, c = xl.shape
        sh, sw = self.size
        if self.interpolation == "nearest":
            y = np.broadcast_to(xl[:, :, None, :, None, :], (n, h, sh, w, sw, c)).reshape(
                n, h * sh, w * sw, c)
        else:
            y = _interp_axis(xl, linear_taps(h, sh, xl.dtype), 1)
            y = _interp_axis(y, linear_taps(w, sw, xl.dtype), 2)
        return to_first(y) if first else np.ascontiguousarray(y)

    def backward(self, grad_out):
        first = self.data_format == "channels_first"
        g = to_last(grad_out) if first else grad_out
        n, h, w, c = self._cache
        sh, sw = self.size
        if g.dtype in (np.float32, np.float64):
            dx = ops.upsample2d_backward(g, self.size, self.interpolation)
        elif self.interpolation == "nearest":
            dx = g.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4))
        else:
            dx = _interp_axis_backward(g, linear_taps(w, sw, g.dtype), 2, w)
            dx = _interp_axis_backward(dx, linear_taps(h, sh, g.dtype), 1, h)
        dx = dx.astype(grad_out.dtype, copy=False)
        return to_first(dx) if first else dx

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}
