"""History: the per-epoch logs of ``fit`` (``history.history["loss"]`` ...), returned by it."""

from __future__ import annotations

from ..serialization import register
from .base import Callback


@register("callback")
class History(Callback):
    """Records every epoch's logs; ``history`` maps each key (``loss``, ``accuracy``,
    ``val_loss``, ...) to a list with one value per epoch, ``epoch`` lists the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        # Keras keeps the history of earlier fit calls on the same object only through
        # model.history; each fit gets a fresh record.
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def get_state(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def set_state(self, state: dict) -> None:
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}
        self.epoch = list(state.get("epoch", []))
