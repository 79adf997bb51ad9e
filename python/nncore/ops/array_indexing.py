"""Indexing ops of ``keras.ops``: ``x[key]`` (``get_item``), ``take``, ``take_along_axis``, with
their vector-Jacobian products (the gradient is scattered back, added where an index repeats)."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record, value_of

__all__ = ["get_item", "take", "take_along_axis"]

_BASIC = (int, slice, type(None), type(Ellipsis), np.integer)


_PLAIN_TYPES = frozenset((int, slice, type(None), type(Ellipsis), np.ndarray, list))


def _plain_key(key):
    """The key with Tensors and Variables (integer index arrays) replaced by their values."""
    t = type(key)
    if t in _PLAIN_TYPES:
        return key
    if t is tuple:
        for k in key:
            if type(k) not in _PLAIN_TYPES:
                return tuple(_plain_key(k) for k in key)
        return key
    if isinstance(key, (*_BASIC, np.ndarray, list)):
        return key
    return np.asarray(value_of(key))


def _no_repeats(key) -> bool:
    """True when no element can be picked twice: basic indexing (a view) or boolean masks only."""
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, _BASIC):
            continue
        if isinstance(k, np.ndarray) and k.dtype == bool:
            continue
        return False
    return True


def get_item(x, key):
    """``x[key]`` with NumPy's basic and advanced indexing."""
    a, na = lift(x)
    key = _plain_key(key)
    out = np.asarray(a)[key]
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    assign = _no_repeats(key)

    def vjp(g, need):
        ga = np.zeros(shape, dtype)
        if assign:
            ga[key] = g
        else:
            np.add.at(ga, key, g)
        return (ga,)
    return record(out, (na,), vjp)


def take(x, indices, axis=None):
    """``np.take``: elements of ``x`` (flattened when ``axis`` is None) at ``indices``; negative
    indices count from the end."""
    a, na = lift(x)
    idx = np.asarray(value_of(indices))
    if idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and np.all(np.floor(idx) == idx):
            idx = idx.astype(np.int64)       # Keras accepts integral float indices
        else:
            raise TypeError(f"take: indices must be integers, got dtype {idx.dtype}")
    out = np.take(a, idx, axis=axis)
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    if axis is None:
        def vjp(g, need):
            flat = np.zeros(int(np.prod(shape)), dtype)
            np.add.at(flat, idx.ravel(), np.ravel(g))
            return (flat.reshape(shape),)
        return record(out, (na,), vjp)
    ax = int(axis) % len(shape)
    k = idx.ndim

    def vjp(g, need):
        # Indexed axis first in the gradient buffer and the index axes first in g: then the
        # buffer indexed by idx has exactly g's layout.
        moved = np.zeros((shape[ax],) + shape[:ax] + shape[ax + 1:], dtype)
        np.add.at(moved, idx, np.moveaxis(g, tuple(range(ax, ax + k)), tuple(range(k))))
        return (np.moveaxis(moved, 0, ax),)
    return record(out, (na,), vjp)


def take_along_axis(x, indices, axis=None):
    """``np.take_along_axis``: ``indices`` has ``x``'s rank (broadcast against it on the other
    axes); ``axis`` None works on the flattened ``x``."""
    a, na = lift(x)
    idx = np.asarray(value_of(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {idx.dtype}")
    out = np.take_along_axis(np.asarray(a), idx, axis=axis)
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    if axis is None:
        return record(out, (na,), lambda g, need: (
            _scatter_flat(g, idx.ravel(), shape, dtype),))
    ax = int(axis) % len(shape)
    out_shape = out.shape

    def vjp(g, need):
        # The full index of every output element: idx on the axis, its own position elsewhere
        # (0 where x has extent 1 and was broadcast).
        key = []
        for d, n in enumerate(out_shape):
            if d == ax:
                key.append(np.broadcast_to(idx, out_shape))
            else:
                pos = np.arange(n) if shape[d] != 1 else np.zeros(n, np.intp)
                key.append(pos.reshape((1,) * d + (n,) + (1,) * (len(out_shape) - d - 1)))
        ga = np.zeros(shape, dtype)
        np.add.at(ga, tuple(key), g)
        return (ga,)
    return record(out, (na,), vjp)


def _scatter_flat(g, flat_idx, shape, dtype):
    flat = np.zeros(int(np.prod(shape)), dtype)
    np.add.at(flat, flat_idx, np.ravel(g))
    return flat.reshape(shape)
