"""2-D max / average pooling and global average pooling on NHWC inputs, forward and backward.

``pool_size`` and ``strides`` are an int or a pair ``(rows, cols)``; ``strides=None`` means
``strides = pool_size`` (Keras). ``padding`` is ``"valid"`` (windows inside the input) or
``"same"`` (TensorFlow rule: ``ceil(size / stride)`` outputs, the odd padding element at the
bottom/right). Padded positions are never part of a window's value: max pooling ignores them and
average pooling divides by the number of input elements in the window (as Keras does).
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _core
from ..errors import DTypeError, ShapeError
from ._conv import _check_out, _is_int, fast_array, resolve_padding, spatial_pair

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_argmax",
    "max_pool2d_with_argmax",
]


def _geometry_uncached(x_shape, pool_size, strides, padding, op):
    pool = spatial_pair(pool_size, "pool_size")
    stride = pool if strides is None else spatial_pair(strides, "strides")
    try:
        pads, out_hw = resolve_padding(padding, x_shape[1:3], pool, stride, op=op, allow_explicit=False)
    except ShapeError as exc:
        raise ShapeError(f"{exc}; the input has shape {tuple(x_shape)}, pool_size {pool}") from None
    return pool, stride, (pads[0], pads[2]), (x_shape[0], out_hw[0], out_hw[1], x_shape[3])


_geometry_cached = functools.lru_cache(maxsize=256)(_geometry_uncached)


def _geometry(x_shape, pool_size, strides, padding, op):
    """(pool, strides, (pad_top, pad_left), output shape); memoized for hashable arguments."""
    try:
        return _geometry_cached(x_shape, pool_size, strides, padding, op)
    except TypeError as exc:
        if "unhashable" not in str(exc):
            raise
    return _geometry_uncached(x_shape, pool_size, strides, padding, op)


def _require_4d(shape, name):
    if len(shape) != 4:
        raise ShapeError(f"argument '{name}' must be 4-D (NHWC), got shape {tuple(shape)}")


def _shape_of(x, name):
    """The shape of an array, or a shape given directly (backward passes need only the shape)."""
    if isinstance(x, np.ndarray):
        return x.shape
    try:
        shape = tuple(x)
    except TypeError:
        raise TypeError(f"argument '{name}' must be an array or a shape tuple, got {x!r}") from None
    if not all(_is_int(v) and v >= 0 for v in shape):
        raise ShapeError(f"argument '{name}' must be a shape of non-negative ints, got {x!r}")
    return tuple(int(v) for v in shape)


def _output(out, shape, dtype, name, *inputs):
    if out is None:
        return np.empty(shape, dtype), False
    return _check_out(out, shape, dtype, name, *inputs)


def _finish(out, result, copy_back):
    if copy_back:
        out[...] = result
        return out
    return result


def _check_grad_shape(grad_y, want, op, x_name, x_shape):
    if grad_y.shape != want:
        raise ShapeError(f"{op}: 'grad_y' has shape {grad_y.shape} but pooling '{x_name}' of shape "
                         f"{tuple(x_shape)} gives an output of shape {want}")


def max_pool2d(x, pool_size, *, strides=None, padding="valid", out=None):
    """Max pooling of an NHWC batch (Keras ``MaxPooling2D``).

    Args:
        x: ``(N, H, W, C)`` float32/float64.
        pool_size, strides, padding: see the module docstring (``strides=None``: ``pool_size``).
        out: optional ``(N, OH, OW, C)`` array to write into (returned).

    Returns:
        ``(N, OH, OW, C)``: the maximum of each window; a window holding NaN gives NaN.
    """
    x = fast_array(x, "x")
    _require_4d(x.shape, "x")
    pool, stride, pads, shape = _geometry(x.shape, pool_size, strides, padding, "max_pool2d")
    y, copy_back = _output(out, shape, x.dtype, "out", x)
    if y.size:
        _core.max_pool2d_forward(x, y, None, pool, stride, pads)
    return _finish(out, y, copy_back)


def max_pool2d_with_argmax(x, pool_size, *, strides=None, padding="valid"):
    """Max pooling that also returns where each maximum came from, for a one-pass backward.

    Returns:
        ``(y, argmax)``: ``y`` as ``max_pool2d``; ``argmax`` is int32 of ``y``'s shape holding, per
        output element, the flat index ``(h * W + w) * C + c`` of the chosen input element within
        its image (TensorFlow's ``max_pool_with_argmax`` with ``include_batch_in_index=False``).
        The first maximum in row-major window order wins ties; a NaN wins over numbers.
        Pass it to ``max_pool2d_backward_argmax``.
    """
    x = fast_array(x, "x")
    _require_4d(x.shape, "x")
    pool, stride, pads, shape = _geometry(x.shape, pool_size, strides, padding, "max_pool2d")
    y = np.empty(shape, x.dtype)
    argmax = np.empty(shape, np.int32)
    if y.size:
        _core.max_pool2d_forward(x, y, argmax, pool, stride, pads)
    return y, argmax


def max_pool2d_backward(grad_y, x, pool_size, *, strides=None, padding="valid", out=None):
    """Gradient of ``max_pool2d``: each ``grad_y`` element goes to its window's maximum in ``x``.

    Args:
        grad_y: ``(N, OH, OW, C)``. x: the forward input ``(N, H, W, C)`` (the argmax is
        recomputed from it; use ``max_pool2d_with_argmax`` to avoid that). pool_size, strides,
        padding: as in the forward call. out: optional ``x.shape`` array to write into.

    Returns:
        ``(N, H, W, C)``; gradients of overlapping windows add up. Ties go to the first maximum.
    """
    grad_y = fast_array(grad_y, "grad_y")
    x = fast_array(x, "x")
    if x.dtype != grad_y.dtype:
        raise DTypeError(f"argument 'x' has dtype {x.dtype} but 'grad_y' has dtype {grad_y.dtype}; "
                         "both must match")
    _require_4d(grad_y.shape, "grad_y")
    _require_4d(x.shape, "x")
    pool, stride, pads, shape = _geometry(x.shape, pool_size, strides, padding, "max_pool2d_backward")
    _check_grad_shape(grad_y, shape, "max_pool2d_backward", "x", x.shape)
    dx, copy_back = _output(out, x.shape, x.dtype, "out", x, grad_y)
    if dx.size:
        if grad_y.size:
            _core.max_pool2d_backward(grad_y, x, dx, pool, stride, pads)
        else:
            dx.fill(0)
    return _finish(out, dx, copy_back)


def max_pool2d_backward_argmax(grad_y, argmax, x_shape, *, out=None):
    """Gradient of max pooling from the ``argmax`` of ``max_pool2d_with_argmax`` (one pass).

    Args:
        grad_y: ``(N, OH, OW, C)``. argmax: int32 of the same shape. x_shape: ``(N, H, W, C)``.
        out: optional ``x_shape`` array to write into (returned).

    Returns:
        ``(N, H, W, C)`` holding each ``grad_y`` element added at its argmax position.
    """
    grad_y = fast_array(grad_y, "grad_y")
    _require_4d(grad_y.shape, "grad_y")
    x_shape = _shape_of(x_shape, "x_shape")
    _require_4d(x_shape, "x_shape")
    if not isinstance(argmax, np.ndarray) or argmax.dtype != np.int32:
        raise DTypeError(f"argument 'argmax' must be an int32 array (from max_pool2d_with_argmax), "
                         f"got {getattr(argmax, 'dtype', type(argmax).__name__)}")
    if argmax.shape != grad_y.shape:
        raise ShapeError(f"max_pool2d_backward_argmax: 'argmax' has shape {argmax.shape} but "
                         f"'grad_y' has shape {grad_y.shape}")
    if x_shape[0] != grad_y.shape[0] or x_shape[3] != grad_y.shape[3]:
        raise ShapeError(f"max_pool2d_backward_argmax: 'grad_y' with shape {grad_y.shape} does not "
                         f"match 'x_shape' {x_shape} in batch size and channels")
    argmax = np.require(argmax, requirements=("C", "A"))
    dx, copy_back = _output(out, x_shape, grad_y.dtype, "out", grad_y, argmax)
    if dx.size:
        _core.max_pool2d_backward_argmax(grad_y, argmax, dx)
    return _finish(out, dx, copy_back)


def avg_pool2d(x, pool_size, *, strides=None, padding="valid", out=None):
    """Average pooling of an NHWC batch (Keras ``AveragePooling2D``).

    Returns:
        ``(N, OH, OW, C)``: the mean of the input elements in each window (with ``"same"``,
        windows at the border average fewer elements: padding is not counted).
    """
    x = fast_array(x, "x")
    _require_4d(x.shape, "x")
    pool, stride, pads, shape = _geometry(x.shape, pool_size, strides, padding, "avg_pool2d")
    y, copy_back = _output(out, shape, x.dtype, "out", x)
    if y.size:
        _core.avg_pool2d_forward(x, y, pool, stride, pads)
    return _finish(out, y, copy_back)


def avg_pool2d_backward(grad_y, x, pool_size, *, strides=None, padding="valid", out=None):
    """Gradient of ``avg_pool2d``: each ``grad_y`` element spread evenly over its window.

    Args:
        grad_y: ``(N, OH, OW, C)``. x: the forward input or just its shape ``(N, H, W, C)``.
        pool_size, strides, padding: as in the forward call. out: optional array to write into.

    Returns:
        ``(N, H, W, C)`` in the dtype of ``grad_y``.
    """
    grad_y = fast_array(grad_y, "grad_y")
    _require_4d(grad_y.shape, "grad_y")
    x_shape = _shape_of(x, "x")
    _require_4d(x_shape, "x")
    pool, stride, pads, shape = _geometry(tuple(x_shape), pool_size, strides, padding,
                                          "avg_pool2d_backward")
    _check_grad_shape(grad_y, shape, "avg_pool2d_backward", "x", x_shape)
    dx, copy_back = _output(out, x_shape, grad_y.dtype, "out", grad_y)
    if dx.size:
        if grad_y.size:
            _core.avg_pool2d_backward(grad_y, dx, pool, stride, pads)
        else:
            dx.fill(0)
    return _finish(out, dx, copy_back)


def global_avg_pool2d(x, *, out=None):
    """Mean over height and width (Keras ``GlobalAveragePooling2D``): ``(N, H, W, C) -> (N, C)``.

    An image with no pixels (H or W zero) gives NaN, like ``numpy.mean`` of nothing.
    """
    x = fast_array(x, "x")
    _require_4d(x.shape, "x")
    shape = (x.shape[0], x.shape[3])
    y, copy_back = _output(out, shape, x.dtype, "out", x)
    if y.size:
        _core.global_avg_pool2d_forward(x, y)
    return _finish(out, y, copy_back)


def global_avg_pool2d_backward(grad_y, x_shape, *, out=None):
    """Gradient of ``global_avg_pool2d``: ``grad_y[n, c] / (H * W)`` at every pixel.

    Args:
        grad_y: ``(N, C)``. x_shape: ``(N, H, W, C)`` (an array is accepted for its shape).
    """
    grad_y = fast_array(grad_y, "grad_y")
    x_shape = _shape_of(x_shape, "x_shape")
    _require_4d(x_shape, "x_shape")
    if grad_y.shape != (x_shape[0], x_shape[3]):
        raise ShapeError(f"global_avg_pool2d_backward: 'grad_y' has shape {grad_y.shape} but "
                         f"'x_shape' {tuple(x_shape)} gives an output of shape "
                         f"{(x_shape[0], x_shape[3])}")
    dx, copy_back = _output(out, x_shape, grad_y.dtype, "out", grad_y)
    if dx.size:
        _core.global_avg_pool2d_backward(grad_y, dx)
    return _finish(out, dx, copy_back)
