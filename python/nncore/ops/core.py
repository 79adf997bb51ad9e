"""Core ``keras.ops`` that move values in and out of a recording: conversion, casting, shapes,
``stop_gradient``."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autodiff.tape import lift, record, value_of

__all__ = ["convert_to_tensor", "convert_to_numpy", "cast", "shape", "stop_gradient",
           "is_tensor", "dtype", "size", "ndim"]


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
    dtype = np.dtype(backend.standardize_dtype(dtype)) if not isinstance(dtype, np.dtype) else dtype
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
