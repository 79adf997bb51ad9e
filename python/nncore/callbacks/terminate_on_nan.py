"""TerminateOnNaN: stops training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from ..serialization import register
from .base import Callback


@register("callback")
class TerminateOnNaN(Callback):
    """Checks the loss after every training batch; on NaN/Inf it prints ``Batch <i>: Invalid
    loss, terminating training`` (``i`` the 0-based batch index, as Keras) and stops training
    at that batch (``raise_error=True`` raises ``RuntimeError`` instead, so that the remaining
    callbacks, ``on_train_end`` included, do not run, as in Keras 3). ``stopped_epoch`` /
    ``stopped_batch`` keep where it happened (0-based; None if it never did)."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)
        self.stopped_epoch = None
        self.stopped_batch = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.stopped_epoch = self.stopped_batch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isfinite(loss):
            return
        self.stopped_epoch, self.stopped_batch = self._epoch, batch
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch} (epoch "
                               f"{self._epoch}). Loss value: {loss}. Terminating training "
                               "immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True

    def get_config(self):
        return {"raise_error": self.raise_error}
