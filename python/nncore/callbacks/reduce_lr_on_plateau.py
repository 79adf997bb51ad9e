"""ReduceLROnPlateau: lowers the learning rate when a monitored quantity stops improving."""

from __future__ import annotations

import warnings

import numpy as np

from ..serialization import register
from . import _monitor
from ._learning_rate import get_learning_rate, set_learning_rate
from .monitor_callback import MonitorCallback


@register("callback")
class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by ``factor`` after ``patience`` epochs without improvement
    of ``monitor`` (by more than ``min_delta``), never below ``min_lr``; then waits ``cooldown``
    epochs before counting again. Keras 3 semantics: ``mode='auto'`` as EarlyStopping
    (``MonitorCallback``), the first value seen is the first best. Adds ``learning_rate`` (the
    rate used in that epoch) to the epoch logs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:  # the Keras 2 name of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if factor <= 0.0:
            raise ValueError(f"ReduceLROnPlateau needs a factor > 0. Received factor={factor}")
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = int(verbose)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self._restored = False
        self._reset()

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        if self._restored:
            self._restored = False
        else:
            self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = get_learning_rate(self.model, "ReduceLROnPlateau")
        current = _monitor.scalar(logs.get(self.monitor))
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: "
                          f"{','.join(logs.keys())}.", stacklevel=3)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch) -> bool:
        old_lr = get_learning_rate(self.model, "ReduceLROnPlateau")
        # Compared in float32 as Keras does, so a rate stored as float32 stops at min_lr.
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        set_learning_rate(self.model, new_lr, "ReduceLROnPlateau")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

    def get_config(self):
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "min_delta": self.min_delta,
                "cooldown": self.cooldown, "min_lr": self.min_lr}

    def get_state(self):
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter,
                "direction": self._direction}

    def set_state(self, state):
        self.best = None if state["best"] is None else float(state["best"])
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self._restore_direction(state.get("direction"))
        self._restored = True
