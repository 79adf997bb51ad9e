"""The sum of two arrays of one shape and dtype with an optional ReLU / ReLU6 after it, threaded:
a residual block's ``Add`` and the activation that follows it in one pass over memory.

Unlike :func:`nncore.ops.add` (NumPy broadcasting, any dtype), both inputs must have the same
shape and the same float dtype (float32 or float64); views in any layout are copied first.
``out=`` takes a C-contiguous array of that shape and dtype and may be ``x1`` or ``x2`` itself.
The ReLU of ``x1 + x2`` is bit for bit ``relu(x1 + x2)``, NaN staying NaN.
"""

from __future__ import annotations

from .. import _core

__all__ = ["add_act"]


def add_act(x1, x2, activation=None, *, out=None):
    """``activation(x1 + x2)`` with ``activation`` None, ``"relu"`` or ``"relu6"``."""
    return _core.add_act(x1, x2, activation, out)
