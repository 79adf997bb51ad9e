"""Nadam, Adam with Nesterov momentum (Dozat 2015; Keras 3 ``Nadam``)."""

from __future__ import annotations


import numpy as np

from ..serialization import register
from .base import Optimizer

_DECAY = 0.96  # Dozat's momentum-schedule constant, as in Keras


@register("optimizer", "nadam")
class Nadam(Optimizer):
    """Keras 3 update, with ``t = iterations + 1``, ``u_i = beta_1 (1 - 0.5 · 0.96^i)`` and
    ``U_t = u_1 ··· u_t``::

        m = m + (g - m) * (1 - beta_1);  v = v + (g² - v) * (1 - beta_2)
        m_hat = u_{t+1} m / (1 - U_t u_{t+1}) + (1 - u_t) g / (1 - U_t)
        v_hat = v / (1 - beta_2^t)
        w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    ``U_t`` is a function of the step count, so the saved state is the same as Adam's.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self._u_cache = (0, 1.0)  # (t, U_t)

    def build(self, variables) -> None:
        super().build(variables)
        for v in self._variables:
            self.add_slot(v, "momentum")
            self.add_slot(v, "velocity")

    def _u(self, i: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * _DECAY ** i)

    def _u_product(self, t: int) -> float:
        k, prod = self._u_cache
        if k > t:
            k, prod = 0, 1.0
        while k < t:
            k += 1
            prod *= self._u(k)
        self._u_cache = (k, prod)
        return prod

    def update_step(self, gradient, variable, learning_rate) -> None:
        b1, b2 = self.beta_1, self.beta_2
        step = self.iterations + 1
        u_t, u_next = self._u(step), self._u(step + 1)
        u_prod = self._u_product(step)
        m = self.slot(variable, "momentum")
        vel = self.slot(variable, "velocity")
        t1, t2 = self.scratch(variable, 0), self.scratch(variable, 1)
        np.subtract(gradient, m, out=t1)
        t1 *= 1.0 - b1
        m += t1
        np.multiply(gradient, gradient, out=t1)
        t1 -= vel
        t1 *= 1.0 - b2
        vel += t1
        np.multiply(m, u_next / (1.0 - u_prod * u_next), out=t1)
        np.multiply(gradient, (1.0 - u_t) / (1.0 - u_prod), out=t2)
        t1 += t2
        np.multiply(vel, 1.0 / (1.0 - b2 ** step), out=t2)
        np.sqrt(t2, out=t2)
        t2 += self.epsilon
        np.divide(t1, t2, out=t1)
        t1 *= learning_rate
        np.subtract(variable.value, t1, out=variable.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
