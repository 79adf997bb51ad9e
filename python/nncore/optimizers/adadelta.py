"""Adadelta (Zeiler 2012; Keras 3 ``Adadelta``)."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import Optimizer


@register("optimizer", "adadelta")
class Adadelta(Optimizer):
    """Keras 3 update, with ``rms(a) = sqrt(a + epsilon)``::

        acc_g  = rho * acc_g + (1 - rho) * g²
        delta  = -rms(acc_dx) / rms(acc_g) * g
        acc_dx = rho * acc_dx + (1 - rho) * delta²
        w     += learning_rate * delta

    Keras' default learning rate is 0.001; the paper's form is ``learning_rate=1.0``.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = float(rho)
        self.epsilon = float(epsilon)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "accumulated_grad")
            self.add_slot(v, "accumulated_delta_var")

    def update_step(self, gradient, variable, learning_rate) -> None:
        rho, eps = self.rho, self.epsilon
        acc_g = self.slot(variable, "accumulated_grad")
        acc_dx = self.slot(variable, "accumulated_delta_var")
        t1, t2 = self.scratch(variable, 0), self.scratch(variable, 1)
        acc_g *= rho
        np.multiply(gradient, gradient, out=t1)
        t1 *= 1.0 - rho
        acc_g += t1
        np.add(acc_dx, eps, out=t1)
        np.sqrt(t1, out=t1)
        np.add(acc_g, eps, out=t2)
        np.sqrt(t2, out=t2)
        np.divide(t1, t2, out=t1)
        t1 *= gradient                      # t1 = -delta
        acc_dx *= rho
        np.multiply(t1, t1, out=t2)
        t2 *= 1.0 - rho
        acc_dx += t2
        t1 *= learning_rate
        np.subtract(variable.value, t1, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
