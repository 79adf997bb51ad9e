"""Tensor: an array an op computed from tracked operands, with the node that made it."""

from __future__ import annotations

import numpy as np

from .operators import ArrayOperators


class Tensor(ArrayOperators):
    """The value of a recorded op (``.value``, a NumPy array) and its place in the recording.

    It behaves as an array in NumPy code (``np.asarray(t)``, ``t.shape``, operators); the ops of
    ``nncore.ops`` and the operators keep it differentiable, other NumPy functions see its value.
    """

    __slots__ = ("value", "node", "__weakref__")

    def __init__(self, value: np.ndarray, node):
        self.value = value
        self.node = node

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def size(self) -> int:
        return int(self.value.size)

    def numpy(self) -> np.ndarray:
        return self.value

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self.value, dtype=dtype, copy=True)
        return self.value if dtype is None else self.value.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"<nncore.Tensor shape={self.value.shape} dtype={self.value.dtype.name}>\n{self.value!r}"
