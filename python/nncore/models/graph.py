"""The execution plan of a functional model: its layer calls in topological order, with the
tensors between them numbered, so that forward and backward are flat loops."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..layers import _workspace
from ..layers.base import InputLayer, Node, SymbolicTensor
from . import bn_fusion
from ._padding_alias import padding_holders, point_at_padded
from .inference_plan import Plans


def _summed(a, b):
    """a + b, in a training step written into a pooled array (the sum of a residual branch's
    gradients is as large as an activation: a fresh one per block costs page faults and
    resident memory beside the pool), by the threaded kernel for float arrays."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and \
            a.dtype == b.dtype:
        out = _workspace.buffer(None, "grad_sum", a.shape, a.dtype)
        if a.dtype in _FLOATS:
            return ops.add_act(a, b, out=out)
        if out is not None:
            return np.add(a, b, out=out)
    return a + b


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Step:
    """One layer call: reads tensors ``inputs`` (ids), writes tensor ``output``."""

    __slots__ = ("layer", "inputs", "output", "multi", "shared", "cache", "last_reads")

    def __init__(self, layer, inputs, output, multi, shared):
        self.layer = layer
        self.inputs = inputs
        self.output = output
        self.multi = multi
        self.shared = shared
        self.cache = None
        self.last_reads = ()  # tensors no later step reads (and no output): dropped after it


def _keras_layer_order(order: list, first_visit: dict) -> list:
    """The model's layers in the order Keras 3 lists them (``keras.src.ops.function.map_graph``):
    by decreasing depth (distance from the outputs, the largest over a layer's calls), ties
    broken by when the walk from the outputs first reached the layer. Weight files key layers by
    their position in this list, so branching models (a residual block's shortcut beside its main
    path) only exchange weights with Keras in this order; it is also a topological order."""
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, object] = {}
    for node in reversed(order):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for parent in node.inputs:
            key = id(parent.node)
            node_depth[key] = max(depth + 1, node_depth.get(key, 0))
    return sorted(layers.values(), key=lambda l: (-layer_depth[id(l)], first_visit[id(l)]))


class Graph:
    """Inputs/outputs as tensor ids, steps in an order where every input is computed first."""

    def __init__(self, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]):
        for t in inputs:
            if not isinstance(t, SymbolicTensor) or t.node is None or not isinstance(t.node.layer, InputLayer):
                raise ValueError(
                    f"model inputs must come from nncore.Input(...), got {t!r}"
                )
        for t in outputs:
            if not isinstance(t, SymbolicTensor):
                raise ValueError(f"model outputs must be tensors made by calling layers, got {t!r}")
        self.tensor_ids: dict[int, int] = {}
        self.tensors: list[SymbolicTensor] = []
        order: list[Node] = []
        seen: set[int] = set()
        on_stack: set[int] = set()
        first_visit: dict[int, int] = {}  # layer -> when the walk from the outputs first met it

        def visit(t: SymbolicTensor):
            node = t.node
            if node is None:
                raise ValueError(f"tensor {t!r} was not produced by a layer")
            if id(node) in seen:
                return
            if id(node) in on_stack:
                raise ValueError("the layer graph has a cycle")
            first_visit.setdefault(id(node.layer), len(first_visit))
            on_stack.add(id(node))
            for parent in node.inputs:
                visit(parent)
            on_stack.discard(id(node))
            seen.add(id(node))
            order.append(node)

        for t in outputs:
            visit(t)

        def tid(t):
            key = id(t)
            if key not in self.tensor_ids:
                self.tensor_ids[key] = len(self.tensors)
                self.tensors.append(t)
            return self.tensor_ids[key]

        self.input_ids = [tid(t) for t in inputs]
        given = {id(t.node) for t in inputs}
        for node in order:
            if isinstance(node.layer, InputLayer) and id(node) not in given:
                raise ValueError(
                    f"graph disconnected: the output depends on input '{node.layer.name}' that is "
                    "not among the model's inputs"
                )
        calls: dict[int, int] = {}
        for node in order:
            calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
        self.steps: list[Step] = []
        self.layers = _keras_layer_order(order, first_visit)
        # The order nncore used before (each layer where its first call runs): weight files
        # written then are keyed by it (saving.weight_keys reads them with it).
        self.layers_in_call_order = list({id(n.layer): n.layer for n in order}.values())
        for node in order:
            if isinstance(node.layer, InputLayer):
                continue
            self.steps.append(Step(node.layer, [tid(p) for p in node.inputs], tid(node.output),
                                   node.multi_input, calls[id(node.layer)] > 1))
        names = [layer.name for layer in self.layers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"layer names in a model must be unique; repeated: {', '.join(dupes)}")
        self.output_ids = [tid(t) for t in outputs]
        self.num_tensors = len(self.tensors)
        last: dict[int, Step] = {}
        for step in self.steps:
            for i in step.inputs:
                last[i] = step
        for i, step in last.items():
            if i not in self.output_ids:
                step.last_reads += (i,)
        self.padding_holders = {k: [self.steps[j] for j in js]
                                for k, js in padding_holders(self.steps).items()}
        # Inference plans by input shapes (models/inference_plan.py).
        self.inference_plans = Plans()

    def consumers(self, tensor_id: int) -> int:
        """How many layer calls read the tensor."""
        return sum(tensor_id in s.inputs for s in self.steps)

    def forward(self, xs: list, training: bool, logits=()):
        """Runs every step; the steps making a tensor in ``logits`` stop before their activation
        (``forward_logits``), for a loss that applies that activation itself."""
        if training:
            bn_fusion.arm(self, logits)
        vals = [None] * self.num_tensors
        for i, x in zip(self.input_ids, xs):
            vals[i] = x
        holders = self.padding_holders if training else {}
        for k, s in enumerate(self.steps):
            arg = [vals[i] for i in s.inputs] if s.multi else vals[s.inputs[0]]
            if s.output in logits:
                vals[s.output] = s.layer.forward_logits(arg, training)
            else:
                vals[s.output] = s.layer.forward(arg, training)
            if s.shared:
                s.cache = s.layer._cache
            if k in holders:
                point_at_padded(s, holders[k], arg, vals[s.output])
            # A tensor read by no later step lives on only where a layer cached it for backward.
            for i in s.last_reads:
                vals[i] = None
            del arg
        return [vals[i] for i in self.output_ids]

    def backward(self, grads: list, before_step=None, release: bool = False) -> list:
        """Back-propagates gradients of the outputs; returns gradients of the inputs (or None).
        ``before_step(k)``, when given, is called before step k's backward (data-parallel
        training starts summing the gradients that are final by then). ``release``: each layer
        drops what its forward cached once its backward has run (a training step, which calls
        backward once), so activations are freed as the backward pass goes instead of after it."""
        gvals = [None] * self.num_tensors
        for i, g in zip(self.output_ids, grads):
            gvals[i] = g if gvals[i] is None else gvals[i] + g
        steps = self.steps
        for k in range(len(steps) - 1, -1, -1):
            s = steps[k]
            if before_step is not None:
                before_step(k)
            g = gvals[s.output]
            if g is None:
                continue
            gvals[s.output] = None  # read by this step only: freed with the step's backward
            if s.shared:
                s.layer._cache = s.cache
            gin = s.layer.backward(g)
            del g
            if release:
                s.layer._cache = s.cache = None
            if gin is None:
                continue
            if not s.multi:
                gin = [gin]
            for i, gi in zip(s.inputs, gin):
                if gi is None:
                    continue
                # Never add in place: a layer may have handed the same array to several inputs.
                gvals[i] = gi if gvals[i] is None else _summed(gvals[i], gi)
        return [gvals[i] for i in self.input_ids]
