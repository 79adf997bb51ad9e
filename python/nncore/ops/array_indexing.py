"""Indexing ops of ``keras.ops``: ``x[key]`` (``get_item``) with its vector-Jacobian product."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record, value_of

__all__ = ["get_item"]


def _plain_key(key):
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    if isinstance(key, (int, slice, type(None), type(Ellipsis), np.ndarray, list, np.integer)):
        return key
    return np.asarray(value_of(key))


def get_item(x, key):
    """``x[key]`` with NumPy's basic and advanced indexing; the gradient is scattered back
    (added where an index repeats)."""
    a, na = lift(x)
    a = np.asarray(a)
    key = _plain_key(key)
    out = a[key]
    if na is None:
        return out

    basic = all(isinstance(k, (int, slice, type(None), type(Ellipsis), np.integer))
                for k in (key if isinstance(key, tuple) else (key,)))

    def vjp(g, need):
        ga = np.zeros_like(a)
        if basic:       # a view: each element is picked at most once
            ga[key] = g
        else:
            np.add.at(ga, key, g)
        return (ga,)
    return record(out, (na,), vjp)
