"""LayerNormalization: each sample normalized over its feature axes (Ba et al., 2016), with a
learned per-feature scale and offset."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..serialization import register
from ._norm_rows import core_dtype, normalize_rows, normalize_rows_backward
from ._weight_args import add_weight_from_args, store_weight_args, weight_args_config
from .base import Layer


def _axis_arg(axis):
    if isinstance(axis, (list, tuple)):
        if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', but "
                            f"received: {axis!r}")
        return [int(a) for a in axis]
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', but "
                    f"received: {axis!r}")


def canonical_axes(axis, rank, layer):
    axes = [axis] if isinstance(axis, int) else list(axis)
    if not axes or any(not -rank <= a < rank for a in axes):
        raise ShapeError(f"{layer}: axis {axis} is out of bounds for an input of rank {rank}")
    axes = sorted(a % rank for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{layer}: duplicate axes are not allowed. Received: axis={axis}")
    if 0 in axes:
        raise ShapeError(f"{layer}: axis {axis} includes the batch axis")
    return axes


@register("layer")
class LayerNormalization(Layer):
    """``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``, mean and (biased) variance over the
    axes ``axis`` of each sample; ``gamma`` and ``beta`` have the shape of those axes. Keras'
    deprecated ``rms_scaling=True`` gives ``x / sqrt(var + epsilon) * gamma`` (no beta), as Keras
    computes it (the variance, not the mean square)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) scales the input by its variance, "
                          "not its root mean square (as Keras, where the argument is deprecated)",
                          stacklevel=2)
        self.axis = _axis_arg(axis)
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"LayerNormalization: epsilon must be a number > 0, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        store_weight_args(self, beta=(beta_initializer, beta_regularizer, beta_constraint),
                          gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.gamma = self.beta = None

    def build(self, input_shape):
        self._axes = canonical_axes(self.axis, len(input_shape), f"LayerNormalization '{self.name}'")
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ShapeError(f"LayerNormalization '{self.name}': the normalized axes {self.axis} of "
                             f"input shape {tuple(input_shape)} must be known")
        if self.scale or self.rms_scaling:
            self.gamma = add_weight_from_args(self, "gamma", shape)
        if self.center and not self.rms_scaling:
            self.beta = add_weight_from_args(self, "beta", shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        axes = canonical_axes(self.axis, len(input_shape), f"LayerNormalization '{self.name}'")
        weight = self.gamma if self.gamma is not None else self.beta
        if weight is not None:
            want = weight.shape
            if tuple(input_shape[a] for a in axes) != want:
                raise ShapeError(f"LayerNormalization '{self.name}' expects sizes {want} on axes "
                                 f"{self.axis}, got input shape {tuple(input_shape)}")
        return tuple(input_shape)

    def _perm(self, ndim):
        rest = [a for a in range(ndim) if a not in self._axes]
        return rest + self._axes

    def _param(self, weight, dtype):
        return None if weight is None else weight.value.reshape(-1).astype(dtype, copy=False)

    def forward(self, x, training=False):
        perm = self._perm(x.ndim)
        moved = perm != list(range(x.ndim))
        xt = np.transpose(x, perm) if moved else x
        rows = xt.reshape(-1, int(np.prod(xt.shape[len(xt.shape) - len(self._axes):])))
        if core_dtype(x):
            # The normalized axes are the last ones after the transpose: one row per sample
            # (and position of the other axes), normalized by the C++ kernel.
            y, mean, inv = ops.layer_norm(rows, self._param(self.gamma, x.dtype),
                                          self._param(self.beta, x.dtype), self.epsilon,
                                          center=not self.rms_scaling)
            self._cache = ("core", rows, mean, inv, xt.shape, perm, moved)
        else:
            x_hat, inv, dev = normalize_rows(rows, self.epsilon, center=not self.rms_scaling)
            y = x_hat
            if self.gamma is not None:
                y = y * self.gamma.value.reshape(-1)
            if self.beta is not None:
                y = y + self.beta.value.reshape(-1)
            self._cache = ("numpy", x_hat, inv, None if not self.rms_scaling else dev, xt.shape,
                           perm, moved)
        y = y.astype(x.dtype, copy=False).reshape(xt.shape)
        return np.ascontiguousarray(np.transpose(y, np.argsort(perm))) if moved else y

    def backward(self, grad_out):
        if self._cache[0] == "core":
            _, rows, mean, inv, t_shape, perm, moved = self._cache
            g = np.transpose(grad_out, perm) if moved else grad_out
            g = g.reshape(rows.shape).astype(rows.dtype, copy=False)
            dx, d_gamma, d_beta = ops.layer_norm_backward(
                g, rows, self._param(self.gamma, rows.dtype), mean, inv,
                center=not self.rms_scaling)
            if self.trainable:
                if self.gamma is not None:
                    self.gamma.grad += d_gamma.reshape(self.gamma.shape)
                if self.beta is not None:
                    self.beta.grad += d_beta.reshape(self.beta.shape)
        else:
            _, x_hat, inv, dev, t_shape, perm, moved = self._cache
            g = np.transpose(grad_out, perm) if moved else grad_out
            g = g.reshape(x_hat.shape)
            if self.trainable:
                if self.gamma is not None:
                    self.gamma.grad += np.sum(g * x_hat, axis=0).reshape(self.gamma.shape)
                if self.beta is not None:
                    self.beta.grad += np.sum(g, axis=0).reshape(self.beta.shape)
            g_hat = g if self.gamma is None else g * self.gamma.value.reshape(-1)
            dx = normalize_rows_backward(g_hat, x_hat, inv, dev)
        dx = dx.astype(grad_out.dtype, copy=False).reshape(t_shape)
        return np.ascontiguousarray(np.transpose(dx, np.argsort(perm))) if moved else dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                **weight_args_config(self, ("beta", "gamma"))}
