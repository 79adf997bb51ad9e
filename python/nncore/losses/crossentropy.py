"""Cross-entropy losses: binary, categorical (one-hot) and sparse categorical (integer labels),
each fusable with the sigmoid/softmax in front of it."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DTypeError, ShapeError
from ..ops import sigmoid_binary_cross_entropy as _sigmoid_bce
from ..ops import softmax_cross_entropy as _softmax_xent
from ..ops import sparse_softmax_cross_entropy as _sparse_softmax_xent
from ..serialization import register
from .base import EPSILON, AxisMixin, Loss, align_ranks, as_float_array, as_target_array


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    d = 1.0 + e
    p = np.divide(1.0, d, dtype=z.dtype)
    np.divide(e, d, out=p, where=z < 0)
    return p


def _softmax_parts(z: np.ndarray):
    """``(z - max, probs, log of the normaliser)`` over the last axis."""
    zs = z - z.max(axis=-1, keepdims=True)
    probs = np.exp(zs)
    s = probs.sum(axis=-1, keepdims=True)
    probs /= s
    return zs, probs, np.log(s)


def _check_fraction(value, what: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be in [0, 1], got {value}")
    return value


def _one_hot_mismatch(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> ShapeError:
    t, p = y_true.shape, y_pred.shape
    msg = f"loss '{name}': y_true and y_pred must have the same shape, got {t} and {p}"
    if len(t) == len(p) - 1 or (len(t) == len(p) and t[-1:] == (1,) and p[-1:] != (1,)):
        msg += ("; y_true looks like integer class labels: use "
                "'sparse_categorical_crossentropy' or one-hot encode them with to_categorical")
    elif len(t) == len(p) and t[:-1] == p[:-1]:
        msg += (f"; one-hot labels have {t[-1]} columns but the model predicts {p[-1]} classes")
    return ShapeError(msg)


@register("loss", "binary_crossentropy", "bce", "BCE")
class BinaryCrossentropy(AxisMixin, Loss):
    """Binary cross-entropy, ``mean(-(y log p + (1-y) log(1-p)), axis)`` (Keras 3).

    ``from_logits=False``: ``p`` is clipped to ``[1e-7, 1-1e-7]`` like Keras. ``from_logits=True``
    uses the exact form ``max(z,0) - z y + log1p(exp(-|z|))`` (Keras' TensorFlow and torch
    backends do the same). ``label_smoothing`` squeezes targets towards 0.5:
    ``y (1 - ls) + 0.5 ls``. The seed's formula [000] is this loss with ``N`` the batch size.

    When the model ends in a sigmoid, it calls ``forward_backward_from_logits`` on the sigmoid's
    input instead: the exact form, without the clipping kink.
    """

    fused_activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_fraction(label_smoothing, "label_smoothing")
        self.axis = int(axis)

    def _prepare(self, y_true, y_pred):
        t, p = super()._prepare(y_true, y_pred)
        if p.ndim == 0:
            raise ShapeError(f"loss '{self.name}' needs y_pred of rank >= 1, got a scalar")
        return self._moved(t), self._moved(p)

    def _targets(self, t):
        ls = self.label_smoothing
        return t * (1.0 - ls) + 0.5 * ls if ls else t

    def _compute(self, y_true, y_pred, grad):
        if self.from_logits:
            values, g, _ = self._from_logits(y_true, y_pred, grad)
            return values, g, None
        t = self._targets(y_true)
        d = y_pred.shape[-1]
        pc = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        values = -(t * np.log(pc) + (1.0 - t) * np.log1p(-pc)).mean(axis=-1)
        if not grad:
            return values, None, None
        g = ((1.0 - t) / (1.0 - pc) - t / pc) / d
        g *= (y_pred > EPSILON) & (y_pred < 1.0 - EPSILON)
        return values, g, None

    def _from_logits(self, y_true, z, grad):
        t = self._targets(y_true)
        probs = _sigmoid(z)
        elem = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        values = elem.mean(axis=-1)
        g = (probs - t) / z.shape[-1] if grad else None
        return values, g, probs

    def forward_backward_from_logits(self, y_true, logits, *, sample_weight=None):
        """``(loss, d loss / d logits, sigmoid(logits))``: the loss of ``sigmoid(logits)``
        computed from the logits (exact, no clipping)."""
        z_arr = as_float_array(logits, "logits")
        t, z = self._prepare(y_true, z_arr)
        if sample_weight is None and z.size and z.ndim:
            loss, probs, g = _sigmoid_bce(np.ascontiguousarray(z),
                                          np.ascontiguousarray(self._targets(t)))
            if self.reduction == "sum":
                rows = z.size // z.shape[-1]
                loss *= rows
                g *= rows
        else:
            values, g, probs = self._from_logits(t, z, True)
            loss, g = self._reduce(values, g, sample_weight, None, z.ndim, training=True)
        return loss, self._restore(g, z_arr.shape), self._restore(probs, z_arr.shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(from_logits=self.from_logits, label_smoothing=self.label_smoothing, axis=self.axis)
        return config


@register("loss", "categorical_crossentropy")
class CategoricalCrossentropy(AxisMixin, Loss):
    """Categorical cross-entropy with one-hot targets, ``-sum(y log p, axis)`` (Keras 3).

    ``from_logits=False``: ``p`` is first normalised to sum to 1 over ``axis`` and clipped to
    ``[1e-7, 1-1e-7]`` (Keras). ``from_logits=True`` uses ``log_softmax``. ``label_smoothing``:
    ``y (1 - ls) + ls / num_classes``. y_true must have y_pred's shape; integer labels are an
    error that points to ``sparse_categorical_crossentropy``.

    When the model ends in a softmax, it calls ``forward_backward_from_logits`` on the softmax's
    input: the gradient is then ``(softmax(z) - y) / batch`` exactly.
    """

    fused_activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if isinstance(axis, bool):
            raise ValueError(f"axis must be an int, got {axis!r}")
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_fraction(label_smoothing, "label_smoothing")
        self.axis = int(axis)

    def _prepare(self, y_true, y_pred):
        p = as_float_array(y_pred)
        t = as_target_array(y_true, p.dtype)
        ta, pa = align_ranks(t, p)
        if ta.shape != pa.shape or pa.ndim == 0:
            raise _one_hot_mismatch(self.name, t, p)
        ta, pa = self._moved(ta), self._moved(pa)
        if pa.shape[-1] == 1:
            warnings.warn(
                f"In loss {self.name}, expected y_pred.shape to be (batch_size, num_classes) "
                f"with num_classes > 1 on axis {self.axis}. Received: y_pred.shape={p.shape}: "
                "the categorical cross-entropy of one class is always 0. Consider using "
                "'binary_crossentropy' if you only have 2 classes.", SyntaxWarning, stacklevel=3)
        return ta, pa

    def _targets(self, t):
        ls = self.label_smoothing
        return t * (1.0 - ls) + ls / t.shape[-1] if ls else t

    def _compute(self, y_true, y_pred, grad):
        t = self._targets(y_true)
        if self.from_logits:
            values, g, _ = self._from_logits(t, y_pred, grad)
            return values, g, None
        s = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / s
        qc = np.clip(q, EPSILON, 1.0 - EPSILON)
        values = -(t * np.log(qc)).sum(axis=-1)
        if not grad:
            return values, None, None
        # d/dq of -sum(y log clip(q)), then through q = p / sum(p).
        dq = -t / qc
        dq *= (q > EPSILON) & (q < 1.0 - EPSILON)
        g = (dq - (dq * q).sum(axis=-1, keepdims=True)) / s
        return values, g, None

    def _from_logits(self, t, z, grad):
        zs, probs, log_s = _softmax_parts(z)
        values = t.sum(axis=-1) * log_s[..., 0] - (t * zs).sum(axis=-1)
        g = probs * t.sum(axis=-1, keepdims=True) - t if grad else None
        return values, g, probs

    def forward_backward_from_logits(self, y_true, logits, *, sample_weight=None):
        """``(loss, d loss / d logits, softmax(logits))``: the loss of ``softmax(logits)``
        computed from the logits (log-sum-exp, no clipping)."""
        z_arr = as_float_array(logits, "logits")
        t, z = self._prepare(y_true, z_arr)
        t = self._targets(t)
        if sample_weight is None and z.size:
            loss, probs, g = _softmax_xent(np.ascontiguousarray(z), np.ascontiguousarray(t))
            if self.reduction == "sum":
                rows = z.size // z.shape[-1] if z.shape[-1] else 0
                loss *= rows
                g *= rows
        else:
            values, g, probs = self._from_logits(t, z, True)
            loss, g = self._reduce(values, g, sample_weight, None, z.ndim, training=True)
        return loss, self._restore(g, z_arr.shape), self._restore(probs, z_arr.shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(from_logits=self.from_logits, label_smoothing=self.label_smoothing, axis=self.axis)
        return config


@register("loss", "sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer class labels (Keras 3).

    y_true has y_pred's shape without the class axis (a trailing dimension of 1 is squeezed).
    Labels must be integers (integer dtype, or floats holding integers) in ``[0, classes)``;
    anything else raises ``ValueError`` naming the offending values and the shapes. Entries equal
    to ``ignore_class`` contribute nothing, and the mean is over the remaining ones (Keras).
    """

    fused_activation = "softmax"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.from_logits = bool(from_logits)
        if isinstance(axis, bool) or int(axis) != axis:
            raise ValueError(f"axis must be an int, got {axis!r}")
        self.axis = int(axis)
        if ignore_class is not None:
            if isinstance(ignore_class, bool) or int(ignore_class) != ignore_class:
                raise ValueError(f"ignore_class must be an int or None, got {ignore_class!r}")
            ignore_class = int(ignore_class)
        self.ignore_class = ignore_class

    def _class_axis(self, ndim: int) -> int:
        ax = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 <= ax < ndim:
            raise ValueError(f"loss '{self.name}': axis {self.axis} is out of range for y_pred "
                             f"of rank {ndim}")
        return ax

    def _prepare(self, y_true, y_pred):
        p = as_float_array(y_pred)
        t = np.asarray(y_true)
        if p.ndim == 0:
            raise ShapeError(f"loss '{self.name}' needs y_pred of shape (..., classes), got a scalar")
        if t.dtype.kind not in "biuf":
            raise DTypeError(f"loss '{self.name}': labels must be integers, got dtype {t.dtype}")
        ax = self._class_axis(p.ndim)
        if ax != p.ndim - 1:
            # Labels carry no class axis: a singleton one at ``axis`` is dropped (Keras), and
            # the classes of y_pred move last, where the computation expects them.
            if t.ndim == p.ndim and t.shape[ax] == 1:
                t = np.squeeze(t, axis=ax)
            p = np.moveaxis(p, ax, -1)
        ts = t[..., 0] if (t.ndim == p.ndim and t.shape[-1:] == (1,)) else t
        if ts.shape != p.shape[:-1]:
            msg = (f"loss '{self.name}': y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                   f"integer labels must have shape {p.shape[:-1]} (or {p.shape[:-1] + (1,)})")
            if t.shape == p.shape:
                msg += "; y_true looks one-hot: use 'categorical_crossentropy'"
            raise ShapeError(msg)
        classes = p.shape[-1]
        if ts.dtype.kind == "f":
            if not np.all(np.isfinite(ts)) or not np.array_equal(ts, np.floor(ts)):
                bad = ts[~(np.isfinite(ts) & (ts == np.floor(ts)))].ravel()[:3]
                raise ValueError(f"loss '{self.name}': labels must be integers, got values such as "
                                 f"{bad.tolist()} (y_true shape {t.shape}, y_pred shape {p.shape})")
        labels = ts.astype(np.intp)
        if self.ignore_class is not None:
            ignored = labels == self.ignore_class
            check = labels[~ignored] if ignored.any() else labels
        else:
            ignored, check = None, labels
        if check.size:
            lo, hi = int(check.min()), int(check.max())
            if lo < 0 or hi >= classes:
                raise ValueError(
                    f"loss '{self.name}': labels must be in [0, {classes}) for y_pred of shape "
                    f"{p.shape}, got labels from {lo} to {hi} (y_true shape {t.shape})")
        if ignored is not None and ignored.any():
            labels = labels.copy()
            labels[ignored] = -1
        return labels, p

    def _compute(self, labels, y_pred, grad):
        mask = labels >= 0 if self.ignore_class is not None else None
        safe = labels if mask is None else np.where(mask, labels, 0)
        c = y_pred.shape[-1]
        p2 = y_pred.reshape(-1, c)
        idx = safe.reshape(-1)
        r = np.arange(idx.size)
        if self.from_logits:
            zs, probs, log_s = _softmax_parts(p2)
            values = log_s[:, 0] - zs[r, idx]
            g = None
            if grad:
                g = probs
                g[r, idx] -= 1.0
        else:
            s = p2.sum(axis=1)
            ql = p2[r, idx] / s
            qlc = np.clip(ql, EPSILON, 1.0 - EPSILON)
            values = -np.log(qlc)
            g = None
            if grad:
                # Only the label's normalised probability q_l = p_l / sum(p) enters the loss.
                inside = (ql > EPSILON) & (ql < 1.0 - EPSILON)
                a = np.where(inside, -1.0 / (qlc * s), 0.0).astype(y_pred.dtype, copy=False)
                g = np.empty_like(p2)
                g[...] = (-a * ql)[:, None]
                g[r, idx] += a
        values = values.reshape(labels.shape)
        if mask is not None:
            values = np.where(mask, values, 0.0).astype(y_pred.dtype, copy=False)
            if g is not None:
                g *= mask.reshape(-1, 1)
        if g is not None:
            g = g.reshape(y_pred.shape)
        return values, g, mask

    def _restore(self, arr: np.ndarray, shape) -> np.ndarray:
        ax = self._class_axis(len(shape))
        if ax != len(shape) - 1:
            arr = np.ascontiguousarray(np.moveaxis(arr, -1, ax))
        return arr.reshape(shape)

    def forward_backward_from_logits(self, y_true, logits, *, sample_weight=None):
        """``(loss, d loss / d logits, softmax(logits))`` computed from the logits."""
        z_arr = as_float_array(logits, "logits")
        labels, z = self._prepare(y_true, z_arr)
        if sample_weight is None and self.ignore_class is None and z.size:
            loss, probs, g = _sparse_softmax_xent(np.ascontiguousarray(z), labels)
            if self.reduction == "sum":
                g *= labels.size
                loss *= labels.size
            return loss, self._restore(g, z_arr.shape), self._restore(probs, z_arr.shape)
        saved = self.from_logits
        self.from_logits = True
        try:
            values, g, mask = self._compute(labels, z, True)
        finally:
            self.from_logits = saved
        loss, g = self._reduce(values, g, sample_weight, mask, z.ndim, training=True)
        probs = _softmax_parts(z)[1]
        return loss, self._restore(g, z_arr.shape), self._restore(probs, z_arr.shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(from_logits=self.from_logits, ignore_class=self.ignore_class, axis=self.axis)
        return config
