"""Adam (Kingma & Ba 2014) with optional AMSGrad, and AdamW (Loshchilov & Hutter 2019), as in
Keras 3."""

from __future__ import annotations

import math

import numpy as np

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

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "momentum")
            self.add_slot(v, "velocity")
            if self.amsgrad:
                self.add_slot(v, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate) -> None:
        # The fused kernel nncore.ops.adam_step replaces this NumPy body (one pass instead of ~12).
        b1, b2 = self.beta_1, self.beta_2
        step = self.iterations + 1
        alpha = learning_rate * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step)
        m = self.slot(variable, "momentum")
        vel = self.slot(variable, "velocity")
        t = self.scratch(variable)
        np.subtract(gradient, m, out=t)
        t *= 1.0 - b1
        m += t
        np.multiply(gradient, gradient, out=t)
        t -= vel
        t *= 1.0 - b2
        vel += t
        if self.amsgrad:
            v_hat = self.slot(variable, "velocity_hat")
            np.maximum(v_hat, vel, out=v_hat)
            vel = v_hat
        np.sqrt(vel, out=t)
        t += self.epsilon
        np.divide(m, t, out=t)
        t *= alpha
        np.subtract(variable.value, t, out=variable.value)

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
