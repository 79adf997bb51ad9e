"""ModelCheckpoint: saves the model (or its weights) during fit, every epoch or every N batches."""

from __future__ import annotations

import os
import warnings

import numpy as np

from ..serialization import register
from . import _monitor
from .monitor_callback import MonitorCallback

_MODEL_EXTENSIONS = (".nncore", ".keras")
_WEIGHTS_EXTENSIONS = (".weights.npz", ".npz", ".safetensors", ".weights.h5")


@register("callback")
class ModelCheckpoint(MonitorCallback):
    """Saves with ``model.save(path)`` (or ``model.save_weights(path)`` with
    ``save_weights_only=True``) during training, Keras 3 semantics.

    ``filepath`` may hold format fields filled from ``epoch`` (1-based), ``batch`` (1-based,
    with an integer ``save_freq``) and the logs: ``"ckpt-{epoch:02d}-{val_loss:.2f}.nncore"``.
    It must end in ``.nncore``/``.keras`` for whole models and in ``.weights.npz``/``.npz``/
    ``.safetensors``/``.weights.h5`` for weights (``.keras`` and ``.weights.h5`` are Keras 3's
    formats, which Keras reads). With ``save_best_only`` a file is written only when ``monitor``
    improved on the best value so far (initially ``initial_value_threshold``; without it the
    first value is an improvement). As in Keras, the direction of ``monitor`` is resolved at
    the first epoch end whatever ``save_best_only``, so ``mode='auto'`` with a quantity of
    unknown direction is an error there.
    ``save_freq="epoch"`` saves at the end of each epoch; an int saves after that many batches
    (the monitored value is then the running mean of the epoch so far).

    A ``.nncore`` checkpoint also holds the optimizer's state and the states of the fit's other
    callbacks (early-stopping wait, plateau counters, ...): ``nncore.load_model(path)`` hands
    them to the callbacks of the same classes in the next ``fit``, so
    ``fit(..., initial_epoch=k)`` resumes exactly (a ``.keras`` one holds the weights and
    compile settings only). At the end of an epoch the checkpoint runs after the other
    callbacks, wherever it sits in the list, so it saves their states after their own
    end-of-epoch step.
    """

    saves_training_state = True

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = int(verbose)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             "'epoch' or a positive integer number of batches")
        self.save_freq = save_freq
        self.initial_value_threshold = (None if initial_value_threshold is None
                                        else float(initial_value_threshold))
        allowed = _WEIGHTS_EXTENSIONS if self.save_weights_only else _MODEL_EXTENSIONS
        if not self.filepath.endswith(allowed):
            what = "weights (save_weights_only=True)" if self.save_weights_only else "a whole model"
            raise ValueError(f"ModelCheckpoint: the filepath for {what} must end in "
                             f"{' or '.join(allowed)}; got filepath={self.filepath!r}")
        self._batches_since_save = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # A batch index that does not grow means a new epoch began (batches count from 0).
        seen = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_save += seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs) -> str:
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as exc:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: no value for {exc} in the logs (available: "
                           f"{', '.join(sorted(fields))})") from None

    def _should_save(self, epoch, logs, path) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        raw = (logs or {}).get(self.monitor)
        if raw is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if np.ndim(raw) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. Received: "
                          f"{raw}. Falling back to `save_best_only=False`.", stacklevel=3)
            return True
        current = _monitor.scalar(raw)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available (got "
                          f"{raw!r}, not a number).", stacklevel=3)
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save(self, epoch, batch, logs):
        path = self._file_path(epoch, batch, logs)
        if os.path.isdir(path):
            raise IsADirectoryError(f"ModelCheckpoint: filepath {path!r} is an existing "
                                    "directory; give a file name")
        if not self._should_save(epoch, logs, path):
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")

    def get_config(self):
        return {"filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
                "save_best_only": self.save_best_only,
                "save_weights_only": self.save_weights_only, "mode": self.mode,
                "save_freq": self.save_freq,
                "initial_value_threshold": self.initial_value_threshold}

    def get_state(self):
        return {"best": self.best, "direction": self._direction,
                "batches_since_save": self._batches_since_save,
                "last_batch_seen": self._last_batch_seen, "current_epoch": self._current_epoch}

    def set_state(self, state):
        self.best = None if state["best"] is None else float(state["best"])
        self._restore_direction(state.get("direction"))
        self._batches_since_save = int(state["batches_since_save"])
        self._last_batch_seen = int(state["last_batch_seen"])
        self._current_epoch = int(state["current_epoch"])
