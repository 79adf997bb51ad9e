"""Batch normalization, or a residual Add, followed by ReLU or ReLU6 runs as one kernel in a
training forward pass.

A training step otherwise writes the normalized tensor, reads it back for the activation, and in
the backward pass reads the activation's output and gradient to mask the gradient before the
batch norm reads it again. Fused, the batch norm writes the activation's output once and applies
the activation's mask (recomputed from its input) while it takes its channel sums. An Add writes
the activation of its sum in the same pass, and masks the gradient in its backward.

The fusion is decided per graph (a layer may sit in several models, or be called on its own) and
armed for one forward pass at a time: before a training forward pass, every fusable batch norm
of the graph is told which activation follows it (``arm``); the batch norm consumes that note in
its next forward call and hands its output to the activation layer, which passes that very array
through unchanged. Layers, the layer list, configs and saved files are untouched.
"""

from __future__ import annotations

from ..layers.activation_layers import Activation, ReLU
from ..layers.merging import Add
from ..layers.normalization import BatchNormalization


class Armed:
    """What a batch norm applies in its next forward call, and the layer that then passes it on."""

    __slots__ = ("activation", "layer")

    def __init__(self, activation: str, layer):
        self.activation = activation
        self.layer = layer


def fusable_activation(layer) -> str | None:
    """``"relu"`` / ``"relu6"`` for a plain ReLU or ReLU6 layer, else None."""
    if type(layer) not in (Activation, ReLU):
        return None
    act = layer.activation
    if act is None or act.params or act.name not in ("relu", "relu6"):
        return None
    return act.name


def plan(graph) -> list:
    """(producer step, activation step, activation name) for every batch norm or Add whose output
    only a plain ReLU / ReLU6 reads, each layer called once in the graph."""
    readers: dict[int, list] = {}
    for s in graph.steps:
        for i in s.inputs:
            readers.setdefault(i, []).append(s)
    pairs = []
    for s in graph.steps:
        producer = type(s.layer)
        if producer not in (BatchNormalization, Add) or s.shared or \
                (s.multi and producer is not Add):
            continue
        if s.output in graph.output_ids:
            continue
        after = readers.get(s.output, [])
        if len(after) != 1:
            continue
        a = after[0]
        name = fusable_activation(a.layer)
        if name is None or a.shared or a.multi or a.inputs != [s.output]:
            continue
        pairs.append((s, a, name))
    return pairs


def arm(graph, logits=()) -> None:
    """Notes the fusions of the graph's next training forward pass on their producers
    (``graph._bn_fusions = []`` turns them all off)."""
    pairs = getattr(graph, "_bn_fusions", None)
    if pairs is None:
        pairs = graph._bn_fusions = plan(graph)
    for bn_step, act_step, name in pairs:
        # An activation left for the loss to apply (logits) must not be applied here.
        if act_step.output not in logits:
            bn_step.layer._fuse_next = Armed(name, act_step.layer)
