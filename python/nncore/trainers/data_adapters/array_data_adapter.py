"""Batches from in-memory arrays: the fast path. Rows are gathered by a shuffled index into
buffers reused from step to step, and cast to the model's dtype one batch at a time, so uint8 or
float64 datasets are never copied whole."""

from __future__ import annotations

import math

import numpy as np

from .data_adapter import DataAdapter
from .data_utils import sample_weights


def _gather(arr, index, dtype, buffers: dict, key):
    """Rows ``index`` (a slice or an index array) of ``arr`` in ``dtype``. A picked index is
    gathered into a buffer kept for the next batch: batches are consumed within their step."""
    if isinstance(index, np.ndarray) and (dtype is None or arr.dtype == dtype):
        shape = (len(index),) + arr.shape[1:]
        buf = buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != arr.dtype:
            buf = buffers[key] = np.empty(shape, arr.dtype)
        # mode="clip" writes straight into buf ("raise" buffers); the indices are in range.
        return arr.take(index, 0, buf, "clip")
    b = arr[index]
    if dtype is not None and b.dtype != dtype:
        b = b.astype(dtype)
    return b


class ArrayDataAdapter(DataAdapter):
    """``x``/``y``/``sample_weight`` arrays (or lists/dicts of them, or array-likes such as
    PyTorch tensors) cut into batches of ``batch_size``.

    ``shuffle``: True draws a new sample order each pass from ``rng``; ``"batch"`` keeps the
    batches in order and shuffles the samples within each (Keras 3, for data read in chunks);
    False keeps the order.
    """

    def __init__(self, x, y=None, sample_weight=None, class_weight=None, batch_size=32,
                 shuffle=False, rng=None, what="fit"):
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"{what}: shuffle must be True, False or 'batch', got {shuffle!r}")
        if shuffle and rng is None:
            raise ValueError("a shuffling ArrayDataAdapter needs a random generator")
        self._raw = (x, y, sample_weight, class_weight)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._rng = rng
        self._what = what
        self.xs = self.ys = self.weights = None
        self.num_samples = None
        self._buffers: dict = {}
        self._dtype = None
        self._class_weighted = False
        # Data-parallel runs: maps a global batch's index to this process's rows (None: none).
        self.row_filter = None

    def sample_x(self):
        return self._raw[0]

    def bind(self, io, need_y=True) -> None:
        x, y, sw, cw = self._raw
        self._raw = None
        self._dtype = io.dtype
        self.xs = io.inputs(x, "x")
        n = self.xs[0].shape[0]
        if need_y:
            self.ys = io.targets(y, n, "y")
            self.weights = sample_weights(self.ys, n, sw, cw, self._what)
            self._class_weighted = cw is not None
        self.num_samples = n

    @classmethod
    def from_arrays(cls, xs, ys, weights, batch_size, dtype, what):
        """An adapter over arrays already checked against the model (a validation split)."""
        adapter = cls(None, batch_size=batch_size, what=what)
        adapter._raw = None
        adapter.xs, adapter.ys, adapter.weights = xs, ys, weights
        adapter.num_samples = xs[0].shape[0]
        adapter._dtype = dtype
        return adapter

    def split_off(self, fraction: float, batch_size: int) -> "ArrayDataAdapter":
        """Takes the last ``fraction`` of the samples (before any shuffling, as Keras) out of
        this adapter and returns them as the validation adapter."""
        n = self.num_samples
        n_val = int(math.floor(n * fraction))
        if n_val == 0 or n_val == n:
            raise ValueError(f"{self._what}: validation_split={fraction} of {n} samples leaves an "
                             "empty training or validation set")
        cut = n - n_val
        # The validation rows keep their sample weights but not class_weight, which weighs
        # training only (Keras).
        val_weights = (None if self.weights is None or self._class_weighted
                       else self.weights[cut:])
        val = ArrayDataAdapter.from_arrays(
            [a[cut:] for a in self.xs], [a[cut:] for a in self.ys], val_weights, batch_size,
            self._dtype, f"{self._what} (validation)")
        self.xs = [a[:cut] for a in self.xs]
        self.ys = [a[:cut] for a in self.ys]
        self.weights = None if self.weights is None else self.weights[:cut]
        self.num_samples = cut
        return val

    @property
    def num_batches(self):
        return -(-self.num_samples // self.batch_size)

    def _indices(self):
        n, bs = self.num_samples, self.batch_size
        nb = self.num_batches
        if self.shuffle == "batch":
            for b in range(nb):
                lo, hi = b * bs, min(n, (b + 1) * bs)
                yield lo + self._rng.permutation(hi - lo)
        elif self.shuffle:
            order = self._rng.permutation(n)
            for b in range(nb):
                yield order[b * bs:(b + 1) * bs]
        else:
            for b in range(nb):
                yield slice(b * bs, min(n, (b + 1) * bs))

    def iterator(self):
        dtype, buffers = self._dtype, self._buffers
        for index in self._indices():
            if self.row_filter is not None:
                index = self.row_filter(index)
                if index is None:
                    yield None, None, None
                    continue
            xb = [_gather(a, index, dtype, buffers, ("x", k)) for k, a in enumerate(self.xs)]
            if self.ys is None:
                yield xb, None, None
                continue
            yb = [_gather(a, index, None, buffers, ("y", k)) for k, a in enumerate(self.ys)]
            yield xb, yb, None if self.weights is None else self.weights[index]
