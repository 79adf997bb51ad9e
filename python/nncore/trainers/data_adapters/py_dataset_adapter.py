"""Batches from a ``PyDataset``: fetched by its workers, in index order or shuffled per epoch."""

from __future__ import annotations

from .data_adapter import DataAdapter
from .data_utils import unpack_x_y_sample_weight


class _Reordered:
    """The dataset seen through an index order, for a shuffled epoch (Keras shuffles the order
    of a PyDataset's batches when ``shuffle=True``)."""

    def __init__(self, dataset, order):
        self._dataset = dataset
        self._order = order

    def __len__(self):
        return len(self._order)

    def __getitem__(self, i):
        return self._dataset[int(self._order[i])]

    def __getattr__(self, name):
        # Only public attributes (workers, use_multiprocessing, ...) come from the dataset:
        # unpickling in a worker looks up private ones before they exist.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._dataset, name)


class PyDatasetAdapter(DataAdapter):
    prefetch = True

    def __init__(self, dataset, class_weight=None, shuffle=False, rng=None, what="fit"):
        self.dataset = dataset
        self._class_weight = class_weight
        self._shuffle = bool(shuffle)
        self._rng = rng
        self._what = what
        self._io = None
        self._need_y = True
        self.num_batches = dataset.num_batches

    def sample_x(self):
        return unpack_x_y_sample_weight(self.dataset[0])[0]

    def bind(self, io, need_y=True) -> None:
        self._io = io
        self._need_y = need_y

    def iterator(self):
        from .py_dataset import iterate_batches

        source = self.dataset
        if self._shuffle and self.num_batches is not None:
            source = _Reordered(source, self._rng.permutation(self.num_batches))
        io, cw, need_y, what = self._io, self._class_weight, self._need_y, self._what
        # The epoch hooks run per epoch (Keras), also when steps_per_epoch spreads one pass
        # over several epochs: EpochIterator calls them.
        for k, data in enumerate(iterate_batches(source, epoch_begin=False, epoch_end=False)):
            yield io.batch(data, cw, need_y, f"{what}: batch {k}")

    def on_epoch_begin(self) -> None:
        self.dataset.on_epoch_begin()

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()
