"""ResNet50 (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016), laid out as
``keras.applications.ResNet50``: same layers, names and order, so Keras-format weights of the
same configuration load into it."""

from __future__ import annotations

from ..layers import Activation, Add, BatchNormalization, Conv2D, MaxPooling2D, ZeroPadding2D
from ..models import Model
from . import _common

_EPS = 1.001e-5  # Keras' value, kept so that its weights reproduce its outputs


def _bottleneck(x, filters, stride=1, conv_shortcut=True, name=None):
    """1×1 (stride ``stride``) → 3×3 → 1×1 with ``4 * filters`` outputs, each normalized; the
    shortcut is a projection (1×1 convolution + normalization) in a stage's first block."""
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = BatchNormalization(epsilon=_EPS, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = BatchNormalization(epsilon=_EPS, name=f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = BatchNormalization(epsilon=_EPS, name=f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = BatchNormalization(epsilon=_EPS, name=f"{name}_3_bn")(x)
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def _stack(x, filters, blocks, stride1=2, name=None):
    x = _bottleneck(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _bottleneck(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def ResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="resnet50"):
    """ResNet50 (v1) as Keras builds it: a 7×7/2 convolution (after 3-pixel zero padding), 3×3/2
    max pooling (after 1-pixel zero padding), then bottleneck stages ``conv2``–``conv5`` of 3, 4,
    6 and 3 blocks (64, 128, 256, 512 bottleneck filters; outputs four times that), every
    convolution with a bias and followed by batch normalization with epsilon 1.001e-5;
    ``include_top=True`` ends with global average pooling and a Dense classifier.

    25,636,712 parameters at the defaults (224×224×3 input, 1000 classes); 23,587,712 without
    the classifier.

    Args:
        include_top: whether to end with ``avg_pool`` and the Dense ``predictions`` layer.
        weights: ``None`` only (random initialization). nncore downloads no pretrained weights;
            Keras-format weights load with ``model.load_weights("x.weights.h5")``.
        input_tensor: optional symbolic tensor (``nncore.Input`` or a layer output) to build on.
        input_shape: ``(height, width, channels)``; each side at least 32. With
            ``include_top=True`` it must be fully known (default ``(224, 224, 3)``); without the
            classifier the default is ``(None, None, 3)``.
        pooling: with ``include_top=False``: ``None`` (4-D output of ``conv5``), ``"avg"`` or
            ``"max"`` (global pooling to ``(batch, 2048)``).
        classes: number of classes of the classifier (``include_top=True``).
        classifier_activation: activation of the classifier (``None`` for logits).
        name: the model's name.
    """
    inputs, x = _common.checked_input("ResNet50", weights, pooling, classes, include_top,
                                      input_tensor, input_shape, default_size=224,
                                      min_size=32, require_flatten=include_top)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
    x = Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = BatchNormalization(epsilon=_EPS, name="conv1_bn")(x)
    x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = _stack(x, 64, 3, stride1=1, name="conv2")
    x = _stack(x, 128, 4, name="conv3")
    x = _stack(x, 256, 6, name="conv4")
    x = _stack(x, 512, 3, name="conv5")
    x = _common.avg_pool_top(x, include_top, pooling, classes, classifier_activation)
    return Model(inputs, x, name=name)
