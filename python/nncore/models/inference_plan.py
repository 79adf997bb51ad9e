"""Inference plans: a graph's forward for inputs of one set of shapes, as a flat list of calls.

``predict`` spends most of a small batch's time outside the kernels: each layer's ``forward``
validates its arguments, works out its geometry and keeps what ``backward`` would need. Inference
needs none of that bookkeeping, and the geometry depends only on the input shapes, so the first
batch of new shapes runs the layers as usual while each layer that can (``_inference_step``)
hands back a call with everything but the data decided; later batches of those shapes run the
calls. Other layers keep their ``forward``.

The outputs a plan returns belong to the caller: arrays made by a planned kernel call are new on
every run, and any other output (an input passed through, a view, a layer's own array) is copied.
"""

from __future__ import annotations

import numpy as np

# Plans kept per graph: one per input shape (a last partial batch has its own).
_MAX_PLANS = 8


class Plans(dict):
    """A graph's plans by input shapes. A copy of the graph starts without any: a plan's calls
    hold the layers they were made for, not the copies."""

    def __copy__(self):
        return Plans()

    def __deepcopy__(self, memo):
        return Plans()

    def __reduce__(self):
        return Plans, ()


class InferencePlan:
    """The calls of one graph for inputs of one set of shapes, made while running the first
    batch of those shapes."""

    __slots__ = ("steps", "chain", "fresh", "all_fresh", "input_ids", "output_ids", "num_tensors")

    def __init__(self, graph):
        self.steps: list = []
        # The calls alone when the graph is a chain (see build), else None.
        self.chain = None
        self.fresh: list[bool] = []
        self.all_fresh = False
        self.input_ids = graph.input_ids
        self.output_ids = graph.output_ids
        self.num_tensors = graph.num_tensors

    def build(self, graph, xs: list) -> list:
        """Runs the graph once on ``xs`` (training=False), recording a call per step."""
        vals = [None] * self.num_tensors
        # Whether a tensor is an array made by a planned call (nobody else holds it).
        made = [False] * self.num_tensors
        for i, x in zip(self.input_ids, xs):
            vals[i] = x
        steps = []
        for s in graph.steps:
            layer = s.layer
            step = None
            if not s.multi:
                x = vals[s.inputs[0]]
                make = getattr(layer, "_inference_step", None)
                if make is not None and isinstance(x, np.ndarray):
                    step = make(x.shape, x.dtype)
            if step is None:
                step = _generic(layer)
            src = s.inputs if s.multi else s.inputs[0]
            arg = [vals[i] for i in src] if s.multi else vals[src]
            vals[s.output] = step(arg)
            made[s.output] = getattr(step, "makes_new_array", False)
            steps.append((step, src, s.output, s.multi))
        self.steps = [(fn, src, dst) for fn, src, dst, _ in steps]
        self.fresh = [made[i] for i in self.output_ids]
        self.all_fresh = all(self.fresh) and len(set(self.output_ids)) == len(self.output_ids)
        # A chain (each call reads the previous one's output, the last one's is the only output)
        # runs without the table of tensors.
        ids = [self.input_ids[0]] + [dst for _, _, dst, _ in steps]
        if (len(self.input_ids) == 1 and len(self.output_ids) == 1 and steps
                and self.output_ids[0] == ids[-1]
                and all(not multi and src == ids[k] for k, (_, src, _, multi) in enumerate(steps))):
            self.chain = [fn for fn, _, _, _ in steps]
        return [vals[i] for i in self.output_ids]

    def run(self, xs: list) -> list:
        chain = self.chain
        if chain is not None:
            x = xs[0]
            for fn in chain:
                x = fn(x)
            return [x]
        vals = [None] * self.num_tensors
        for i, x in zip(self.input_ids, xs):
            vals[i] = x
        for fn, src, dst in self.steps:
            vals[dst] = fn([vals[i] for i in src] if type(src) is list else vals[src])
        return [vals[i] for i in self.output_ids]

    def owned(self, outs: list) -> list:
        """The outputs, copied where the caller would share them (see the module docstring)."""
        if self.all_fresh:
            return outs
        seen = set()
        result = []
        for o, fresh in zip(outs, self.fresh):
            if not fresh or id(o) in seen or type(o) is not np.ndarray:
                o = np.array(o, order="C")
            seen.add(id(o))
            result.append(o)
        return result


def _generic(layer):
    def step(x):
        return layer.forward(x, False)
    return step


def infer(graph, xs: list, owned: bool = True) -> list:
    """The graph's outputs for ``xs`` in inference mode (training=False), through the plan for
    their shapes. ``owned``: copy the outputs the caller would otherwise share."""
    try:
        plans = graph.inference_plans
    except AttributeError:      # a graph made without __init__
        plans = graph.inference_plans = Plans()
    key = xs[0].shape if len(xs) == 1 else tuple(x.shape for x in xs)
    plan = plans.get(key)
    if plan is None:
        plan = InferencePlan(graph)
        outs = plan.build(graph, xs)
        if len(plans) >= _MAX_PLANS:
            plans.clear()
        plans[key] = plan
    else:
        outs = plan.run(xs)
    return outs if plan.all_fresh or not owned else plan.owned(outs)
