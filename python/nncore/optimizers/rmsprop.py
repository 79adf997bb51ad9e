"""RMSprop (Hinton 2012; Keras 3 ``RMSprop``), optionally centered and with momentum."""

from __future__ import annotations

import numpy as np

from .. import ops
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

    _slot_groups = (("velocity",), ("momentum",), ("average_gradient",))

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "velocity")
            if self.momentum > 0:
                self.add_slot(v, "momentum")
            if self.centered:
                self.add_slot(v, "average_gradient")

    def update_step(self, gradient, variable, learning_rate) -> None:
        # One fused pass over w, g and the slots (formula in the class docstring).
        ops.rmsprop_step(
            variable.value, np.asarray(gradient, order="C"), self.slot(variable, "velocity"),
            self.slot(variable, "momentum") if self.momentum > 0 else None, lr=learning_rate,
            rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, centered=self.centered,
            mg=self.slot(variable, "average_gradient") if self.centered else None)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
