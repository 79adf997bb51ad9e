"""One converter per nncore layer class: ONNX nodes computing the layer's inference output."""

from __future__ import annotations

import math

import numpy as np

from ...layers import activation_layers as act_layers
from ...layers import augmentation, conv, dense, dropout, merging, normalization, pooling, reshaping
from ...layers import conv_transpose, depthwise_conv, separable_conv
from .builder import NCHW, NHWC, UnsupportedLayerError, Value, axis_in

# Keras' SELU constants (ONNX's defaults are float32 roundings of other digits).
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _unsupported(b, what: str):
    raise UnsupportedLayerError(f"ONNX export: layer '{b.layer}' ({b.kind}) uses {what}, which "
                                "the ONNX exporter does not support")


def _leaky_relu(b, x: str, slope: float) -> str:
    if b.dtype == np.float32:
        return b.node("LeakyRelu", [x], alpha=float(slope))
    # LeakyRelu's alpha is a float32 attribute: float64 models take the slope as a float64 tensor.
    below = b.node("Less", [x, b.scalar(0.0)])
    return b.node("Where", [below, b.node("Mul", [x, b.scalar(slope)]), x])


def activation(b, x: str, act, layout: str, rank: int) -> str:
    """Applies an nncore.activations.ActivationFn (None: identity) to ``x`` in ``layout``."""
    if act is None:
        return x
    name, p = act.name, act.params
    if name == "relu":
        slope, top, thr = p.get("negative_slope", 0.0), p.get("max_value"), p.get("threshold", 0.0)
        if thr != 0.0 or (slope != 0.0 and top is not None):
            _unsupported(b, f"activation relu with {p}")
        if top is not None:
            return b.node("Clip", [x, b.scalar(0.0), b.scalar(top)])
        return _leaky_relu(b, x, slope) if slope else b.node("Relu", [x])
    if name == "relu6":
        return b.node("Clip", [x, b.scalar(0.0), b.scalar(6.0)])
    if name == "leaky_relu":
        return _leaky_relu(b, x, p.get("negative_slope", p.get("alpha", 0.2)))
    if name == "elu":
        return b.node("Elu", [x], alpha=float(p.get("alpha", 1.0)))
    if name == "selu" and not p:
        return b.node("Selu", [x], alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    simple = {"sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
              "softsign": "Softsign", "exponential": "Exp"}
    if name in simple and not p:
        return b.node(simple[name], [x])
    if name in ("swish", "silu") and not p:
        return b.node("Mul", [x, b.node("Sigmoid", [x])])
    if name == "hard_sigmoid" and not p:
        # Keras 3: relu6(x + 3) / 6.
        clipped = b.node("Clip", [b.node("Add", [x, b.scalar(3.0)]), b.scalar(0.0), b.scalar(6.0)])
        return b.node("Div", [clipped, b.scalar(6.0)])
    if name == "gelu" and set(p) <= {"approximate"}:
        half_x = b.node("Mul", [x, b.scalar(0.5)])
        if p.get("approximate", False):
            cube = b.node("Mul", [b.node("Mul", [x, x]), x])
            inner = b.node("Add", [x, b.node("Mul", [cube, b.scalar(0.044715)])])
            t = b.node("Tanh", [b.node("Mul", [inner, b.scalar(math.sqrt(2.0 / math.pi))])])
        else:
            t = b.node("Erf", [b.node("Mul", [x, b.scalar(1.0 / math.sqrt(2.0))])])
        return b.node("Mul", [half_x, b.node("Add", [t, b.scalar(1.0)])])
    if name in ("softmax", "log_softmax") and set(p) <= {"axis"}:
        axis = p.get("axis", -1)
        if not isinstance(axis, (int, np.integer)):
            _unsupported(b, f"{name} over several axes {axis}")
        op = "Softmax" if name == "softmax" else "LogSoftmax"
        return b.node(op, [x], axis=axis_in(layout, int(axis) % rank, rank))
    if name == "thresholded_relu":
        return b.node("ThresholdedRelu", [x], alpha=float(p["theta"]))
    _unsupported(b, f"activation '{name}'" + (f" with {p}" if p else ""))


def _channels_last(b, layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        _unsupported(b, f"data_format={layer.data_format!r} (only channels_last is exported)")


def _same_pads(b, shape, window, strides, dilation=(1, 1)) -> list:
    """TensorFlow's 'same' padding (the odd cell at the bottom/right), as ONNX [begins, ends]."""
    begins, ends = [], []
    for n, k, s, d in zip(shape[1:3], window, strides, dilation):
        if n is None:
            _unsupported(b, "padding='same' on an input of unknown height or width")
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def _spatial(b, layer, x: Value, window, dilation=(1, 1)) -> dict:
    pads = (_same_pads(b, x.shape, window, layer.strides, dilation) if layer.padding == "same"
            else [0, 0, 0, 0])
    return {"kernel_shape": list(window), "strides": list(layer.strides), "pads": pads}


def _out(b, name: str, layout: str, layer, x_shape) -> Value:
    return Value(name, layout, layer.compute_output_shape(x_shape))


def dense_layer(b, layer, x: Value) -> Value:
    y = b.node("MatMul", [b.get(x, NHWC), b.const(layer.kernel.value, "kernel")])
    if layer.bias is not None:
        y = b.node("Add", [y, b.const(layer.bias.value, "bias")])
    y = activation(b, y, layer.activation, NHWC, x.rank)
    return _out(b, y, NHWC, layer, x.shape)


def conv2d_layer(b, layer, x: Value) -> Value:
    _channels_last(b, layer)
    kernel = np.transpose(layer.kernel.value, (3, 2, 0, 1))  # HWIO -> OIHW
    inputs = [b.get(x, NCHW), b.const(kernel, "kernel")]
    if layer.bias is not None:
        inputs.append(b.const(layer.bias.value, "bias"))
    y = b.node("Conv", inputs, dilations=list(layer.dilation_rate), group=layer.groups,
               **_spatial(b, layer, x, layer.kernel_size, layer.dilation_rate))
    y = activation(b, y, layer.activation, NCHW, 4)
    return _out(b, y, NCHW, layer, x.shape)


def _depthwise_kernel(kernel):
    """(KH, KW, C, M) -> ONNX grouped-Conv weights (C*M, 1, KH, KW); output channel c*M + m."""
    kh, kw, c, m = kernel.shape
    return np.transpose(kernel.reshape(kh, kw, 1, c * m), (3, 2, 0, 1))


def depthwise_conv2d_layer(b, layer, x: Value) -> Value:
    _channels_last(b, layer)
    c = layer.kernel.shape[2]
    inputs = [b.get(x, NCHW), b.const(_depthwise_kernel(layer.kernel.value), "kernel")]
    if layer.bias is not None:
        inputs.append(b.const(layer.bias.value, "bias"))
    y = b.node("Conv", inputs, dilations=list(layer.dilation_rate), group=c,
               **_spatial(b, layer, x, layer.kernel_size, layer.dilation_rate))
    y = activation(b, y, layer.activation, NCHW, 4)
    return _out(b, y, NCHW, layer, x.shape)


def separable_conv2d_layer(b, layer, x: Value) -> Value:
    _channels_last(b, layer)
    c = layer.depthwise_kernel.shape[2]
    h = b.node("Conv", [b.get(x, NCHW), b.const(_depthwise_kernel(layer.depthwise_kernel.value),
                                                "depthwise_kernel")],
               dilations=list(layer.dilation_rate), group=c,
               **_spatial(b, layer, x, layer.kernel_size, layer.dilation_rate))
    inputs = [h, b.const(np.transpose(layer.pointwise_kernel.value, (3, 2, 0, 1)), "pointwise_kernel")]
    if layer.bias is not None:
        inputs.append(b.const(layer.bias.value, "bias"))
    y = b.node("Conv", inputs, kernel_shape=[1, 1])
    y = activation(b, y, layer.activation, NCHW, 4)
    return _out(b, y, NCHW, layer, x.shape)


def conv2d_transpose_layer(b, layer, x: Value) -> Value:
    _channels_last(b, layer)
    if x.shape[1] is None or x.shape[2] is None:
        _unsupported(b, "an input of unknown height or width")
    begins, ends, extra = [], [], []
    for size, axis, k, s, d in zip(x.shape[1:3], layer._axes(x.shape), layer.kernel_size,
                                   layer.strides, layer.dilation_rate):
        out, before, _ = axis
        # ONNX: out = (size - 1) * s + keff + output_padding - begin - end, placing input i, tap t
        # at i * s - begin + t * d (nncore's `before`); outputs past the last tap need
        # output_padding rather than a negative end.
        end = (size - 1) * s + (k - 1) * d + 1 - before - out
        begins.append(before)
        ends.append(max(end, 0))
        extra.append(max(-end, 0))
    kernel = np.transpose(layer.kernel.value, (3, 2, 0, 1))  # (KH, KW, F, C) -> (C, F, KH, KW)
    inputs = [b.get(x, NCHW), b.const(kernel, "kernel")]
    if layer.bias is not None:
        inputs.append(b.const(layer.bias.value, "bias"))
    y = b.node("ConvTranspose", inputs, kernel_shape=list(layer.kernel_size),
               strides=list(layer.strides), dilations=list(layer.dilation_rate),
               pads=begins + ends, output_padding=extra)
    y = activation(b, y, layer.activation, NCHW, 4)
    return _out(b, y, NCHW, layer, x.shape)


def max_pool_layer(b, layer, x: Value) -> Value:
    _channels_last(b, layer)
    y = b.node("MaxPool", [b.get(x, NCHW)], **_spatial(b, layer, x, layer.pool_size))
    return _out(b, y, NCHW, layer, x.shape)


def avg_pool_layer(b, layer, x: Value) -> Value:
    _channels_last(b, layer)
    # nncore (as Keras) averages over the cells inside the image only.
    y = b.node("AveragePool", [b.get(x, NCHW)], count_include_pad=0,
               **_spatial(b, layer, x, layer.pool_size))
    return _out(b, y, NCHW, layer, x.shape)


def global_avg_pool_layer(b, layer, x: Value) -> Value:
    native = (2, 3) if layer.data_format == "channels_first" else (1, 2)
    layout = x.primary if layer.data_format == "channels_last" else NHWC
    axes = [axis_in(layout, a, 4) for a in native]
    y = b.node("ReduceMean", [b.get(x, layout)], axes=axes, keepdims=int(layer.keepdims))
    return _out(b, y, layout if layer.keepdims else NHWC, layer, x.shape)


def flatten_layer(b, layer, x: Value) -> Value:
    src = b.get(x, NHWC)
    if layer.data_format == "channels_first" and x.rank >= 3:
        src = b.node("Transpose", [src], perm=[0, *range(2, x.rank), 1])
    return _out(b, b.node("Flatten", [src], axis=1), NHWC, layer, x.shape)


def reshape_layer(b, layer, x: Value) -> Value:
    if 0 in layer.target_shape:
        _unsupported(b, f"a zero-sized target_shape {layer.target_shape}")
    shape = b.const([0, *layer.target_shape], "shape", dtype=np.int64)  # 0: keep the batch
    return _out(b, b.node("Reshape", [b.get(x, NHWC), shape]), NHWC, layer, x.shape)


def elementwise(b, layer, x: Value) -> Value:
    layout = x.primary
    return _out(b, activation(b, b.get(x, layout), layer._fn(), layout, x.rank), layout,
                layer, x.shape)


def relu_layer(b, layer, x: Value) -> Value:
    if layer.activation is not None:
        return elementwise(b, layer, x)
    layout = x.primary
    src = b.get(x, layout)
    # Keras: x where x > threshold, else negative_slope * (x - threshold); capped at max_value.
    below = b.node("Mul", [b.node("Sub", [src, b.scalar(layer.threshold)]),
                           b.scalar(layer.negative_slope)])
    y = b.node("Where", [b.node("Greater", [src, b.scalar(layer.threshold)]), src, below])
    if layer.max_value is not None:
        y = b.node("Min", [y, b.scalar(layer.max_value)])
    return _out(b, y, layout, layer, x.shape)


def prelu_layer(b, layer, x: Value) -> Value:
    y = b.node("PRelu", [b.get(x, NHWC), b.const(layer.alpha.value, "alpha")])
    return _out(b, y, NHWC, layer, x.shape)


def batch_norm_layer(b, layer, x: Value) -> Value:
    layout = x.primary
    axis = axis_in(layout, layer._axis, x.rank)
    src = b.get(x, layout)
    c = layer.moving_mean.shape[0]
    gamma = layer.gamma.value if layer.gamma is not None else np.ones(c, b.dtype)
    beta = layer.beta.value if layer.beta is not None else np.zeros(c, b.dtype)
    mean, var = layer.moving_mean.value, layer.moving_variance.value
    # ONNX keeps epsilon as a float32 attribute: float64 models take the affine map below,
    # computed in float64.
    if axis == 1 and b.dtype == np.float32:
        y = b.node("BatchNormalization", [src, b.const(gamma, "gamma"), b.const(beta, "beta"),
                                          b.const(mean, "moving_mean"),
                                          b.const(var, "moving_variance")],
                   epsilon=layer.epsilon)
    else:
        # The same affine map per channel, broadcast along the channel axis.
        bshape = [c if i == axis else 1 for i in range(x.rank)]
        inv = (gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + layer.epsilon))
        shift = beta.astype(np.float64) - mean.astype(np.float64) * inv
        y = b.node("Add", [b.node("Mul", [src, b.const(inv.reshape(bshape), "scale")]),
                           b.const(shift.reshape(bshape), "shift")])
    return _out(b, y, layout, layer, x.shape)


def identity_layer(b, layer, x: Value) -> Value:
    # Regularization and augmentation layers pass their input through at inference.
    return x


def merge_layer(b, layer, xs: list) -> Value:
    layout = b.common_layout(xs)
    names = [b.get(v, layout) for v in xs]
    kind = type(layer)
    if kind in (merging.Maximum, merging.Minimum):
        y = b.node("Max" if kind is merging.Maximum else "Min", names)
    elif kind is merging.Subtract:
        y = b.node("Sub", names)
    else:
        op = "Mul" if kind is merging.Multiply else "Add"
        y = names[0]
        for n in names[1:]:  # in nncore's order, so that rounding matches
            y = b.node(op, [y, n])
        if kind is merging.Average:
            y = b.node("Mul", [y, b.scalar(1.0 / len(xs))])
    return Value(y, layout, xs[0].shape)


def concatenate_layer(b, layer, xs: list) -> Value:
    layout = b.common_layout(xs)
    axis = axis_in(layout, layer.axis % xs[0].rank, xs[0].rank)
    y = b.node("Concat", [b.get(v, layout) for v in xs], axis=axis)
    return Value(y, layout, layer.compute_output_shape([v.shape for v in xs]))


CONVERTERS = {
    dense.Dense: dense_layer,
    conv.Conv2D: conv2d_layer,
    depthwise_conv.DepthwiseConv2D: depthwise_conv2d_layer,
    separable_conv.SeparableConv2D: separable_conv2d_layer,
    conv_transpose.Conv2DTranspose: conv2d_transpose_layer,
    pooling.MaxPooling2D: max_pool_layer,
    pooling.AveragePooling2D: avg_pool_layer,
    pooling.GlobalAveragePooling2D: global_avg_pool_layer,
    reshaping.Flatten: flatten_layer,
    reshaping.Reshape: reshape_layer,
    act_layers.Activation: elementwise,
    act_layers.ReLU: relu_layer,
    act_layers.LeakyReLU: elementwise,
    act_layers.ELU: elementwise,
    act_layers.Softmax: elementwise,
    act_layers.ThresholdedReLU: elementwise,
    act_layers.PReLU: prelu_layer,
    normalization.BatchNormalization: batch_norm_layer,
    dropout.Dropout: identity_layer,
    augmentation.GaussianNoise: identity_layer,
    augmentation.RandomFlip: identity_layer,
    augmentation.RandomRotation: identity_layer,
    augmentation.RandomTranslation: identity_layer,
    augmentation.RandomZoom: identity_layer,
    augmentation.RandomCrop: identity_layer,
}
MULTI_INPUT = {
    merging.Add: merge_layer, merging.Subtract: merge_layer, merging.Multiply: merge_layer,
    merging.Average: merge_layer, merging.Maximum: merge_layer, merging.Minimum: merge_layer,
    merging.Concatenate: concatenate_layer,
}
