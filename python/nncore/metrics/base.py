"""Metric base class (Keras 3): state accumulated over batches, ``result()`` read at any time,
``reset_state()`` between epochs; and the weighted mean that most metrics are."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..losses.base import align_ranks


class Metric:
    """Base class of metrics: ``update_state(y_true, y_pred, sample_weight=None)``,
    ``result() -> float``, ``reset_state()``, ``get_config()``. Calling the metric updates it and
    returns the result."""

    #: names of the state attributes that add up over samples, so that data-parallel
    #: processes reduce a metric by summing them (``nncore.distribution``); None: not reducible
    _additive_state = None

    def __init__(self, name=None, dtype=None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"metric name must be a non-empty string, got {name!r}")
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.dtype = None if dtype is None else np.dtype(dtype).name

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement update_state")

    def result(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement result")

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement reset_state")

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.6g}>"


def _samplewise(values, sample_weight, reduce_fn):
    """Keras' ``reduce_to_samplewise_values``: one value per sample (and the weights aligned with
    them). With weights, values are first reduced (``reduce_fn``: sum for ``Sum``, mean for
    ``Mean``) down to the weights' rank, weighted element by element, and the weights of a sample
    are reduced the same way; then what is left is reduced to one value per sample. So
    per-element weights weight elements, and a ``(1, d)`` weight broadcasts over the batch."""
    values = np.asarray(values, dtype=np.float64)
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        values, w = align_ranks(values, w)
        if values.ndim > w.ndim:
            values = reduce_fn(values, axis=tuple(range(w.ndim, values.ndim)))
        try:
            w = np.broadcast_to(w, values.shape)
        except ValueError:
            raise ShapeError(f"sample_weight of shape {np.shape(sample_weight)} does not broadcast "
                             f"to the metric values of shape {values.shape}") from None
        values = values * w
        if w.ndim > 1:
            w = reduce_fn(w, axis=tuple(range(1, w.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, w


class Sum(Metric):
    """The (weighted) sum of the values seen."""

    _additive_state = ("total",)

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = _samplewise(values, sample_weight, np.sum)
        self.total += float(values.sum())

    def result(self) -> float:
        return self.total

    def reset_state(self) -> None:
        self.total = 0.0


class Mean(Metric):
    """The (weighted) mean of the values seen: per batch, values are first averaged per sample
    (Keras 3), then ``total += Σ w·v`` and ``count += Σ w`` (or the number of samples)."""

    _additive_state = ("total", "count")

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values, w = _samplewise(values, sample_weight, np.mean)
        self.total += float(values.sum())
        if w is not None:
            self.count += float(w.sum())
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0


#: Functions a ``MeanMetricWrapper`` config may name instead of holding (filled by the package).
METRIC_FUNCTIONS: dict[str, Callable] = {}


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    ``get_config`` holds ``fn`` by name when it is one of nncore's metric or loss functions (so
    the config is plain data), else the function itself; subclasses, which fix ``fn``, list only
    their own arguments.
    """

    def __init__(self, fn: Callable, name=None, dtype=None, **kwargs: Any):
        if isinstance(fn, str):
            if fn not in METRIC_FUNCTIONS:
                raise ValueError(f"unknown metric function '{fn}'; known: "
                                 f"{', '.join(sorted(METRIC_FUNCTIONS))}")
            fn = METRIC_FUNCTIONS[fn]
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper needs a callable fn, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if getattr(fn, "loss_class", None) is not None:
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self._fn(np.asarray(y_true), np.asarray(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            fn = self._fn
            known = METRIC_FUNCTIONS.get(getattr(fn, "__name__", None))
            config["fn"] = fn.__name__ if known is fn else fn
        config.update(self._fn_kwargs)
        return config
