"""What ``fit``, ``evaluate`` and ``predict`` do differently when ``nncore.distribution`` trains
over several processes: the same start everywhere, each process's share of every batch, gradients
summed over the processes while backward runs, logs reduced, and callbacks that write files or
print only on process 0.

Every process holds the exact partial derivatives of the global batch's loss for its own rows
(the loss gradient is scaled by its share of the batch), so summing the gradients over the
processes gives the gradient one process would compute on the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from .. import random as nn_random
from ..distribution import context
from ..distribution.gradient_buckets import GradientBuckets, allreduce_each
from ..distribution.metric_state import MetricState, agreed_layout
from ..distribution.world import format_exception
from ..layers import _workspace
from .step_api import flatten_logs

_WHAT = {"train": "fit", "test": "evaluation", "predict": "predict"}
CHIEF_ONLY_CALLBACKS = ("ProgbarLogger", "TensorBoard", "CSVLogger", "ModelCheckpoint")


def process_sync(model, what):
    """The synchronizer of a run over several processes, else None (one process)."""
    del what
    world = context.active_world()
    if world is None:
        return None
    return ProcessSync(model, world, context.get_distribution())


def _everywhere(error: BaseException) -> BaseException:
    """Marks an error that every process raises at the same point (from values they all share):
    nobody is left waiting, so each process may exit with it instead of aborting the job."""
    error.raised_by_every_process = True
    return error


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class ProcessSync:
    """One fit, evaluate or predict of ``model`` over the processes of ``world``."""

    def __init__(self, model, world, config):
        self.model = model
        self.world = world
        self.shard_data = config.auto_shard_dataset
        self.cap_bytes = int(config.bucket_cap_mb * 2**20)
        self.scale = 1.0
        self.global_rows = 0
        self.reduce_each_step = False
        self.whole = False
        self._buckets = None
        self._bucket_key = None
        self._metrics = None
        self._reduced = None
        self._request = None
        self._local_vec = None
        self._local_layout = None
        self._builtin_in_custom = False
        self.steps = 0

    # ------------------------------------------------------------ start
    def check_same(self, what: str, facts: dict) -> None:
        """Refuses to start when the processes disagree (another model, other data): they would
        run different collectives and wait for each other forever."""
        everyone = self.world.allgather_json({k: _digest(v) for k, v in facts.items()})
        differ = sorted(k for k in facts if len({d[k] for d in everyone}) > 1)
        if not differ:
            return
        mine = {k: facts[k] for k in differ}
        detail = "; ".join(f"{k}: {str(v)[:200]}" for k, v in mine.items())
        error = ValueError(
            f"{what}: the {self.world.size} processes disagree on {', '.join(differ)} (process "
            f"{self.world.rank} has {detail}); every process must build the same model and read "
            "data of the same size")
        raise _everywhere(error)

    def check_batches(self, samples, batch_size, steps_per_epoch) -> None:
        """Refuses, before the first step rather than at the end of an epoch, array data whose
        last batch would leave a process without rows to train on."""
        if samples is None or not self.shard_data or steps_per_epoch is not None:
            return
        last = samples % batch_size
        if 0 < last < self.world.size:
            raise _everywhere(ValueError(
                f"fit: {samples} samples in batches of {batch_size} end with a batch of {last}, "
                f"which {self.world.size} processes cannot share: every process needs at least one "
                "row of every batch. Choose a batch_size that leaves a last batch of at least "
                f"{self.world.size} (or none), or drop {last} sample(s)"))

    def model_facts(self) -> dict:
        m = self.model
        return {"model": type(m).__name__,
                "weights": [[w.name, list(w.shape), str(w.dtype)] for w in m.weights],
                "optimizer": None if m.optimizer is None else
                [type(m.optimizer).__name__, sorted(m.optimizer.get_state())]}

    def broadcast_start(self) -> None:
        """Process 0's weights, optimizer state and random generators everywhere; then each
        process gets its own stream for per-sample randomness (dropout, augmentation)."""
        m, w = self.model, self.world
        for v in m.weights:
            w.bcast_(v.value)
        opt = m.optimizer
        if opt is not None:
            state = opt.get_state()
            for key in sorted(state):
                state[key] = w.bcast_(np.array(state[key], order="C"))
            if w.rank != 0:
                if len(state) > 1:
                    opt.set_state(state)
                else:           # slots not made yet (they are on the first step)
                    opt.iterations = int(state["iterations"])
        if m._shuffle_rng is not None:
            m._shuffle_rng.bit_generator.state = w.bcast_json(m._shuffle_rng.bit_generator.state)
        nn_random.set_state(w.bcast_json(nn_random.get_state()))
        for layer in m._flatten_layers():
            if hasattr(layer, "get_rng_state"):
                state = w.bcast_json(layer.get_rng_state())
                if w.rank != 0:
                    rng = np.random.default_rng()
                    rng.bit_generator.state = state
                    seed = int(rng.integers(0, 2**63 - 1))
                    state = np.random.default_rng([seed, w.rank]).bit_generator.state
                layer.set_rng_state(state)

    def set_batch_hooks(self, full_callbacks, modes=("train", "test", "predict")) -> None:
        """Whether logs are reduced after every step: when any process has a callback that reads
        batch logs (process 0's progress bar), every process joins the reductions. Decided
        together, since scripts often pass ``verbose=0`` to processes other than 0; an evaluate
        that a callback runs inside fit adds its callbacks' needs to fit's."""
        mine = any(full_callbacks.has_batch_hooks(mode) for mode in modes)
        anyone = bool(self.world.allreduce_(np.array([int(mine)], np.int64))[0])
        self.reduce_each_step = self.reduce_each_step or anyone

    def chief_filter(self, callbacks: list) -> list:
        """The callbacks this process runs: on processes other than 0, none that print or write."""
        if self.world.rank == 0:
            return callbacks
        return [cb for cb in callbacks if type(cb).__name__ not in CHIEF_ONLY_CALLBACKS
                and not any(c.__name__ in CHIEF_ONLY_CALLBACKS for c in type(cb).__mro__)]

    # ------------------------------------------------------------ data
    def _share(self, n: int) -> tuple[int, int]:
        size, rank = self.world.size, self.world.rank
        return rank * n // size, (rank + 1) * n // size

    def _rows(self, n: int, mode: str):
        """This process's rows ``(lo, hi)`` of a global batch of ``n``; None for all of them.
        A batch smaller than the number of processes cannot be trained on (every process needs
        rows); evaluated, it goes to the first processes (the others get none); predicted, every
        process computes all of it."""
        self.whole = False
        if not self.shard_data:
            self.global_rows = n * self.world.size
            self.scale = 1.0 / self.world.size
            self.whole = mode == "predict"
            return None
        if n < self.world.size:
            if mode == "train":
                raise _everywhere(ValueError(
                    f"a batch of {n} sample(s) cannot be shared by {self.world.size} processes: "
                    "choose a batch_size (and a number of samples, for the last batch) of at "
                    "least the number of processes"))
            if mode == "predict":
                self.whole = True
                return None
        lo, hi = self._share(n)
        self.global_rows = n
        self.scale = (hi - lo) / n
        return lo, hi

    def shard(self, xs, ys, sw, mode="train"):
        """This process's part of a global batch (None everywhere when it gets no rows)."""
        rows = self._rows(xs[0].shape[0], mode)
        if rows is None:
            return xs, ys, sw
        lo, hi = rows
        if hi == lo:
            return None, None, None
        cut = lambda arrays: None if arrays is None else [a[lo:hi] for a in arrays]  # noqa: E731
        return cut(xs), cut(ys), None if sw is None else sw[lo:hi]

    def _index_filter(self, mode):
        """For array data: picks this process's rows from a global batch's index before they are
        gathered, so that no process copies the rows of the others."""
        def local(index):
            if isinstance(index, slice):
                start, n = index.start, index.stop - index.start
            else:
                n = len(index)
            rows = self._rows(n, mode)
            if rows is None:
                return index
            lo, hi = rows
            if hi == lo:
                return None
            return slice(start + lo, start + hi) if isinstance(index, slice) else index[lo:hi]
        return local

    def batches(self, iterator, mode="train"):
        adapter = iterator.adapter
        if hasattr(adapter, "row_filter") and not adapter.prefetch:
            adapter.row_filter = self._index_filter(mode)
            try:
                yield from iterator.epoch()
            finally:
                adapter.row_filter = None
            return
        # Data read by Python code (generators, datasets) has no size to check at the start:
        # the processes agree before every batch that each has one, so that a process whose
        # data runs out first stops everyone with a message instead of leaving them waiting.
        epoch = iterator.epoch()
        try:
            taken = 0
            while True:
                item = next(epoch, None)
                have = int(self.world.allreduce_(np.array([item is not None], np.int64))[0])
                if have == 0:
                    return
                if have < self.world.size:
                    raise _everywhere(ValueError(
                        f"{_WHAT[mode]}: the processes read different numbers of batches: the "
                        "data of "
                        f"{self.world.size - have} of the {self.world.size} processes ran out "
                        f"after {taken} batch(es) while the others had more; every process must "
                        "read as many batches"))
                step, (xb, yb, wb) = item
                yield step, self.shard(xb, yb, wb, mode)
                taken += 1
        finally:
            epoch.close()

    # ------------------------------------------------------------ training step
    def _gradient_buckets(self):
        m = self.model
        key = (id(m._graph), id(m._flat))
        if self._bucket_key != key:
            self._buckets = GradientBuckets(self.world, m._graph, m.trainable_weights,
                                            m._flat.grad, self.cap_bytes)
            self._bucket_key = key
        return self._buckets

    def train_step(self, xs, ys, sample_weight):
        m = self.model
        m._zero_grads()
        m._grad_scale = self.scale
        buckets = self._gradient_buckets() if m._flat is not None else None
        # Called by a model's own train_step (super().train_step): the gradients are summed
        # here, so the optimizer must not sum them again; its logs are reduced by custom_step.
        own_step = context.gradient_reducer() is not None
        self._builtin_in_custom = own_step
        try:
            with _workspace.training_step(), context.in_step(self.world), \
                    context.reducing_gradients(None):
                outs = m._graph.forward(xs, True, m._fused_outputs)
                total, grads = m._loss_step(outs, ys, training=True, sample_weight=sample_weight)
                if not own_step:
                    self._start_metric_reduction()
                if buckets is not None:
                    buckets.begin()
                    m._graph.backward(grads, buckets.before_step)
                    buckets.finish()
                else:
                    m._graph.backward(grads)
                    allreduce_each(self.world, m._opt_vars)
        finally:
            m._grad_scale = 1.0
        m.optimizer.apply(m._opt_vars)
        self._finish_metric_reduction()
        self.steps += 1
        return total

    def custom_step(self, train_step, data):
        """A model's own ``train_step``: the optimizer it calls gets the gradients summed over
        the processes (each scaled by this process's share of the batch, as the built-in step's
        loss gradient is), and synchronized batch normalization talks to the processes."""
        with context.in_step(self.world), context.reducing_gradients(self._sum_gradients):
            logs = train_step(data)
        self.steps += 1
        if self.reduce_each_step:
            self._reduced = None
            self.model._custom_logs = flatten_logs(logs)
            self.logs()
        else:
            self._reduced = None
        return logs

    def _sum_gradients(self, grads: list) -> list:
        """One sum over the processes for all the gradients of a dtype (None stays None)."""
        out = list(grads)
        arrays = [(i, np.asarray(getattr(g, "value", g))) for i, g in enumerate(grads)
                  if g is not None]
        for dtype in sorted({a.dtype.str for _, a in arrays}):
            group = [(i, a) for i, a in arrays if a.dtype.str == dtype]
            flat = np.concatenate([a.reshape(-1) for _, a in group])
            flat *= flat.dtype.type(self.scale)
            self.world.allreduce_(flat)
            pos = 0
            for i, a in group:
                out[i] = flat[pos:pos + a.size].reshape(a.shape)
                pos += a.size
        return out

    def after_test_step(self) -> None:
        """Test batches may leave a process without rows: the blocking path agrees on the
        layout of the metric states first."""
        self._reduced = None
        if self.reduce_each_step:
            self.logs()

    def record_stats(self) -> None:
        b = self._buckets
        context.last_fit_stats.clear()
        context.last_fit_stats.update(
            steps=self.steps, wait_seconds=0.0 if b is None else b.wait_seconds,
            progress_seconds=0.0 if b is None else b.progress_seconds,
            bucket_sizes=[] if b is None else b.sizes,
            gradient_bytes=0 if b is None else b.grads.nbytes, processes=self.world.size)

    # ------------------------------------------------------------ logs
    def _metric_objects(self) -> list:
        m = self.model
        builtin = [m._loss_tracker] + [o for h in m._heads
                                       for o in (h.tracker, *h.metrics, *h.weighted_metrics)]
        if not m._custom_logs:
            return builtin
        # A model's own step: its metrics (Keras' loss Mean first), and the built-in trackers,
        # which a step calling super().train_step updates.
        return list({id(o): o for o in (*m.metrics, *builtin)}.values())

    def _logs_of_state(self) -> dict:
        m = self.model
        if not m._custom_logs:
            return m._builtin_logs()
        logs = dict(m._custom_logs)
        builtin = m._builtin_logs() if self._builtin_in_custom else {}
        results = {metric.name: metric for metric in m.metrics}
        for key in logs:            # what the step returned, now over every process's rows
            if key in builtin:
                logs[key] = builtin[key]
            elif key in results:
                value = np.asarray(results[key].result())
                logs[key] = float(value) if value.size == 1 else value
        return logs

    def _metric_state(self) -> MetricState:
        objs = self._metric_objects()
        if self._metrics is None or self._metrics[0] != [id(o) for o in objs]:
            self._metrics = ([id(o) for o in objs], MetricState(objs))
        return self._metrics[1]

    def _start_metric_reduction(self) -> None:
        self._reduced = None
        if not self.reduce_each_step:
            return
        state = self._metric_state()
        # After a training step every process has rows, so the states have one layout.
        self._local_layout = state.layout()
        self._local_vec = state.pack(self._local_layout)
        self._request = self.world.iallreduce_(self._local_vec)

    def _finish_metric_reduction(self) -> None:
        if self._request is not None:
            self._request.Wait()
            self._request = None
            self._reduced = (self._local_vec, self._local_layout)

    def invalidate_logs(self) -> None:
        self._reduced = None

    def reduced_logs_state(self):
        return self._reduced

    def restore_reduced_logs_state(self, reduced) -> None:
        self._reduced = reduced

    def logs(self) -> dict:
        """The logs over every process's samples (a collective unless reduced at this step)."""
        state = self._metric_state()
        if self._reduced is None:
            try:
                layout = agreed_layout(self.world.allgather_json(state.layout()))
            except ValueError as exc:
                raise _everywhere(exc) from None
            self._reduced = (self.world.allreduce_(state.pack(layout)), layout)
        vec, layout = self._reduced
        saved = state.pack()
        saved_layout = state.layout()
        none_slots = [(obj, name) for (obj, name), shape in zip(state._collect(), saved_layout)
                      if shape is None]
        state.unpack(vec, layout)
        try:
            return self._logs_of_state()
        finally:
            state.unpack(saved, saved_layout)
            for obj, name in none_slots:
                setattr(obj, name, None)

    def agreed(self, logs: dict) -> dict:
        """Process 0's logs everywhere, so that EarlyStopping, ReduceLROnPlateau and
        checkpoints decide identically on every process."""
        floats = {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}
        floats = self.world.bcast_json(floats)
        return {**logs, **floats}

    # ------------------------------------------------------------ non-trainable state
    def average_moving_statistics(self) -> None:
        """Batch normalization with per-process statistics leaves each process its own moving
        mean and variance: their average becomes everyone's (evaluation, checkpoints)."""
        for layer in self.model._flatten_layers():
            if getattr(layer, "synchronized", True) or not hasattr(layer, "moving_mean") \
                    or getattr(layer, "moving_mean", None) is None:
                continue
            for v in (layer.moving_mean, layer.moving_variance):
                arr = v.value
                self.world.allreduce_(arr)
                arr /= self.world.size

    # ------------------------------------------------------------ predict
    def gather(self, outs: list) -> list:
        if self.whole:
            return outs
        return [self.world.allgatherv_rows(o) for o in outs]

    # ------------------------------------------------------------ failure
    def fail(self, exc: BaseException) -> None:
        sys.stderr.write(format_exception(exc))
        self.world.abort(f"{type(exc).__name__}: {exc}")
