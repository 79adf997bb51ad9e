"""Core ``keras.ops`` that move values in and out of a recording: conversion, casting, shapes,
``stop_gradient``, slices and scatters; and the array creation functions (``zeros``, ``arange``,
...), whose results are plain arrays."""

from __future__ import annotations

import numpy as np

import builtins

from .. import backend
from ..autodiff.tape import lift, record, unbroadcast, value_of


def _dtype(dtype, default=None) -> np.dtype:
    """A NumPy dtype from a Keras dtype name ("float32", "int64", "bool", ...); None is
    ``default``, or ``backend.floatx()`` without one."""
    if dtype is None:
        return np.dtype(backend.floatx() if default is None else default)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None

__all__ = ["convert_to_tensor", "convert_to_numpy", "cast", "shape", "stop_gradient",
           "is_tensor", "dtype", "size", "ndim", "slice", "slice_update", "scatter",
           "scatter_update", "unstack", "zeros", "ones", "full", "zeros_like", "ones_like",
           "full_like", "arange", "eye", "identity", "copy"]


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as an array of ``dtype`` (a tracked operand stays tracked, cast if needed)."""
    if dtype is not None:
        return cast(x, dtype)
    v, node = lift(x)
    if node is not None:
        return x if type(x).__name__ == "Tensor" else record(v, (node,), lambda g, need: (g,))
    return np.asarray(v)


def convert_to_numpy(x):
    """A plain NumPy array of ``x``'s value (no gradient flows through it)."""
    return np.asarray(value_of(x))


def is_tensor(x) -> bool:
    from ..autodiff.tensor import Tensor

    return isinstance(x, (np.ndarray, Tensor))


def cast(x, dtype):
    """``x`` converted to ``dtype``; the gradient flows back through float-to-float casts."""
    dtype = _dtype(dtype)
    v, node = lift(x)
    out = np.asarray(v).astype(dtype, copy=False)
    if node is None:
        return out
    src = np.asarray(v).dtype
    if dtype.kind != "f" or src.kind != "f":
        return out     # integer results carry no gradient
    return record(out, (node,), lambda g, need: (g.astype(src, copy=False),))


def stop_gradient(variable):
    """The value, cut off from the recording: nothing flows back through it."""
    return np.asarray(value_of(variable))


def shape(x) -> tuple:
    return tuple(np.shape(value_of(x)))


def dtype(x) -> str:
    return np.asarray(value_of(x)).dtype.name


def size(x) -> int:
    return int(np.size(value_of(x)))


def ndim(x) -> int:
    return int(np.ndim(value_of(x)))


def copy(x):
    v, node = lift(x)
    out = np.array(v, copy=True)
    if node is None:
        return out
    return record(out, (node,), lambda g, need: (g,))


# -- slices and scatters (Keras' core ops) -------------------------------------------------------

def _region(start_indices, shape):
    if len(start_indices) != len(shape):
        raise ValueError(f"start_indices has {len(start_indices)} entries and shape has "
                         f"{len(shape)}: give one start per axis")
    return tuple(builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape))


def slice(inputs, start_indices, shape):  # noqa: A001  (keras.ops.slice)
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``."""
    a, na = lift(inputs)
    region = _region(start_indices, shape)
    out = np.asarray(a)[region]
    if tuple(out.shape) != tuple(int(n) for n in shape):
        raise ValueError(f"slice: a block of shape {tuple(shape)} at {tuple(start_indices)} does "
                         f"not fit in an array of shape {np.shape(a)}")
    out = out.copy()
    if na is None:
        return out
    src, dtype = np.shape(a), np.result_type(a)

    def vjp(g, need):
        ga = np.zeros(src, dtype)
        ga[region] = g
        return (ga,)
    return record(out, (na,), vjp)


def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``
    (``inputs`` itself is not modified)."""
    a, na = lift(inputs)
    u, nu = lift(updates)
    region = _region(start_indices, np.shape(u))
    out = np.array(a, copy=True)
    if out[region].shape != np.shape(u):
        raise ValueError(f"slice_update: updates of shape {np.shape(u)} at "
                         f"{tuple(start_indices)} do not fit in an array of shape {out.shape}")
    out[region] = u
    if na is None and nu is None:
        return out

    def vjp(g, need):
        ga = None
        if need[0]:
            ga = np.array(g, copy=True)
            ga[region] = 0
        return ga, (np.array(g[region]) if need[1] else None)
    return record(out, (na, nu), vjp)


def _scatter_key(indices):
    idx = np.asarray(value_of(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"scatter: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim == 0:
        raise ValueError("scatter: indices must have a last axis listing the coordinates")
    return idx


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (``indices[..., :k]`` are the
    coordinates of the first k axes); repeated indices add up, as Keras."""
    idx = _scatter_key(indices)
    v, nv = lift(values)
    v = np.asarray(v)
    k = idx.shape[-1]
    shape = tuple(int(n) for n in shape)
    key = tuple(idx.reshape(-1, k).T)
    out = np.zeros(shape, v.dtype)
    np.add.at(out, key, v.reshape((-1,) + shape[k:]))
    if nv is None:
        return out
    vshape = v.shape
    return record(out, (nv,), lambda g, need: (g[key].reshape(vshape),))


def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (``reduction`` None: the
    updates replace the values, and with a repeated index the last one wins; "add": added)."""
    if reduction not in (None, "add"):
        raise NotImplementedError(f"scatter_update: reduction={reduction!r} is not supported "
                                  f"(None or 'add')")
    idx = _scatter_key(indices)
    a, na = lift(inputs)
    u, nu = lift(updates)
    out = np.array(a, copy=True)
    key = tuple(idx.reshape(-1, idx.shape[-1]).T)
    u_arr = np.asarray(u)
    if reduction == "add":
        np.add.at(out, key, u_arr)
    else:
        out[key] = u_arr
    if na is None and nu is None:
        return out
    ushape = np.shape(u)
    if reduction is None:
        # With a repeated index NumPy's assignment keeps the last write: only that update gets
        # the gradient.
        flat = np.ravel_multi_index(key, out.shape[:len(key)])
        last = np.zeros(flat.shape, bool)
        last[flat.size - 1 - np.unique(flat[::-1], return_index=True)[1]] = True
    else:
        last = None

    def vjp(g, need):
        ga = gu = None
        if need[0]:
            ga = np.array(g, copy=True)
            if reduction is None:
                ga[key] = 0
        if need[1]:
            gu = g[key]
            if last is not None:
                gu = np.where(last.reshape(last.shape + (1,) * (gu.ndim - 1)), gu, 0)
            gu = unbroadcast(gu, ushape)
        return ga, gu
    return record(out, (na, nu), vjp)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    a, na = lift(x)
    count = np.shape(a)[axis]
    if num is not None and int(num) != count:
        raise ValueError(f"unstack: num={num} but axis {axis} has extent {count}")
    from .array_indexing import get_item

    ax = int(axis) % np.ndim(a)
    lead = (builtins.slice(None),) * ax
    if na is None:
        return [np.asarray(a)[lead + (i,)] for i in range(count)]
    return [get_item(x, lead + (i,)) for i in range(count)]


# -- creation (plain arrays; Keras' default dtype is floatx for floats) ---------------------------

def zeros(shape, dtype=None):
    return np.zeros(shape, _dtype(dtype))


def ones(shape, dtype=None):
    return np.ones(shape, _dtype(dtype))


def full(shape, fill_value, dtype=None):
    return np.full(shape, value_of(fill_value), _dtype(dtype))


def zeros_like(x, dtype=None):
    return np.zeros_like(value_of(x), dtype=None if dtype is None else _dtype(dtype))


def ones_like(x, dtype=None):
    return np.ones_like(value_of(x), dtype=None if dtype is None else _dtype(dtype))


def full_like(x, fill_value, dtype=None):
    return np.full_like(value_of(x), value_of(fill_value),
                        dtype=None if dtype is None else _dtype(dtype))


def arange(start, stop=None, step=None, dtype=None):
    """``np.arange`` (without ``dtype``, NumPy's: int64 for integer bounds, float64 for floats)."""
    step = 1 if step is None else step
    out = np.arange(0, start, step) if stop is None else np.arange(start, stop, step)
    return out if dtype is None else out.astype(_dtype(dtype), copy=False)


def eye(N, M=None, k=0, dtype=None):
    return np.eye(N, M, k, dtype=_dtype(dtype))


def identity(n, dtype=None):
    return np.identity(n, dtype=_dtype(dtype))
