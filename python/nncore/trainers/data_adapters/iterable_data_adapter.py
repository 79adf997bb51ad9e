"""Batches from Python generators and iterables: ``(x, y[, sample_weight])`` tuples of
array-likes, e.g. a PyTorch ``DataLoader`` or a list of batches."""

from __future__ import annotations

import itertools

from .data_adapter import DataAdapter, UnrecognizedDataError
from .data_utils import unpack_x_y_sample_weight


class IterableDataAdapter(DataAdapter):
    """A generator (or any iterator) is read once: each epoch continues where the last one
    stopped, so it must yield ``steps_per_epoch * epochs`` batches. A re-iterable object (a
    ``DataLoader``, a list) starts a new pass every epoch; its ``len()``, when it has one, is the
    number of batches."""

    prefetch = True

    def __init__(self, source, class_weight=None, what="fit"):
        try:
            it = iter(source)
        except TypeError:
            raise UnrecognizedDataError(
                f"{what}: Unrecognized data type: x must be arrays, a PyDataset, a generator or "
                f"an iterable of batches, got {type(source).__name__}") from None
        self.single_pass = it is source
        self._source = source
        self._class_weight = class_weight
        self._what = what
        self._pending = it          # the iterator of the first epoch, whose head sample_x read
        self._head = []
        self._io = None
        self._need_y = True
        if not self.single_pass and hasattr(source, "__len__"):
            try:
                self.num_batches = len(source)
            except TypeError:       # a DataLoader over an IterableDataset without __len__
                self.num_batches = None

    def sample_x(self):
        if not self._head:
            try:
                self._head.append(next(self._pending))
            except StopIteration:
                raise ValueError(f"{self._what}: the data yields no batch (the generator must "
                                 "yield at least one batch)") from None
        return unpack_x_y_sample_weight(self._head[0])[0]

    def bind(self, io, need_y=True) -> None:
        self._io = io
        self._need_y = need_y

    def iterator(self):
        if self._pending is not None:
            raw = itertools.chain(self._head, self._pending)
            self._pending, self._head = None, []
        else:
            raw = iter(self._source)
        io, cw, need_y, what = self._io, self._class_weight, self._need_y, self._what
        for k, data in enumerate(raw):
            yield io.batch(data, cw, need_y, f"{what}: batch {k}")
