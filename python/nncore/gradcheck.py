"""gradcheck: analytic gradients of layers, models and functions against central finite
differences in float64 (the idea of ``torch.autograd.gradcheck``)."""

from __future__ import annotations

import copy

import numpy as np

from .errors import GradcheckError
from .layers.base import Layer


# ---------------------------------------------------------------------- float64 clones
def _to_float64_config(config):
    """The config with every float32 dtype entry turned into float64 (nested layers too)."""
    if isinstance(config, dict):
        return {k: ("float64" if k == "dtype" and v in ("float32", "float16") else _to_float64_config(v))
                for k, v in config.items()}
    if isinstance(config, list):
        return [_to_float64_config(v) for v in config]
    return config


def _is_model(obj) -> bool:
    from .models.model import Model

    return isinstance(obj, Model)


def _build(layer, shapes) -> None:
    """Builds ``layer`` for inputs of these (batch-less) shapes, if it is not built yet."""
    if layer.built:
        return
    if _is_model(layer):
        layer._build_graph(shapes[0])
    else:
        layer._maybe_build(list(shapes) if layer.multi_input else shapes[0])


def _data_shapes(arrays):
    return [(None, *np.shape(x)[1:]) for x in arrays]


def _built_shapes(layer):
    if _is_model(layer):
        return [t.shape for t in layer.inputs]
    shape = layer._build_input_shape
    return list(shape) if layer.multi_input else [shape]


def _float64_version(layer, inputs):
    """``layer`` itself when it already computes in float64, else a float64 clone made through
    get_config/from_config with the original's weights copied in."""
    if np.dtype(layer.dtype) == np.float64 and all(v.dtype == np.float64 for v in layer.weights):
        _build(layer, _data_shapes(inputs))
        return layer, False
    config = _to_float64_config(layer.get_config())
    if _is_model(layer):
        # The model's own classes, so that unregistered custom layers clone too.
        own = {type(l).__name__: type(l) for l in _all_layers(layer)}
        clone = type(layer).from_config(config, custom_objects=own)
    else:
        clone = type(layer).from_config(config)
    if layer.built:
        _build(clone, _built_shapes(layer))
        clone.set_weights([np.asarray(w, np.float64) for w in layer.get_weights()])
    else:
        _build(clone, _data_shapes(inputs))
    return clone, True


def _all_layers(layer):
    out = [layer]
    for sub in getattr(layer, "layers", []) if _is_model(layer) else []:
        out.extend(_all_layers(sub))
    return out


class _Frozen:
    """Keeps what a check must not change: RNG states (so that every forward of a training-mode
    check draws the same dropout mask), non-trainable weights (batch-norm moving statistics)
    and the needs_input_grad flags."""

    def __init__(self, layer):
        self.layers = _all_layers(layer)
        self.rng = [(l, copy.deepcopy(l.get_rng_state())) for l in self.layers
                    if hasattr(l, "get_rng_state")]
        self.fixed = [(v, v.numpy()) for v in layer.non_trainable_weights]
        self.flags = [(l, l.needs_input_grad) for l in self.layers]

    def reset_rng(self):
        for l, state in self.rng:
            l.set_rng_state(copy.deepcopy(state))

    def restore(self):
        self.reset_rng()
        for v, value in self.fixed:
            v.assign(value)
        for l, flag in self.flags:
            l.needs_input_grad = flag


# ---------------------------------------------------------------------- comparison
class _Entry:
    """One array to perturb in place (through a flat view) with its analytic gradient."""

    __slots__ = ("label", "shape", "flat", "analytic")

    def __init__(self, label, array, analytic):
        self.label = label
        self.shape = array.shape
        self.flat = array.reshape(-1)
        if not np.shares_memory(self.flat, array) and array.size:
            raise RuntimeError(f"internal: {label} is not contiguous")
        if analytic is None:  # a backward that gave nothing claims a zero gradient
            analytic = np.zeros(array.shape)
        analytic = np.asarray(analytic, dtype=np.float64)
        if analytic.shape != array.shape:
            raise GradcheckError(f"gradient of {label} has shape {analytic.shape}, expected {array.shape}")
        self.analytic = analytic.reshape(-1).copy()


def _numeric(entry: _Entry, objective, eps: float) -> np.ndarray:
    flat = entry.flat
    out = np.empty(flat.size)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        plus = objective()
        flat[i] = orig - eps
        minus = objective()
        flat[i] = orig
        out[i] = (plus - minus) / (2.0 * eps)
    return out


def _compare(what, entries, objective, eps, atol, rtol):
    worst = None
    bad_total = count = 0
    for entry in entries:
        numeric = _numeric(entry, objective, eps)
        err = np.abs(entry.analytic - numeric)
        ratio = err / (atol + rtol * np.abs(numeric))
        ratio[~(np.isfinite(entry.analytic) & np.isfinite(numeric))] = np.inf
        bad = int(np.count_nonzero(ratio > 1.0))
        bad_total += bad
        count += numeric.size
        if bad:
            i = int(np.argmax(ratio))
            if worst is None or ratio[i] > worst[0]:
                worst = (ratio[i], entry, i, numeric[i], err[i])
    if worst is None:
        return True
    _, entry, i, num, err = worst
    index = ", ".join(str(int(k)) for k in np.unravel_index(i, entry.shape)) if entry.shape else ""
    rel = err / abs(num) if num != 0 else np.inf
    raise GradcheckError(
        f"gradcheck failed for {what}: {bad_total} of {count} gradient elements differ from "
        f"finite differences; worst: {entry.label}[{index}] analytic {entry.analytic[i]:.10g}, "
        f"numeric {num:.10g} (abs error {err:.3g}, rel error {rel:.3g}; allowed "
        f"atol={atol:g} + rtol={rtol:g} * |numeric|, eps={eps:g})"
    )


# ---------------------------------------------------------------------- targets
def _as_list(inputs):
    if isinstance(inputs, (list, tuple)):
        return list(inputs)
    return [inputs]


def _float64_copies(arrays, what="input"):
    out = []
    for k, a in enumerate(arrays):
        arr = np.asarray(a)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"gradcheck: {what} {k} must be numeric, got dtype {arr.dtype}")
        out.append(np.array(arr, dtype=np.float64, order="C"))
    return out


def _vdot_all(gs, outs) -> float:
    if isinstance(outs, (list, tuple)):
        return float(sum(np.vdot(g, o) for g, o in zip(gs, outs)))
    return float(np.vdot(gs, outs))


def _random_like(rng, outs):
    if isinstance(outs, (list, tuple)):
        return [rng.standard_normal(np.shape(o)) for o in outs]
    return rng.standard_normal(np.shape(outs))


def _check_layer(layer, inputs, eps, atol, rtol, seed, training):
    model = _is_model(layer)
    if model:
        n_inputs = len(layer.inputs) if layer.built else 1
        xs = _float64_copies(inputs if n_inputs > 1 else _as_list(inputs))
    else:
        xs = _float64_copies(inputs if layer.multi_input else _as_list(inputs))
        if not layer.multi_input and len(xs) != 1:
            raise ValueError(f"gradcheck: {type(layer).__name__} '{layer.name}' takes one input, "
                             f"got {len(xs)}")
    net, cloned = _float64_version(layer, xs)
    multi = (len(net.inputs) > 1) if model else net.multi_input
    arg = xs if multi else xs[0]
    frozen = _Frozen(net)
    what = f"{type(layer).__name__} '{layer.name}'" + (" (float64 clone)" if cloned else "")
    try:
        if model:
            net.set_needs_input_grad(True)
        else:
            net.needs_input_grad = True
        frozen.reset_rng()
        out = net.forward(arg, training=training)
        g = _random_like(np.random.default_rng(seed), out)
        for v in net.weights:
            v.zero_grad()
        gin = net.backward(g)
        gins = gin if multi else [gin]
        entries = [_Entry(f"input {k}" if multi else "input", x, gi)
                   for k, (x, gi) in enumerate(zip(xs, gins))]
        entries += [_Entry(v.name, v.value, v.grad) for v in net.trainable_weights]

        def objective():
            frozen.reset_rng()
            return _vdot_all(g, net.forward(arg, training=training))

        return _compare(what, entries, objective, eps, atol, rtol)
    finally:
        frozen.restore()


def _check_model_loss(model, data, eps, atol, rtol, training):
    from .trainers.model_io import ModelIO

    x, y = data
    if np.dtype(model.dtype) == np.float64 and all(v.dtype == np.float64 for v in model.weights):
        net, cloned = model, False
    else:
        net, cloned = _float64_version(model, _as_list(x))
        heads = model._heads
        losses = heads[0].loss if len(heads) == 1 else [h.loss for h in heads]
        weights = None if len(heads) == 1 and heads[0].weight == 1.0 else [h.weight for h in heads]
        net.compile(optimizer=model.optimizer, loss=losses, loss_weights=weights)
    io = ModelIO(net)
    xs = _float64_copies(io.inputs(x))
    ys = io.targets(y, xs[0].shape[0])
    frozen = _Frozen(net)
    what = f"the compiled loss of model '{model.name}'" + (" (float64 clone)" if cloned else "")
    net._ensure_packed()
    try:
        net.set_needs_input_grad(True)
        net._reset_metrics()
        frozen.reset_rng()
        net._zero_grads()
        for v in net.trainable_weights:
            v.zero_grad()
        outs = net._graph.forward(xs, training, net._fused_outputs)
        _, grads = net._loss_step(outs, ys, training=True)
        gins = net._graph.backward(grads)
        entries = [_Entry(f"input {k}" if len(xs) > 1 else "input", xa, gi)
                   for k, (xa, gi) in enumerate(zip(xs, gins))]
        entries += [_Entry(v.name, v.value, v.grad) for v in net.trainable_weights]

        def objective():
            frozen.reset_rng()
            return float(net._loss_step(net._graph.forward(xs, training, net._fused_outputs), ys, training=False)[0])

        return _compare(what, entries, objective, eps, atol, rtol)
    finally:
        frozen.restore()


def _check_function(fn, inputs, eps, atol, rtol, seed):
    xs = _float64_copies(_as_list(inputs))
    if isinstance(fn, (tuple, list)):
        if len(fn) != 2 or not all(callable(f) for f in fn):
            raise TypeError("gradcheck: give (forward, backward) as a pair of functions")
        forward, backward = fn
        out = forward(*xs)
        g = _random_like(np.random.default_rng(seed), out)
        grads = backward(g, *xs)

        def objective():
            return _vdot_all(g, forward(*xs))

        name = getattr(forward, "__name__", "forward")
    else:
        value, grads = fn(*xs)
        if np.ndim(value) != 0:
            raise ValueError(f"gradcheck: fn must return (scalar, grads); its value has shape "
                             f"{np.shape(value)}")

        def objective():
            return float(fn(*xs)[0])

        name = getattr(fn, "__name__", "fn")
    grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    if len(grads) != len(xs):
        raise ValueError(f"gradcheck: {len(xs)} inputs but {len(grads)} gradients returned")
    entries = [_Entry(f"input {k}" if len(xs) > 1 else "input", x, gr)
               for k, (x, gr) in enumerate(zip(xs, grads))]
    return _compare(f"function '{name}'", entries, objective, eps, atol, rtol)


# ---------------------------------------------------------------------- public
def gradcheck(fn_or_layer, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, training=False,
              loss=None):
    """Checks analytic gradients against central finite differences in float64.

    ``fn_or_layer`` is one of:

    - a **Layer**: with a fixed random upstream gradient ``g`` (drawn from ``seed``) the scalar
      ``L = sum(g * layer.forward(x, training))`` is differentiated; ``layer.backward(g)`` must
      give dL/dx and fill each trainable weight's ``.grad`` (zeroed first). ``inputs`` is the
      input array (a list of arrays for Add/Concatenate). ``training=True`` checks the training
      mode (batch statistics in BatchNormalization; Dropout keeps one mask throughout).
    - a **Model**: the same through ``model.forward`` / ``model.backward``; and when the model
      is compiled and ``inputs`` is ``(x, y)`` (or ``loss=True``), the compiled loss (with
      regularization, and the fused softmax/sigmoid cross-entropy that ``fit`` uses) with
      respect to the weights and ``x``.
    - a **function** ``fn(*inputs) -> (value, grads)`` returning a scalar and its claimed
      gradients, one per input; or a pair ``(forward, backward)`` with
      ``backward(grad_out, *inputs) -> grads``.

    Float32 layers and models are cloned to float64 (``get_config`` / ``from_config`` with
    ``dtype="float64"``, weights copied), so the original is not touched. Each element of each
    input and weight is perturbed in place by ``±eps``; an element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns True, or raises
    ``nncore.GradcheckError`` naming the worst element.
    """
    if isinstance(fn_or_layer, Layer):
        if _is_model(fn_or_layer):
            model = fn_or_layer
            if loss is None:
                loss = _looks_like_x_y(model, inputs)
            if loss:
                if getattr(model, "compiled", False):   # builds a Sequential from the data
                    model._prepare(inputs[0], training=True)
                if not getattr(model, "_heads", None):
                    raise ValueError("gradcheck(model, (x, y)) needs a compiled model")
                return _check_model_loss(model, inputs, eps, atol, rtol, training)
        return _check_layer(fn_or_layer, inputs, eps, atol, rtol, seed, training)
    if callable(fn_or_layer) or isinstance(fn_or_layer, (tuple, list)):
        return _check_function(fn_or_layer, inputs, eps, atol, rtol, seed)
    raise TypeError(f"gradcheck: expected a Layer, a Model, a function or a (forward, backward) "
                    f"pair, got {fn_or_layer!r}")


def _looks_like_x_y(model, inputs) -> bool:
    """``(x, y)`` for a compiled model: a pair whose first item fits the model's inputs (a list
    of arrays for a multi-input model; for a one-input model, a pair cannot be its inputs)."""
    if not getattr(model, "compiled", False) or not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        return False
    n_inputs = len(model.inputs) if model.built else 1
    return n_inputs == 1 or isinstance(inputs[0], (list, tuple, dict))
