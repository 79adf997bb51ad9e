"""Matrix products of ``keras.ops`` (``matmul``, ``dot``) with their vector-Jacobian products.

Two 2-D float operands of one dtype go through the C++ GEMM (forward and backward); other shapes
(batched, vectors, integers) through NumPy with ``np.matmul``'s broadcasting."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record, unbroadcast
from . import _gemm
from .math_elementwise import multiply

__all__ = ["matmul", "dot"]


def _kernel_ok(a, b) -> bool:
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2
            and a.dtype == b.dtype and a.dtype.kind == "f" and a.dtype.itemsize in (4, 8))


def _mm(a, b, transpose_a=False, transpose_b=False, out=None):
    if _kernel_ok(a, b):
        return _gemm.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, out=out)
    a = np.asarray(a)
    b = np.asarray(b)
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    if out is not None:
        return np.matmul(a, b, out=out)
    return np.matmul(a, b)


def matmul(x1, x2, *, transpose_a=False, transpose_b=False, out=None):
    """``x1 @ x2`` with NumPy's rules (batched, broadcast, 1-D vectors). ``transpose_a``/``b``
    transpose the last two axes first; ``out`` (plain arrays only) receives the result."""
    a, na = lift(x1)
    b, nb = lift(x2)
    if na is None and nb is None:
        return _mm(a, b, transpose_a, transpose_b, out)
    if out is not None:
        raise ValueError("matmul: out= cannot be used with a tracked (differentiated) operand")
    a = np.asarray(a)
    b = np.asarray(b)
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    value = _mm(a, b)

    def vjp(g, need):
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if need[0] else None), (g * a if need[1] else None)
        A = a[None, :] if a.ndim == 1 else a
        B = b[:, None] if b.ndim == 1 else b
        G = g
        if a.ndim == 1:
            G = np.expand_dims(G, -2)
        if b.ndim == 1:
            G = np.expand_dims(G, -1)
        if need[0]:
            ga = unbroadcast(_mm(G, B, transpose_b=True), A.shape).reshape(a.shape)
        if need[1]:
            gb = unbroadcast(_mm(A, G, transpose_a=True), B.shape).reshape(b.shape)
        if transpose_a and ga is not None:
            ga = np.swapaxes(ga, -1, -2)
        if transpose_b and gb is not None:
            gb = np.swapaxes(gb, -1, -2)
        return ga, gb
    return record(value, (na, nb), vjp)


def dot(x1, x2):
    """``np.dot``: a product with a scalar, else ``matmul`` for operands of at most 2 axes (and an
    N-D first operand with a matrix)."""
    a, _ = lift(x1)
    b, _ = lift(x2)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(x1, x2)
    if np.ndim(b) <= 2:
        return matmul(x1, x2)
    if lift(x1)[1] is None and lift(x2)[1] is None:
        return np.dot(a, b)
    raise NotImplementedError("dot: the gradient of a product with an operand of more than 2 "
                              "axes as second factor is not supported; use matmul or tensordot")
