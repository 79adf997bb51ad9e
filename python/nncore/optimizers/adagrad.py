"""Adagrad (Duchi et al. 2011; Keras 3 ``Adagrad``)."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import Optimizer


@register("optimizer", "adagrad")
class Adagrad(Optimizer):
    """``acc += g²; w -= learning_rate * g / sqrt(acc + epsilon)`` with ``acc`` starting at
    ``initial_accumulator_value`` (Keras 3 defaults: 0.001, 0.1, 1e-7)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if initial_accumulator_value < 0:
            raise ValueError(f"initial_accumulator_value must be >= 0, got {initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "accumulator", fill=self.initial_accumulator_value)

    def update_step(self, gradient, variable, learning_rate) -> None:
        acc = self.slot(variable, "accumulator")
        t = self.scratch(variable)
        np.multiply(gradient, gradient, out=t)
        acc += t
        np.add(acc, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(gradient, t, out=t)
        t *= learning_rate
        np.subtract(variable.value, t, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
