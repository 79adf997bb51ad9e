"""Similarity losses: cosine similarity (Keras 3) and contrastive loss on distances."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import EPSILON, AxisMixin, Loss


@register("loss", "cosine_similarity", "cosine_proximity")
class CosineSimilarity(AxisMixin, Loss):
    """``-sum(l2_normalize(y_true) · l2_normalize(y_pred), axis)`` (Keras 3): -1 for parallel
    vectors, 0 for orthogonal ones or when either is zero. ``l2_normalize(x) = x / max(‖x‖, 1e-7)``
    as Keras' ``ops.normalize``."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.axis = int(axis)

    def _prepare(self, y_true, y_pred):
        t, p = super()._prepare(y_true, y_pred)
        if p.ndim == 0:
            raise ValueError(f"loss '{self.name}' needs arrays of rank >= 1")
        return self._moved(t), self._moved(p)

    def _compute(self, y_true, y_pred, grad):
        nt = y_true / np.maximum(np.linalg.norm(y_true, axis=-1, keepdims=True), EPSILON)
        r = np.maximum(np.linalg.norm(y_pred, axis=-1, keepdims=True), EPSILON)
        npred = y_pred / r
        values = -(nt * npred).sum(axis=-1)
        if not grad:
            return values, None, None
        # d/dp of -nt·(p/‖p‖) = -(nt - n (n·nt)) / ‖p‖ where the norm is not clamped.
        dot = (nt * npred).sum(axis=-1, keepdims=True)
        g = -(nt - npred * (dot * (r > EPSILON))) / r
        return values, g, None

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


@register("loss", "contrastive", "contrastive_loss")
class ContrastiveLoss(Loss):
    """Contrastive loss on a predicted distance (Hadsell et al. 2006; the
    ``tfa.losses.ContrastiveLoss`` form that Keras users know):

    ``y_true · d² + (1 - y_true) · max(margin - d, 0)²``

    per element, where ``y_pred = d ≥ 0`` is the distance between the two embeddings of a pair
    (e.g. their Euclidean distance) and ``y_true`` is 1 for a similar pair and 0 for a
    dissimilar one; reduced like every loss (default: the mean over the batch). Similar pairs
    are pulled together, dissimilar ones pushed apart until they are ``margin`` away.
    """

    def __init__(self, margin=1.0, reduction="sum_over_batch_size", name="contrastive_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.margin = float(margin)

    def _compute(self, y_true, y_pred, grad):
        h = np.maximum(self.margin - y_pred, 0.0)
        values = y_true * y_pred * y_pred + (1.0 - y_true) * h * h
        if not grad:
            return values, None, None
        return values, 2.0 * (y_true * y_pred - (1.0 - y_true) * h), None

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}
