"""Ready-made architectures with Keras 3's constructors (``keras.applications``), built from
nncore layers with Keras' layer names and order, so that weights saved by Keras for the same
configuration load with ``model.load_weights("x.weights.h5")``.

Only ``weights=None`` (random initialization): nncore downloads no pretrained weights.

- ``VGG16``: 138,357,544 parameters at the defaults.
- ``ResNet20``: the CIFAR-10 network of He et al. (2016), section 4.2.
"""

from .resnet_cifar import ResNet20
from .vgg16 import VGG16

__all__ = ["ResNet20", "VGG16"]
