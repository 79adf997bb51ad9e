"""Matrix products on the packed, cache-blocked GEMM of the core."""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import ShapeError
from ._checks import as_float_array, require_ndim, same_dtype


def _inner_dims(a, b, transpose_a, transpose_b):
    m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
    if k != kb:
        ta = "a.T" if transpose_a else "a"
        tb = "b.T" if transpose_b else "b"
        raise ShapeError(
            f"matmul: {ta} has shape {(m, k)} and {tb} has shape {(kb, n)}: inner dimensions "
            f"{k} and {kb} differ (a.shape={a.shape}, b.shape={b.shape})"
        )
    return m, n


def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, transpose_a=False, transpose_b=False):
    """Returns ``alpha * op(a) @ op(b) + beta * c`` (2-D float32/float64, one dtype).

    ``op(x)`` is ``x.T`` when ``transpose_x``. With ``c`` given it is updated in place and
    returned (it must be writeable and must not share memory with ``a`` or ``b``); with ``c=None``
    a new array is returned and ``beta`` is ignored.
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    same_dtype("a", a, b=b)
    require_ndim(a, 2, "a")
    require_ndim(b, 2, "b")
    m, n = _inner_dims(a, b, transpose_a, transpose_b)
    alpha = float(alpha)
    beta = float(beta)
    if c is None:
        out = np.empty((m, n), dtype=a.dtype)
        _core.gemm(a, b, out, alpha, 0.0, bool(transpose_a), bool(transpose_b))
        return out
    if not isinstance(c, np.ndarray):
        raise TypeError(f"argument 'c' must be a numpy array, got {type(c).__name__}")
    same_dtype("a", a, c=c)
    require_ndim(c, 2, "c")
    if c.shape != (m, n):
        raise ShapeError(f"gemm: c must have shape {(m, n)}, got {c.shape}")
    if not c.flags.writeable:
        raise ValueError("gemm: argument 'c' is read-only")
    if np.may_share_memory(c, a) or np.may_share_memory(c, b):
        a = a.copy()
        b = b.copy()
    rows_ok = c.flags.aligned and (c.shape[1] <= 1 or c.strides[1] == c.itemsize)
    rows_ok = rows_ok and (c.shape[0] <= 1 or c.strides[0] >= c.shape[1] * c.itemsize)
    if rows_ok:
        _core.gemm(a, b, c, alpha, beta, bool(transpose_a), bool(transpose_b))
    else:
        work = np.ascontiguousarray(c)
        _core.gemm(a, b, work, alpha, beta, bool(transpose_a), bool(transpose_b))
        c[...] = work
    return c


def matmul(a, b, *, transpose_a=False, transpose_b=False):
    """Returns ``op(a) @ op(b)`` for 2-D float32/float64 arrays of one dtype."""
    return gemm(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
