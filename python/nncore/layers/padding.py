"""ZeroPadding2D and Cropping2D: rows and columns added at, or removed from, the image borders.
Each is the other's backward pass."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ShapeError
from ..serialization import register
from .base import Layer
from .conv import standardize_data_format


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _pair(value, what: str) -> tuple:
    """One (before, after) pair: an int (symmetric) or two non-negative ints."""
    if _is_int(value):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(value)
        except TypeError:
            pair = None
        if pair is None or len(pair) != 2 or not all(_is_int(v) for v in pair):
            raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. "
                             f"Received {what}={value!r}")
        pair = tuple(int(v) for v in pair)
    bad = {v for v in pair if v < 0}
    if bad:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. Received "
                         f"{what}={value!r}, including values {bad} that do not satisfy `value >= 0`")
    return pair


def standardize_borders(value, arg: str, layer: str) -> tuple:
    """``((top, bottom), (left, right))`` from an int, a pair (height, width) or a pair of pairs."""
    if _is_int(value):
        if value < 0:
            raise ValueError(f"{layer}: `{arg}` cannot be negative. Received: {arg}={value}.")
        return ((int(value),) * 2,) * 2
    if not hasattr(value, "__len__") or isinstance(value, (str, bytes)):
        raise ValueError(
            f"{layer}: `{arg}` should be either an int, a tuple of 2 ints (symmetric_height, "
            f"symmetric_width), or a tuple of 2 tuples of 2 ints ((top, bottom), (left, right)). "
            f"Received: {arg}={value!r}.")
    if len(value) != 2:
        raise ValueError(f"{layer}: `{arg}` should have two elements. Received: {arg}={value!r}.")
    return (_pair(value[0], f"1st entry of {arg}"), _pair(value[1], f"2nd entry of {arg}"))


class _Borders2D(Layer):
    """What padding and cropping share: the argument, the layout and the config."""

    _arg = ""

    def __init__(self, borders, data_format, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.data_format = standardize_data_format(data_format, name)
        setattr(self, self._arg, standardize_borders(borders, self._arg, name))

    def _borders(self):
        return getattr(self, self._arg)

    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def _check_rank(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{type(self).__name__} '{self.name}' expects a 4-D input, got shape "
                             f"{tuple(input_shape)}")

    def _check_eager_input(self, x) -> None:
        # Stateless: any image size works, whatever the layer was first called with (Keras).
        self._check_rank(np.shape(x))
        self.compute_output_shape(np.shape(x))

    def _window(self, full_shape):
        """The index of the inner (unpadded / kept) region within an array of ``full_shape``."""
        index = [slice(None)] * 4
        for axis, (before, after) in zip(self._spatial_axes(), self._borders()):
            index[axis] = slice(before, full_shape[axis] - after)
        return tuple(index)

    def get_config(self):
        return {**super().get_config(), self._arg: [list(p) for p in self._borders()],
                "data_format": self.data_format}


@register("layer")
class ZeroPadding2D(_Borders2D):
    """Adds zero rows at the top and bottom and zero columns at the left and right of each image.
    ``padding``: an int, ``(height, width)`` (symmetric) or ``((top, bottom), (left, right))``."""

    _arg = "padding"

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.padding):
            if out[axis] is not None:
                out[axis] = out[axis] + before + after
        return tuple(out)

    def forward(self, x, training=False):
        y = np.zeros(self._output_shape(x.shape), dtype=x.dtype)
        index = self._window(y.shape)
        y[index] = x
        self._cache = index
        return y

    def backward(self, grad_out):
        return np.ascontiguousarray(grad_out[self._cache])


@register("layer")
class Cropping2D(_Borders2D):
    """Removes rows at the top and bottom and columns at the left and right of each image.
    ``cropping``: an int, ``(height, width)`` (symmetric) or ``((top, bottom), (left, right))``;
    what is cropped away on an axis must leave at least one row (column)."""

    _arg = "cropping"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            if out[axis] is None:
                continue
            if before + after >= out[axis]:
                raise ShapeError(
                    f"Cropping2D '{self.name}': values in `cropping` should be smaller than the "
                    f"corresponding spatial dimension of the input. Received: input_shape="
                    f"{tuple(input_shape)}, cropping={self.cropping}")
            out[axis] = out[axis] - before - after
        return tuple(out)

    def forward(self, x, training=False):
        self._output_shape(x.shape)
        index = self._window(x.shape)
        self._cache = (index, x.shape)
        return np.ascontiguousarray(x[index])

    def backward(self, grad_out):
        index, shape = self._cache
        dx = np.zeros(shape, dtype=grad_out.dtype)
        dx[index] = grad_out
        return dx
