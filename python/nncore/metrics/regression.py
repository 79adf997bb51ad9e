"""Regression metrics (Keras 3): mean absolute / squared / percentage / logarithmic errors,
log-cosh, cosine similarity, their root form, the R² score, and any loss used as a metric."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import losses as _losses
from ..errors import ShapeError
from ..losses.base import EPSILON, align_ranks
from ..serialization import register
from .base import Mean, MeanMetricWrapper, Metric

mean_absolute_error = _losses.mean_absolute_error
mean_squared_error = _losses.mean_squared_error
mean_absolute_percentage_error = _losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = _losses.mean_squared_logarithmic_error
log_cosh = _losses.log_cosh


def _pair(y_true, y_pred, what):
    t, p = align_ranks(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))
    if t.shape != p.shape:
        raise ShapeError(f"{what}: y_true shape {np.shape(y_true)} does not match y_pred shape {np.shape(y_pred)}")
    return t, p


def cosine_similarity(y_true, y_pred, axis=-1):
    """``sum(l2_normalize(y_true) · l2_normalize(y_pred), axis)``: +1 for parallel vectors (the
    metric; the loss of the same name is its negative)."""
    t, p = _pair(y_true, y_pred, "cosine_similarity")
    if t.ndim == 0:
        raise ShapeError("cosine_similarity needs arrays of rank >= 1, got scalars")
    nt = t / np.maximum(np.linalg.norm(t, axis=axis, keepdims=True), EPSILON)
    npred = p / np.maximum(np.linalg.norm(p, axis=axis, keepdims=True), EPSILON)
    return (nt * npred).sum(axis=axis)


class _Down:
    """Errors should go down (``EarlyStopping(mode="auto")`` reads this)."""

    _direction = "down"


@register("metric", "mean_absolute_error", "mae", "MAE")
class MeanAbsoluteError(_Down, MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


@register("metric", "mean_squared_error", "mse", "MSE")
class MeanSquaredError(_Down, MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


@register("metric", "mean_absolute_percentage_error", "mape", "MAPE")
class MeanAbsolutePercentageError(_Down, MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


@register("metric", "mean_squared_logarithmic_error", "msle", "MSLE")
class MeanSquaredLogarithmicError(_Down, MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


@register("metric", "log_cosh_error", "logcosh")
class LogCoshError(_Down, MeanMetricWrapper):
    """The mean of ``log(cosh(y_pred - y_true))`` (Keras' default name is ``"logcosh"``)."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


@register("metric", "cosine_similarity")
class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between labels and predictions along ``axis`` (+1 is best)."""

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        if isinstance(axis, bool) or int(axis) != axis:
            raise ValueError(f"axis must be an int, got {axis!r}")
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=int(axis))
        self.axis = int(axis)


@register("metric", "root_mean_squared_error", "rmse")
class RootMeanSquaredError(_Down, Mean):
    """``sqrt`` of the mean squared error over everything seen (not a mean of batch roots)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        super().update_state((t - p) ** 2, sample_weight)

    def result(self) -> float:
        return math.sqrt(super().result())


@register("metric", "r2_score")
class R2Score(Metric):
    """Coefficient of determination (Keras 3 ``R2Score``) over ``(batch, outputs)`` data:
    ``1 - SS_res / SS_tot`` per output from running weighted sums, aggregated by
    ``class_aggregation`` (``"uniform_average"``, ``"variance_weighted_average"`` or ``None`` for
    one score per output); ``num_regressors > 0`` gives the adjusted R²."""

    _direction = "up"
    _additive_state = ("num_samples", "sum", "squared_sum", "total_mse", "count")
    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(f"R2Score: Invalid value for argument `class_aggregation`: expected one of "
                             f"{self._AGGREGATIONS}, "
                             f"got {class_aggregation!r}")
        if isinstance(num_regressors, bool) or int(num_regressors) != num_regressors \
                or num_regressors < 0:
            raise ValueError("R2Score: Invalid value for argument `num_regressors`: expected an "
                             f"integer >= 0, got {num_regressors!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        self.reset_state()

    def reset_state(self) -> None:
        self.num_samples = 0.0
        self.sum = self.squared_sum = self.total_mse = self.count = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, p = align_ranks(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))
        if t.ndim != 2 or p.ndim != 2 or t.shape != p.shape:
            raise ShapeError("R2Score expects 2D inputs with shape (batch_size, output_dim), both the "
                             f"same; got "
                             f"y_true {np.shape(y_true)} and y_pred {np.shape(y_pred)}")
        if self.sum is not None and self.sum.shape[0] != p.shape[1]:
            raise ShapeError(f"R2Score was fed {self.sum.shape[0]} outputs before, now {p.shape[1]}")
        w = np.asarray(1.0 if sample_weight is None else sample_weight, dtype=np.float64)
        if w.ndim == 1:
            w = w[:, None]
        try:
            w = np.broadcast_to(w, t.shape)
        except ValueError:
            raise ShapeError(f"R2Score: sample_weight of shape {np.shape(sample_weight)} does not "
                             f"broadcast to {t.shape}") from None
        if self.sum is None:
            zeros = np.zeros(p.shape[1])
            self.sum, self.squared_sum, self.total_mse, self.count = (zeros.copy() for _ in range(4))
        wt = t * w
        self.sum += wt.sum(axis=0)
        self.squared_sum += (t * wt).sum(axis=0)
        self.total_mse += ((t - p) ** 2 * w).sum(axis=0)
        self.count += w.sum(axis=0)
        self.num_samples += float(np.any(w != 0, axis=-1).sum())

    def result(self):
        if self.sum is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1.0 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = float(np.mean(raw))
        elif self.class_aggregation == "variance_weighted_average":
            with np.errstate(divide="ignore", invalid="ignore"):
                score = float(np.sum(total * raw) / np.sum(total))
        else:
            score = raw
        n, k = self.num_samples, self.num_regressors
        if k:
            if k > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. "
                              "Falling back to standard R2 score.", stacklevel=2)
            elif k == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - k - 1.0)
        return score

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}

    def __repr__(self) -> str:
        return f"<R2Score name={self.name!r}>"


class LossMetric(_Down, MeanMetricWrapper):
    """A loss used as a metric (``metrics=["huber"]``): the mean of its per-sample values."""

    def __init__(self, loss, name=None, dtype=None):
        loss = _losses.get(loss)
        super().__init__(loss.call, name=name or loss.name, dtype=dtype)
        self.loss = loss

    def get_config(self) -> dict:
        return {"loss": _losses.serialize(self.loss), "name": self.name, "dtype": self.dtype}
