"""``keras.ops.moments`` and ``keras.ops.batch_normalization``, differentiable in every float
operand; ``batch_normalization`` runs on the batch-norm kernels (one channel axis, moved last).

``moments`` followed by ``batch_normalization`` on a tape gives the training-mode batch-norm
gradient by composition: the statistics' own VJPs carry the dependence on ``x``.
"""

from __future__ import annotations

import operator

import numpy as np

from ..autodiff.tape import lift, record
from ..errors import ShapeError
from . import _batchnorm
from .nn_activations import grad_as

__all__ = ["moments", "batch_normalization"]


def _norm_axes(axes, ndim, op):
    items = (axes,) if isinstance(axes, (int, np.integer)) else axes
    try:
        items = [operator.index(a) for a in items]
    except TypeError:
        raise TypeError(f"{op}: axes must be an int or a sequence of ints, got {axes!r}") from None
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for an input of rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axes {axes!r} repeat an axis")
    return tuple(sorted(out))


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes`` (the biased variance, computed around the mean
    in two passes). Both are differentiable with respect to ``x``."""
    if synchronized:
        raise NotImplementedError("moments: synchronized=True needs a distributed backend; "
                                  "nncore computes on one device")
    a, na = lift(x)
    a = np.asarray(a)
    if a.dtype.kind not in "f":
        a = a.astype(np.float64 if a.dtype.kind in "iub" and a.dtype.itemsize > 4 else np.float32)
    red = _norm_axes(axes, a.ndim, "moments")
    mean_k = np.mean(a, axis=red, keepdims=True)
    centered = a - mean_k
    var_k = np.mean(np.square(centered), axis=red, keepdims=True)
    mean = mean_k if keepdims else np.squeeze(mean_k, red)
    var = var_k if keepdims else np.squeeze(var_k, red)
    if na is None:
        return mean, var
    count = int(np.prod([a.shape[i] for i in red])) if red else 1
    dtype = a.dtype

    def expand(g):
        g = grad_as(g, dtype)
        return g if keepdims else np.expand_dims(g, red)

    def vjp_mean(g, need):
        return (np.broadcast_to(expand(g) / dtype.type(count), a.shape).astype(dtype, copy=True),)

    def vjp_var(g, need):
        # d var / d x = 2 (x - mean) / n; the mean's own dependence on x sums to zero.
        return ((expand(g) * dtype.type(2.0 / count)) * centered,)
    return record(mean, (na,), vjp_mean), record(var, (na,), vjp_var)


def _channel_vector(v, nv, c, name):
    """A per-channel operand as a 1-D array of length ``c`` (Keras reshapes it likewise)."""
    arr = np.asarray(v)
    if arr.size != c:
        raise ShapeError(f"batch_normalization: '{name}' must hold one value per channel ({c}), "
                         f"got shape {arr.shape}")
    return arr.reshape(c), arr.shape


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with the per-channel vectors
    laid along ``axis`` (``offset``/``scale`` None: 0 and 1)."""
    a, na = lift(x)
    m, nm = lift(mean)
    v, nv = lift(variance)
    o, no = lift(offset) if offset is not None else (None, None)
    s, ns = lift(scale) if scale is not None else (None, None)
    a = np.asarray(a)
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    if a.ndim == 0:
        raise ShapeError("batch_normalization: 'x' must have at least one axis")
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"batch_normalization: axis must be an int, got {axis!r}") from None
    if not -a.ndim <= ax < a.ndim:
        raise ValueError(f"batch_normalization: axis {axis} is out of range for 'x' of rank "
                         f"{a.ndim}")
    ax %= a.ndim
    c = a.shape[ax]
    dtype = a.dtype
    m, m_shape = _channel_vector(m, nm, c, "mean")
    v, v_shape = _channel_vector(v, nv, c, "variance")
    m, v = m.astype(dtype, copy=False), v.astype(dtype, copy=False)
    if o is not None:
        o, o_shape = _channel_vector(o, no, c, "offset")
        o = o.astype(dtype, copy=False)
    if s is not None:
        s, s_shape = _channel_vector(s, ns, c, "scale")
        s = s.astype(dtype, copy=False)
    last = ax == a.ndim - 1
    xl = a if last else np.moveaxis(a, ax, -1)
    y = _batchnorm.batch_norm_inference(xl, s, o, m, v, epsilon)
    if not last:
        y = np.ascontiguousarray(np.moveaxis(y, -1, ax))
    tracked = (na, nm, nv, no, ns)
    if all(n is None for n in tracked):
        return y

    def vjp(g, need):
        g = grad_as(g, dtype)
        gl = g if last else np.moveaxis(g, ax, -1)
        inv = (1.0 / np.sqrt(v.astype(np.float64) + epsilon)).astype(dtype)
        gain = inv if s is None else inv * s
        dx = dm = dv = do = ds = None
        if need[0]:
            dx = gl * gain
            if not last:
                dx = np.ascontiguousarray(np.moveaxis(dx, -1, ax))
        if any(need[1:]):
            # sum(g) and sum(g * x_hat) over all but the channel axis, in one kernel pass (its
            # training-mode input gradient is not used here).
            _, sum_gxhat, sum_g = _batchnorm.batch_norm_backward(gl, xl, None, m, inv)
            if need[1]:
                dm = (-sum_g * gain).reshape(m_shape)
            if need[2]:
                dv = (dtype.type(-0.5) * gain * inv * sum_gxhat).reshape(v_shape)
            if need[3]:
                do = sum_g.reshape(o_shape)
            if need[4]:
                ds = sum_gxhat.reshape(s_shape)
        return dx, dm, dv, do, ds
    return record(y, tracked, vjp)
