"""Adamax, Adam with the infinity norm (Kingma & Ba 2014, §7.1; Keras 3 ``Adamax``)."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import Optimizer


@register("optimizer", "adamax")
class Adamax(Optimizer):
    """Keras 3 update, ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= learning_rate * m / ((1 - beta_1^t) * (u + epsilon))
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "momentum")
            self.add_slot(v, "norm")

    def update_step(self, gradient, variable, learning_rate) -> None:
        b1 = self.beta_1
        m = self.slot(variable, "momentum")
        u = self.slot(variable, "norm")
        t = self.scratch(variable)
        np.subtract(gradient, m, out=t)
        t *= 1.0 - b1
        m += t
        u *= self.beta_2
        np.abs(gradient, out=t)
        np.maximum(u, t, out=u)
        np.add(u, self.epsilon, out=t)
        np.divide(m, t, out=t)
        t *= learning_rate / (1.0 - b1 ** (self.iterations + 1))
        np.subtract(variable.value, t, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
