"""Adam (Kingma & Ba 2014) with optional AMSGrad, and AdamW (Loshchilov & Hutter 2019), as in
Keras 3."""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..serialization import register
from .base import Optimizer


@register("optimizer", "adam")
class Adam(Optimizer):
    """Keras 3 update, with ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        v = v + (g² - v) * (1 - beta_2)
        v_hat = max(v_hat, v)                      (amsgrad only; then v_hat replaces v)
        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w -= alpha * m / (sqrt(v) + epsilon)

    The bias correction sits in ``alpha`` and ``epsilon`` outside the square root ("epsilon
    hat" of the paper), so this differs from PyTorch's Adam by the scaling of epsilon.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    _slot_groups = (("momentum", "velocity"), ("velocity_hat",))

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "momentum")
            self.add_slot(v, "velocity")
            if self.amsgrad:
                self.add_slot(v, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate) -> None:
        # One fused pass over w, g, m, v (the NumPy formula above is the tests' reference).
        ops.adam_step(variable.value, np.asarray(gradient, order="C"),
                      self.slot(variable, "momentum"), self.slot(variable, "velocity"),
                      lr=learning_rate, beta1=self.beta_1, beta2=self.beta_2,
                      epsilon=self.epsilon, step=int(self.iterations) + 1,
                      amsgrad_vhat=self.slot(variable, "velocity_hat") if self.amsgrad else None)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@register("optimizer", "adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3 ``AdamW``, ``weight_decay=0.004`` by default):
    before each Adam step ``w -= w * weight_decay * learning_rate``."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
