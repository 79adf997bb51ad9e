"""SeparableConv2D: a depthwise convolution followed by a 1x1 (pointwise) convolution."""

from __future__ import annotations

from .. import activations, ops
from ..errors import ShapeError
from ..serialization import register
from ._conv_args import positive_int, store_window_args
from ._weight_args import add_weight_from_args, store_weight_args, weight_args_config
from .base import Layer
from .conv import standardize_data_format
from .depthwise_conv import ChannelsFirstMixin


@register("layer", "SeparableConvolution2D")
class SeparableConv2D(ChannelsFirstMixin, Layer):
    """Depthwise then pointwise 2-D convolution (Keras semantics). Weights, in Keras' order:
    ``depthwise_kernel`` ``(kh, kw, in_channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, 1, in_channels * depth_multiplier, filters)`` and ``bias`` ``(filters,)``. Strides,
    padding and dilation apply to the depthwise step; the activation follows the bias."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = positive_int(filters, "filters", "SeparableConv2D")
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", "SeparableConv2D")
        self.data_format = standardize_data_format(data_format, "SeparableConv2D")
        store_window_args(self, "SeparableConv2D", kernel_size, strides, padding, dilation_rate)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        store_weight_args(
            self, depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            pointwise=(pointwise_initializer, pointwise_regularizer, pointwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.depthwise_kernel = None
        self.pointwise_kernel = None
        self.bias = None

    def _desc(self) -> str:
        return f"SeparableConv2D '{self.name}'"

    def build(self, input_shape):
        shape = self._build_shape(input_shape)
        self._window_output(shape)
        cin = int(shape[-1])
        self.depthwise_kernel = add_weight_from_args(
            self, "depthwise_kernel", (*self.kernel_size, cin, self.depth_multiplier), "depthwise")
        self.pointwise_kernel = add_weight_from_args(
            self, "pointwise_kernel", (1, 1, cin * self.depth_multiplier, self.filters), "pointwise")
        if self.use_bias:
            self.bias = add_weight_from_args(self, "bias", (self.filters,))
        super().build(input_shape)

    def _output_shape_last(self, input_shape):
        h, w = self._window_output(input_shape)
        if self.depthwise_kernel is not None and input_shape[-1] != self.depthwise_kernel.shape[2]:
            raise ShapeError(f"{self._desc()} expects {self.depthwise_kernel.shape[2]} input "
                             f"channels, got {input_shape[-1]} (input shape {tuple(input_shape)})")
        return (input_shape[0], h, w, self.filters)

    def _dw_args(self):
        return {"strides": self.strides, "padding": self.padding, "dilation": self.dilation_rate}

    def _forward_last(self, x, out):
        h = ops.depthwise_conv2d(x, self.depthwise_kernel.value, **self._dw_args())
        bias = self.bias.value if self.bias is not None else None
        z = ops.conv2d(h, self.pointwise_kernel.value, bias, out=out)
        return self._activate(x, z, h)

    def _backward_last(self, grad_out):
        x, g, h = self._grad_of_z(grad_out)
        if self.trainable:
            ops.conv2d_backward_weight(h, g, self.pointwise_kernel.shape,
                                       out=self.pointwise_kernel.grad, accumulate=True)
            if self.bias is not None:
                ops.conv2d_backward_bias(g, out=self.bias.grad, accumulate=True)
        if not self.trainable and not self.needs_input_grad:
            return None
        dh = ops.conv2d_backward_input(g, self.pointwise_kernel.value, h.shape)
        if self.trainable:
            ops.depthwise_conv2d_backward_weight(x, dh, self.depthwise_kernel.shape,
                                                 out=self.depthwise_kernel.grad, accumulate=True,
                                                 **self._dw_args())
        if not self.needs_input_grad:
            return None
        return ops.depthwise_conv2d_backward_input(dh, self.depthwise_kernel.value, x.shape,
                                                   **self._dw_args())

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, ("depthwise", "pointwise", "bias"), activity_regularizer=True),
        }
