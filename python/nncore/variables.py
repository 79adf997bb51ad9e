"""Variable: a named weight array with its gradient, regularizer and trainable flag."""

from __future__ import annotations

import numpy as np

from .autodiff.operators import ArrayOperators
from .errors import ShapeError


def _initial_value(initializer, shape, dtype):
    """The first value of a Variable: an initializer (name, config or callable, called with
    ``shape``) or an array-like value."""
    from . import initializers

    if isinstance(initializer, (str, dict)) or (callable(initializer)
                                              and not isinstance(initializer, np.ndarray)):
        if shape is None:
            raise ValueError(f"Variable: an initializer ({initializer!r}) needs shape=")
        init = initializers.get(initializer)
        dtype = "float32" if dtype is None else dtype
        return np.asarray(init(tuple(int(d) for d in shape), dtype=dtype), dtype=dtype)
    if initializer is None:
        raise ValueError("Variable needs an initial value or an initializer")
    value = np.asarray(initializer)
    if dtype is not None:
        value = value.astype(dtype)
    elif value.dtype.kind != "f":
        value = value.astype(np.float32)      # Python numbers and integer arrays: floatx
    if shape is not None and tuple(value.shape) != tuple(int(d) for d in shape):
        raise ShapeError(f"Variable: initial value of shape {value.shape} does not match "
                         f"shape={tuple(shape)}")
    return value


class Variable(ArrayOperators):
    """A weight: ``nncore.Variable(initializer, shape=None, dtype=None, trainable=True,
    name=None)`` as ``keras.Variable`` (an initial value, or an initializer and a shape).

    It can be used as an array: operators and ``nncore.ops`` take it (and are differentiated
    with respect to it inside a ``GradientTape``), ``np.asarray(v)`` reads its value. A float
    array keeps its dtype (float64 stays float64); Python numbers and integers become float32.

    ``value`` and ``grad`` are NumPy arrays of one shape and dtype. A model may re-seat both into
    views of one contiguous buffer (so that an optimizer step or an all-reduce is one call over all
    weights): code must therefore update them in place (``assign``, ``value[...] = ...``,
    ``grad += ...``) and never rebind the attributes.

    Gradients accumulate: ``Layer.backward`` adds into ``grad`` and the training loop zeroes it
    before each step, so a layer used twice in a model gets the sum of both contributions.
    """

    __slots__ = ("name", "_value", "_grad", "trainable", "regularizer", "constraint", "_node",
                 "_tape_grads", "__weakref__")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable: bool = True,
                 autocast: bool = True, aggregation="none", synchronization="auto",
                 name: str | None = None, *, regularizer=None, constraint=None):
        del autocast, aggregation, synchronization       # one device, no mixed precision
        name = "variable" if name is None else name
        if not isinstance(name, str) or not name:
            raise ValueError(f"Variable name must be a non-empty string, got {name!r}")
        value = _initial_value(initializer, shape, dtype)
        if value.dtype not in (np.float32, np.float64):
            raise TypeError(f"variable '{name}' must be float32 or float64, got {value.dtype}")
        self.name = name
        self._node = None
        self._tape_grads = None
        # np.ascontiguousarray would turn a 0-d value into shape (1,); a scalar weight keeps ().
        self._value = np.asarray(value, order="C")
        # np.zeros, not zeros_like: fresh zero pages stay unmapped until a backward pass writes
        # them, so a model that only predicts (VGG16: 528 MiB of weights) holds no gradients.
        self._grad = np.zeros(self._value.shape, self._value.dtype)
        self.trainable = bool(trainable)
        self.regularizer = regularizer
        self.constraint = constraint

    @classmethod
    def wrap(cls, value: np.ndarray, grad: np.ndarray, *, name: str) -> "Variable":
        """A variable over existing arrays (no copy): e.g. a model's flat weight buffer."""
        var = cls.__new__(cls)
        var.name = name
        var._value = value
        var._grad = grad
        var.trainable = True
        var.regularizer = None
        var.constraint = None
        var._node = None
        var._tape_grads = None
        return var

    def _leaf(self):
        """The node standing for this variable in recordings (one per variable)."""
        node = self._node
        if node is None:
            from .autodiff.tape import leaf

            node = self._node = leaf(self)
        return node

    @property
    def value(self) -> np.ndarray:
        return self._value

    @value.setter
    def value(self, new) -> None:
        # `var.value = x` and `var.value += x` copy into the existing storage (never rebind).
        if new is not self._value:
            self.assign(new)

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @grad.setter
    def grad(self, new) -> None:
        if new is not self._grad:
            new = np.asarray(new)
            if new.shape != self._grad.shape:
                raise ShapeError(f"gradient of shape {new.shape} for variable '{self.name}' of "
                                 f"shape {self._grad.shape}")
            np.copyto(self._grad, new, casting="same_kind")

    @property
    def shape(self) -> tuple:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def size(self) -> int:
        return int(self._value.size)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        # NumPy functions (and regularizers, as in Keras) take a Variable for its value.
        if copy:
            return self._value.astype(dtype or self._value.dtype, copy=True)
        return self._value if dtype is None else self._value.astype(dtype, copy=False)

    def numpy(self) -> np.ndarray:
        """A copy of the current value."""
        return self._value.copy()

    def assign(self, value) -> None:
        """Copies ``value`` into the variable (shape must match; dtype is converted)."""
        value = np.asarray(value)
        if value.shape != self._value.shape:
            raise ShapeError(
                f"cannot assign an array of shape {value.shape} to variable '{self.name}' of "
                f"shape {self._value.shape}"
            )
        np.copyto(self._value, value, casting="same_kind")

    def assign_add(self, value):
        self.assign(self._value + np.asarray(value))
        return self

    def assign_sub(self, value):
        self.assign(self._value - np.asarray(value))
        return self

    @property
    def path(self) -> str:
        return self.name

    # Identity semantics where containers and checks need them (``v in list``, ``if v:``);
    # element-wise comparisons go through ``np.equal(v, x)`` or ``v.value == x``.
    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return True

    def zero_grad(self) -> None:
        self._grad.fill(0)

    def _reseat(self, value_view: np.ndarray, grad_view: np.ndarray) -> None:
        """Moves storage into views of a larger buffer, keeping the current value."""
        if value_view.shape != self._value.shape or grad_view.shape != self._value.shape:
            raise ShapeError(f"internal: cannot reseat variable '{self.name}'")
        np.copyto(value_view, self._value)
        np.copyto(grad_view, self._grad)
        self._value = value_view
        self._grad = grad_view

    def __repr__(self) -> str:
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype}>"
