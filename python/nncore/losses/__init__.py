"""nncore.losses: the Keras 3 losses, each with a value and an exact gradient for training.

``get("categorical_crossentropy")``, ``get("mse")``, ``get({"class_name": ..., "config": ...})``
or an instance; plain functions ``f(y_true, y_pred)`` are wrapped (evaluation only unless a
gradient is given, see ``LossFunctionWrapper``).
"""

from __future__ import annotations

from .. import serialization
from .base import EPSILON, Loss, LossFunctionWrapper
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .focal import BinaryFocalCrossentropy, CategoricalFocalCrossentropy
from .functions import (BCE, KLD, MAE, MAPE, MSE, MSLE, bce, binary_crossentropy,
                        binary_focal_crossentropy, categorical_crossentropy,
                        categorical_focal_crossentropy, categorical_hinge, cosine_similarity, dice,
                        hinge, huber, kl_divergence, kld, kullback_leibler_divergence, log_cosh,
                        logcosh, mae, mape, mean_absolute_error, mean_absolute_percentage_error,
                        mean_squared_error, mean_squared_logarithmic_error, mse, msle, poisson,
                        sparse_categorical_crossentropy, squared_hinge)
from .hinge import CategoricalHinge, Hinge, SquaredHinge
from .probabilistic import KLDivergence, Poisson
from .regression import (Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError)
from .segmentation import Dice
from .similarity import ContrastiveLoss, CosineSimilarity

KIND = "loss"


def get(identifier):
    """A ``Loss`` from a name (``"mse"``, ``"categorical_crossentropy"``, ...), a config dict, a
    Loss class or instance, or a function ``f(y_true, y_pred) -> per-sample values``."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    loss_class = getattr(identifier, "loss_class", None)
    if isinstance(loss_class, type) and issubclass(loss_class, Loss):
        # One of nncore's own loss functions: its class computes the gradient too.
        return loss_class()
    if callable(identifier) and not isinstance(identifier, type):
        return LossFunctionWrapper(identifier)
    return serialization.get(KIND, identifier, Loss)


def serialize(loss: Loss) -> dict:
    return serialization.serialize(loss)


def deserialize(config: dict, custom_objects=None) -> Loss:
    return serialization.deserialize(KIND, config, custom_objects)


__all__ = [
    "EPSILON", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalHinge", "ContrastiveLoss", "CosineSimilarity",
    "Dice", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge",
    "deserialize", "get", "serialize",
    "BCE", "KLD", "MAE", "MAPE", "MSE", "MSLE", "bce", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_hinge", "cosine_similarity", "dice", "hinge", "huber", "kl_divergence", "kld",
    "kullback_leibler_divergence", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "mse", "msle", "poisson", "sparse_categorical_crossentropy", "squared_hinge",
]
