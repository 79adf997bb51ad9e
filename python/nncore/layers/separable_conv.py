"""SeparableConv2D: a depthwise convolution followed by a 1x1 (pointwise) convolution."""

from __future__ import annotations

from .. import activations, constraints, ops
from ..errors import ShapeError
from ..serialization import config_value, register
from ._conv_utils import normalize_padding, spatial_output_shape
from .base import Layer
from .conv import _positive_tuple, standardize_data_format
from .depthwise_conv import ChannelsFirstMixin, check_strides_and_dilation, positive_int


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
        self.kernel_size = _positive_tuple(kernel_size, "kernel_size")
        self.strides = _positive_tuple(strides, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = standardize_data_format(data_format, "SeparableConv2D")
        self.dilation_rate = _positive_tuple(dilation_rate, "dilation_rate")
        check_strides_and_dilation("SeparableConv2D", self.strides, self.dilation_rate)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.bias_initializer = bias_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.bias_regularizer = bias_regularizer
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.depthwise_kernel = None
        self.pointwise_kernel = None
        self.bias = None

    def _desc(self) -> str:
        return f"SeparableConv2D '{self.name}'"

    def build(self, input_shape):
        shape = self._last_shape(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ShapeError(f"{self._desc()} expects a 4-D input (batch, height, width, channels) "
                             f"with known channels, got shape {tuple(input_shape)}")
        spatial_output_shape(self._desc(), shape, self.kernel_size, self.strides, self.padding,
                             self.dilation_rate)
        cin = int(shape[-1])
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, cin, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, cin * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        super().build(input_shape)

    def _output_shape_last(self, input_shape):
        h, w = spatial_output_shape(self._desc(), input_shape, self.kernel_size, self.strides,
                                    self.padding, self.dilation_rate)
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
            "depthwise_initializer": config_value(self.depthwise_initializer),
            "pointwise_initializer": config_value(self.pointwise_initializer),
            "bias_initializer": config_value(self.bias_initializer),
            "depthwise_regularizer": config_value(self.depthwise_regularizer),
            "pointwise_regularizer": config_value(self.pointwise_regularizer),
            "bias_regularizer": config_value(self.bias_regularizer),
            "activity_regularizer": None,
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
