"""What ``compile`` sets up per model output: the loss with its weight and running mean, the
metrics (each output with metric objects of its own), and whether the output's activation is
fused into its loss."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np


class MeanTracker:
    """Running mean weighted by batch size (Keras' loss tracker)."""

    __slots__ = ("total", "count")
    _additive_state = __slots__

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


def clone_metric(metric):
    """A fresh metric of the same class and config (Keras clones a metric object that serves
    several outputs, so that their states never mix)."""
    try:
        fresh = type(metric).from_config(metric.get_config())
    except Exception:
        fresh = copy.deepcopy(metric)
    fresh.reset_state()
    return fresh


class ShapeResolvedCrossentropy:
    """Keras' ``"crossentropy"``/``"ce"``: binary, sparse categorical or categorical
    cross-entropy, chosen from the shapes of the first targets and predictions it sees (binary
    for one prediction column, sparse for integer labels of lower rank or one column)."""

    def __init__(self, name="crossentropy"):
        self.name = name
        self.loss = None

    def _resolve(self, y_true, y_pred):
        from .. import losses as losses_mod

        yt, yp = np.shape(y_true), np.shape(y_pred)
        if yp[-1] == 1:
            self.loss = losses_mod.BinaryCrossentropy()
        elif len(yt) < len(yp) or yt[-1] == 1:
            self.loss = losses_mod.SparseCategoricalCrossentropy()
        else:
            self.loss = losses_mod.CategoricalCrossentropy()
        return self.loss

    def forward_backward(self, y_true, y_pred, *, sample_weight=None):
        loss = self.loss or self._resolve(y_true, y_pred)
        return loss.forward_backward(y_true, y_pred, sample_weight=sample_weight)

    def __call__(self, y_true, y_pred, sample_weight=None):
        loss = self.loss or self._resolve(y_true, y_pred)
        return loss(y_true, y_pred, sample_weight=sample_weight)


def get_loss(identifier):
    """``losses.get`` plus Keras' compile-time ``"crossentropy"``/``"ce"``."""
    from .. import losses as losses_mod

    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        return ShapeResolvedCrossentropy(identifier)
    if isinstance(identifier, ShapeResolvedCrossentropy):
        return identifier
    return losses_mod.get(identifier)


class OutputHead:
    """One model output: its losses (none, one, or several summed, as Keras) and weight, its
    metrics and weighted metrics, the running mean of its loss, and whether the single loss takes
    the output layer's logits (``fused``)."""

    def __init__(self, name, losses, weight, metrics, weighted_metrics, layer, output_id, graph,
                 prefix, index=0):
        self.name = name
        self.losses = list(losses)
        self.loss = (None if not self.losses else self.losses[0] if len(self.losses) == 1
                     else list(self.losses))
        self.weight = float(weight)
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.layer = layer
        self.output_id = output_id
        self.index = index              # position among the model's outputs
        self.prefix = prefix            # "<output>_" in the log keys of a multi-output model
        self.tracker = MeanTracker()
        loss = self.loss if len(self.losses) == 1 else None
        act = getattr(layer, "activation", None)
        fused = getattr(loss, "fused_activation", None)
        self.fused = (
            fused is not None
            and not getattr(loss, "from_logits", False)
            and hasattr(layer, "forward_logits")
            and act is not None
            and getattr(act, "name", None) == fused
            and not getattr(act, "params", {})
            # Only where nothing else reads the output: other layers must see the
            # activation's result in training as at inference.
            and graph.consumers(output_id) == 0
            and sum(s.layer is layer for s in graph.steps) == 1
            and graph.output_ids.count(output_id) == 1
        )

    @property
    def needs_target(self) -> bool:
        return bool(self.losses or self.metrics or self.weighted_metrics)

    def loss_and_grad(self, y, out, sample_weight=None):
        """The weighted loss of a batch, its gradient and the prediction. The running mean of
        the output's loss (``<output>_loss``) records the unweighted value, as Keras 3 does."""
        if self.fused:
            loss, grad, y_pred = self.loss.forward_backward_from_logits(
                y, out, sample_weight=sample_weight)
        elif not self.losses:
            return 0.0, None, out
        else:
            loss, grad = self.losses[0].forward_backward(y, out, sample_weight=sample_weight)
            for extra in self.losses[1:]:
                l2, g2 = extra.forward_backward(y, out, sample_weight=sample_weight)
                loss, grad = loss + l2, grad + g2
            y_pred = out
        loss = float(loss)
        self.tracker.update(loss, y.shape[0])
        if self.weight != 1.0:
            loss = loss * self.weight
            grad = grad * self.weight
        return loss, grad, y_pred

    def update_metrics(self, y, y_pred, sample_weight):
        for m in self.metrics:
            m.update_state(y, y_pred)
        for m in self.weighted_metrics:
            m.update_state(y, y_pred, sample_weight=sample_weight)

    def reset(self):
        self.tracker.reset()
        for m in (*self.metrics, *self.weighted_metrics):
            m.reset_state()

    def metric_logs(self, names: dict) -> list:
        return [(names[id(m)], m) for m in (*self.metrics, *self.weighted_metrics)]


class CompileSpec:
    """``compile``'s arguments, resolved to objects where that needs no knowledge of the outputs
    (so that a typo fails at ``compile`` even on an unbuilt ``Sequential``), and bound to the
    outputs by ``heads``."""

    def __init__(self, loss, metrics, weighted_metrics, loss_weights):
        # No loss is allowed (Keras): predict works, training asks for one.
        self.loss = None if loss is None else self._map(loss, get_loss, "loss")
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.loss_weights = loss_weights
        # Unknown metric names fail here; which accuracy "accuracy" means is settled per output
        # by its loss in ``heads``.
        leaves = self._leaves(self.loss)
        first_loss = leaves[0] if leaves else None
        for ms in (metrics, weighted_metrics):
            for m in self._metric_leaves(ms):
                self._resolve_metric(m, first_loss)

    @classmethod
    def _map(cls, value, fn, what, top=True):
        # Nested: a list of losses for one output, None for an output without a loss.
        if isinstance(value, Mapping):
            return {k: cls._map(v, fn, what, False) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [cls._map(v, fn, what, False) for v in value]
        if value is None and not top:
            return None
        out = fn(value)
        if out is None:
            raise ValueError(f"compile: unknown {what} {value!r}")
        return out

    @classmethod
    def _leaves(cls, value):
        if isinstance(value, Mapping):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            return [leaf for v in value for leaf in cls._leaves(v)]
        return [] if value is None else [value]

    @classmethod
    def _metric_leaves(cls, metrics):
        return cls._leaves(metrics)

    @staticmethod
    def _resolve_metric(identifier, loss_obj):
        from .. import metrics as metrics_mod

        m = metrics_mod.get(identifier, loss=loss_obj)
        if m is None:
            raise ValueError(f"compile: unknown metric {identifier!r}")
        return m

    @staticmethod
    def _as_list(value):
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def _losses_per_output(self, names, dict_outputs):
        """A list of losses per output (empty: the output has none)."""
        n_out = len(names)
        loss = self.loss
        if loss is None:
            return [[] for _ in names]
        if isinstance(loss, Mapping):
            unknown = [k for k in loss if k not in names]
            # Keras lets a dict-output model leave outputs without a loss; a list-output model
            # must name every output.
            missing = [] if dict_outputs else [n for n in names if n not in loss]
            if unknown or missing:
                raise ValueError(f"compile: Expected keys {names} in loss dict, but found "
                                 f"loss.keys()={list(loss)}")
            per = [loss.get(n) for n in names]
        elif isinstance(loss, (list, tuple)) and n_out > 1:
            if len(loss) != n_out:
                raise ValueError(f"compile: {len(loss)} losses given for a model with {n_out} "
                                 f"outputs {names}: give one per output (None for an output "
                                 "without a loss), or a dict keyed by output name")
            per = list(loss)
        elif isinstance(loss, (list, tuple)):
            per = [list(loss)]
        else:
            per = [loss] * n_out
        # A shape-resolved loss decides per output: each output gets its own.
        return [[ShapeResolvedCrossentropy(x.name) if isinstance(x, ShapeResolvedCrossentropy)
                 else x for x in self._as_list(p) if x is not None] for p in per]

    def _per_output(self, value, names, what, default):
        n_out = len(names)
        if n_out == 1:
            # A single output takes everything given, whatever the keys (Keras).
            return [value]
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in names]
            if unknown:
                raise ValueError(f"compile: Invalid `{what}` argument: {unknown} name no output "
                                 f"of the model; outputs: {names}")
            return [value.get(n, default) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != n_out:
                raise ValueError(f"compile: {len(value)} {what} given for a model with {n_out} "
                                 f"outputs {names}: give one entry per output (a list of lists "
                                 "for several metrics), or a dict keyed by output name")
            return list(value)
        return [value] * n_out

    def heads(self, model) -> list:
        """One ``OutputHead`` per output of the (built) model."""
        graph = model._graph
        names = list(model.output_names)
        n_out = len(names)
        dict_outputs = getattr(model, "_output_keys", None) is not None
        losses = self._losses_per_output(names, dict_outputs)
        lw = self.loss_weights
        if lw is not None and n_out == 1:
            lw = self._leaves(lw)
            if len(lw) != 1:
                raise ValueError(f"compile: loss_weights must match the number of losses, got "
                                 f"{len(lw)} weights for one output")
            lw = lw[0]
        weights = self._per_output(1.0 if lw is None else lw, names, "loss_weights", 1.0)
        used: set[int] = set()

        def metric_objs(spec, loss_obj):
            out = []
            for ident in self._leaves(spec):
                m = self._resolve_metric(ident, loss_obj)
                if id(m) in used:           # one object serving two outputs: each gets its own
                    m = clone_metric(m)
                used.add(id(m))
                out.append(m)
            return out

        metric_specs = self._per_output(self.metrics, names, "metrics", None)
        weighted_specs = self._per_output(self.weighted_metrics, names, "weighted_metrics", None)
        heads = []
        for k, name in enumerate(names):
            out_id = graph.output_ids[k]
            layer = next((s.layer for s in graph.steps if s.output == out_id), None)
            first_loss = losses[k][0] if losses[k] else None
            heads.append(OutputHead(name, losses[k], weights[k],
                                    metric_objs(metric_specs[k], first_loss),
                                    metric_objs(weighted_specs[k], first_loss),
                                    layer, out_id, graph, f"{name}_" if n_out > 1 else "", k))
        return heads


def loss_log_heads(heads) -> list:
    """The heads whose loss gets a ``<output>_loss`` log: all those with a loss, when the model
    has more than one loss in all (Keras)."""
    with_loss = [h for h in heads if h.losses]
    return with_loss if sum(len(h.losses) for h in heads) > 1 else []


def metric_log_names(heads) -> dict:
    """``id(metric) -> log key``: ``<output>_<name>`` on a multi-output model, a weighted metric
    whose name is taken becomes ``weighted_<name>``, and repeats get ``_1``, ``_2`` (Keras)."""
    names: dict[int, str] = {}
    taken = {"loss"} | {f"{h.name}_loss" for h in loss_log_heads(heads)}
    for h in heads:
        for weighted, ms in ((False, h.metrics), (True, h.weighted_metrics)):
            for m in ms:
                key = f"{h.prefix}{m.name}"
                if key in taken and weighted:
                    key = f"{h.prefix}weighted_{m.name}"
                base, k = key, 1
                while key in taken:
                    key = f"{base}_{k}"
                    k += 1
                taken.add(key)
                names[id(m)] = key
    return names
