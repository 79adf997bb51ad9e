"""What ``compile`` sets up per model output: the loss with its weight and running mean, the
metrics (each output with metric objects of its own), and whether the output's activation is
fused into its loss."""

from __future__ import annotations

import copy
from collections.abc import Mapping


class MeanTracker:
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


def clone_metric(metric):
    """A fresh metric of the same class and config (Keras clones a metric object that serves
    several outputs, so that their states never mix)."""
    try:
        fresh = type(metric).from_config(metric.get_config())
    except Exception:
        fresh = copy.deepcopy(metric)
    fresh.reset_state()
    return fresh


class OutputHead:
    """One model output: its loss and weight, its metrics and weighted metrics, the running mean
    of its loss, and whether the loss takes the output layer's logits (``fused``)."""

    def __init__(self, name, loss, weight, metrics, weighted_metrics, layer, output_id, graph,
                 prefix):
        self.name = name
        self.loss = loss
        self.weight = float(weight)
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.layer = layer
        self.output_id = output_id
        self.prefix = prefix            # "<output>_" in the log keys of a multi-output model
        self.tracker = MeanTracker()
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
        )

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
        from .. import losses as losses_mod

        if loss is None:
            raise ValueError("compile: loss is required (e.g. loss='categorical_crossentropy')")
        self.loss = self._map(loss, losses_mod.get, "loss")
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.loss_weights = loss_weights
        # Unknown metric names fail here; which accuracy "accuracy" means is settled per output
        # by its loss in ``heads``.
        first_loss = self._leaves(self.loss)[0]
        for ms in (metrics, weighted_metrics):
            for m in self._metric_leaves(ms):
                self._resolve_metric(m, first_loss)

    @staticmethod
    def _map(value, fn, what):
        if isinstance(value, Mapping):
            return {k: fn(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [fn(v) for v in value]
        out = fn(value)
        if out is None:
            raise ValueError(f"compile: unknown {what} {value!r}")
        return out

    @staticmethod
    def _leaves(value):
        if isinstance(value, Mapping):
            return list(value.values())
        if isinstance(value, (list, tuple)):
            return list(value)
        return [value]

    @classmethod
    def _metric_leaves(cls, metrics):
        out = []
        for m in cls._leaves(metrics or []):
            out += cls._leaves(m) if isinstance(m, (list, tuple, Mapping)) else [m]
        return [m for m in out if m is not None]

    @staticmethod
    def _resolve_metric(identifier, loss_obj):
        from .. import metrics as metrics_mod

        m = metrics_mod.get(identifier, loss=loss_obj)
        if m is None:
            raise ValueError(f"compile: unknown metric {identifier!r}")
        return m

    def _per_output(self, value, names, what, default):
        n_out = len(names)
        if isinstance(value, Mapping):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"compile: {what} names unknown outputs {sorted(unknown)}; "
                                 f"outputs: {names}")
            return [value.get(n, default) for n in names]
        if n_out > 1 and isinstance(value, (list, tuple)):
            if len(value) != n_out:
                raise ValueError(f"compile: {len(value)} {what} given for a model with {n_out} "
                                 f"outputs {names}: give one entry per output (a list of lists "
                                 "for several metrics), or a dict keyed by output name")
            return list(value)
        return [value] * n_out

    def heads(self, model) -> list:
        """One ``OutputHead`` per output of the (built) model."""
        graph = model._graph
        names = [t.node.layer.name for t in model.outputs]
        n_out = len(names)
        losses = self._per_output(self.loss, names, "losses", None)
        weights = self._per_output(1.0 if self.loss_weights is None else self.loss_weights,
                                   names, "loss_weights", 1.0)
        used: set[int] = set()

        def metric_objs(spec, loss_obj):
            spec = spec if isinstance(spec, (list, tuple)) else ([] if spec is None else [spec])
            out = []
            for ident in spec:
                m = self._resolve_metric(ident, loss_obj)
                if id(m) in used:           # one object serving two outputs: each gets its own
                    m = clone_metric(m)
                used.add(id(m))
                out.append(m)
            return out

        if n_out == 1:
            metric_specs = [self.metrics]
            weighted_specs = [self.weighted_metrics]
        else:
            metric_specs = self._per_output(self.metrics or [None] * n_out, names, "metrics", None)
            weighted_specs = self._per_output(self.weighted_metrics or [None] * n_out, names,
                                              "metrics", None)
        heads = []
        for k, name in enumerate(names):
            if losses[k] is None:
                raise ValueError(f"compile: no loss for output '{name}'")
            out_id = graph.output_ids[k]
            layer = next((s.layer for s in graph.steps if s.output == out_id), None)
            heads.append(OutputHead(name, losses[k], weights[k],
                                    metric_objs(metric_specs[k], losses[k]),
                                    metric_objs(weighted_specs[k], losses[k]),
                                    layer, out_id, graph, f"{name}_" if n_out > 1 else ""))
        return heads


def metric_log_names(heads) -> dict:
    """``id(metric) -> log key``: ``<output>_<name>`` on a multi-output model, a weighted metric
    whose name is taken becomes ``weighted_<name>``, and repeats get ``_1``, ``_2`` (Keras)."""
    names: dict[int, str] = {}
    taken = {"loss"} | {f"{h.name}_loss" for h in heads if h.prefix}
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
