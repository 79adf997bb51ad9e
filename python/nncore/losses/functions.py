"""Functional losses (Keras 3 ``keras.losses.mean_squared_error`` and friends): each returns the
per-sample values, without reduction or sample weights, exactly as the matching ``Loss`` class's
``call``, so a loss instance and its function never disagree.

Each function carries the class it evaluates (``fn.loss_class``), so that
``nncore.losses.get(nncore.losses.mse)`` gives a loss that can also be trained on.
"""

from __future__ import annotations

from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .focal import BinaryFocalCrossentropy, CategoricalFocalCrossentropy
from .hinge import CategoricalHinge, Hinge, SquaredHinge
from .probabilistic import KLDivergence, Poisson
from .regression import (Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError)
from .segmentation import Dice
from .similarity import CosineSimilarity


def _evaluates(cls):
    def deco(fn):
        fn.loss_class = cls
        return fn
    return deco


@_evaluates(MeanSquaredError)
def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred)², axis=-1)``."""
    return MeanSquaredError().call(y_true, y_pred)


@_evaluates(MeanAbsoluteError)
def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|, axis=-1)``."""
    return MeanAbsoluteError().call(y_true, y_pred)


@_evaluates(MeanAbsolutePercentageError)
def mean_absolute_percentage_error(y_true, y_pred):
    """``100 · mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``."""
    return MeanAbsolutePercentageError().call(y_true, y_pred)


@_evaluates(MeanSquaredLogarithmicError)
def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))², axis=-1)``."""
    return MeanSquaredLogarithmicError().call(y_true, y_pred)


@_evaluates(CosineSimilarity)
def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) · l2_normalize(y_pred), axis)``."""
    return CosineSimilarity(axis=axis).call(y_true, y_pred)


@_evaluates(Huber)
def huber(y_true, y_pred, delta=1.0):
    """Huber loss, mean over the last axis."""
    return Huber(delta=delta).call(y_true, y_pred)


@_evaluates(LogCosh)
def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``."""
    return LogCosh().call(y_true, y_pred)


@_evaluates(Hinge)
def hinge(y_true, y_pred):
    """``mean(max(1 - y_true · y_pred, 0), axis=-1)``; {0, 1} labels become {-1, +1}."""
    return Hinge().call(y_true, y_pred)


@_evaluates(SquaredHinge)
def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true · y_pred, 0)², axis=-1)``; {0, 1} labels become {-1, +1}."""
    return SquaredHinge().call(y_true, y_pred)


@_evaluates(CategoricalHinge)
def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) · y_pred) - sum(y_true · y_pred) + 1, 0)`` over the last axis."""
    return CategoricalHinge().call(y_true, y_pred)


@_evaluates(KLDivergence)
def kl_divergence(y_true, y_pred):
    """``sum(y_true · log(y_true / y_pred), axis=-1)``, both clipped to ``[1e-7, 1]``."""
    return KLDivergence().call(y_true, y_pred)


@_evaluates(Poisson)
def poisson(y_true, y_pred):
    """``mean(y_pred - y_true · log(y_pred + 1e-7), axis=-1)``."""
    return Poisson().call(y_true, y_pred)


@_evaluates(BinaryCrossentropy)
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, mean over ``axis``."""
    return BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                              axis=axis).call(y_true, y_pred)


@_evaluates(BinaryFocalCrossentropy)
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary focal cross-entropy, mean over ``axis``."""
    return BinaryFocalCrossentropy(apply_class_balancing=apply_class_balancing, alpha=alpha,
                                   gamma=gamma, from_logits=from_logits,
                                   label_smoothing=label_smoothing, axis=axis).call(y_true, y_pred)


@_evaluates(CategoricalCrossentropy)
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy of one-hot (or probability) targets, summed over ``axis``."""
    return CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                                   axis=axis).call(y_true, y_pred)


@_evaluates(CategoricalFocalCrossentropy)
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical focal cross-entropy, summed over ``axis``."""
    return CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=from_logits,
                                        label_smoothing=label_smoothing,
                                        axis=axis).call(y_true, y_pred)


@_evaluates(SparseCategoricalCrossentropy)
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Categorical cross-entropy of integer labels; entries equal to ``ignore_class`` give 0."""
    return SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class,
                                         axis=axis).call(y_true, y_pred)


@_evaluates(Dice)
def dice(y_true, y_pred, axis=None):
    """``1 - 2·sum(y_true · y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)`` over ``axis``."""
    return Dice(axis=axis).call(y_true, y_pred)


# Keras' short names for the same functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

FUNCTIONS = {
    f.__name__: f for f in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge, squared_hinge,
        categorical_hinge, kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy,
        categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
        dice,
    )
}
