"""L-BFGS (Nocedal 1980; Liu & Nocedal 1989): a quasi-Newton step from the last ``history_size``
changes of weights and gradients, by the two-loop recursion, on each variable as a flat vector."""

from __future__ import annotations

import math

import numpy as np

from .. import _reductions
from ..serialization import register
from .base import Optimizer

#: Pairs with curvature ``s·y`` at or below this are skipped (PyTorch's threshold).
CURVATURE_EPS = 1e-10


@register("optimizer", "lbfgs", "l_bfgs")
class LBFGS(Optimizer):
    """Limited-memory BFGS without line search, one step per batch; ``learning_rate`` is the
    step size (default 1.0, the natural quasi-Newton step).

    Each step, on the variable seen as one flat vector ``x`` with gradient ``g``:

    1. If there was a previous step, form ``s = x - x_prev``, ``y = g - g_prev``. Keep the pair
       only if ``s·y > 1e-10`` (and finite): the curvature condition that keeps the inverse
       Hessian approximation positive definite. Keep at most ``history_size`` pairs, dropping
       the oldest; ``gamma = s·y / y·y`` of the newest pair scales the initial matrix
       ``H0 = gamma·I``.
    2. Two-loop recursion, ``q = H g``: for pairs newest to oldest
       ``a_i = (s_i·q)/(s_i·y_i); q -= a_i y_i``; then ``q *= gamma``; then oldest to newest
       ``b = (y_i·q)/(s_i·y_i); q += (a_i - b) s_i``.
    3. Safeguards: if ``g·q`` is not positive and finite (not a descent direction), the history
       is dropped. Without history (first step, or after a drop) the step is the gradient scaled
       by ``min(1, 1/‖g‖₁)`` (as PyTorch's first step), so a first step cannot explode.
    4. ``x -= learning_rate * q``.

    L-BFGS assumes consecutive gradients of one smooth function: it suits full-batch or
    large-batch training of small models [004]; with small noisy batches use a smaller
    ``learning_rate``. Each variable keeps its own history, so the textbook method is obtained
    when the model hands the optimizer one flat buffer of all weights (its default). Memory:
    ``2 (history_size + 1) + 4`` vectors of the variable's size.
    """

    def __init__(self, learning_rate=1.0, history_size=10, **kwargs):
        super().__init__(learning_rate, **kwargs)
        history_size = int(history_size)
        if history_size < 1:
            raise ValueError(f"history_size must be >= 1, got {history_size}")
        self.history_size = history_size

    def build(self, variables) -> None:
        super().build(variables)
        rows = self.history_size + 1   # one spare row receives the candidate pair
        for v in self._variables:
            self.add_slot(v, "s", shape=(rows, v.size))
            self.add_slot(v, "y", shape=(rows, v.size))
            self.add_slot(v, "rho", shape=(rows,), dtype=np.float64)
            self.add_slot(v, "prev_x", shape=(v.size,))
            self.add_slot(v, "prev_g", shape=(v.size,))
            # count of stored pairs, row of the newest, whether prev_* are set, gamma
            self.add_slot(v, "meta", shape=(4,), dtype=np.float64)

    def update_step(self, gradient, variable, learning_rate) -> None:
        x = variable.value.reshape(-1)
        g = np.ascontiguousarray(gradient).reshape(-1)
        S, Y = self.slot(variable, "s"), self.slot(variable, "y")
        rho, meta = self.slot(variable, "rho"), self.slot(variable, "meta")
        prev_x, prev_g = self.slot(variable, "prev_x"), self.slot(variable, "prev_g")
        q = self.scratch(variable, 0).reshape(-1)
        tmp = self.scratch(variable, 1).reshape(-1)
        rows = S.shape[0]
        count, head, has_prev, gamma = int(meta[0]), int(meta[1]), bool(meta[2]), float(meta[3])

        if has_prev:
            free = (head + 1) % rows
            s, y = S[free], Y[free]
            np.subtract(x, prev_x, out=s)
            np.subtract(g, prev_g, out=y)
            ys, yy = _reductions.dot(y, s), _reductions.dot(y, y)
            if ys > CURVATURE_EPS and math.isfinite(ys) and math.isfinite(yy):
                rho[free] = 1.0 / ys
                head = free
                count = min(count + 1, self.history_size)
                gamma = ys / yy

        np.copyto(q, g)
        order = [(head - k) % rows for k in range(count)]   # newest first
        alphas = []
        for i in order:
            a = rho[i] * _reductions.dot(S[i], q)
            alphas.append(a)
            np.multiply(Y[i], a, out=tmp)
            q -= tmp
        if count:
            q *= gamma
        for i, a in zip(reversed(order), reversed(alphas)):
            b = rho[i] * _reductions.dot(Y[i], q)
            np.multiply(S[i], a - b, out=tmp)
            q += tmp
        if count:
            gq = _reductions.dot(g, q)
            if not (gq > 0.0 and math.isfinite(gq)):
                count = 0
                np.copyto(q, g)
        if count == 0:
            g1 = float(np.abs(g).sum())
            if g1 > 1.0:
                q *= 1.0 / g1

        np.copyto(prev_x, x)
        np.copyto(prev_g, g)
        q *= learning_rate
        x -= q
        if not np.shares_memory(x, variable.value):
            variable.value[...] = x.reshape(variable.shape)
        meta[:] = (count, head, 1.0, gamma)

    def get_config(self) -> dict:
        return {**super().get_config(), "history_size": self.history_size}
