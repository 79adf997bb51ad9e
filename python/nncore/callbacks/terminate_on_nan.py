"""TerminateOnNaN: stops training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from ..serialization import register
from .base import Callback


@register("callback")
class TerminateOnNaN(Callback):
    """Checks the loss after every training batch; on NaN/Inf it prints where (epoch and batch
    counted from 1) and stops training at that batch. ``raise_error=True`` raises
    ``RuntimeError`` instead, so that the remaining callbacks, ``on_train_end`` included, do not
    run (Keras 3); its message names the 0-based batch index as Keras' does.
    ``stopped_epoch`` / ``stopped_batch`` keep where it happened (0-based; None if it never
    did)."""

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
        where = f"epoch {self._epoch + 1}, batch {batch + 1}"
        if self.raise_error:
            # Keras' wording names the 0-based batch index; the 1-based place follows.
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch} ({where} "
                               f"counting from 1). Loss value: {loss}. Terminating training "
                               "immediately.")
        print(f"Epoch {self._epoch + 1}, batch {batch + 1}: invalid loss ({loss}), terminating "
              "training")
        self.model.stop_training = True

    def get_config(self):
        return {"raise_error": self.raise_error}
