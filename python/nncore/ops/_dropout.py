"""Inverted dropout with a counter-based random stream.

The keep decision for element ``i`` is a pure function of ``(seed, i)``: splitmix64 (Steele, Lea
and Flood, 2014) evaluated at counter ``i // 2`` of the stream keyed by ``seed``, each 64-bit
output giving the 32-bit uniforms of two neighbouring elements; an element is kept when its
uniform is ``>= rate`` (to 2^-32). The same seed therefore gives the same mask bit for bit for any
thread count, and the mask of an array's first ``k`` elements does not depend on its length.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _core
from .. import random as _random

__all__ = ["dropout", "dropout_backward"]


def _check_seed(seed):
    if seed is None:
        return _random.new_seed()
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"dropout: seed must be an int, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"dropout: seed must be in [0, 2**64), got {seed}")
    return seed


def dropout(x, rate, seed=None, *, out=None):
    """Returns ``(y, mask)`` with ``y = x * mask / (1 - rate)`` (Keras semantics: the expected
    value of ``y`` is ``x``) and ``mask`` a bool array of ``x``'s shape (True = kept).

    ``rate`` is the fraction dropped, in ``[0, 1)``; ``rate == 0`` keeps everything. ``seed`` is an
    int in ``[0, 2**64)``; None draws one from ``nncore.random`` (so ``nncore.random.set_seed``
    makes a run repeatable). Dropped elements are ``x * 0``, so NaN/inf in ``x`` stay visible as in
    Keras. ``out`` may be a 2-tuple ``(y, mask)`` of preallocated arrays (float of x's dtype, bool);
    ``y`` may be ``x``.
    """
    return _core.dropout(x, rate, _check_seed(seed), out)


def dropout_backward(grad_y, mask, rate, *, out=None):
    """``grad_y * mask / (1 - rate)`` with the mask (bool or uint8) returned by :func:`dropout`."""
    return _core.dropout_backward(grad_y, mask, rate, out)
