"""MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", CVPR 2018), laid out as ``keras.applications.MobileNetV2``: same layers,
names and order, so Keras-format weights of the same configuration load into it."""

from __future__ import annotations

import numbers

from ..layers import (Add, BatchNormalization, Conv2D, Dense, DepthwiseConv2D,
                      GlobalAveragePooling2D, ReLU, ZeroPadding2D)
from ..models import Model
from . import _common

_BN = dict(epsilon=1e-3, momentum=0.999)
# (filters, stride, expansion) of the 17 inverted residual blocks (the paper's table 2).
_BLOCKS = ((16, 1, 1),
           (24, 2, 6), (24, 1, 6),
           (32, 2, 6), (32, 1, 6), (32, 1, 6),
           (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
           (96, 1, 6), (96, 1, 6), (96, 1, 6),
           (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def _make_divisible(value, divisor=8):
    """The nearest multiple of ``divisor`` to ``value`` (at least ``divisor``), one step up if
    rounding lost more than 10%: the channel widths of the reference implementation."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _stride2_padding(height, width):
    """Zero padding before a 3×3 stride-2 depthwise convolution, as Keras' ``correct_pad``: one
    pixel on each side, minus the top (left) one when the height (width) is even, so that the
    valid convolution samples the same pixels as TensorFlow's "same" padding."""
    top = 1 if height is None else height % 2
    left = 1 if width is None else width % 2
    return ((top, 1), (left, 1))


def _inverted_residual(x, expansion, stride, alpha, filters, block_id):
    in_channels = x.shape[-1]
    out_channels = _make_divisible(int(filters * alpha), 8)
    inputs = x
    if block_id:
        prefix = f"block_{block_id}_"
        x = Conv2D(expansion * in_channels, 1, padding="same", use_bias=False,
                   name=f"{prefix}expand")(x)
        x = BatchNormalization(**_BN, name=f"{prefix}expand_BN")(x)
        x = ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"  # the first block does not expand
    if stride == 2:
        x = ZeroPadding2D(padding=_stride2_padding(x.shape[1], x.shape[2]), name=f"{prefix}pad")(x)
    x = DepthwiseConv2D(3, strides=stride, use_bias=False,
                        padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise")(x)
    x = BatchNormalization(**_BN, name=f"{prefix}depthwise_BN")(x)
    x = ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    # Linear bottleneck: no activation after the projection.
    x = Conv2D(out_channels, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = BatchNormalization(**_BN, name=f"{prefix}project_BN")(x)
    if in_channels == out_channels and stride == 1:
        return Add(name=f"{prefix}add")([inputs, x])
    return x


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights=None, input_tensor=None,
                pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """MobileNetV2 as Keras builds it: a 3×3/2 convolution, 17 inverted residual blocks (1×1
    expansion, 3×3 depthwise, linear 1×1 projection; residual where shapes allow), a 1×1
    convolution to 1280 channels, then (``include_top=True``) global average pooling and a Dense
    classifier. Convolutions have no bias; each is followed by batch normalization (momentum
    0.999, epsilon 1e-3) and, except projections, ``ReLU(6.)``. Stride-2 depthwise convolutions
    are "valid" after explicit ``ZeroPadding2D`` as in Keras.

    3,538,984 parameters at the defaults (224×224×3 input, ``alpha=1.0``, 1000 classes);
    2,257,984 without the classifier.

    Args:
        input_shape: ``(height, width, channels)``; each side at least 32. With
            ``include_top=True`` it must be fully known (default ``(224, 224, 3)``); without the
            classifier the default is ``(None, None, 3)``.
        alpha: width multiplier: every block's filters are scaled by it (rounded to multiples of
            8); the last convolution keeps 1280 filters unless ``alpha > 1``.
        include_top: whether to end with global average pooling and the Dense classifier.
        weights: ``None`` only (random initialization). nncore downloads no pretrained weights;
            Keras-format weights load with ``model.load_weights("x.weights.h5")``.
        input_tensor: optional symbolic tensor to build on.
        pooling: with ``include_top=False``: ``None`` (the 4-D output of the last convolution),
            ``"avg"`` or ``"max"``.
        classes: number of classes of the classifier (``include_top=True``).
        classifier_activation: activation of the classifier (``None`` for logits).
        name: the model's name; by default ``mobilenetv2_{alpha:.2f}_{rows}`` as in Keras.
    """
    _common.check_weights(weights, "MobileNetV2")
    _common.check_pooling(pooling, "MobileNetV2")
    _common.check_classes(classes, include_top, "MobileNetV2")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"MobileNetV2: `alpha` must be a positive number. Received: alpha={alpha!r}")
    if input_tensor is not None and input_shape is None and hasattr(input_tensor, "shape") \
            and len(input_tensor.shape) == 4:
        input_shape = tuple(input_tensor.shape[1:])
    shape = _common.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                       require_flatten=include_top, architecture="MobileNetV2")
    if input_tensor is not None and hasattr(input_tensor, "shape") and \
            any(a is not None and b is not None and a != b
                for a, b in zip(tuple(input_tensor.shape[1:]), shape)):
        raise ValueError(f"MobileNetV2: `input_tensor` of shape {tuple(input_tensor.shape)} does "
                         f"not match input_shape={input_shape!r}")
    inputs, x = _common.model_input(input_tensor, shape, "MobileNetV2")
    x = Conv2D(_make_divisible(32 * alpha, 8), 3, strides=(2, 2), padding="same", use_bias=False,
               name="Conv1")(x)
    x = BatchNormalization(**_BN, name="bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_residual(x, expansion, stride, alpha, filters, block_id)
    last = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = BatchNormalization(**_BN, name="Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = GlobalAveragePooling2D()(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.global_pool(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{shape[0]}"
    return Model(inputs, x, name=name)
