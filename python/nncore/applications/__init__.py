"""Ready-made architectures with Keras 3's constructors (``keras.applications``).

``VGG16``, ``ResNet50`` and ``MobileNetV2`` are built from nncore layers with Keras' layer names, types and order,
so weights Keras saved for the same configuration (``model.save_weights("x.weights.h5")``) load
with ``model.load_weights("x.weights.h5")``. ``ResNet20`` (He et al. 2016's CIFAR-10 network)
and ``UNet`` (a small encoder–decoder for segmentation) follow the same conventions.

Only ``weights=None`` (random initialization): nncore downloads no pretrained weights.

Parameters at the defaults: VGG16 138,357,544; ResNet50 25,636,712; MobileNetV2 3,538,984;
ResNet20 271,098; UNet 1,966,753.
"""

from .mobilenet_v2 import MobileNetV2
from .resnet50 import ResNet50
from .resnet_cifar import ResNet20
from .unet import UNet
from .vgg16 import VGG16

__all__ = ["MobileNetV2", "ResNet20", "ResNet50", "UNet", "VGG16"]
