"""The symbolic tensors of the functional API: ``Input(...)`` and layer calls on them make
``SymbolicTensor``s (a shape, a dtype, the ``Node`` that made them), from which a model's graph is
read."""

from __future__ import annotations

import numpy as np

def _shape_tuple(shape) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


class SymbolicTensor:
    """The output of a layer in a model graph: a shape (batch dimension None) and a dtype, no data.

    ``Input(shape=...)`` makes the first ones; calling a layer on symbolic tensors makes the next.
    """

    __slots__ = ("shape", "dtype", "node", "name")

    def __init__(self, shape, dtype, node: "Node | None" = None, name: str | None = None):
        self.shape = _shape_tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        src = f" from {self.node.layer.name}" if self.node else ""
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name}{src}>"


class Node:
    """One call of a layer in a graph: its input tensors and the output tensor it made."""

    __slots__ = ("layer", "inputs", "output", "multi_input")

    def __init__(self, layer, inputs: list, output: SymbolicTensor | None, multi_input: bool):
        self.layer = layer
        self.inputs = inputs
        self.output = output
        self.multi_input = multi_input


def _is_symbolic(x) -> bool:
    if isinstance(x, SymbolicTensor):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(t, SymbolicTensor) for t in x)
