"""CSVLogger: one row per epoch (epoch index and every log value) in a CSV file."""

from __future__ import annotations

import collections.abc
import csv
import os

import numpy as np

from ..serialization import register
from .base import Callback


def _cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


@register("callback")
class CSVLogger(Callback):
    """Streams epoch results to ``filename`` (Keras 3 semantics): a header ``epoch`` + the log
    keys of the first epoch in sorted order, then one row per epoch (``epoch`` counts from 0; a
    key missing in some epoch is written ``NA``). When the first epoch has no ``val_`` key,
    a ``val_<key>`` column is added for each key (Keras 3 does so, for the validation passes
    that ``validation_freq`` puts in later epochs; without validation they stay ``NA``). ``append=True`` continues an existing file: its header is
    kept and its column order reused, so resumed training lines up."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self._file = None
        self._writer = None
        self._write_header = True
        self._restored_keys = None

    def on_train_begin(self, logs=None):
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._writer = None
        self.keys, self._restored_keys = self._restored_keys, None
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                header = f.readline()
            if header.strip():
                self._write_header = False
                columns = next(csv.reader([header], delimiter=self.sep))
                if columns and columns[0] == "epoch":
                    self.keys = columns[1:]
        self._file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                # The first epoch may come before the first validation (validation_freq > 1):
                # as Keras, reserve a val_ column for every key, written NA until it comes.
                self.keys += [f"val_{k}" for k in self.keys]
        if self._writer is None:
            sep = self.sep

            class Dialect(csv.excel):
                delimiter = sep

            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], dialect=Dialect)
            if self._write_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _cell(logs.get(k, "NA"))) for k in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._writer = None

    def get_config(self):
        return {"filename": self.filename, "separator": self.sep, "append": self.append}

    def get_state(self):
        return {"keys": None if self.keys is None else list(self.keys)}

    def set_state(self, state):
        # The columns of the interrupted run, used by the next fit (with append=True).
        keys = state.get("keys")
        self._restored_keys = None if keys is None else list(keys)
