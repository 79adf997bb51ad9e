"""Fused optimizer updates, in place on a parameter array and its optimizer state.

One call updates a whole (typically flat) parameter buffer. The formulas are those of Keras 3
(``keras/src/optimizers/{sgd,adam,rmsprop}.py``), including where the bias correction and epsilon
sit, so trajectories match Keras's. ``weight_decay`` is Keras's decoupled decay, applied first:
``param -= lr * weight_decay * param`` (AdamW is ``adam_step`` with ``weight_decay > 0``).

``param`` and the state arrays are updated in place and must be float arrays of one dtype and
shape (views in other layouts are copied in and out); ``grad`` must match them. Nothing is
returned.

The updates run with subnormal numbers flushed to zero: the state of a parameter whose gradient
stays zero (a dead unit) decays into that range, where x86 arithmetic is several times slower.
Only values below the dtype's smallest normal number are affected.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _core
from ._checks import check_addressable

__all__ = ["adam_step", "rmsprop_step", "sgd_step"]


_INF = math.inf


def _float(value, name):
    """``value`` as a float; TypeError for non-numbers (bools and strings included)."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _bad(name, value, rule):
    return ValueError(f"{name} must be {rule}, got {value!r}")


def _usable(arr):
    """True when the core can update ``arr`` directly (or will reject it with a clear error)."""
    if type(arr) is not np.ndarray:
        return not isinstance(arr, np.ndarray)
    flags = arr.flags
    return flags.c_contiguous and flags.aligned


def _call_inplace(fn, inplace, names, args_before, args_after):
    """Calls fn(*inplace, *args); non-contiguous in-place arrays go through contiguous copies that
    are written back afterwards."""
    if all(a is None or _usable(a) for a in inplace):
        fn(*args_before(inplace), *args_after)
        return
    for a, name in zip(inplace, names):
        if isinstance(a, np.ndarray):
            check_addressable(a, name)
    work = [None if a is None or _usable(a) else np.ascontiguousarray(a) for a in inplace]
    if any(w is not None and not a.flags.writeable for w, a in zip(work, inplace)):
        raise ValueError("an array to update in place is read-only")
    arrays = [a if w is None else w for a, w in zip(inplace, work)]
    fn(*args_before(arrays), *args_after)
    for a, w in zip(inplace, work):
        if w is not None:
            a[...] = w


def sgd_step(param, grad, velocity=None, *, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """One SGD update (Keras 3 ``SGD``)::

        momentum == 0:  param -= lr * grad
        otherwise:      velocity = momentum * velocity - lr * grad
                        param += velocity                         (nesterov=False)
                        param += momentum * velocity - lr * grad  (nesterov=True)

    ``velocity`` (zeros before the first step) is required when ``momentum != 0``. Note Keras's
    sign convention: the velocity holds ``-lr`` times the running gradient, unlike the seed's
    ``v = rho v + dx; x -= lr v`` (the same trajectory for a constant learning rate).
    """
    lr = _float(lr, "lr")
    momentum = _float(momentum, "momentum")
    weight_decay = _float(weight_decay, "weight_decay")
    if not 0.0 <= lr < _INF:
        raise _bad("lr", lr, "finite and >= 0")
    if not 0.0 <= momentum <= 1.0:
        raise _bad("momentum", momentum, "in [0, 1]")
    if not 0.0 <= weight_decay < _INF:
        raise _bad("weight_decay", weight_decay, "finite and >= 0")
    if momentum != 0.0 and velocity is None:
        raise ValueError("sgd_step: momentum != 0 needs a velocity array (zeros at the start)")
    if momentum == 0.0:
        velocity = None
    nesterov = bool(nesterov)
    if _usable(param) and (velocity is None or _usable(velocity)):
        _core.sgd_step(param, grad, velocity, lr, momentum, nesterov, weight_decay)
        return
    _call_inplace(
        _core.sgd_step, [param, velocity], ["param", "velocity"],
        lambda a: (a[0], grad, a[1]), (lr, momentum, nesterov, weight_decay))


def adam_step(param, grad, m, v, *, lr, beta1=0.9, beta2=0.999, epsilon=1e-7, step,
              amsgrad_vhat=None, weight_decay=0.0):
    """One Adam update (Keras 3 ``Adam``; AdamW with ``weight_decay > 0``)::

        alpha = lr * sqrt(1 - beta2**step) / (1 - beta1**step)
        m += (grad - m) * (1 - beta1)
        v += (grad**2 - v) * (1 - beta2)
        vhat = max(vhat, v)                      (AMSGrad, when amsgrad_vhat is given; used as v)
        param -= m * alpha / (sqrt(v) + epsilon)

    ``step`` is the 1-based number of this update (Keras's ``iterations + 1``); ``m``, ``v`` (and
    ``amsgrad_vhat``) start as zeros. Defaults are Keras's (epsilon 1e-7, not PyTorch's 1e-8).
    """
    lr = _float(lr, "lr")
    beta1 = _float(beta1, "beta1")
    beta2 = _float(beta2, "beta2")
    epsilon = _float(epsilon, "epsilon")
    weight_decay = _float(weight_decay, "weight_decay")
    if not 0.0 <= lr < _INF:
        raise _bad("lr", lr, "finite and >= 0")
    if not 0.0 <= beta1 < 1.0:
        raise _bad("beta1", beta1, "in [0, 1)")
    if not 0.0 <= beta2 < 1.0:
        raise _bad("beta2", beta2, "in [0, 1)")
    if not 0.0 < epsilon < _INF:
        raise _bad("epsilon", epsilon, "finite and > 0")
    if not 0.0 <= weight_decay < _INF:
        raise _bad("weight_decay", weight_decay, "finite and >= 0")
    if type(step) is not int and (
            isinstance(step, bool) or not isinstance(step, (numbers.Integral, np.integer))):
        raise TypeError(f"adam_step: step must be an int (1 on the first update), got {step!r}")
    if step < 1:
        raise _bad("step", step, "an int >= 1 (1 on the first update)")
    if _usable(param) and _usable(m) and _usable(v) and (
            amsgrad_vhat is None or _usable(amsgrad_vhat)):
        _core.adam_step(param, grad, m, v, amsgrad_vhat, lr, beta1, beta2, epsilon, float(step),
                        weight_decay)
        return
    _call_inplace(
        _core.adam_step, [param, m, v, amsgrad_vhat], ["param", "m", "v", "amsgrad_vhat"],
        lambda a: (a[0], grad, a[1], a[2], a[3]),
        (lr, beta1, beta2, epsilon, float(step), weight_decay))


def rmsprop_step(param, grad, rms, momentum_buf=None, *, lr, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, mg=None, weight_decay=0.0):
    """One RMSprop update (Keras 3 ``RMSprop``)::

        rms = rho * rms + (1 - rho) * grad**2
        centered:  mg = rho * mg + (1 - rho) * grad;  denom = rms - mg**2 + epsilon
        else:      denom = rms + epsilon
        increment = lr * grad / sqrt(denom)
        momentum > 0:  momentum_buf = momentum * momentum_buf + increment;  param -= momentum_buf
        else:          param -= increment

    ``rms``, ``momentum_buf`` and ``mg`` start as zeros. ``momentum_buf`` is required when
    ``momentum > 0`` and ``mg`` when ``centered``.
    """
    lr = _float(lr, "lr")
    rho = _float(rho, "rho")
    momentum = _float(momentum, "momentum")
    epsilon = _float(epsilon, "epsilon")
    weight_decay = _float(weight_decay, "weight_decay")
    if not 0.0 <= lr < _INF:
        raise _bad("lr", lr, "finite and >= 0")
    if not 0.0 <= rho < 1.0:
        raise _bad("rho", rho, "in [0, 1)")
    if not 0.0 <= momentum < _INF:
        raise _bad("momentum", momentum, "finite and >= 0")
    if not 0.0 < epsilon < _INF:
        raise _bad("epsilon", epsilon, "finite and > 0")
    if not 0.0 <= weight_decay < _INF:
        raise _bad("weight_decay", weight_decay, "finite and >= 0")
    if momentum > 0.0 and momentum_buf is None:
        raise ValueError(
            "rmsprop_step: momentum > 0 needs a momentum_buf array (zeros at the start)")
    if momentum == 0.0:
        momentum_buf = None
    if centered and mg is None:
        raise ValueError("rmsprop_step: centered=True needs an mg array (zeros at the start)")
    if not centered and mg is not None:
        raise ValueError("rmsprop_step: mg is only used with centered=True")
    if _usable(param) and _usable(rms) and (momentum_buf is None or _usable(momentum_buf)) and (
            mg is None or _usable(mg)):
        _core.rmsprop_step(param, grad, rms, momentum_buf, mg, lr, rho, momentum, epsilon,
                           weight_decay)
        return
    _call_inplace(
        _core.rmsprop_step, [param, rms, momentum_buf, mg], ["param", "rms", "momentum_buf", "mg"],
        lambda a: (a[0], grad, a[1], a[2], a[3]),
        (lr, rho, momentum, epsilon, weight_decay))
