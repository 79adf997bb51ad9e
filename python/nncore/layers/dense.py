"""Dense: y = activation(x @ kernel + bias) over the last axis."""

from __future__ import annotations

import numpy as np

from .. import _core, activations, ops
from ..errors import ShapeError
from ..serialization import register
from ._inference import activation_call
from ._weight_args import add_weight_from_args, store_kernel_and_bias_args, weight_args_config
from .base import Layer


@register("layer")
class Dense(Layer):
    """Fully connected layer (Keras semantics): kernel ``(input_dim, units)``, bias ``(units,)``.

    Inputs of rank > 2 are transformed along their last axis. Default initializers as in Keras:
    glorot_uniform kernel, zero bias.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        # Accepted so that Keras configs load; nncore has no LoRA or quantized kernels.
        if lora_rank is not None:
            raise ValueError(f"Dense: lora_rank={lora_rank!r} (LoRA) is not supported")
        if quantization_config is not None:
            raise ValueError("Dense: quantization_config is not supported (no quantized kernels)")
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense: received an invalid value for `units`, expected a positive integer. Received: units={units!r}")
        self.units = int(units)
        store_kernel_and_bias_args(self, activation, use_bias,
                                   (kernel_initializer, kernel_regularizer, kernel_constraint),
                                   (bias_initializer, bias_regularizer, bias_constraint))

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ShapeError(
                f"Dense '{self.name}' needs inputs of shape (batch, ..., features) with a known last "
                f"dimension, got {tuple(input_shape)}"
            )
        in_dim = int(input_shape[-1])
        self.kernel = add_weight_from_args(self, "kernel", (in_dim, self.units))
        if self.use_bias:
            self.bias = add_weight_from_args(self, "bias", (self.units,))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.kernel is not None and input_shape[-1] != self.kernel.shape[0]:
            raise ShapeError(
                f"Input of shape {tuple(input_shape)} is incompatible with the layer: Dense "
                f"'{self.name}' expects {self.kernel.shape[0]} input features, got {input_shape[-1]}"
            )
        return (*input_shape[:-1], self.units)

    def forward(self, x, training=False):
        return self._forward(x, self.activation)

    def forward_logits(self, x, training=False):
        """The output before the activation, for a model whose loss applies the activation
        itself (softmax + cross-entropy); backward then takes gradients of these logits."""
        return self._forward(x, None)

    def _forward(self, x, act):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        bias = None if self.bias is None else self.bias.value
        if act is not None and act.name == "relu" and not act.params:
            # Bias and ReLU applied as the product is written; relu' reads y (y > 0 iff z > 0).
            y = ops.dense(x2, self.kernel.value, bias, activation="relu")
            self._cache = (x2, y, y, act)
        else:
            z = ops.dense(x2, self.kernel.value, bias)
            y = z if act is None else act.forward(z)
            self._cache = (x2, z, y, act)
        return y.reshape(*lead, self.units) if len(lead) != 1 else y

    def _inference_step(self, x_shape, dtype):
        """The forward of inputs of ``x_shape`` for an inference plan (``models.inference_plan``):
        the kernel call without the checks and without keeping anything for backward."""
        cls = type(self)
        if cls.forward is not Dense.forward or cls._forward is not Dense._forward or \
                "forward" in self.__dict__ or len(x_shape) != 2 or 0 in x_shape:
            return None
        act = self.activation
        relu = act is not None and act.name == "relu" and not act.params
        post = None if act is None or relu else activation_call(act, 2)
        shape = (x_shape[0], self.units)
        dense, empty, layer = _core.dense, np.empty, self

        def step(x):
            if layer.activation is not act or x.shape != x_shape:
                return layer.forward(x, False)
            y = empty(shape, x.dtype)
            try:
                bias = layer.bias
                dense(x, layer.kernel.value, None if bias is None else bias.value, relu, y)
            except Exception:
                # Arrays the kernel does not take as they are: the layer's own checks copy
                # what can be copied and explain the rest.
                return layer.forward(x, False)
            return y if post is None else post(y)

        step.makes_new_array = True
        return step

    def backward(self, grad_out):
        x2, z, y, act = self._cache
        g = grad_out.reshape(-1, self.units)
        if act is not None:
            g = act.backward(g, z, y)
        if self.trainable:
            ops.gemm(x2, g, self.kernel.grad, beta=1.0, transpose_a=True)
            if self.bias is not None:
                ops.bias_grad(g, out=self.bias.grad, accumulate=True)
        if not self.needs_input_grad:
            return None
        gx = ops.matmul(g, self.kernel.value, transpose_b=True)
        return gx.reshape(grad_out.shape[:-1] + (gx.shape[-1],))

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, ("kernel", "bias")),
            "quantization_config": None,
        }

