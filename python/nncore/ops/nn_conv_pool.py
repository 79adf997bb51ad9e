"""``keras.ops`` convolution and pooling (2-D spatial) on the C++ kernels, with their VJPs.

Inputs are ``(N, H, W, C)`` (``data_format="channels_last"`` or None, Keras' default) or
``(N, C, H, W)`` (``"channels_first"``: transposed to channels-last around the kernels); kernels
are ``(KH, KW, C_in, C_out)`` in both cases, as in Keras. Other spatial ranks raise
``nncore.ShapeError`` (nncore has no 1-D or 3-D kernels). ``padding`` is ``"valid"`` or ``"same"`` (TensorFlow's rule).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..autodiff.tape import lift, record
from ..errors import ShapeError
from . import _conv, _pool
from .nn_activations import grad_as

__all__ = ["conv", "depthwise_conv", "max_pool", "average_pool"]


def _channels_first(data_format, op):
    if data_format is None or data_format == "channels_last":
        return False
    if data_format == "channels_first":
        return True
    raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got "
                     f"{data_format!r}")


def _padding(padding, op):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def _rank4(x, op, name="inputs"):
    ndim = np.ndim(x)
    if ndim == 4:
        return
    if ndim in (3, 5):
        raise ShapeError(
            f"{op}: only 2-D spatial inputs (rank 4, (N, H, W, C)) run on nncore's kernels; "
            f"'{name}' has rank {ndim} ({ndim - 2}-D)")
    raise ValueError(f"{op}: '{name}' must have rank 4 (batch, 2 spatial axes, channels), got "
                     f"shape {np.shape(x)}")


@contextlib.contextmanager
def _keras_names(**names):
    """Errors of the kernels name their arguments (``x``, ``w``): re-raised with Keras' names
    (``inputs``, ``kernel``), so the message points at what the caller passed."""
    try:
        yield
    except (ValueError, TypeError, MemoryError) as exc:
        msg = str(exc)
        for kernel_name, public in names.items():
            msg = msg.replace(f"'{kernel_name}'", f"'{public}'")
        if msg == str(exc):
            raise
        raise type(exc)(msg) from exc


def _to_last(x):
    return np.transpose(x, (0, 2, 3, 1))


def _to_first(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution of Keras, for N = 2: ``inputs`` ``(N, H, W, C_in)`` (or channels-first),
    ``kernel`` ``(KH, KW, C_in, C_out)``; strides and dilation_rate an int or a pair."""
    x, nx = lift(inputs)
    w, nw = lift(kernel)
    first = _channels_first(data_format, "conv")
    padding = _padding(padding, "conv")
    _rank4(x, "conv")
    if np.ndim(w) != 4:
        raise ValueError(f"conv: 'kernel' must have rank 4 (KH, KW, C_in, C_out) for rank-4 "
                         f"inputs, got shape {np.shape(w)}")
    xl = _to_last(x) if first else x
    cin = np.shape(xl)[3]
    if w.shape[2] != cin and w.shape[2] and cin % w.shape[2] == 0:
        raise ShapeError(
            f"conv: grouped convolution (inputs with {cin} channels, a kernel for {w.shape[2]}) "
            "is not supported")
    geom = dict(strides=strides, padding=padding, dilation=dilation_rate)
    with _keras_names(x="inputs", w="kernel"):
        y = _conv.conv2d(xl, w, **geom)
    if first:
        y = _to_first(y)
    if nx is None and nw is None:
        return y
    xl = _conv.fast_array(xl, "inputs")

    def vjp(g, need):
        g = grad_as(g, y.dtype)
        if first:
            g = _to_last(g)
        dx = dw = None
        if need[0]:
            dx = _conv.conv2d_backward_input(g, w, xl.shape, **geom)
            if first:
                dx = _to_first(dx)
        if need[1]:
            dw = _conv.conv2d_backward_weight(xl, g, w.shape, **geom)
        return dx, dw
    return record(y, (nx, nw), vjp)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise 2-D convolution: ``kernel`` ``(KH, KW, C, M)`` filters each input channel
    ``c`` on its own into the output channels ``c * M ... c * M + M - 1`` (Keras' order).

    Runs the convolution kernel once per input channel: fine for the channel counts of small
    models, slower than a dedicated kernel for wide layers.
    """
    x, nx = lift(inputs)
    w, nw = lift(kernel)
    first = _channels_first(data_format, "depthwise_conv")
    padding = _padding(padding, "depthwise_conv")
    _rank4(x, "depthwise_conv")
    if np.ndim(w) != 4:
        raise ValueError(f"depthwise_conv: 'kernel' must have rank 4 (KH, KW, C, multiplier), "
                         f"got shape {np.shape(w)}")
    xl = _to_last(x) if first else x
    n, h, wd, c = np.shape(xl)
    if w.shape[2] != c:
        raise ValueError(f"depthwise_conv: 'inputs' has {c} channels but 'kernel' with shape "
                         f"{w.shape} is for {w.shape[2]}")
    m = w.shape[3]
    geom = dict(strides=strides, padding=padding, dilation=dilation_rate)
    xs = [np.ascontiguousarray(xl[..., i:i + 1]) for i in range(c)]
    ws = [np.ascontiguousarray(w[:, :, i:i + 1, :]) for i in range(c)]
    with _keras_names(x="inputs", w="kernel"):
        parts = [_conv.conv2d(xs[i], ws[i], **geom) for i in range(c)]
    if parts:
        y = np.concatenate(parts, axis=3)
    else:
        y = _conv.conv2d(xl, np.zeros(w.shape[:2] + (0, 0), w.dtype), **geom)
    if first:
        y = _to_first(y)
    if nx is None and nw is None:
        return y

    def vjp(g, need):
        g = grad_as(g, y.dtype)
        if first:
            g = _to_last(g)
        gs = [np.ascontiguousarray(g[..., i * m:(i + 1) * m]) for i in range(c)]
        dx = dw = None
        if need[0]:
            dx = np.concatenate([_conv.conv2d_backward_input(gs[i], ws[i], xs[i].shape, **geom)
                                 for i in range(c)], axis=3) if c else np.zeros((n, h, wd, 0), g.dtype)
            if first:
                dx = _to_first(dx)
        if need[1]:
            dw = np.concatenate([_conv.conv2d_backward_weight(xs[i], gs[i], ws[i].shape, **geom)
                                 for i in range(c)], axis=2) if c else np.zeros(w.shape, g.dtype)
        return dx, dw
    return record(y, (nx, nw), vjp)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over 2-D windows (``strides=None``: ``pool_size``); padding never wins."""
    x, nx = lift(inputs)
    first = _channels_first(data_format, "max_pool")
    padding = _padding(padding, "max_pool")
    _rank4(x, "max_pool")
    xl = _to_last(x) if first else x
    geom = dict(strides=strides, padding=padding)
    with _keras_names(x="inputs"):
        if nx is None:
            y = _pool.max_pool2d(xl, pool_size, **geom)
            return _to_first(y) if first else y
        y, argmax = _pool.max_pool2d_with_argmax(xl, pool_size, **geom)
    x_shape = np.shape(xl)
    if first:
        y = _to_first(y)

    def vjp(g, need):
        g = grad_as(g, y.dtype)
        if first:
            g = _to_last(g)
        dx = _pool.max_pool2d_backward_argmax(g, argmax, x_shape, pool_size=pool_size, **geom)
        return (_to_first(dx) if first else dx,)
    return record(y, (nx,), vjp)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over 2-D windows; with ``"same"`` border windows average only the input
    elements they cover (TensorFlow's rule)."""
    x, nx = lift(inputs)
    first = _channels_first(data_format, "average_pool")
    padding = _padding(padding, "average_pool")
    _rank4(x, "average_pool")
    xl = _to_last(x) if first else x
    geom = dict(strides=strides, padding=padding)
    with _keras_names(x="inputs"):
        y = _pool.avg_pool2d(xl, pool_size, **geom)
    if first:
        y = _to_first(y)
    if nx is None:
        return y
    x_shape = np.shape(xl)

    def vjp(g, need):
        g = grad_as(g, y.dtype)
        if first:
            g = _to_last(g)
        dx = _pool.avg_pool2d_backward(g, x_shape, pool_size, **geom)
        return (_to_first(dx) if first else dx,)
    return record(y, (nx,), vjp)
