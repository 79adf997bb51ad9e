"""Metrics that average a margin loss (Keras 3): hinge, squared hinge, categorical hinge."""

from __future__ import annotations

from .. import losses as _losses
from ..serialization import register
from .base import MeanMetricWrapper


@register("metric", "hinge")
class Hinge(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="hinge", dtype=None):
        super().__init__(_losses.hinge, name=name, dtype=dtype)


@register("metric", "squared_hinge")
class SquaredHinge(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(_losses.squared_hinge, name=name, dtype=dtype)


@register("metric", "categorical_hinge")
class CategoricalHinge(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(_losses.categorical_hinge, name=name, dtype=dtype)
