"""Shape ops of ``keras.ops`` (no arithmetic: values are moved, the gradient moved back)."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record

__all__ = ["reshape", "transpose"]


def reshape(x, newshape):
    a, na = lift(x)
    a = np.asarray(a)
    out = np.reshape(a, newshape)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (np.reshape(g, a.shape),))


def transpose(x, axes=None):
    a, na = lift(x)
    a = np.asarray(a)
    out = np.transpose(a, axes)
    if na is None:
        return out
    inverse = None if axes is None else np.argsort([ax % a.ndim for ax in axes])
    return record(out, (na,), lambda g, need: (np.transpose(g, inverse),))
