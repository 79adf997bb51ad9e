"""Conv2D: 2-D convolution over NHWC inputs with HWIO kernels (Keras layout)."""

from __future__ import annotations

import numpy as np

from .. import activations, constraints, ops
from ..errors import ShapeError
from ..serialization import config_value, register
from ._conv_utils import check_data_format, normalize_padding, normalize_tuple, spatial_output_shape
from . import _workspace
from .base import Layer


@register("layer", "Convolution2D")
class Conv2D(Layer):
    """2-D convolution (Keras semantics): kernel ``(kh, kw, in_channels, filters)``, bias ``(filters,)``.

    Inputs are ``(batch, height, width, channels)``; ``padding='same'`` gives
    ``ceil(size / stride)`` outputs with the extra padding at the bottom/right, as in Keras.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"Conv2D: filters must be a positive int, got {filters!r}")
        check_data_format(data_format, "Conv2D")
        if groups != 1:
            raise ValueError("Conv2D: groups != 1 (grouped convolution) is not supported")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Conv2D: strides > 1 together with dilation_rate > 1 is not allowed (as in Keras)")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = None
        self.bias = None

    def _desc(self) -> str:
        return f"Conv2D '{self.name}'"

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ShapeError(
                f"{self._desc()} expects a 4-D input (batch, height, width, channels) with known "
                f"channels, got shape {tuple(input_shape)}"
            )
        spatial_output_shape(self._desc(), input_shape, self.kernel_size, self.strides,
                             self.padding, self.dilation_rate)
        cin = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", (*self.kernel_size, cin, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        h, w = spatial_output_shape(self._desc(), input_shape, self.kernel_size, self.strides,
                                    self.padding, self.dilation_rate)
        if self.kernel is not None and input_shape[-1] != self.kernel.shape[2]:
            raise ShapeError(
                f"{self._desc()} expects {self.kernel.shape[2]} input channels, got "
                f"{input_shape[-1]} (input shape {tuple(input_shape)})"
            )
        return (input_shape[0], h, w, self.filters)

    def _conv_args(self):
        return {"strides": self.strides, "padding": self.padding, "dilation": self.dilation_rate}

    def forward(self, x, training=False):
        return self._forward(x, self.activation)

    def forward_logits(self, x, training=False):
        """The output before the activation, for a model whose loss applies the activation
        itself (softmax + cross-entropy); backward then takes gradients of these logits."""
        return self._forward(x, None)

    def _forward(self, x, act):
        bias = self.bias.value if self.bias is not None else None
        out = _workspace.buffer(self, "y", self._output_shape(x.shape), x.dtype)
        if act is not None and act.name == "relu" and not act.params:
            # ReLU applied as the output is written; relu' reads y (y > 0 iff z > 0).
            y = ops.conv2d(x, self.kernel.value, bias, activation="relu", out=out,
                           **self._conv_args())
            self._cache = (x, y, y, act)
            return y
        z = ops.conv2d(x, self.kernel.value, bias, out=out, **self._conv_args())
        y = z if act is None else act.forward(z)
        self._cache = (x, z, y, act)
        return y

    def backward(self, grad_out):
        x, z, y, act = self._cache
        g = grad_out if act is None else act.backward(grad_out, z, y)
        if self.trainable:
            ops.conv2d_backward_weight(x, g, self.kernel.shape, out=self.kernel.grad, accumulate=True,
                                       **self._conv_args())
            if self.bias is not None:
                ops.conv2d_backward_bias(g, out=self.bias.grad, accumulate=True)
        if not self.needs_input_grad:
            return None
        return ops.conv2d_backward_input(g, self.kernel.value, x.shape,
                                         out=_workspace.buffer(self, "dx", x.shape, x.dtype),
                                         **self._conv_args())

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": "channels_last",
            "dilation_rate": list(self.dilation_rate),
            "groups": 1,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": config_value(self.kernel_initializer),
            "bias_initializer": config_value(self.bias_initializer),
            "kernel_regularizer": config_value(self.kernel_regularizer),
            "bias_regularizer": config_value(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
