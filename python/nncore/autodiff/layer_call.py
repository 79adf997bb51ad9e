"""How layers meet the recording.

- A built-in layer (``forward``/``backward``) called on tracked inputs, or inside a tape, becomes
  one recorded op: its fused kernels run forward, and its VJP is its own ``backward``.
- A layer that defines ``call`` (Keras' way) runs ``call`` on tracked inputs, so each op inside is
  recorded; when such a layer sits in a model's graph, ``call_forward``/``call_backward`` give it
  the ``forward``/``backward`` the graph runs: ``call`` is recorded on a private graph whose
  leaves are the layer's inputs and Variables, and ``backward`` walks it.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

from ..layers import _workspace
from .tape import backprop, leaf, lift, record, state
from .tensor import Tensor


@contextlib.contextmanager
def call_context(training, record: bool = True):
    """A layer's call: nested layer calls without ``training=`` inherit ``training``, and with
    ``record`` Variables are recorded."""
    saved = state.training
    state.recording += record
    state.training = training
    try:
        yield
    finally:
        state.recording -= record
        state.training = saved


def _flatten(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten(item)]
    if isinstance(x, dict):
        return [v for k in x for v in _flatten(x[k])]
    return [x]


def _rebuild(structure, items, pos=0):
    if isinstance(structure, (list, tuple)):
        out = []
        for s in structure:
            v, pos = _rebuild(s, items, pos)
            out.append(v)
        return type(structure)(out), pos
    if isinstance(structure, dict):
        out = {}
        for k in structure:
            out[k], pos = _rebuild(structure[k], items, pos)
        return out, pos
    return items[pos], pos + 1


def as_values(x):
    """The structure with every Tensor replaced by its array."""
    if type(x) is Tensor:
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(as_values(v) for v in x)
    if isinstance(x, dict):
        return {k: as_values(v) for k, v in x.items()}
    return x


def any_tracked(x) -> bool:
    return any(lift(v)[1] is not None for v in _flatten(x) if v is not None)


# ---------------------------------------------------------------------- built-in layers as ops
def _snapshot_caches(layer):
    """Every ``_cache`` a layer's backward reads (a model's: those of its graph's layers), so that
    one layer (or model) called twice in a recording backpropagates each call with its own."""
    out = [(layer, layer._cache)]
    graph = layer.__dict__.get("_graph")
    if graph is not None:
        for s in graph.steps:
            out.append((s, s.cache))
            out.extend(_snapshot_caches(s.layer))
    return out


def _restore_caches(snapshot):
    for owner, cache in snapshot:
        if hasattr(owner, "_cache"):
            owner._cache = cache
        else:
            owner.cache = cache


def _set_input_grad(layer, needed: bool):
    if layer.needs_input_grad != needed:
        setter = getattr(layer, "set_needs_input_grad", None)
        if setter is not None:
            setter(needed)
        else:
            layer.needs_input_grad = needed


def _trainable_variables(layer):
    """A built-in layer's trainable Variables: those it made (read straight from its store,
    without walking its attributes on every call); a functional model's, its layers'."""
    if not layer.trainable:
        return []
    graph = layer.__dict__.get("_graph")
    if graph is not None and not getattr(layer, "_subclassed", False):
        out, seen = [], set()
        for sub in graph.layers:
            for v in _trainable_variables(sub):
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out
    if type(layer)._defines_call():
        return layer.trainable_weights          # may hold sublayers
    return [v for v in layer.__dict__.get("_trainable_variables", ()) if v.trainable]


def _reuse_token(layer, training):
    """The step token under which a model called in training inside a GradientTape reuses its
    activation and gradient arrays from the previous step, as ``fit`` does (fresh arrays of
    several MB every step cost page faults); None when arrays are not reused."""
    if not training or not state.tapes or layer.__dict__.get("_graph") is None:
        return None
    tape = state.tapes[-1]
    token = tape._workspace_token
    if token is None or token != _workspace.newest_token():
        token = tape._workspace_token = _workspace.new_token()
    return token


def _gradient_array(v):
    """A zeroed array for a Variable's gradient in a recorded backward: one of two kept per
    variable when nobody else holds it any more (fresh arrays of a large weight's size cost
    page faults every step), else a new one. Two, because a loop that keeps ``grads =
    tape.gradient(...)`` until the next step still holds the previous step's."""
    pool = v._tape_grads
    if pool is None:
        pool = v._tape_grads = []
    for arr in pool:
        # References: the pool, ``arr`` and getrefcount's argument; any more is a holder.
        if sys.getrefcount(arr) == 3 and arr.shape == v._value.shape and arr.dtype == v._value.dtype:
            arr.fill(0)
            return arr
    arr = np.zeros_like(v._value)
    if len(pool) < 2:
        pool.append(arr)
    return arr


def _copied(x):
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (list, tuple)):
        return type(x)(_copied(v) for v in x)
    if isinstance(x, dict):
        return {k: _copied(v) for k, v in x.items()}
    return x


def record_layer(layer, inputs, training: bool):
    """Runs a built-in layer's ``forward`` on the values of ``inputs`` (an array-like or a list for
    a multi-input layer) and records it as one op whose VJP is the layer's ``backward``."""
    multi = isinstance(inputs, (list, tuple))
    items = list(inputs) if multi else [inputs]
    lifted = [lift(x) for x in items]
    values = [layer._as_input_array(v) for v, _ in lifted]
    nodes = [n for _, n in lifted]
    arg = values if multi else values[0]
    token = _reuse_token(layer, training)
    if token is None:
        out = layer._eager_forward(arg, training)
    else:
        with _workspace.step(token):
            out = layer._eager_forward(arg, training)
        out = _copied(out)      # what the caller holds is never a reused buffer
    variables = _trainable_variables(layer) if state.recording else []
    var_nodes = [v._leaf() for v in variables]
    if all(n is None for n in nodes) and not var_nodes:
        return out
    snapshot = _snapshot_caches(layer)
    n_in = len(nodes)
    dtypes = [v.dtype for v in values]

    def vjp(g, need):
        if token is not None and _workspace.newest_token() != token:
            raise RuntimeError(
                f"the activations model '{layer.name}' kept for this gradient were overwritten "
                "by a later training step (another GradientTape or fit ran the model since): "
                "compute each tape's gradient before recording the next step")
        _restore_caches(snapshot)
        _set_input_grad(layer, any(need[:n_in]))
        # The layer adds its weight gradients into Variable.grad: give each variable a fresh
        # zero gradient array for this backward (what was accumulated in its own array, e.g.
        # a view of a model's packed buffer, stays untouched) and take the arrays back after.
        saved = [v._grad for v in variables]
        for v in variables:
            v._grad = _gradient_array(v)
        try:
            if token is None:
                gin = layer.backward(g)
            else:
                with _workspace.step(token):
                    gin = _copied(layer.backward(g))
            var_grads = [v._grad if need[n_in + i] else None for i, v in enumerate(variables)]
        finally:
            for v, s in zip(variables, saved):
                v._grad = s
        gins = list(gin) if multi and gin is not None else [gin]
        gins = [None if gi is None or not need[i] else gi.astype(dtypes[i], copy=False)
                for i, gi in enumerate(gins)]
        return (*gins, *var_grads)

    return record(out, (*nodes, *var_nodes), vjp)


# ---------------------------------------------------------------------- layers with `call`
def call_forward(layer, x, training: bool):
    """``forward`` of a layer defining ``call`` inside a model's graph: ``call`` recorded with the
    inputs and the Variables as leaves; the private recording is kept for ``call_backward``."""
    training = bool(training)
    structured = not isinstance(x, np.ndarray)
    if structured:
        leaves = [Tensor(np.asarray(v), leaf()) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                  else v for v in _flatten(x)]
        args = _rebuild(x, leaves)[0]
    else:
        args = Tensor(x, leaf()) if x.dtype.kind == "f" else x
        leaves = [args]
    saved = state.training
    state.recording += 1
    state.training = training
    try:
        out = layer._run_call(args, training)
    finally:
        state.recording -= 1
        state.training = saved
    layer._cache = (leaves, out, layer._call_losses(), structured)
    return out.value if type(out) is Tensor else as_values(out)


def call_backward(layer, grad_out):
    """``backward`` of a layer defining ``call``: walks its private recording from the output
    (and from every ``add_loss`` term, with gradient 1), adds the weight gradients into
    ``Variable.grad`` and returns the input gradients."""
    if layer._cache is None:
        raise RuntimeError(f"layer '{layer.name}': backward without a forward")
    leaves, out, losses, structured = layer._cache
    roots = []
    if type(out) is Tensor:
        if grad_out is not None:
            g = grad_out if grad_out.dtype == out.value.dtype else grad_out.astype(out.value.dtype)
            roots.append((out.node, g))
    else:
        outs = _flatten(out)
        gouts = _flatten(grad_out) if isinstance(out, (list, tuple, dict)) else [grad_out]
        for o, g in zip(outs, gouts):
            if type(o) is Tensor and g is not None:
                roots.append((o.node, np.asarray(g, o.value.dtype)))
    for term in losses:
        if type(term) is Tensor:
            roots.append((term.node, np.ones_like(term.value)))
    # Every trainable Variable the call used is a leaf of the recording (frozen layers' are not
    # recorded at all): their gradients go into Variable.grad, as a built-in layer's do.
    needs_input = layer.needs_input_grad
    wanted = {id(t.node): t.node for t in leaves if type(t) is Tensor} if needs_input else {}
    grads = backprop(roots, wanted, free=True, variables=True) if roots else {}
    layer._cache = None
    for node, g in grads.pop("variables", ()):
        node.var.grad += g
    if not needs_input:
        return None
    gins = [grads.get(id(t.node)) if type(t) is Tensor else None for t in leaves]
    return gins if structured else gins[0]
