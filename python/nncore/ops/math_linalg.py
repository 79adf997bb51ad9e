"""Matrix products of ``keras.ops`` (``matmul``, ``dot``, ``tensordot``, ``outer``, ``inner``,
``vdot``, ``einsum``) with their vector-Jacobian products.

Two 2-D float32/float64 operands go through the C++ GEMM (forward and backward; a mix of the two
raises DTypeError, as the kernel always did); other shapes
(batched, vectors, integers) through NumPy with ``np.matmul``'s broadcasting."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import SUNK, lift, record, unbroadcast
from . import _gemm
from .array_shape import ravel, reshape
from .math_elementwise import multiply

__all__ = ["matmul", "dot", "tensordot", "outer", "inner", "vdot", "einsum"]


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _kernel_ok(a, b) -> bool:
    # Two 2-D float32/float64 matrices go to the kernel, also with different dtypes: it then
    # raises DTypeError as it always did (a float32/float64 mix is a mistake in a model).
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2
            and a.dtype in _KERNEL_DTYPES and b.dtype in _KERNEL_DTYPES)


def _mm(a, b, transpose_a=False, transpose_b=False, out=None):
    if _kernel_ok(a, b):
        return _gemm.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, out=out)
    a, b = _transposed(a, b, transpose_a, transpose_b)
    if out is not None:
        return np.matmul(a, b, out=out)
    return np.matmul(a, b)


def _transposed(a, b, transpose_a, transpose_b):
    """The operands as arrays, their last two axes swapped where asked."""
    a = np.asarray(a)
    b = np.asarray(b)
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    return a, b


def matmul(x1, x2, *, transpose_a=False, transpose_b=False, out=None):
    """``x1 @ x2`` with NumPy's rules (batched, broadcast, 1-D vectors). ``transpose_a``/``b``
    transpose the last two axes first; ``out`` (plain arrays only) receives the result."""
    a, na = lift(x1)
    b, nb = lift(x2)
    if na is None and nb is None:
        return _mm(a, b, transpose_a, transpose_b, out)
    if out is not None:
        raise ValueError("matmul: out= cannot be used with a tracked (differentiated) operand")
    a, b = _transposed(a, b, transpose_a, transpose_b)
    value = _mm(a, b)

    def vjp(g, need, sinks=None):
        ga = gb = None
        if sinks is not None and sinks[1] is not None and need[1] and not transpose_b \
                and _kernel_ok(a, g) and a.dtype == g.dtype == sinks[1].dtype \
                and sinks[1].flags.c_contiguous and sinks[1].shape == b.shape:
            # The weight's gradient added into its own array by the GEMM (beta = 1).
            _gemm.gemm(a, g, sinks[1], beta=1.0, transpose_a=True)
            gb = SUNK
            if need[0]:
                ga = _mm(g, b, transpose_b=True)
                if transpose_a:
                    ga = np.swapaxes(ga, -1, -2)
            return ga, gb
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
    vjp.sinks = True
    return record(value, (na, nb), vjp)


def dot(x1, x2):
    """``np.dot``: a product with a scalar, ``matmul`` when the second operand has at most 2
    axes, else the sum over the last axis of ``x1`` and the second-to-last of ``x2``."""
    a, na = lift(x1)
    b, nb = lift(x2)
    if na is None and nb is None:
        return np.dot(a, b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(x1, x2)
    if np.ndim(b) <= 2:
        return matmul(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-2]))


def _tensordot_axes(axes, nda, ndb):
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0:
            raise ValueError(f"tensordot: axes must be non-negative, got {n}")
        return list(range(nda - n, nda)), list(range(n))
    ax_a, ax_b = axes
    ax_a = [int(ax_a)] if np.ndim(ax_a) == 0 else [int(v) for v in ax_a]
    ax_b = [int(ax_b)] if np.ndim(ax_b) == 0 else [int(v) for v in ax_b]
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: {len(ax_a)} axes of x1 paired with {len(ax_b)} of x2")
    return [v % nda for v in ax_a], [v % ndb for v in ax_b]


def tensordot(x1, x2, axes=2):
    """``np.tensordot``: sums the products over the paired ``axes`` (an int N: the last N axes
    of ``x1`` with the first N of ``x2``)."""
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.tensordot(a, b, axes)
    if na is None and nb is None:
        return out
    a = np.asarray(a)
    b = np.asarray(b)
    ax_a, ax_b = _tensordot_axes(axes, a.ndim, b.ndim)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    to_b = dict(zip(ax_a, ax_b))
    to_a = dict(zip(ax_b, ax_a))
    k = len(free_a)

    def vjp(g, need):
        ga = gb = None
        if need[0]:
            # The summed axes of b come out in their order in b: map them back to a's axes.
            r = np.tensordot(g, b, (list(range(k, g.ndim)), free_b))
            ga = np.transpose(r, np.argsort(free_a + [to_a[j] for j in sorted(ax_b)]))
        if need[1]:
            r = np.tensordot(a, g, (free_a, list(range(k))))
            gb = np.transpose(r, np.argsort([to_b[i] for i in sorted(ax_a)] + free_b))
        return ga, gb
    return record(out, (na, nb), vjp)


def outer(x1, x2):
    """The outer product of the flattened operands."""
    if lift(x1)[1] is None and lift(x2)[1] is None:
        return np.outer(lift(x1)[0], lift(x2)[0])
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def inner(x1, x2):
    """``np.inner``: sums over the last axes of both operands (a scalar operand multiplies)."""
    a, na = lift(x1)
    b, nb = lift(x2)
    if na is None and nb is None:
        return np.inner(a, b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-1]))


def vdot(x1, x2):
    """The dot product of the flattened operands (real inputs: no conjugation)."""
    if lift(x1)[1] is None and lift(x2)[1] is None:
        return np.vdot(lift(x1)[0], lift(x2)[0])
    return tensordot(ravel(x1), ravel(x2), axes=1)


def einsum(subscripts, *operands, **kwargs):
    """``np.einsum``. Differentiable for subscripts without "..." whose operands repeat no index
    (no diagonals); other subscripts compute the value and raise on a tracked operand."""
    lifted = [lift(x) for x in operands]
    values = [v for v, _ in lifted]
    nodes = tuple(n for _, n in lifted)
    out = np.einsum(subscripts, *values, **kwargs)
    if all(n is None for n in nodes):
        return out
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs = spec
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs = inputs.split(",")
    if "." in spec or any(len(set(term)) != len(term) for term in inputs):
        raise NotImplementedError(f"einsum: the gradient of {subscripts!r} is not supported "
                                  f"(ellipsis or an index repeated within an operand)")

    def vjp(g, need):
        grads = []
        for i, term in enumerate(inputs):
            if not need[i]:
                grads.append(None)
                continue
            others = [j for j in range(len(inputs)) if j != i]
            seen = set(output).union(*(inputs[j] for j in others))
            kept = "".join(c for c in term if c in seen)
            r = np.einsum(",".join([output] + [inputs[j] for j in others]) + "->" + kept,
                          g, *[values[j] for j in others])
            # An index only this operand has was summed over: its gradient is broadcast back.
            for pos, c in enumerate(term):
                if c not in seen:
                    r = np.expand_dims(r, pos)
            grads.append(np.array(np.broadcast_to(r, np.shape(values[i]))))
        return tuple(grads)
    return record(out, nodes, vjp)
