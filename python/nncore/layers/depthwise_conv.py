"""DepthwiseConv2D: each input channel convolved with its own ``depth_multiplier`` filters."""

from __future__ import annotations

import numpy as np

from .. import activations, ops
from ..errors import ShapeError
from ..serialization import register
from ._conv_args import positive_int, store_window_args
from ._conv_utils import spatial_output_shape
from . import _workspace
from ._weight_args import add_weight_from_args, store_kernel_and_bias_args, weight_args_config
from .base import Layer
from .conv import shape_to_first, shape_to_last, standardize_data_format, to_first, to_last


class ChannelsFirstMixin:
    """Channels-first inputs are transposed to channels-last around ``_forward_last`` and
    ``_backward_last`` (the kernels are NHWC only)."""

    def _channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def _last_shape(self, input_shape):
        if self._channels_first() and len(input_shape) == 4:
            return shape_to_last(input_shape)
        return tuple(input_shape)

    def _build_shape(self, input_shape):
        """The channels-last shape of an input the layer can build its weights for."""
        shape = self._last_shape(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ShapeError(f"{self._desc()} expects a 4-D input (batch, height, width, channels) "
                             f"with known channels, got shape {tuple(input_shape)}")
        return shape

    def _window_output(self, shape):
        """(H_out, W_out) of the windowed (depthwise) step for an NHWC ``shape``."""
        return spatial_output_shape(self._desc(), shape, self.kernel_size, self.strides,
                                    self.padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        out = self._output_shape_last(self._last_shape(input_shape))
        return shape_to_first(out) if self._channels_first() and len(input_shape) == 4 else out

    def forward(self, x, training=False):
        if self._channels_first():
            return to_first(self._forward_last(to_last(x), None))
        out = _workspace.buffer(self, "y", self._output_shape(x.shape), x.dtype) \
            if self.activation is None else None
        return self._forward_last(x, out)

    def backward(self, grad_out):
        if self._channels_first():
            dx = self._backward_last(to_last(grad_out))
            return None if dx is None else to_first(dx)
        return self._backward_last(grad_out)

    def _activate(self, x, z, extra=None):
        """y = activation(z); the cache keeps what backward needs (``extra``: the layer's own)."""
        act = self.activation
        y = z if act is None else act.forward(z)
        # Without an activation backward reads only x and ``extra``: the output is not kept, so
        # it is freed once the layer reading it has run its backward.
        self._cache = (x, None, None, None, extra) if act is None else (x, z, y, act, extra)
        return y

    def _grad_of_z(self, grad_out):
        """(forward input, gradient with respect to z, the ``extra`` of _activate)."""
        x, z, y, act, extra = self._cache
        g = grad_out if act is None else act.backward(grad_out, z, y)
        return x, np.ascontiguousarray(g), extra


@register("layer")
class DepthwiseConv2D(ChannelsFirstMixin, Layer):
    """Depthwise 2-D convolution (Keras semantics): kernel ``(kh, kw, in_channels,
    depth_multiplier)``, bias ``(in_channels * depth_multiplier,)``; output channel
    ``c * depth_multiplier + m`` is channel ``c`` filtered by ``kernel[:, :, c, m]``.
    ``padding='same'`` gives ``ceil(size / stride)`` outputs (extra padding bottom/right)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", "DepthwiseConv2D")
        self.data_format = standardize_data_format(data_format, "DepthwiseConv2D")
        store_window_args(self, "DepthwiseConv2D", kernel_size, strides, padding, dilation_rate)
        store_kernel_and_bias_args(
            self, activation, use_bias,
            (depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            (bias_initializer, bias_regularizer, bias_constraint), kernel_args="depthwise")

    def _desc(self) -> str:
        return f"DepthwiseConv2D '{self.name}'"

    def build(self, input_shape):
        shape = self._build_shape(input_shape)
        self._window_output(shape)
        cin = int(shape[-1])
        self.kernel = add_weight_from_args(
            self, "kernel", (*self.kernel_size, cin, self.depth_multiplier), "depthwise")
        if self.use_bias:
            self.bias = add_weight_from_args(self, "bias", (cin * self.depth_multiplier,))
        super().build(input_shape)

    def _output_shape_last(self, input_shape):
        h, w = self._window_output(input_shape)
        if self.kernel is not None and input_shape[-1] != self.kernel.shape[2]:
            raise ShapeError(f"{self._desc()} expects {self.kernel.shape[2]} input channels, got "
                             f"{input_shape[-1]} (input shape {tuple(input_shape)})")
        cin = input_shape[-1]
        return (input_shape[0], h, w, None if cin is None else cin * self.depth_multiplier)

    def _conv_args(self):
        return {"strides": self.strides, "padding": self.padding, "dilation": self.dilation_rate}

    def _forward_last(self, x, out):
        bias = self.bias.value if self.bias is not None else None
        z = ops.depthwise_conv2d(x, self.kernel.value, bias, out=out, **self._conv_args())
        return self._activate(x, z)

    def _backward_last(self, grad_out):
        x, g, _ = self._grad_of_z(grad_out)
        if self.trainable:
            ops.depthwise_conv2d_backward_weight(x, g, self.kernel.shape, out=self.kernel.grad,
                                                 accumulate=True, **self._conv_args())
            if self.bias is not None:
                ops.conv2d_backward_bias(g, out=self.bias.grad, accumulate=True)
        if not self.needs_input_grad:
            return None
        return ops.depthwise_conv2d_backward_input(
            g, self.kernel.value, x.shape, out=_workspace.buffer(self, "dx", x.shape, x.dtype),
            **self._conv_args())

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, ("depthwise", "bias"), activity_regularizer=True),
        }
