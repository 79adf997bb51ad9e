"""The Keras-style progress display of fit / evaluate / predict.

On a terminal (verbose=1) one line per epoch is redrawn in place::

    Epoch 1/10
    1563/1563 [==============================] - 3s 2ms/step - loss: 1.4928 - accuracy: 0.4764 - val_loss: 1.2773 - val_accuracy: 0.5503

When output is not a terminal, or with verbose=2, only the finished line of each epoch is
printed, so logs stay readable.
"""

from __future__ import annotations

import sys
import time

from ..serialization import register
from .base import Callback


def _format_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s"


def _format_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _format_value(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.4e}"
    return f"{v:.4f}"


class Progbar:
    """A progress line for ``target`` steps; ``update(step, values)`` redraws it when due."""

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 unit: str = "step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit = unit
        self.stream = stream if stream is not None else sys.stdout
        self.dynamic = verbose == 1 and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_len = 0

    def _bar(self, current: int) -> str:
        if not self.target:
            return f"{current}"
        digits = len(str(self.target))
        done = int(self.width * current / self.target)
        bar = "=" * done
        if current < self.target:
            bar = (bar[:-1] if bar else "") + ">"
        return f"{current:>{digits}}/{self.target} [{bar.ljust(self.width, '.')}]"

    def update(self, current: int, values=None, finalize: bool = False) -> None:
        now = time.perf_counter()
        if not finalize and (not self.dynamic or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self.start
        parts = [self._bar(current)]
        if finalize:
            per = elapsed / max(current, 1)
            parts.append(f"{_format_duration(elapsed)} {_format_per_step(per)}")
        elif self.target and current:
            eta = elapsed / current * (self.target - current)
            parts.append(f"ETA: {_format_duration(eta)}")
        for key, value in (values or {}).items():
            parts.append(f"{key}: {_format_value(value)}")
        line = " - ".join(parts)
        if self.dynamic:
            pad = max(self._last_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad + ("\n" if finalize else ""))
            self._last_len = len(line)
        elif finalize:
            self.stream.write(line + "\n")
        self.stream.flush()


@register("callback")
class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a progress line per epoch of ``fit``, and one line for
    ``evaluate`` and ``predict`` (added by them when verbose > 0). The validation pass inside
    ``fit`` draws no line of its own: its results end the epoch's line."""

    def __init__(self, verbose: int = 1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self._bar = None
        self._seen = 0
        self._in_fit = False

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _start(self):
        self._bar = Progbar(self.params.get("steps"), verbose=self.verbose, stream=self._out())
        self._seen = 0

    def _step(self, batch, logs):
        self._seen = batch + 1
        if self._bar is not None and self._bar.dynamic:
            self._bar.update(batch + 1, logs)

    def _finish(self, logs):
        if self._bar is not None:
            self._bar.update(self.params.get("steps") or self._seen, logs, finalize=True)
        self._bar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs")
        if epochs:
            self._out().write(f"Epoch {epoch + 1}/{epochs}\n")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._step(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._step(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)

    def get_config(self):
        return {"verbose": self.verbose}
