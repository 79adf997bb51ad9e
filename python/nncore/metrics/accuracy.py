"""Accuracy metrics (Keras 3): exact match, binary (threshold), categorical (arg-max), sparse
categorical, and top-k in both label formats."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..losses.base import align_ranks
from ..serialization import register
from .base import MeanMetricWrapper


def _squeeze_labels(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Integer labels ``(N,)`` or ``(N, 1)`` against predictions ``(N, classes)``."""
    t = y_true[..., 0] if (y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,)) else y_true
    if t.shape != y_pred.shape[:-1]:
        msg = (f"integer labels of shape {y_true.shape} do not match predictions of shape "
               f"{y_pred.shape}; expected {y_pred.shape[:-1]}")
        if y_true.shape == y_pred.shape:
            msg += " (the labels look one-hot: use categorical accuracy)"
        raise ShapeError(msg)
    return t


def accuracy(y_true, y_pred):
    """1 where ``y_true == y_pred`` (after Keras' rank alignment), elementwise."""
    t, p = align_ranks(np.asarray(y_true), np.asarray(y_pred))
    if t.shape != p.shape:
        raise ShapeError(f"accuracy: y_true shape {np.shape(y_true)} does not match y_pred shape {np.shape(y_pred)}")
    return (t == p).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``(y_pred > threshold) == y_true``, elementwise."""
    t, p = align_ranks(np.asarray(y_true), np.asarray(y_pred))
    if t.shape != p.shape:
        raise ShapeError(f"binary_accuracy: y_true shape {np.shape(y_true)} does not match "
                         f"y_pred shape {np.shape(y_pred)}")
    return (t == (p > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1 where the arg-max of the one-hot ``y_true`` equals that of ``y_pred`` (first on ties)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        msg = f"categorical_accuracy: y_true shape {t.shape} does not match y_pred shape {p.shape}"
        if t.ndim == p.ndim - 1 or t.shape[-1:] == (1,):
            msg += " (integer labels: use sparse_categorical_accuracy)"
        raise ShapeError(msg)
    return (t.argmax(axis=-1) == p.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals the arg-max of ``y_pred``."""
    p = np.asarray(y_pred)
    t = _squeeze_labels(np.asarray(y_true), p)
    return (t == p.argmax(axis=-1)).astype(np.float64)


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Whether each label's score is among the k largest; ties at the k-th score count as in
    (Keras' ``in_top_k``)."""
    c = y_pred.shape[-1]
    if k >= c:
        return np.ones(labels.shape, dtype=np.float64)
    kth = np.partition(y_pred, c - k, axis=-1)[..., c - k]
    li = labels.astype(np.intp)[..., None]
    if li.size and (li.min() < 0 or li.max() >= c):
        raise ValueError(f"labels must be in [0, {c}), got labels from {li.min()} to {li.max()}")
    score = np.take_along_axis(y_pred, li, axis=-1)[..., 0]
    return (score >= kth).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        raise ShapeError(f"top_k_categorical_accuracy: y_true shape {t.shape} does not match y_pred shape {p.shape}")
    return _in_top_k(t.argmax(axis=-1), p, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    p = np.asarray(y_pred)
    return _in_top_k(_squeeze_labels(np.asarray(y_true), p), p, k)


@register("metric", "accuracy_exact")
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly. (The name ``"accuracy"`` in ``compile``
    instead picks binary/categorical/sparse accuracy: see ``nncore.metrics.get``.)"""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


@register("metric", "binary_accuracy")
class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=float(threshold))


@register("metric", "categorical_accuracy")
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (arg-max) matches the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


@register("metric", "sparse_categorical_accuracy")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (arg-max) matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


@register("metric", "top_k_categorical_accuracy")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=int(k))


@register("metric", "sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=int(k))
