"""Weight penalties with Keras 3's names and formulas, each with its exact gradient.

A layer adds ``regularizer(w)`` to the loss and ``regularizer.gradient(w)`` to ``w``'s gradient.
``get(None)`` is ``None`` (no penalty); ``get("l2")`` is ``L2(0.01)``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _reductions, serialization
from .errors import ShapeError

KIND = "regularizer"

_NORMALIZE_EPS = 1e-7  # Keras' ops.normalize floor on the norm


def validate_float_arg(value, name: str) -> float:
    """``value`` as a float, or ValueError unless it is a finite non-negative number (Keras)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


_non_negative = validate_float_arg


class Regularizer(serialization.Configurable):
    """Base class: ``__call__(x) -> float`` (the penalty) and ``gradient(x) -> ndarray``."""

    def __call__(self, x) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    def gradient(self, x) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement gradient")


@serialization.register(KIND, "l1")
class L1(Regularizer):
    """``l1 · Σ|w|``; gradient ``l1 · sign(w)`` (0 at w = 0)."""

    def __init__(self, l1=0.01):
        self.l1 = _non_negative(l1, "l1")

    def __call__(self, x) -> float:
        return self.l1 * float(np.abs(np.asarray(x)).sum(dtype=np.float64))

    def gradient(self, x) -> np.ndarray:
        x = np.asarray(x)
        return np.sign(x) * np.asarray(self.l1, dtype=x.dtype)

    def get_config(self) -> dict:
        return {"l1": self.l1}


@serialization.register(KIND, "l2")
class L2(Regularizer):
    """``l2 · Σw²``; gradient ``2 · l2 · w``.

    The seed's penalty ``L = L_CE + λ/2 (‖w‖² + ‖b‖²)`` [001, 002] is ``L2(l2=λ/2)`` on the kernel
    and on the bias: Keras' ``l2`` is half the textbook ``λ`` (``λ = 2·l2``).
    """

    def __init__(self, l2=0.01):
        self.l2 = _non_negative(l2, "l2")

    def __call__(self, x) -> float:
        x = np.asarray(x)
        return self.l2 * _reductions.sum_of_squares(x)

    def gradient(self, x) -> np.ndarray:
        x = np.asarray(x)
        return x * np.asarray(2.0 * self.l2, dtype=x.dtype)

    def get_config(self) -> dict:
        return {"l2": self.l2}


@serialization.register(KIND, "l1_l2", "l1l2")
class L1L2(Regularizer):
    """``l1 · Σ|w| + l2 · Σw²`` (Keras 3 defaults ``l1 = l2 = 0``, so the name ``"l1_l2"`` alone
    gives no penalty, as in Keras)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _non_negative(l1, "l1")
        self.l2 = _non_negative(l2, "l2")

    def __call__(self, x) -> float:
        x = np.asarray(x)
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(x).sum(dtype=np.float64))
        if self.l2:
            total += self.l2 * _reductions.sum_of_squares(x)
        return total

    def gradient(self, x) -> np.ndarray:
        x = np.asarray(x)
        g = x * np.asarray(2.0 * self.l2, dtype=x.dtype)
        if self.l1:
            g += np.sign(x) * np.asarray(self.l1, dtype=x.dtype)
        return g

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


@serialization.register(KIND, "orthogonal_regularizer")
class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns of a 2-D kernel towards orthogonality
    (Keras 3): with ``N`` the L2-normalised rows and ``P = N Nᵀ``,
    ``factor · 0.5 · Σ_{i≠j} |P_ij| / (k (k-1) / 2)`` for ``k`` rows."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _non_negative(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", '
                             f'"columns"}}. Received: mode={mode}')
        self.mode = mode

    def _rows(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2:
            raise ShapeError(f"Inputs to OrthogonalRegularizer must have rank 2. "
                             f"Received: inputs.shape={x.shape}")
        return x if self.mode == "rows" else x.T

    def _parts(self, rows):
        norms = np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), _NORMALIZE_EPS)
        n = rows / norms
        p = _reductions.matmul(n, n, transpose_b=True)
        np.fill_diagonal(p, 0.0)
        k = rows.shape[0]
        pairs = k * (k - 1) / 2.0
        return norms, n, p, (self.factor * 0.5 / pairs if pairs else 0.0)

    def __call__(self, x) -> float:
        _, _, p, scale = self._parts(self._rows(x))
        return scale * float(np.abs(p).sum())

    def gradient(self, x) -> np.ndarray:
        rows = self._rows(x)
        norms, n, p, scale = self._parts(rows)
        dn = 2.0 * scale * _reductions.matmul(np.sign(p), n)  # d/dN of scale·Σ|N Nᵀ| off the diagonal
        # Through n = x / ‖x‖ where the norm is not floored: (dn - n (n·dn)) / ‖x‖.
        unfloored = norms > _NORMALIZE_EPS
        g = (dn - n * ((n * dn).sum(axis=1, keepdims=True) * unfloored)) / norms
        g = g.astype(rows.dtype, copy=False)
        return g if self.mode == "rows" else g.T

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


class _FunctionRegularizer(Regularizer):
    """A plain function used as a regularizer: evaluated, but without a gradient."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x) -> float:
        return float(self.fn(x))

    def gradient(self, x):
        raise NotImplementedError(
            f"regularizer {self.fn!r} is a plain function without a gradient; subclass "
            "nncore.regularizers.Regularizer and implement gradient(x)")


def serialize(regularizer: Regularizer) -> dict:
    return serialization.serialize(regularizer)


def deserialize(config: dict, custom_objects=None) -> Regularizer:
    return serialization.deserialize(KIND, config, custom_objects)


def get(identifier):
    """A regularizer from ``None`` (none), a name, a config dict, a class or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        return _FunctionRegularizer(identifier)
    return serialization.get(KIND, identifier, Regularizer)


# Keras' lowercase function-style aliases.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get", "l1",
           "l1_l2", "l2", "orthogonal_regularizer", "serialize", "validate_float_arg"]
