"""Reductions of ``keras.ops`` with their vector-Jacobian products.

``max``/``min`` with several maximal (minimal) elements share the gradient equally among them, as
TensorFlow's ``reduce_max`` and JAX's ``max`` do (``argmax``-style pick-first would make the result
depend on the element order). ``argmax``, ``argmin``, ``all``, ``any`` return plain integer or
boolean arrays: they have no gradient."""

from __future__ import annotations

import builtins

import numpy as np

from ..autodiff.tape import lift, record, value_of

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "logsumexp",
           "cumsum", "argmax", "argmin", "all", "any", "count_nonzero"]


def _axes(axis, ndim):
    """The reduced axes as non-negative ints (NumPy's errors for an axis out of range)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = tuple(int(ax) for ax in axis)
    for ax in axes:
        if not -builtins.max(ndim, 1) <= ax < builtins.max(ndim, 1):
            raise np.exceptions.AxisError(ax, ndim)
    return tuple(ax % ndim if ndim else ax for ax in axes)


def _expand(g, axes, keepdims):
    """``g`` with the reduced axes back as size-1 axes, ready to broadcast to the input."""
    if keepdims or not axes:
        return g
    return np.expand_dims(g, axes)


def _count(shape, axes) -> int:
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def sum(x, axis=None, keepdims=False):  # noqa: A001  (keras.ops.sum)
    a, na = lift(x)
    out = a.sum(axis=axis, keepdims=keepdims) if type(a) is np.ndarray else \
        np.sum(a, axis=axis, keepdims=keepdims)
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    axes = _axes(axis, len(shape))
    # A writable copy: the gradient handed to the caller may be updated in place.
    return record(out, (na,), lambda g, need: (
        np.broadcast_to(_expand(g, axes, keepdims), shape).astype(dtype, copy=True),))


def mean(x, axis=None, keepdims=False):
    a, na = lift(x)
    out = a.mean(axis=axis, keepdims=keepdims) if type(a) is np.ndarray else \
        np.mean(a, axis=axis, keepdims=keepdims)
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    axes = _axes(axis, len(shape))
    count = _count(shape, axes)
    return record(out, (na,), lambda g, need: (
        np.broadcast_to(_expand(g, axes, keepdims) / count, shape).astype(dtype, copy=True),))


def _extremum(fn, x, axis, keepdims, initial):
    a, na = lift(x)
    kwargs = {} if initial is None else {"initial": initial}
    out = fn(a, axis=axis, keepdims=keepdims, **kwargs)
    if na is None:
        return out
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)

    def vjp(g, need):
        hit = a == _expand(out, axes, keepdims)
        # An `initial` beyond every element leaves no hit: the count is then 1 and g goes nowhere.
        count = np.maximum(np.sum(hit, axis=axes, keepdims=True), 1)
        return (np.where(hit, _expand(g, axes, keepdims) / count, 0).astype(a.dtype, copy=False),)
    return record(out, (na,), vjp)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001  (keras.ops.max)
    return _extremum(np.max, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001  (keras.ops.min)
    return _extremum(np.min, x, axis, keepdims, initial)


def amax(x, axis=None, keepdims=False):
    return _extremum(np.max, x, axis, keepdims, None)


def amin(x, axis=None, keepdims=False):
    return _extremum(np.min, x, axis, keepdims, None)


def _others_product(a, axes):
    """For each element, the product of the other elements of its reduction group, without
    dividing (exact where elements are zero): exclusive products from the left and the right."""
    keep = [i for i in range(a.ndim) if i not in axes]
    perm = keep + list(axes)
    t = np.transpose(a, perm)
    moved = t.shape
    t = t.reshape(moved[:len(keep)] + (-1,))
    ones = np.ones(t.shape[:-1] + (1,), t.dtype)
    left = np.cumprod(np.concatenate([ones, t[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, t[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose((left * right).reshape(moved), np.argsort(perm))


def prod(x, axis=None, keepdims=False, dtype=None):
    a, na = lift(x)
    out = np.prod(a, axis=axis, keepdims=keepdims, dtype=dtype)
    if na is None:
        return out
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    out_dtype = np.asarray(out).dtype
    if out_dtype.kind != "f":
        return np.asarray(out)       # an integer product carries no gradient

    def vjp(g, need):
        if a.size == 0:
            return (np.zeros_like(a),)
        return ((_expand(g, axes, keepdims) * _others_product(a, axes)).astype(a.dtype,
                                                                                copy=False),)
    return record(out, (na,), vjp)


def var(x, axis=None, keepdims=False):
    """Population variance (``ddof=0``, as Keras)."""
    a, na = lift(x)
    out = np.var(a, axis=axis, keepdims=keepdims)
    if na is None:
        return out
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    count = _count(a.shape, axes)

    def vjp(g, need):
        centred = a - np.mean(a, axis=axes, keepdims=True)
        return ((_expand(g, axes, keepdims) * (2.0 / count) * centred).astype(a.dtype,
                                                                              copy=False),)
    return record(out, (na,), vjp)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (``ddof=0``, as Keras); its gradient is infinite where the
    deviation is 0."""
    a, na = lift(x)
    out = np.std(a, axis=axis, keepdims=keepdims)
    if na is None:
        return out
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    count = _count(a.shape, axes)

    def vjp(g, need):
        centred = a - np.mean(a, axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = _expand(g / (count * out), axes, keepdims)
        return ((scale * centred).astype(a.dtype, copy=False),)
    return record(out, (na,), vjp)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, shifted by the maximum so that it does not overflow."""
    a, na = lift(x)
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    peak = np.max(a, axis=axes, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
    peak = np.where(np.isfinite(peak), peak, 0).astype(peak.dtype, copy=False)
    with np.errstate(divide="ignore"):
        out_keep = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
    out = out_keep if keepdims else np.squeeze(out_keep, axis=axes)
    if na is None:
        return out

    def vjp(g, need):
        return ((_expand(g, axes, keepdims) * np.exp(a - out_keep)).astype(a.dtype, copy=False),)
    return record(out, (na,), vjp)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened array when ``axis`` is None)."""
    a, na = lift(x)
    out = np.cumsum(a, axis=axis, dtype=dtype)
    if na is None or np.asarray(out).dtype.kind != "f":
        return out
    shape, src = np.shape(a), np.result_type(a)
    ax = -1 if axis is None else axis

    def vjp(g, need):
        # Each input element feeds every later output: a reversed cumulative sum of g.
        gr = np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)
        return (np.reshape(gr, shape).astype(src, copy=False),)
    return record(out, (na,), vjp)


def argmax(x, axis=None, keepdims=False):
    """Index of the first maximum (a plain integer array, not differentiable)."""
    return np.argmax(value_of(x), axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the first minimum (a plain integer array, not differentiable)."""
    return np.argmin(value_of(x), axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001  (keras.ops.all)
    return np.all(value_of(x), axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001  (keras.ops.any)
    return np.any(value_of(x), axis=axis, keepdims=keepdims)


def count_nonzero(x, axis=None):
    return np.count_nonzero(value_of(x), axis=axis)
