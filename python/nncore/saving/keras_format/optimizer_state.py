"""An optimizer's state in Keras 3's layout (``optimizer/vars/0..n`` of ``model.weights.h5``), so
that training resumes across the two libraries.

Keras lists a built optimizer's variables as: the iteration count, the learning rate (a
variable unless it is a schedule), then the slots each ``build`` adds: one call to
``add_optimizer_variables`` per group, which interleaves its names per model variable (Adam:
``m0, v0, m1, v1, ...``), groups one after another (RMSprop: all velocities, then all momentums).
nncore keeps the same slots under the same update rules, flat over the model's trainable weights
in ``model.trainable_weights`` order -- Keras' ``trainable_variables`` order -- so the
translation is a re-slicing. Optimizers or settings whose Keras state has another shape (EMA,
gradient accumulation, Nadam's running product) are left out: the optimizer then starts afresh,
as Keras does when the counts differ."""

from __future__ import annotations

import numpy as np


def _groups(opt):
    """The slot-name groups of Keras' ``build`` for this optimizer, or None when nncore's slots
    do not map one to one."""
    name = type(opt).__name__
    if getattr(opt, "use_ema", False):
        return None
    if name == "SGD":
        return [["momentum"]] if opt.momentum else []
    if name in ("Adam", "AdamW"):
        return [["momentum", "velocity"]] + ([["velocity_hat"]] if opt.amsgrad else [])
    if name == "RMSprop":
        return [["velocity"]] + ([["momentum"]] if opt.momentum > 0 else []) + \
            ([["average_gradient"]] if opt.centered else [])
    if name == "Adagrad":
        return [["accumulator"]]
    if name == "Adadelta":
        return [["accumulated_grad", "accumulated_delta_var"]]
    if name == "Adamax":
        return [["momentum", "norm"]]
    return None


def _built_optimizer(model):
    opt = getattr(model, "optimizer", None)
    if opt is None or _groups(opt) is None:
        return None
    model._ensure_packed()
    if not getattr(opt, "built", True):
        opt.build(model._opt_vars)
    opt._flush_pending_state()
    return opt


def _has_lr_variable(opt) -> bool:
    from ...optimizers import schedules

    lr = opt._learning_rate
    return not (isinstance(lr, schedules.LearningRateSchedule) or callable(lr))


def _per_weight(flat: np.ndarray, weights) -> list:
    out, offset = [], 0
    for w in weights:
        out.append(flat[offset:offset + w.size].reshape(w.shape))
        offset += w.size
    return out


def keras_arrays(model) -> list | None:
    """The optimizer's state as Keras' list of arrays, or None when it does not map."""
    opt = _built_optimizer(model)
    if opt is None:
        return None
    state = opt.get_state()
    weights = list(model.trainable_weights)
    arrays = [np.asarray(state["iterations"], dtype=np.int64)]
    if _has_lr_variable(opt):
        arrays.append(np.asarray(opt.learning_rate, dtype=np.float32))
    for group in _groups(opt):
        per_name = {}
        for name in group:
            flat = np.concatenate([np.ravel(state[f"slot/{i}/{name}"])
                                   for i in range(len(opt._variables))]) \
                if opt._variables else np.zeros(0)
            per_name[name] = _per_weight(flat, weights)
        for k in range(len(weights)):
            arrays += [per_name[name][k] for name in group]
    return arrays


def restore(model, arrays: list) -> bool:
    """Puts Keras' optimizer arrays into the model's (compiled) optimizer; False (and nothing
    changed) when their number or shapes are not what this optimizer keeps."""
    opt = _built_optimizer(model)
    if opt is None:
        return False
    weights = list(model.trainable_weights)
    groups = _groups(opt)
    lr_var = _has_lr_variable(opt)
    expected = 1 + lr_var + sum(len(g) for g in groups) * len(weights)
    if np.ndim(arrays[0]) != 0:
        return False
    if len(arrays) == 1 + lr_var:
        # An optimizer Keras never built (compiled, not trained): its slots are the initial
        # ones nncore's optimizer starts with.
        opt.iterations = int(arrays[0])
        if lr_var:
            opt.learning_rate = float(arrays[1])
        return True
    if len(arrays) != expected:
        return False
    pos = 1 + lr_var
    slots: dict = {}
    for group in groups:
        for k, w in enumerate(weights):
            for name in group:
                a = arrays[pos]
                pos += 1
                if tuple(np.shape(a)) != tuple(w.shape):
                    return False
                slots.setdefault(name, []).append(np.ravel(a))
    state = {"iterations": np.asarray(arrays[0], dtype=np.int64)}
    flat = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in slots.items()}
    offset = 0
    for i, v in enumerate(opt._variables):
        n = v.size
        for name in flat:
            state[f"slot/{i}/{name}"] = flat[name][offset:offset + n].reshape(v.shape)
        offset += n
    opt.set_state(state)
    if lr_var:
        opt.learning_rate = float(arrays[1])
    return True
