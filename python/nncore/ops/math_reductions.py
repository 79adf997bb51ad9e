"""Reductions of ``keras.ops`` with their vector-Jacobian products."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record

__all__ = ["sum", "mean"]


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim if ndim else int(a) for a in axis)


def _expand(g, axes, ndim, keepdims):
    """``g`` with the reduced axes back as size-1 axes, ready to broadcast to the input."""
    if keepdims:
        return g
    return np.expand_dims(g, axes) if axes else g


def sum(x, axis=None, keepdims=False):  # noqa: A001  (keras.ops.sum)
    a, na = lift(x)
    a = np.asarray(a)
    out = np.sum(a, axis=axis, keepdims=keepdims)
    if na is None:
        return out
    axes = _axes(axis, a.ndim)
    return record(out, (na,), lambda g, need: (
        np.broadcast_to(_expand(g, axes, a.ndim, keepdims), a.shape).astype(a.dtype, copy=True),))


def mean(x, axis=None, keepdims=False):
    a, na = lift(x)
    a = np.asarray(a)
    out = np.mean(a, axis=axis, keepdims=keepdims)
    if na is None:
        return out
    axes = _axes(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    return record(out, (na,), lambda g, need: (
        np.broadcast_to(_expand(g, axes, a.ndim, keepdims) / count, a.shape).astype(a.dtype),))
