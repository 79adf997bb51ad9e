"""Builds an ONNX graph from values whose layout is tracked.

nncore computes images channels-last (NHWC) while ONNX's Conv and pooling operators read
channels-first (NCHW). Each value keeps the versions of itself that exist, "nhwc" (the layout
nncore has, for every rank) and "nchw" (a rank-4 NHWC tensor transposed), and a Transpose is
added only when a consumer asks for a version that does not exist yet, once per value.
"""

from __future__ import annotations

import numpy as np

NHWC, NCHW = "nhwc", "nchw"
TO_NCHW, TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)


class UnsupportedLayerError(ValueError):
    pass


class Value:
    """One nncore tensor: its ONNX names by layout, the layout it was made in, its nncore shape."""

    def __init__(self, name: str, layout: str, shape: tuple):
        self.versions = {layout: name}
        self.primary = layout
        self.shape = tuple(shape)

    @property
    def rank(self) -> int:
        return len(self.shape)


def axis_in(layout: str, axis: int, rank: int) -> int:
    """Where nncore's axis ``axis`` (non-negative) sits in the given layout."""
    if layout == NCHW:
        return TO_NCHW.index(axis)
    return axis


class Builder:
    def __init__(self, onnx, dtype: np.dtype):
        self.onnx = onnx
        self.helper = onnx.helper
        self.dtype = np.dtype(dtype)
        self.nodes = []
        self.initializers = []
        self.node_layer = {}  # node name -> name of the layer it was made for
        self._used: set[str] = set()
        self.layer = "graph"  # the layer being converted, for names and error messages
        self.kind = ""  # its class name
        self.transposes = 0

    def unique(self, hint: str) -> str:
        name, k = hint, 1
        while name in self._used:
            name = f"{hint}_{k}"
            k += 1
        self._used.add(name)
        return name

    def node(self, op: str, inputs, outputs: int | list = 1, **attrs) -> str | list:
        if isinstance(outputs, int):
            names = [self.unique(f"{self.layer}/{op}") for _ in range(outputs)]
        else:
            names = list(outputs)
            self._used.update(names)
        node_name = self.unique(f"{self.layer}/{op}_node")
        self.nodes.append(self.helper.make_node(op, list(inputs), names, name=node_name, **attrs))
        self.node_layer[node_name] = self.layer
        return names[0] if len(names) == 1 else names

    def const(self, array, hint: str = "const", dtype=None) -> str:
        arr = np.asarray(array, dtype=self.dtype if dtype is None else dtype)
        name = self.unique(f"{self.layer}/{hint}")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def scalar(self, x: float) -> str:
        return self.const(np.asarray(x, dtype=self.dtype), "scalar")

    def get(self, value: Value, layout: str) -> str:
        """The value's ONNX name in ``layout``, transposing once if that version is new."""
        if layout in value.versions:
            return value.versions[layout]
        if value.rank != 4:
            raise UnsupportedLayerError(
                f"layer '{self.layer}': a rank-{value.rank} tensor has no {layout} layout")
        src = value.versions[NHWC if layout == NCHW else NCHW]
        self.transposes += 1
        perm = TO_NCHW if layout == NCHW else TO_NHWC
        value.versions[layout] = self.node("Transpose", [src], perm=list(perm))
        return value.versions[layout]

    @staticmethod
    def common_layout(values) -> str:
        """The layout for an element-wise op on several values: one they all have, preferring
        the first one's own, else the first one's (the others are transposed)."""
        first = values[0].primary
        for layout in (first, NCHW if first == NHWC else NHWC):
            if all(layout in v.versions for v in values):
                return layout
        return first
