"""Conv2D: 2-D convolution over NHWC inputs with HWIO kernels (Keras layout)."""

from __future__ import annotations

import numpy as np

from .. import _core, activations, ops
from ..errors import ShapeError
from ..serialization import register
from ._conv_args import positive_int, store_window_args
from ._conv_utils import spatial_output_shape
from . import _workspace
from ._inference import activation_call
from ._weight_args import add_weight_from_args, store_kernel_and_bias_args, weight_args_config
from .base import Layer


def standardize_data_format(data_format, layer: str) -> str:
    """'channels_last' (NHWC, also for None: Keras' default image_data_format) or
    'channels_first' (NCHW, computed by transposing to NHWC and back)."""
    if data_format is None:
        return "channels_last"
    if not isinstance(data_format, str) or data_format.lower() not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: the `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format!r}")
    return data_format.lower()


def shape_to_last(shape) -> tuple:
    """(N, C, H, W) -> (N, H, W, C) for a shape (any rank >= 2: the channels move last)."""
    shape = tuple(shape)
    return (shape[0], *shape[2:], shape[1]) if len(shape) >= 2 else shape


def shape_to_first(shape) -> tuple:
    shape = tuple(shape)
    return (shape[0], shape[-1], *shape[1:-1]) if len(shape) >= 2 else shape


def to_last(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def to_first(y: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(y, -1, 1))


@register("layer", "Convolution2D")
class Conv2D(Layer):
    """2-D convolution (Keras semantics): kernel ``(kh, kw, in_channels // groups, filters)``, bias
    ``(filters,)``. With ``groups > 1`` the input channels and the filters are split into that many
    groups, group ``i`` of the filters seeing only group ``i`` of the channels.

    Inputs are ``(batch, height, width, channels)`` (``data_format="channels_first"``:
    ``(batch, channels, height, width)``, transposed to channels-last for the computation and
    back); ``padding='same'`` gives
    ``ceil(size / stride)`` outputs with the extra padding at the bottom/right, as in Keras.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, **kwargs):
        super().__init__(**kwargs)
        if lora_rank is not None:  # accepted so that Keras configs load
            raise ValueError(f"Conv2D: lora_rank={lora_rank!r} (LoRA) is not supported")
        self.filters = positive_int(filters, "filters", "Conv2D")
        self.data_format = standardize_data_format(data_format, "Conv2D")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups}.")
        if filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={filters}.")
        self.groups = int(groups)
        store_window_args(self, "Conv2D", kernel_size, strides, padding, dilation_rate)
        store_kernel_and_bias_args(self, activation, use_bias,
                                   (kernel_initializer, kernel_regularizer, kernel_constraint),
                                   (bias_initializer, bias_regularizer, bias_constraint))

    def _desc(self) -> str:
        return f"Conv2D '{self.name}'"

    def _channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def build(self, input_shape):
        built_shape = input_shape
        if self._channels_first() and len(input_shape) == 4:
            input_shape = shape_to_last(input_shape)
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ShapeError(
                f"{self._desc()} expects a 4-D input (batch, height, width, channels) with known "
                f"channels, got shape {tuple(input_shape)}"
            )
        spatial_output_shape(self._desc(), input_shape, self.kernel_size, self.strides,
                             self.padding, self.dilation_rate)
        cin = int(input_shape[-1])
        if cin % self.groups:
            raise ShapeError(
                f"{self._desc()}: the number of input channels must be evenly divisible by the "
                f"number of groups. Received groups={self.groups}, but the input has {cin} "
                f"channels (full input shape is {tuple(input_shape)})")
        self.kernel = add_weight_from_args(
            self, "kernel", (*self.kernel_size, cin // self.groups, self.filters))
        if self.use_bias:
            self.bias = add_weight_from_args(self, "bias", (self.filters,))
        super().build(built_shape)

    def compute_output_shape(self, input_shape):
        if self._channels_first() and len(input_shape) == 4:
            return shape_to_first(self._output_shape_last(shape_to_last(input_shape)))
        return self._output_shape_last(input_shape)

    def _output_shape_last(self, input_shape):
        h, w = spatial_output_shape(self._desc(), input_shape, self.kernel_size, self.strides,
                                    self.padding, self.dilation_rate)
        if self.kernel is not None and input_shape[-1] != self.kernel.shape[2] * self.groups:
            raise ShapeError(
                f"{self._desc()} expects {self.kernel.shape[2] * self.groups} input channels, got "
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
        if self._channels_first():
            return to_first(self._forward_last(to_last(x), act, None))
        return self._forward_last(x, act, _workspace.buffer(self, "y", self._output_shape(x.shape), x.dtype))

    def _forward_last(self, x, act, out):
        if self.groups > 1:
            return self._forward_grouped(x, act)
        bias = self.bias.value if self.bias is not None else None
        if act is not None and act.name == "relu" and not act.params:
            # ReLU applied as the output is written; relu' reads y (y > 0 iff z > 0).
            y = ops.conv2d(x, self.kernel.value, bias, activation="relu", out=out,
                           **self._conv_args())
            self._cache = (x, y, y, act)
            return y
        z = ops.conv2d(x, self.kernel.value, bias, out=out, **self._conv_args())
        y = z if act is None else act.forward(z)
        self._cache = self._saved(x, z, y, act)
        return y

    @staticmethod
    def _saved(x, z, y, act):
        # Without an activation backward reads only x: the output is not kept here, so it is
        # freed (or its pool block reused) as soon as the layer reading it (a batch
        # normalization) has run its backward, not only after this layer's.
        return (x, None, None, None) if act is None else (x, z, y, act)

    def _inference_step(self, x_shape, dtype):
        """The forward of inputs of ``x_shape`` for an inference plan (``models.inference_plan``):
        the kernel call with its geometry worked out once, keeping nothing for backward."""
        cls = type(self)
        if cls.forward is not Conv2D.forward or cls._forward is not Conv2D._forward or \
                cls._forward_last is not Conv2D._forward_last or "forward" in self.__dict__ or \
                self.groups > 1 or self._channels_first() or len(x_shape) != 4:
            return None
        from ..ops._conv import _geometry

        args = self._conv_args()
        try:
            strides, dilation, pads, (oh, ow) = _geometry(
                x_shape, self.kernel.shape, args["strides"], args["padding"], args["dilation"], "x", "w")
        except Exception:
            return None     # the layer's forward raises the error
        shape = (x_shape[0], oh, ow, self.filters)
        if 0 in shape:
            return None
        act = self.activation
        relu = act is not None and act.name == "relu" and not act.params
        post = None if act is None or relu else activation_call(act, 4)
        conv, empty, layer = _core.conv2d_forward, np.empty, self

        def step(x):
            if layer.activation is not act or x.shape != x_shape:
                return layer.forward(x, False)
            y = empty(shape, x.dtype)
            try:
                bias = layer.bias
                conv(x, layer.kernel.value, None if bias is None else bias.value, y, strides, pads,
                     dilation, relu)
            except Exception:
                # Arrays the kernel does not take as they are: the layer's own checks copy
                # what can be copied and explain the rest.
                return layer.forward(x, False)
            return y if post is None else post(y)

        step.makes_new_array = True
        return step

    def _group_slices(self):
        cin, cout = self.kernel.shape[2], self.filters // self.groups
        return [(slice(i * cin, (i + 1) * cin), slice(i * cout, (i + 1) * cout))
                for i in range(self.groups)]

    def _forward_grouped(self, x, act):
        # Each group convolves its own slice of the input channels into its own slice of the
        # filters; the kernel holds the groups side by side on its last axis.
        parts = []
        for cs, fs in self._group_slices():
            bias = None if self.bias is None else self.bias.value[fs]
            parts.append(ops.conv2d(np.ascontiguousarray(x[..., cs]),
                                    np.ascontiguousarray(self.kernel.value[..., fs]), bias,
                                    **self._conv_args()))
        z = np.concatenate(parts, axis=-1)
        y = z if act is None else act.forward(z)
        self._cache = self._saved(x, z, y, act)
        return y

    def _backward_grouped(self, g, x):
        dx = np.empty_like(x) if self.needs_input_grad else None
        for cs, fs in self._group_slices():
            xg, gg = np.ascontiguousarray(x[..., cs]), np.ascontiguousarray(g[..., fs])
            kg = np.ascontiguousarray(self.kernel.value[..., fs])
            if self.trainable:
                self.kernel.grad[..., fs] += ops.conv2d_backward_weight(xg, gg, kg.shape,
                                                                       **self._conv_args())
                if self.bias is not None:
                    self.bias.grad[fs] += ops.conv2d_backward_bias(gg)
            if dx is not None:
                dx[..., cs] = ops.conv2d_backward_input(gg, kg, xg.shape, **self._conv_args())
        return dx

    def backward(self, grad_out):
        if self._channels_first():
            dx = self._backward_last(to_last(grad_out))
            return None if dx is None else to_first(dx)
        return self._backward_last(grad_out)

    def _backward_last(self, grad_out):
        x, z, y, act = self._cache
        if self.groups == 1 and self.trainable:
            return self._backward_fused(grad_out, x, z, y, act)
        g = grad_out if act is None else act.backward(grad_out, z, y)
        if self.groups > 1:
            return self._backward_grouped(np.ascontiguousarray(g), x)
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

    def _backward_fused(self, grad_out, x, z, y, act):
        """Kernel and bias gradients in one pass over the output gradient, the relu mask (when
        forward applied relu as it wrote y: z is y) applied in the same pass."""
        relu_y = y if act is not None and z is y else None
        g = grad_out if act is None or relu_y is not None else act.backward(grad_out, z, y)
        bias = self.bias
        _, _, g = ops.conv2d_backward_weight_fused(
            x, g, self.kernel.shape, relu_output=relu_y, use_bias=bias is not None,
            out=self.kernel.grad, bias_out=None if bias is None else bias.grad,
            grad_y_out=None if relu_y is None else _workspace.buffer(self, "g", y.shape, y.dtype),
            accumulate=True, **self._conv_args())
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
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, ("kernel", "bias"), activity_regularizer=True),
        }
