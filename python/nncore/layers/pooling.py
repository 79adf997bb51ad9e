"""Pooling layers over NHWC inputs (NCHW with data_format="channels_first", transposed to NHWC
for the computation and back): max, average and global average."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import register
from ._conv_utils import normalize_padding, normalize_tuple, spatial_output_shape
from . import _workspace
from .base import Layer
from .conv import shape_to_first, shape_to_last, standardize_data_format, to_first, to_last


class _Pooling2D(Layer):
    _kind = ""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first" and len(input_shape) == 4
        shape = shape_to_last(input_shape) if first else input_shape
        h, w = spatial_output_shape(f"{type(self).__name__} '{self.name}'", shape,
                                    self.pool_size, self.strides, self.padding)
        out = (shape[0], h, w, shape[3])
        return shape_to_first(out) if first else out

    def forward(self, x, training=False):
        if self.data_format == "channels_first":
            return to_first(self._pool(to_last(x), training, reuse=False))
        return self._pool(x, training, reuse=True)

    def backward(self, grad_out):
        if self.data_format == "channels_first":
            return to_first(self._unpool(to_last(grad_out), reuse=False))
        return self._unpool(grad_out, reuse=True)

    def _args(self):
        return {"strides": self.strides, "padding": self.padding}

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


@register("layer", "MaxPool2D")
class MaxPooling2D(_Pooling2D):
    """Max pooling (Keras semantics; strides default to pool_size; padded cells never win)."""

    def _pool(self, x, training, reuse):
        if training:
            # Step buffers only where the layer's output is the array returned (channels_last).
            shape = self._output_shape(x.shape) if reuse else None
            y, argmax = ops.max_pool2d_with_argmax(
                x, self.pool_size, out=_workspace.buffer(self, "y", shape, x.dtype) if reuse else None,
                argmax_out=_workspace.buffer(self, "argmax", shape, np.int32) if reuse else None,
                **self._args())
            self._cache = (argmax, x.shape, x.dtype)
        else:
            y = ops.max_pool2d(x, self.pool_size, **self._args())
            self._cache = x
        return y

    def _unpool(self, grad_out, reuse):
        if isinstance(self._cache, tuple):
            argmax, x_shape, dtype = self._cache
            return ops.max_pool2d_backward_argmax(
                grad_out, argmax, x_shape, pool_size=self.pool_size,
                out=_workspace.buffer(self, "dx", x_shape, dtype) if reuse else None, **self._args())
        return ops.max_pool2d_backward(grad_out, self._cache, self.pool_size, **self._args())


MaxPool2D = MaxPooling2D


@register("layer", "AvgPool2D")
class AveragePooling2D(_Pooling2D):
    """Average pooling (Keras semantics: with 'same', padded cells are not counted)."""

    def _pool(self, x, training, reuse):
        self._cache = x.shape
        return ops.avg_pool2d(x, self.pool_size, **self._args())

    def _unpool(self, grad_out, reuse):
        return ops.avg_pool2d_backward(grad_out, self._cache, self.pool_size, **self._args())


AvgPool2D = AveragePooling2D


@register("layer", "GlobalAvgPool2D")
class GlobalAveragePooling2D(Layer):
    """Mean over height and width: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims
    ((N, C, H, W) -> (N, C) or (N, C, 1, 1) with data_format="channels_first")."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, "GlobalAveragePooling2D")
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(
                f"GlobalAveragePooling2D '{self.name}' expects a 4-D input, got shape {tuple(input_shape)}"
            )
        first = self.data_format == "channels_first"
        n, c = input_shape[0], input_shape[1 if first else 3]
        if not self.keepdims:
            return (n, c)
        return (n, c, 1, 1) if first else (n, 1, 1, c)

    def forward(self, x, training=False):
        first = self.data_format == "channels_first"
        if first:
            x = to_last(x)
        self._cache = x.shape
        y = ops.global_avg_pool2d(x)
        if not self.keepdims:
            return y
        return y.reshape(x.shape[0], x.shape[3], 1, 1) if first else y.reshape(x.shape[0], 1, 1, x.shape[3])

    def backward(self, grad_out):
        g = np.ascontiguousarray(grad_out.reshape(grad_out.shape[0], -1))
        dx = ops.global_avg_pool2d_backward(g, self._cache)
        return to_first(dx) if self.data_format == "channels_first" else dx

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


GlobalAvgPool2D = GlobalAveragePooling2D


@register("layer", "GlobalMaxPool2D")
class GlobalMaxPooling2D(GlobalAveragePooling2D):
    """Maximum over height and width: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims
    ((N, C, H, W) -> (N, C) or (N, C, 1, 1) with data_format="channels_first"). The gradient goes
    to the first maximum of each channel (row-major), as MaxPooling2D's; a NaN is the maximum."""

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(
                f"GlobalMaxPooling2D '{self.name}' expects a 4-D input, got shape {tuple(input_shape)}"
            )
        return super().compute_output_shape(input_shape)

    def forward(self, x, training=False):
        self._output_shape(x.shape)
        first = self.data_format == "channels_first"
        # (N, pixels, C) for channels_last, (N, C, pixels) for channels_first: no transpose.
        flat = x.reshape(x.shape[0], x.shape[1], -1) if first else x.reshape(x.shape[0], -1, x.shape[3])
        axis = 2 if first else 1
        where = np.argmax(flat, axis=axis)
        y = np.take_along_axis(flat, np.expand_dims(where, axis), axis=axis)
        self._cache = (where, x.shape, axis)
        y = y.reshape(y.shape[0], -1)
        if not self.keepdims:
            return y
        return y.reshape(x.shape[0], x.shape[1], 1, 1) if first else y.reshape(x.shape[0], 1, 1, x.shape[3])

    def backward(self, grad_out):
        where, shape, axis = self._cache
        n = shape[0]
        g = grad_out.reshape(n, -1)
        pixels = shape[2] * shape[3] if axis == 2 else shape[1] * shape[2]
        flat = np.zeros((n, g.shape[1], pixels) if axis == 2 else (n, pixels, g.shape[1]), grad_out.dtype)
        np.put_along_axis(flat, np.expand_dims(where, axis), np.expand_dims(g, axis), axis=axis)
        return flat.reshape(shape)


GlobalMaxPool2D = GlobalMaxPooling2D
