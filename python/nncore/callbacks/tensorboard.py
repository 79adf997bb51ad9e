"""TensorBoard: writes Keras-style event files (scalars, weight histograms, model summary) that
TensorBoard itself reads (``tensorboard --logdir logs``). Needs tensorboardX (extra
``tensorboard``)."""

from __future__ import annotations

import os

import numpy as np

from ..serialization import register
from .base import Callback

__all__ = ["TensorBoard"]


def _require_tensorboardx():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "the TensorBoard callback writes its files with tensorboardX: pip install 'nncore[tensorboard]' "
            "(or pip install tensorboardX)"
        ) from None
    return SummaryWriter


def _as_float(value):
    """A log value as a Python float, or None when it is not a number."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr) if arr.ndim == 0 else None


def current_learning_rate(model):
    """The optimizer's learning rate now: a float, a Variable-like object, or a schedule
    called with the optimizer's step count. None when the model does not say."""
    opt = getattr(model, "optimizer", None)
    lr = getattr(opt, "learning_rate", None)
    if lr is None:
        return None
    if callable(lr) and not hasattr(lr, "value"):
        step = getattr(opt, "iterations", 0)
        try:
            lr = lr(_as_float(getattr(step, "value", step)) or 0)
        except Exception:  # a schedule we cannot call is not worth failing the training for
            return None
    lr = getattr(lr, "value", lr)
    if callable(lr):
        lr = lr()
    return _as_float(lr)


@register("callback")
class TensorBoard(Callback):
    """Logs training to TensorBoard the way Keras' callback does.

    Writes two runs, ``<log_dir>/train`` and ``<log_dir>/validation``: every epoch, the scalars
    ``epoch_<name>`` for each value in the epoch logs (``epoch_loss``, ``epoch_accuracy``, ...;
    the ``val_`` prefix is dropped in the validation run) and ``epoch_learning_rate`` (from the
    logs, else from ``model.optimizer.learning_rate``), at step = epoch index (from 0). The
    validation run also gets ``evaluation_<name>_vs_iterations`` at step = batches trained.

    - ``histogram_freq``: every that many epochs, a histogram of each weight
      (``<weight name>/histogram``, from ``model.weights``); 0 turns them off.
    - ``write_graph``: writes the model summary (``model.summary()``) as text at train begin;
      there is no TensorFlow graph to draw.
    - ``update_freq``: ``"epoch"``, or ``"batch"`` / an int ``n`` to also write ``batch_<name>``
      scalars every ``n`` training batches (step = batches trained so far).

    Files are flushed and closed at the end of training.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, update_freq="epoch", **kwargs):
        super().__init__()
        # Keras accepts (and we ignore) options for features with no equivalent here.
        unsupported = set(kwargs) - {"write_images", "write_steps_per_second", "profile_batch",
                                     "embeddings_freq", "embeddings_metadata"}
        if unsupported:
            raise TypeError(f"TensorBoard: unexpected keyword argument(s) {', '.join(sorted(unsupported))}")
        self._writer_class = _require_tensorboardx()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an int >= 0, got {histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an int >= 1, got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.update_freq = update_freq
        self._options = dict(kwargs)
        self._train_writer = None
        self._val_writer = None
        self._batches = 0

    # ----------------------------------------------------------------- writers
    def _writers(self):
        if self._train_writer is None:
            self._train_writer = self._writer_class(os.path.join(self.log_dir, "train"))
        if self._val_writer is None:
            self._val_writer = self._writer_class(os.path.join(self.log_dir, "validation"))
        return self._train_writer, self._val_writer

    def _close(self):
        for w in (self._train_writer, self._val_writer):
            if w is not None:
                w.flush()
                w.close()
        self._train_writer = self._val_writer = None

    # ----------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        self._close()
        self._batches = 0
        train, _ = self._writers()
        if self.write_graph:
            summary = self._model_summary()
            if summary:
                # Indented lines render as a code block in TensorBoard's text tab (keeps the table).
                train.add_text("model_summary", "\n".join("    " + line for line in summary.splitlines()), 0)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq == "epoch" or self._batches % self.update_freq:
            return
        train, _ = self._writers()
        for name, value in (logs or {}).items():
            v = _as_float(value)
            if v is not None and name not in ("batch", "size", "num_steps"):
                train.add_scalar("batch_" + name, v, self._batches)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train, val = self._writers()
        if "learning_rate" not in logs and "lr" not in logs:
            lr = current_learning_rate(self.model)
            if lr is not None:
                logs["learning_rate"] = lr
        for name, value in logs.items():
            v = _as_float(value)
            if v is None:
                continue
            if name.startswith("val_"):
                val.add_scalar("epoch_" + name[4:], v, epoch)
                val.add_scalar("evaluation_" + name[4:] + "_vs_iterations", v, self._batches)
            else:
                train.add_scalar("epoch_" + name, v, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(train, epoch)
        train.flush()
        val.flush()

    def on_train_end(self, logs=None):
        self._close()

    # ----------------------------------------------------------------- helpers
    def _model_summary(self) -> str | None:
        summary = getattr(self.model, "summary", None)
        if not callable(summary):
            return None
        lines: list[str] = []
        try:
            summary(print_fn=lambda text="", *args, **kwargs: lines.append(str(text)))
        except Exception:  # a model that cannot summarize itself yet must not stop training
            return None
        return "\n".join(lines) or None

    def _log_weights(self, writer, epoch):
        seen = set()
        for w in getattr(self.model, "weights", None) or []:
            value = getattr(w, "value", w)
            if callable(value):
                value = value()
            values = np.asarray(value, dtype=np.float64).ravel()
            values = values[np.isfinite(values)]
            name = str(getattr(w, "name", f"weight_{len(seen)}")).replace(":", "_")
            if values.size == 0 or name in seen:
                continue
            seen.add(name)
            writer.add_histogram(name + "/histogram", values, epoch)

    def get_config(self) -> dict:
        return {"log_dir": self.log_dir, "histogram_freq": self.histogram_freq, "write_graph": self.write_graph,
                "update_freq": self.update_freq, **self._options}

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass
