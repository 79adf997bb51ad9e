"""Activation layers: Activation(name), ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import activations, constraints, ops
from ..errors import ShapeError
from ..serialization import config_value, register
from .base import Layer


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and not math.isnan(v)


# Activations whose derivative is a function of the output alone: relu'(x) = [y > 0] and
# relu6'(x) = [0 < y < 6], with the same values at the kinks as the input-based ones. A batch
# norm or an Add followed by one of them applies it itself (models/bn_fusion.py): name ->
# (forward, gradient from the output).
FUSABLE = {"relu": (ops.relu, ops.relu_backward_from_output),
           "relu6": (ops.relu6, ops.relu6_backward_from_output)}
_FROM_OUTPUT = {name: fns[1] for name, fns in FUSABLE.items()}


class _Elementwise(Layer):
    """A layer y = f(x) with f from nncore.activations. ``forward_logits`` returns x itself, for
    a model whose loss applies f (softmax + cross-entropy); backward then passes gradients through."""

    # The output of a batch norm that applied this layer's activation itself (models/bn_fusion.py):
    # when exactly that array arrives, it passes through.
    _prefused = None

    def _fn(self):
        return self.activation

    def forward(self, x, training=False):
        if self._prefused is not None:
            fused, self._prefused = self._prefused is x, None
            if fused:
                self._cache = (None, None, None)
                return x
        return self._apply(x, self._fn())

    def forward_logits(self, x, training=False):
        return self._apply(x, None)

    def _apply(self, x, act):
        y = x if act is None else act.forward(x)
        from_output = _FROM_OUTPUT.get(act.name) if act is not None and not act.params else None
        # Where the derivative reads off the output, the input is not kept: in a conv, batch
        # norm, ReLU chain the normalization's output is then freed as soon as ReLU has run.
        self._cache = (None, y, from_output) if from_output is not None else (x, y, act)
        return y

    def backward(self, grad_out):
        x, y, act = self._cache
        if act is None:
            return grad_out
        if x is None:
            return act(grad_out, y)
        return act.backward(grad_out, x, y)


@register("layer")
class Activation(_Elementwise):
    """Applies a named activation: ``Activation("relu")``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@register("layer")
class ReLU(_Elementwise):
    """``max(x, 0)`` generalized as in Keras: slope ``negative_slope`` below ``threshold``, capped at
    ``max_value``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and (not _is_number(max_value) or max_value < 0):
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value!r}")
        if not _is_number(negative_slope) or negative_slope < 0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative value. "
                             f"Received: negative_slope={negative_slope!r}")
        if not _is_number(threshold) or threshold < 0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold!r}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)
        plain = self.negative_slope == 0 and self.threshold == 0
        if plain and self.max_value is None:
            self.activation = activations.get("relu")
        elif plain and self.max_value == 6.0:
            self.activation = activations.get("relu6")  # MobileNets' ReLU(6.): one C++ pass each way
        else:
            self.activation = None

    def forward(self, x, training=False):
        if self.activation is not None:
            return super().forward(x, training)
        # Keras keeps x only strictly above the threshold: x == threshold > 0 gives 0, not x.
        y = np.where(x > self.threshold, x, self.negative_slope * (x - self.threshold))
        if self.max_value is not None:
            y = np.minimum(y, self.max_value)
        self._cache = (x, None, None)
        return y.astype(x.dtype, copy=False)

    def backward(self, grad_out):
        x, _, act = self._cache
        if act is not None or self.activation is not None:
            return super().backward(grad_out)
        slope = np.where(x > self.threshold, 1.0, self.negative_slope)
        if self.max_value is not None:
            slope = np.where(x >= self.max_value, 0.0, slope)
        return (grad_out * slope).astype(grad_out.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


@register("layer")
class LeakyReLU(_Elementwise):
    """``x`` for x >= 0, ``negative_slope * x`` below (Keras layer default 0.3)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        alpha = kwargs.pop("alpha", None)  # the Keras 2 name of negative_slope
        super().__init__(**kwargs)
        slope = negative_slope if alpha is None else alpha
        if slope is None:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None. "
                             "Expected a float.")
        if not _is_number(slope) or slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be a number >= 0, got {slope!r}")
        self.negative_slope = float(slope)
        self.activation = activations.get({"name": "leaky_relu", "negative_slope": self.negative_slope})

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@register("layer")
class ELU(_Elementwise):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` below."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.activation = activations.get({"name": "elu", "alpha": self.alpha})

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


@register("layer")
class ThresholdedReLU(_Elementwise):
    """``x`` where x > theta, else 0 (Keras 2 layer; theta default 1.0)."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if theta < 0:
            raise ValueError(f"ThresholdedReLU: theta must be >= 0, got {theta}")
        self.theta = float(theta)
        self.activation = activations.ActivationFn(
            "thresholded_relu", ops.thresholded_relu, ops.thresholded_relu_backward,
            params={"theta": self.theta})

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}


def _softmax_axes(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype, copy=False)


def _softmax_axes_backward(grad_y, y, axis):
    return (y * (grad_y - np.sum(grad_y * y, axis=axis, keepdims=True))).astype(y.dtype, copy=False)


@register("layer")
class Softmax(_Elementwise):
    """Softmax over ``axis`` (default the last), or jointly over several axes (``axis=(1, 2)``)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            try:
                axes = tuple(int(a) for a in axis)
            except (TypeError, ValueError):
                raise ValueError(f"Softmax: axis must be an int or a tuple of ints, got {axis!r}") from None
            if not axes or any(isinstance(a, bool) for a in axis):
                raise ValueError(f"Softmax: axis must be an int or a tuple of ints, got {axis!r}")
            self.axis = axes[0] if len(axes) == 1 else axes
        if isinstance(self.axis, tuple):
            self.activation = activations.ActivationFn(
                "softmax", _softmax_axes, _softmax_axes_backward, needs="y",
                params={"axis": self.axis})
        else:
            self.activation = activations.ActivationFn(
                "softmax", ops.softmax, ops.softmax_backward, needs="y",
                params={} if self.axis == -1 else {"axis": self.axis})

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # eager calls check the axes here
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        for a in (self.axis if isinstance(self.axis, tuple) else (self.axis,)):
            if not -rank <= a < rank:
                raise ShapeError(f"Softmax '{self.name}': axis {a} is out of range for input shape "
                                 f"{tuple(input_shape)}")
        return input_shape

    def get_config(self):
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**super().get_config(), "axis": axis}


@register("layer")
class PReLU(Layer):
    """``x`` for x >= 0, ``alpha * x`` below, with a learned ``alpha`` per position (shared over
    ``shared_axes``, e.g. ``[1, 2]`` for one alpha per channel of an image)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = alpha_regularizer
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = ()
        elif isinstance(shared_axes, int):
            self.shared_axes = (shared_axes,)
        else:
            self.shared_axes = tuple(int(a) for a in shared_axes)
        self.alpha = None

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes:
            if not 1 <= a < len(input_shape):
                raise ValueError(f"PReLU '{self.name}': shared axis {a} out of range for input {tuple(input_shape)}")
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU '{self.name}' needs known non-shared dimensions, got {tuple(input_shape)}")
        self.alpha = self.add_weight("alpha", shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self._reduce_axes = (0, *self.shared_axes)
        super().build(input_shape)

    def forward(self, x, training=False):
        neg = x < 0
        y = np.where(neg, self.alpha.value * x, x)
        self._cache = (x, neg)
        return y

    def backward(self, grad_out):
        x, neg = self._cache
        if self.trainable:
            self.alpha.grad += np.sum(np.where(neg, grad_out * x, 0), axis=self._reduce_axes,
                                      keepdims=True)[0]
        return np.where(neg, grad_out * self.alpha.value, grad_out)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": config_value(self.alpha_initializer),
                "alpha_regularizer": config_value(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": list(self.shared_axes) or None}
