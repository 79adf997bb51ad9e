"""The recording machinery of reverse-mode differentiation.

An op that receives a tracked operand (a ``Tensor``, a ``Variable`` while recording, or an array a
``GradientTape`` watches) returns a ``Tensor`` whose ``Node`` keeps the op's vector-Jacobian
product and the nodes of its operands; plain operands give plain NumPy results and record nothing.
``backprop`` walks the nodes from a target back to the wanted leaves.

A VJP is ``vjp(g, need) -> tuple``: the gradient of every operand given the output's gradient
``g``, computing only those whose ``need`` flag is set (the others may be None), so that e.g. the
input gradient of a first layer is never computed when nobody asks for it.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np


class _State(threading.local):
    def __init__(self):
        # >0 while a GradientTape (or a layer's recorded call) is open: Variables are then tracked.
        self.recording = 0
        # id -> (object, leaf Node) of what the open tapes watch explicitly.
        self.watched: dict | None = None
        # False inside a GradientTape(watch_accessed_variables=False): only watched Variables count.
        self.auto_watch = True
        # The ``training`` flag of the layer call in progress (Keras' call context), or None.
        self.training = None
        # The GradientTapes open now: each node remembers them, and is freed only once every
        # one of them has computed its gradient (two tapes may record one computation).
        self.tapes: tuple = ()


state = _State()


# Returned by a VJP for an operand whose gradient it added straight into the sink it was given
# (a Variable's gradient array, see ``backprop``).
SUNK = object()


def _freed(g, need, sinks=None):
    raise RuntimeError(
        "this gradient was already computed and the intermediate values it needs were freed: "
        "use GradientTape(persistent=True) to call tape.gradient more than once")


# Creation numbers of nodes: an op's node is always created after its operands' nodes.
_creation = itertools.count()


class Node:
    """One recorded op (``vjp`` and operand nodes) or a leaf (``vjp`` None; ``var`` the Variable)."""

    __slots__ = ("vjp", "parents", "var", "tapes", "seq", "__weakref__")

    def __init__(self, vjp, parents, var=None):
        self.vjp = vjp
        self.parents = parents
        self.var = var
        self.tapes = state.tapes
        self.seq = next(_creation)


def leaf(var=None) -> Node:
    return Node(None, (), var)


_VARIABLE = None


def _variable_type():
    global _VARIABLE
    if _VARIABLE is None:
        from ..variables import Variable

        _VARIABLE = Variable
    return _VARIABLE


def lift(x):
    """``(value, node)`` of an op operand: node is None when the operand is not tracked.

    Python scalars stay scalars (NumPy then keeps the array operand's dtype); sequences become
    arrays.
    """
    t = type(x)
    if t is Tensor:
        return x.value, x.node
    if t is np.ndarray:
        watched = state.watched
        if watched is not None:
            entry = watched.get(id(x))
            if entry is not None and entry[0] is x:
                return x, entry[1]
        return x, None
    if t is float or t is int or t is bool or isinstance(x, np.generic):
        return x, None
    if isinstance(x, _variable_type()):
        value = x.value
        if state.recording and value.dtype.kind == "f":
            # Trainable Variables are watched automatically (TensorFlow's rule); others only
            # when a tape watches them.
            if state.auto_watch and x.trainable:
                return value, x._leaf()
            watched = state.watched
            if watched is not None and id(x) in watched:
                return value, x._leaf()
        return value, None
    if isinstance(x, Tensor):
        return x.value, x.node
    return np.asarray(x), None


def value_of(x):
    """The array (or scalar) behind an operand, tracked or not."""
    t = type(x)
    if t is Tensor:
        return x.value
    if t is np.ndarray or t is float or t is int:
        return x
    if isinstance(x, _variable_type()):
        return x.value
    return np.asarray(x) if not isinstance(x, (np.generic, bool)) else x


def is_tracked(x) -> bool:
    return lift(x)[1] is not None


def record(value, parents: tuple, vjp):
    """The result of an op with at least one tracked operand."""
    return Tensor(np.asarray(value), Node(vjp, parents))


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sums ``g`` over the axes NumPy broadcasting added or stretched to reach it from ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def backprop(roots, wanted, *, free: bool, tape=None, variables: bool = False) -> dict:
    """Gradients of the sum of ``roots`` (``[(node, grad)]``) with respect to the nodes in
    ``wanted`` (a dict id -> node); returns a dict id -> gradient for those reached.

    Only nodes from which a wanted node can be reached run their VJP, newest first (a node is
    always newer than its operands, so creation order is a topological order). With ``free``
    each VJP is dropped once called, releasing the arrays it kept, unless a tape other than
    ``tape`` that recorded the node has still to compute its gradient. With ``variables`` every
    Variable leaf reached is wanted too; their ``(node, gradient)`` pairs are returned under the
    key ``"variables"``.
    """
    wanted_nodes = set(wanted.values())
    seen = set()
    stack = [node for node, _ in roots]
    nodes = []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        for p in node.parents:
            if p is not None and p not in seen:
                stack.append(p)
    nodes.sort(key=_seq)

    reach = set()
    var_leaves = []
    p_users: dict = {}
    if variables:
        for node in nodes:
            for p in node.parents:
                if p is not None and p.var is not None:
                    p_users.setdefault(p, []).append(node)
    for node in nodes:
        if node.vjp is None:
            if node in wanted_nodes:
                reach.add(node)
            elif variables and node.var is not None:
                reach.add(node)
                var_leaves.append(node)
            continue
        if node in wanted_nodes:
            reach.add(node)
            continue
        for p in node.parents:
            if p in reach:
                reach.add(node)
                break

    grads = {}
    for node, g in roots:
        grads[node] = g if node not in grads else grads[node] + g
    results: dict = {}
    for node in reversed(nodes):
        if node.vjp is None or node not in reach:
            continue
        g = grads.pop(node, None)
        if g is None:
            continue
        if node in wanted_nodes:
            results[id(node)] = g
        parents = node.parents
        need = tuple(p in reach for p in parents)
        if not any(need):
            continue
        vjp = node.vjp
        if variables and getattr(vjp, "sinks", False):
            # A Variable used once gets its gradient accumulated in place by the kernel (the
            # matmul of a Dense-like layer), saving an array and a pass over it.
            pgs = vjp(g, need, tuple(p.var.grad if p is not None and p.var is not None
                                     and p.vjp is None and p not in wanted_nodes
                                     and p not in grads and len(p_users.get(p, ())) == 1
                                     else None for p in parents))
        else:
            pgs = vjp(g, need)
        if free and all(t is tape or t._finished for t in node.tapes):
            node.vjp = _freed
            node.parents = ()
        for p, pg, nd in zip(parents, pgs, need):
            if not nd or pg is None or pg is SUNK:
                continue
            prev = grads.get(p)
            # Never add in place: a VJP may hand one array to several operands.
            grads[p] = pg if prev is None else prev + pg
    for node in wanted_nodes:
        if node.vjp is None and node in grads:
            results[id(node)] = grads[node]
    if variables:
        results["variables"] = [(node, grads[node]) for node in var_leaves if node in grads]
    return results


def _seq(node):
    return node.seq


from .tensor import Tensor  # noqa: E402  (Tensor's operators call ops, which import this module)
