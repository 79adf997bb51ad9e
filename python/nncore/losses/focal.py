"""Focal losses (Lin et al. 2017): cross-entropies that down-weight well-classified examples by
``(1 - p_t)^gamma``; binary and categorical, as Keras 3 defines them."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..serialization import register
from .base import EPSILON, as_float_array
from .crossentropy import (BinaryCrossentropy, CategoricalCrossentropy, _check_fraction, _sigmoid,
                           _softmax_parts)


def _power_minus_one(a: np.ndarray, gamma: float) -> np.ndarray:
    """``a^(gamma-1)``, with 0 where a = 0 and gamma < 1 (the derivative is unbounded there)."""
    if gamma >= 1.0:
        return np.power(a, gamma - 1.0)
    out = np.zeros_like(a)
    np.power(a, gamma - 1.0, out=out, where=a > 0)
    return out


@register("loss", "binary_focal_crossentropy", "focal", "focal_loss", "binary_focal_loss")
class BinaryFocalCrossentropy(BinaryCrossentropy):
    """Binary focal cross-entropy (Keras 3 ``BinaryFocalCrossentropy``), mean over ``axis`` of

    ``w · (1 - p_t)^gamma · bce(y, p)``,  ``p_t = y p + (1-y)(1-p)``,

    with ``w = alpha·y + (1-alpha)(1-y)`` when ``apply_class_balancing`` else 1; ``bce`` as in
    ``BinaryCrossentropy`` (clipped for probabilities, exact from logits); ``label_smoothing``
    applies to y first. ``gamma = 0`` gives the binary cross-entropy. The names ``"focal"`` and
    ``"focal_loss"`` resolve to this loss; ``CategoricalFocalCrossentropy`` is the softmax form.
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = _check_fraction(alpha, "alpha")
        self.gamma = float(gamma)
        if self.gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")

    def _focal(self, t, p, bce, dbce, dp):
        """Values and gradient of ``mean(w a^gamma bce)`` given ``d bce`` and ``d p`` with respect
        to the input (probabilities: dp = 1; logits: dp = p (1 - p))."""
        a = t + p - 2.0 * t * p          # 1 - p_t
        gam = self.gamma
        factor = np.power(a, gam)
        elem = factor * bce
        w = t * self.alpha + (1.0 - t) * (1.0 - self.alpha) if self.apply_class_balancing else None
        if w is not None:
            elem *= w
        n = elem.shape[-1]
        values = elem.mean(axis=-1)
        if dbce is None:
            return values, None
        g = factor * dbce
        if gam != 0.0:
            g += gam * _power_minus_one(a, gam) * (1.0 - 2.0 * t) * dp * bce
        if w is not None:
            g *= w
        g /= n
        return values, g

    def _compute(self, y_true, y_pred, grad):
        if self.from_logits:
            values, g, _ = self._from_logits(y_true, y_pred, grad)
            return values, g, None
        t = self._targets(y_true)
        pc = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(t * np.log(pc) + (1.0 - t) * np.log1p(-pc))
        dbce = None
        if grad:
            dbce = ((1.0 - t) / (1.0 - pc) - t / pc) * ((y_pred > EPSILON) & (y_pred < 1.0 - EPSILON))
        values, g = self._focal(t, y_pred, bce, dbce, 1.0)
        return values, g, None

    def _from_logits(self, y_true, z, grad):
        t = self._targets(y_true)
        p = _sigmoid(z)
        bce = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        dbce = p - t if grad else None
        values, g = self._focal(t, p, bce, dbce, p * (1.0 - p))
        return values, g, p

    def forward_backward_from_logits(self, y_true, logits, *, sample_weight=None):
        """``(loss, d loss / d logits, sigmoid(logits))``, computed from the logits."""
        z_arr = as_float_array(logits, "logits")
        t, z = self._prepare(y_true, z_arr)
        values, g, probs = self._from_logits(t, z, True)
        loss, g = self._reduce(values, g, sample_weight, None, z.ndim, training=True)
        return loss, self._restore(g, z_arr.shape), self._restore(probs, z_arr.shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(apply_class_balancing=self.apply_class_balancing, alpha=self.alpha, gamma=self.gamma)
        return config


@register("loss", "categorical_focal_crossentropy", "categorical_focal_loss")
class CategoricalFocalCrossentropy(CategoricalCrossentropy):
    """Categorical focal cross-entropy (Keras 3 ``CategoricalFocalCrossentropy``):

    ``sum(alpha · (1 - p)^gamma · (-y log p), axis)``

    with p normalised and clipped like ``CategoricalCrossentropy`` (softmax and log-softmax when
    from logits); ``alpha`` is a float or one weight per class.
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        if np.ndim(alpha) == 0:
            self.alpha = float(alpha)
        else:
            self.alpha = [float(a) for a in np.ravel(alpha)]
        self.gamma = float(gamma)
        if self.gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")

    def _alpha(self, classes: int, dtype):
        if isinstance(self.alpha, list):
            if len(self.alpha) != classes:
                raise ShapeError(f"loss '{self.name}': alpha has {len(self.alpha)} entries but "
                                 f"y_pred has {classes} classes")
            return np.asarray(self.alpha, dtype=dtype)
        return self.alpha

    def _compute(self, y_true, y_pred, grad):
        t = self._targets(y_true)
        alpha = self._alpha(y_pred.shape[-1], y_pred.dtype)
        if self.from_logits:
            values, g, _ = self._from_logits(t, y_pred, grad)
            return values, g, None
        gam = self.gamma
        s = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / s
        qc = np.clip(q, EPSILON, 1.0 - EPSILON)
        logq = np.log(qc)
        mod = np.power(1.0 - qc, gam)
        values = (alpha * mod * (-t * logq)).sum(axis=-1)
        if not grad:
            return values, None, None
        dq = mod / qc
        if gam != 0.0:
            dq -= gam * _power_minus_one(1.0 - qc, gam) * logq
        dq *= -alpha * t
        dq *= (q > EPSILON) & (q < 1.0 - EPSILON)
        g = (dq - (dq * q).sum(axis=-1, keepdims=True)) / s
        return values, g, None

    def _from_logits(self, t, z, grad):
        alpha = self._alpha(z.shape[-1], z.dtype)
        gam = self.gamma
        zs, p, log_s = _softmax_parts(z)
        logp = zs - log_s
        mod = np.power(1.0 - p, gam)
        values = (alpha * mod * (-t * logp)).sum(axis=-1)
        if not grad:
            return values, None, p
        # p_j · d/dp_j, which stays finite as p_j -> 0; then through the softmax Jacobian.
        gp = -mod
        if gam != 0.0:
            gp += gam * _power_minus_one(1.0 - p, gam) * p * logp
        gp *= alpha * t
        g = gp - p * gp.sum(axis=-1, keepdims=True)
        return values, g, p

    def forward_backward_from_logits(self, y_true, logits, *, sample_weight=None):
        """``(loss, d loss / d logits, softmax(logits))``, computed from the logits."""
        z_arr = as_float_array(logits, "logits")
        t, z = self._prepare(y_true, z_arr)
        values, g, probs = self._from_logits(self._targets(t), z, True)
        loss, g = self._reduce(values, g, sample_weight, None, z.ndim, training=True)
        return loss, self._restore(g, z_arr.shape), self._restore(probs, z_arr.shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=self.alpha, gamma=self.gamma)
        return config

