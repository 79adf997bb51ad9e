"""ResNet-20 for CIFAR-10 (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
CVPR 2016, section 4.2), in the style of ``keras.applications`` constructors."""

from __future__ import annotations

from ..layers import (Activation, Add, BatchNormalization, Concatenate, Conv2D, MaxPooling2D,
                      Subtract)
from ..models import Model
from . import _common

_BN = dict(momentum=0.9, epsilon=1.001e-5)


def _shortcut_a(x, name):
    """Option A of the paper: the identity, subsampled by 2 in space and with its channels doubled
    by zeros. Built from stock layers (no parameters) so the model stays exportable to Keras and
    ONNX: a 1×1 max pooling of stride 2 keeps every other pixel, and ``x - x`` supplies the zero
    channels (as many as ``x`` has, which is what doubling needs)."""
    x = MaxPooling2D(1, strides=2, name=f"{name}_0_pool")(x)
    zeros = Subtract(name=f"{name}_0_zeros")([x, x])
    return Concatenate(name=f"{name}_0_pad")([x, zeros])


def _basic_block(x, filters, stride, name):
    shortcut = _shortcut_a(x, name) if stride != 1 else x
    x = Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
               kernel_initializer="he_normal", name=f"{name}_1_conv")(x)
    x = BatchNormalization(**_BN, name=f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
               name=f"{name}_2_conv")(x)
    x = BatchNormalization(**_BN, name=f"{name}_2_bn")(x)
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def ResNet20(include_top=True, weights=None, input_tensor=None, input_shape=(32, 32, 3),
             pooling=None, classes=10, classifier_activation="softmax", name="resnet20"):
    """The 20-layer CIFAR-10 ResNet of He et al. (2016), section 4.2.

    A 3×3 convolution with 16 filters, then three stages of three basic blocks (two 3×3
    convolutions each) with 16, 32 and 64 filters on 32×32, 16×16 and 8×8 maps (the first
    convolution of stages two and three has stride 2), global average pooling and a Dense
    ``classes``-way classifier: 6·3 + 2 = 20 weighted layers. Every convolution is followed by
    batch normalization (momentum 0.9, epsilon 1.001e-5) and has no bias (the normalization's
    offset takes its place); kernels use He-normal initialization, as in the paper.

    Shortcuts use the paper's **option A**: identity everywhere, and where the stage changes,
    identity subsampled with stride 2 and its channels zero-padded to the new width — no
    parameters in any shortcut. At the defaults (32×32×3 input, 10 classes) the model has
    **271,098 parameters** (269,722 trainable; the other 1,376 are the normalizations' moving
    means and variances), the paper's "0.27M". Without the classifier: 270,448.

    Args:
        include_top: whether to end with global average pooling and the Dense classifier.
        weights: ``None`` only (random initialization); nncore downloads no pretrained weights,
            weights saved in Keras' format load with ``model.load_weights("x.weights.h5")``.
        input_tensor: optional symbolic tensor to build on.
        input_shape: ``(height, width, channels)``, default ``(32, 32, 3)``; sides at least 8
            (``None`` sides are allowed: the classifier follows global pooling).
        pooling: with ``include_top=False``: ``None`` (the 4-D output of the last stage),
            ``"avg"`` or ``"max"``.
        classes: number of classes (``include_top=True``).
        classifier_activation: activation of the classifier (``None`` for logits).
        name: the model's name.
    """
    inputs, x = _common.checked_input("ResNet20", weights, pooling, classes, include_top,
                                      input_tensor, input_shape, default_size=32,
                                      min_size=8, require_flatten=False)
    x = Conv2D(16, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
               name="conv1_conv")(x)
    x = BatchNormalization(**_BN, name="conv1_bn")(x)
    x = Activation("relu", name="conv1_relu")(x)
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(1, 4):
            stride = 2 if stage > 0 and block == 1 else 1
            x = _basic_block(x, filters, stride, name=f"conv{stage + 2}_block{block}")
    x = _common.avg_pool_top(x, include_top, pooling, classes, classifier_activation)
    return Model(inputs, x, name=name)
