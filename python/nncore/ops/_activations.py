"""Activation functions and their gradients (Keras 3 definitions unless stated otherwise).

Every ``<name>(x, ...)`` returns ``f(x)``; ``<name>_backward(grad_y, x, ...)`` returns
``grad_y * f'(x)`` (the gradient with respect to the *input* ``x``); where ``f'`` is cheaper from
the output, ``<name>_backward_from_output(grad_y, y, ...)`` takes ``y = f(x)`` instead, so a layer
that kept its output need not recompute ``f``.

Common to all of them:

* ``x`` is a float32 or float64 array of any shape (other dtypes raise ``nncore.DTypeError``);
  the result has the dtype and shape of ``x``. Views in any layout are accepted (copied first).
* ``out=`` takes a preallocated C-contiguous array of that shape and dtype, which is filled and
  returned (no allocation); ``out=x`` computes in place (for the backward passes ``out`` may be
  ``grad_y`` or ``x``/``y``). Any other overlap with an input is refused.
* NaN in gives NaN out, in values and gradients; infinities give the function's limits
  (``sigmoid(-inf) = 0``, ``swish(-inf) = 0``, ``softsign(inf) = 1``, ...). Functions built on
  ``exp`` are stable for any finite input (``sigmoid(-1e4)`` is 0, not a warning).
* At a kink (relu at 0, ...) the derivative is that of the right-hand side's strict region, as in
  TensorFlow and PyTorch: ``relu_backward`` at ``x == 0`` gives 0.
"""

from __future__ import annotations

from .. import _core

__all__ = [
    "elu", "elu_backward", "elu_backward_from_output",
    "exponential", "exponential_backward", "exponential_backward_from_output",
    "gelu", "gelu_backward",
    "hard_sigmoid", "hard_sigmoid_backward",
    "heaviside", "heaviside_backward", "step", "step_backward",
    "leaky_relu", "leaky_relu_backward",
    "relu", "relu_backward", "relu_backward_from_output",
    "relu6", "relu6_backward", "relu6_backward_from_output",
    "selu", "selu_backward", "selu_backward_from_output",
    "sigmoid", "sigmoid_backward", "sigmoid_backward_from_output",
    "silu", "silu_backward",
    "softplus", "softplus_backward",
    "softsign", "softsign_backward",
    "swish", "swish_backward",
    "tanh", "tanh_backward", "tanh_backward_from_output",
    "thresholded_relu", "thresholded_relu_backward",
]


# -- relu family -------------------------------------------------------------------------------

def relu(x, *, out=None):
    """``max(x, 0)``."""
    return _core.relu(x, out)


def relu_backward(grad_y, x, *, out=None):
    """``grad_y * (x > 0)``."""
    return _core.relu_backward(grad_y, x, out)


def relu_backward_from_output(grad_y, y, *, out=None):
    """``grad_y * (y > 0)`` from ``y = relu(x)``."""
    return _core.relu_backward_from_output(grad_y, y, out)


def relu6(x, *, out=None):
    """``min(max(x, 0), 6)``."""
    return _core.relu6(x, out)


def relu6_backward(grad_y, x, *, out=None):
    """``grad_y * (0 < x < 6)``."""
    return _core.relu6_backward(grad_y, x, out)


def relu6_backward_from_output(grad_y, y, *, out=None):
    """``grad_y * (0 < y < 6)`` from ``y = relu6(x)``."""
    return _core.relu6_backward_from_output(grad_y, y, out)


def _slope(negative_slope, alpha):
    return negative_slope if alpha is None else alpha


def leaky_relu(x, negative_slope=0.2, *, alpha=None, out=None):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    The default 0.2 is that of ``keras.activations.leaky_relu`` (and ``keras.ops``); the Keras
    *layer* ``LeakyReLU`` defaults to 0.3 and passes its own value. ``alpha`` is accepted as the
    Keras 2 name of ``negative_slope``.
    """
    return _core.leaky_relu(x, _slope(negative_slope, alpha), out)


def leaky_relu_backward(grad_y, x, negative_slope=0.2, *, alpha=None, out=None):
    """``grad_y`` where ``x > 0``, ``negative_slope * grad_y`` elsewhere."""
    return _core.leaky_relu_backward(grad_y, x, _slope(negative_slope, alpha), out)


def thresholded_relu(x, theta=1.0, *, out=None):
    """``x`` where ``x > theta``, else 0 (Keras ``ThresholdedReLU``, default ``theta=1.0``)."""
    return _core.thresholded_relu(x, theta, out)


def thresholded_relu_backward(grad_y, x, theta=1.0, *, out=None):
    """``grad_y * (x > theta)``."""
    return _core.thresholded_relu_backward(grad_y, x, theta, out)


# -- exponential family ------------------------------------------------------------------------

def elu(x, alpha=1.0, *, out=None):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (computed with an accurate expm1)."""
    return _core.elu(x, alpha, out)


def elu_backward(grad_y, x, alpha=1.0, *, out=None):
    """``grad_y`` where ``x > 0``, ``grad_y * alpha * exp(x)`` elsewhere."""
    return _core.elu_backward(grad_y, x, alpha, out)


def elu_backward_from_output(grad_y, y, alpha=1.0, *, out=None):
    """``grad_y`` where ``y > 0``, ``grad_y * (y + alpha)`` elsewhere; valid for ``alpha >= 0``."""
    return _core.elu_backward_from_output(grad_y, y, alpha, out)


def selu(x, *, out=None):
    """``scale * elu(x, alpha)`` with Keras's constants (alpha ≈ 1.6733, scale ≈ 1.0507)."""
    return _core.selu(x, out)


def selu_backward(grad_y, x, *, out=None):
    """``grad_y * selu'(x)``."""
    return _core.selu_backward(grad_y, x, out)


def selu_backward_from_output(grad_y, y, *, out=None):
    """``grad_y * selu'(x)`` from ``y = selu(x)``: ``scale`` for ``y > 0``, ``y + scale*alpha`` else."""
    return _core.selu_backward_from_output(grad_y, y, out)


def exponential(x, *, out=None):
    """``exp(x)`` (overflows to inf above ~88.7 in float32, ~709.8 in float64)."""
    return _core.exponential(x, out)


def exponential_backward(grad_y, x, *, out=None):
    """``grad_y * exp(x)``."""
    return _core.exponential_backward(grad_y, x, out)


def exponential_backward_from_output(grad_y, y, *, out=None):
    """``grad_y * y`` from ``y = exp(x)``."""
    return _core.exponential_backward_from_output(grad_y, y, out)


# -- sigmoid family ----------------------------------------------------------------------------

def sigmoid(x, *, out=None):
    """``1 / (1 + exp(-x))``, evaluated without overflow for any ``x``."""
    return _core.sigmoid(x, out)


def sigmoid_backward(grad_y, x, *, out=None):
    """``grad_y * sigmoid(x) * (1 - sigmoid(x))`` (as ``e / (1 + e)^2``, ``e = exp(-|x|)``)."""
    return _core.sigmoid_backward(grad_y, x, out)


def sigmoid_backward_from_output(grad_y, y, *, out=None):
    """``grad_y * y * (1 - y)`` from ``y = sigmoid(x)``."""
    return _core.sigmoid_backward_from_output(grad_y, y, out)


def hard_sigmoid(x, *, out=None):
    """Keras 3 hard sigmoid: 0 for ``x <= -3``, 1 for ``x >= 3``, ``x / 6 + 0.5`` in between.

    (Keras 2 used ``0.2 * x + 0.5`` clipped at ±2.5; Keras 3 and PyTorch use this one.)
    """
    return _core.hard_sigmoid(x, out)


def hard_sigmoid_backward(grad_y, x, *, out=None):
    """``grad_y / 6`` where ``-3 < x < 3``, else 0."""
    return _core.hard_sigmoid_backward(grad_y, x, out)


def tanh(x, *, out=None):
    """Hyperbolic tangent."""
    return _core.tanh(x, out)


def tanh_backward(grad_y, x, *, out=None):
    """``grad_y * (1 - tanh(x)^2)``."""
    return _core.tanh_backward(grad_y, x, out)


def tanh_backward_from_output(grad_y, y, *, out=None):
    """``grad_y * (1 - y^2)`` from ``y = tanh(x)``."""
    return _core.tanh_backward_from_output(grad_y, y, out)


def softplus(x, *, out=None):
    """``log(1 + exp(x))``, as ``max(x, 0) + log1p(exp(-|x|))`` (no overflow, exact for large x)."""
    return _core.softplus(x, out)


def softplus_backward(grad_y, x, *, out=None):
    """``grad_y * sigmoid(x)``."""
    return _core.softplus_backward(grad_y, x, out)


def softsign(x, *, out=None):
    """``x / (1 + |x|)`` (±1 at ±inf)."""
    return _core.softsign(x, out)


def softsign_backward(grad_y, x, *, out=None):
    """``grad_y / (1 + |x|)^2``."""
    return _core.softsign_backward(grad_y, x, out)


def swish(x, *, out=None):
    """``x * sigmoid(x)`` (also called SiLU; ``silu`` is the same function). 0 at -inf."""
    return _core.swish(x, out)


def swish_backward(grad_y, x, *, out=None):
    """``grad_y * (s + x s (1 - s))`` with ``s = sigmoid(x)``."""
    return _core.swish_backward(grad_y, x, out)


def silu(x, *, out=None):
    """``x * sigmoid(x)``: the same function as :func:`swish`."""
    return _core.swish(x, out)


def silu_backward(grad_y, x, *, out=None):
    """The same as :func:`swish_backward`."""
    return _core.swish_backward(grad_y, x, out)


def gelu(x, approximate=False, *, out=None):
    """Gaussian error linear unit, ``x * Phi(x)`` with ``Phi`` the standard normal CDF.

    ``approximate=False`` (the default of ``keras.activations.gelu`` and of the Keras
    ``Activation("gelu")``; note that ``keras.ops.gelu`` defaults to True) uses the exact CDF via
    erfc; ``approximate=True`` uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, computed
    as ``x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3))`` (the same function, without cancellation
    for negative x). The exact normal CDF is accurate in relative terms in both tails (so is
    ``gelu(-10)``), vectorized for float32 and through the C library's erfc for float64 (slower).
    """
    return _core.gelu_tanh(x, out) if approximate else _core.gelu(x, out)


def gelu_backward(grad_y, x, approximate=False, *, out=None):
    """``grad_y * gelu'(x)`` for the same ``approximate`` as the forward pass."""
    if approximate:
        return _core.gelu_tanh_backward(grad_y, x, out)
    return _core.gelu_backward(grad_y, x, out)


# -- step ------------------------------------------------------------------------------------

def heaviside(x, *, out=None):
    """The Heaviside step of the McCulloch-Pitts neuron: 0 for ``x < 0``, 1 for ``x >= 0``."""
    return _core.heaviside(x, out)


def heaviside_backward(grad_y, x, *, out=None):
    """Zeros: the step's derivative is 0 wherever it exists (it cannot be trained by backprop).

    Computed as ``grad_y * 0``, so NaN/inf in ``grad_y`` or NaN in ``x`` still show as NaN.
    """
    return _core.heaviside_backward(grad_y, x, out)


step = heaviside
step_backward = heaviside_backward
