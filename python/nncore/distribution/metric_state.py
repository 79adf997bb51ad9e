"""The additive state of the loss trackers and metrics, as one float64 vector: summed over the
processes, it is the state one process would have after seeing every process's samples."""

from __future__ import annotations

import warnings

import numpy as np


def _slots(obj, out: list, unsupported: list) -> None:
    names = getattr(type(obj), "_additive_state", None)
    if names is None and hasattr(obj, "_metric"):
        # AutoAccuracy picks its metric on the first batch (the same one on every process).
        if obj._metric is not None:
            _slots(obj._metric, out, unsupported)
        return
    if names is None:
        unsupported.append(obj)
        return
    out.extend((obj, name) for name in names)


class MetricState:
    """Packs and unpacks the additive state of ``objects`` (trackers and metrics)."""

    def __init__(self, objects):
        self._objects = list(objects)
        self._warned = set()

    def _collect(self):
        slots, unsupported = [], []
        for obj in self._objects:
            _slots(obj, slots, unsupported)
        for obj in unsupported:
            name = getattr(obj, "name", type(obj).__name__)
            if name not in self._warned:
                self._warned.add(name)
                warnings.warn(f"metric {name!r} ({type(obj).__name__}) declares no "
                              "_additive_state: its logged value is this process's own, not "
                              "reduced over the processes", stacklevel=4)
        return slots

    def pack(self) -> np.ndarray:
        parts = []
        for obj, name in self._collect():
            value = getattr(obj, name)
            if value is not None:
                parts.append(np.asarray(value, np.float64).reshape(-1))
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, vec: np.ndarray) -> None:
        pos = 0
        for obj, name in self._collect():
            value = getattr(obj, name)
            if value is None:
                continue
            if isinstance(value, np.ndarray):
                n = value.size
                setattr(obj, name, vec[pos:pos + n].reshape(value.shape).astype(value.dtype))
            else:
                n = 1
                setattr(obj, name, type(value)(vec[pos]))
            pos += n
