"""Element-wise arithmetic of ``keras.ops`` (NumPy broadcasting), each with its vector-Jacobian
product. Plain operands give plain NumPy results; a tracked operand (see ``nncore.autodiff``)
gives a ``Tensor`` recorded for differentiation."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record, unbroadcast

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "negative", "positive", "power",
           "square", "sqrt", "exp", "expm1", "log", "log1p", "abs", "absolute", "sign",
           "maximum", "minimum", "clip", "where", "sin", "cos", "reciprocal", "rsqrt"]


def _shape(v):
    return np.shape(v)


def add(x1, x2):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.add(a, b)
    if na is None and nb is None:
        return out
    sa, sb = _shape(a), _shape(b)
    return record(out, (na, nb), lambda g, need: (unbroadcast(g, sa) if need[0] else None,
                                                  unbroadcast(g, sb) if need[1] else None))


def subtract(x1, x2):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.subtract(a, b)
    if na is None and nb is None:
        return out
    sa, sb = _shape(a), _shape(b)
    return record(out, (na, nb), lambda g, need: (unbroadcast(g, sa) if need[0] else None,
                                                  unbroadcast(-g, sb) if need[1] else None))


def multiply(x1, x2):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.multiply(a, b)
    if na is None and nb is None:
        return out

    def vjp(g, need):
        return (unbroadcast(g * b, _shape(a)) if need[0] else None,
                unbroadcast(g * a, _shape(b)) if need[1] else None)
    return record(out, (na, nb), vjp)


def divide(x1, x2):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.true_divide(a, b)
    if na is None and nb is None:
        return out

    def vjp(g, need):
        ga = g / b
        return (unbroadcast(ga, _shape(a)) if need[0] else None,
                unbroadcast(-ga * out, _shape(b)) if need[1] else None)
    return record(out, (na, nb), vjp)


true_divide = divide


def negative(x):
    a, na = lift(x)
    out = np.negative(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (-g,))


def positive(x):
    a, na = lift(x)
    out = np.positive(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g,))


def power(x1, x2):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.power(a, b)
    if na is None and nb is None:
        return out

    def vjp(g, need):
        ga = gb = None
        if need[0]:
            ga = unbroadcast(g * b * np.power(a, np.subtract(b, 1)), _shape(a))
        if need[1]:
            # d a^b / d b = a^b log a, taken as 0 where a == 0 (the limit for b > 0).
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(np.asarray(a) > 0, np.log(np.where(np.asarray(a) > 0, a, 1)), 0)
            gb = unbroadcast(g * out * log_a, _shape(b))
        return ga, gb
    return record(out, (na, nb), vjp)


def square(x):
    a, na = lift(x)
    out = np.square(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g * 2 * a,))


def sqrt(x):
    a, na = lift(x)
    out = np.sqrt(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g / (2 * out),))


def rsqrt(x):
    a, na = lift(x)
    out = 1 / np.sqrt(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g * -0.5 * out / a,))


def reciprocal(x):
    a, na = lift(x)
    out = np.reciprocal(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (-g * out * out,))


def exp(x):
    a, na = lift(x)
    out = np.exp(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g * out,))


def expm1(x):
    a, na = lift(x)
    out = np.expm1(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g * (out + 1),))


def log(x):
    a, na = lift(x)
    out = np.log(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g / a,))


def log1p(x):
    a, na = lift(x)
    out = np.log1p(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g / (1 + a),))


def sin(x):
    a, na = lift(x)
    out = np.sin(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g * np.cos(a),))


def cos(x):
    a, na = lift(x)
    out = np.cos(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (-g * np.sin(a),))


def abs(x):  # noqa: A001  (keras.ops.abs)
    a, na = lift(x)
    out = np.abs(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (g * np.sign(a),))


absolute = abs


def sign(x):
    a, na = lift(x)
    out = np.sign(a)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (np.zeros_like(out),))


def _select(x1, x2, ufunc, pick_first):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = ufunc(a, b)
    if na is None and nb is None:
        return out

    def vjp(g, need):
        # Ties send the gradient to the first operand (as TensorFlow's maximum does).
        first = pick_first(a, b)
        return (unbroadcast(np.where(first, g, 0), _shape(a)) if need[0] else None,
                unbroadcast(np.where(first, 0, g), _shape(b)) if need[1] else None)
    return record(out, (na, nb), vjp)


def maximum(x1, x2):
    return _select(x1, x2, np.maximum, lambda a, b: np.asarray(a) >= b)


def minimum(x1, x2):
    return _select(x1, x2, np.minimum, lambda a, b: np.asarray(a) <= b)


def clip(x, x_min, x_max):
    a, na = lift(x)
    lo, nlo = lift(x_min)
    hi, nhi = lift(x_max)
    out = np.clip(a, lo, hi)
    if na is None and nlo is None and nhi is None:
        return out

    def vjp(g, need):
        below = np.asarray(a) < lo
        above = np.asarray(a) > hi
        inside = ~(below | above)
        return (unbroadcast(np.where(inside, g, 0), _shape(a)) if need[0] else None,
                unbroadcast(np.where(below, g, 0), _shape(lo)) if need[1] else None,
                unbroadcast(np.where(above & ~below, g, 0), _shape(hi)) if need[2] else None)
    return record(out, (na, nlo, nhi), vjp)


def where(condition, x1=None, x2=None):
    c, _ = lift(condition)
    if x1 is None and x2 is None:
        return np.nonzero(c)
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    a, na = lift(x1)
    b, nb = lift(x2)
    c = np.asarray(c, dtype=bool)
    out = np.where(c, a, b)
    if na is None and nb is None:
        return out

    def vjp(g, need):
        return (unbroadcast(np.where(c, g, 0), _shape(a)) if need[0] else None,
                unbroadcast(np.where(c, 0, g), _shape(b)) if need[1] else None)
    return record(out, (na, nb), vjp)
