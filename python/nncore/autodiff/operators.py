"""Python operators and NumPy protocols shared by ``Tensor`` and ``Variable``: each operator is the
``nncore.ops`` function of the same meaning, so ``x @ w + b`` records on a tape like
``ops.add(ops.matmul(x, w), b)``."""

from __future__ import annotations

import numpy as np

_ops = None


def ops():
    global _ops
    if _ops is None:
        from .. import ops as module

        _ops = module
    return _ops


# NumPy ufuncs a tracked operand routes to the differentiable op of the same meaning.
_UFUNCS = {
    np.add: "add", np.subtract: "subtract", np.multiply: "multiply", np.true_divide: "divide",
    np.negative: "negative", np.power: "power", np.square: "square", np.sqrt: "sqrt",
    np.exp: "exp", np.log: "log", np.log1p: "log1p", np.absolute: "abs", np.maximum: "maximum",
    np.minimum: "minimum", np.matmul: "matmul", np.tanh: "tanh", np.expm1: "expm1",
    np.sin: "sin", np.cos: "cos", np.positive: "positive", np.logaddexp: "logaddexp",
    np.exp2: "exp2", np.log2: "log2", np.log10: "log10", np.tan: "tan", np.sinh: "sinh",
    np.cosh: "cosh", np.reciprocal: "reciprocal",
}

# NumPy functions (``np.sum(t)``) that map to the op of the same name and arguments.
_FUNCTIONS = {
    np.sum: "sum", np.mean: "mean", np.max: "max", np.min: "min", np.prod: "prod",
    np.reshape: "reshape", np.transpose: "transpose", np.expand_dims: "expand_dims",
    np.squeeze: "squeeze", np.concatenate: "concatenate", np.stack: "stack", np.clip: "clip",
    np.where: "where", np.dot: "dot", np.matmul: "matmul", np.broadcast_to: "broadcast_to",
    np.tile: "tile", np.pad: "pad", np.take: "take", np.split: "split", np.abs: "abs",
    np.einsum: "einsum", np.tensordot: "tensordot", np.var: "var", np.std: "std",
    np.cumsum: "cumsum", np.swapaxes: "swapaxes", np.moveaxis: "moveaxis", np.flip: "flip",
    np.roll: "roll", np.repeat: "repeat", np.ravel: "ravel", np.outer: "outer",
    np.take_along_axis: "take_along_axis",
}


def _unwrap(x):
    from .tape import value_of

    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, ArrayOperators):
        return value_of(x)
    return x


class ArrayOperators:
    """Arithmetic, comparison, indexing and the NumPy protocols in terms of ``nncore.ops``."""

    __slots__ = ()
    __array_priority__ = 100

    # -- arithmetic (differentiable)
    def __add__(self, other):
        return ops().add(self, other)

    def __radd__(self, other):
        return ops().add(other, self)

    def __sub__(self, other):
        return ops().subtract(self, other)

    def __rsub__(self, other):
        return ops().subtract(other, self)

    def __mul__(self, other):
        return ops().multiply(self, other)

    def __rmul__(self, other):
        return ops().multiply(other, self)

    def __truediv__(self, other):
        return ops().divide(self, other)

    def __rtruediv__(self, other):
        return ops().divide(other, self)

    def __pow__(self, other):
        return ops().power(self, other)

    def __rpow__(self, other):
        return ops().power(other, self)

    def __matmul__(self, other):
        return ops().matmul(self, other)

    def __rmatmul__(self, other):
        return ops().matmul(other, self)

    def __neg__(self):
        return ops().negative(self)

    def __pos__(self):
        return ops().positive(self)

    def __abs__(self):
        return ops().abs(self)

    def __getitem__(self, key):
        return ops().get_item(self, key)

    # -- not differentiable: plain results
    def __floordiv__(self, other):
        return np.floor_divide(_unwrap(self), _unwrap(other))

    def __rfloordiv__(self, other):
        return np.floor_divide(_unwrap(other), _unwrap(self))

    def __mod__(self, other):
        return np.mod(_unwrap(self), _unwrap(other))

    def __rmod__(self, other):
        return np.mod(_unwrap(other), _unwrap(self))

    def __lt__(self, other):
        return _unwrap(self) < _unwrap(other)

    def __le__(self, other):
        return _unwrap(self) <= _unwrap(other)

    def __gt__(self, other):
        return _unwrap(self) > _unwrap(other)

    def __ge__(self, other):
        return _unwrap(self) >= _unwrap(other)

    def __eq__(self, other):
        return _unwrap(self) == _unwrap(other)

    def __ne__(self, other):
        return _unwrap(self) != _unwrap(other)

    __hash__ = object.__hash__

    def __bool__(self):
        return bool(_unwrap(self))

    def __float__(self):
        return float(_unwrap(self))

    def __int__(self):
        return int(_unwrap(self))

    def __index__(self):
        return int(_unwrap(self))

    def __len__(self):
        shape = _unwrap(self).shape
        if not shape:
            raise TypeError("len() of a 0-d array")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # -- array-like methods
    @property
    def ndim(self) -> int:
        return _unwrap(self).ndim

    @property
    def T(self):
        return ops().transpose(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops().reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops().transpose(self, axes or None)

    def sum(self, axis=None, keepdims=False):
        return ops().sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops().mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return ops().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return ops().min(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype):
        return ops().cast(self, dtype)

    def item(self):
        return _unwrap(self).item()

    def tolist(self):
        return _unwrap(self).tolist()

    # -- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .tape import is_tracked

        name = _UFUNCS.get(ufunc)
        if (name is not None and method == "__call__" and not kwargs
                and any(is_tracked(x) for x in inputs)):
            return getattr(ops(), name)(*inputs)
        inputs = tuple(_unwrap(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_unwrap(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .tape import is_tracked

        name = _FUNCTIONS.get(func)
        if name is not None and any(is_tracked(a) for a in _flat(args)):
            return getattr(ops(), name)(*args, **kwargs)
        return func(*_unwrap(list(args)), **{k: _unwrap(v) for k, v in kwargs.items()})


def _flat(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from _flat(a)
        else:
            yield a
