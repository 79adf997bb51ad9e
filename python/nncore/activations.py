"""Activation functions by Keras name, each with the backward pass the layers need.

``get("relu")`` (or ``get(nncore.activations.relu)``) returns an :class:`ActivationFn`;
``get(None)`` / ``get("linear")`` returns None (identity). Backward passes use the output where
that is cheaper (sigmoid, tanh, softmax, elu, exponential) and the input otherwise; layers keep
both from the forward pass.

The module also has Keras' functions themselves with Keras' signatures (``relu(x,
negative_slope=0.0, max_value=None, threshold=0.0)``, ``softmax(x, axis=-1)`` with ``axis`` an
int or a tuple of axes, ...), which take any array and return a NumPy array.
"""

from __future__ import annotations

import math
import numbers
import operator
import types
from typing import Callable

import numpy as np

from . import backend, ops


class ActivationFn:
    """One activation: ``forward(x)`` and ``backward(grad_y, x, y)`` -> gradient w.r.t. ``x``."""

    def __init__(self, name: str, forward: Callable, backward: Callable, *, needs: str = "x",
                 params: dict | None = None):
        self.name = name
        self._forward = forward
        self._backward = backward
        self.needs = needs  # "x": backward reads the input; "y": it reads the output
        self.params = dict(params or {})

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x, **self.params)

    def backward(self, grad_y: np.ndarray, x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray:
        if self.needs == "y":
            return self._backward(grad_y, y, **self.params)
        return self._backward(grad_y, x, **self.params)

    def __call__(self, x):
        return self.forward(np.asarray(x))

    def get_config(self) -> dict:
        return {"name": self.name, **self.params}

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


def _from_input(name, fwd_name=None, **params):
    fwd = getattr(ops, fwd_name or name)
    bwd = getattr(ops, f"{fwd_name or name}_backward")
    return ActivationFn(name, fwd, bwd, needs="x", params=params)


def _from_output(name, fwd_name=None, **params):
    fwd = getattr(ops, fwd_name or name)
    bwd = getattr(ops, f"{fwd_name or name}_backward_from_output")
    return ActivationFn(name, fwd, bwd, needs="y", params=params)


# -- relu with Keras' negative_slope / max_value / threshold ---------------------------------
def _relu_args(negative_slope, max_value, threshold):
    for name, value in (("negative_slope", negative_slope), ("threshold", threshold),
                        ("max_value", 0.0 if max_value is None else max_value)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise ValueError(f"relu: {name} must be a number, got {value!r}")
    return (negative_slope == 0 and max_value is None and threshold == 0,
            float(negative_slope), None if max_value is None else float(max_value), float(threshold))


def _relu_forward(x, negative_slope=0.0, max_value=None, threshold=0.0):
    plain, slope, top, thr = _relu_args(negative_slope, max_value, threshold)
    if plain:
        return ops.relu(x)
    if top is None and thr == 0.0:
        return ops.leaky_relu(x, slope)
    zero = x.dtype.type(0)
    # x above the threshold, else 0; clipped to [0, max_value] when a maximum is given; minus
    # negative_slope times how far x is below the threshold.
    y = np.where(x > thr, x, zero)
    if top is not None:
        np.clip(y, zero, x.dtype.type(top), out=y)
    if slope != 0.0:
        y -= x.dtype.type(slope) * np.maximum(x.dtype.type(thr) - x, zero)
    return y


def _relu_backward(grad_y, x, negative_slope=0.0, max_value=None, threshold=0.0):
    plain, slope, top, thr = _relu_args(negative_slope, max_value, threshold)
    if plain:
        return ops.relu_backward(grad_y, x)
    if top is None and thr == 0.0:
        return ops.leaky_relu_backward(grad_y, x, slope)
    # Strict inequalities at the kinks, as relu_backward (0 at x == threshold or max_value).
    passes = x > thr
    if top is not None:
        passes &= (x > 0) & (x < top)
    d = passes.astype(x.dtype)
    if slope != 0.0:
        d += x.dtype.type(slope) * (x < thr)
    return grad_y * d


# -- softmax over one axis or several ----------------------------------------------------------
def _axes(axis, ndim: int) -> tuple:
    items = (axis,) if isinstance(axis, (numbers.Integral, np.integer)) else axis
    try:
        items = [operator.index(a) for a in items]
    except TypeError:
        raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}") from None
    if not items:
        raise ValueError("axis must name at least one axis, got ()")
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for an input of rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def _over_axes(fn, arrays, axis):
    """fn(*arrays, axis=k) for one axis; over several, the axes are moved last and merged into
    one (a softmax over a set of axes treats their elements as one vector)."""
    ndim = arrays[0].ndim
    axes = _axes(axis, max(ndim, 1))
    if len(axes) == 1:
        return fn(*arrays, axis=axes[0])
    rest = [d for d in range(ndim) if d not in axes]
    perm = rest + list(axes)
    moved = [np.transpose(a, perm) for a in arrays]
    shape = moved[0].shape
    merged = [np.ascontiguousarray(a).reshape(shape[:len(rest)] + (-1,)) for a in moved]
    y = fn(*merged, axis=-1).reshape(shape)
    return np.ascontiguousarray(np.transpose(y, np.argsort(perm)))


def _softmax_forward(x, axis=-1):
    return _over_axes(ops.softmax, [x], axis)


def _softmax_backward(grad_y, y, axis=-1):
    return _over_axes(ops.softmax_backward, [grad_y, y], axis)


def _log_softmax_forward(x, axis=-1):
    return _over_axes(ops.log_softmax, [x], axis)


def _log_softmax_backward(grad_y, y, axis=-1):
    return _over_axes(ops.log_softmax_backward, [grad_y, y], axis)


def _softmax(name="softmax"):
    return ActivationFn(name, _softmax_forward, _softmax_backward, needs="y")


def _log_softmax():
    return ActivationFn("log_softmax", _log_softmax_forward, _log_softmax_backward, needs="y")


_FACTORIES: dict[str, Callable[[], ActivationFn]] = {
    "relu": lambda: ActivationFn("relu", _relu_forward, _relu_backward, needs="x"),
    "relu6": lambda: _from_input("relu6"),
    "leaky_relu": lambda: _from_input("leaky_relu"),
    "elu": lambda: _from_output("elu"),
    "selu": lambda: _from_input("selu"),
    "sigmoid": lambda: _from_output("sigmoid"),
    "tanh": lambda: _from_output("tanh"),
    "softplus": lambda: _from_input("softplus"),
    "softsign": lambda: _from_input("softsign"),
    "hard_sigmoid": lambda: _from_input("hard_sigmoid"),
    "exponential": lambda: _from_output("exponential"),
    "swish": lambda: _from_input("swish"),
    "silu": lambda: _from_input("silu"),
    "gelu": lambda: _from_input("gelu"),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "heaviside": lambda: _from_input("heaviside"),
    "step": lambda: _from_input("heaviside"),
}

NAMES = tuple(sorted(_FACTORIES))


def get(identifier) -> ActivationFn | None:
    """Resolves an activation: None/'linear' -> None, a Keras name, an ActivationFn, or a config."""
    if identifier is None:
        return None
    if isinstance(identifier, ActivationFn):
        return identifier
    if isinstance(identifier, types.FunctionType):
        if identifier is linear:
            return None
        if identifier in _NAME_OF_FUNCTION:
            return _FACTORIES[_NAME_OF_FUNCTION[identifier]]()
    if isinstance(identifier, dict):
        params = dict(identifier)
        name = params.pop("name")
        act = get(name)
        if act is not None and params:
            act.params.update(params)
        return act
    if isinstance(identifier, str):
        key = identifier.lower()
        if key == "linear":
            return None
        if key not in _FACTORIES:
            raise ValueError(
                f"unknown activation '{identifier}'; known: linear, {', '.join(NAMES)}"
            )
        return _FACTORIES[key]()
    raise ValueError(
        f"cannot use {identifier!r} as an activation: give a name such as 'relu', None, or an "
        "nncore.activations.ActivationFn with forward and backward"
    )


def serialize(act: ActivationFn | None):
    """Config form: the name (or a dict with parameters), 'linear' for None."""
    if act is None:
        return "linear"
    return act.name if not act.params else act.get_config()


# -- Keras' activation functions ---------------------------------------------------------------
def _float_array(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(backend.floatx())
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``; with ``threshold``, x where ``x > threshold`` else 0; clipped to
    ``max_value``; ``negative_slope * (x - threshold)`` below the threshold (Keras)."""
    return _relu_forward(_float_array(x), negative_slope, max_value, threshold)


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(_float_array(x), negative_slope)


def relu6(x):
    return ops.relu6(_float_array(x))


def elu(x, alpha=1.0):
    return ops.elu(_float_array(x), alpha)


def selu(x):
    return ops.selu(_float_array(x))


def softplus(x):
    return ops.softplus(_float_array(x))


def softsign(x):
    return ops.softsign(_float_array(x))


def silu(x):
    return ops.silu(_float_array(x))


swish = silu


def gelu(x, approximate=False):
    return ops.gelu(_float_array(x), approximate=bool(approximate))


def tanh(x):
    return ops.tanh(_float_array(x))


def sigmoid(x):
    return ops.sigmoid(_float_array(x))


def exponential(x):
    return ops.exponential(_float_array(x))


def hard_sigmoid(x):
    return ops.hard_sigmoid(_float_array(x))


def softmax(x, axis=-1):
    """Softmax over ``axis``: an int, or a tuple of axes whose elements form one distribution."""
    return _softmax_forward(_float_array(x), axis)


def log_softmax(x, axis=-1):
    """Log of ``softmax(x, axis)``; ``axis`` an int or a tuple of axes."""
    return _log_softmax_forward(_float_array(x), axis)


def linear(x):
    """The identity (Keras' ``linear``); as an activation it is ``None``."""
    return x


_NAME_OF_FUNCTION = {relu: "relu", leaky_relu: "leaky_relu", relu6: "relu6", elu: "elu",
                     selu: "selu", softplus: "softplus", softsign: "softsign", silu: "silu",
                     gelu: "gelu", tanh: "tanh", sigmoid: "sigmoid", exponential: "exponential",
                     hard_sigmoid: "hard_sigmoid", softmax: "softmax", log_softmax: "log_softmax"}
