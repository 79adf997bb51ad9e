"""VGG16 (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015), laid out as ``keras.applications.VGG16``: same layers, names and order,
so Keras-format weights of the same configuration load into it."""

from __future__ import annotations

from ..layers import Conv2D, Dense, Flatten, MaxPooling2D
from ..models import Model
from . import _common

# (block, filters, convolutions): configuration "D" of the paper.
_BLOCKS = ((1, 64, 2), (2, 128, 2), (3, 256, 3), (4, 512, 3), (5, 512, 3))


def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg16"):
    """VGG16 as Keras builds it: 13 3×3 ReLU convolutions in five blocks each closed by 2×2 max
    pooling, then (``include_top=True``) Flatten and Dense 4096, 4096, ``classes``.

    138,357,544 parameters at the defaults (224×224×3 input, 1000 classes); 14,714,688 without
    the classifier (at any input size).

    Args:
        include_top: whether to end with the three fully connected layers.
        weights: ``None`` only (random initialization). nncore downloads no pretrained weights;
            Keras-format weights load with ``model.load_weights("x.weights.h5")``.
        input_tensor: optional symbolic tensor (``nncore.Input`` or a layer output) to build on.
        input_shape: ``(height, width, channels)``; each side at least 32. With
            ``include_top=True`` it must be fully known (default ``(224, 224, 3)``); without the
            classifier the default is ``(None, None, 3)``.
        pooling: with ``include_top=False``: ``None`` (4-D output of the last block), ``"avg"``
            or ``"max"`` (global pooling to ``(batch, 512)``).
        classes: number of classes of the classifier (``include_top=True``).
        classifier_activation: activation of the last Dense layer (``None`` for logits).
        name: the model's name.
    """
    inputs, x = _common.checked_input("VGG16", weights, pooling, classes, include_top,
                                      input_tensor, input_shape, default_size=224,
                                      min_size=32, require_flatten=include_top)
    for block, filters, convs in _BLOCKS:
        for i in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                       name=f"block{block}_conv{i}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.global_pool(x, pooling)
    return Model(inputs, x, name=name)
