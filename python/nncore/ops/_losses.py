"""Losses fused with their gradient, for the training loop: one call returns
``(mean_loss, probs, grad_logits)`` where ``grad_logits = d(mean_loss) / d(logits)``.

All take raw logits (``from_logits=True`` in Keras terms) and are stable for any finite logits
(±1e4 included). ``mean_loss`` is a NumPy scalar of the logits' dtype (accumulated in float64);
the mean of an empty batch is NaN. ``out`` may be a 2-tuple ``(probs, grad)`` of preallocated
arrays (entries may be None); outputs may not overlap the inputs.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import DTypeError

__all__ = ["sigmoid_binary_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"]


def softmax_cross_entropy(logits, y_true, *, out=None):
    """Categorical cross-entropy of ``softmax(logits)`` against ``y_true`` (one-hot rows or any
    probability rows), classes on the last axis, averaged over all other axes (the batch).

    ``loss = mean_rows(-sum_c y_c * log_softmax(logits)_c)``; ``probs = softmax(logits)``;
    ``grad = (probs * sum_c y_c - y_true) / rows`` (``(probs - y_true) / rows`` for one-hot rows).
    ``y_true`` must have the shape and dtype of ``logits``. Classes with ``y_c == 0`` contribute
    nothing, even with a ``-inf`` logit.
    """
    loss, probs, grad = _core.softmax_cross_entropy(logits, y_true, out)
    return probs.dtype.type(loss), probs, grad


def _as_labels(labels):
    arr = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
    if arr.dtype == np.int64:
        return arr
    kind = arr.dtype.kind
    if kind in "iu":
        return arr.astype(np.int64)
    if kind == "f":
        as_int = arr.astype(np.int64)
        if not np.array_equal(as_int, arr):
            raise ValueError("labels must be whole numbers (class indices), got non-integral ones")
        return as_int
    raise DTypeError(f"labels must be an integer array of class indices, got dtype {arr.dtype}")


def sparse_softmax_cross_entropy(logits, labels, *, out=None):
    """Like :func:`softmax_cross_entropy` with integer class indices instead of one-hot rows.

    ``labels`` has the shape of ``logits`` without its last axis (a trailing axis of 1 is also
    accepted, as Keras does) and holds integers in ``[0, classes)`` (out-of-range labels raise
    ValueError naming the first bad one); integral floats are accepted like in Keras.
    ``grad = (probs - onehot(labels)) / rows``.
    """
    loss, probs, grad = _core.sparse_softmax_cross_entropy(logits, _as_labels(labels), out)
    return probs.dtype.type(loss), probs, grad


def sigmoid_binary_cross_entropy(logits, y_true, *, out=None):
    """Binary cross-entropy of ``sigmoid(logits)`` against targets ``y_true`` in [0, 1], averaged
    over all elements (Keras ``binary_crossentropy(from_logits=True)`` averages the last axis,
    then the batch: the same number for equal-length rows).

    ``loss = mean(max(x, 0) - x * z + log(1 + exp(-|x|)))``; ``probs = sigmoid(logits)``;
    ``grad = (probs - y_true) / size``.
    """
    loss, probs, grad = _core.sigmoid_binary_cross_entropy(logits, y_true, out)
    return probs.dtype.type(loss), probs, grad
