"""Regression losses, each a mean over the last axis per sample (Keras 3 formulas): MSE, MAE,
MAPE, MSLE, Huber, log-cosh."""

from __future__ import annotations

import math

import numpy as np

from ..serialization import register
from .base import EPSILON, Loss


@register("loss", "mean_squared_error", "mse", "MSE")
class MeanSquaredError(Loss):
    """``mean((y_true - y_pred)², axis=-1)``; the seed's cost ``½‖y - a‖²`` [000] is this loss
    times ``n/2``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        d = y_pred - y_true
        values = np.einsum("...i,...i->...", d, d) / d.shape[-1] if d.ndim else d * d
        if not grad:
            return values, None, None
        d *= 2.0 / (d.shape[-1] if d.ndim else 1)
        return values, d, None


@register("loss", "mean_absolute_error", "mae", "MAE")
class MeanAbsoluteError(Loss):
    """``mean(|y_true - y_pred|, axis=-1)``. The gradient at a zero error is taken as 0."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        d = y_pred - y_true
        n = d.shape[-1] if d.ndim else 1
        values = np.abs(d).mean(axis=-1) if d.ndim else np.abs(d)
        return values, (np.sign(d) / n if grad else None), None


@register("loss", "mean_absolute_percentage_error", "mape", "MAPE")
class MeanAbsolutePercentageError(Loss):
    """``100 · mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)`` (Keras 3)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        denom = np.maximum(np.abs(y_true), EPSILON)
        d = y_pred - y_true
        n = d.shape[-1] if d.ndim else 1
        rel = np.abs(d) / denom
        values = 100.0 * (rel.mean(axis=-1) if d.ndim else rel)
        return values, ((100.0 / n) * np.sign(d) / denom if grad else None), None


@register("loss", "mean_squared_logarithmic_error", "msle", "MSLE")
class MeanSquaredLogarithmicError(Loss):
    """``mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))², axis=-1)`` with ε = 1e-7
    (Keras 3 replaces values ≤ 0 by ε)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        pp = np.maximum(y_pred, EPSILON)
        d = np.log1p(pp) - np.log1p(np.maximum(y_true, EPSILON))
        n = d.shape[-1] if d.ndim else 1
        values = (d * d).mean(axis=-1) if d.ndim else d * d
        if not grad:
            return values, None, None
        g = (2.0 / n) * d / (pp + 1.0)
        g *= y_pred > EPSILON
        return values, g, None


@register("loss", "huber", "huber_loss")
class Huber(Loss):
    """Huber loss, mean over the last axis of ``½e²`` for ``|e| ≤ delta`` and
    ``delta·|e| - ½delta²`` beyond (Keras 3; ``e = y_pred - y_true``)."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.delta = float(delta)
        if not self.delta > 0:
            raise ValueError(f"Huber: delta must be > 0, got {delta}")

    def _compute(self, y_true, y_pred, grad):
        e = y_pred - y_true
        a = np.abs(e)
        dl = self.delta
        elem = np.where(a <= dl, 0.5 * e * e, dl * a - 0.5 * dl * dl)
        n = e.shape[-1] if e.ndim else 1
        values = elem.mean(axis=-1) if e.ndim else elem
        return values, (np.clip(e, -dl, dl) / n if grad else None), None

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


@register("loss", "log_cosh", "logcosh")
class LogCosh(Loss):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as ``x + softplus(-2x) - log 2``
    so that large errors do not overflow (Keras 3)."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        x = y_pred - y_true
        elem = x + np.logaddexp(0.0, -2.0 * x) - math.log(2.0)
        n = x.shape[-1] if x.ndim else 1
        values = elem.mean(axis=-1) if x.ndim else elem
        return values, (np.tanh(x) / n if grad else None), None
