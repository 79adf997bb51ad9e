"""RMSprop (Hinton 2012; Keras 3 ``RMSprop``), optionally centered and with momentum."""

from __future__ import annotations

import numpy as np

from ..serialization import register
from .base import Optimizer


@register("optimizer", "rmsprop")
class RMSprop(Optimizer):
    """Keras 3 update (epsilon inside the square root)::

        v   = rho * v + (1 - rho) * g²
        avg = rho * avg + (1 - rho) * g               (centered only)
        inc = learning_rate * g / sqrt(v - avg² + epsilon)   (v + epsilon when not centered)
        m   = momentum * m + inc; w -= m              (w -= inc when momentum == 0)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "velocity")
            if self.momentum > 0:
                self.add_slot(v, "momentum")
            if self.centered:
                self.add_slot(v, "average_gradient")

    def update_step(self, gradient, variable, learning_rate) -> None:
        # The fused kernel nncore.ops.rmsprop_step replaces this NumPy body.
        rho = self.rho
        vel = self.slot(variable, "velocity")
        t1, t2 = self.scratch(variable, 0), self.scratch(variable, 1)
        vel *= rho
        np.multiply(gradient, gradient, out=t1)
        t1 *= 1.0 - rho
        vel += t1
        if self.centered:
            avg = self.slot(variable, "average_gradient")
            avg *= rho
            np.multiply(gradient, 1.0 - rho, out=t1)
            avg += t1
            np.multiply(avg, avg, out=t1)
            np.subtract(vel, t1, out=t1)
            t1 += self.epsilon
        else:
            np.add(vel, self.epsilon, out=t1)
        np.sqrt(t1, out=t1)
        np.divide(gradient, t1, out=t2)
        t2 *= learning_rate
        if self.momentum > 0:
            m = self.slot(variable, "momentum")
            m *= self.momentum
            m += t2
            np.subtract(variable.value, m, out=variable.value)
        else:
            np.subtract(variable.value, t2, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
