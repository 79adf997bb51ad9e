"""Softmax and log-softmax along an axis, and their gradients from the output."""

from __future__ import annotations

from .. import _core

__all__ = ["log_softmax", "log_softmax_backward", "softmax", "softmax_backward"]


def softmax(x, axis=-1, *, out=None):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (float32/float64, any rank >= 1).

    Subtracting the maximum makes it exact for any finite logits (±1e4 included). A row holding
    NaN or +inf gives NaN (as NumPy/PyTorch); ``-inf`` entries give 0. ``out=`` as for the
    activations (``out=x`` is in place).
    """
    return _core.softmax(x, axis, out)


def log_softmax(x, axis=-1, *, out=None):
    """``(x - max) - log(sum(exp(x - max)))`` along ``axis``; finite for any finite input."""
    return _core.log_softmax(x, axis, out)


def softmax_backward(grad_y, y, axis=-1, *, out=None):
    """Gradient w.r.t. the logits from the softmax *output* ``y``: ``y * (g - sum(g * y))``."""
    return _core.softmax_backward(grad_y, y, axis, out)


def log_softmax_backward(grad_y, y, axis=-1, *, out=None):
    """Gradient from the log-softmax *output* ``y``: ``g - exp(y) * sum(g)``."""
    return _core.log_softmax_backward(grad_y, y, axis, out)
