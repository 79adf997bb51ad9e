"""LearningRateScheduler: sets the optimizer's learning rate from a function of the epoch."""

from __future__ import annotations

import math

import numpy as np

from ..serialization import register
from ._learning_rate import get_learning_rate, set_learning_rate
from .base import Callback


@register("callback")
class LearningRateScheduler(Callback):
    """At the start of each epoch sets ``model.optimizer.learning_rate = schedule(epoch, lr)``
    (``epoch`` counts from 0, ``lr`` is the current rate as a float; a one-argument
    ``schedule(epoch)`` is accepted too, as in Keras). The schedule must return a float (an int
    is refused, as in Keras), finite and >= 0. Adds ``learning_rate`` to the epoch logs, so
    History records it. An optimizer built on a ``LearningRateSchedule`` cannot be driven
    (``TypeError``). ``get_config`` holds the function itself: it round-trips in memory, not
    through JSON."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}")
        self.schedule = schedule
        self.verbose = int(verbose)

    def on_epoch_begin(self, epoch, logs=None):
        lr = get_learning_rate(self.model, "LearningRateScheduler")
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # the one-argument form schedule(epoch)
            new_lr = self.schedule(epoch)
        if not isinstance(new_lr, (float, np.floating)) or not math.isfinite(float(new_lr)) \
                or new_lr < 0:
            raise ValueError("The output of the `schedule` function should be a finite, "
                             f"non-negative float. Got: {new_lr!r} at epoch {epoch}")
        set_learning_rate(self.model, float(new_lr), "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model, "LearningRateScheduler")

    def get_config(self):
        return {"schedule": self.schedule, "verbose": self.verbose}
