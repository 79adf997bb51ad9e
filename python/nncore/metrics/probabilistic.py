"""Metrics that average a probabilistic loss (Keras 3): the cross-entropies, KL divergence and
Poisson, each the mean of the matching ``nncore.losses`` function over all samples seen."""

from __future__ import annotations

import numpy as np

from .. import losses as _losses
from ..losses.base import align_ranks
from ..serialization import register
from .base import Mean, MeanMetricWrapper


class _LossMean(MeanMetricWrapper):
    _direction = "down"


@register("metric", "kl_divergence")
class KLDivergence(_LossMean):
    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(_losses.kl_divergence, name=name, dtype=dtype)


@register("metric", "poisson")
class Poisson(_LossMean):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(_losses.poisson, name=name, dtype=dtype)


@register("metric", "binary_crossentropy", "bce", "BCE")
class BinaryCrossentropy(_LossMean):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(_losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)
        self.from_logits = bool(from_logits)
        self.label_smoothing = label_smoothing


@register("metric", "categorical_crossentropy")
class CategoricalCrossentropy(_LossMean):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(_losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing, axis=axis)
        self.from_logits = bool(from_logits)
        self.label_smoothing = label_smoothing
        self.axis = axis


@register("metric", "sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(_LossMean):
    """The mean sparse categorical cross-entropy. Entries labelled ``ignore_class`` add 0 to the
    total; as in Keras, they still count in the number of values averaged unless sample weights
    are given, in which case their weight is dropped too."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), ignore_class=ignore_class, axis=axis)
        self.from_logits = bool(from_logits)
        self.ignore_class = ignore_class
        self.axis = axis

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.ignore_class is None or sample_weight is None:
            # Keras: without sample weights, ignored entries count as values of 0.
            return super().update_state(y_true, y_pred, sample_weight)
        loss = _losses.SparseCategoricalCrossentropy(from_logits=self.from_logits,
                                                     ignore_class=self.ignore_class, axis=self.axis)
        labels, p = loss._prepare(y_true, y_pred)
        values, _, mask = loss._compute(labels, p, False)
        # Keras: with sample weights, ignored entries leave both the total and the count alone.
        mask, sw = align_ranks(mask.astype(np.float64), np.asarray(sample_weight, dtype=np.float64))
        Mean.update_state(self, values, sw * mask)
