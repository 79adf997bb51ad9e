"""AdaBelief (Zhuang et al. 2020): Adam that scales steps by the belief in the gradient."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import Optimizer


@register("optimizer", "adabelief")
class AdaBelief(Optimizer):
    """Algorithm 1 of the paper, with ``t = iterations + 1``::

        m = beta_1 m + (1 - beta_1) g
        s = beta_2 s + (1 - beta_2) (g - m)² + epsilon
        w -= learning_rate * (m / (1 - beta_1^t)) / (sqrt(s / (1 - beta_2^t)) + epsilon)

    ``s`` tracks the variance of the gradient around its running mean instead of Adam's raw
    second moment, so steps are large where the gradient is predictable. Defaults follow the
    authors' package (0.001, 0.9, 0.999, epsilon 1e-16); without their optional rectification.
    Weight decay: the base class's decoupled ``weight_decay``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-16, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "momentum")
            self.add_slot(v, "belief")

    def update_step(self, gradient, variable, learning_rate) -> None:
        b1, b2 = self.beta_1, self.beta_2
        step = self.iterations + 1
        m = self.slot(variable, "momentum")
        s = self.slot(variable, "belief")
        t = self.scratch(variable)
        np.subtract(gradient, m, out=t)
        t *= 1.0 - b1
        m += t
        np.subtract(gradient, m, out=t)
        np.multiply(t, t, out=t)
        t -= s
        t *= 1.0 - b2
        s += t
        s += self.epsilon
        np.multiply(s, 1.0 / (1.0 - b2 ** step), out=t)
        np.sqrt(t, out=t)
        t += self.epsilon
        np.divide(m, t, out=t)
        t *= learning_rate / (1.0 - b1 ** step)
        np.subtract(variable.value, t, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
