"""TensorBoard: writes Keras-style event files (scalars, weight histograms, model summary) that
TensorBoard itself reads (``tensorboard --logdir logs``). Needs tensorboardX (extra
``tensorboard``)."""

from __future__ import annotations

import itertools
import os
import time

import numpy as np

from ..serialization import register
from .base import Callback

__all__ = ["TensorBoard"]

# Event file names hold the time in seconds: two writers opened on one run within a second
# (a second fit, an evaluate) would otherwise share, and clobber, one file.
_WRITER_IDS = itertools.count()


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
    """Logs training to TensorBoard the way Keras 3's callback does.

    Writes two runs, ``<log_dir>/train`` and ``<log_dir>/validation`` (each created when it
    first has something to hold): every epoch, the scalars ``epoch_<name>`` for each value in
    the epoch logs (``epoch_loss``, ``epoch_accuracy``, ...; the ``val_`` prefix is dropped in
    the validation run) and ``epoch_learning_rate`` (from the logs, else from
    ``model.optimizer.learning_rate``), at step = epoch index (from 0). Each evaluation (fit's
    validation pass or ``evaluate(callbacks=[tb])``) ends with ``evaluation_<name>_vs_iterations``
    in the validation run at step = ``model.optimizer.iterations``.

    - ``histogram_freq``: every that many epochs, a histogram of each weight
      (``<weight name>/histogram``, from ``model.weights``); 0 turns them off.
    - ``write_images``: with the histograms, each weight as an image (``<weight name>/image``:
      a bias as a column, a kernel as a matrix, a 3-D weight as one image per channel).
    - ``write_steps_per_second``: also ``epoch_steps_per_second`` and ``batch_steps_per_second``.
    - ``write_graph``: writes the model summary (``model.summary()``) as text at train begin;
      there is no TensorFlow graph to draw.
    - ``update_freq``: ``"epoch"``, or ``"batch"`` / an int ``n`` to also write ``batch_<name>``
      scalars every ``n`` training batches (step = batches trained so far in this fit).
    - ``profile_batch`` must be 0 (there is no profiler, as for Keras' torch backend);
      ``embeddings_freq`` / ``embeddings_metadata`` are accepted and ignored.

    Files are flushed and closed at the end of training (and of a standalone evaluate).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._writer_class = _require_tensorboardx()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an int >= 0, got {histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an int >= 1, got {update_freq!r}")
        if profile_batch not in (0, None, "0"):
            raise ValueError("TensorBoard: profiling is not available in nncore. Received: "
                             f"profile_batch={profile_batch!r} (must be 0)")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._batches = 0
        self._in_fit = False
        self._batch_start = 0.0
        self._epoch_start = 0.0
        self._epoch_iterations = 0

    # ----------------------------------------------------------------- writers
    def _writer(self, run):
        if run not in self._writers:
            suffix = f".{os.getpid()}.{next(_WRITER_IDS)}.v2"
            self._writers[run] = self._writer_class(os.path.join(self.log_dir, run),
                                                    filename_suffix=suffix)
        return self._writers[run]

    def _close(self):
        for w in self._writers.values():
            w.flush()
            w.close()
        self._writers = {}

    # ----------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        self._close()
        self._batches = 0
        self._in_fit = True
        if self.write_graph:
            summary = self._model_summary()
            if summary:
                # Indented lines render as a code block in TensorBoard's text tab (keeps the table).
                self._writer("train").add_text(
                    "model_summary", "\n".join("    " + line for line in summary.splitlines()), 0)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = time.perf_counter()
            self._epoch_iterations = self._iterations() or 0

    def on_train_batch_begin(self, batch, logs=None):
        self._batches += 1
        if self.write_steps_per_second:
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start
            if elapsed > 0:
                self._writer("train").add_scalar("batch_steps_per_second", 1.0 / elapsed,
                                                 self._batches)
        if self.update_freq == "epoch" or self._batches % self.update_freq:
            return
        train = self._writer("train")
        for name, value in (logs or {}).items():
            v = _as_float(value)
            if v is not None:
                train.add_scalar("batch_" + name, v, self._batches)

    def on_test_end(self, logs=None):
        step = self._iterations()
        if step is not None:
            val = self._writer("validation")
            for name, value in (logs or {}).items():
                v = _as_float(value)
                if v is not None:
                    val.add_scalar(f"evaluation_{name}_vs_iterations", v, step)
            val.flush()
        if not self._in_fit:
            self._close()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if "learning_rate" not in train_logs and "lr" not in train_logs:
            lr = current_learning_rate(self.model)
            if lr is not None:
                train_logs["learning_rate"] = lr
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            steps = (self._iterations() or 0) - self._epoch_iterations
            if elapsed > 0:
                train_logs["steps_per_second"] = steps / elapsed
        for run, values in (("train", train_logs), ("validation", val_logs)):
            numbers = {k: _as_float(v) for k, v in values.items()}
            numbers = {k: v for k, v in numbers.items() if v is not None}
            if numbers:
                writer = self._writer(run)
                for name, v in numbers.items():
                    writer.add_scalar("epoch_" + name, v, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close()

    # ----------------------------------------------------------------- helpers
    def _iterations(self):
        """The optimizer's step count (Keras' x axis for evaluations), or None without one."""
        step = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if step is None:
            return None
        return int(_as_float(getattr(step, "value", step)) or 0)

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

    def _log_weights(self, epoch):
        seen = set()
        for w in getattr(self.model, "weights", None) or []:
            value = getattr(w, "value", w)
            if callable(value):
                value = value()
            array = np.asarray(value, dtype=np.float64)
            values = array.ravel()
            values = values[np.isfinite(values)]
            name = str(getattr(w, "name", f"weight_{len(seen)}")).replace(":", "_")
            if values.size == 0 or name in seen:
                continue
            seen.add(name)
            writer = self._writer("train")
            writer.add_histogram(name + "/histogram", values, epoch)
            if self.write_images:
                image = _weight_image(array)
                if image is not None:
                    writer.add_images(name + "/image", image, epoch, dataformats="NHWC")
        if "train" in self._writers:
            self._writers["train"].flush()

    def get_config(self) -> dict:
        return {"log_dir": self.log_dir, "histogram_freq": self.histogram_freq,
                "write_graph": self.write_graph, "write_images": self.write_images,
                "write_steps_per_second": self.write_steps_per_second,
                "update_freq": self.update_freq, "profile_batch": self.profile_batch,
                "embeddings_freq": self.embeddings_freq,
                "embeddings_metadata": self.embeddings_metadata}

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass


def _weight_image(w: np.ndarray):
    """A weight as a batch of NHWC images, the layout Keras writes: a bias as one column, a
    kernel as one matrix (wider than tall), a 3-D weight as one image per last-axis channel;
    None when the shape has no such picture."""
    w = np.squeeze(w)
    if w.ndim == 1:
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:
        w = np.transpose(w, (2, 0, 1))[..., None]
    if w.ndim == 4 and w.shape[-1] in (1, 3, 4):
        return w
    return None
