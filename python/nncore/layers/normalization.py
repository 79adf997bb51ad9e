"""BatchNormalization (seed 002, algorithm 1): normalize each channel over the batch while
training, with moving statistics for inference."""

from __future__ import annotations

import numpy as np

from .. import constraints, ops
from ..distribution import context
from ..errors import ShapeError
from ..serialization import config_value, register
from .activation_layers import FUSABLE
from .base import Layer

# Activations a batch norm may apply itself: forward, backward from the output.
@register("layer")
class BatchNormalization(Layer):
    """Keras semantics and defaults: ``axis=-1``, ``momentum=0.99``, ``epsilon=1e-3``; moving mean
    and variance are updated as ``moving = moving * momentum + batch * (1 - momentum)`` with the
    biased batch variance. A non-trainable layer (``trainable=False``) normalizes with its moving
    statistics even while training, as in Keras 3."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if renorm:
            raise ValueError("BatchNormalization: renorm=True (batch renormalization) is not supported")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum}")
        if epsilon <= 0:
            raise ValueError(f"BatchNormalization: epsilon must be > 0, got {epsilon}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        # Statistics over the whole global batch when nncore.distribution trains over several
        # processes (one process holds the whole batch: the plain statistics).
        self.synchronized = bool(synchronized)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = self.beta = None

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0 or input_shape[axis] is None:
            raise ShapeError(
                f"BatchNormalization '{self.name}': axis {self.axis} is not a known feature axis of "
                f"input shape {tuple(input_shape)}"
            )
        self._axis = axis
        c = (int(input_shape[axis]),)
        if self.scale:
            self.gamma = self.add_weight("gamma", c, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", c, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", c, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", c,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.built and input_shape[self._axis] != self.moving_mean.shape[0]:
            raise ShapeError(
                f"BatchNormalization '{self.name}' expects {self.moving_mean.shape[0]} features on "
                f"axis {self.axis}, got input shape {tuple(input_shape)}"
            )
        return input_shape

    def _to_last(self, x):
        return x if self._axis == x.ndim - 1 else np.ascontiguousarray(np.moveaxis(x, self._axis, -1))

    def _from_last(self, y):
        return y if self._axis == y.ndim - 1 else np.moveaxis(y, -1, self._axis)

    def _params(self):
        return (None if self.gamma is None else self.gamma.value,
                None if self.beta is None else self.beta.value)

    # A following ReLU / ReLU6 this layer applies in its next forward call (models/bn_fusion.py).
    _fuse_next = None

    def forward(self, x, training=False):
        armed, self._fuse_next = self._fuse_next, None
        act = armed.activation if armed is not None else None
        gamma, beta = self._params()
        xl = self._to_last(x)
        world = self.synchronized and training and self.trainable and context.step_world()
        if world:
            y, mean, var, inv_std = self._synchronized_statistics(world, xl, gamma, beta)
            self._update_moving(mean, var)
            self._cache = ("sync", xl, mean, inv_std, world)
        elif training and self.trainable:
            y, mean, var, inv_std = ops.batch_norm_train(xl, gamma, beta, self.epsilon,
                                                         activation=act)
            self._update_moving(mean, var)
            self._cache = ("train", xl, mean, inv_std, act)
            act = None  # applied
        else:
            y = ops.batch_norm_inference(xl, gamma, beta, self.moving_mean.value,
                                         self.moving_variance.value, self.epsilon)
            self._cache = ("infer", xl)
        if act is not None:  # the other modes apply it after the normalization
            y = FUSABLE[act][0](y)
            self._cache = (*self._cache, (act, y))
        out = self._from_last(y)
        if armed is not None:
            armed.layer._prefused = out
        return out

    def _update_moving(self, mean, var):
        m = self.momentum
        mm, mv = self.moving_mean.value, self.moving_variance.value
        mm *= m
        mm += (1.0 - m) * mean
        mv *= m
        mv += (1.0 - m) * var

    def _synchronized_statistics(self, world, xl, gamma, beta):
        """Mean and biased variance over every process's rows (two sums over the processes,
        in float64: the count and sum, then the squared deviations from the global mean)."""
        rows = xl.reshape(-1, xl.shape[-1])
        head = np.empty(rows.shape[1] + 1)
        head[0] = rows.shape[0]
        np.sum(rows, axis=0, dtype=np.float64, out=head[1:])
        world.allreduce_(head)
        n = head[0]
        mean = head[1:] / n
        dev = rows - mean.astype(rows.dtype)
        sq = np.einsum("ij,ij->j", dev, dev, dtype=np.float64)
        var = world.allreduce_(sq) / n
        mean, var = mean.astype(xl.dtype), var.astype(xl.dtype)
        y = ops.batch_norm_inference(xl, gamma, beta, mean, var, self.epsilon)
        inv_std = (1.0 / np.sqrt(var.astype(np.float64) + self.epsilon)).astype(xl.dtype)
        return y, mean, var, inv_std

    def _synchronized_backward(self, gl):
        """The batch-norm gradient with the per-channel sums of g and g * x_hat taken over every
        process's rows; gamma and beta get this process's part (the processes sum those)."""
        _, xl, mean, inv_std, world = self._cache[:5]
        gamma, _ = self._params()
        rows, g = xl.reshape(-1, xl.shape[-1]), gl.reshape(-1, gl.shape[-1])
        x_hat = (rows - mean) * inv_std
        c = rows.shape[1]
        sums = np.empty(2 * c + 1)
        sums[0] = rows.shape[0]
        np.sum(g, axis=0, dtype=np.float64, out=sums[1:c + 1])
        np.einsum("ij,ij->j", g, x_hat, dtype=np.float64, out=sums[c + 1:])
        if self.gamma is not None:
            self.gamma.grad += sums[c + 1:].astype(gl.dtype)
        if self.beta is not None:
            self.beta.grad += sums[1:c + 1].astype(gl.dtype)
        world.allreduce_(sums)
        n = sums[0]
        mean_g = (sums[1:c + 1] / n).astype(gl.dtype)
        mean_gx = (sums[c + 1:] / n).astype(gl.dtype)
        scale = inv_std if gamma is None else gamma * inv_std
        gx = (g - mean_g - x_hat * mean_gx) * scale
        return self._from_last(gx.reshape(gl.shape).astype(gl.dtype, copy=False))

    def backward(self, grad_out):
        gl = self._to_last(grad_out)
        gamma, beta = self._params()
        mode = self._cache[0]
        if mode != "train" and isinstance(self._cache[-1], tuple):  # an activation applied after
            act, z = self._cache[-1]
            gl = FUSABLE[act][1](gl, z)  # z: channels last, as gl
        if mode == "sync":
            return self._synchronized_backward(gl)
        if mode == "train":
            _, xl, mean, inv_std, act = self._cache
            gx, ggamma, gbeta = ops.batch_norm_backward(gl, xl, gamma, mean, inv_std,
                                                        activation=act, beta=beta)
            if self.gamma is not None:
                self.gamma.grad += ggamma
            if self.beta is not None:
                self.beta.grad += gbeta
            return self._from_last(gx)
        # Inference mode is an affine map per channel: y = gamma * (x - mean) / sqrt(var + eps) + beta,
        # so gamma gets sum(g * x_hat) and beta sum(g) over every axis but the channel one.
        xl = self._cache[1]
        inv = 1.0 / np.sqrt(self.moving_variance.value + self.epsilon)
        if self.trainable:
            axes = tuple(range(gl.ndim - 1))
            if self.gamma is not None:
                x_hat = (xl - self.moving_mean.value) * inv
                self.gamma.grad += np.sum(gl * x_hat, axis=axes, dtype=gl.dtype)
            if self.beta is not None:
                self.beta.grad += np.sum(gl, axis=axes, dtype=gl.dtype)
        scale = inv if gamma is None else gamma * inv
        return self._from_last((gl * scale).astype(gl.dtype, copy=False))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": config_value(self.beta_initializer),
                "gamma_initializer": config_value(self.gamma_initializer),
                "moving_mean_initializer": config_value(self.moving_mean_initializer),
                "moving_variance_initializer": config_value(self.moving_variance_initializer),
                "beta_regularizer": config_value(self.beta_regularizer),
                "gamma_regularizer": config_value(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
                "synchronized": self.synchronized, "renorm": False,
                "renorm_clipping": self.renorm_clipping, "renorm_momentum": self.renorm_momentum}
