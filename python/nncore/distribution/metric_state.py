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
    """Packs and unpacks the additive state of ``objects`` (trackers and metrics).

    A state may still be None (R2Score before its first batch, so on a process that got no
    rows): ``layout`` gives each state's shape (None when unset), and packing with the layout
    agreed by the processes writes zeros for the states this process has not set.
    """

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

    def layout(self) -> list:
        """Each state's shape as a list, or None while it is unset."""
        return [None if (v := getattr(obj, name)) is None else list(np.shape(v))
                for obj, name in self._collect()]

    def _placed(self, layout):
        """``(obj, name, shape, size)`` of every state the layout gives a shape."""
        layout = self.layout() if layout is None else layout
        for (obj, name), shape in zip(self._collect(), layout):
            if shape is not None:
                yield obj, name, shape, int(np.prod(shape, dtype=np.int64))

    def pack(self, layout=None) -> np.ndarray:
        parts = []
        for obj, name, _, n in self._placed(layout):
            value = getattr(obj, name)
            parts.append(np.zeros(n) if value is None
                         else np.asarray(value, np.float64).reshape(-1))
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, vec: np.ndarray, layout=None) -> None:
        pos = 0
        for obj, name, shape, n in self._placed(layout):
            value = getattr(obj, name)
            if value is None or isinstance(value, np.ndarray):
                dtype = np.float64 if value is None else value.dtype
                setattr(obj, name, vec[pos:pos + n].reshape(shape).astype(dtype))
            else:
                setattr(obj, name, type(value)(vec[pos]))
            pos += n


def agreed_layout(layouts: list) -> list:
    """One layout from every process's: a state set anywhere takes its shape everywhere."""
    first = layouts[0]
    if any(len(l) != len(first) for l in layouts):
        raise ValueError(
            "the processes hold different metric states: a process saw no samples before a metric "
            "decided its form (use at least as many samples as processes)")
    merged = []
    for shapes in zip(*layouts):
        known = [s for s in shapes if s is not None]
        if any(s != known[0] for s in known):
            raise ValueError(f"the processes hold metric states of different shapes {known}")
        merged.append(known[0] if known else None)
    return merged
