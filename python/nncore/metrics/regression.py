"""Regression metrics (Keras 3): mean absolute / squared error, their root and percentage forms,
and any loss used as a metric."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..losses.base import align_ranks
from ..serialization import register
from .base import Mean, MeanMetricWrapper


def _pair(y_true, y_pred, what):
    t, p = align_ranks(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))
    if t.shape != p.shape:
        raise ShapeError(f"{what}: y_true shape {np.shape(y_true)} does not match y_pred shape {np.shape(y_pred)}")
    return t, p


def mean_absolute_error(y_true, y_pred):
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    return np.abs(t - p).mean(axis=-1) if t.ndim else np.abs(t - p)


def mean_squared_error(y_true, y_pred):
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    d = t - p
    return (d * d).mean(axis=-1) if d.ndim else d * d


@register("metric", "mean_absolute_error", "mae", "MAE")
class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


@register("metric", "mean_squared_error", "mse", "MSE")
class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


@register("metric", "root_mean_squared_error", "rmse")
class RootMeanSquaredError(Mean):
    """``sqrt`` of the mean squared error over everything seen (not a mean of batch roots)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        super().update_state((t - p) ** 2, sample_weight)

    def result(self) -> float:
        return math.sqrt(super().result())


class LossMetric(MeanMetricWrapper):
    """A loss used as a metric (``metrics=["binary_crossentropy"]``): the mean of its
    per-sample values."""

    def __init__(self, loss, name=None, dtype=None):
        from .. import losses

        loss = losses.get(loss)
        super().__init__(loss.call, name=name or loss.name, dtype=dtype)
        self.loss = loss

    def get_config(self) -> dict:
        from .. import losses

        return {"loss": losses.serialize(self.loss), "name": self.name, "dtype": self.dtype}
