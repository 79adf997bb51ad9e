"""What every adapter does to one batch: split ``(x, y, sample_weight)``, turn array-likes
(lists, PyTorch tensors) into NumPy arrays, turn ``class_weight`` into sample weights."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def unpack_x_y_sample_weight(data):
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> ``(x, y, sample_weight)``
    (Keras' ``keras.utils.unpack_x_y_sample_weight``)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError("a batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
                     f"{len(data)} elements")


def to_numpy(a, what="data"):
    """A NumPy view of an array-like: arrays, lists, PyTorch tensors (detached, on the CPU)."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch.Tensor, without importing torch
        a = a.detach().cpu()
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} cannot be read as an array ({exc}); pass arrays, or batches "
                         "through a generator, an iterable or a PyDataset") from None


def to_numpy_tree(data):
    """``to_numpy`` over the lists, tuples and dicts of a batch."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {k: to_numpy(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(to_numpy_tree(v) for v in data)
    return to_numpy(data)


def check_numeric(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, got dtype {a.dtype}")
    return a


class ClassWeightTypeError(ValueError, TypeError):
    """A class_weight that is not a dict (a ValueError as in Keras; a TypeError as before)."""


def _class_weight_table(class_weight, what):
    if not isinstance(class_weight, Mapping):
        raise ClassWeightTypeError(
            f"{what}: class_weight must be a dict-like mapping of class indices to weights, got "
            f"{type(class_weight).__name__}")
    table = {}
    for k, v in class_weight.items():
        try:
            key = int(k)
            if isinstance(k, float) and key != k:
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"{what}: class_weight must be a dictionary with integer keys "
                             f"(class indices); got the key {k!r}") from None
        table[key] = float(v)
    return table


def sample_weights(ys: list, n: int, sample_weight, class_weight, what: str):
    """Per-sample loss weights of shape ``(n,)`` from ``sample_weight`` or ``class_weight``
    (``{class index: weight}``, classes read from integer labels or one-hot rows), or None."""
    if sample_weight is None and class_weight is None:
        return None
    if sample_weight is not None and class_weight is not None:
        # Keras refuses the pair rather than choosing how to combine them.
        raise ValueError(f"{what}: You cannot `class_weight` and `sample_weight` at the same "
                         "time: give one of them")
    w = np.ones(n, dtype=np.float64)
    if sample_weight is not None:
        sw = check_numeric(to_numpy(sample_weight, f"{what}: sample_weight"),
                           f"{what}: sample_weight")
        sw = sw.reshape(sw.shape[0], -1)[:, 0] if sw.ndim == 2 and sw.shape[1] == 1 else sw
        if sw.shape != (n,):
            raise ValueError(f"{what}: sample_weight must have shape ({n},) (one weight per "
                             f"sample), got {sw.shape}")
        if not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(f"{what}: sample_weight must be finite and >= 0")
        w *= sw
    if class_weight is not None:
        if len(ys) != 1:
            raise ValueError(f"{what}: `class_weight` is only supported for Models with a single "
                             "output")
        table = _class_weight_table(class_weight, what)
        y = np.asarray(ys[0])
        if y.ndim >= 2 and y.shape[-1] > 1:
            labels = y.reshape(n, -1, y.shape[-1]).argmax(axis=-1)[:, 0]
        else:
            labels = y.reshape(n, -1)[:, 0]
            if not np.array_equal(labels, np.round(labels)):
                raise ValueError(f"{what}: class_weight needs integer labels or one-hot targets")
            labels = labels.astype(np.int64)
        # A class without an entry weighs 1.0 (Keras: class_weight={1: 10.0} up-weights one class).
        w *= np.array([table.get(int(c), 1.0) for c in labels], dtype=np.float64)
    return w
