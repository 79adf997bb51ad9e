"""Matrix products on the packed, cache-blocked GEMM of the core, and the fused Dense forward.

Each function first tries the core directly: the binding validates everything it is given (dtype,
rank, shapes, layout, overlap) before any computation, so well-formed arrays cost one call. When
the binding refuses, the same arguments go through the checks below, which copy what can be copied
(odd strides, overlapping output) and otherwise raise an error that names the argument.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import DTypeError, ShapeError
from ._checks import FLOAT_DTYPES, check_addressable, same_dtype

# What the fast path may raise for arguments the slow path can still accept or explain better.
_RETRY = (ValueError, TypeError, AttributeError, IndexError)


def _operand(x, name: str) -> np.ndarray:
    """A float32/float64 2-D array with contiguous rows or columns (copied otherwise)."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype not in FLOAT_DTYPES:
        raise DTypeError(
            f"argument '{name}' must be a float32 or float64 array, got dtype {arr.dtype}"
        )
    if arr.ndim != 2:
        raise ShapeError(f"argument '{name}' must be 2-D, got shape {arr.shape}")
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous) or not arr.flags.aligned:
        check_addressable(arr, name)
        arr = np.ascontiguousarray(arr)
    return arr


def _scalar(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
            or isinstance(value, np.complexfloating):
        raise TypeError(f"argument '{name}' must be a real number, got {value!r}")
    return float(value)


def _product_shape(what, a, b, transpose_a, transpose_b, names=("a", "b")):
    m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
    if k != kb:
        ta = f"{names[0]}.T" if transpose_a else names[0]
        tb = f"{names[1]}.T" if transpose_b else names[1]
        raise ShapeError(
            f"{what}: {ta} has shape {(m, k)} and {tb} has shape {(kb, n)}: inner dimensions "
            f"{k} and {kb} differ ({names[0]}.shape={a.shape}, {names[1]}.shape={b.shape})"
        )
    return m, n


def _check_out(what, out, name, shape, dtype, *inputs):
    """Validates a caller's output array; returns (out, copies of inputs it overlaps)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{what}: argument '{name}' must be a numpy array, got {type(out).__name__}")
    if out.dtype != dtype:
        raise DTypeError(
            f"{what}: argument '{name}' has dtype {out.dtype} but the inputs are {dtype}"
        )
    if out.shape != shape:
        raise ShapeError(f"{what}: argument '{name}' must have shape {shape}, got {out.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{what}: argument '{name}' is read-only")
    return tuple(x.copy() if np.may_share_memory(out, x) else x for x in inputs)


def _rows_contiguous(c) -> bool:
    return (
        c.flags.aligned
        and (c.shape[1] <= 1 or c.strides[1] == c.itemsize)
        and (c.shape[0] <= 1 or c.strides[0] >= c.shape[1] * c.itemsize)
    )


def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, transpose_a=False, transpose_b=False):
    """Returns ``alpha * op(a) @ op(b) + beta * c`` (2-D float32/float64, one dtype).

    ``op(x)`` is ``x.T`` when ``transpose_x``. With ``c`` given it is updated in place and
    returned (it must be writeable; if it shares memory with ``a`` or ``b`` those are copied
    first); with ``c=None`` a new array is returned and ``beta`` is ignored. Row- and
    column-major inputs are read in place; other layouts are copied.
    """
    try:
        if c is None:
            out = np.empty(
                (a.shape[1 if transpose_a else 0], b.shape[0 if transpose_b else 1]), a.dtype
            )
            _core.gemm(a, b, out, alpha, 0.0, transpose_a, transpose_b)
            return out
        _core.gemm(a, b, c, alpha, beta, transpose_a, transpose_b)
        return c
    except _RETRY:
        pass
    return _gemm_checked(a, b, c, alpha, beta, transpose_a, transpose_b)


def _gemm_checked(a, b, c, alpha, beta, transpose_a, transpose_b):
    a = _operand(a, "a")
    b = _operand(b, "b")
    same_dtype("a", a, b=b)
    m, n = _product_shape("matmul", a, b, transpose_a, transpose_b)
    alpha = _scalar(alpha, "alpha")
    beta = _scalar(beta, "beta")
    ta, tb = bool(transpose_a), bool(transpose_b)
    if c is None:
        out = np.empty((m, n), dtype=a.dtype)
        _core.gemm(a, b, out, alpha, 0.0, ta, tb)
        return out
    if not isinstance(c, np.ndarray):
        raise TypeError(f"argument 'c' must be a numpy array, got {type(c).__name__}")
    if c.ndim != 2:
        raise ShapeError(f"argument 'c' must be 2-D, got shape {c.shape}")
    a, b = _check_out("gemm", c, "c", (m, n), a.dtype, a, b)
    if _rows_contiguous(c):
        _core.gemm(a, b, c, alpha, beta, ta, tb)
    else:
        work = np.ascontiguousarray(c)
        _core.gemm(a, b, work, alpha, beta, ta, tb)
        c[...] = work
    return c


def matmul(a, b, *, transpose_a=False, transpose_b=False, out=None):
    """Returns ``op(a) @ op(b)`` for 2-D float32/float64 arrays of one dtype.

    ``out``: an optional preallocated result (shape ``(m, n)``, the inputs' dtype, C-contiguous or
    at least with contiguous rows), so that a training loop allocates nothing per batch; it is
    filled and returned.
    """
    try:
        if out is None:
            out = np.empty(
                (a.shape[1 if transpose_a else 0], b.shape[0 if transpose_b else 1]), a.dtype
            )
        _core.gemm(a, b, out, 1.0, 0.0, transpose_a, transpose_b)
        return out
    except _RETRY:
        pass
    if out is not None:
        return _matmul_into(a, b, out, transpose_a, transpose_b)
    return _gemm_checked(a, b, None, 1.0, 0.0, transpose_a, transpose_b)


def _matmul_into(a, b, out, transpose_a, transpose_b):
    a = _operand(a, "a")
    b = _operand(b, "b")
    same_dtype("a", a, b=b)
    m, n = _product_shape("matmul", a, b, transpose_a, transpose_b)
    a, b = _check_out("matmul", out, "out", (m, n), a.dtype, a, b)
    if not _rows_contiguous(out):
        raise ShapeError(
            f"matmul: argument 'out' must be C-contiguous (strides {out.strides} for shape "
            f"{out.shape})"
        )
    _core.gemm(a, b, out, 1.0, 0.0, bool(transpose_a), bool(transpose_b))
    return out


def _relu_flag(activation) -> bool:
    if activation is None or activation == "linear":
        return False
    if activation == "relu":
        return True
    raise ValueError(f"dense: activation must be None, 'linear' or 'relu', got {activation!r}")


def dense(x, kernel, bias=None, *, activation=None, out=None):
    """Dense layer forward in one pass: ``activation(x @ kernel + bias)``.

    ``x`` is ``(batch, in_features)``, ``kernel`` ``(in_features, units)`` (the Keras layout),
    ``bias`` ``(units,)`` or None, all of one dtype (float32/float64). ``activation`` is None
    (or ``"linear"``) or ``"relu"``; the bias and the ReLU are applied while the product is
    written, not in a second pass. ``out``: optional preallocated ``(batch, units)`` result with
    contiguous rows, filled and returned.
    """
    relu = _relu_flag(activation)
    try:
        if out is None:
            out = np.empty((x.shape[0], kernel.shape[1]), x.dtype)
        _core.dense(x, kernel, bias, relu, out)
        return out
    except _RETRY:
        pass
    return _dense_checked(x, kernel, bias, relu, out)


def _dense_checked(x, kernel, bias, relu, out):
    x = _operand(x, "x")
    kernel = _operand(kernel, "kernel")
    same_dtype("x", x, kernel=kernel)
    m, n = _product_shape("dense", x, kernel, False, False, names=("x", "kernel"))
    if bias is not None:
        # A plain sequence takes the dtype of x; an array must already have it.
        bias = bias if isinstance(bias, np.ndarray) else np.asarray(bias, dtype=x.dtype)
        same_dtype("x", x, bias=bias)
        if bias.shape != (n,):
            raise ShapeError(
                f"dense: argument 'bias' must have shape ({n},) for a kernel of shape "
                f"{kernel.shape}, got {bias.shape}"
            )
        bias = np.ascontiguousarray(bias)
    if out is None:
        out = np.empty((m, n), dtype=x.dtype)
    else:
        inputs = (x, kernel) if bias is None else (x, kernel, bias)
        copied = _check_out("dense", out, "out", (m, n), x.dtype, *inputs)
        x, kernel = copied[0], copied[1]
        if bias is not None:
            bias = copied[2]
        if not _rows_contiguous(out):
            raise ShapeError(
                f"dense: argument 'out' must be C-contiguous (strides {out.strides} for shape "
                f"{out.shape})"
            )
    _core.dense(x, kernel, bias, relu, out)
    return out
