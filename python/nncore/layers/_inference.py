"""What layers share for inference plans (``models.inference_plan``): their activation as one
call, without the argument handling of the general path when that handling is a known no-op."""

from __future__ import annotations

import numbers

from .. import _core, activations


def activation_call(act, ndim: int):
    """``act.forward`` for outputs of rank ``ndim``, as a callable giving the same array. A
    softmax over one axis calls its kernel directly (``act.forward`` normalizes the axis, then
    lands on the same kernel with the same arguments)."""
    if getattr(act, "_forward", None) is activations._softmax_forward and set(act.params) <= {"axis"}:
        axis = act.params.get("axis", -1)
        if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) and -ndim <= axis < ndim:
            axis, softmax = int(axis) % ndim, _core.softmax
            return lambda z: softmax(z, axis, None)
    return act.forward
