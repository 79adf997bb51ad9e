"""Accuracy metrics (Keras 3): exact match, binary (threshold), categorical (arg-max), sparse
categorical, and top-k in both label formats."""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError
from ..losses.base import align_ranks
from ..serialization import register
from .base import MeanMetricWrapper


def _matches(a: np.ndarray, b: np.ndarray, what: str, y_true, y_pred) -> np.ndarray:
    """``a == b`` as floats, broadcasting like Keras' ``ops.equal``; shapes that do not broadcast
    raise an error naming both inputs' shapes."""
    try:
        return np.equal(a, b).astype(np.float64)
    except ValueError:
        raise ShapeError(f"{what}: y_true of shape {np.shape(y_true)} does not match y_pred of "
                         f"shape {np.shape(y_pred)}") from None


def _numeric(x, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}")
    return arr


def accuracy(y_true, y_pred):
    """1 where ``y_true == y_pred`` (after Keras' rank alignment, then broadcasting)."""
    t, p = align_ranks(_numeric(y_true, "y_true"), _numeric(y_pred, "y_pred"))
    return _matches(t, p, "accuracy", y_true, y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``(y_pred > threshold) == y_true`` (rank alignment, then broadcasting)."""
    t, p = align_ranks(_numeric(y_true, "y_true"), _numeric(y_pred, "y_pred"))
    return _matches(t, p > threshold, "binary_accuracy", y_true, y_pred)


def categorical_accuracy(y_true, y_pred):
    """1 where the arg-max over the last axis of the one-hot ``y_true`` equals that of ``y_pred``
    (first on ties); the other axes broadcast."""
    t, p = _numeric(y_true, "y_true"), _numeric(y_pred, "y_pred")
    if t.ndim == 0 or p.ndim == 0 or t.shape[-1] != p.shape[-1]:
        msg = (f"categorical_accuracy: y_true of shape {t.shape} and y_pred of shape {p.shape} "
               "must have the same number of classes on the last axis")
        if t.ndim == p.ndim - 1 or t.shape[-1:] == (1,):
            msg += " (y_true looks like integer labels: use sparse_categorical_accuracy)"
        raise ShapeError(msg)
    labels = t.argmax(axis=-1)
    if labels.ndim == p.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return _matches(labels, p.argmax(axis=-1), "categorical_accuracy", t, p)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals the arg-max over the last axis of ``y_pred``.

    As in Keras, labels of ``y_pred``'s rank ending in 1 lose that axis, then labels and
    predicted classes broadcast against each other (labels ``(2, 1)`` against ``y_pred``
    ``(1, 2, classes)`` give a ``(2, 2)`` grid), and a trailing axis of 1 in the result is dropped.
    """
    t, p = _numeric(y_true, "y_true"), _numeric(y_pred, "y_pred")
    if p.ndim == 0:
        raise ShapeError("sparse_categorical_accuracy: y_pred must have a class axis, got a scalar")
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    elif t.shape == p.shape and p.shape[-1] > 1:
        raise ShapeError(f"sparse_categorical_accuracy: y_true has y_pred's shape {p.shape}, so "
                         "it looks one-hot: use categorical_accuracy")
    m = _matches(t, p.argmax(axis=-1), "sparse_categorical_accuracy", y_true, y_pred)
    if m.ndim > 1 and m.shape[-1] == 1:
        m = m[..., 0]
    return m


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Whether each label's score is among the k largest of its row; ties at the k-th score
    count as in (Keras' ``in_top_k``)."""
    c = y_pred.shape[-1]
    li = labels.astype(np.intp)
    if li.size and (li.min() < 0 or li.max() >= c):
        raise ValueError(f"labels must be in [0, {c}), got labels from {li.min()} to {li.max()}")
    if k >= c:
        return np.ones(labels.shape, dtype=np.float64)
    if k <= 0:
        return np.zeros(labels.shape, dtype=np.float64)
    kth = np.partition(y_pred, c - k, axis=-1)[..., c - k]
    score = np.take_along_axis(y_pred, li[..., None], axis=-1)[..., 0]
    return (score >= kth).astype(np.float64)


def _flat_top_k(labels: np.ndarray, p: np.ndarray, k: int, what: str, from_sorted_ids=False):
    """Keras flattens labels to ``(n,)`` and predictions to ``(n, classes)``; the result has the
    labels' shape."""
    if p.ndim == 0:
        raise ShapeError(f"{what}: y_pred must have a class axis, got a scalar")
    flat_p = p.reshape(-1, p.shape[-1]) if p.ndim != 2 else p
    flat_t = labels.reshape(-1)
    if flat_t.shape[0] != flat_p.shape[0]:
        raise ShapeError(f"{what}: {flat_t.shape[0]} labels (shape {labels.shape}) for "
                         f"{flat_p.shape[0]} rows of predictions (y_pred shape {p.shape})")
    if from_sorted_ids:
        m = np.any(flat_t[:, None] == flat_p[:, :k], axis=1).astype(np.float64)
    else:
        m = _in_top_k(flat_t, flat_p, k)
    return m.reshape(labels.shape) if labels.ndim > 1 else m


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot label's class is among the ``k`` highest scores."""
    t, p = _numeric(y_true, "y_true"), _numeric(y_pred, "y_pred")
    if t.ndim == 0 or p.ndim == 0 or t.shape[-1] != p.shape[-1]:
        raise ShapeError(f"top_k_categorical_accuracy: y_true of shape {t.shape} and y_pred of "
                         f"shape {p.shape} must have the same number of classes on the last axis")
    return _flat_top_k(t.argmax(axis=-1), p, k, "top_k_categorical_accuracy")


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the ``k`` highest scores; with ``from_sorted_ids``,
    ``y_pred`` holds class ids sorted by score and the label must be among the first ``k``."""
    t, p = _numeric(y_true, "y_true"), _numeric(y_pred, "y_pred")
    if not from_sorted_ids and t.shape == p.shape and p.ndim and p.shape[-1] > 1:
        raise ShapeError(f"sparse_top_k_categorical_accuracy: y_true has y_pred's shape {p.shape}, "
                         "so it looks one-hot: use top_k_categorical_accuracy")
    if t.dtype.kind == "f" and not from_sorted_ids:
        t = t.astype(np.intp)
    return _flat_top_k(t, p, k, "sparse_top_k_categorical_accuracy", from_sorted_ids)


class _Up:
    """Accuracies should go up (``EarlyStopping(mode="auto")`` reads this)."""

    _direction = "up"


@register("metric", "accuracy_exact")
class Accuracy(_Up, MeanMetricWrapper):
    """How often predictions equal labels exactly. (The name ``"accuracy"`` in ``compile``
    instead picks binary/categorical/sparse accuracy: see ``nncore.metrics.get``.)"""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


@register("metric", "binary_accuracy")
class BinaryAccuracy(_Up, MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=float(threshold))
        self.threshold = float(threshold)


@register("metric", "categorical_accuracy")
class CategoricalAccuracy(_Up, MeanMetricWrapper):
    """How often the predicted class (arg-max over the last axis) matches the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


@register("metric", "sparse_categorical_accuracy")
class SparseCategoricalAccuracy(_Up, MeanMetricWrapper):
    """How often the predicted class (arg-max over the last axis) matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


def _check_k(k) -> int:
    if isinstance(k, bool) or int(k) != k or int(k) < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


class _TopK(_Up):
    """``k`` is the one the metric computes with, and what its config holds."""

    @property
    def k(self) -> int:
        return self._fn_kwargs["k"]

    @k.setter
    def k(self, value) -> None:
        self._fn_kwargs["k"] = _check_k(value)


@register("metric", "top_k_categorical_accuracy")
class TopKCategoricalAccuracy(_TopK, MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        k = _check_k(k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


@register("metric", "sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(_TopK, MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions (or, with
    ``from_sorted_ids``, among the first ``k`` ids of ``y_pred``)."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        k = _check_k(k)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=bool(from_sorted_ids))
        self.from_sorted_ids = bool(from_sorted_ids)
