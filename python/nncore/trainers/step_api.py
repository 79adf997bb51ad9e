"""The overridable steps of Keras 3's trainer: ``train_step(data)``, ``test_step(data)`` and
``compute_loss``, so that a subclass can write its own training logic with a ``GradientTape``.

When a model overrides neither step, ``fit`` and ``evaluate`` run the trainer's fused step
(kernels and hand-written gradients, no recording); the defaults below run that same step, so
``super().train_step(data)`` works in an override.
"""

from __future__ import annotations

import numpy as np

from .data_adapters.data_utils import unpack_x_y_sample_weight


def flatten_logs(logs) -> dict:
    """A step's returned logs as ``{name: float}`` (nested dicts merged, Tensors read)."""
    out = {}
    for key, value in (logs or {}).items():
        if isinstance(value, dict):
            out.update(flatten_logs(value))
            continue
        arr = np.asarray(getattr(value, "value", value))
        out[key] = float(arr) if arr.size == 1 else arr
    return out


class StepAPI:
    """Mixin of ``Trainer``: the Keras step methods and what they need."""

    # ----------------------------------------------------------------- dispatch
    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(StepAPI, name)

    def _keras_data(self, xs, ys, sample_weight):
        """A batch in the structure Keras hands to ``train_step``: ``(x, y[, sample_weight])``."""
        if getattr(self, "_input_keys", None) is not None:
            x = dict(zip(self._input_keys, xs))
        else:
            x = xs[0] if len(xs) == 1 else list(xs)
        if ys is None:
            return (x,)
        y = ys[0] if len(ys) == 1 else list(ys)
        return (x, y) if sample_weight is None else (x, y, sample_weight)

    def _run_train_step(self, xs, ys, sample_weight):
        if self._custom_train:
            data = self._keras_data(xs, ys, sample_weight)
            dp = getattr(self, "_dp", None)
            logs = self.train_step(data) if dp is None else dp.custom_step(self.train_step, data)
            self._custom_logs = flatten_logs(logs)
        else:
            self._train_step(xs, ys, sample_weight)

    def _run_test_step(self, xs, ys, sample_weight):
        if self._custom_test:
            self._custom_logs = flatten_logs(self.test_step(self._keras_data(xs, ys, sample_weight)))
        else:
            self._test_step(xs, ys, sample_weight)

    # ----------------------------------------------------------------- Keras' step methods
    def _unpack_batch(self, data, training=True):
        from .model_io import ModelIO

        x, y, sw = unpack_x_y_sample_weight(data)
        io = ModelIO(self)
        xs = [a if a.dtype == self.dtype else a.astype(self.dtype) for a in io.inputs(x)]
        ys = io.targets(y, xs[0].shape[0]) if y is not None else None
        return xs, ys, sw

    def train_step(self, data):
        """One training step on ``data`` = ``(x, y[, sample_weight])``; returns the logs.
        Override it to write a custom step (``GradientTape``, ``compute_loss``,
        ``optimizer.apply``) that ``fit`` then runs, as in Keras 3."""
        xs, ys, sw = self._unpack_batch(data)
        self._train_step(xs, ys, sw)
        return self._builtin_logs()

    def test_step(self, data):
        """One evaluation step on ``data``; returns the logs (override as ``train_step``)."""
        xs, ys, sw = self._unpack_batch(data)
        self._test_step(xs, ys, sw)
        return self._builtin_logs()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled losses of ``y_pred`` (weighted per output), the weight penalties and the
        ``add_loss`` terms of the last call, as one scalar; differentiable when ``y_pred`` is
        recorded (inside a ``GradientTape``)."""
        from .. import ops
        from ..autodiff.tape import record, state

        del x, training
        total = 0.0
        heads = [h for h in self._heads if h.losses]
        if heads:
            preds = self._per_output(y_pred, "y_pred")
            targets = self._per_output(y, "y")
            for h in heads:
                for loss in h.losses:
                    term = loss(targets[h.index], preds[h.index], sample_weight)
                    total = ops.add(total, term if h.weight == 1.0 else ops.multiply(term, h.weight))
        for v in self.trainable_weights:
            if v.regularizer is not None:
                reg, value = v.regularizer, v.value
                penalty = np.asarray(reg(value), value.dtype)
                if state.recording:
                    penalty = record(penalty, (v._leaf(),),
                                     lambda g, need, reg=reg, value=value: (g * reg.gradient(value),))
                total = ops.add(total, penalty)
        for term in self._call_losses():
            total = ops.add(total, term)
        return total

    def _per_output(self, value, what):
        n = len(self.outputs) if self.outputs else 1
        if isinstance(value, dict):
            return [value[k] for k in self.output_names]
        if n == 1:
            return [value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value]
        if not isinstance(value, (list, tuple)) or len(value) != n:
            raise ValueError(f"compute_loss: {what} must hold one value per output ({n})")
        return list(value)
