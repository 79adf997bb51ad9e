"""Conv2DTranspose: the transpose (gradient with respect to the input) of a 2-D convolution."""

from __future__ import annotations

from .. import activations, ops
from ..errors import ShapeError
from ..serialization import register
from ._conv_args import positive_int, store_window_args
from ._conv_utils import normalize_tuple
from ._weight_args import add_weight_from_args, store_kernel_and_bias_args, weight_args_config
from .base import Layer
from .conv import standardize_data_format
from .depthwise_conv import ChannelsFirstMixin


def transpose_axis(size, kernel, stride, dilation, padding, output_padding):
    """(output size, padding before, padding after) of one spatial axis.

    The output is that of TensorFlow's ``conv2d_transpose`` (and Keras' JAX backend): input
    position ``i`` and kernel tap ``t`` add into output position ``i * stride - before + t *
    dilation``. Its size is Keras' rule: ``'valid'``: ``(size - 1) * stride + max(k, stride)``,
    ``'same'``: ``size * stride``, and with ``output_padding`` ``(size - 1) * stride + k - 2 *
    (k // 2 if 'same' else 0) + output_padding`` (k the dilated kernel extent). ``after`` makes the
    convolution of the output with these paddings return exactly ``size`` positions, so that the
    convolution ops compute the transpose and its gradients.
    """
    k = (kernel - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(k, stride) - k
        before = 0
        out = (size - 1) * stride + k + output_padding
    else:
        pad_len = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
        before = k - 1 - min(pad_len // 2 + pad_len % 2, k - 1)
        out = (size - 1) * stride + pad_len - k + 2
    after = max((size - 1) * stride + k - out - before, 0)
    return out, before, after


@register("layer", "Convolution2DTranspose")
class Conv2DTranspose(ChannelsFirstMixin, Layer):
    """Transposed 2-D convolution (Keras semantics): kernel ``(kh, kw, filters, in_channels)``,
    bias ``(filters,)``; output sizes follow Keras (see ``transpose_axis``). Forward is the input
    gradient of a convolution, backward the convolution itself and its weight gradient with the
    roles of input and output swapped."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = positive_int(filters, "filters", "Conv2DTranspose")
        self.data_format = standardize_data_format(data_format, "Conv2DTranspose")
        store_window_args(self, "Conv2DTranspose", kernel_size, strides, padding, dilation_rate)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(output_padding, 2, "output_padding", minimum=0)
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        "Conv2DTranspose: `output_padding` must be strictly less than `strides` "
                        f"for all dimensions. At dimension {i}, `output_padding` is {op} but "
                        f"`strides` is {s}. Received: output_padding={output_padding}, "
                        f"strides={strides}")
        store_kernel_and_bias_args(self, activation, use_bias,
                                   (kernel_initializer, kernel_regularizer, kernel_constraint),
                                   (bias_initializer, bias_regularizer, bias_constraint))

    def _desc(self) -> str:
        return f"Conv2DTranspose '{self.name}'"

    def _axes(self, input_shape):
        """[(out, before, after)] for rows and columns (None sizes give None)."""
        ops_ = self.output_padding or (None, None)
        axes = []
        for size, k, s, d, op in zip(input_shape[1:3], self.kernel_size, self.strides,
                                     self.dilation_rate, ops_):
            if size is None:
                axes.append(None)
                continue
            if size < 1:
                raise ShapeError(f"{self._desc()}: spatial sizes must be >= 1, got input shape "
                                 f"{tuple(input_shape)}")
            axes.append(transpose_axis(size, k, s, d, self.padding, op))
        return axes

    def build(self, input_shape):
        shape = self._build_shape(input_shape)
        self._axes(shape)
        self.kernel = add_weight_from_args(
            self, "kernel", (*self.kernel_size, self.filters, int(shape[-1])))
        if self.use_bias:
            self.bias = add_weight_from_args(self, "bias", (self.filters,))
        super().build(input_shape)

    def _output_shape_last(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self._desc()} expects a 4-D input (batch, height, width, channels), "
                             f"got shape {tuple(input_shape)}")
        if self.kernel is not None and input_shape[-1] != self.kernel.shape[3]:
            raise ShapeError(f"{self._desc()} expects {self.kernel.shape[3]} input channels, got "
                             f"{input_shape[-1]} (input shape {tuple(input_shape)})")
        rows, cols = self._axes(input_shape)
        return (input_shape[0], None if rows is None else rows[0], None if cols is None else cols[0],
                self.filters)

    def _conv_args(self, x_shape):
        (_, top, bottom), (_, left, right) = self._axes(x_shape)
        return {"strides": self.strides, "padding": ((top, bottom), (left, right)),
                "dilation": self.dilation_rate}

    def _forward_last(self, x, out):
        y_shape = self._output_shape_last(x.shape)
        z = ops.conv2d_backward_input(x, self.kernel.value, y_shape, out=out, **self._conv_args(x.shape))
        if self.bias is not None:
            z += self.bias.value
        return self._activate(x, z)

    def _backward_last(self, grad_out):
        x, g, _ = self._grad_of_z(grad_out)
        args = self._conv_args(x.shape)
        if self.trainable:
            # The kernel is that of the convolution from the output (filters channels) back to the
            # input: its weight gradient takes the output gradient as the convolution's input.
            ops.conv2d_backward_weight(g, x, self.kernel.shape, out=self.kernel.grad, accumulate=True,
                                       **args)
            if self.bias is not None:
                ops.conv2d_backward_bias(g, out=self.bias.grad, accumulate=True)
        if not self.needs_input_grad:
            return None
        return ops.conv2d(g, self.kernel.value, **args)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, ("kernel", "bias"), activity_regularizer=True),
        }
