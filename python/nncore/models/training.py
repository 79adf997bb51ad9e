"""compile / fit / evaluate / predict and the *_on_batch calls of Model (Keras semantics).

One training step: zero the gradient buffer, forward through the layer graph, loss and its
gradient (fused with a softmax/sigmoid output where the loss allows it), backward through the
graph, one optimizer call over the flat weight buffer, metric updates.
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
from collections.abc import Mapping

import numpy as np

from .. import random as nn_random
from ..callbacks.base import Callback, CallbackList
from ..callbacks.history import History
from ..callbacks.progbar import Progbar, ProgbarLogger
from ..errors import ShapeError
from ..layers import _workspace
from ..variables import Variable


class _Mean:
    """Running mean weighted by batch size (Keras' loss tracker)."""

    __slots__ = ("total", "count")

    def __init__(self):
        self.total = 0.0
        self.count = 0

    def update(self, value: float, n: int) -> None:
        self.total += value * n
        self.count += n

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0


def _fields(obj) -> dict:
    """An object's attributes, whether it keeps them in ``__dict__`` or in ``__slots__``."""
    if hasattr(obj, "__dict__"):
        return dict(obj.__dict__)
    return {k: getattr(obj, k) for k in obj.__slots__}


class _Head:
    """One model output with its loss, loss weight, metrics and fusion state."""

    def __init__(self, name, loss, weight, metrics, layer, output_id, graph):
        self.name = name
        self.output_id = output_id
        self.loss = loss
        self.weight = float(weight)
        self.metrics = metrics
        self.layer = layer
        act = getattr(layer, "activation", None)
        fused = getattr(loss, "fused_activation", None)
        self.fused = (
            fused is not None
            and not getattr(loss, "from_logits", False)
            and hasattr(layer, "forward_logits")
            # Fused only where nothing else reads the output: other layers must see the
            # activation's result in training as at inference.
            and graph.consumers(output_id) == 0
            and sum(s.layer is layer for s in graph.steps) == 1
            and act is not None
            and getattr(act, "name", None) == fused
            and not getattr(act, "params", {})
        )
        self.tracker = _Mean()

    def loss_and_grad(self, y, out, sample_weight=None):
        if self.fused:
            loss, grad, y_pred = self.loss.forward_backward_from_logits(
                y, out, sample_weight=sample_weight)
        else:
            loss, grad = self.loss.forward_backward(y, out, sample_weight=sample_weight)
            y_pred = out
        if self.weight != 1.0:
            loss = loss * self.weight
            grad = grad * self.weight
        return float(loss), grad, y_pred


class _Logs(Mapping):
    """Batch logs computed only when a callback reads them (most batches nobody does)."""

    __slots__ = ("_model", "_data")

    def __init__(self, model):
        self._model = model
        self._data = None

    def _get(self):
        if self._data is None:
            self._data = self._model._current_logs()
        return self._data

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


def _as_inputs(model, x, what="x"):
    n_in = len(model.inputs)
    if isinstance(x, dict):
        try:
            x = [x[t.node.layer.name] for t in model.inputs]
        except KeyError as exc:
            raise ValueError(f"{what}: no array for input '{exc.args[0]}'") from None
    if n_in > 1:
        if not isinstance(x, (list, tuple)) or len(x) != n_in:
            raise ValueError(f"model '{model.name}' has {n_in} inputs: pass {what} as a list of {n_in} arrays")
        xs = list(x)
    else:
        xs = [x[0] if isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape") else x]
    out = []
    for arr, t in zip(xs, model.inputs):
        a = np.asarray(arr)
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{what} must hold numbers, got dtype {a.dtype}")
        expected = t.shape
        if a.ndim != len(expected) or any(e is not None and g != e for g, e in zip(a.shape[1:], expected[1:])):
            model._explain_input_mismatch(a.shape, t)
        out.append(a)
    n = out[0].shape[0]
    for a in out[1:]:
        if a.shape[0] != n:
            raise ValueError(f"all inputs of {what} need the same number of samples, got "
                             f"{[b.shape[0] for b in out]}")
    return out


def _as_targets(model, y, n, what="y"):
    n_out = len(model.outputs)
    if y is None:
        raise ValueError(f"{what} is required for training and evaluation")
    if isinstance(y, dict):
        y = [y[t.node.layer.name] for t in model.outputs]
    ys = list(y) if n_out > 1 else [y]
    if len(ys) != n_out:
        raise ValueError(f"model '{model.name}' has {n_out} outputs: pass {what} as a list of {n_out} arrays")
    out = []
    for arr in ys:
        a = np.asarray(arr)
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{what} must hold numbers, got dtype {a.dtype}")
        if a.ndim == 0 or a.shape[0] != n:
            raise ValueError(f"x has {n} samples but {what} has {a.shape[0] if a.ndim else 0} "
                             f"(shape {a.shape})")
        out.append(a)
    return out


def _sample_weights(model, ys, n, sample_weight, class_weight, what="fit"):
    """Per-sample loss weights of shape ``(n,)`` from ``sample_weight`` and/or ``class_weight``
    (``{class index: weight}``, classes read from integer labels or one-hot rows), or None."""
    if sample_weight is None and class_weight is None:
        return None
    w = np.ones(n, dtype=np.float64)
    if sample_weight is not None:
        sw = np.asarray(sample_weight)
        if sw.dtype.kind not in "fiub":
            raise TypeError(f"{what}: sample_weight must hold numbers, got dtype {sw.dtype}")
        sw = sw.reshape(sw.shape[0], -1)[:, 0] if sw.ndim == 2 and sw.shape[1] == 1 else sw
        if sw.shape != (n,):
            raise ValueError(f"{what}: sample_weight must have shape ({n},) (one weight per "
                             f"sample), got {sw.shape}")
        if not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(f"{what}: sample_weight must be finite and >= 0")
        w *= sw
    if class_weight is not None:
        if len(ys) != 1:
            raise ValueError(f"{what}: class_weight needs a model with a single output")
        if not isinstance(class_weight, Mapping):
            raise TypeError(f"{what}: class_weight must be a dict {{class index: weight}}, got "
                            f"{type(class_weight).__name__}")
        y = np.asarray(ys[0])
        if y.ndim >= 2 and y.shape[-1] > 1:
            labels = y.reshape(n, -1, y.shape[-1]).argmax(axis=-1)[:, 0]
        else:
            labels = y.reshape(n, -1)[:, 0]
            if not np.array_equal(labels, np.round(labels)):
                raise ValueError(f"{what}: class_weight needs integer labels or one-hot targets")
            labels = labels.astype(np.int64)
        table = {int(k): float(v) for k, v in class_weight.items()}
        missing = sorted(set(np.unique(labels).tolist()) - set(table))
        if missing:
            raise ValueError(f"{what}: class_weight has no weight for classes {missing[:10]}")
        w *= np.array([table[int(c)] for c in labels], dtype=np.float64)
    return w


def _batch(arr, index, dtype=None):
    b = arr[index]
    if dtype is not None and b.dtype != dtype:
        b = b.astype(dtype)
    return b


def _gather(arr, index, dtype, buffers: dict, key):
    """``_batch`` for a training step: rows picked by a shuffled index are gathered into an array
    kept for the next step (batches are consumed within their step)."""
    if isinstance(index, np.ndarray) and (dtype is None or arr.dtype == dtype):
        shape = (len(index),) + arr.shape[1:]
        buf = buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != arr.dtype:
            buf = buffers[key] = np.empty(shape, arr.dtype)
        # mode="clip" writes straight into buf ("raise" buffers); the indices are in range.
        return arr.take(index, 0, buf, "clip")
    return _batch(arr, index, dtype)


class TrainingMixin:
    """The Keras training API over ``self._graph`` (see the module docstring)."""

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._heads: list[_Head] = []
        self._loss_tracker = _Mean()
        self._flat: Variable | None = None
        self._opt_vars: list[Variable] = []
        self._packed_views: list | None = None
        self._shuffle_rng = None
        self._fit_callbacks = None
        self._pending_callback_states = None
        self._logits = frozenset()

    # ----------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                run_eagerly=None, steps_per_execution=1, jit_compile=None, auto_scale_loss=None):
        """Sets the optimizer, the loss and the metrics (objects or Keras names).

        ``run_eagerly``, ``jit_compile`` and ``auto_scale_loss`` are accepted for Keras
        compatibility and have no effect (nncore always runs its kernels directly).
        """
        from .. import losses as losses_mod
        from .. import metrics as metrics_mod
        from .. import optimizers as optimizers_mod

        if loss is None:
            raise ValueError("compile: loss is required (e.g. loss='categorical_crossentropy')")
        if steps_per_execution != 1:
            raise ValueError("compile: steps_per_execution other than 1 is not supported")
        self.optimizer = optimizers_mod.get(optimizer)
        names = [t.node.layer.name for t in self.outputs]
        n_out = len(names)

        def per_output(value, what, default):
            if isinstance(value, dict):
                unknown = set(value) - set(names)
                if unknown:
                    raise ValueError(f"compile: {what} names unknown outputs {sorted(unknown)}; outputs: {names}")
                return [value.get(n, default) for n in names]
            if isinstance(value, (list, tuple)) and n_out > 1 and what != "metrics":
                if len(value) != n_out:
                    raise ValueError(f"compile: {len(value)} {what} given for {n_out} outputs")
                return list(value)
            if what == "metrics" and n_out > 1 and isinstance(value, (list, tuple)) and value and \
                    all(isinstance(v, (list, tuple)) for v in value):
                return list(value)
            return [value] * n_out

        loss_list = per_output(loss, "loss", None)
        weight_list = per_output(loss_weights if loss_weights is not None else 1.0, "loss_weights", 1.0)
        metric_list = per_output(metrics or [], "metrics", [])
        self._heads = []
        for k, name in enumerate(names):
            loss_obj = losses_mod.get(loss_list[k])
            if loss_obj is None:
                raise ValueError(f"compile: no loss for output '{name}'")
            ms = metric_list[k]
            ms = ms if isinstance(ms, (list, tuple)) else [ms]
            metric_objs = [metrics_mod.get(m, loss=loss_obj) for m in ms]
            if n_out > 1:
                for m in metric_objs:
                    m.name = f"{name}_{m.name}"
            layer = self._output_layer(k)
            self._heads.append(_Head(name, loss_obj, weight_list[k], metric_objs, layer,
                                     self._graph.output_ids[k], self._graph))
        self.loss = self._heads[0].loss if n_out == 1 else [h.loss for h in self._heads]
        # The arguments as given, for model.save (names stay names, objects keep their config).
        self._compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                                "loss_weights": loss_weights}
        self.compiled = True
        self._pack_weights()
        if self._shuffle_rng is None:
            self._shuffle_rng = nn_random.make_generator(None)

    def _output_layer(self, k):
        out_id = self._graph.output_ids[k]
        for s in self._graph.steps:
            if s.output == out_id:
                return s.layer
        return None

    @property
    def metrics_names(self) -> list[str]:
        names = ["loss"]
        if len(self._heads) > 1:
            names += [f"{h.name}_loss" for h in self._heads]
        return names + [m.name for h in self._heads for m in h.metrics]

    @property
    def metrics(self):
        return [m for h in self._heads for m in h.metrics]

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"you must compile the model before calling {what}(): "
                               "model.compile(optimizer=..., loss=..., metrics=[...])")

    # ----------------------------------------------------------------- weight buffer
    def _pack_weights(self):
        """Moves all trainable weights (and their gradients) into one contiguous buffer each, so
        that zeroing the gradients and the optimizer step are single calls."""
        vars_ = self.trainable_weights
        self._regularized = [v for v in vars_ if v.regularizer is not None]
        self._constrained = [v for v in vars_ if v.constraint is not None]
        if not vars_:
            self._flat, self._opt_vars, self._packed_views = None, [], []
            return
        dtypes = {v.dtype for v in vars_}
        if len(dtypes) > 1:
            self._flat, self._opt_vars = None, list(vars_)
            self._packed_views = [(v, v.value) for v in vars_]
            return
        dtype = dtypes.pop()
        total = sum(v.size for v in vars_)
        params = np.empty(total, dtype)
        grads = np.zeros(total, dtype)
        offset = 0
        for v in vars_:
            n = v.size
            v._reseat(params[offset:offset + n].reshape(v.shape), grads[offset:offset + n].reshape(v.shape))
            offset += n
        self._flat = Variable.wrap(params, grads, name=f"{self.name}/weights")
        self._opt_vars = [self._flat]
        if self.optimizer is not None and hasattr(self.optimizer, "set_variable_segments"):
            # clipnorm clips each weight's gradient on its own, as in Keras.
            self.optimizer.set_variable_segments(self._flat, [v.size for v in vars_])
        self._packed_views = [(v, v.value) for v in vars_]

    def _ensure_packed(self):
        """Repacks when a weight was moved since (e.g. a layer shared with another model that was
        compiled later), so that the optimizer always updates the arrays the layers use."""
        views = self._packed_views
        if views is None or len(views) != len(self.trainable_weights) or any(
                v.value is not view for v, view in views):
            self._pack_weights()

    def _zero_grads(self):
        if self._flat is not None:
            self._flat.grad.fill(0)
        else:
            for v in self._opt_vars:
                v.zero_grad()

    # ----------------------------------------------------------------- steps
    @contextlib.contextmanager
    def _fusion(self, on: bool):
        """Output activations folded into the loss (``on``) or applied (off) inside the block.
        The previous state comes back afterwards, so evaluate() or predict() called from a
        callback in the middle of fit() leaves fit's fused step as it was."""
        before = self._logits
        self._logits = frozenset(h.output_id for h in self._heads if h.fused) if on else frozenset()
        try:
            yield
        finally:
            self._logits = before

    def _loss_step(self, outs, ys, training, sample_weight=None):
        total = 0.0
        grads = []
        n = ys[0].shape[0]
        for h, out, y in zip(self._heads, outs, ys):
            loss, grad, y_pred = h.loss_and_grad(y, out, sample_weight)
            h.tracker.update(loss, n)
            total += loss
            grads.append(grad)
            for m in h.metrics:
                m.update_state(y, y_pred)
        if self._regularized:
            reg = 0.0
            for v in self._regularized:
                reg += float(v.regularizer(v.value))
                if training:
                    v.grad += v.regularizer.gradient(v.value)
            total += reg
        self._loss_tracker.update(total, n)
        return total, grads

    def _train_step(self, xs, ys, sample_weight=None):
        self._zero_grads()
        with _workspace.training_step():
            outs = self._graph.forward(xs, True, self._logits)
            total, grads = self._loss_step(outs, ys, training=True, sample_weight=sample_weight)
            self._graph.backward(grads)
        self.optimizer.apply(self._opt_vars)
        for v in self._constrained:
            v.assign(v.constraint(v.value))
        return total

    def _test_step(self, xs, ys, sample_weight=None):
        outs = self._graph.forward(xs, False, self._logits)
        return self._loss_step(outs, ys, training=False, sample_weight=sample_weight)[0]

    def _reset_metrics(self):
        self._loss_tracker.reset()
        for h in self._heads:
            h.tracker.reset()
            for m in h.metrics:
                m.reset_state()

    def _current_logs(self) -> dict:
        logs = {"loss": self._loss_tracker.result()}
        if len(self._heads) > 1:
            for h in self._heads:
                logs[f"{h.name}_loss"] = h.tracker.result()
        for h in self._heads:
            for m in h.metrics:
                logs[m.name] = float(m.result())
        return logs

    def reset_metrics(self):
        self._reset_metrics()

    @contextlib.contextmanager
    def _metrics_kept(self):
        """Inside fit (a callback calling evaluate), the epoch's running loss and metrics come
        back after the block, so the epoch's logs still describe training batches only."""
        if self._fit_callbacks is None:
            yield
            return
        objs = [self._loss_tracker] + [o for h in self._heads for o in (h.tracker, *h.metrics)]
        saved = [copy.deepcopy(_fields(o)) for o in objs]
        try:
            yield
        finally:
            for o, fields in zip(objs, saved):
                for k, v in fields.items():
                    setattr(o, k, v)

    # ----------------------------------------------------------------- fit
    def _restore_callback_states(self, callbacks):
        """Gives callbacks the states saved with this model by a checkpoint (``load_model``):
        each saved state goes to the first not yet served callback of the same class."""
        pending = getattr(self, "_pending_callback_states", None)
        if not pending:
            return
        self._pending_callback_states = None
        free = list(callbacks)
        for name, state in pending:
            for cb in free:
                if type(cb).__name__ == name and hasattr(cb, "set_state"):
                    cb.set_state(state)
                    free.remove(cb)
                    break

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs - initial_epoch`` epochs; returns a ``History`` (Keras semantics).

        ``validation_split`` takes the last fraction of the samples (before shuffling), as Keras.
        Batches are drawn by shuffled index each epoch; inputs are cast to the model's dtype one
        batch at a time, so uint8 or float64 datasets are never copied whole.
        """
        self._require_compiled("fit")
        if steps_per_epoch is not None or validation_steps is not None:
            raise ValueError("fit: steps_per_epoch/validation_steps apply to data generators, "
                             "which nncore.fit does not take; pass arrays")
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"fit: batch_size must be >= 1, got {batch_size}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        epochs, initial_epoch = int(epochs), int(initial_epoch)
        verbose = 1 if verbose == "auto" else int(verbose)

        xs = _as_inputs(self, x)
        n = xs[0].shape[0]
        ys = _as_targets(self, y, n)
        weights = _sample_weights(self, ys, n, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val) or "
                                 "(x_val, y_val, val_sample_weight)")
            vx = _as_inputs(self, validation_data[0], "validation x")
            vy = _as_targets(self, validation_data[1], vx[0].shape[0], "validation y")
            vw = None
            if len(validation_data) == 3:
                vw = _sample_weights(self, vy, vx[0].shape[0], validation_data[2], None,
                                     "fit (validation_data)")
            val = (vx, vy, vw)
        elif validation_split > 0:
            n_val = int(math.floor(n * validation_split))
            if n_val == 0 or n_val == n:
                raise ValueError(f"fit: validation_split={validation_split} of {n} samples leaves "
                                 "an empty training or validation set")
            val = ([a[n - n_val:] for a in xs], [a[n - n_val:] for a in ys],
                   None if weights is None else weights[n - n_val:])
            xs = [a[:n - n_val] for a in xs]
            ys = [a[:n - n_val] for a in ys]
            weights = None if weights is None else weights[:n - n_val]
            n -= n_val
        if n == 0:
            raise ValueError("fit: no training samples")

        steps = -(-n // batch_size)
        history = History()
        cbs = [history]
        if verbose:
            cbs.append(ProgbarLogger(verbose=verbose))
        cb_list = CallbackList(list(callbacks or []) + cbs, model=self,
                               params={"epochs": epochs, "steps": steps, "verbose": verbose,
                                       "batch_size": batch_size, "samples": n})
        self.history = history
        self.stop_training = False
        self._fit_callbacks = list(callbacks or [])
        self._restore_callback_states(self._fit_callbacks)
        self._ensure_packed()
        self.set_needs_input_grad(False)
        batch_hooks = cb_list.has_batch_hooks()
        dtype = self.dtype
        batch_buffers: dict = {}
        with self._fusion(True):
            try:
                cb_list.on_train_begin()
                logs = {}
                for epoch in range(initial_epoch, epochs):
                    self._reset_metrics()
                    cb_list.on_epoch_begin(epoch)
                    order = self._shuffle_rng.permutation(n) if shuffle else None
                    for b in range(steps):
                        lo, hi = b * batch_size, min(n, (b + 1) * batch_size)
                        index = order[lo:hi] if order is not None else slice(lo, hi)
                        if batch_hooks:
                            cb_list.on_train_batch_begin(b)
                        xb = [_gather(a, index, dtype, batch_buffers, ("x", k))
                              for k, a in enumerate(xs)]
                        yb = [_gather(a, index, None, batch_buffers, ("y", k))
                              for k, a in enumerate(ys)]
                        wb = None if weights is None else weights[index]
                        self._train_step(xb, yb, wb)
                        if batch_hooks:
                            cb_list.on_train_batch_end(b, _Logs(self))
                        if self.stop_training:
                            break
                    logs = self._current_logs()
                    if val is not None and (epoch + 1) % int(validation_freq) == 0:
                        val_logs = self._evaluate_arrays(val[0], val[1],
                                                         validation_batch_size or batch_size,
                                                         weights=val[2])
                        logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    cb_list.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
                cb_list.on_train_end(logs)
            finally:
                self._fit_callbacks = None
        return history

    # ----------------------------------------------------------------- evaluate / predict
    def _evaluate_arrays(self, xs, ys, batch_size, progbar=None, weights=None):
        self._reset_metrics()
        n = xs[0].shape[0]
        dtype = self.dtype
        steps = -(-n // batch_size)
        for b in range(steps):
            sl = slice(b * batch_size, min(n, (b + 1) * batch_size))
            self._test_step([_batch(a, sl, dtype) for a in xs], [a[sl] for a in ys],
                            None if weights is None else weights[sl])
            if progbar is not None:
                progbar.update(b + 1, self._current_logs())
        return self._current_logs()

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over (x, y): a scalar without metrics, else ``[loss, *metrics]``
        (or a dict with ``return_dict=True``)."""
        self._require_compiled("evaluate")
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"evaluate: batch_size must be >= 1, got {batch_size}")
        verbose = 1 if verbose == "auto" else int(verbose)
        xs = _as_inputs(self, x)
        ys = _as_targets(self, y, xs[0].shape[0])
        weights = _sample_weights(self, ys, xs[0].shape[0], sample_weight, None, "evaluate")
        self._ensure_packed()
        bar = Progbar(-(-xs[0].shape[0] // batch_size), verbose=verbose) if verbose else None
        with self._fusion(True), self._metrics_kept():
            logs = self._evaluate_arrays(xs, ys, batch_size, bar, weights)
        if bar is not None:
            bar.update(bar.target, logs, finalize=True)
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x in batches (inference mode: dropout off, batch norm uses moving stats)."""
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"predict: batch_size must be >= 1, got {batch_size}")
        verbose = 1 if verbose == "auto" else int(verbose)
        xs = _as_inputs(self, x)
        n = xs[0].shape[0]
        dtype = self.dtype
        results = None
        steps_n = -(-n // batch_size)
        bar = Progbar(steps_n, verbose=verbose) if verbose and n else None
        with self._fusion(False):
            for b in range(steps_n):
                sl = slice(b * batch_size, min(n, (b + 1) * batch_size))
                outs = self._graph.forward([_batch(a, sl, dtype) for a in xs], False)
                if results is None:
                    results = [np.empty((n, *o.shape[1:]), o.dtype) for o in outs]
                for r, o in zip(results, outs):
                    r[sl] = o
                if bar is not None:
                    bar.update(b + 1)
        if bar is not None:
            bar.update(steps_n, finalize=True)
        if results is None:
            results = [np.empty((0, *(d or 0 for d in t.shape[1:])), dtype) for t in self.outputs]
        return results if self._nested_outputs else results[0]

    # ----------------------------------------------------------------- single batches
    def _batch_logs(self, return_dict):
        logs = self._current_logs()
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns its loss (and metrics) like Keras."""
        self._require_compiled("train_on_batch")
        xs = _as_inputs(self, x)
        ys = _as_targets(self, y, xs[0].shape[0])
        weights = _sample_weights(self, ys, xs[0].shape[0], sample_weight, class_weight,
                                  "train_on_batch")
        self._ensure_packed()
        self.set_needs_input_grad(False)
        self._reset_metrics()
        with self._fusion(True):
            self._train_step([_batch(a, slice(None), self.dtype) for a in xs], ys, weights)
        return self._batch_logs(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        xs = _as_inputs(self, x)
        ys = _as_targets(self, y, xs[0].shape[0])
        weights = _sample_weights(self, ys, xs[0].shape[0], sample_weight, None, "test_on_batch")
        with self._fusion(True), self._metrics_kept():
            self._reset_metrics()
            self._test_step([_batch(a, slice(None), self.dtype) for a in xs], ys, weights)
            return self._batch_logs(return_dict)

    def predict_on_batch(self, x):
        xs = _as_inputs(self, x)
        with self._fusion(False):
            outs = self._graph.forward([_batch(a, slice(None), self.dtype) for a in xs], False)
        return outs if self._nested_outputs else outs[0]

    # ----------------------------------------------------------------- errors
    def _explain_input_mismatch(self, shape, tensor):
        """Raises the most helpful ShapeError for data of ``shape`` fed to input ``tensor``: the
        first layer that cannot take it, found by running shape inference with it."""
        got = (None, *shape[1:])
        if len(shape) == len(tensor.shape):
            g = self._graph
            known = {g.tensor_ids[id(tensor)]: got}
            for s in g.steps:
                if not all(i in known for i in s.inputs):
                    continue
                arg = [known[i] for i in s.inputs] if s.multi else known[s.inputs[0]]
                try:
                    known[s.output] = s.layer.compute_output_shape(arg)
                except ShapeError:
                    raise
                except Exception:
                    break
        raise ShapeError(
            f"model '{self.name}' expects input '{tensor.node.layer.name}' of shape "
            f"{tensor.shape}, got data of shape {tuple(shape)}"
        )
