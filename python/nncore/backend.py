"""Process-wide defaults: the float type of new layers and the counters behind layer names."""

from __future__ import annotations

import collections
import re

import numpy as np

_FLOATX = "float32"
_NAME_COUNTS: collections.Counter = collections.Counter()


def floatx() -> str:
    """Default dtype of new layers and weights ('float32' unless changed with set_floatx)."""
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Sets the default dtype of layers created afterwards: 'float32' or 'float64'."""
    global _FLOATX
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"set_floatx: expected 'float32' or 'float64', got {dtype!r}")
    _FLOATX = dt.name


def standardize_dtype(dtype) -> np.dtype:
    dt = np.dtype(floatx() if dtype is None else dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"nncore layers compute in float32 or float64, got dtype {dtype!r}")
    return dt


def to_snake_case(name: str) -> str:
    """'Conv2D' -> 'conv2d', 'MaxPooling2D' -> 'max_pooling2d' (Keras' layer-name rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... within this session (as Keras 3 names layers)."""
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Resets the layer-name counters (names restart at 'dense', 'conv2d', ...)."""
    _NAME_COUNTS.clear()
