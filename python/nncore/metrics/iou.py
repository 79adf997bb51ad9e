"""Intersection-over-Union metrics (Keras 3 ``IoU``, ``MeanIoU``, ``BinaryIoU``, ``OneHotIoU``,
``OneHotMeanIoU``): a confusion matrix accumulated over batches, per-class
``IoU = TP / (TP + FP + FN)`` read from it, averaged over the target classes that occurred.

As in Keras: labels outside ``[0, num_classes)`` (and ``ignore_class``) are left out of the
matrix; a class that never occurs in the labels nor the predictions counts as absent and is not
averaged in; the average divides by ``valid + 1e-7`` as Keras' does; the matrix holds ``dtype``
(``int32`` by default, so fractional sample weights truncate, with Keras' warning — pass
``dtype="float32"`` for weighted matrices).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ShapeError
from ..serialization import register
from .base import Metric

_EPSILON = 1e-7


def _check_class_count(num_classes, owner: str) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"{owner}: num_classes must be a positive integer, got {num_classes!r}")
    return int(num_classes)


def _labels(values, dense: bool, axis: int, what: str, owner: str) -> np.ndarray:
    """Integer class ids from labels or predictions: argmax over ``axis`` for dense (one-hot or
    score) inputs; integer-valued inputs truncated toward zero as Keras' cast does."""
    a = np.asarray(values)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{owner}: {what} must be numeric, got dtype {a.dtype}")
    if dense:
        if a.ndim == 0:
            raise ShapeError(f"{owner}: {what} is a scalar, but sparse_{what}=False needs a class "
                             f"axis (axis={axis}) to take the argmax over")
        try:
            a = np.argmax(a, axis=axis)
        except (np.exceptions.AxisError, ValueError) as exc:
            raise ShapeError(f"{owner}: {what} of shape {np.shape(values)} has no axis {axis}") \
                from exc
    if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        raise ValueError(f"{owner}: {what} holds NaN or infinite class ids")
    return np.trunc(a).astype(np.int64) if np.issubdtype(a.dtype, np.floating) else \
        a.astype(np.int64)


class _IoUBase(Metric):
    """The confusion matrix ``total_cm[true, predicted]`` the IoU metrics read."""

    _direction = "up"
    _additive_state = ("total_cm",)

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = _check_class_count(num_classes, type(self).__name__)
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, (int, np.integer))):
            raise ValueError(f"{type(self).__name__}: ignore_class must be an integer or None, "
                             f"got {ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.sparse_y_true = bool(sparse_y_true)
        self.sparse_y_pred = bool(sparse_y_pred)
        self.axis = int(axis)
        self.reset_state()

    def reset_state(self) -> None:
        self.total_cm = np.zeros((self.num_classes, self.num_classes), dtype=self.dtype)

    def _integer_matrix(self) -> bool:
        return np.issubdtype(np.dtype(self.dtype), np.integer)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        owner = type(self).__name__
        t = _labels(y_true, not self.sparse_y_true, self.axis, "y_true", owner).reshape(-1)
        p = _labels(y_pred, not self.sparse_y_pred, self.axis, "y_pred", owner).reshape(-1)
        if t.shape != p.shape:
            raise ShapeError(f"{owner}: y_true and y_pred hold different numbers of labels "
                             f"({t.size} and {p.size}; shapes {np.shape(y_true)} and "
                             f"{np.shape(y_pred)})")
        if sample_weight is None:
            w = np.ones(t.shape)
        else:
            w = np.asarray(sample_weight)
            if not (np.issubdtype(w.dtype, np.number) or w.dtype == np.bool_):
                raise TypeError(f"{owner}: sample_weight must be numeric, got dtype {w.dtype}")
            if np.issubdtype(w.dtype, np.floating) and self._integer_matrix():
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                              "result in an incorrect weight due to type casting Consider using "
                              "integer weights.", stacklevel=2)
            if w.ndim > 1:
                w = w.reshape(-1)
            try:
                w = np.broadcast_to(w, t.shape)
            except ValueError:
                raise ShapeError(f"{owner}: sample_weight of shape {np.shape(sample_weight)} does "
                                 f"not broadcast to the {t.size} labels of y_true "
                                 f"{np.shape(y_true)}") from None
            w = w.astype(self.dtype).astype(np.float64)
        keep = (t >= 0) & (t < self.num_classes) & (p >= 0) & (p < self.num_classes)
        if self.ignore_class is not None:
            keep &= t != self.ignore_class
        n = self.num_classes
        counts = np.bincount(t[keep] * n + p[keep], weights=w[keep], minlength=n * n)
        self.total_cm = self.total_cm + counts.reshape(n, n).astype(self.dtype)

    def _class_iou(self):
        cm = self.total_cm.astype(np.float64)
        tp = np.diag(cm)
        return tp, cm.sum(axis=0) + cm.sum(axis=1) - tp


@register("metric")
class IoU(_IoUBase):
    """IoU averaged over ``target_class_ids`` (the classes that occurred among them)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        ids = list(target_class_ids)
        if not ids:
            raise ValueError(f"{type(self).__name__}: target_class_ids is empty")
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise ValueError(f"{type(self).__name__}: target class ids must be integers, "
                                 f"got {i!r}")
        if max(ids) >= self.num_classes or min(ids) < 0:
            bad = max(ids) if max(ids) >= self.num_classes else min(ids)
            raise ValueError(f"Target class id {bad} is out of range, which is "
                             f"[0, {self.num_classes}).")
        self.target_class_ids = [int(i) for i in ids]

    def result(self) -> float:
        tp, denom = self._class_iou()
        tp, denom = tp[self.target_class_ids], denom[self.target_class_ids]
        valid = denom > 1e-9
        iou = np.where(valid, tp / (denom + _EPSILON), 0.0)
        return float(iou.sum() / (valid.sum() + _EPSILON))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": list(self.target_class_ids), "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


@register("metric")
class BinaryIoU(IoU):
    """IoU of the classes 0 and/or 1 after thresholding the predictions: class 1 where
    ``y_pred >= threshold``."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        p = np.asarray(y_pred)
        if not (np.issubdtype(p.dtype, np.number) or p.dtype == np.bool_):
            raise TypeError(f"BinaryIoU: y_pred must be numeric, got dtype {p.dtype}")
        if np.issubdtype(p.dtype, np.floating) and np.isnan(p).any():
            raise ValueError("BinaryIoU: y_pred holds NaN")
        super().update_state(y_true, (p.astype(np.float32) >= self.threshold).astype(np.int64),
                             sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": list(self.target_class_ids), "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


@register("metric")
class MeanIoU(IoU):
    """IoU averaged over every class that occurred."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        n = _check_class_count(num_classes, "MeanIoU")
        super().__init__(n, list(range(n)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@register("metric")
class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (argmax over ``axis``) and, unless ``sparse_y_pred``, scores."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": list(self.target_class_ids),
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@register("metric")
class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (argmax over ``axis``) and, unless ``sparse_y_pred``,
    scores."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
