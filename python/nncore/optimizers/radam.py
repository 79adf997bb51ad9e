"""Rectified Adam (Liu et al. 2019), in the form of ``tfa.optimizers.RectifiedAdam`` (the Keras
ecosystem's version; Keras 3 itself has none)."""

from __future__ import annotations

import math

import numpy as np

from ..serialization import register
from .base import Optimizer


@register("optimizer", "radam", "rectified_adam")
class RAdam(Optimizer):
    """Adam whose adaptive step is switched on only once the variance of its second-moment
    estimate is tractable. With ``t = iterations + 1``::

        m = beta_1 m + (1 - beta_1) g;  v = beta_2 v + (1 - beta_2) g²
        m_hat = m / (1 - beta_1^t)
        rho_inf = 2 / (1 - beta_2) - 1;  rho_t = rho_inf - 2 t beta_2^t / (1 - beta_2^t)
        if rho_t >= sma_threshold (5):
            r = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))
            w -= learning_rate * r * m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)
        else:
            w -= learning_rate * m_hat          (momentum SGD for the first steps)

    Defaults as TensorFlow Addons (0.001, 0.9, 0.999, 1e-7, threshold 5); PyTorch's RAdam
    differs in where epsilon enters and uses ``rho_t > 5``. Weight decay: the base class's
    decoupled ``weight_decay``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 sma_threshold=5.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.sma_threshold = float(sma_threshold)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "momentum")
            self.add_slot(v, "velocity")

    def update_step(self, gradient, variable, learning_rate) -> None:
        b1, b2 = self.beta_1, self.beta_2
        step = self.iterations + 1
        b1p, b2p = b1 ** step, b2 ** step
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
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * step * b2p / (1.0 - b2p)
        if rho_t >= self.sma_threshold:
            r = math.sqrt((rho_t - 4.0) / (rho_inf - 4.0) * (rho_t - 2.0) / (rho_inf - 2.0) * rho_inf / rho_t)
            np.multiply(vel, 1.0 / (1.0 - b2p), out=t)
            np.sqrt(t, out=t)
            t += self.epsilon
            np.divide(m, t, out=t)
            t *= learning_rate * r / (1.0 - b1p)
        else:
            np.multiply(m, learning_rate / (1.0 - b1p), out=t)
        np.subtract(variable.value, t, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "sma_threshold": self.sma_threshold}
