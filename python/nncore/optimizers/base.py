"""Optimizer base class (Keras 3 semantics): learning rate or schedule, gradient clipping,
decoupled weight decay, slots per variable, and state for exact resume. Subclasses implement
only ``build`` (create their slots) and ``update_step`` (update one variable in place)."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, Iterable, Sequence

import numpy as np

from .. import _reductions, backend
from ..distribution import context as distribution_context
from ..errors import ShapeError
from . import schedules

# Keras arguments nncore does not implement: accepted only at their defaults.
_KERAS_DEFAULTS = {"loss_scale_factor": None, "gradient_accumulation_steps": None}


def _optional_positive(value, what: str):
    if value is None:
        return None
    value = float(value)
    if value < 0 or math.isnan(value):
        raise ValueError(f"{what} must be a non-negative float or None, got {value}")
    return value


class Optimizer:
    """Base class of optimizers.

    ``learning_rate`` is a float, a ``LearningRateSchedule`` (evaluated at ``iterations``, 0 on
    the first step) or a callable without arguments (Keras). One of ``clipnorm`` (each
    variable's gradient clipped to that L2 norm), ``clipvalue`` (elementwise) or
    ``global_clipnorm`` (all gradients scaled together) may be set. ``weight_decay`` is
    decoupled as in Keras 3: before each update ``w -= w * weight_decay * learning_rate``.

    ``apply_gradients(grads_and_vars)`` (Keras) and ``apply(variables)`` (gradients taken from
    ``variable.grad``) build the optimizer on first use, then per step: clip, decay, call
    ``update_step(gradient, variable, learning_rate)`` for each variable, apply constraints and
    increment ``iterations``. Inputs are never modified: clipping writes into buffers of its own.

    A subclass implements ``build(variables)``, calling ``super().build(variables)`` and then
    ``add_slot`` for each state array it needs (zeros shaped like the variable by default), and
    ``update_step``, which must update ``variable.value`` in place (the model may hand one flat
    buffer holding all weights; ``scratch(variable, k)`` gives preallocated temporaries, so a
    step allocates nothing). ``get_state``/``set_state`` save and restore slots and iterations.
    """

    def __init__(self, learning_rate=0.001, *, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name=None, **kwargs: Any):
        for key, default in _KERAS_DEFAULTS.items():
            value = kwargs.pop(key, default)
            if value != default:
                raise NotImplementedError(f"{type(self).__name__}: {key}={value!r} is not supported")
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and is ignored (as in Keras 3); "
                          "use a learning rate schedule", stacklevel=2)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {', '.join(sorted(kwargs))}")
        clip = [a for a in (clipnorm, clipvalue, global_clipnorm) if a is not None]
        if len(clip) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set, got "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        # Keras' auto_name: the snake-cased class name made unique in the session ("adam",
        # "adam_1", "adam_w", "sgd"), from the counter layer names use.
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.weight_decay = _optional_positive(weight_decay, "weight_decay")
        self.clipnorm = _optional_positive(clipnorm, "clipnorm")
        self.clipvalue = _optional_positive(clipvalue, "clipvalue")
        self.global_clipnorm = _optional_positive(global_clipnorm, "global_clipnorm")
        self.use_ema = bool(use_ema)
        if use_ema:
            if not 0.0 <= ema_momentum <= 1.0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: "
                                 f"ema_momentum={ema_momentum}")
            if ema_overwrite_frequency is not None and (
                    isinstance(ema_overwrite_frequency, bool)
                    or not isinstance(ema_overwrite_frequency, (int, np.integer))
                    or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.ema_momentum = float(ema_momentum)
        self.ema_overwrite_frequency = (None if ema_overwrite_frequency is None
                                        else int(ema_overwrite_frequency))
        self._learning_rate = self._standardize_learning_rate(learning_rate)
        self.iterations = 0
        self.built = False
        self._variables: list = []
        self._index: dict[int, int] = {}
        self._slots: dict[int, dict[str, np.ndarray]] = {}
        self._scratch: dict[int, list[np.ndarray]] = {}
        self._clip_buffers: dict[int, np.ndarray] = {}
        self._segments: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._segment_vars: dict[int, list] = {}
        self._decay_runs: dict[int, list | None] = {}
        self._no_decay_ids: set[int] = set()
        self._no_decay_pattern = None
        self._pending_state: dict | None = None

    # ---------------------------------------------------------------- learning rate
    @staticmethod
    def _standardize_learning_rate(lr):
        if isinstance(lr, schedules.LearningRateSchedule) or callable(lr):
            return lr
        if isinstance(lr, dict):
            return schedules.deserialize(lr)
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)):
            raise ValueError(f"learning_rate must be a float, a LearningRateSchedule or a callable, got {lr!r}")
        lr = float(lr)
        if not lr >= 0:
            raise ValueError(f"learning_rate must be >= 0, got {lr}")
        return lr

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not (
                isinstance(value, schedules.LearningRateSchedule) or callable(value)):
            raise TypeError("this optimizer was created with a LearningRateSchedule, so its "
                            "learning rate cannot be set to a number; create it with a float "
                            "learning_rate to make it settable")
        self._learning_rate = self._standardize_learning_rate(value)

    # ---------------------------------------------------------------- variables and slots
    def build(self, variables: Sequence) -> None:
        """Records the variables; subclasses then create their slots with ``add_slot``."""
        variables = list(variables)
        for v in variables:
            if not isinstance(getattr(v, "value", None), np.ndarray):
                raise TypeError(f"{type(self).__name__} optimizes nncore Variables, got {v!r}")
        self._variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._slots = {id(v): {} for v in variables}
        self._scratch = {}
        self._clip_buffers = {}
        self.built = True
        if self.use_ema:
            for v in variables:
                self.add_slot(v, "average")

    def add_slot(self, variable, name: str, *, shape=None, fill: float = 0.0, dtype=None) -> np.ndarray:
        """A state array of the optimizer for ``variable`` (saved by ``get_state``)."""
        arr = np.full(variable.shape if shape is None else shape, fill,
                      dtype=variable.dtype if dtype is None else dtype)
        self._slots[id(variable)][name] = arr
        return arr

    def slot(self, variable, name: str) -> np.ndarray:
        return self._slots[id(variable)][name]

    def scratch(self, variable, k: int = 0) -> np.ndarray:
        """The k-th temporary shaped like ``variable`` (reused across steps, not saved)."""
        bufs = self._scratch.setdefault(id(variable), [])
        while len(bufs) <= k:
            bufs.append(np.empty(variable.shape, dtype=variable.dtype))
        return bufs[k]

    # Keras creates the slots of one ``add_optimizer_variables`` call variable by variable
    # (m0, v0, m1, v1, ...); a subclass whose Keras build makes several calls names the slots of
    # each call here, so that ``variables`` and ``set_weights`` follow Keras' order.
    _slot_groups: tuple | None = None

    def _ordered_slots(self) -> list[np.ndarray]:
        # The moving averages come first: Keras' base build creates them before the subclass's.
        out = [self._slots[id(v)]["average"] for v in self._variables
               if "average" in self._slots[id(v)]]
        if self._slot_groups is None:
            out += [arr for v in self._variables for name, arr in self._slots[id(v)].items()
                    if name != "average"]
            return out
        for group in self._slot_groups:
            for v in self._variables:
                slots = self._slots[id(v)]
                out.extend(slots[n] for n in group if n in slots)
        return out

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras' ``optimizer.variables``: the iteration count, the learning rate (when it is a
        number, not a schedule or callable), then the slots in Keras' order. Slots are the live
        arrays; the first two are 0-d copies (``set_weights`` writes them back)."""
        self._flush_pending_state()
        out = [np.asarray(self.iterations, dtype=np.int64)]
        if not callable(self._learning_rate):
            out.append(np.asarray(self._learning_rate, dtype=backend.floatx()))
        return out + self._ordered_slots()

    def set_weights(self, weights) -> None:
        """Sets every optimizer variable from a list shaped like ``variables`` (Keras)."""
        if not self.built:
            raise ValueError("You are calling set_weights() on an optimizer that has not yet been "
                             "built: call optimizer.build(trainable_variables) first")
        weights = list(weights)
        current = self.variables
        if len(weights) != len(current):
            raise ValueError(f"optimizer '{self.name}' has {len(current)} variables, got "
                             f"{len(weights)} weights")
        for i, (var, w) in enumerate(zip(current, weights)):
            w = np.asarray(w)
            if w.shape != var.shape:
                raise ValueError(f"optimizer variable {i} has shape {var.shape}, not compatible "
                                 f"with the provided weight's shape {w.shape}")
        self.iterations = int(np.asarray(weights[0]))
        slots = weights[1:]
        if not callable(self._learning_rate):
            self._learning_rate = self._standardize_learning_rate(float(np.asarray(weights[1])))
            slots = weights[2:]
        for arr, w in zip(self._ordered_slots(), slots):
            np.copyto(arr, np.asarray(w), casting="same_kind")

    def save_own_variables(self, store) -> None:
        """Writes ``variables`` into ``store`` under the keys "0", "1", ... (Keras)."""
        for i, arr in enumerate(self.variables):
            store[str(i)] = np.array(arr)

    def load_own_variables(self, store) -> None:
        """Reads ``save_own_variables``' entries back; as in Keras, a store with another number
        of variables (e.g. this optimizer is not built yet) is skipped with a warning."""
        n = len(self.variables)
        if len(store.keys()) != n:
            msg = (f"Skipping variable loading for optimizer '{self.name}', because it has {n} "
                   f"variables whereas the saved optimizer has {len(store.keys())} variables.")
            if not self.built:
                msg += " This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        weights = [store[str(i)] for i in range(n)]
        if self.built:
            self.set_weights(weights)
        else:
            self.iterations = int(np.asarray(weights[0]))
            if not callable(self._learning_rate):
                self._learning_rate = self._standardize_learning_rate(float(np.asarray(weights[1])))

    def set_variable_segments(self, variable, segments: Iterable) -> None:
        """Declares that ``variable`` (e.g. a model's flat weight buffer) is the concatenation, in
        order, of ``segments``: the packed Variables themselves, or just their sizes.

        Either way ``clipnorm`` clips each segment's gradient on its own, as Keras clips each
        weight. Given the Variables, the optimizer also treats each segment as that variable:
        weight decay skips the segments ``exclude_from_weight_decay`` names (by identity or
        name), and each segment's ``constraint`` is applied to its view of the buffer once after
        every step."""
        segments = list(segments)
        is_var = [hasattr(s, "shape") and hasattr(s, "name") for s in segments]
        if any(is_var) and not all(is_var):
            raise TypeError("segments must be all Variables or all sizes, got a mix")
        if all(is_var) and segments:
            seg_vars = segments
            sizes = [int(v.size) for v in seg_vars]
        else:
            seg_vars = None
            sizes = []
            for s in segments:
                if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                    raise TypeError(f"segment sizes must be integers or Variables, got {s!r}")
                sizes.append(int(s))
        sizes = np.asarray(sizes, dtype=np.intp)
        if np.any(sizes < 0) or int(sizes.sum()) != variable.size:
            raise ShapeError(f"segment sizes sum to {int(sizes.sum())} but variable "
                             f"'{getattr(variable, 'name', '?')}' has {variable.size} elements")
        all_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        nonzero = sizes > 0
        self._segments[id(variable)] = (all_starts[nonzero], sizes[nonzero])
        self._decay_runs.pop(id(variable), None)
        if seg_vars is None:
            self._segment_vars.pop(id(variable), None)
        else:
            self._segment_vars[id(variable)] = [
                (int(a), int(n), v) for a, n, v in zip(all_starts, sizes, seg_vars) if n > 0]

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Variables (or variables whose name contains one of ``var_names``) that weight decay
        skips (Keras); to be called before the optimizer is built."""
        if self.built:
            raise ValueError("exclude_from_weight_decay() can only be configured before the "
                             "optimizer is built")
        self._no_decay_ids = {id(v) for v in (var_list or [])}
        self._no_decay_pattern = re.compile("|".join(map(re.escape, var_names))) if var_names else None
        self._decay_runs.clear()

    def _decayed_views(self, variable) -> list[np.ndarray]:
        """The parts of ``variable`` that weight decay applies to."""
        segs = self._segment_vars.get(id(variable))
        if segs is None:
            return [variable.value] if self._decays(variable) else []
        runs = self._decay_runs.get(id(variable))
        if runs is None:
            # Neighbouring decayed segments merge into one range: one multiply each.
            runs = []
            for start, size, seg in segs:
                if not self._decays(seg):
                    continue
                if runs and runs[-1][1] == start:
                    runs[-1][1] = start + size
                else:
                    runs.append([start, start + size])
            self._decay_runs[id(variable)] = runs
        flat = variable.value.reshape(-1)
        return [flat[a:b] for a, b in runs]

    def _apply_constraints(self, variable) -> None:
        constraint = getattr(variable, "constraint", None)
        if constraint is not None:
            variable.assign(constraint(variable.value))
        segs = self._segment_vars.get(id(variable))
        if not segs:
            return
        flat = variable.value.reshape(-1)
        for start, size, seg in segs:
            constraint = getattr(seg, "constraint", None)
            if constraint is None:
                continue
            view = flat[start:start + size].reshape(seg.shape)
            new = np.asarray(constraint(view))
            if new.shape != view.shape:
                raise ShapeError(f"the constraint of variable '{seg.name}' returned shape "
                                 f"{new.shape} for a weight of shape {view.shape}")
            np.copyto(view, new, casting="same_kind")

    def _decays(self, variable) -> bool:
        if id(variable) in self._no_decay_ids:
            return False
        pat = self._no_decay_pattern
        return not (pat is not None and pat.search(getattr(variable, "name", "") or ""))

    # ---------------------------------------------------------------- the step
    def update_step(self, gradient: np.ndarray, variable, learning_rate: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement update_step")

    def apply_gradients(self, grads_and_vars) -> int:
        """Applies ``[(gradient, variable), ...]`` (Keras); returns ``iterations``."""
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs)
            self._apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads_or_variables, variables=None) -> int:
        """``apply(variables)`` uses each ``variable.grad``; ``apply(grads, variables)`` and, once
        built, ``apply(grads)`` are Keras' forms. Returns ``iterations``."""
        if variables is None:
            items = list(grads_or_variables)
            if items and not hasattr(items[0], "value"):
                # Keras' apply(grads) on an optimizer already built on its variables.
                if not self.built or len(items) != len(self._variables):
                    raise ValueError("apply(grads) needs an optimizer built on as many variables as "
                                     f"gradients; got {len(items)} gradients for "
                                     f"{len(self._variables)} variables")
                grads, variables = items, list(self._variables)
            else:
                variables = items
                grads = [v.grad for v in variables]
        else:
            grads, variables = list(grads_or_variables), list(variables)
            if len(grads) != len(variables):
                raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables")
        self._apply(grads, variables)
        return self.iterations

    def _apply(self, grads: list, variables: list) -> None:
        if not variables:
            return
        reducer = distribution_context.gradient_reducer()
        if reducer is not None:         # a model's own train_step, data-parallel
            grads = reducer(grads)
        if any(g is None for g in grads):
            kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
            missing = [getattr(v, "name", "?") for g, v in zip(grads, variables) if g is None]
            if not kept:
                raise ValueError("No gradients provided for any variable.")
            warnings.warn(f"gradients do not exist for variables {missing}", stacklevel=3)
            grads, variables = [g for g, _ in kept], [v for _, v in kept]
        if not self.built:
            self.build(variables)
            self.built = True
        self._flush_pending_state()
        for i, (g, v) in enumerate(zip(grads, variables)):
            if id(v) not in self._index:
                raise ValueError(f"unknown variable '{getattr(v, 'name', v)}': this optimizer was "
                                 "built for other variables; create a new optimizer for new ones")
            if type(g) is np.ndarray and g.dtype == v.dtype and g.shape == v.shape:
                continue        # the training loop's own gradients: nothing to convert
            g = np.asarray(g)
            if g.shape != v.shape:
                raise ShapeError(f"gradient of shape {g.shape} for variable "
                                 f"'{getattr(v, 'name', '?')}' of shape {v.shape}")
            if g.dtype != v.dtype:
                g = g.astype(v.dtype)
            grads[i] = np.asarray(g, order="C")
        lr = self.learning_rate
        grads = self._clip_gradients(grads, variables)
        if self.weight_decay:
            keep = 1.0 - lr * self.weight_decay
            for v in variables:
                for view in self._decayed_views(v):
                    np.multiply(view, keep, out=view)
        for g, v in zip(grads, variables):
            self.update_step(g, v, lr)
        if self.use_ema:
            self._update_moving_averages()
        for v in variables:
            self._apply_constraints(v)
        self.iterations += 1

    # ---------------------------------------------------------------- moving average (EMA)
    def _update_moving_averages(self) -> None:
        # The first step starts each average at the updated weights (momentum 0), as Keras does.
        momentum = self.ema_momentum if self.iterations != 0 else 0.0
        for v in self._variables:
            avg = self._slots[id(v)]["average"]
            avg *= momentum
            avg += (1.0 - momentum) * v.value
        freq = self.ema_overwrite_frequency
        if freq and (self.iterations + 1) % freq == 0:
            for v in self._variables:
                np.copyto(v.value, self._slots[id(v)]["average"])

    @property
    def _model_variables_moving_average(self) -> list[np.ndarray]:
        """The moving averages, in the order of the built variables (Keras' attribute)."""
        if not self.use_ema:
            return []
        return [self._slots[id(v)]["average"] for v in self._variables]

    def finalize_variable_values(self, var_list) -> None:
        """With ``use_ema``, overwrites each variable with its moving average (Keras; fit calls
        it at the end of training). A weight packed into a buffer the optimizer knows through
        ``set_variable_segments`` gets its part of that buffer's average."""
        if not self.use_ema or not self.built:
            return
        for var in var_list:
            if id(var) in self._index:
                var.assign(self._slots[id(var)]["average"])
                continue
            for flat_id, segs in self._segment_vars.items():
                hit = next((s for s in segs if s[2] is var), None)
                if hit is not None and flat_id in self._slots:
                    start, size, _ = hit
                    avg = self._slots[flat_id]["average"].reshape(-1)[start:start + size]
                    var.assign(avg.reshape(var.shape))
                    break
            else:
                raise ValueError(f"finalize_variable_values: variable '{getattr(var, 'name', var)}' "
                                 "is not one this optimizer updates")

    # ---------------------------------------------------------------- clipping
    def _clip_buffer(self, variable, g) -> np.ndarray:
        if variable is None:
            return np.empty(g.shape, dtype=g.dtype)
        buf = self._clip_buffers.get(id(variable))
        if buf is None:
            buf = self._clip_buffers[id(variable)] = np.empty(variable.shape, dtype=variable.dtype)
        return buf

    def _clip_gradients(self, grads, variables=None):
        """Clipped copies of ``grads`` (Keras' form takes the gradients alone; the step passes
        the variables too, for per-segment norms and reused buffers)."""
        grads = [np.asarray(g) for g in grads]
        if variables is None:
            variables = [None] * len(grads)
        if self.clipnorm:
            return [self._clip_by_norm(g, v) for g, v in zip(grads, variables)]
        if self.global_clipnorm:
            c = self.global_clipnorm
            norm = math.sqrt(sum(_reductions.sum_of_squares(g) for g in grads))
            if norm <= c:
                return grads
            # Keras: a non-finite norm makes every gradient NaN (TerminateOnNaN then stops).
            scale = c / norm if math.isfinite(norm) else math.nan
            return [np.multiply(g, scale, out=self._clip_buffer(v, g)) for g, v in zip(grads, variables)]
        if self.clipvalue:
            c = self.clipvalue
            return [np.clip(g, -c, c, out=self._clip_buffer(v, g)) for g, v in zip(grads, variables)]
        return grads

    def _clip_by_norm(self, g: np.ndarray, variable) -> np.ndarray:
        c = self.clipnorm
        seg = None if variable is None else self._segments.get(id(variable))
        if seg is None:
            norm = math.sqrt(_reductions.sum_of_squares(g))
            return g if norm <= c else np.multiply(g, c / norm, out=self._clip_buffer(variable, g))
        starts, sizes = seg
        flat = g.reshape(-1)
        out = self._clip_buffer(variable, g)
        sq = np.multiply(flat, flat, out=out.reshape(-1))
        norms = np.sqrt(np.add.reduceat(sq, starts)) if starts.size else np.zeros(0)
        scale = (c / np.maximum(norms, c)).astype(g.dtype)
        np.multiply(flat, np.repeat(scale, sizes), out=out.reshape(-1))
        return out

    # ---------------------------------------------------------------- state
    def get_state(self) -> dict:
        """Iterations and every slot, as arrays (``"iterations"``, ``"slot/<i>/<name>"`` with i
        the variable's position): enough to resume training exactly."""
        self._flush_pending_state()
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        for i, v in enumerate(self._variables):
            for name, arr in self._slots[id(v)].items():
                state[f"slot/{i}/{name}"] = arr.copy()
        return state

    def set_state(self, state: dict) -> None:
        """Restores ``get_state()``'s output; before ``build`` it is kept until the first step."""
        if "iterations" not in state:
            raise ValueError("optimizer state has no 'iterations' entry")
        if not self.built:
            self._pending_state = dict(state)
            self.iterations = int(state["iterations"])
            return
        self._load_state(state)

    def _flush_pending_state(self) -> None:
        if self._pending_state is not None and self.built:
            state, self._pending_state = self._pending_state, None
            self._load_state(state)

    def _load_state(self, state: dict) -> None:
        expected = {}
        for i, v in enumerate(self._variables):
            for name, arr in self._slots[id(v)].items():
                expected[f"slot/{i}/{name}"] = arr
        given = {k for k in state if k.startswith("slot/")}
        if given != set(expected):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': state slots do not match this optimizer's "
                f"(missing {sorted(set(expected) - given)[:5]}, unexpected {sorted(given - set(expected))[:5]})")
        for key, arr in expected.items():
            src = np.asarray(state[key])
            if src.shape != arr.shape:
                raise ShapeError(f"optimizer state '{key}' has shape {src.shape}, expected {arr.shape}")
            np.copyto(arr, src, casting="same_kind")
        self.iterations = int(state["iterations"])

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": None, "gradient_accumulation_steps": None}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} iterations={self.iterations}>"
