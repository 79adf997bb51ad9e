"""2-D convolution on NHWC inputs with HWIO kernels (the Keras layouts), forward and backward.

Shapes: ``x`` is ``(N, H, W, C_in)``, ``w`` is ``(KH, KW, C_in, C_out)``, ``bias`` is ``(C_out,)``
and the output ``y`` is ``(N, OH, OW, C_out)``. ``strides`` and ``dilation`` are an int or a pair
``(rows, cols)``. ``padding`` is ``"valid"`` (no padding), ``"same"`` (Keras/TensorFlow rule:
``OH = ceil(H / stride)``, the padding is split evenly with the extra row/column at the
bottom/right) or explicit ``((top, bottom), (left, right))``.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from .. import _core
from ..errors import DTypeError, ShapeError
from ._checks import as_float_array, int_pair, same_dtype

__all__ = [
    "conv2d",
    "conv2d_backward_bias",
    "conv2d_backward_input",
    "conv2d_backward_weight",
]


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def fast_array(x, name: str) -> np.ndarray:
    """``as_float_array`` with a quick exit for the common case (a contiguous float ndarray): the
    training loop calls these ops thousands of times per epoch on small tensors."""
    if type(x) is np.ndarray and (x.dtype is _F32 or x.dtype is _F64) and x.flags.c_contiguous \
            and x.flags.aligned:
        return x
    return as_float_array(x, name)


_EXTENT_LIMIT = 2**31 - 1


def spatial_pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of ints >= 1 (strides, dilation, pool sizes); else ShapeError/TypeError."""
    try:
        return int_pair(value, name)
    except ValueError as exc:
        raise ShapeError(str(exc)) from None


def _is_int(v) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def resolve_padding(padding, in_hw, window_hw, strides, *, op: str, allow_explicit: bool = True,
                    extent_limit: int | None = _EXTENT_LIMIT):
    """Padding ``(top, bottom, left, right)`` and output size ``(OH, OW)`` of a sliding window.

    ``window_hw`` is the (dilated) window extent. ``"same"`` follows TensorFlow: the output has
    ``ceil(in / stride)`` positions, the total padding is ``max((out - 1) * stride + window - in,
    0)`` and the bottom/right side gets the odd element. Raises ShapeError when the window does not
    fit into the (padded) input.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            pads = (0, 0, 0, 0)
        elif mode == "same":
            pads = []
            for size, k, s in zip(in_hw, window_hw, strides):
                out = -(-size // s)
                total = max((out - 1) * s + k - size, 0)
                pads += [total // 2, total - total // 2]
            if 0 in in_hw:  # nothing to slide over: an empty output, no padding
                return (0, 0, 0, 0), (-(-in_hw[0] // strides[0]), -(-in_hw[1] // strides[1]))
            pads = tuple(pads)
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same'" +
                             (" or ((top, bottom), (left, right))" if allow_explicit else "") +
                             f", got {padding!r}")
    elif allow_explicit:
        try:
            (t, b), (l, r) = padding
        except (TypeError, ValueError):
            raise ValueError(f"{op}: padding must be 'valid', 'same' or ((top, bottom), (left, "
                             f"right)), got {padding!r}") from None
        if not all(_is_int(v) for v in (t, b, l, r)):
            raise TypeError(f"{op}: explicit padding must hold ints, got {padding!r}")
        pads = (int(t), int(b), int(l), int(r))
        if min(pads) < 0:
            raise ShapeError(f"{op}: padding must not be negative, got {padding!r}")
    else:
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    ph = in_hw[0] + pads[0] + pads[1]
    pw = in_hw[1] + pads[2] + pads[3]
    if extent_limit is not None and max(ph, pw, *window_hw, *strides) > extent_limit:
        # The kernels index rows and columns with 32-bit arithmetic in places, and a padded
        # copy of that extent could not be allocated anyway.
        raise ShapeError(f"{op}: the padded input {(ph, pw)}, window {tuple(window_hw)} and "
                         f"strides {tuple(strides)} must each be below 2**31 (input "
                         f"{tuple(in_hw)}, padding {padding!r})")
    if window_hw[0] > ph or window_hw[1] > pw:
        raise ShapeError(
            f"{op}: the window {tuple(window_hw)} is larger than the padded input {(ph, pw)} "
            f"(input {tuple(in_hw)}, padding {padding!r})")
    out = ((ph - window_hw[0]) // strides[0] + 1, (pw - window_hw[1]) // strides[1] + 1)
    return pads, out


def _check_out(out, shape, dtype, name: str, *inputs) -> tuple[np.ndarray, bool]:
    """Validates a caller-supplied output; returns the array to compute into and whether it is a
    temporary that must be copied back (non-contiguous outputs, or outputs aliasing an input)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"argument '{name}' must be a numpy array, got {type(out).__name__}")
    if out.dtype is not dtype and out.dtype != dtype:
        raise DTypeError(f"argument '{name}' has dtype {out.dtype}, expected {dtype}")
    if out.shape != tuple(shape):
        raise ShapeError(f"argument '{name}' must have shape {tuple(shape)}, got {out.shape}")
    flags = out.flags
    if not flags.writeable:
        raise ValueError(f"argument '{name}' is read-only")
    direct = flags.c_contiguous and flags.aligned
    if direct:
        for a in inputs:
            if a is not None and np.may_share_memory(out, a):
                direct = False
                break
    return (out, False) if direct else (np.empty(shape, dtype), True)


def run_into(out, shape, dtype, inputs, kernel, accumulate: bool = False) -> np.ndarray:
    """``kernel(result)`` into a new array, or into the caller's ``out`` (checked by
    ``_check_out``; through a temporary copied back when ``out`` cannot be written directly, the
    temporary starting from ``out``'s values when the kernel ``accumulate``-s). An empty result
    skips the kernel. Returns the result."""
    if out is None:
        result, copy_back = np.empty(shape, dtype), False
    else:
        result, copy_back = _check_out(out, shape, dtype, "out", *inputs)
        if copy_back and accumulate:
            result[...] = out
    if result.size:
        kernel(result)
    if copy_back:
        out[...] = result
        return out
    return result


def _input_grad_kernel(core_fn, grad_y, w, strides, pads, dilation):
    """The input-gradient kernel call; an empty ``grad_y`` gives a zero gradient."""
    def kernel(dx):
        if grad_y.size:
            core_fn(grad_y, w, dx, strides, pads, dilation)
        else:
            dx.fill(0)
    return kernel


def memoized_geometry(uncached):
    """``uncached`` memoized on its arguments when they are hashable (a layer asks the same
    question every batch), called as it is otherwise (a list for ``strides``, say)."""
    cached = functools.lru_cache(maxsize=256)(uncached)

    @functools.wraps(uncached)
    def geometry(*args):
        try:
            return cached(*args)
        except TypeError as exc:
            if "unhashable" not in str(exc):
                raise
        return uncached(*args)

    return geometry


def _geometry_uncached(x_shape, w_shape, strides, padding, dilation, x_name, w_name):
    sh, sw = spatial_pair(strides, "strides")
    dh, dw = spatial_pair(dilation, "dilation")
    if x_shape[3] != w_shape[2]:
        raise ShapeError(
            f"conv2d: '{x_name}' has {x_shape[3]} channels (shape {tuple(x_shape)}) but "
            f"'{w_name}' with shape {tuple(w_shape)} expects {w_shape[2]} input channels")
    window = ((w_shape[0] - 1) * dh + 1, (w_shape[1] - 1) * dw + 1)
    try:
        pads, out_hw = resolve_padding(padding, x_shape[1:3], window, (sh, sw), op="conv2d")
    except ShapeError as exc:
        raise ShapeError(f"{exc}; '{x_name}' has shape {tuple(x_shape)}, '{w_name}' has shape "
                         f"{tuple(w_shape)}, dilation {(dh, dw)}") from None
    return (sh, sw), (dh, dw), pads, out_hw


# Validated (strides, dilation, pads, (OH, OW)) of a convolution; raises ShapeError.
_geometry = memoized_geometry(_geometry_uncached)


def _require_4d(arr_shape, name: str, layout: str):
    if len(arr_shape) != 4:
        raise ShapeError(f"argument '{name}' must be 4-D ({layout}), got shape {tuple(arr_shape)}")


def _shape_tuple(shape, name: str) -> tuple[int, ...]:
    if type(shape) is tuple and all(type(v) is int and v >= 0 for v in shape):
        return shape
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"argument '{name}' must be a shape tuple, got {shape!r}") from None
    if not all(_is_int(v) and v >= 0 for v in items):
        raise ShapeError(f"argument '{name}' must hold non-negative ints, got {shape!r}")
    return tuple(int(v) for v in items)


def conv2d(x, w, bias=None, *, strides=1, padding="valid", dilation=1, activation=None, out=None):
    """2-D convolution (cross-correlation, as in Keras and PyTorch) of an NHWC batch.

    ``y[n, i, j, o] = bias[o] + sum_{a, b, c} x_pad[n, i*sh + a*dh, j*sw + b*dw, c] * w[a, b, c, o]``

    Args:
        x: ``(N, H, W, C_in)`` float32/float64.
        w: ``(KH, KW, C_in, C_out)`` kernel of the same dtype (Keras ``Conv2D`` kernel layout).
        bias: ``(C_out,)`` or None.
        strides, dilation: int or ``(rows, cols)``, each >= 1.
        padding: ``"valid"``, ``"same"`` (Keras/TF) or ``((top, bottom), (left, right))``.
        activation: None / ``"linear"`` or ``"relu"``; relu is applied as the output is written.
        out: optional ``(N, OH, OW, C_out)`` array of the same dtype to write into (returned).

    Returns:
        ``(N, OH, OW, C_out)`` with ``OH = (H + top + bottom - (KH - 1) * dh - 1) // sh + 1``
        (``ceil(H / sh)`` for ``"same"``), likewise ``OW``.

    Raises:
        DTypeError: a non-float or mixed dtype. ShapeError: wrong ranks, ``C_in`` mismatch, a
        kernel larger than the (padded) input, strides/dilation < 1, a wrong ``bias``/``out`` shape.
    """
    x = fast_array(x, "x")
    w = fast_array(w, "w")
    same_dtype("x", x, w=w)
    _require_4d(x.shape, "x", "NHWC")
    _require_4d(w.shape, "w", "KH, KW, C_in, C_out")
    if bias is not None:
        bias = fast_array(bias, "bias")
        same_dtype("x", x, bias=bias)
        if bias.shape != (w.shape[3],):
            raise ShapeError(f"argument 'bias' must have shape ({w.shape[3]},) to match 'w' with "
                             f"shape {w.shape}, got {bias.shape}")
    if activation in (None, "linear"):
        relu = False
    elif activation == "relu":
        relu = True
    else:
        raise ValueError(f"conv2d: activation must be None, 'linear' or 'relu', got {activation!r}")
    strides, dilation, pads, (oh, ow) = _geometry(x.shape, w.shape, strides, padding, dilation, "x", "w")
    shape = (x.shape[0], oh, ow, w.shape[3])
    return run_into(out, shape, x.dtype, (x, w, bias),
                    lambda y: _core.conv2d_forward(x, w, bias, y, strides, pads, dilation, relu))


def conv2d_backward_input(grad_y, w, x_shape, *, strides=1, padding="valid", dilation=1, out=None):
    """Gradient of ``conv2d`` with respect to its input ``x`` (no bias or activation involved).

    Args:
        grad_y: ``(N, OH, OW, C_out)``, the gradient of the loss with respect to ``conv2d``'s output.
        w: ``(KH, KW, C_in, C_out)`` kernel used in the forward pass.
        x_shape: ``(N, H, W, C_in)`` of the forward input; with strides > 1 several input sizes
            give the same output size, so it must be given.
        strides, padding, dilation: as in the forward call.
        out: optional ``x_shape`` array to write into (returned).

    Returns:
        ``(N, H, W, C_in)``: ``dx[n, h, w, c] = sum grad_y[n, i, j, o] * w[a, b, c, o]`` over every
        ``(i, j, a, b)`` with ``h = i*sh - top + a*dh`` and ``w = j*sw - left + b*dw``.

    Raises:
        DTypeError; ShapeError when ``grad_y``'s shape is not the output shape of a forward pass
        on ``x_shape`` with this kernel (the message gives both).
    """
    grad_y = fast_array(grad_y, "grad_y")
    w = fast_array(w, "w")
    same_dtype("grad_y", grad_y, w=w)
    _require_4d(grad_y.shape, "grad_y", "NHWC")
    _require_4d(w.shape, "w", "KH, KW, C_in, C_out")
    x_shape = _shape_tuple(x_shape, "x_shape")
    _require_4d(x_shape, "x_shape", "NHWC")
    strides, dilation, pads, (oh, ow) = _geometry(x_shape, w.shape, strides, padding, dilation,
                                                  "x_shape", "w")
    want = (x_shape[0], oh, ow, w.shape[3])
    if grad_y.shape != want:
        raise ShapeError(f"conv2d_backward_input: 'grad_y' has shape {grad_y.shape} but 'x_shape' "
                         f"{x_shape} with 'w' of shape {w.shape} gives an output of shape {want}")
    return run_into(out, x_shape, grad_y.dtype, (grad_y, w), _input_grad_kernel(
        _core.conv2d_backward_input, grad_y, w, strides, pads, dilation))


def conv2d_backward_weight(x, grad_y, w_shape, *, strides=1, padding="valid", dilation=1, out=None,
                           accumulate=False):
    """Gradient of ``conv2d`` with respect to its kernel ``w``.

    Args:
        x: ``(N, H, W, C_in)``, the forward input.
        grad_y: ``(N, OH, OW, C_out)``, the gradient with respect to the forward output.
        w_shape: ``(KH, KW, C_in, C_out)`` of the kernel.
        strides, padding, dilation: as in the forward call.
        out: optional ``w_shape`` array to write into (returned).
        accumulate: add the gradient to ``out`` instead of overwriting it (needs ``out``); lets a
            training loop sum gradients without a temporary.

    Returns:
        ``(KH, KW, C_in, C_out)``: ``dw[a, b, c, o] = sum_{n, i, j} x_pad[n, i*sh + a*dh,
        j*sw + b*dw, c] * grad_y[n, i, j, o]``.

    Raises:
        DTypeError; ShapeError when ``grad_y`` is not the output shape for ``x`` and ``w_shape``.
    """
    x = fast_array(x, "x")
    grad_y = fast_array(grad_y, "grad_y")
    same_dtype("x", x, grad_y=grad_y)
    _require_4d(x.shape, "x", "NHWC")
    _require_4d(grad_y.shape, "grad_y", "NHWC")
    w_shape = _shape_tuple(w_shape, "w_shape")
    _require_4d(w_shape, "w_shape", "KH, KW, C_in, C_out")
    if accumulate and out is None:
        raise ValueError("conv2d_backward_weight: accumulate=True needs out=")
    strides, dilation, pads, (oh, ow) = _geometry(x.shape, w_shape, strides, padding, dilation,
                                                  "x", "w_shape")
    want = (x.shape[0], oh, ow, w_shape[3])
    if grad_y.shape != want:
        raise ShapeError(f"conv2d_backward_weight: 'grad_y' has shape {grad_y.shape} but 'x' of "
                         f"shape {x.shape} with 'w_shape' {w_shape} gives an output of shape {want}")
    return run_into(out, w_shape, x.dtype, (x, grad_y), lambda dw: _core.conv2d_backward_weight(
        x, grad_y, dw, strides, pads, dilation, bool(accumulate)), accumulate)


def conv2d_backward_bias(grad_y, *, out=None, accumulate=False):
    """Gradient of ``conv2d`` with respect to its bias: ``grad_y`` summed over N, H and W.

    Args:
        grad_y: ``(N, OH, OW, C_out)``.
        out: optional ``(C_out,)`` array to write into (returned).
        accumulate: add to ``out`` instead of overwriting it (needs ``out``).

    Returns:
        ``(C_out,)`` in the dtype of ``grad_y`` (the sum of ``bias_grad``: groups of 8 rows in the
        input precision, the group sums in float64).
    """
    grad_y = fast_array(grad_y, "grad_y")
    _require_4d(grad_y.shape, "grad_y", "NHWC")
    if accumulate and out is None:
        raise ValueError("conv2d_backward_bias: accumulate=True needs out=")
    shape = (grad_y.shape[3],)
    if out is None:
        db, copy_back = np.empty(shape, grad_y.dtype), False
    else:
        db, copy_back = _check_out(out, shape, grad_y.dtype, "out", grad_y)
        if copy_back and accumulate:
            db[...] = out
    # The sum over all but the last axis is the generic bias gradient (vectorized over rows).
    _core.bias_grad(grad_y, db, bool(accumulate))
    if copy_back:
        out[...] = db
        return out
    return db
