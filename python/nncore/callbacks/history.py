"""History: the per-epoch logs of ``fit`` (``history.history["loss"]`` ...), returned by it."""

from __future__ import annotations

from ..serialization import register
from .base import Callback


@register("callback")
class History(Callback):
    """Records every epoch's logs; ``history`` maps each key (``loss``, ``accuracy``,
    ``val_loss``, ...) to a list with one value per epoch, ``epoch`` lists the epoch indices of
    the last fit. As in Keras, a History passed to several fits keeps adding to ``history``
    (``epoch`` restarts each fit), and each epoch end makes it ``model.history``."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self._restored = False

    def on_train_begin(self, logs=None):
        # After set_state (resuming from a checkpoint) the interrupted fit's epochs continue.
        if self._restored:
            self._restored = False
        else:
            self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def get_state(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def set_state(self, state: dict) -> None:
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}
        self.epoch = list(state.get("epoch", []))
        self._restored = True
