"""EarlyStopping: ends fit when a monitored quantity has stopped improving."""

from __future__ import annotations

import warnings

from ..serialization import register
from . import _monitor
from .monitor_callback import MonitorCallback


@register("callback")
class EarlyStopping(MonitorCallback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs (Keras 3 semantics).

    An improvement is a change by more than ``min_delta`` in the direction given by ``mode``
    (``'auto'``: the loss goes down, accuracy-like metrics go up; see ``MonitorCallback``).
    The first monitored value is always an improvement. With ``baseline``, the wait counter
    only restarts on epochs that also beat the baseline, so training stops after ``patience``
    epochs if none does. ``restore_best_weights`` puts back the weights of the best epoch when
    training ends (also when it ran to the end or another callback stopped it). The first
    ``start_from_epoch`` epochs are not monitored (warm-up).

    After fit: ``stopped_epoch`` (0-based, 0 if it never stopped early), ``best``,
    ``best_epoch``, ``wait``.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if int(patience) < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if int(start_from_epoch) < 0:
            raise ValueError(f"EarlyStopping: start_from_epoch must be >= 0, got {start_from_epoch}")
        self.patience = int(patience)
        self.verbose = int(verbose)
        self.baseline = None if baseline is None else float(baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._restored = False
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # A callback can be reused for several fits (each starts afresh, as in Keras); after
        # set_state (resuming from a checkpoint) it continues instead.
        if self._restored:
            self._restored = False
        else:
            self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self._monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the weights at hand are the best known.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def _monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs.keys())}", stacklevel=3)
            return None
        return _monitor.scalar(value)

    def get_config(self):
        return {"monitor": self.monitor, "min_delta": self.min_delta, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "baseline": self.baseline,
                "restore_best_weights": self.restore_best_weights,
                "start_from_epoch": self.start_from_epoch}

    def get_state(self):
        state = {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                 "best_epoch": self.best_epoch, "direction": self._direction}
        if self.best_weights is not None:
            state["best_weights"] = [w.copy() for w in self.best_weights]
        return state

    def set_state(self, state):
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = None if state["best"] is None else float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self._restore_direction(state.get("direction"))
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else [w.copy() for w in weights]
        self._restored = True
