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

import numpy as np

from ..autodiff.tape import lift, record
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


def _from_output(kernel, backward):
    """An activation whose derivative the kernel computes from its output."""
    def op(x, *, out=None):
        a, na = lift_operand(x)
        y = kernel(a, out=out)
        if na is None:
            return y
        return record(y, (na,), lambda g, need: (backward(grad_as(g, y.dtype), y),))
    return op


def _from_input(kernel, backward):
    """An activation whose derivative the kernel computes from its input."""
    def op(x, *, out=None):
        a, na = lift_operand(x)
        kept = a if na is None else _kept_input(a, out)
        y = kernel(a, out=out)
        if na is None:
            return y
        return record(y, (na,), lambda g, need: (backward(grad_as(g, y.dtype), kept),))
    return op


relu = _from_output(_k.relu, _k.relu_backward_from_output)
relu.__name__ = relu.__qualname__ = "relu"
relu.__doc__ = "``max(x, 0)``; the gradient at 0 is 0."

relu6 = _from_output(_k.relu6, _k.relu6_backward_from_output)
relu6.__name__ = relu6.__qualname__ = "relu6"
relu6.__doc__ = "``min(max(x, 0), 6)``."

sigmoid = _from_output(_k.sigmoid, _k.sigmoid_backward_from_output)
sigmoid.__name__ = sigmoid.__qualname__ = "sigmoid"
sigmoid.__doc__ = "``1 / (1 + exp(-x))``, without overflow for any x."

tanh = _from_output(_k.tanh, _k.tanh_backward_from_output)
tanh.__name__ = tanh.__qualname__ = "tanh"
tanh.__doc__ = "Hyperbolic tangent."

selu = _from_output(_k.selu, _k.selu_backward_from_output)
selu.__name__ = selu.__qualname__ = "selu"
selu.__doc__ = "``scale * elu(x, alpha)`` with Keras' constants."

silu = _from_input(_k.swish, _k.swish_backward)
silu.__name__ = silu.__qualname__ = "silu"
silu.__doc__ = "``x * sigmoid(x)`` (the same function as ``swish``)."

swish = _from_input(_k.swish, _k.swish_backward)
swish.__name__ = swish.__qualname__ = "swish"
swish.__doc__ = "``x * sigmoid(x)`` (the same function as ``silu``)."

softplus = _from_input(_k.softplus, _k.softplus_backward)
softplus.__name__ = softplus.__qualname__ = "softplus"
softplus.__doc__ = "``log(1 + exp(x))``, exact for large x."

softsign = _from_input(_k.softsign, _k.softsign_backward)
softsign.__name__ = softsign.__qualname__ = "softsign"
softsign.__doc__ = "``x / (1 + |x|)``."

hard_sigmoid = _from_input(_k.hard_sigmoid, _k.hard_sigmoid_backward)
hard_sigmoid.__name__ = hard_sigmoid.__qualname__ = "hard_sigmoid"
hard_sigmoid.__doc__ = "Keras 3's ``relu6(x + 3) / 6``."


def softmax(x, axis=-1, *, out=None):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (an int)."""
    a, na = lift_operand(x)
    y = _s.softmax(a, axis, out=out)
    if na is None:
        return y
    return record(y, (na,), lambda g, need: (_s.softmax_backward(grad_as(g, y.dtype), y, axis),))


def log_softmax(x, axis=-1, *, out=None):
    """``x - max - log(sum(exp(x - max)))`` along ``axis`` (an int)."""
    a, na = lift_operand(x)
    y = _s.log_softmax(a, axis, out=out)
    if na is None:
        return y
    return record(y, (na,), lambda g, need: (
        _s.log_softmax_backward(grad_as(g, y.dtype), y, axis),))


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
