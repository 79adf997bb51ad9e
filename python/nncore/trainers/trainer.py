"""Trainer: compile / fit / evaluate / predict and the *_on_batch calls (Keras 3 semantics).

One training step: zero the gradient buffer, forward through the layer graph (fused outputs
stop at their logits), loss and its gradient, backward through the graph, one optimizer call
over the flat weight buffer (which also applies the weights' constraints), metric updates.
The data comes from a data adapter through an ``EpochIterator``, the same for the three loops.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Mapping

import numpy as np

from .. import random as nn_random
from ..callbacks.base import CallbackList
from ..callbacks.history import History
from ..callbacks.progbar import ProgbarLogger
from ..layers import _workspace
from ..models.inference_plan import infer
from ..variables import Variable
from .compile_utils import CompileSpec, MeanTracker, loss_log_heads, metric_log_names
from .data_adapters import ArrayDataAdapter, get_data_adapter
from .data_adapters.data_utils import sample_weights
from .distributed import process_sync
from .epoch_iterator import EpochIterator
from .model_io import ModelIO
from .step_api import StepAPI


def _fields(obj) -> dict:
    """An object's attributes, whether it keeps them in ``__dict__`` or in ``__slots__``."""
    if hasattr(obj, "__dict__"):
        return dict(obj.__dict__)
    return {k: getattr(obj, k) for k in obj.__slots__}


class _Logs(Mapping):
    """Batch logs computed only when a callback reads them (most batches nobody does)."""

    __slots__ = ("_trainer", "_data")

    def __init__(self, trainer):
        self._trainer = trainer
        self._data = None

    def _get(self):
        if self._data is None:
            self._data = self._trainer._current_logs()
        return self._data

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


def _positive_batch_size(batch_size, what):
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"{what}: batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _verbosity(verbose, what):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"{what}: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


class Trainer(StepAPI):
    """The Keras training API of a model.

    The host class (``Model``) provides what is declared below: the layer graph, its input and
    output tensors, the dtype, the trainable weights, and ``_build_for_data`` (which builds an
    unbuilt ``Sequential`` from a first batch's inputs).
    """

    name: str
    dtype: np.dtype
    inputs: list
    outputs: list
    _graph: object
    _nested_outputs: bool
    trainable_weights: list

    def _build_for_data(self, x) -> None:
        raise NotImplementedError

    def _explain_input_mismatch(self, shape, tensor):
        raise NotImplementedError

    def _structure_outputs(self, values: list):
        raise NotImplementedError

    def set_needs_input_grad(self, needed: bool) -> None:
        raise NotImplementedError

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.stop_evaluating = False
        self.stop_predicting = False
        self.history = None
        self._compile_spec: CompileSpec | None = None
        self._compile_config = None
        self._heads: list = []
        self._target_heads: list = []
        self._loss_log_heads: list = []
        self._merge_grads = False
        self._metric_names: dict[int, str] = {}
        self._fused_outputs = frozenset()
        self._bound_graph = None
        self._loss_tracker = MeanTracker()
        self._flat: Variable | None = None
        self._opt_vars: list[Variable] = []
        self._packed_views: list | None = None
        self._regularized: list[Variable] = []
        self._shuffle_rng = None
        self._fit_callbacks = None
        self._pending_callback_states = None
        self._custom_train = self._overrides("train_step")
        self._custom_test = self._overrides("test_step")
        self._custom_logs: dict = {}
        self._loss_metric = None
        self._call_loss_layers = False
        # Data-parallel runs: the synchronizer, and the share of the global batch this
        # process's loss gradient is scaled by.
        self._dp = None
        self._grad_scale = 1.0

    # ----------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=1,
                jit_compile=None, auto_scale_loss=None):
        """Sets the optimizer, the losses and the metrics (objects or Keras names).

        Identifiers are checked here; on an unbuilt ``Sequential`` they are tied to the output
        when the first data arrives. ``metrics`` are computed without sample weights,
        ``weighted_metrics`` with them. ``run_eagerly``, ``jit_compile`` and ``auto_scale_loss``
        are accepted for Keras compatibility and have no effect (nncore always runs its kernels
        directly).
        """
        from .. import optimizers as optimizers_mod

        if steps_per_execution != 1:
            raise ValueError("compile: steps_per_execution other than 1 is not supported")
        spec = CompileSpec(loss, metrics, weighted_metrics, loss_weights)
        self.optimizer = optimizers_mod.get(optimizer)
        self._compile_spec = spec
        # The arguments as given, for model.save (names stay names, objects keep their config).
        self._compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                                "loss_weights": loss_weights}
        if weighted_metrics is not None:
            self._compile_config["weighted_metrics"] = weighted_metrics
        self._bound_graph = None
        self._heads = []
        self.loss = spec.loss
        self.compiled = True
        if self._shuffle_rng is None:
            self._shuffle_rng = nn_random.make_generator(None)
        if self.built:
            self._bind_compile()

    def _bind_compile(self):
        """Ties the compiled losses and metrics to the outputs of the current graph."""
        heads = self._compile_spec.heads(self)
        self._heads = heads
        # Only outputs with a loss or a metric read targets (Keras: loss=["mse", None]).
        self._target_heads = [h for h in heads if h.needs_target]
        self._loss_log_heads = loss_log_heads(heads)
        ids = self._graph.output_ids
        self._merge_grads = len(set(ids)) != len(ids)
        self._metric_names = metric_log_names(heads)
        self._fused_outputs = frozenset(h.output_id for h in heads if h.fused)
        self.loss = heads[0].loss if len(heads) == 1 else [h.loss for h in heads]
        self._bound_graph = self._graph
        # Layers written with call() may add_loss: their terms join the loss of each step.
        self._call_loss_layers = any(type(l)._defines_call() for l in self._flatten_layers())
        self._pack_weights()

    def _prepare(self, sample_x, training: bool) -> None:
        """Builds the model from the data if needed, then readies compile's state for it."""
        self._build_for_data(sample_x)
        if self._compile_spec is not None and self._bound_graph is not self._graph:
            self._bind_compile()
        if training and not self._custom_train:
            if not any(h.losses for h in self._heads):
                raise ValueError("No loss to compute. Provide a `loss` argument in `compile()` "
                                 "(e.g. model.compile(optimizer='adam', loss='mse'))")
            self._ensure_packed()

    @property
    def metrics_names(self) -> list[str]:
        """The names of the values ``evaluate`` and ``*_on_batch`` return, in their order: the
        loss, every output's metrics, every output's weighted metrics, then the per-output
        losses (Keras' order)."""
        names = self._metric_names
        order = (["loss"] + [names[id(m)] for h in self._heads for m in h.metrics]
                 + [names[id(m)] for h in self._heads for m in h.weighted_metrics]
                 + [f"{h.name}_loss" for h in self._loss_log_heads])
        return list(dict.fromkeys(order))

    @property
    def metrics(self):
        """The compiled metrics; a model that overrides ``train_step`` or ``test_step`` also gets
        a ``Mean`` named "loss" first, for the loop of Keras' guide (``if metric.name == "loss":
        metric.update_state(loss)``)."""
        compiled = [m for h in self._heads for m in (*h.metrics, *h.weighted_metrics)]
        if self._custom_train or self._custom_test:
            if self._loss_metric is None:
                from ..metrics import Mean

                self._loss_metric = Mean(name="loss")
            return [self._loss_metric, *compiled]
        return compiled

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
            v._reseat(params[offset:offset + n].reshape(v.shape),
                      grads[offset:offset + n].reshape(v.shape))
            offset += n
        self._flat = Variable.wrap(params, grads, name=f"{self.name}/weights")
        self._opt_vars = [self._flat]
        if self.optimizer is not None:
            # The optimizer sees the weights inside the buffer: clipnorm per weight, weight
            # decay exclusions by name, each weight's constraint after the step (as Keras).
            self.optimizer.set_variable_segments(self._flat, list(vars_))
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
    def _loss_step(self, outs, ys, training, sample_weight=None):
        total = 0.0
        grads = [None] * len(outs)
        n = ys[0].shape[0]
        scale = self._grad_scale
        for h, y in zip(self._target_heads, ys):
            loss, grad, y_pred = h.loss_and_grad(y, outs[h.index], sample_weight)
            total += loss
            if scale != 1.0 and grad is not None and \
                    getattr(h.loss, "reduction", None) != "sum":
                grad = grad * grad.dtype.type(scale)
            grads[h.index] = grad
            h.update_metrics(y, y_pred, sample_weight)
        if self._merge_grads:
            grads = self._merged_grads(grads)
        if self._regularized:
            reg = 0.0
            for v in self._regularized:
                reg += float(v.regularizer(v.value))
                if training:
                    g = v.regularizer.gradient(v.value)
                    v.grad += g if scale == 1.0 else g * scale
            total += reg
        if self._call_loss_layers:
            total += float(sum(self._call_losses_values()))
        self._loss_tracker.update(total, n)
        return total, grads

    def _merged_grads(self, grads):
        """One output tensor listed several times: its gradients summed into its last entry
        (the graph adds a gradient to a tensor's only when both exist)."""
        ids = self._graph.output_ids
        last = {i: k for k, i in enumerate(ids)}
        merged = [None] * len(grads)
        for k, g in enumerate(grads):
            if g is None:
                continue
            j = last[ids[k]]
            merged[j] = g if merged[j] is None else merged[j] + g
        return merged

    def _train_step(self, xs, ys, sample_weight=None):
        if self._dp is not None:
            return self._dp.train_step(xs, ys, sample_weight)
        self._zero_grads()
        with _workspace.training_step():
            outs = self._graph.forward(xs, True, self._fused_outputs)
            total, grads = self._loss_step(outs, ys, training=True, sample_weight=sample_weight)
            del outs
            self._graph.backward(grads, release=True)
            del grads
        self.optimizer.apply(self._opt_vars)
        return total

    def _test_step(self, xs, ys, sample_weight=None):
        outs = self._graph.forward(xs, False, self._fused_outputs)
        return self._loss_step(outs, ys, training=False, sample_weight=sample_weight)[0]

    def _call_losses_values(self):
        return [float(np.asarray(getattr(t, "value", t))) for t in self._call_losses()]

    def _reset_metrics(self):
        if self._dp is not None:
            self._dp.invalidate_logs()
        self._loss_tracker.reset()
        for h in self._heads:
            h.reset()
        if self._custom_train or self._custom_test:
            self._custom_logs = {}
            for m in self.metrics:
                m.reset_state()

    def _current_logs(self) -> dict:
        if self._dp is not None:
            return self._dp.logs()
        if self._custom_logs:
            return dict(self._custom_logs)
        return self._builtin_logs()

    def _builtin_logs(self) -> dict:
        logs = {"loss": self._loss_tracker.result()}
        for h in self._loss_log_heads:
            logs[f"{h.name}_loss"] = h.tracker.result()
        for h in self._heads:
            for m in (*h.metrics, *h.weighted_metrics):
                logs[self._metric_names[id(m)]] = float(m.result())
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
        objs = [self._loss_tracker] + [o for h in self._heads
                                       for o in (h.tracker, *h.metrics, *h.weighted_metrics)]
        saved = [copy.deepcopy(_fields(o)) for o in objs]
        reduced = None if self._dp is None else self._dp.reduced_logs_state()
        try:
            yield
        finally:
            for o, fields in zip(objs, saved):
                for k, v in fields.items():
                    setattr(o, k, v)
            if self._dp is not None:
                self._dp.restore_reduced_logs_state(reduced)

    # ----------------------------------------------------------------- callbacks
    def _callback_list(self, callbacks, verbose, params, add_history):
        """The user's callbacks plus a History (fit) and a ProgbarLogger (verbose), unless the
        user passed their own, which are then the ones used (Keras)."""
        cbs = list(callbacks or [])
        history = next((cb for cb in cbs if isinstance(cb, History)), None)
        if add_history and history is None:
            history = History()
            cbs.append(history)
        if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
            cbs.append(ProgbarLogger(verbose=verbose))
        params = {"verbose": verbose, **params}
        if self._dp is not None:
            self._dp.set_batch_hooks(CallbackList(cbs))
            cbs = self._dp.chief_filter(cbs)
        return CallbackList(cbs, model=self, params=params), history

    def _restore_callback_states(self, callbacks):
        """Gives callbacks the states saved with this model by a checkpoint (``load_model``):
        each saved state goes to the first not yet served callback of the same class."""
        pending = self._pending_callback_states
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

    # ----------------------------------------------------------------- data
    def _adapter(self, x, y, sample_weight, class_weight, batch_size, shuffle, what, training):
        adapter = get_data_adapter(x, y, sample_weight, class_weight, batch_size, shuffle,
                                   self._shuffle_rng, what)
        self._prepare(adapter.sample_x(), training)
        adapter.bind(ModelIO(self), need_y=training)
        return adapter

    def _validation_adapter(self, adapter, validation_data, validation_split, batch_size):
        if validation_data is not None:
            if isinstance(validation_data, (list, tuple)):
                if len(validation_data) not in (2, 3):
                    raise ValueError("fit: validation_data must be (x_val, y_val), "
                                     "(x_val, y_val, val_sample_weight), a PyDataset, a "
                                     "generator or an iterable of batches")
                vx, vy, vw = (*validation_data, None)[:3]
                val = get_data_adapter(vx, vy, vw, None, batch_size, False, None,
                                       "fit (validation_data)")
            else:
                val = get_data_adapter(validation_data, None, None, None, None, False, None,
                                       "fit (validation_data)")
            val.bind(ModelIO(self), need_y=True)
            return val
        if validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
            if not isinstance(adapter, ArrayDataAdapter):
                raise ValueError("fit: validation_split works on arrays only; pass "
                                 "validation_data for generators and datasets")
            return adapter.split_off(validation_split, batch_size or 32)
        return None

    # ----------------------------------------------------------------- fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs - initial_epoch`` epochs; returns a ``History`` (Keras semantics).

        ``x`` is arrays (with ``y``, ``sample_weight``), a ``PyDataset``, a generator or any
        iterable of ``(x, y[, sample_weight])`` batches (a PyTorch ``DataLoader``).
        ``validation_split`` takes the last fraction of the samples (before shuffling), as Keras.
        Array batches are drawn by shuffled index each epoch and cast to the model's dtype one
        batch at a time; batches from Python code are prepared on a background thread.
        """
        self._require_compiled("fit")
        batch_size = _positive_batch_size(batch_size, "fit")
        verbose = _verbosity(verbose, "fit")
        epochs, initial_epoch = int(epochs), int(initial_epoch)
        if isinstance(validation_freq, bool) or int(validation_freq) != validation_freq or \
                validation_freq < 1:
            raise ValueError(f"fit: validation_freq must be a positive int, got {validation_freq!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        adapter = self._adapter(x, y, sample_weight, class_weight, batch_size, shuffle, "fit", True)
        val_adapter = self._validation_adapter(adapter, validation_data, validation_split,
                                               validation_batch_size or batch_size)
        if isinstance(adapter, ArrayDataAdapter) and adapter.num_samples == 0:
            raise ValueError("fit: no training samples")
        iterator = EpochIterator(adapter, steps_per_epoch, "fit")
        val_iterator = None if val_adapter is None else EpochIterator(
            val_adapter, validation_steps, "fit (validation)")
        params = {"epochs": epochs, "steps": iterator.num_batches, "batch_size": batch_size or 32,
                  "samples": getattr(adapter, "num_samples", None)}
        sync = process_sync(self, "fit")
        if sync is not None:
            self._ensure_packed()
            sync.check_same("fit", {
                **sync.model_facts(), "epochs": [initial_epoch, epochs, steps_per_epoch],
                "batches": [params["batch_size"], iterator.num_batches, params["samples"],
                            None if val_adapter is None else
                            [getattr(val_adapter, "num_samples", None), val_adapter.num_batches],
                            validation_freq, validation_steps, shuffle]})
            sync.check_batches(params["samples"], params["batch_size"], steps_per_epoch)
            sync.broadcast_start()
        self._dp = sync
        cb_list, history = self._callback_list(callbacks, verbose, params, add_history=True)
        self.history = history
        self.stop_training = False
        self._fit_callbacks = list(callbacks or [])
        self._restore_callback_states(self._fit_callbacks)
        self.set_needs_input_grad(False)
        self._custom_logs = {}
        batch_hooks = cb_list.has_batch_hooks("train") if sync is None else sync.reduce_each_step
        try:
            cb_list.on_train_begin()
            logs = {}
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                cb_list.on_epoch_begin(epoch)
                batches = iterator.epoch() if sync is None else sync.batches(iterator)
                for step, (xb, yb, wb) in batches:
                    if batch_hooks:
                        cb_list.on_train_batch_begin(step)
                    self._run_train_step(xb, yb, wb)
                    if batch_hooks:
                        cb_list.on_train_batch_end(step, _Logs(self))
                    if self.stop_training:
                        break
                if iterator.exhausted:
                    if epoch == initial_epoch:
                        raise ValueError("fit: the training data yields no batch")
                    warnings.warn(f"fit: the training data ran out before epoch {epoch + 1}; "
                                  "stopping (a generator is read once: pass steps_per_epoch and "
                                  "make it yield steps_per_epoch * epochs batches)", stacklevel=2)
                    break
                logs = self._current_logs()
                if sync is not None:
                    sync.average_moving_statistics()
                if val_iterator is not None and (epoch + 1) % int(validation_freq) == 0:
                    val_logs = self._run_evaluation(val_iterator, cb_list)
                    logs.update({f"val_{k}": v for k, v in val_logs.items()})
                if sync is not None:
                    logs = sync.agreed(logs)
                cb_list.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            # With use_ema the weights become their moving averages (Keras).
            self.optimizer.finalize_variable_values(self.trainable_weights)
            cb_list.on_train_end(logs)
        except BaseException as exc:
            if sync is not None and not getattr(exc, "raised_by_every_process", False):
                sync.fail(exc)     # the other processes wait in a collective: end the job
            raise
        finally:
            if sync is not None:
                sync.record_stats()
            self._dp = None
            self._fit_callbacks = None
            # Input gradients back on: a user's backward or GradientTape after fit gets them.
            self.set_needs_input_grad(True)
            iterator.close()
            if val_iterator is not None:
                val_iterator.close()
        return history

    # ----------------------------------------------------------------- evaluate / predict
    def _run_evaluation(self, iterator, cb_list):
        iterator.reset()
        self._reset_metrics()
        self.stop_evaluating = False
        cb_list.on_test_begin()
        sync = self._dp
        hooks = cb_list.has_batch_hooks("test") if sync is None else sync.reduce_each_step
        batches = iterator.epoch() if sync is None else sync.batches(iterator, "test")
        for step, (xb, yb, wb) in batches:
            if hooks:
                cb_list.on_test_batch_begin(step)
            if xb is not None:      # None: a batch too small to reach this process
                self._run_test_step(xb, yb, wb)
            if sync is not None:
                sync.after_test_step()
            if hooks:
                cb_list.on_test_batch_end(step, _Logs(self))
                if self.stop_evaluating:    # only a callback sets it (Keras)
                    break
        if iterator.exhausted and iterator.steps_seen == 0:
            raise ValueError("evaluate: the data yields no batch")
        logs = self._current_logs()
        cb_list.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over the data (arrays, a PyDataset, a generator or an iterable of
        batches): a scalar without metrics, else ``[loss, *metrics]`` (a dict with
        ``return_dict=True``). ``steps`` limits the batches read."""
        self._require_compiled("evaluate")
        batch_size = _positive_batch_size(batch_size, "evaluate")
        verbose = _verbosity(verbose, "evaluate")
        adapter = self._adapter(x, y, sample_weight, None, batch_size, False, "evaluate", True)
        iterator = EpochIterator(adapter, steps, "evaluate")
        outer = self._dp
        if outer is None:
            self._dp = self._start_sync("evaluate", iterator, adapter)
        try:
            cb_list, _ = self._callback_list(callbacks, verbose, {"steps": iterator.num_batches},
                                             add_history=False)
            with self._metrics_kept():
                logs = self._run_evaluation(iterator, cb_list)
            if self._dp is not None:
                logs = self._dp.agreed(logs)
        finally:
            self._dp = outer
            iterator.close()
        return self._format_logs(logs, return_dict)

    def _start_sync(self, what, iterator, adapter):
        """The synchronizer of an evaluate or predict over several processes (None in one):
        the processes must agree on the model and the data, and take process 0's weights."""
        sync = process_sync(self, what)
        if sync is not None:
            sync.check_same(what, {**sync.model_facts(), "batches": [
                iterator.num_batches, getattr(adapter, "num_samples", None)]})
            for v in self.weights:
                sync.world.bcast_(v.value)
        return sync

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        if self._custom_logs:       # a custom step's logs, in the order it returned them
            values = list(logs.values())
            return values[0] if len(values) == 1 else values
        values = [logs[k] for k in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x in batches (inference mode: dropout off, batch norm uses moving stats).
        ``x`` may be arrays, a PyDataset, a generator or an iterable; a batch's targets, if it
        has any, are ignored."""
        batch_size = _positive_batch_size(batch_size, "predict")
        verbose = _verbosity(verbose, "predict")
        if not verbose and not callbacks and steps is None:
            # Nothing to report to: plain arrays go straight to the inference plan.
            xs = self._plain_batch(x, cast=False)
            if xs is not None and xs[0].shape[0] and process_sync(self, "predict") is None:
                return self._structure_outputs(self._predict_plain(xs, batch_size or 32))
        adapter = self._adapter(x, None, None, None, batch_size, False, "predict", False)
        iterator = EpochIterator(adapter, steps, "predict")
        outer, sync = self._dp, self._start_sync("predict", iterator, adapter)
        self._dp = sync
        try:
            cb_list, _ = self._callback_list(callbacks, verbose, {"steps": iterator.num_batches},
                                             add_history=False)
        finally:
            self._dp = outer
        hooks = cb_list.has_batch_hooks("predict")
        # Arrays read whole give the row count up front: outputs go straight into place.
        n = adapter.num_samples if isinstance(adapter, ArrayDataAdapter) and steps is None else None
        results, chunks, row = None, [], 0
        self.stop_predicting = False
        cb_list.on_predict_begin()
        batches = iterator.epoch() if sync is None else sync.batches(iterator, "predict")
        try:
            for step, (xb, _, _) in batches:
                if hooks:
                    cb_list.on_predict_batch_begin(step)
                outs = infer(self._graph, xb, owned=False)
                if sync is not None:    # every process gets the whole batch's outputs, in order
                    outs = sync.gather(outs)
                if n is not None:
                    if results is None:
                        results = [np.empty((n, *o.shape[1:]), o.dtype) for o in outs]
                    for r, o in zip(results, outs):
                        r[row:row + o.shape[0]] = o
                else:
                    chunks.append([o.copy() for o in outs])   # layers may reuse their buffers
                row += outs[0].shape[0]
                if hooks:
                    cb_list.on_predict_batch_end(step, {"outputs": outs})
                    if self.stop_predicting:
                        break
        finally:
            iterator.close()
        cb_list.on_predict_end()
        if chunks:
            results = [np.concatenate(parts) for parts in zip(*chunks)]
        elif results is not None and row < n:       # a callback stopped prediction early
            results = [r[:row] for r in results]
        if results is None:
            results = [np.empty((0, *(d or 0 for d in t.shape[1:])), self.dtype)
                       for t in self.outputs]
        return self._structure_outputs(results)

    # ----------------------------------------------------------------- single batches
    def _one_batch(self, x, y, sample_weight, class_weight, what, training=True):
        self._prepare(x, training)
        io = ModelIO(self)
        xs = [a if a.dtype == self.dtype else a.astype(self.dtype) for a in io.inputs(x)]
        if not training:
            return xs, None, None
        ys = io.targets(y, xs[0].shape[0])
        return xs, ys, sample_weights(ys, xs[0].shape[0], sample_weight, class_weight, what)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns its loss (and metrics) like Keras."""
        self._require_compiled("train_on_batch")
        xs, ys, weights = self._one_batch(x, y, sample_weight, class_weight, "train_on_batch")
        self.set_needs_input_grad(False)
        self._reset_metrics()
        try:
            self._run_train_step(xs, ys, weights)
        finally:
            self.set_needs_input_grad(True)
        return self._format_logs(self._current_logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        xs, ys, weights = self._one_batch(x, y, sample_weight, None, "test_on_batch")
        with self._metrics_kept():
            self._reset_metrics()
            self._run_test_step(xs, ys, weights)
            return self._format_logs(self._current_logs(), return_dict)

    def predict_on_batch(self, x):
        xs = self._plain_batch(x)
        if xs is None:
            xs, _, _ = self._one_batch(x, None, None, None, "predict_on_batch", training=False)
        return self._structure_outputs(infer(self._graph, xs))

    # ----------------------------------------------------------------- inference on plain arrays
    # (graph, [(rank, shape after the batch axis or None when it has unknown sizes), ...]) of
    # the model's inputs, for _plain_batch.
    _plain_spec = None

    def _plain_batch(self, x, cast=True):
        """``x`` as one array per model input, cast to the model's dtype, when it is NumPy arrays
        that the model takes as they are (one array, or a list or tuple with one per input, of
        numbers, with the inputs' shapes and one sample count); else None, and the general path
        reads it (dicts, tensors, a model still to build, errors to explain)."""
        if not self.built:
            return None
        graph, spec = self._graph, self._plain_spec
        if spec is None or spec[0] is not graph:
            if graph is None:
                return None
            spec = (graph, [(len(t.shape), None if None in t.shape[1:] else tuple(t.shape[1:]))
                            for t in self.inputs])
            self._plain_spec = spec
        shapes = spec[1]
        if type(x) is np.ndarray and len(shapes) == 1 and shapes[0][1] is not None:
            # One input of known shape (most models): one comparison.
            if x.ndim != shapes[0][0] or x.shape[1:] != shapes[0][1] or x.dtype.kind not in "fiub":
                return None
            xs = [x]
        elif not self._plain_arrays(x, shapes):
            return None
        else:
            xs = list(x) if type(x) is not np.ndarray else [x]
        if self._compile_spec is not None and self._bound_graph is not graph:
            self._prepare(x, False)
        if not cast:
            return xs
        dtype = self.dtype
        return [a if a.dtype == dtype else a.astype(dtype) for a in xs]

    def _plain_arrays(self, x, shapes) -> bool:
        """Whether ``x`` is one array per input of the input's rank and known sizes, all with
        one sample count."""
        if type(x) is np.ndarray:
            if len(shapes) != 1:
                return False
            xs = [x]
        elif type(x) in (list, tuple) and len(x) == len(shapes) and \
                all(type(a) is np.ndarray for a in x):
            xs = x
        else:
            return False
        n = xs[0].shape[0] if xs[0].ndim else None
        for a, (rank, tail), t in zip(xs, shapes, self.inputs):
            shape = a.shape
            if a.ndim != rank or a.dtype.kind not in "fiub" or shape[0] != n:
                return False
            if tail is not None:
                if shape[1:] != tail:
                    return False
            elif any(want is not None and got != want for got, want in zip(shape[1:], t.shape[1:])):
                return False
        return True

    def _predict_plain(self, xs, batch_size):
        """``predict`` of arrays from ``_plain_batch(x, cast=False)`` (no callbacks, nothing
        printed): the general path's batches, each cast on its own, through the inference plan."""
        if self.stop_predicting:
            self.stop_predicting = False
        graph, dtype = self._graph, self.dtype
        n = xs[0].shape[0]
        if n <= batch_size:
            if len(xs) == 1:
                outs = infer(graph, [xs[0] if xs[0].dtype == dtype else xs[0].astype(dtype)])
            else:
                outs = infer(graph, [a if a.dtype == dtype else a.astype(dtype) for a in xs])
            # The outputs are the result unless a layer changed the number of rows.
            if len(outs) == 1:
                if outs[0].ndim and outs[0].shape[0] == n:
                    return outs
            elif all(o.ndim and o.shape[0] == n for o in outs):
                return outs
            batches = [outs]
        else:
            batches = (infer(graph, [a[lo:lo + batch_size] if a.dtype == dtype
                                     else a[lo:lo + batch_size].astype(dtype) for a in xs],
                             owned=False)
                       for lo in range(0, n, batch_size))
        # As the general path: outputs written into place, cut at the rows the batches gave.
        results, row = None, 0
        for outs in batches:
            if results is None:
                results = [np.empty((n, *o.shape[1:]), o.dtype) for o in outs]
            for r, o in zip(results, outs):
                r[row:row + o.shape[0]] = o
            row += outs[0].shape[0]
        if row < n:
            results = [r[:row] for r in results]
        return results
