"""Losses between distributions and counts: Kullback-Leibler divergence and Poisson (Keras 3)."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import EPSILON, Loss


@register("loss", "kl_divergence", "kld", "KLD", "kullback_leibler_divergence")
class KLDivergence(Loss):
    """``sum(y_true · log(y_true / y_pred), axis=-1)`` with both clipped to ``[1e-7, 1]``
    (Keras 3). Where y_pred is clipped the gradient is 0."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        t = np.clip(y_true, EPSILON, 1.0)
        p = np.clip(y_pred, EPSILON, 1.0)
        elem = t * np.log(t / p)
        values = elem.sum(axis=-1) if elem.ndim else elem
        if not grad:
            return values, None, None
        g = -t / p
        g *= (y_pred >= EPSILON) & (y_pred <= 1.0)
        return values, g, None


@register("loss", "poisson")
class Poisson(Loss):
    """``mean(y_pred - y_true · log(y_pred + 1e-7), axis=-1)`` (Keras 3)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _compute(self, y_true, y_pred, grad):
        pe = y_pred + EPSILON
        elem = y_pred - y_true * np.log(pe)
        n = elem.shape[-1] if elem.ndim else 1
        values = elem.mean(axis=-1) if elem.ndim else elem
        return values, ((1.0 - y_true / pe) / n if grad else None), None
