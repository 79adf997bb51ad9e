"""Loss base class: Keras reductions and sample weights, and the value-and-gradient API the
training loop calls once per batch."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..errors import DTypeError, ShapeError

#: ``keras.backend.epsilon()``: the clipping / division guard of Keras' loss formulas.
EPSILON = 1e-7

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`: {reduction!r}; expected one of "
            "'sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none' or None"
        )
    return reduction


def standardize_dtype(dtype):
    """A loss's ``dtype`` argument as a NumPy float dtype name (None stays None)."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", dtype)
    try:
        np_dtype = np.dtype(name)
    except TypeError:
        np_dtype = None
    if np_dtype is None or np_dtype.kind != "f":
        raise DTypeError(f"loss dtype must be float16, float32 or float64, got {dtype!r}")
    return np_dtype.name


def as_float_array(x, what: str = "y_pred") -> np.ndarray:
    """``x`` as a float32/float64 array (other numeric dtypes become ``backend.floatx()``)."""
    arr = np.asarray(x)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}")
    return arr.astype(backend.floatx())


def as_target_array(y_true, dtype, what: str = "y_true") -> np.ndarray:
    arr = np.asarray(y_true)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}")
    return arr if arr.dtype == dtype else arr.astype(dtype)


def align_ranks(a: np.ndarray, b: np.ndarray):
    """Keras' ``squeeze_or_expand_to_same_rank``: when the ranks differ by one and the longer
    array ends in a dimension of 1, squeeze it (or, if the other array is rank 1, expand that
    one instead, so ``(N,)`` against ``(N, 1)`` becomes ``(N, 1)`` on both sides)."""
    if a.ndim == b.ndim:
        return a, b
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        if b.ndim == 1:
            b = b[:, None]
        else:
            a = a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        if a.ndim == 1:
            a = a[:, None]
        else:
            b = b[..., 0]
    return a, b


def _expand_like(w: np.ndarray, ndim: int) -> np.ndarray:
    """Trailing singleton axes so that per-sample weights broadcast over an array of rank ndim."""
    return w.reshape(w.shape + (1,) * (ndim - w.ndim)) if w.ndim < ndim else w


class Loss:
    """Base class of losses (Keras 3 semantics).

    A loss maps ``(y_true, y_pred)`` to per-sample values (Keras' ``call``) and reduces them:
    ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the number of
    per-sample values, ``"sum"`` does not, ``"mean_with_sample_weight"`` divides by the sum of the
    sample weights, ``"none"``/``None`` return the per-sample values.

    Subclasses implement ``_compute(y_true, y_pred, grad)`` returning ``(values, g, mask)``:
    the per-sample values, ``d sum(values) / d y_pred`` (only when ``grad`` is true, else
    ``None``) and an optional boolean mask of valid values (``None`` when all count). Inputs
    arrive as float arrays of one dtype, already rank-aligned and shape-checked by
    ``_prepare``, which subclasses with other label formats override.

    Losses that can fuse with the activation in front of them set ``fused_activation`` to
    ``"softmax"`` or ``"sigmoid"`` and implement ``forward_backward_from_logits``.
    """

    #: "softmax" or "sigmoid" when ``forward_backward_from_logits`` exists.
    fused_activation: str | None = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.reduction = standardize_reduction(reduction)
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"loss name must be a non-empty string, got {name!r}")
        self.name = name or backend.to_snake_case(type(self).__name__)
        self._dtype = standardize_dtype(dtype)

    @property
    def dtype(self):
        """The float dtype ``__call__`` and ``call`` compute in (Keras' ``dtype`` argument), or
        None: then they compute in y_pred's float dtype. Training always uses the model's."""
        return self._dtype

    # ---------------------------------------------------------------- subclass hooks
    def _compute(self, y_true: np.ndarray, y_pred: np.ndarray, grad: bool):
        if self._keras_style():
            # A Keras subclass: its call, written with nncore.ops, is differentiated.
            return differentiate_values(self.call, y_true, y_pred, grad, self.name)
        raise NotImplementedError(f"{type(self).__name__} does not implement _compute")

    def _prepare(self, y_true, y_pred):
        """Arrays of y_pred's float dtype, rank-aligned like Keras, with equal shapes."""
        y_pred = as_float_array(y_pred)
        y_true = as_target_array(y_true, y_pred.dtype)
        t, p = align_ranks(y_true, y_pred)
        if t.shape != p.shape:
            raise ShapeError(
                f"loss '{self.name}': y_true has shape {y_true.shape} but y_pred has shape "
                f"{y_pred.shape}; they must have the same shape (up to a trailing dimension of 1)"
            )
        return t, p

    # ---------------------------------------------------------------- public API
    def call(self, y_true, y_pred) -> np.ndarray:
        """The per-sample loss values (no reduction, no sample weights)."""
        t, p = self._prepare(y_true, self._in_dtype(y_pred))
        values = self._compute(t, p, False)[0]
        return values if self._dtype is None else values.astype(self._dtype, copy=False)

    def _in_dtype(self, y_pred):
        if self._dtype is None:
            return y_pred
        return as_float_array(y_pred).astype(self._dtype, copy=False)

    def _keras_style(self) -> bool:
        """A subclass written for Keras: it overrides ``call`` and not ``_compute``."""
        cls = type(self)
        return cls.call is not Loss.call and cls._compute is Loss._compute

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss (a float), or the weighted per-sample values for reduction 'none'.

        On a tracked ``y_pred`` (inside a ``GradientTape``, or in a custom ``train_step``) the
        result is a recorded Tensor whose gradient is the loss's own."""
        from ..autodiff.tape import lift, value_of

        value, node = lift(y_pred)
        if node is not None:
            return self._recorded(value_of(y_true), value, node, sample_weight)
        y_pred = self._in_dtype(y_pred)
        if self._keras_style():
            # As Keras: both inputs in one float dtype and rank-aligned, then the subclass's call.
            p = as_float_array(y_pred)
            t, p = align_ranks(as_target_array(y_true, p.dtype), p)
            values, mask = np.asarray(self.call(t, p)), None
            if values.dtype.kind != "f":
                values = values.astype(p.dtype)
        else:
            t, p = self._prepare(y_true, y_pred)
            values, _, mask = self._compute(t, p, False)
        out = self._reduce(values, None, sample_weight, mask, p.ndim)[0]
        if self._dtype is None:
            return out
        return np.asarray(out).astype(self._dtype) if np.ndim(out) else np.dtype(self._dtype).type(out)

    def forward_backward(self, y_true, y_pred, *, sample_weight=None):
        """``(loss, d loss / d y_pred)`` for one batch.

        The loss is reduced as configured, except that ``"none"`` is treated as
        ``"sum_over_batch_size"`` (training needs a scalar). The gradient has y_pred's shape and
        dtype.
        """
        y_pred_arr = as_float_array(y_pred)
        t, p = self._prepare(y_true, y_pred_arr)
        values, g, mask = self._compute(t, p, True)
        loss, g = self._reduce(values, g, sample_weight, mask, p.ndim, training=True)
        return loss, self._restore(g, y_pred_arr.shape)

    def _recorded(self, y_true, y_pred, node, sample_weight):
        from ..autodiff.tape import record

        if self.reduction in ("none", None):
            raise NotImplementedError(
                f"loss '{self.name}' with reduction='none' on a recorded y_pred: reduce it "
                "(the default 'sum_over_batch_size') or compute the values with nncore.ops")
        loss, g = self.forward_backward(y_true, y_pred, sample_weight=sample_weight)
        dtype = np.asarray(y_pred).dtype if self._dtype is None else np.dtype(self._dtype)
        return record(np.asarray(loss, dtype), (node,),
                      lambda gl, need: (g * np.asarray(gl, g.dtype),))

    def _restore(self, arr: np.ndarray, shape) -> np.ndarray:
        """Undoes ``_prepare``'s rank alignment (and axis moves) on an array shaped like y_pred."""
        return arr.reshape(shape)

    # ---------------------------------------------------------------- reduction
    def _reduce(self, values, g, sample_weight, mask, pred_ndim, training=False):
        """Keras' ``reduce_weighted_values`` on the values, and the same scaling on ``g``."""
        reduction = self.reduction
        if training and reduction in ("none", None):
            reduction = "sum_over_batch_size"
        w = None
        if sample_weight is not None:
            w = self._align_weights(np.asarray(sample_weight, dtype=values.dtype), values)
        if mask is not None:
            m = mask.astype(values.dtype)
            if reduction in ("sum_over_batch_size", "mean"):
                valid = float(m.sum())
                m *= (m.size / valid) if valid > 0 else 0.0
            w = m if w is None else w * m
        if w is not None:
            w = np.broadcast_to(w, values.shape)
        if reduction in ("none", None):
            return (values if w is None else values * w), None
        if values.size == 0:
            return 0.0, (None if g is None else np.zeros_like(g))
        if w is None:
            total = float(values.sum(dtype=np.float64))
        else:
            total = float(np.sum(values * w, dtype=np.float64))
        scale = 1.0
        if reduction == "mean_with_sample_weight" and w is not None:
            wsum = float(np.sum(w, dtype=np.float64))
            scale = 1.0 / wsum if wsum != 0 else 0.0
        elif reduction != "sum" and values.ndim > 0:
            scale = 1.0 / values.size
        if g is not None:
            if w is not None:
                g = g * _expand_like(w, pred_ndim)
            if scale != 1.0:
                g *= scale
        return total * scale, g

    def _align_weights(self, w: np.ndarray, values: np.ndarray) -> np.ndarray:
        if w.ndim == 0:
            return w
        if values.ndim == 0:
            if w.size == 1:
                return w.reshape(())
            raise ShapeError(
                f"loss '{self.name}' reduces the whole batch to one value (axis=None), so "
                f"sample_weight must be a scalar, got shape {w.shape}"
            )
        v, wa = align_ranks(values, w)
        if v.shape != values.shape and wa.size == values.size:
            wa = wa.reshape(values.shape)
        try:
            if np.broadcast_shapes(wa.shape, values.shape) != values.shape:
                raise ValueError
        except ValueError:
            raise ShapeError(
                f"loss '{self.name}': sample_weight of shape {w.shape} does not broadcast to "
                f"the per-sample losses of shape {values.shape}"
            ) from None
        return wa

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def differentiate_values(fn, y_true, y_pred, grad, name):
    """``(values, d sum(values) / d y_pred, None)`` of a loss function written with
    ``nncore.ops``, its gradient from the recording."""
    from ..autodiff.tape import backprop, leaf
    from ..autodiff.tensor import Tensor

    if not grad:
        return np.asarray(fn(y_true, y_pred)), None, None
    p = Tensor(np.asarray(y_pred), leaf())
    values = fn(y_true, p)
    if not isinstance(values, Tensor):
        raise ValueError(
            f"loss '{name}': its value does not depend on y_pred through nncore.ops, so it has "
            "no gradient; write it with nncore.ops (or operators) on y_pred, or pass gradient=")
    g = backprop([(values.node, np.ones_like(values.value))], {id(p.node): p.node},
                 free=True).get(id(p.node))
    if g is None:
        g = np.zeros_like(p.value)
    return values.value, np.asarray(g, p.value.dtype), None


class LossFunctionWrapper(Loss):
    """A loss from a function ``fn(y_true, y_pred) -> per-sample values``.

    Written with ``nncore.ops`` (or operators on y_pred), it trains as it is: its gradient comes
    from the recording. ``gradient(y_true, y_pred) -> d sum(values) / d y_pred`` may be given
    instead, for a function written in plain NumPy.
    """

    def __init__(self, fn, gradient=None, reduction="sum_over_batch_size", name=None, dtype=None,
                 **kwargs: Any):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper needs a callable, got {fn!r}")
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", "loss"),
                         dtype=dtype)
        self.fn = fn
        self.gradient = gradient
        self._fn_kwargs = kwargs

    def _compute(self, y_true, y_pred, grad):
        if grad and self.gradient is None:
            # The function, written with nncore.ops, is differentiated.
            return differentiate_values(
                lambda t, p: self.fn(t, p, **self._fn_kwargs), y_true, y_pred, True, self.name)
        values = np.asarray(self.fn(y_true, y_pred, **self._fn_kwargs))
        if not grad:
            return values, None, None
        g = np.asarray(self.gradient(y_true, y_pred, **self._fn_kwargs), dtype=y_pred.dtype)
        if g.shape != y_pred.shape:
            raise ShapeError(
                f"loss '{self.name}': gradient function returned shape {g.shape}, expected {y_pred.shape}"
            )
        return values, g, None

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"loss '{self.name}' wraps a Python function and cannot be serialized; register a "
            "Loss subclass instead"
        )


def move_axis_last(arr: np.ndarray, axis: int) -> np.ndarray:
    """View with ``axis`` moved to the end (losses reduce over the last axis internally)."""
    ax = axis if axis >= 0 else arr.ndim + axis
    if not 0 <= ax < arr.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {arr.shape}")
    return arr if ax == arr.ndim - 1 else np.moveaxis(arr, ax, -1)


class AxisMixin:
    """Losses with a Keras ``axis`` argument move that axis last in ``_prepare``."""

    axis = -1

    def _moved(self, arr: np.ndarray) -> np.ndarray:
        return move_axis_last(arr, self.axis) if self.axis != -1 else arr

    def _restore(self, arr: np.ndarray, shape) -> np.ndarray:
        if self.axis != -1 and arr.ndim > 0:
            ax = self.axis if self.axis >= 0 else len(shape) + self.axis
            arr = np.ascontiguousarray(np.moveaxis(arr, -1, ax))
        return arr.reshape(shape)
