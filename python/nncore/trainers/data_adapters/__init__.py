"""Adapters from what ``fit``/``evaluate``/``predict`` accept (arrays, generators, PyDataset,
PyTorch DataLoader, iterables) to one stream of ``(xs, ys, sample_weight)`` batches."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .array_data_adapter import ArrayDataAdapter
from .data_adapter import DataAdapter, UnrecognizedDataError
from .iterable_data_adapter import IterableDataAdapter
from .py_dataset import PyDataset
from .py_dataset_adapter import PyDatasetAdapter

__all__ = ["ArrayDataAdapter", "DataAdapter", "IterableDataAdapter", "PyDatasetAdapter",
           "get_data_adapter"]


def _is_array_like(x) -> bool:
    if isinstance(x, (np.ndarray, Mapping, list, tuple, int, float)):
        return True
    return hasattr(x, "shape") and hasattr(x, "dtype")   # torch.Tensor and other array types


def get_data_adapter(x, y=None, sample_weight=None, class_weight=None, batch_size=None,
                     shuffle=False, rng=None, what="fit") -> DataAdapter:
    """The adapter for what the user passed as ``x`` (Keras' ``get_data_adapter``)."""
    if isinstance(x, PyDataset):
        _no_extras(y, sample_weight, batch_size, "a PyDataset", what, x)
        return PyDatasetAdapter(x, class_weight=class_weight, shuffle=shuffle, rng=rng, what=what)
    if x is None or _is_array_like(x):
        return ArrayDataAdapter(x, y, sample_weight, class_weight,
                                32 if batch_size is None else batch_size, shuffle, rng, what)
    if isinstance(x, (str, bytes)):
        raise UnrecognizedDataError(
            f"{what}: Unrecognized data type: x must be arrays, a PyDataset, a generator or an "
            f"iterable of batches, got a {type(x).__name__} ({x!r:.60})")
    _no_extras(y, sample_weight, batch_size, "a generator or an iterable of batches", what, x)
    return IterableDataAdapter(x, class_weight=class_weight, what=what)


def _no_extras(y, sample_weight, batch_size, kind, what, x=None):
    # Keras refuses these too: the batches carry their own targets, weights and size.
    if type(x).__name__ == "DataLoader":
        kind = "a torch DataLoader"
    elif kind.startswith("a generator") and hasattr(x, "__next__"):
        kind = "a generator"
    for name, value in (("y", y), ("sample_weight", sample_weight), ("batch_size", batch_size)):
        if value is not None:
            plural = "s" if name == "sample_weight" else ""
            raise ValueError(f"{what}: {name} cannot be passed when x is {kind}: its batches "
                             "carry their own targets, sample weights and size (When providing "
                             f"`x` as a {kind.removeprefix('a ')}, `{name}{plural}` should not "
                             "be passed)")
