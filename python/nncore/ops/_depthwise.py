"""Depthwise 2-D convolution on NHWC inputs with ``(KH, KW, C, M)`` kernels (the Keras layout).

Each input channel ``c`` is convolved with its own ``M`` filters ``w[:, :, c, :]``; output channel
``c * M + m`` holds filter ``m`` of channel ``c`` (Keras/TensorFlow order). ``strides``,
``padding`` and ``dilation`` are as in :func:`nncore.ops.conv2d`.
"""

from __future__ import annotations

from .. import _core
from ..errors import ShapeError
from ._checks import same_dtype
from ._conv import (_input_grad_kernel, _require_4d, _shape_tuple, fast_array, memoized_geometry,
                    resolve_padding, run_into, spatial_pair)

__all__ = [
    "depthwise_conv2d",
    "depthwise_conv2d_backward_input",
    "depthwise_conv2d_backward_weight",
]

_KERNEL_LAYOUT = "KH, KW, C, depth_multiplier"
# The kernels index with signed 64-bit integers and add a padding, a dilation and a position in one
# expression: past this bound on strides, dilation and padded extents that sum could wrap around
# (a wrong result, or a read outside the input) instead of being refused.
_INDEX_LIMIT = 2**62


def _geometry_uncached(x_shape, w_shape, strides, padding, dilation, x_name, w_name):
    sh, sw = spatial_pair(strides, "strides")
    dh, dw = spatial_pair(dilation, "dilation")
    if max(sh, sw) > _INDEX_LIMIT or max(dh, dw) > _INDEX_LIMIT:
        raise ShapeError(f"depthwise_conv2d: strides {(sh, sw)} and dilation {(dh, dw)} must be at "
                         f"most 2**62")
    if x_shape[3] != w_shape[2]:
        raise ShapeError(
            f"depthwise_conv2d: '{x_name}' has {x_shape[3]} channels (shape {tuple(x_shape)}) but "
            f"'{w_name}' with shape {tuple(w_shape)} expects {w_shape[2]} input channels")
    if w_shape[0] < 1 or w_shape[1] < 1 or w_shape[3] < 1:
        raise ShapeError(f"depthwise_conv2d: '{w_name}' must have a kernel size and a depth "
                         f"multiplier >= 1 ({_KERNEL_LAYOUT}), got shape {tuple(w_shape)}")
    window = ((w_shape[0] - 1) * dh + 1, (w_shape[1] - 1) * dw + 1)
    try:
        # The depthwise kernels take extents up to _INDEX_LIMIT (checked here), not conv2d's.
        pads, out_hw = resolve_padding(padding, x_shape[1:3], window, (sh, sw),
                                       op="depthwise_conv2d", extent_limit=None)
    except ShapeError as exc:
        raise ShapeError(f"{exc}; '{x_name}' has shape {tuple(x_shape)}, '{w_name}' has shape "
                         f"{tuple(w_shape)}, dilation {(dh, dw)}") from None
    padded = (x_shape[1] + pads[0] + pads[1], x_shape[2] + pads[2] + pads[3])
    if max(padded) > _INDEX_LIMIT:
        raise ShapeError(f"depthwise_conv2d: padding {padding!r} makes '{x_name}' with shape "
                         f"{tuple(x_shape)} {padded[0]}x{padded[1]} with dilation {(dh, dw)}; the "
                         f"padded input must be at most 2**62 along each axis")
    return (sh, sw), (dh, dw), pads, out_hw


# Validated (strides, dilation, pads, (OH, OW)); raises ShapeError.
_geometry = memoized_geometry(_geometry_uncached)


def depthwise_conv2d(x, w, bias=None, *, strides=1, padding="valid", dilation=1, out=None):
    """Depthwise 2-D convolution (cross-correlation) of an NHWC batch.

    ``y[n, i, j, c*M + m] = bias[c*M + m] + sum_{a, b} x_pad[n, i*sh + a*dh, j*sw + b*dw, c] *
    w[a, b, c, m]``

    Args:
        x: ``(N, H, W, C)`` float32/float64.
        w: ``(KH, KW, C, M)`` kernel of the same dtype (Keras ``DepthwiseConv2D`` layout).
        bias: ``(C * M,)`` or None.
        strides, dilation: int or ``(rows, cols)``, each >= 1.
        padding: ``"valid"``, ``"same"`` (Keras/TF) or ``((top, bottom), (left, right))``.
        out: optional ``(N, OH, OW, C * M)`` array of the same dtype to write into (returned).

    Raises:
        DTypeError: a non-float or mixed dtype. ShapeError: wrong ranks, a ``C`` mismatch, a kernel
        larger than the (padded) input, strides/dilation < 1, a wrong ``bias``/``out`` shape.
    """
    x = fast_array(x, "x")
    w = fast_array(w, "w")
    same_dtype("x", x, w=w)
    _require_4d(x.shape, "x", "NHWC")
    _require_4d(w.shape, "w", _KERNEL_LAYOUT)
    cm = w.shape[2] * w.shape[3]
    if bias is not None:
        bias = fast_array(bias, "bias")
        same_dtype("x", x, bias=bias)
        if bias.shape != (cm,):
            raise ShapeError(f"argument 'bias' must have shape ({cm},) (channels x depth "
                             f"multiplier of 'w' with shape {w.shape}), got {bias.shape}")
    strides, dilation, pads, (oh, ow) = _geometry(x.shape, w.shape, strides, padding, dilation, "x", "w")
    shape = (x.shape[0], oh, ow, cm)
    return run_into(out, shape, x.dtype, (x, w, bias),
                    lambda y: _core.depthwise_conv2d_forward(x, w, bias, y, strides, pads, dilation))


def depthwise_conv2d_backward_input(grad_y, w, x_shape, *, strides=1, padding="valid", dilation=1,
                                    out=None):
    """Gradient of ``depthwise_conv2d`` with respect to its input (no bias involved).

    Args:
        grad_y: ``(N, OH, OW, C * M)``.
        w: ``(KH, KW, C, M)`` kernel of the forward pass.
        x_shape: ``(N, H, W, C)`` of the forward input (strides > 1 make it ambiguous otherwise).
        strides, padding, dilation: as in the forward call.
        out: optional ``x_shape`` array to write into (returned).

    Raises:
        DTypeError; ShapeError when ``grad_y`` is not the forward output shape for ``x_shape``.
    """
    grad_y = fast_array(grad_y, "grad_y")
    w = fast_array(w, "w")
    same_dtype("grad_y", grad_y, w=w)
    _require_4d(grad_y.shape, "grad_y", "NHWC")
    _require_4d(w.shape, "w", _KERNEL_LAYOUT)
    x_shape = _shape_tuple(x_shape, "x_shape")
    _require_4d(x_shape, "x_shape", "NHWC")
    strides, dilation, pads, (oh, ow) = _geometry(x_shape, w.shape, strides, padding, dilation,
                                                  "x_shape", "w")
    want = (x_shape[0], oh, ow, w.shape[2] * w.shape[3])
    if grad_y.shape != want:
        raise ShapeError(f"depthwise_conv2d_backward_input: 'grad_y' has shape {grad_y.shape} but "
                         f"'x_shape' {x_shape} with 'w' of shape {w.shape} gives an output of shape "
                         f"{want}")
    return run_into(out, x_shape, grad_y.dtype, (grad_y, w), _input_grad_kernel(
        _core.depthwise_conv2d_backward_input, grad_y, w, strides, pads, dilation))


def depthwise_conv2d_backward_weight(x, grad_y, w_shape, *, strides=1, padding="valid", dilation=1,
                                     out=None, accumulate=False):
    """Gradient of ``depthwise_conv2d`` with respect to its ``(KH, KW, C, M)`` kernel.

    ``dw[a, b, c, m] = sum_{n, i, j} x_pad[n, i*sh + a*dh, j*sw + b*dw, c] * grad_y[n, i, j, c*M + m]``,
    summed in an order that does not depend on the thread count.

    Args:
        x: ``(N, H, W, C)``, the forward input.
        grad_y: ``(N, OH, OW, C * M)``.
        w_shape: ``(KH, KW, C, M)``.
        strides, padding, dilation: as in the forward call.
        out: optional ``w_shape`` array to write into (returned).
        accumulate: add the gradient to ``out`` instead of overwriting it (needs ``out``).
    """
    x = fast_array(x, "x")
    grad_y = fast_array(grad_y, "grad_y")
    same_dtype("x", x, grad_y=grad_y)
    _require_4d(x.shape, "x", "NHWC")
    _require_4d(grad_y.shape, "grad_y", "NHWC")
    w_shape = _shape_tuple(w_shape, "w_shape")
    _require_4d(w_shape, "w_shape", _KERNEL_LAYOUT)
    if accumulate and out is None:
        raise ValueError("depthwise_conv2d_backward_weight: accumulate=True needs out=")
    strides, dilation, pads, (oh, ow) = _geometry(x.shape, w_shape, strides, padding, dilation,
                                                  "x", "w_shape")
    want = (x.shape[0], oh, ow, w_shape[2] * w_shape[3])
    if grad_y.shape != want:
        raise ShapeError(f"depthwise_conv2d_backward_weight: 'grad_y' has shape {grad_y.shape} but "
                         f"'x' of shape {x.shape} with 'w_shape' {w_shape} gives an output of shape "
                         f"{want}")
    return run_into(out, w_shape, x.dtype, (x, grad_y),
                    lambda dw: _core.depthwise_conv2d_backward_weight(
                        x, grad_y, dw, strides, pads, dilation, bool(accumulate)), accumulate)
