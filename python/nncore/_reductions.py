"""Sums whose bits do not depend on any thread count, for the Python side of training.

``np.dot``, ``np.vdot``, ``@`` and ``np.linalg.norm`` of a whole array call BLAS, and OpenBLAS
splits a long dot product (and a matrix product) between its threads, one per core by default:
the same gradients then give another clipping norm or L-BFGS step on a machine with another core
count. NumPy's own reductions (``np.add.reduce``: pairwise summation) run on one thread in a fixed
order, and the products of float32 inputs are exact in float64.
"""

from __future__ import annotations

import numpy as np


def dot(a, b) -> float:
    """``Σ a_i b_i`` over all elements, summed in float64 in a fixed order."""
    a = np.asarray(a).reshape(-1)
    b = np.asarray(b).reshape(-1)
    return float(np.add.reduce(np.multiply(a, b, dtype=np.float64)))


def sum_of_squares(x) -> float:
    """``Σ x_i²`` over all elements, summed in float64 in a fixed order."""
    x = np.asarray(x).reshape(-1)
    return float(np.add.reduce(np.square(x, dtype=np.float64)))


def matmul(a: np.ndarray, b: np.ndarray, *, transpose_b: bool = False) -> np.ndarray:
    """``a @ b`` (``a @ b.T`` with ``transpose_b``) for 2-D arrays, through nncore's GEMM (whose
    result does not depend on the thread count) for float32 / float64, else NumPy."""
    if a.dtype == b.dtype and a.dtype in (np.float32, np.float64) and a.ndim == b.ndim == 2:
        from . import ops

        return ops.matmul(a, b, transpose_b=transpose_b)
    return a @ (b.T if transpose_b else b)
