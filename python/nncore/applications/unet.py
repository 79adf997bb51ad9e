"""A small U-Net (Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical
Image Segmentation", MICCAI 2015) for per-pixel classification of small images."""

from __future__ import annotations

import numbers

from ..layers import (Activation, BatchNormalization, Concatenate, Conv2D, Conv2DTranspose,
                      MaxPooling2D, UpSampling2D)
from ..models import Model
from . import _common

_UPSAMPLING = ("nearest", "bilinear", "transpose")


def _block(x, filters, name):
    """Two 3×3 convolutions, each normalized and rectified (the paper's unpadded convolutions
    become ``"same"`` ones so the output is as large as the input and skips need no cropping)."""
    for i in (1, 2):
        x = Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                   name=f"{name}_conv{i}")(x)
        x = BatchNormalization(name=f"{name}_bn{i}")(x)
        x = Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def _upsample(x, filters, upsampling, name):
    if upsampling == "transpose":
        return Conv2DTranspose(filters, 2, strides=2, name=f"{name}_up")(x)
    return UpSampling2D(2, interpolation=upsampling, name=f"{name}_up")(x)


def UNet(input_shape=(64, 64, 1), classes=1, filters=16, depth=4, upsampling="nearest",
         classifier_activation="auto", weights=None, input_tensor=None, name="unet"):
    """An encoder–decoder for segmentation: ``depth`` encoder levels (a block of two
    Conv-BN-ReLU 3×3 convolutions with ``filters * 2**level`` filters, then 2×2 max pooling),
    a bottleneck block with ``filters * 2**depth`` filters, and ``depth`` decoder levels (2×
    upsampling, concatenation with the encoder output of the same size, a block), closed by a
    1×1 convolution to ``classes`` channels. The output has the input's height and width.

    At the defaults (64×64×1 input, ``filters=16``, ``depth=4``, one class) the model has
    1,966,753 parameters (1,963,809 trainable); with ``depth=3`` and three classes, 489,155;
    with ``upsampling="transpose"``, 1,945,233.

    Args:
        input_shape: ``(height, width, channels)``; known sides must be divisible by
            ``2**depth``.
        classes: output channels: 1 for a binary mask (sigmoid), more for one-hot classes
            (softmax over the channels).
        filters: filters of the first level; each level down doubles them.
        depth: number of poolings (at least 1).
        upsampling: ``"nearest"`` or ``"bilinear"`` (``UpSampling2D``, no parameters) or
            ``"transpose"`` (a learned 2×2 stride-2 ``Conv2DTranspose`` halving the filters, as
            in the paper's up-convolution).
        classifier_activation: ``"auto"`` (sigmoid for one class, softmax for more), any
            activation name, or ``None`` for logits (for losses given ``from_logits=True``).
        weights: ``None`` only (random initialization); nncore downloads no pretrained weights.
        input_tensor: optional symbolic tensor to build on.
        name: the model's name.
    """
    _common.check_weights(weights, "UNet")
    for arg, value, low in (("classes", classes, 1), ("filters", filters, 1), ("depth", depth, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"UNet: `{arg}` must be an integer >= {low}. Received: {arg}={value!r}")
    if upsampling not in _UPSAMPLING:
        raise ValueError(f"UNet: `upsampling` must be one of {', '.join(map(repr, _UPSAMPLING))}. "
                         f"Received: upsampling={upsampling!r}")
    shape = _common.obtain_input_shape(input_shape, default_size=64, min_size=2 ** depth,
                                       require_flatten=False, architecture="UNet",
                                       default_channels=1)
    step = 2 ** depth
    if any(d is not None and d % step for d in shape[:2]):
        raise ValueError(f"UNet: with depth={depth} the input's height and width must be "
                         f"divisible by {step} (each level halves them and the decoder doubles "
                         f"them back). Received: input_shape={input_shape!r}")
    if classifier_activation == "auto":
        classifier_activation = "sigmoid" if classes == 1 else "softmax"
    inputs, x = _common.model_input(input_tensor, shape, "UNet")
    skips = []
    for level in range(depth):
        x = _block(x, filters * 2 ** level, name=f"enc{level + 1}")
        skips.append(x)
        x = MaxPooling2D(2, name=f"enc{level + 1}_pool")(x)
    x = _block(x, filters * 2 ** depth, name="bottleneck")
    for level in reversed(range(depth)):
        x = _upsample(x, filters * 2 ** level, upsampling, name=f"dec{level + 1}")
        x = Concatenate(name=f"dec{level + 1}_concat")([skips[level], x])
        x = _block(x, filters * 2 ** level, name=f"dec{level + 1}")
    x = Conv2D(classes, 1, activation=classifier_activation, name="segmentation")(x)
    return Model(inputs, x, name=name)
