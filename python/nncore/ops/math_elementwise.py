"""Element-wise arithmetic of ``keras.ops`` (NumPy broadcasting), each with its vector-Jacobian
product. Plain operands give plain NumPy results; a tracked operand (see ``nncore.autodiff``)
gives a ``Tensor`` recorded for differentiation."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import SUNK, lift, record, unbroadcast, value_of
from . import _bias

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "divide_no_nan", "negative",
           "positive", "power", "square", "sqrt", "exp", "exp2", "expm1", "log", "log1p", "log2",
           "log10", "logaddexp", "abs", "absolute", "sign", "maximum", "minimum", "clip", "where",
           "sin", "cos", "tan", "sinh", "cosh", "reciprocal", "rsqrt",
           # not differentiable: plain results even for tracked operands
           "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "floor",
           "ceil", "round", "trunc", "floor_divide", "mod", "logical_and", "logical_or",
           "logical_not", "logical_xor", "isfinite", "isnan", "isinf"]


def _shape(v):
    return np.shape(v)


def add(x1, x2):
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.add(a, b)
    if na is None and nb is None:
        return out
    sa, sb = _shape(a), _shape(b)

    def vjp(g, need, sinks=None):
        gb = None
        if need[1]:
            sink = None if sinks is None else sinks[1]
            if (sink is not None and len(sb) == 1 and g.ndim >= 2 and g.shape[-1] == sb[0]
                    and g.dtype == sink.dtype and g.dtype.kind == "f" and g.dtype.itemsize >= 4):
                # A bias: its gradient summed into its own array by the kernel.
                _bias.bias_grad(g, out=sink, accumulate=True)
                gb = SUNK
            else:
                gb = unbroadcast(g, sb)
        return (unbroadcast(g, sa) if need[0] else None), gb
    vjp.sinks = True
    return record(out, (na, nb), vjp)


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
    sa, sb = _shape(a), _shape(b)

    def vjp(g, need):
        ga = g / b
        return (unbroadcast(ga, sa) if need[0] else None,
                unbroadcast(-ga * out, sb) if need[1] else None)
    return record(out, (na, nb), vjp)


true_divide = divide


def divide_no_nan(x1, x2):
    """``x1 / x2``, 0 where ``x2 == 0`` (and no gradient flows there)."""
    a, na = lift(x1)
    b, nb = lift(x2)
    zero = np.asarray(b) == 0
    # Dividing by 1 where x2 is 0 keeps the warnings and NaNs away and NumPy's result dtype.
    safe_b = np.where(zero, 1, b).astype(np.result_type(b), copy=False) if zero.any() else b
    out = np.true_divide(a, safe_b)
    if zero.any():
        out = np.where(zero, 0, out)
    if na is None and nb is None:
        return out
    sa, sb = _shape(a), _shape(b)

    def vjp(g, need):
        ga = np.where(zero, 0, g / safe_b)
        return (unbroadcast(ga, sa) if need[0] else None,
                unbroadcast(-ga * out, sb) if need[1] else None)
    return record(out, (na, nb), vjp)


def _unary(name, forward, keeps, grad):
    """An element-wise op of one operand: ``forward(a)``, and its VJP ``grad(g, a, out)`` (the
    input's gradient from the output's ``g``). ``keeps`` names what the VJP reads, "in", "out",
    "both" or "", so that the recording holds on to nothing else."""
    def op(x):
        a, na = lift(x)
        out = forward(a)
        if na is None:
            return out
        kept_a = a if keeps in ("in", "both") else None
        kept_out = out if keeps in ("out", "both") else None
        return record(out, (na,), lambda g, need: (grad(g, kept_a, kept_out),))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise ``{name}`` (``keras.ops.{name}``), differentiable."
    return op


negative = _unary("negative", np.negative, "", lambda g, a, out: -g)
positive = _unary("positive", np.positive, "", lambda g, a, out: g)
square = _unary("square", np.square, "in", lambda g, a, out: g * 2 * a)
sqrt = _unary("sqrt", np.sqrt, "out", lambda g, a, out: g / (2 * out))
rsqrt = _unary("rsqrt", lambda a: 1 / np.sqrt(a), "both", lambda g, a, out: g * -0.5 * out / a)
reciprocal = _unary("reciprocal", np.reciprocal, "out", lambda g, a, out: -g * out * out)
exp = _unary("exp", np.exp, "out", lambda g, a, out: g * out)
expm1 = _unary("expm1", np.expm1, "out", lambda g, a, out: g * (out + 1))
log = _unary("log", np.log, "in", lambda g, a, out: g / a)
log1p = _unary("log1p", np.log1p, "in", lambda g, a, out: g / (1 + a))
exp2 = _unary("exp2", np.exp2, "out", lambda g, a, out: g * out * np.log(2.0))
log2 = _unary("log2", np.log2, "in", lambda g, a, out: g / (a * np.log(2.0)))
log10 = _unary("log10", np.log10, "in", lambda g, a, out: g / (a * np.log(10.0)))
sin = _unary("sin", np.sin, "in", lambda g, a, out: g * np.cos(a))
cos = _unary("cos", np.cos, "in", lambda g, a, out: -g * np.sin(a))
tan = _unary("tan", np.tan, "out", lambda g, a, out: g * (1 + out * out))
sinh = _unary("sinh", np.sinh, "in", lambda g, a, out: g * np.cosh(a))
cosh = _unary("cosh", np.cosh, "in", lambda g, a, out: g * np.sinh(a))
abs = _unary("abs", np.abs, "in", lambda g, a, out: g * np.sign(a))
sign = _unary("sign", np.sign, "out", lambda g, a, out: np.zeros_like(out))


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


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))`` without overflow."""
    a, na = lift(x1)
    b, nb = lift(x2)
    out = np.logaddexp(a, b)
    if na is None and nb is None:
        return out

    def vjp(g, need):
        # The weights exp(x - out) are the softmax of the pair: finite for any finite inputs.
        return (unbroadcast(g * np.exp(a - out), _shape(a)) if need[0] else None,
                unbroadcast(g * np.exp(b - out), _shape(b)) if need[1] else None)
    return record(out, (na, nb), vjp)


absolute = abs


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
        # np.clip is minimum(maximum(x, x_min), x_max): with x_min > x_max the result is x_max,
        # so the upper bound is tested on maximum(x, x_min). A tie goes to x (as TensorFlow).
        above = np.maximum(a, lo) > hi
        below = (np.asarray(a) < lo) & ~above
        inside = ~(below | above)
        return (unbroadcast(np.where(inside, g, 0), _shape(a)) if need[0] else None,
                unbroadcast(np.where(below, g, 0), _shape(lo)) if need[1] else None,
                unbroadcast(np.where(above, g, 0), _shape(hi)) if need[2] else None)
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
    sa, sb = _shape(a), _shape(b)

    def vjp(g, need):
        return (unbroadcast(np.where(c, g, 0), sa) if need[0] else None,
                unbroadcast(np.where(c, 0, g), sb) if need[1] else None)
    return record(out, (na, nb), vjp)


# -- not differentiable ---------------------------------------------------------------------------
# Comparisons, rounding and integer division have a zero (or undefined) derivative almost
# everywhere: as in TensorFlow they return plain arrays, so nothing flows back through them
# (``tape.gradient`` gives None, or zeros with ``unconnected_gradients="zero"``).

def _plain2(ufunc):
    def op(x1, x2):
        return ufunc(value_of(x1), value_of(x2))
    op.__name__ = ufunc.__name__
    op.__doc__ = f"``np.{ufunc.__name__}`` (a plain array: not differentiable)."
    return op


def _plain1(ufunc):
    def op(x):
        return ufunc(value_of(x))
    op.__name__ = ufunc.__name__
    op.__doc__ = f"``np.{ufunc.__name__}`` (a plain array: not differentiable)."
    return op


equal = _plain2(np.equal)
not_equal = _plain2(np.not_equal)
greater = _plain2(np.greater)
greater_equal = _plain2(np.greater_equal)
less = _plain2(np.less)
less_equal = _plain2(np.less_equal)
floor_divide = _plain2(np.floor_divide)
mod = _plain2(np.mod)
logical_and = _plain2(np.logical_and)
logical_or = _plain2(np.logical_or)
logical_xor = _plain2(np.logical_xor)
logical_not = _plain1(np.logical_not)
floor = _plain1(np.floor)
ceil = _plain1(np.ceil)
trunc = _plain1(np.trunc)
isfinite = _plain1(np.isfinite)
isnan = _plain1(np.isnan)
isinf = _plain1(np.isinf)


def round(x, decimals=0):  # noqa: A001  (keras.ops.round)
    """``np.round`` (a plain array: not differentiable)."""
    return np.round(value_of(x), decimals)
