"""Activations of ``keras.ops`` on the C++ kernels, each with its vector-Jacobian product.

Each keeps the signature of the kernel function it replaces in ``nncore.ops`` (the keyword-only
``out=`` included, and the same errors: non-float input raises ``nncore.DTypeError``), with Keras'
defaults: ``gelu`` is the tanh approximation unless ``approximate=False``. A plain operand costs
one ``lift`` and the kernel call; a tracked one also records the VJP, which calls the kernel's
``*_backward_from_output`` where there is one, so the recording keeps only the output.

With ``out=`` on a tracked operand, the recorded value is ``out``: it must not be overwritten
before the gradient is computed.
"""

from __future__ import annotations

import operator

import numpy as np

from ..autodiff.tape import lift, record
from ..errors import ShapeError
from . import _activations as _k
from . import _softmax as _s

__all__ = ["relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu", "swish",
           "elu", "selu", "leaky_relu", "softplus", "softsign", "hard_sigmoid"]


def grad_as(g, dtype):
    """The incoming gradient in the dtype of the kernel's other operand (the kernels take one
    dtype per call; another op's VJP may have promoted it)."""
    g = np.asarray(g)
    return g if g.dtype == dtype else g.astype(dtype)


def lift_operand(x):
    """``lift`` that leaves what NumPy cannot make a numeric array of (None, ...) to the kernel,
    whose error names the argument."""
    a, na = lift(x)
    if a is not x and na is None and type(a) is np.ndarray and a.dtype.kind == "O":
        return x, None
    return a, na


def _kept_input(a, out):
    """The input a from-input VJP reads: a copy when ``out`` may overwrite it (``out=x``)."""
    if out is not None and np.may_share_memory(out, a):
        return np.array(a, copy=True)
    return a


def _named(op, name, doc):
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _from_output(kernel, backward, name, doc):
    """An activation whose derivative the kernel computes from its output."""
    def op(x, *, out=None):
        a, na = lift_operand(x)
        y = kernel(a, out=out)
        if na is None:
            return y
        return record(y, (na,), lambda g, need: (backward(grad_as(g, y.dtype), y),))
    return _named(op, name, doc)


def _from_input(kernel, backward, name, doc):
    """An activation whose derivative the kernel computes from its input."""
    def op(x, *, out=None):
        a, na = lift_operand(x)
        kept = a if na is None else _kept_input(a, out)
        y = kernel(a, out=out)
        if na is None:
            return y
        return record(y, (na,), lambda g, need: (backward(grad_as(g, y.dtype), kept),))
    return _named(op, name, doc)


relu = _from_output(_k.relu, _k.relu_backward_from_output, "relu",
                    "``max(x, 0)``; the gradient at 0 is 0.")

relu6 = _from_output(_k.relu6, _k.relu6_backward_from_output, "relu6",
                     "``min(max(x, 0), 6)``.")

sigmoid = _from_output(_k.sigmoid, _k.sigmoid_backward_from_output, "sigmoid",
                       "``1 / (1 + exp(-x))``, without overflow for any x.")

tanh = _from_output(_k.tanh, _k.tanh_backward_from_output, "tanh",
                    "Hyperbolic tangent.")

selu = _from_output(_k.selu, _k.selu_backward_from_output, "selu",
                    "``scale * elu(x, alpha)`` with Keras' constants.")

silu = _from_input(_k.swish, _k.swish_backward, "silu",
                   "``x * sigmoid(x)`` (the same function as ``swish``).")

swish = _from_input(_k.swish, _k.swish_backward, "swish",
                    "``x * sigmoid(x)`` (the same function as ``silu``).")

softplus = _from_input(_k.softplus, _k.softplus_backward, "softplus",
                       "``log(1 + exp(x))``, exact for large x.")

softsign = _from_input(_k.softsign, _k.softsign_backward, "softsign",
                       "``x / (1 + |x|)``.")

hard_sigmoid = _from_input(_k.hard_sigmoid, _k.hard_sigmoid_backward, "hard_sigmoid",
                           "Keras 3's ``relu6(x + 3) / 6``.")


def _merged_axes(a, axis, op):
    """For ``axis`` None (every axis) or a tuple: the permutation moving those axes last, and
    the shape merging them into one, so the kernel normalizes them as one vector."""
    a = np.asarray(a)
    ndim = a.ndim
    items = range(ndim) if axis is None else axis
    try:
        items = [operator.index(v) for v in items]
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}") from None
    if not items:
        raise ValueError(f"{op}: axis must name at least one axis, got {axis!r}")
    for v in items:
        if not -ndim <= v < ndim:
            raise ShapeError(f"{op}: axis {v} is out of bounds for argument 'x' of shape {a.shape}")
    axes = sorted({v % ndim for v in items})
    if len(axes) != len(items):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    perm = [d for d in range(ndim) if d not in axes] + axes
    moved = a.shape if perm == list(range(ndim)) else tuple(a.shape[d] for d in perm)
    return perm, moved, moved[:ndim - len(axes)] + (-1,)


def _normalize(kernel, backward, x, axis, out, op):
    a, na = lift_operand(x)
    if axis is None or isinstance(axis, (tuple, list)):
        if out is not None:
            raise ValueError(f"{op}: out= needs an int axis")
        perm, moved, merged = _merged_axes(a, axis, op)
        inverse = np.argsort(perm)
        ident = perm == sorted(perm)

        def run(f, *arrays):
            flat = [np.ascontiguousarray(v if ident else np.transpose(v, perm)).reshape(merged)
                    for v in arrays]
            r = f(*flat, -1).reshape(moved)
            return r if ident else np.ascontiguousarray(np.transpose(r, inverse))
        y = run(kernel, a)
        if na is None:
            return y
        return record(y, (na,), lambda g, need: (run(backward, grad_as(g, y.dtype), y),))
    y = kernel(a, axis, out=out)
    if na is None:
        return y
    return record(y, (na,), lambda g, need: (backward(grad_as(g, y.dtype), y, axis),))


def softmax(x, axis=-1, *, out=None):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``: an int, a tuple of axes normalized
    together, or None for all of them (``out=`` only with an int axis)."""
    return _normalize(_s.softmax, _s.softmax_backward, x, axis, out, "softmax")


def log_softmax(x, axis=-1, *, out=None):
    """``x - max - log(sum(exp(x - max)))`` along ``axis`` (as :func:`softmax`)."""
    return _normalize(_s.log_softmax, _s.log_softmax_backward, x, axis, out, "log_softmax")


def gelu(x, approximate=True, *, out=None):
    """Gaussian error linear unit, ``x * Phi(x)``: by default (``keras.ops.gelu``) the tanh
    approximation, with ``approximate=False`` the exact normal CDF (the default of
    ``keras.activations.gelu``)."""
    approximate = bool(approximate)
    a, na = lift_operand(x)
    kept = a if na is None else _kept_input(a, out)
    y = _k.gelu(a, approximate, out=out)
    if na is None:
        return y
    return record(y, (na,), lambda g, need: (
        _k.gelu_backward(grad_as(g, y.dtype), kept, approximate),))


def elu(x, alpha=1.0, *, out=None):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    a, na = lift_operand(x)
    # The output determines the derivative only for alpha >= 0 (y + alpha = alpha exp(x)).
    kept = a if na is None or alpha >= 0 else _kept_input(a, out)
    y = _k.elu(a, alpha, out=out)
    if na is None:
        return y
    if alpha >= 0:
        return record(y, (na,), lambda g, need: (
            _k.elu_backward_from_output(grad_as(g, y.dtype), y, alpha),))
    return record(y, (na,), lambda g, need: (_k.elu_backward(grad_as(g, y.dtype), kept, alpha),))


def leaky_relu(x, negative_slope=0.2, *, alpha=None, out=None):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (``alpha``: the Keras 2 name)."""
    slope = negative_slope if alpha is None else alpha
    a, na = lift_operand(x)
    # For a slope >= 0 the output is positive exactly where the input is, so the backward
    # kernel can read the output in place of the input and x need not be kept.
    kept = a if na is None or slope >= 0 else _kept_input(a, out)
    y = _k.leaky_relu(a, slope, out=out)
    if na is None:
        return y
    src = y if slope >= 0 else kept
    return record(y, (na,), lambda g, need: (
        _k.leaky_relu_backward(grad_as(g, y.dtype), src, slope),))
