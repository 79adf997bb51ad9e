"""Cross-entropies of ``keras.ops`` (per-sample values, no reduction over the batch) and
``one_hot``. The losses are differentiable in ``output`` and, for the dense ones, in ``target``.

Probabilities (``from_logits=False``) are normalized to sum to one along ``axis`` and clipped to
``[epsilon, 1 - epsilon]`` with Keras' ``epsilon = 1e-7`` before the log; the clip passes no
gradient outside that range. Logits go through the log-softmax kernel (or the exact
``softplus(x) - x * target`` for the binary case, as TensorFlow's and JAX's Keras backends),
finite for any finite logit.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import backend
from ..autodiff.tape import lift, record
from . import _activations as _k
from . import _softmax as _s
from .nn_activations import grad_as

__all__ = ["one_hot", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "binary_crossentropy"]

EPSILON = 1e-7


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """``x``'s integer class indices as one-hot vectors along a new axis ``axis`` (of length
    ``num_classes``); an index outside ``[0, num_classes)`` gives an all-zero vector, as in
    TensorFlow and JAX. ``dtype`` defaults to ``backend.floatx()``. Not differentiable."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported (nncore has no sparse tensors)")
    idx = np.asarray(lift(x)[0])
    if idx.dtype.kind == "f":
        if not np.array_equal(idx, np.trunc(idx)):
            raise ValueError("one_hot: x must hold whole numbers (class indices)")
    elif idx.dtype.kind not in "iub":
        raise TypeError(f"one_hot: x must be an integer array, got dtype {idx.dtype}")
    num_classes = operator.index(num_classes)
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be >= 0, got {num_classes}")
    ndim = idx.ndim + 1
    ax = operator.index(axis)
    if not -ndim <= ax < ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for a result of rank {ndim}")
    out_dtype = np.dtype(backend.floatx() if dtype is None else dtype)
    idx = idx.astype(np.int64)
    result = (idx[..., None] == np.arange(num_classes)).astype(out_dtype)
    return result if ax % ndim == ndim - 1 else np.moveaxis(result, -1, ax)


def _float_output(o):
    o = np.asarray(o)
    return o if o.dtype.kind == "f" else o.astype(backend.floatx())


def _check_axis(axis, ndim, op):
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, got {axis!r}") from None
    if not -ndim <= ax < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for 'output' of rank {ndim}")
    return ax % ndim


def _normalized_log(o, axis):
    """``(log(clip(p)), p, total, inside)`` for probabilities ``p = o / sum(o, axis)``."""
    total = np.sum(o, axis=axis, keepdims=True)
    p = o / total
    eps = o.dtype.type(EPSILON)
    hi = o.dtype.type(1.0 - EPSILON)
    clipped = np.clip(p, eps, hi)
    inside = (p >= eps) & (p <= hi)
    return np.log(clipped), (p, clipped, total, inside)


def _probs_grad(d_log, saved, axis):
    """Gradient w.r.t. the unnormalized ``output`` from the gradient w.r.t. ``log(clip(p))``."""
    p, clipped, total, inside = saved
    dp = np.where(inside, d_log / clipped, 0)
    # p = o / sum(o): d o_j = (dp_j - sum_k dp_k p_k) / sum(o)
    return (dp - np.sum(dp * p, axis=axis, keepdims=True)) / total


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-sum(target * log(probs), axis)`` per sample (``output`` probabilities, or logits when
    ``from_logits``); ``target`` and ``output`` of one shape, rank >= 1."""
    t, nt = lift(target)
    o, no = lift(output)
    o = _float_output(o)
    t = np.asarray(t)
    if t.shape != o.shape:
        raise ValueError(f"categorical_crossentropy: 'target' and 'output' must have the same "
                         f"shape, got target.shape={t.shape}, output.shape={o.shape}")
    if o.ndim < 1:
        raise ValueError(f"categorical_crossentropy: 'target' and 'output' must be at least "
                         f"rank 1, got shape {o.shape}")
    ax = _check_axis(axis, o.ndim, "categorical_crossentropy")
    t = t.astype(o.dtype, copy=False)
    if from_logits:
        logp = _s.log_softmax(o, ax)
        saved = None
    else:
        logp, saved = _normalized_log(o, ax)
    loss = -np.sum(t * logp, axis=ax)
    if nt is None and no is None:
        return loss

    def vjp(g, need):
        ge = np.expand_dims(grad_as(g, o.dtype), ax)
        d_log = -ge * t
        dt = do = None
        if need[0]:
            dt = -ge * logp
        if need[1]:
            do = (_s.log_softmax_backward(d_log, logp, ax) if from_logits
                  else _probs_grad(d_log, saved, ax))
        return dt, do
    return record(loss, (nt, no), vjp)


def _labels(t, shape, op):
    t = np.asarray(t)
    if t.dtype.kind == "f":
        if not np.array_equal(t, np.trunc(t)):
            raise ValueError(f"{op}: 'target' must hold whole class indices")
    elif t.dtype.kind not in "iub":
        raise TypeError(f"{op}: 'target' must be an integer array, got dtype {t.dtype}")
    return t.astype(np.int64)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-log(probs[target])`` per sample: ``target`` holds class indices, with the shape of
    ``output`` without its class axis (a trailing axis of 1 is dropped, as Keras does)."""
    op = "sparse_categorical_crossentropy"
    o, no = lift(output)
    o = _float_output(o)
    t = _labels(lift(target)[0], o.shape, op)
    if o.ndim < 1:
        raise ValueError(f"{op}: 'output' must be at least rank 1, got shape {o.shape}")
    ax = _check_axis(axis, o.ndim, op)
    if t.ndim == o.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    rest = o.shape[:ax] + o.shape[ax + 1:]
    if t.shape != rest:
        raise ValueError(f"{op}: 'target' must have the shape of 'output' without its class axis "
                         f"{ax}, got target.shape={t.shape}, output.shape={o.shape}")
    classes = o.shape[ax]
    if t.size and (t.min() < 0 or t.max() >= classes):
        bad = t[(t < 0) | (t >= classes)].flat[0]
        raise ValueError(f"{op}: class index {bad} in 'target' is out of range for {classes} "
                         "classes")
    if from_logits:
        logp = _s.log_softmax(o, ax)
        saved = None
    else:
        logp, saved = _normalized_log(o, ax)
    ti = np.expand_dims(t, ax)
    loss = -np.take_along_axis(logp, ti, axis=ax).squeeze(ax)
    if no is None:
        return loss

    def vjp(g, need):
        d_log = np.zeros_like(logp)
        np.put_along_axis(d_log, ti, -np.expand_dims(grad_as(g, o.dtype), ax), axis=ax)
        return ((_s.log_softmax_backward(d_log, logp, ax) if from_logits
                 else _probs_grad(d_log, saved, ax)),)
    return record(loss, (no,), vjp)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise ``-(target log(p) + (1 - target) log(1 - p))`` (no reduction, as
    ``keras.ops``); ``target`` and ``output`` of one shape."""
    t, nt = lift(target)
    o, no = lift(output)
    o = _float_output(o)
    t = np.asarray(t)
    if t.shape != o.shape:
        raise ValueError(f"binary_crossentropy: 'target' and 'output' must have the same shape, "
                         f"got target.shape={t.shape}, output.shape={o.shape}")
    t = t.astype(o.dtype, copy=False)
    if from_logits:
        # softplus(x) - x t = max(x, 0) - x t + log1p(exp(-|x|)): exact for any finite logit.
        loss = _k.softplus(o) - o * t
        if nt is None and no is None:
            return loss

        def vjp(g, need):
            g = grad_as(g, o.dtype)
            return (-g * o if need[0] else None,
                    g * (_k.sigmoid(o) - t) if need[1] else None)
        return record(loss, (nt, no), vjp)
    eps = o.dtype.type(EPSILON)
    hi = o.dtype.type(1.0 - EPSILON)
    clipped = np.clip(o, eps, hi)
    log_p, log_q = np.log(clipped), np.log1p(-clipped)
    loss = -(t * log_p + (1 - t) * log_q)
    if nt is None and no is None:
        return loss

    def vjp_probs(g, need):
        g = grad_as(g, o.dtype)
        dt = do = None
        if need[0]:
            dt = -g * (log_p - log_q)
        if need[1]:
            inside = (o >= eps) & (o <= hi)
            do = np.where(inside, g * ((1 - t) / (1 - clipped) - t / clipped), 0)
        return dt, do
    return record(loss, (nt, no), vjp_probs)
