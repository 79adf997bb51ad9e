"""GradientTape: records the ops run inside it and differentiates them (TensorFlow's interface)."""

from __future__ import annotations

import contextlib

import numpy as np

from .tape import _variable_type, backprop, leaf, state
from .tensor import Tensor


def _flatten(structure):
    """Leaves of a nested list/tuple/dict, and a function rebuilding the structure from them."""
    if isinstance(structure, dict):
        keys = list(structure)
        parts = [_flatten(structure[k]) for k in keys]

        def build(items):
            out, i = {}, 0
            for k, (leaves, rebuild) in zip(keys, parts):
                out[k] = rebuild(items[i:i + len(leaves)])
                i += len(leaves)
            return out
        return [x for leaves, _ in parts for x in leaves], build
    if isinstance(structure, (list, tuple)):
        parts = [_flatten(v) for v in structure]
        kind = type(structure)

        def build(items):
            out, i = [], 0
            for leaves, rebuild in parts:
                out.append(rebuild(items[i:i + len(leaves)]))
                i += len(leaves)
            return kind(out) if kind in (list, tuple) else kind(*out)
        return [x for leaves, _ in parts for x in leaves], build
    return [structure], lambda items: items[0]


class GradientTape:
    """``with nncore.GradientTape() as tape: loss = ...`` then ``tape.gradient(loss, sources)``.

    Inside the block every op on a trainable Variable (all Variables unless
    ``watch_accessed_variables=False``), on an array passed to ``watch`` or on what they made is
    recorded. ``gradient`` returns the gradients in the structure of ``sources`` (None for a source
    the target does not depend on). A tape frees what it recorded as the gradient is computed, so
    it can be asked once, unless ``persistent=True``. Higher-order gradients are not supported.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._watched: dict[int, tuple] = {}
        self._open = False
        self._used = False
        self._saved_auto = True
        # True once this tape no longer needs what it recorded (a non-persistent tape after its
        # gradient): nodes it shares with other tapes may then be freed by theirs.
        self._finished = False
        # The step token of the arrays models called inside this tape reuse (see layer_call).
        self._workspace_token = None

    # ----------------------------------------------------------------- recording
    def __enter__(self):
        if self._open:
            raise RuntimeError("this GradientTape is already recording")
        self._open = True
        state.recording += 1
        state.tapes = (*state.tapes, self)
        self._saved_auto = state.auto_watch
        state.auto_watch = self.watch_accessed_variables
        if self._watched:
            self._publish()
        return self

    def __exit__(self, *exc):
        self._open = False
        state.recording -= 1
        state.tapes = tuple(t for t in state.tapes if t is not self)
        state.auto_watch = self._saved_auto
        watched = state.watched
        if watched is not None:
            for key in self._watched:
                entry = watched.get(key)
                if entry is not None and entry is self._watched[key]:
                    del watched[key]
            if not watched:
                state.watched = None
        return False

    def _publish(self):
        if state.watched is None:
            state.watched = {}
        state.watched.update(self._watched)

    def watch(self, tensor):
        """Records ops on ``tensor`` (an array, a Variable, or a nested structure of them) from
        now on: ``tape.gradient(target, tensor)`` then gives its gradient.

        ``nncore.ops`` and layers see a watched NumPy array; NumPy's own operators on it
        (``x * w``) cannot, so ``watch`` also returns the watched values as tracked Tensors
        (``x = tape.watch(x)``), on which operators are recorded too."""
        from ..variables import Variable

        flat, rebuild = _flatten(tensor)
        out = []
        for x in flat:
            if isinstance(x, Tensor):
                out.append(x)          # already part of a recording
                continue
            if isinstance(x, Variable):
                self._watched[id(x)] = (x, x._leaf())
                out.append(x)
            elif isinstance(x, np.ndarray):
                if x.dtype.kind != "f":
                    raise TypeError(f"GradientTape.watch: only float arrays have gradients, got "
                                    f"dtype {x.dtype}")
                entry = self._watched.get(id(x))
                if entry is None or entry[0] is not x:
                    entry = self._watched[id(x)] = (x, leaf())
                tracked = Tensor(x, entry[1])
                self._watched[id(tracked)] = (tracked, entry[1])
                out.append(tracked)
            else:
                raise TypeError(f"GradientTape.watch takes arrays and Variables, got "
                                f"{type(x).__name__}: convert it with np.asarray first")
        if self._open:
            self._publish()
        return rebuild(out)

    def watched_variables(self) -> list:
        from ..variables import Variable

        return [x for x, _ in self._watched.values() if isinstance(x, Variable)]

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops inside this block are not recorded."""
        saved = state.recording, state.watched, state.auto_watch
        state.recording, state.watched = 0, None
        try:
            yield
        finally:
            state.recording, state.watched, state.auto_watch = saved

    def reset(self) -> None:
        self._watched.clear()
        self._used = False
        self._finished = False
        # The step token of the arrays models called inside this tape reuse (see layer_call).
        self._workspace_token = None

    # ----------------------------------------------------------------- differentiation
    def _node_of(self, x):
        if type(x) is Tensor:
            return x.node
        if isinstance(x, _variable_type()):
            return x._leaf()
        entry = self._watched.get(id(x))
        if entry is not None and entry[0] is x:
            return entry[1]
        return None

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """The gradient of ``target`` (summed if it has several elements, or weighted by
        ``output_gradients``) with respect to each of ``sources``."""
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got "
                             f"{unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError("a non-persistent GradientTape can compute gradients only once: "
                               "create it with GradientTape(persistent=True) to call gradient() "
                               "several times")
        targets = _flatten(target)[0]
        out_grads = [None] * len(targets) if output_gradients is None else \
            _flatten(output_gradients)[0]
        if len(out_grads) != len(targets):
            raise ValueError(f"gradient: {len(out_grads)} output_gradients for {len(targets)} targets")
        roots = []
        for t, og in zip(targets, out_grads):
            if isinstance(t, Tensor):
                seed = np.ones_like(t.value) if og is None else np.broadcast_to(
                    np.asarray(og, t.value.dtype), t.value.shape)
                roots.append((t.node, seed))
        flat_sources, rebuild = _flatten(sources)
        nodes = [self._node_of(s) for s in flat_sources]
        wanted = {id(n): n for n in nodes if n is not None}
        self._used = True
        free = not self.persistent
        grads = backprop(roots, wanted, free=free, tape=self) if roots and wanted else {}
        self._finished = free
        results = []
        for s, n in zip(flat_sources, nodes):
            g = None if n is None else grads.get(id(n))
            if g is None and unconnected_gradients == "zero":
                g = np.zeros(np.shape(s), np.asarray(s).dtype)
            elif g is not None:
                dtype = s.dtype if isinstance(s, (Tensor, np.ndarray, _variable_type())) \
                    else np.asarray(s).dtype
                if type(g) is not np.ndarray:
                    g = np.asarray(g)
                if g.dtype != dtype and dtype.kind == "f":
                    g = g.astype(dtype)
            results.append(g)
        return rebuild(results)
