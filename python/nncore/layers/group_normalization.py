"""GroupNormalization (Wu & He, 2018): the channels of each sample split into groups, each group
normalized over its channels and all other non-batch axes, then a learned per-channel scale and
offset. ``groups=1`` normalizes each sample as a whole, ``groups=-1`` each channel (instance
normalization)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import register
from ._norm_rows import core_dtype, normalize_rows, normalize_rows_backward
from ._weight_args import add_weight_from_args, store_weight_args, weight_args_config
from .base import Layer


@register("layer")
class GroupNormalization(Layer):
    """Keras semantics and defaults (``groups=32``, ``axis=-1`` the channel axis,
    ``epsilon=1e-3``); ``gamma`` and ``beta`` have one value per channel."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if (isinstance(groups, bool) or not isinstance(groups, numbers.Integral)
                or (groups <= 0 and groups != -1)):
            raise ValueError("Received an invalid value for argument `groups`, expected a positive "
                             f"integer (or `-1` for instance normalization). Received: groups={groups!r}")
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"GroupNormalization: axis must be an int, got {axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"GroupNormalization: epsilon must be a number > 0, got {epsilon!r}")
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        store_weight_args(self, beta=(beta_initializer, beta_regularizer, beta_constraint),
                          gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.gamma = self.beta = None

    def _channel_axis(self, rank):
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ShapeError(f"GroupNormalization '{self.name}': axis {self.axis} is not a feature "
                             f"axis of an input of rank {rank}")
        return self.axis % rank

    def build(self, input_shape):
        dim = input_shape[self._channel_axis(len(input_shape))]
        if dim is None:
            raise ShapeError(f"GroupNormalization '{self.name}': axis {self.axis} of input shape "
                             f"{tuple(input_shape)} must have a known size")
        if self.groups == -1:
            self.groups = int(dim)
        if dim < self.groups:
            raise ValueError(f"GroupNormalization '{self.name}': number of groups ({self.groups}) "
                             f"cannot be more than the number of channels ({dim}).")
        if dim % self.groups:
            raise ValueError(f"GroupNormalization '{self.name}': the number of channels ({dim}) "
                             f"must be a multiple of the number of groups ({self.groups}).")
        if self.scale:
            self.gamma = add_weight_from_args(self, "gamma", (dim,))
        if self.center:
            self.beta = add_weight_from_args(self, "beta", (dim,))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        axis = self._channel_axis(len(input_shape))
        weight = self.gamma if self.gamma is not None else self.beta
        if weight is not None and input_shape[axis] != weight.shape[0]:
            raise ShapeError(f"GroupNormalization '{self.name}' expects {weight.shape[0]} channels "
                             f"on axis {self.axis}, got input shape {tuple(input_shape)}")
        return tuple(input_shape)

    def _channels_second(self, x):
        """(N, C, rest): the channels of a group, then its pixels, are contiguous in a row."""
        axis = self._channel_axis(x.ndim)
        moved = np.moveaxis(x, axis, 1) if axis != 1 else x
        return np.ascontiguousarray(moved).reshape(x.shape[0], x.shape[axis], -1), axis, moved.shape

    def _param(self, weight, dtype):
        return None if weight is None else weight.value.astype(dtype, copy=False)

    def _channels_last(self, x):
        """(N, ..., C) with the channel axis last, as the C++ kernel takes it."""
        axis = self._channel_axis(x.ndim)
        return (np.moveaxis(x, axis, -1) if axis != x.ndim - 1 else x), axis

    def forward(self, x, training=False):
        if core_dtype(x) and x.ndim >= 2:
            xl, axis = self._channels_last(x)
            y, mean, inv = ops.group_norm(xl, self._param(self.gamma, x.dtype),
                                          self._param(self.beta, x.dtype), self.groups,
                                          self.epsilon)
            self._cache = ("core", np.ascontiguousarray(xl), mean, inv, axis)
            return np.moveaxis(y, -1, axis) if axis != x.ndim - 1 else y
        x3, axis, m_shape = self._channels_second(x)
        n, c, r = x3.shape
        x_hat, inv, _ = normalize_rows(x3.reshape(n * self.groups, -1), self.epsilon)
        x_hat = x_hat.reshape(n, c, r)
        y = x_hat
        if self.gamma is not None:
            y = y * self.gamma.value[:, None]
        if self.beta is not None:
            y = y + self.beta.value[:, None]
        self._cache = ("numpy", x_hat, inv, axis, m_shape)
        return np.moveaxis(y.astype(x.dtype, copy=False).reshape(m_shape), 1, axis)

    def backward(self, grad_out):
        if self._cache[0] == "core":
            _, xl, mean, inv, axis = self._cache
            last = axis == grad_out.ndim - 1
            g = (grad_out if last else np.moveaxis(grad_out, axis, -1)).astype(xl.dtype, copy=False)
            dx, d_gamma, d_beta = ops.group_norm_backward(g, xl, self._param(self.gamma, xl.dtype),
                                                          mean, inv, self.groups)
            if self.trainable:
                if self.gamma is not None:
                    self.gamma.grad += d_gamma
                if self.beta is not None:
                    self.beta.grad += d_beta
            dx = dx.astype(grad_out.dtype, copy=False)
            return dx if last else np.ascontiguousarray(np.moveaxis(dx, -1, axis))
        _, x_hat, inv, axis, m_shape = self._cache
        n, c, r = x_hat.shape
        g, _, _ = self._channels_second(grad_out)
        if self.trainable:
            if self.gamma is not None:
                self.gamma.grad += np.einsum("ncr,ncr->c", g, x_hat)
            if self.beta is not None:
                self.beta.grad += g.sum(axis=(0, 2))
        g_hat = g if self.gamma is None else g * self.gamma.value[:, None]
        rows = (n * self.groups, -1)
        dx = normalize_rows_backward(g_hat.reshape(rows), x_hat.reshape(rows), inv)
        dx = dx.astype(grad_out.dtype, copy=False).reshape(m_shape)
        return np.ascontiguousarray(np.moveaxis(dx, 1, axis))

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **weight_args_config(self, ("beta", "gamma"))}
