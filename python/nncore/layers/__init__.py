"""Layers (Keras names and semantics; NHWC images)."""

from .augmentation import (
    GaussianNoise,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from .activation_layers import ELU, PReLU, Activation, LeakyReLU, ReLU, Softmax, ThresholdedReLU
from .base import Input, InputLayer, Layer, SymbolicTensor
from .conv import Conv2D
from .conv_transpose import Conv2DTranspose
from .depthwise_conv import DepthwiseConv2D
from .dense import Dense
from .dropout import Dropout, SpatialDropout2D
from .lambda_layer import Lambda
from .maxout import Maxout
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .normalization import BatchNormalization
from .padding import Cropping2D, ZeroPadding2D
from .pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)
from .reshaping import Flatten, Reshape
from .rescaling import Rescaling
from .separable_conv import SeparableConv2D
from .upsampling import UpSampling2D

Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D

__all__ = [
    "Activation", "Add", "Average", "AveragePooling2D", "AvgPool2D", "BatchNormalization", "Concatenate",
    "Conv2D", "Conv2DTranspose", "Convolution2D", "Convolution2DTranspose", "Cropping2D", "Dense",
    "DepthwiseConv2D", "Dropout", "ELU", "Flatten", "GaussianNoise",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalMaxPooling2D", "Input", "InputLayer", "Lambda", "Layer", "LeakyReLU", "MaxPool2D", "MaxPooling2D",
    "Maximum", "Maxout", "Minimum", "Multiply", "PReLU", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom", "ReLU", "Rescaling", "Reshape", "SeparableConv2D", "SeparableConvolution2D", "Softmax",
    "SpatialDropout2D", "Subtract", "SymbolicTensor", "ThresholdedReLU", "UpSampling2D", "ZeroPadding2D",
]


def get(identifier):
    """A layer from a config dict ``{"class_name": ..., "config": ...}`` (or a Layer as is)."""
    from ..serialization import get as _get

    return _get("layer", identifier, Layer)
