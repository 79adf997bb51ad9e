"""Maxout (seed 002): y = max(x·W1 + b1, x·W2 + b2, ...) over ``num_pieces`` affine maps."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import config_value, register
from .base import Layer


@register("layer")
class Maxout(Layer):
    """A dense maxout unit: ``units`` outputs, each the max of ``num_pieces`` affine functions of
    the input. Kernel ``(input_dim, num_pieces * units)`` (piece-major), bias ``(num_pieces * units,)``.
    Gradients flow to the winning piece only (ties: the first)."""

    def __init__(self, units, num_pieces=2, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1 or int(num_pieces) < 1:
            raise ValueError(f"Maxout: units and num_pieces must be >= 1, got {units}, {num_pieces}")
        self.units = int(units)
        self.num_pieces = int(num_pieces)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ShapeError(f"Maxout '{self.name}' expects (batch, features), got {tuple(input_shape)}")
        width = self.num_pieces * self.units
        self.kernel = self.add_weight("kernel", (int(input_shape[-1]), width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (width,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.kernel is not None and input_shape[-1] != self.kernel.shape[0]:
            raise ShapeError(
                f"Maxout '{self.name}' expects {self.kernel.shape[0]} input features, got {input_shape[-1]}"
            )
        return (input_shape[0], self.units)

    def forward(self, x, training=False):
        z = ops.matmul(x, self.kernel.value)
        if self.bias is not None:
            z += self.bias.value
        pieces = z.reshape(x.shape[0], self.num_pieces, self.units)
        win = pieces.argmax(axis=1)
        y = np.take_along_axis(pieces, win[:, None, :], axis=1)[:, 0, :]
        self._cache = (x, win)
        return y

    def backward(self, grad_out):
        x, win = self._cache
        gz = np.zeros((x.shape[0], self.num_pieces, self.units), dtype=grad_out.dtype)
        np.put_along_axis(gz, win[:, None, :], grad_out[:, None, :], axis=1)
        gz = gz.reshape(x.shape[0], -1)
        if self.trainable:
            ops.gemm(x, gz, self.kernel.grad, beta=1.0, transpose_a=True)
            if self.bias is not None:
                self.bias.grad += gz.sum(axis=0)
        if not self.needs_input_grad:
            return None
        return ops.matmul(gz, self.kernel.value, transpose_b=True)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_pieces": self.num_pieces,
                "use_bias": self.use_bias,
                "kernel_initializer": config_value(self.kernel_initializer),
                "bias_initializer": config_value(self.bias_initializer),
                "kernel_regularizer": config_value(self.kernel_regularizer),
                "bias_regularizer": config_value(self.bias_regularizer)}
