"""Overlap loss for segmentation: Dice (Keras 3 ``keras.losses.Dice``)."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import EPSILON, Loss


@register("loss", "dice", "dice_loss")
class Dice(Loss):
    """``1 - 2·sum(y_true · y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)`` (Keras 3).

    The sums run over ``axis`` (a tuple of axes): ``axis=None`` (the Keras default) sums over
    everything, giving one value for the whole batch that no reduction changes; ``axis=(1, 2, 3)``
    on ``(batch, H, W, C)`` masks gives one value per image, then averaged over the batch.
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if axis is not None:
            axis = tuple(int(a) for a in np.atleast_1d(axis))
        self.axis = axis

    def _compute(self, y_true, y_pred, grad):
        ax = self.axis
        if ax is not None:
            bad = [a for a in ax if not -y_pred.ndim <= a < y_pred.ndim]
            if bad:
                raise ValueError(f"loss '{self.name}': axis {ax} out of range for y_pred of shape {y_pred.shape}")
        inter = (y_true * y_pred).sum(axis=ax, keepdims=True)
        union = y_true.sum(axis=ax, keepdims=True) + y_pred.sum(axis=ax, keepdims=True) + EPSILON
        values = 1.0 - 2.0 * inter / union
        g = -2.0 * (y_true * union - inter) / (union * union) if grad else None
        values = values.reshape([d for i, d in enumerate(values.shape)
                                 if not (ax is None or i in {a % y_pred.ndim for a in ax})])
        return values.astype(y_pred.dtype, copy=False), g, None

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": None if self.axis is None else list(self.axis)}
