"""Margin losses: hinge, squared hinge and categorical hinge (Keras 3)."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import Loss


def _signed_labels(y_true: np.ndarray) -> np.ndarray:
    """Keras converts labels given as {0, 1} to {-1, +1}; other labels are used as they are."""
    if y_true.size and np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


@register("loss", "hinge")
class Hinge(Loss):
    """``mean(max(1 - y_true · y_pred, 0), axis=-1)`` with labels in {-1, +1} ({0, 1} are
    converted). The gradient at the kink is taken as 0."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        t = _signed_labels(y_true)
        m = np.maximum(1.0 - t * y_pred, 0.0)
        n = m.shape[-1] if m.ndim else 1
        values = m.mean(axis=-1) if m.ndim else m
        return values, ((-t / n) * (m > 0) if grad else None), None


@register("loss", "squared_hinge")
class SquaredHinge(Loss):
    """``mean(max(1 - y_true · y_pred, 0)², axis=-1)``, labels as for ``Hinge``."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        t = _signed_labels(y_true)
        m = np.maximum(1.0 - t * y_pred, 0.0)
        n = m.shape[-1] if m.ndim else 1
        values = (m * m).mean(axis=-1) if m.ndim else m * m
        return values, ((-2.0 / n) * t * m if grad else None), None


@register("loss", "categorical_hinge")
class CategoricalHinge(Loss):
    """``max(neg - pos + 1, 0)`` with ``pos = sum(y_true · y_pred)`` and
    ``neg = max((1 - y_true) · y_pred)`` over the last axis (Keras 3, one-hot y_true). Ties in
    ``neg`` send the gradient to the first maximal class."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        pos = (y_true * y_pred).sum(axis=-1)
        other = (1.0 - y_true) * y_pred
        j = other.argmax(axis=-1)[..., None]
        neg = np.take_along_axis(other, j, axis=-1)[..., 0]
        values = np.maximum(neg - pos + 1.0, 0.0)
        if not grad:
            return values, None, None
        g = -y_true.astype(y_pred.dtype, copy=True)
        np.put_along_axis(g, j, np.take_along_axis(g, j, axis=-1) + np.take_along_axis(
            1.0 - y_true, j, axis=-1), axis=-1)
        g *= (values > 0)[..., None]
        return values, g, None
