"""Layers that merge several inputs: Add (residual connections), Subtract, Multiply, Average,
Maximum, Minimum (element-wise, inputs of one shape) and Concatenate."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import register
from .activation_layers import FUSABLE
from .base import Layer


def _same_shapes(layer, shapes):
    first = tuple(shapes[0])
    for s in shapes[1:]:
        if len(s) != len(first) or any(a is not None and b is not None and a != b
                                       for a, b in zip(first[1:], s[1:])):
            raise ShapeError(
                f"{type(layer).__name__} '{layer.name}' needs inputs of one shape (inputs have "
                f"incompatible shapes), got "
                f"{', '.join(str(tuple(x)) for x in shapes)}"
            )
    return first


class _Merge(Layer):
    """An element-wise merge of inputs of one shape."""

    multi_input = True

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # eager calls check their shapes here
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs at least 2 inputs, got "
                             f"{len(input_shape)}")
        return _same_shapes(self, input_shape)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _sum(xs, act):
    """act(xs[0] + xs[1] + ...): threaded kernels for float arrays of one shape and dtype (the
    activation applied in the last addition's pass), NumPy's broadcasting sum otherwise."""
    a = xs[0]
    if all(isinstance(x, np.ndarray) and x.dtype in _FLOATS and x.dtype == a.dtype and
           x.shape == a.shape for x in xs):
        out = ops.add_act(a, xs[1], act if len(xs) == 2 else None)
        for k, x in enumerate(xs[2:], start=3):
            ops.add_act(out, x, act if k == len(xs) else None, out=out)
        return out
    out = xs[0] + xs[1]
    for x in xs[2:]:
        out += x
    return out if act is None else FUSABLE[act][0](out)


@register("layer")
class Add(_Merge):
    """Element-wise sum of its inputs (all of one shape)."""

    # A following ReLU / ReLU6 this layer applies in its next forward call (models/bn_fusion.py):
    # one pass over the sum instead of two, and the activation's mask applied in backward here.
    _fuse_next = None

    def forward(self, xs, training=False):
        armed, self._fuse_next = self._fuse_next, None
        act = armed.activation if armed is not None else None
        out = _sum(xs, act)
        self._cache = (len(xs), act, out if act is not None else None)
        if armed is not None:
            armed.layer._prefused = out
        return out

    def backward(self, grad_out):
        count, act, y = self._cache
        if act is not None:
            grad_out = FUSABLE[act][1](grad_out, y)
        # Every input receives the same gradient; the model never writes into gradients it got.
        return [grad_out] * count


@register("layer")
class Concatenate(Layer):
    """Joins its inputs along ``axis`` (default the last, channels)."""

    multi_input = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"Concatenate: axis must be an int, got {axis!r}")
        self.axis = int(axis)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # eager calls check their shapes here
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"Concatenate '{self.name}' needs at least 2 inputs, got {len(input_shape)}")
        rank = len(input_shape[0])
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"Concatenate '{self.name}': cannot concatenate along the batch axis")
        total = 0
        for s in input_shape:
            if len(s) != rank or any(i != axis and a is not None and b is not None and a != b
                                     for i, (a, b) in enumerate(zip(input_shape[0], s)) if i > 0):
                raise ShapeError(
                    f"Concatenate '{self.name}' (axis={self.axis}) requires inputs with matching "
                    f"shapes except for the concatenation axis, got "
                    f"{', '.join(str(tuple(x)) for x in input_shape)}"
                )
            total = None if total is None or s[axis] is None else total + s[axis]
        out = list(input_shape[0])
        out[axis] = total
        return tuple(out)

    def forward(self, xs, training=False):
        axis = self.axis % xs[0].ndim
        self._cache = (axis, np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    def backward(self, grad_out):
        axis, splits = self._cache
        return np.split(grad_out, splits, axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register("layer")
class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: "
                             f"{len(input_shape)} input(s) (layer '{self.name}')")
        return super().compute_output_shape(input_shape)

    def forward(self, xs, training=False):
        return xs[0] - xs[1]

    def backward(self, grad_out):
        return [grad_out, -grad_out]


@register("layer")
class Multiply(_Merge):
    """Element-wise product of its inputs."""

    def forward(self, xs, training=False):
        self._cache = xs
        out = xs[0] * xs[1]
        for x in xs[2:]:
            out *= x
        return out

    def backward(self, grad_out):
        xs = self._cache
        grads = []
        for i in range(len(xs)):
            g = grad_out.copy()
            for j, x in enumerate(xs):
                if j != i:
                    g *= x
            grads.append(g)
        return grads


@register("layer")
class Average(_Merge):
    """Element-wise mean of its inputs."""

    def forward(self, xs, training=False):
        self._cache = len(xs)
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        out *= out.dtype.type(1.0 / len(xs))
        return out

    def backward(self, grad_out):
        g = grad_out * grad_out.dtype.type(1.0 / self._cache)
        return [g] * self._cache


class _Extremum(_Merge):
    _pick = None  # np.argmax or np.argmin: the first input reaching the extremum gets the gradient

    def forward(self, xs, training=False):
        stacked = np.stack(xs)
        winner = type(self)._pick(stacked, axis=0)
        self._cache = (winner, len(xs))
        return np.take_along_axis(stacked, winner[None], axis=0)[0]

    def backward(self, grad_out):
        winner, n = self._cache
        zero = grad_out.dtype.type(0)
        return [np.where(winner == i, grad_out, zero) for i in range(n)]


@register("layer")
class Maximum(_Extremum):
    """Element-wise maximum of its inputs."""

    _pick = np.argmax


@register("layer")
class Minimum(_Extremum):
    """Element-wise minimum of its inputs."""

    _pick = np.argmin
