"""Stochastic gradient descent, with optional (Nesterov) momentum (Keras 3 ``SGD``)."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..serialization import register
from .base import Optimizer


@register("optimizer", "sgd")
class SGD(Optimizer):
    """``w -= learning_rate * g`` [002: ``x_{t+1} = x_t - α ∇f(x_t)``].

    With ``momentum`` (Keras 3 form): ``v = momentum * v - learning_rate * g; w += v``; with
    ``nesterov=True``: ``w += momentum * v - learning_rate * g`` (``v`` already updated). The
    seed's ``v = ρ v + ∇f; x -= α v`` [002] is the same iteration for a constant learning rate
    (its velocity is Keras' divided by ``-α``).

    String names: ``"sgd"`` is plain SGD (``momentum=0``, learning rate 0.01 as in Keras);
    ``nncore.optimizers.get`` also resolves ``"momentum"`` to ``SGD(momentum=0.9)`` and
    ``"nesterov"`` / ``"nag"`` to ``SGD(momentum=0.9, nesterov=True)`` (no Keras equivalent).
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        momentum = float(momentum)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be a float in [0, 1], got {momentum}")
        self.momentum = momentum
        self.nesterov = bool(nesterov)

    def build(self, variables) -> None:
        super().build(variables)
        if self.momentum != 0.0:
            for v in self._variables:
                self.add_slot(v, "momentum")

    def update_step(self, gradient, variable, learning_rate) -> None:
        # One fused pass over w, g and the velocity (formula in the class docstring).
        velocity = self.slot(variable, "momentum") if self.momentum != 0.0 else None
        ops.sgd_step(variable.value, np.asarray(gradient, order="C"), velocity, lr=learning_rate,
                     momentum=self.momentum, nesterov=self.nesterov)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
