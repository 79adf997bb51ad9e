"""nncore.metrics: Keras 3 metrics, and ``get`` that resolves ``"accuracy"`` from the loss.

``get("accuracy", loss="categorical_crossentropy")`` is a ``CategoricalAccuracy`` named
``"accuracy"`` (so History keys are ``accuracy`` / ``val_accuracy``); other names (``"mae"``,
``"top_k_categorical_accuracy"``, a loss name such as ``"binary_crossentropy"``) keep the given
string as their name, as in Keras.
"""

from __future__ import annotations

import numpy as np

from .. import serialization
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
                       binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .base import METRIC_FUNCTIONS, Mean, MeanMetricWrapper, Metric, Sum
from .hinge import CategoricalHinge, Hinge, SquaredHinge
from .iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .probabilistic import (BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
                            SparseCategoricalCrossentropy)
from .regression import (CosineSimilarity, LogCoshError, LossMetric, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError, R2Score,
                         RootMeanSquaredError, cosine_similarity)
from ..losses.functions import (binary_crossentropy, binary_focal_crossentropy,
                                categorical_crossentropy, categorical_focal_crossentropy,
                                categorical_hinge, hinge, huber, kl_divergence, log_cosh,
                                mean_absolute_error, mean_absolute_percentage_error,
                                mean_squared_error, mean_squared_logarithmic_error, poisson,
                                sparse_categorical_crossentropy, squared_hinge)
from ..losses.functions import FUNCTIONS as _LOSS_FUNCTIONS

KIND = "metric"
METRIC_FUNCTIONS.update(_LOSS_FUNCTIONS)
METRIC_FUNCTIONS.update({f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)})
serialization.register(KIND)(Mean)
serialization.register(KIND)(Sum)
serialization.register(KIND)(MeanMetricWrapper)


class AutoAccuracy(Metric):
    """``"accuracy"`` when the loss does not say which: decided on the first batch from the
    shapes, as Keras 3 does: one output column → binary, labels of lower rank or one column →
    sparse categorical, else categorical."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._metric = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self._metric is None:
            t, p = np.shape(y_true), np.shape(y_pred)
            if p[-1:] == (1,) or len(p) <= 1:
                cls = BinaryAccuracy
            elif len(t) < len(p) or t[-1:] == (1,):
                cls = SparseCategoricalAccuracy
            else:
                cls = CategoricalAccuracy
            self._metric = cls(name=self.name, dtype=self.dtype)
        self._metric.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return 0.0 if self._metric is None else self._metric.result()

    def reset_state(self) -> None:
        if self._metric is not None:
            self._metric.reset_state()


serialization.register(KIND)(AutoAccuracy)


def accuracy_for_loss(loss, name="accuracy") -> Metric:
    """The accuracy Keras pairs with a loss: categorical (focal) cross-entropy → categorical,
    sparse categorical cross-entropy → sparse categorical, binary (focal) cross-entropy →
    binary; otherwise decided from the shapes (``AutoAccuracy``)."""
    from .. import losses

    if loss is not None and not isinstance(loss, losses.Loss):
        try:
            loss = losses.get(loss)
        except (ValueError, TypeError):
            loss = None
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy(name=name)
    if isinstance(loss, losses.CategoricalCrossentropy):     # includes the focal form
        return CategoricalAccuracy(name=name)
    if isinstance(loss, losses.BinaryCrossentropy):          # includes the focal form
        threshold = 0.0 if loss.from_logits else 0.5
        return BinaryAccuracy(name=name, threshold=threshold)
    return AutoAccuracy(name=name)


def get(identifier, loss=None):
    """A ``Metric`` from a name, a config dict, a class, an instance or a function
    ``f(y_true, y_pred) -> per-sample values``; ``"accuracy"``/``"acc"`` follow ``loss``."""
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return accuracy_for_loss(loss, name=identifier)
        try:
            cls = serialization.lookup(KIND, identifier)
        except ValueError:
            from .. import losses

            try:
                losses.get(identifier)
            except ValueError:
                raise ValueError(f"unknown metric '{identifier}'; known metrics: "
                                 f"{', '.join(sorted(k for k in serialization.registered(KIND) if '_' in k or k.islower()))}"
                                 ", and every loss name") from None
            return LossMetric(identifier, name=identifier)
        return cls(name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"could not interpret metric identifier {identifier!r}")


def serialize(metric: Metric) -> dict:
    return serialization.serialize(metric)


def deserialize(config: dict, custom_objects=None) -> Metric:
    if isinstance(config, dict) and config.get("class_name") == "LossMetric":
        return LossMetric(**config.get("config", {}))
    return serialization.deserialize(KIND, config, custom_objects)


__all__ = [
    "Accuracy", "AutoAccuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU",
    "CategoricalAccuracy", "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity",
    "Hinge", "IoU", "KLDivergence", "LogCoshError", "LossMetric", "Mean", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanIoU", "MeanMetricWrapper", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Metric", "OneHotIoU", "OneHotMeanIoU", "Poisson", "R2Score", "RootMeanSquaredError", "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy", "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum",
    "TopKCategoricalAccuracy", "accuracy", "accuracy_for_loss", "binary_accuracy",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_accuracy",
    "categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge",
    "deserialize", "get", "hinge", "huber", "kl_divergence", "log_cosh", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "poisson", "serialize", "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "squared_hinge", "top_k_categorical_accuracy",
]
