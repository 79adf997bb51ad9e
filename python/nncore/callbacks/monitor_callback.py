"""MonitorCallback: the base of the callbacks that watch one logged quantity (EarlyStopping,
ModelCheckpoint, ReduceLROnPlateau) and decide whether a new value improves on the best one."""

from __future__ import annotations

import numpy as np

from . import _monitor
from .base import Callback


class MonitorCallback(Callback):
    """Keeps ``monitor``, ``mode``, ``min_delta`` (>= 0) and ``best`` (initially ``baseline``,
    None meaning that the first value seen is an improvement).

    ``monitor_op`` is ``numpy.less`` (minimize) or ``numpy.greater`` (maximize), chosen on the
    first ``_set_monitor_op()`` (the subclasses call it at the first epoch end, once the
    model's metrics exist): ``mode='auto'`` minimizes the loss, follows the direction a
    compiled metric declares, else the usual metric names; an unknown quantity is a
    ``ValueError`` asking for an explicit mode (Keras 3 rule).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        self.monitor = monitor
        self.mode = _monitor.check_mode(mode, type(self).__name__)
        self.best = None if baseline is None else float(baseline)
        self.min_delta = abs(float(min_delta))
        self.monitor_op = None

    def _set_monitor_op(self):
        direction = _monitor.infer_direction(self.monitor, self.mode, self.model,
                                             type(self).__name__)
        self.monitor_op = np.less if direction == "min" else np.greater

    @property
    def _direction(self):
        """'min' / 'max' once the direction is known, else None (saved with the state)."""
        if self.monitor_op is None:
            return None
        return "min" if self.monitor_op is np.less else "max"

    def _restore_direction(self, direction):
        self.monitor_op = {"min": np.less, "max": np.greater}.get(direction)

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        """``monitor_value`` beats ``reference_value`` by more than ``min_delta``; anything
        beats None."""
        if reference_value is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        shift = self.min_delta if self.monitor_op is np.less else -self.min_delta
        return bool(self.monitor_op(monitor_value + shift, reference_value))
