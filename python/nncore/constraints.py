"""Weight constraints with Keras 3's names and formulas.

A constraint is a projection ``w -> w'`` that the optimizer applies to a weight once after each
step (``kernel_constraint=MaxNorm(3)`` on a layer). It takes a NumPy array and returns an array of
the same shape and dtype. ``get(None)`` is ``None`` (no constraint); ``get("max_norm")`` is
``MaxNorm()``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import serialization
from .errors import ShapeError

KIND = "constraint"

_EPSILON = 1e-7  # Keras' backend.epsilon(), added to the norm so that a zero column stays zero


def _number(value, name: str, cls: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not low <= value <= high:
        bounds = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ValueError(f"{cls}: {name} must be a finite number {bounds}, got {value!r}")
    return value


def _axis(axis, cls: str):
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    try:
        axes = [int(a) for a in axis]
    except (TypeError, ValueError):
        raise ValueError(f"{cls}: axis must be an int or a list of ints, got {axis!r}") from None
    if not axes or any(isinstance(a, bool) for a in axis):
        raise ValueError(f"{cls}: axis must be an int or a non-empty list of ints, got {axis!r}")
    return axes


def _float_array(w) -> np.ndarray:
    w = np.asarray(w)
    if w.dtype.kind != "f":
        if w.dtype.kind not in "iub":
            raise TypeError(f"a constraint takes a numeric weight array, got dtype {w.dtype}")
        w = w.astype(np.float32)  # Keras' floatx
    return w


def _norms(w: np.ndarray, axis, cls: str) -> np.ndarray:
    axes = axis if isinstance(axis, int) else tuple(axis)
    try:
        return np.sqrt(np.sum(np.square(w), axis=axes, keepdims=True))
    except (ValueError, IndexError):  # numpy's AxisError is both
        raise ShapeError(f"{cls}: axis {axis!r} is out of range for a weight of shape {w.shape}") from None


def _rescale(w: np.ndarray, norms: np.ndarray, desired: np.ndarray) -> np.ndarray:
    out = w * (desired / (norms + w.dtype.type(_EPSILON)))
    return out.astype(w.dtype, copy=False)


class Constraint(serialization.Configurable):
    """Base class: ``__call__(w)`` returns the projected weight (the identity here).

    Subclasses are found by their class name when a config is deserialized (a saved model with
    a custom constraint loads without ``custom_objects``), unless the name is already taken."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__name__ not in serialization.registered(KIND):
            serialization.register(KIND)(cls)

    def __call__(self, w):
        return w


serialization.register(KIND)(Constraint)


@serialization.register(KIND, "max_norm")
class MaxNorm(Constraint):
    """Rescales each slice along ``axis`` whose L2 norm exceeds ``max_value`` down to that norm
    (``axis=0`` for a Dense kernel's columns, ``[0, 1, 2]`` for each Conv2D filter)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number(max_value, "max_value", "MaxNorm")
        self.axis = _axis(axis, "MaxNorm")

    def __call__(self, w):
        w = _float_array(w)
        norms = _norms(w, self.axis, "MaxNorm")
        return _rescale(w, norms, np.clip(norms, 0, self.max_value))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


@serialization.register(KIND, "non_neg")
class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        w = _float_array(w)
        return np.maximum(w, w.dtype.type(0))


@serialization.register(KIND, "unit_norm")
class UnitNorm(Constraint):
    """Divides each slice along ``axis`` by its L2 norm."""

    def __init__(self, axis=0):
        self.axis = _axis(axis, "UnitNorm")

    def __call__(self, w):
        w = _float_array(w)
        norms = _norms(w, self.axis, "UnitNorm")
        return (w / (norms + w.dtype.type(_EPSILON))).astype(w.dtype, copy=False)

    def get_config(self) -> dict:
        return {"axis": self.axis}


@serialization.register(KIND, "min_max_norm")
class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm towards ``[min_value, max_value]``: the new norm is
    ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm`` (``rate=1`` enforces it)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number(min_value, "min_value", "MinMaxNorm")
        self.max_value = _number(max_value, "max_value", "MinMaxNorm", low=self.min_value)
        self.rate = _number(rate, "rate", "MinMaxNorm", high=1.0)
        self.axis = _axis(axis, "MinMaxNorm")

    def __call__(self, w):
        w = _float_array(w)
        norms = _norms(w, self.axis, "MinMaxNorm")
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return _rescale(w, norms, desired.astype(w.dtype, copy=False))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


def serialize(constraint) -> dict | None:
    """``{"class_name": ..., "config": ...}`` of a constraint; ``None`` stays ``None``."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise ValueError(
            f"cannot serialize constraint {constraint!r}: only nncore.constraints.Constraint "
            "instances have a config (subclass Constraint instead of passing a plain function)")
    return serialization.serialize(constraint)


def deserialize(config, custom_objects=None) -> Constraint:
    """A constraint from a config dict (or a name, as ``get``)."""
    if isinstance(config, str):
        cls = (custom_objects or {}).get(config) or serialization.lookup(KIND, config)
        return cls()
    return serialization.deserialize(KIND, config, custom_objects)


def get(identifier):
    """A constraint from ``None`` (none), a name (``"max_norm"``, ``"MaxNorm"``), a config dict,
    a Constraint class or instance, or any callable ``w -> w'``. Anything else raises ValueError."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, (str, dict)):
        try:
            return deserialize(identifier)
        except ValueError as e:
            raise ValueError(f"could not interpret constraint identifier {identifier!r}: {e}") from None
    if isinstance(identifier, type):
        if issubclass(identifier, Constraint):
            return identifier()
        raise ValueError(f"could not interpret constraint identifier {identifier!r}: not a Constraint class")
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret constraint identifier {identifier!r}")


# Keras' lowercase function-style aliases.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get",
           "max_norm", "min_max_norm", "non_neg", "unit_norm", "serialize"]
