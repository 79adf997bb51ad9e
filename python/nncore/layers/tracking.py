"""Keras 3's attribute tracking, as a mixin of ``Layer``: Layers and Variables assigned as
attributes (directly or inside lists, tuples and dicts) are the layer's sublayers and variables,
and ``trainable`` propagates to them."""

from __future__ import annotations

import threading
from typing import Iterator

from ..variables import Variable

# Attributes that hold graph bookkeeping, caches or the training loop's objects rather than a
# layer's state: never scanned for sublayers or variables (a layer's inbound nodes point back at
# the layer, and a model's graph at every layer of it).
_UNTRACKED_ATTRS = frozenset({
    "_inbound_nodes", "_cache", "_graph", "inputs", "outputs", "optimizer", "_output_shapes",
    "_step_buffers", "_trainable_variables", "_non_trainable_variables", "_build_input_shape",
    "_declared_input_shape", "_fit_callbacks",
    # A model's training-loop state: the packed weight buffer and the optimizer's view of it.
    "_flat", "_opt_vars", "_packed_views", "_regularized", "_heads", "_target_heads",
    "_loss_log_heads", "_compile_spec", "_bound_graph", "history", "_custom_metrics",
})

# Layers whose trainable setter is running in this thread: a sublayer that refers back to its
# parent must not send the propagation round in circles.
_propagating = threading.local()


def _tracked_items(value, seen: set) -> Iterator:
    """The Layers and Variables in an attribute value: the value itself, or the items of a list,
    tuple or dict (nested containers too), in order."""
    if isinstance(value, (Tracking, Variable)):
        yield value
    elif isinstance(value, (list, tuple, dict)):
        if id(value) in seen:
            return
        seen.add(id(value))
        for item in (value.values() if isinstance(value, dict) else value):
            yield from _tracked_items(item, seen)


class Tracking:
    """The tracking half of ``Layer`` (its weights lists read ``_own_variables`` and
    ``_sublayers``)."""

    _track_attributes = True

    def _init_variable_stores(self) -> None:
        # setdefault: a subclass may assign Variables before calling super().__init__ (Keras
        # tracks those too).
        self.__dict__.setdefault("_trainable_variables", [])
        self.__dict__.setdefault("_non_trainable_variables", [])

    def __setattr__(self, name: str, value) -> None:
        # Variables are tracked when assigned, so that the order of a layer's own weights is the
        # order they were made in whatever is read first; sublayers are found by a scan
        # (``_sublayers``), which also sees items appended to a list attribute later.
        if (self._track_attributes and name not in _UNTRACKED_ATTRS
                and isinstance(value, (Variable, list, tuple, dict))):
            for item in _tracked_items(value, set()):
                if isinstance(item, Variable):
                    self._track_variable(item)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        value = self.__dict__.get(name)
        if isinstance(value, Variable) and self._track_attributes:
            self._untrack_variable(value)
        object.__delattr__(self, name)

    def _is_tracked(self, variable: Variable) -> bool:
        d = self.__dict__
        return any(v is variable for v in (*d.get("_trainable_variables", ()),
                                            *d.get("_non_trainable_variables", ())))

    def _track_variable(self, variable: Variable) -> None:
        """Makes ``variable`` one of this layer's own. As in Keras, a variable made trainable is
        listed with the trainable ones (even while the layer is frozen, which turns the variable's
        own flag off until the layer is unfrozen)."""
        self._init_variable_stores()
        if self._is_tracked(variable):
            return
        store = "_trainable_variables" if variable.trainable else "_non_trainable_variables"
        self.__dict__[store].append(variable)
        if not self.__dict__.get("_trainable", True):
            variable.trainable = False

    def _untrack_variable(self, variable: Variable) -> None:
        """Drops ``variable`` from this layer's own variables (Keras: ``self.w =
        self._untrack_variable(self.w)`` removes a weight)."""
        for store in ("_trainable_variables", "_non_trainable_variables"):
            kept = [v for v in self.__dict__.get(store, []) if v is not variable]
            self.__dict__[store] = kept
        return None

    def _attribute_items(self) -> Iterator:
        """The Layers and Variables held in attributes, in attribute order."""
        if not self._track_attributes:
            return
        seen: set = set()
        for attr, value in list(self.__dict__.items()):
            if attr in _UNTRACKED_ATTRS:
                continue
            yield from _tracked_items(value, seen)

    def _own_variables(self) -> list[Variable]:
        """This layer's own variables, those made trainable first (Keras order). Variables put
        into a list or dict attribute after it was assigned are tracked here, on first sight."""
        for item in self._attribute_items():
            if isinstance(item, Variable):
                self._track_variable(item)
        d = self.__dict__
        return [*d.get("_trainable_variables", ()), *d.get("_non_trainable_variables", ())]

    def _sublayers(self) -> list:
        """The layers this layer holds directly, in attribute order, each once. A model
        overrides it with the layers of its graph."""
        out, seen = [], {id(self)}
        for item in self._attribute_items():
            if isinstance(item, Tracking) and id(item) not in seen:
                seen.add(id(item))
                out.append(item)
        return out

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list:
        """This layer and its sublayers, depth first (each before its own sublayers), each once."""
        out: list = []
        seen: set = set()

        def visit(layer, depth):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            if layer is not self or include_self:
                out.append(layer)
            if depth == 0 or recursive:
                for sub in layer._sublayers():
                    visit(sub, depth + 1)

        visit(self, 0)
        return out

    @property
    def trainable(self) -> bool:
        """Whether the layer's weights are trained. Setting it sets it on every sublayer too
        (Keras 3), and turns the ``trainable`` flag of the variables made trainable off or back
        on; a model must be compiled again for a change to take effect in ``fit``."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value) -> None:
        value = bool(value)
        running = _propagating.__dict__.setdefault("ids", set())
        if id(self) in running:
            return
        running.add(id(self))
        try:
            self._own_variables()  # tracks variables appended to containers since
            self.__dict__["_trainable"] = value
            for v in self.__dict__.get("_trainable_variables", ()):
                v.trainable = value
            for layer in self._sublayers():
                layer.trainable = value
        finally:
            running.discard(id(self))
