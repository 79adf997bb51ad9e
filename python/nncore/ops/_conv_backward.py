"""The training backward of a convolution layer ``y = relu(conv2d(x, w) + bias)`` (relu and bias
optional) in one pass over ``grad_y``: the relu mask and the bias gradient are applied and summed
while the weight gradient streams ``grad_y``, instead of three passes before it."""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import ShapeError
from ._checks import same_dtype
from ._conv import _check_out, _geometry, _require_4d, _shape_tuple, fast_array

__all__ = ["conv2d_backward_weight_fused"]


def _into(out, shape, dtype, name, inputs, accumulate):
    """The array the kernel writes (``out`` or a temporary) and whether to copy it back."""
    if out is None:
        return np.empty(shape, dtype), False
    arr, copy_back = _check_out(out, shape, dtype, name, *inputs)
    if copy_back and accumulate:
        arr[...] = out
    return arr, copy_back


def conv2d_backward_weight_fused(x, grad_y, w_shape, *, relu_output=None, use_bias=True, strides=1,
                                 padding="valid", dilation=1, out=None, bias_out=None,
                                 grad_y_out=None, accumulate=False):
    """Weight and bias gradients of ``y = relu(conv2d(x, w) + bias)``, and the gradient with
    respect to the convolution's output, from one pass over ``grad_y``.

    Args:
        x: ``(N, H, W, C_in)``, the forward input.
        grad_y: ``(N, OH, OW, C_out)``, the gradient with respect to the layer's output.
        w_shape: ``(KH, KW, C_in, C_out)`` of the kernel.
        relu_output: the layer's output ``y`` when it went through relu (``grad_y`` is then
            multiplied by ``relu'(y)``: 1 where ``y > 0``, NaN kept, else 0); None without relu.
        use_bias: also return the bias gradient (``g`` summed over N, OH and OW, in float64).
        strides, padding, dilation: as in the forward call.
        out, bias_out: optional arrays for ``dw`` and ``db`` (returned).
        grad_y_out: optional ``grad_y``-shaped array for ``g`` (with relu only).
        accumulate: add to ``out`` and ``bias_out`` instead of overwriting them (needs both).

    Returns:
        ``(dw, db, g)``: ``dw`` as ``conv2d_backward_weight(x, g, w_shape)``, ``db`` (None without
        ``use_bias``), and ``g``, the gradient with respect to ``conv2d(x, w) + bias`` (``grad_y``
        itself without relu), which ``conv2d_backward_input`` takes.

    Raises:
        DTypeError; ShapeError when ``grad_y`` or ``relu_output`` is not the output shape for ``x``
        and ``w_shape``; ValueError for ``accumulate`` without ``out`` (or ``bias_out``).
    """
    x = fast_array(x, "x")
    grad_y = fast_array(grad_y, "grad_y")
    same_dtype("x", x, grad_y=grad_y)
    _require_4d(x.shape, "x", "NHWC")
    _require_4d(grad_y.shape, "grad_y", "NHWC")
    w_shape = _shape_tuple(w_shape, "w_shape")
    _require_4d(w_shape, "w_shape", "KH, KW, C_in, C_out")
    if accumulate and (out is None or (use_bias and bias_out is None)):
        raise ValueError("conv2d_backward_weight_fused: accumulate=True needs out= (and bias_out= "
                         "with use_bias)")
    strides, dilation, pads, (oh, ow) = _geometry(x.shape, w_shape, strides, padding, dilation,
                                                  "x", "w_shape")
    want = (x.shape[0], oh, ow, w_shape[3])
    if grad_y.shape != want:
        raise ShapeError(f"conv2d_backward_weight_fused: 'grad_y' has shape {grad_y.shape} but 'x' "
                         f"of shape {x.shape} with 'w_shape' {w_shape} gives an output of shape {want}")
    if relu_output is not None:
        relu_output = fast_array(relu_output, "relu_output")
        same_dtype("x", x, relu_output=relu_output)
        if relu_output.shape != want:
            raise ShapeError(f"conv2d_backward_weight_fused: 'relu_output' has shape "
                             f"{relu_output.shape}, expected {want} (the shape of 'grad_y')")
    dt = x.dtype
    inputs = (x, grad_y, relu_output)
    dw, dw_back = _into(out, w_shape, dt, "out", inputs, accumulate)
    db, db_back = (None, False)
    if use_bias:
        db, db_back = _into(bias_out, (w_shape[3],), dt, "bias_out", inputs + (dw,), accumulate)
    g, g_back = (grad_y, False)
    if relu_output is not None:
        g, g_back = _into(grad_y_out, want, dt, "grad_y_out", inputs + (dw, db), False)
    _core.conv2d_backward_weight_fused(x, grad_y, relu_output, dw, db,
                                       None if relu_output is None else g, strides, pads, dilation,
                                       bool(accumulate))
    for arr, dst, back in ((dw, out, dw_back), (db, bias_out, db_back), (g, grad_y_out, g_back)):
        if back:
            dst[...] = arr
    return (out if dw_back else dw, bias_out if db_back else db, grad_y_out if g_back else g)
