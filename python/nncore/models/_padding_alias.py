"""A zero-padded copy standing in for its input in what earlier layers keep for backward.

MobileNetV2 (and any Keras model padding before a 'valid' strided convolution) keeps both the
activation a ZeroPadding2D reads (its producer, a ReLU, keeps its output for the derivative) and
the padded copy (the convolution keeps its input for the weight gradient): the same values twice.
Once the padded copy exists, the earlier layers' references to the input are pointed at the
copy's interior (a view holding the very same numbers), so the input itself is freed as soon as
no later layer reads it.
"""

from __future__ import annotations

import numpy as np

from ..layers.padding import ZeroPadding2D


def padding_holders(steps) -> dict[int, tuple[int, ...]]:
    """For each step calling a ZeroPadding2D: the earlier steps that may hold its input (the one
    producing it and the ones reading it before)."""
    out = {}
    for k, s in enumerate(steps):
        if type(s.layer) is not ZeroPadding2D or s.multi:
            continue
        src = s.inputs[0]
        out[k] = tuple(j for j in range(k) if steps[j].output == src or src in steps[j].inputs)
    return out


def point_at_padded(pad_step, holders, x, y) -> None:
    """Replaces ``x`` by the interior of its padded copy ``y`` in the caches of ``holders``."""
    index = pad_step.layer._cache
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or not isinstance(index, tuple):
        return
    inner = y[index]
    if inner.shape != x.shape or inner.dtype != x.dtype:
        return
    for h in holders:
        layer = h.layer
        layer._cache = _replaced(layer._cache, x, inner)
        if h.shared:
            h.cache = _replaced(h.cache, x, inner)


def _replaced(cache, x, inner):
    if type(cache) is tuple and any(v is x for v in cache):
        return tuple(inner if v is x else v for v in cache)
    return cache
