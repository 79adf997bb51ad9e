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


# -- gelu: Keras' activation is the exact one (``keras.ops.gelu`` defaults to the approximation)
def _gelu_forward(x, approximate=False):
    return ops.gelu(x, approximate=approximate)


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


# -- activations computed with NumPy (Keras 3 definitions), each with its derivative ------------
# At a kink the derivative is that of the region right of it, as relu_backward does.
def _softplus_np(x):
    return np.logaddexp(x.dtype.type(0), x)


def _sigmoid_np(x):
    return ops.sigmoid(np.ascontiguousarray(x))


def _celu(x, alpha=1.0):
    return np.maximum(x, 0) + x.dtype.type(alpha) * np.expm1(np.minimum(x, 0) / x.dtype.type(alpha))


def _celu_backward(g, x, alpha=1.0):
    return g * np.where(x > 0, x.dtype.type(1), np.exp(np.minimum(x, 0) / x.dtype.type(alpha)))


def _tanh_shrink(x):
    return x - np.tanh(x)


def _tanh_shrink_backward(g, x):
    return g * np.tanh(x) ** 2


def _hard_tanh(x):
    return np.clip(x, x.dtype.type(-1), x.dtype.type(1))


def _hard_tanh_backward(g, x):
    return g * ((x > -1) & (x < 1))


def _hard_shrink(x, threshold=0.5):
    return np.where(np.abs(x) > threshold, x, x.dtype.type(0))


def _hard_shrink_backward(g, x, threshold=0.5):
    return g * (np.abs(x) > threshold)


def _soft_shrink(x, threshold=0.5):
    t = x.dtype.type(threshold)
    return np.where(x > t, x - t, np.where(x < -t, x + t, x.dtype.type(0)))


def _threshold(x, threshold, default_value):
    return np.where(x > threshold, x, x.dtype.type(default_value))


def _threshold_backward(g, x, threshold, default_value):
    return g * (x > threshold)


def _squareplus(x, b=4):
    return (x + np.sqrt(x * x + x.dtype.type(b))) / 2


def _squareplus_backward(g, x, b=4):
    return g * (1 + x / np.sqrt(x * x + x.dtype.type(b))) / 2


def _sparse_plus(x):
    return np.where(x <= -1, x.dtype.type(0), np.where(x < 1, (x + 1) ** 2 / 4, x))


def _sparse_plus_backward(g, x):
    return g * np.where(x <= -1, x.dtype.type(0), np.where(x < 1, (x + 1) / 2, x.dtype.type(1)))


def _sparse_sigmoid(x):
    return np.where(x <= -1, x.dtype.type(0), np.where(x >= 1, x.dtype.type(1), (x + 1) / 2))


def _sparse_sigmoid_backward(g, x):
    return g * np.where((x > -1) & (x < 1), x.dtype.type(0.5), x.dtype.type(0))


def _log_sigmoid(x):
    return -_softplus_np(-x)


def _log_sigmoid_backward(g, x):
    return g * _sigmoid_np(-x)


def _hard_silu(x):
    return x * np.clip(x + 3, 0, 6) / 6


def _hard_silu_backward(g, x):
    return g * np.where(x < -3, x.dtype.type(0), np.where(x > 3, x.dtype.type(1), (2 * x + 3) / 6))


def _mish(x):
    return x * np.tanh(_softplus_np(x))


def _mish_backward(g, x):
    t = np.tanh(_softplus_np(x))
    return g * (t + x * (1 - t * t) * _sigmoid_np(x))


def _sparsemax_last(z):
    """Euclidean projection of each row of ``z`` (last axis) onto the probability simplex."""
    srt = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cumsum = np.cumsum(srt, axis=-1)
    support = 1 + k * srt > cumsum
    k_z = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumsum, k_z - 1, axis=-1) - 1) / k_z.astype(z.dtype)
    return np.maximum(z - tau, 0)


def _sparsemax(x, axis=-1):
    return np.moveaxis(_sparsemax_last(np.moveaxis(x, axis, -1)), -1, axis)


def _sparsemax_backward(g, y, axis=-1):
    # On the support the Jacobian is I - 1 1^T / |S|: subtract the mean of g over the support.
    g, y = np.moveaxis(g, axis, -1), np.moveaxis(y, axis, -1)
    on = (y > 0).astype(y.dtype)
    mean = (g * on).sum(axis=-1, keepdims=True) / on.sum(axis=-1, keepdims=True)
    return np.moveaxis(on * (g - mean), -1, axis)


def _numpy_act(name, fwd, bwd, needs="x"):
    def factory():
        return ActivationFn(name, fwd, bwd, needs=needs)
    factory.numpy_computed = True
    return factory


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
    "gelu": lambda: ActivationFn("gelu", _gelu_forward, ops.gelu_backward, needs="x"),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "heaviside": lambda: _from_input("heaviside"),
    "step": lambda: _from_input("heaviside"),
    "celu": _numpy_act("celu", _celu, _celu_backward),
    "tanh_shrink": _numpy_act("tanh_shrink", _tanh_shrink, _tanh_shrink_backward),
    "hard_tanh": _numpy_act("hard_tanh", _hard_tanh, _hard_tanh_backward),
    "hard_shrink": _numpy_act("hard_shrink", _hard_shrink, _hard_shrink_backward),
    "soft_shrink": _numpy_act("soft_shrink", _soft_shrink, _hard_shrink_backward),
    "threshold": _numpy_act("threshold", _threshold, _threshold_backward),
    "squareplus": _numpy_act("squareplus", _squareplus, _squareplus_backward),
    "sparse_plus": _numpy_act("sparse_plus", _sparse_plus, _sparse_plus_backward),
    "sparse_sigmoid": _numpy_act("sparse_sigmoid", _sparse_sigmoid, _sparse_sigmoid_backward),
    "log_sigmoid": _numpy_act("log_sigmoid", _log_sigmoid, _log_sigmoid_backward),
    "hard_silu": _numpy_act("hard_silu", _hard_silu, _hard_silu_backward),
    "hard_swish": _numpy_act("hard_silu", _hard_silu, _hard_silu_backward),
    "mish": _numpy_act("mish", _mish, _mish_backward),
    "sparsemax": _numpy_act("sparsemax", _sparsemax, _sparsemax_backward, needs="y"),
}

#: Activations with compiled kernels (forward and backward in nncore's C++ core).
NAMES = tuple(sorted(k for k, f in _FACTORIES.items() if not getattr(f, "numpy_computed", False)))
#: Keras' other activations, computed with NumPy (forward and derivative written out here).
NUMPY_NAMES = tuple(sorted(k for k, f in _FACTORIES.items() if getattr(f, "numpy_computed", False)))


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
                f"unknown activation '{identifier}'; known: linear, "
                f"{', '.join(sorted(NAMES + NUMPY_NAMES))}"
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


def celu(x, alpha=1.0):
    return _celu(_float_array(x), alpha)


def glu(x, axis=-1):
    """Gated linear unit: the first half of ``x`` along ``axis`` times the sigmoid of the second
    (the output has half the size along ``axis``, so it is a function, not a layer activation)."""
    x = _float_array(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} has odd size {x.shape[axis]}; it must split in halves")
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid_np(b)


def tanh_shrink(x):
    return _tanh_shrink(_float_array(x))


def hard_tanh(x):
    return _hard_tanh(_float_array(x))


def hard_shrink(x, threshold=0.5):
    return _hard_shrink(_float_array(x), threshold)


def soft_shrink(x, threshold=0.5):
    return _soft_shrink(_float_array(x), threshold)


def threshold(x, threshold, default_value):
    """x where ``x > threshold``, else ``default_value``."""
    return _threshold(_float_array(x), threshold, default_value)


def squareplus(x, b=4):
    return _squareplus(_float_array(x), b)


def sparse_plus(x):
    return _sparse_plus(_float_array(x))


def sparse_sigmoid(x):
    return _sparse_sigmoid(_float_array(x))


def log_sigmoid(x):
    return _log_sigmoid(_float_array(x))


def hard_silu(x):
    return _hard_silu(_float_array(x))


hard_swish = hard_silu


def mish(x):
    return _mish(_float_array(x))


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis`` (Martins &
    Astudillo 2016): like softmax, but exactly 0 outside a support."""
    return _sparsemax(_float_array(x), axis)


def linear(x):
    """The identity (Keras' ``linear``); as an activation it is ``None``."""
    return x


_NAME_OF_FUNCTION = {relu: "relu", leaky_relu: "leaky_relu", relu6: "relu6", elu: "elu",
                     selu: "selu", softplus: "softplus", softsign: "softsign", silu: "silu",
                     gelu: "gelu", tanh: "tanh", sigmoid: "sigmoid", exponential: "exponential",
                     hard_sigmoid: "hard_sigmoid", softmax: "softmax", log_softmax: "log_softmax",
                     celu: "celu", tanh_shrink: "tanh_shrink", hard_tanh: "hard_tanh",
                     hard_shrink: "hard_shrink", soft_shrink: "soft_shrink", threshold: "threshold",
                     squareplus: "squareplus", sparse_plus: "sparse_plus",
                     sparse_sigmoid: "sparse_sigmoid", log_sigmoid: "log_sigmoid",
                     hard_silu: "hard_silu", mish: "mish", sparsemax: "sparsemax"}
