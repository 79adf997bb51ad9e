"""Pooling layers over NHWC inputs: max, average and global average."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import register
from ._conv_utils import check_data_format, normalize_padding, normalize_tuple, spatial_output_shape
from . import _workspace
from .base import Layer


class _Pooling2D(Layer):
    _kind = ""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, type(self).__name__)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)

    def compute_output_shape(self, input_shape):
        h, w = spatial_output_shape(f"{type(self).__name__} '{self.name}'", input_shape,
                                    self.pool_size, self.strides, self.padding)
        return (input_shape[0], h, w, input_shape[3])

    def _args(self):
        return {"strides": self.strides, "padding": self.padding}

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": "channels_last"}


@register("layer", "MaxPool2D")
class MaxPooling2D(_Pooling2D):
    """Max pooling (Keras semantics; strides default to pool_size; padded cells never win)."""

    def forward(self, x, training=False):
        if training:
            shape = self._output_shape(x.shape)
            y, argmax = ops.max_pool2d_with_argmax(
                x, self.pool_size, out=_workspace.buffer(self, "y", shape, x.dtype),
                argmax_out=_workspace.buffer(self, "argmax", shape, np.int32), **self._args())
            self._cache = (argmax, x.shape, x.dtype)
        else:
            y = ops.max_pool2d(x, self.pool_size, **self._args())
            self._cache = x
        return y

    def backward(self, grad_out):
        if isinstance(self._cache, tuple):
            argmax, x_shape, dtype = self._cache
            return ops.max_pool2d_backward_argmax(
                grad_out, argmax, x_shape, pool_size=self.pool_size,
                out=_workspace.buffer(self, "dx", x_shape, dtype), **self._args())
        return ops.max_pool2d_backward(grad_out, self._cache, self.pool_size, **self._args())


MaxPool2D = MaxPooling2D


@register("layer", "AvgPool2D")
class AveragePooling2D(_Pooling2D):
    """Average pooling (Keras semantics: with 'same', padded cells are not counted)."""

    def forward(self, x, training=False):
        self._cache = x.shape
        return ops.avg_pool2d(x, self.pool_size, **self._args())

    def backward(self, grad_out):
        return ops.avg_pool2d_backward(grad_out, self._cache, self.pool_size, **self._args())


AvgPool2D = AveragePooling2D


@register("layer", "GlobalAvgPool2D")
class GlobalAveragePooling2D(Layer):
    """Mean over height and width: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, "GlobalAveragePooling2D")
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(
                f"GlobalAveragePooling2D '{self.name}' expects a 4-D input, got shape {tuple(input_shape)}"
            )
        n, c = input_shape[0], input_shape[3]
        return (n, 1, 1, c) if self.keepdims else (n, c)

    def forward(self, x, training=False):
        self._cache = x.shape
        y = ops.global_avg_pool2d(x)
        return y.reshape(x.shape[0], 1, 1, x.shape[3]) if self.keepdims else y

    def backward(self, grad_out):
        g = grad_out.reshape(grad_out.shape[0], grad_out.shape[-1])
        return ops.global_avg_pool2d_backward(g, self._cache)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


GlobalAvgPool2D = GlobalAveragePooling2D
