"""Keys of a model's weights in saved files, taken from the model's structure as Keras 3 takes
them: ``layers/dense/vars/0``, ``layers/dense_1/vars/0``,
``layers/sequential/layers/conv2d/vars/1``.

A layer's key part is the snake-cased name of its class, made unique among the layers of the same
container by its position there, so two builds of one architecture give the same keys whatever
their (auto-generated, process-global) layer names. Files written before these keys existed are
keyed by variable name (``hidden/kernel``); ``name_slots`` gives those keys for reading them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import backend

#: What newer files record of their keys: a functional model's layers are numbered in Keras 3's
#: order (``Graph.layers``). Files without it number them in the order of their first calls.
KEY_ORDER = "keras"

#: A structural key ends in ``vars/<index>``; name keys are ``<layer name>/<weight name>``.
_STRUCTURAL = re.compile(r"(?:^|/)vars/\d+$")

# Attributes that refer to layers the walk reaches otherwise, or to things that are not children
# (graph bookkeeping, the training loop's objects).
_SKIP_ATTRS = frozenset({"layers", "_stack", "_input_layer", "_graph", "_inbound_nodes", "_cache",
                         "inputs", "outputs", "optimizer", "_fit_callbacks",
                         "_trainable_variables", "_non_trainable_variables"})


@dataclass(frozen=True)
class Slot:
    """One weight as stored in a file: its key, the model's variable and its layer's name."""

    key: str
    variable: object
    layer: str

    @property
    def label(self) -> str:
        """How error messages name the weight: by the model's name for it and by its key."""
        if self.key == self.variable.name:
            return f"weight '{self.key}'"
        return f"weight '{self.variable.name}' ({self.key}, layer '{self.layer}')"


def is_structural(keys) -> bool:
    """Whether a file's keys are structural keys (else they are the older name keys)."""
    return any(_STRUCTURAL.search(k) for k in keys)


def _check_built(model) -> None:
    if not getattr(model, "built", True):
        raise ValueError(f"model '{model.name}' is not built yet, so it has no weights to save "
                         "or load: give it an input shape or call it on data first")


def _is_model(layer) -> bool:
    from ..models.model import Model

    return isinstance(layer, Model)


def _part_name(layer) -> str:
    from ..models.model import Model

    # nncore.Model(inputs, outputs) is Keras' Functional class.
    return "functional" if type(layer) is Model else backend.to_snake_case(type(layer).__name__)


def _children(layer, call_order: bool = False):
    """``(attribute, layers)`` pairs: a model's ``layers`` first, then layers held in instance
    attributes (directly, or inside lists, tuples and dicts, nested ones flattened in order),
    public attributes before private ones, each sorted by name. With ``call_order`` a
    functional model's layers come in the order of their first calls, as nncore keyed files
    before it took Keras' order (``KEY_ORDER``)."""
    from ..layers.base import Layer, _tracked_items

    out = []
    if _is_model(layer):
        graph = getattr(layer, "_graph", None)
        if call_order and graph is not None and hasattr(graph, "layers_in_call_order"):
            out.append(("layers", list(graph.layers_in_call_order)))
        else:
            out.append(("layers", list(layer.layers)))
        return out  # its other attributes are the training loop's, not sublayers
    attrs = sorted(vars(layer), key=lambda a: (a.startswith("_"), a))
    for attr in attrs:
        if attr in _SKIP_ATTRS or attr.startswith("__"):
            continue
        value = vars(layer)[attr]
        if isinstance(value, Layer):
            if value is not layer:
                out.append((attr, value))
        elif isinstance(value, (list, tuple, dict)):
            items = [v for v in _tracked_items(value, set())
                     if isinstance(v, Layer) and v is not layer]
            if items:
                out.append((attr, items))
    return out


def _own_variables(layer) -> list:
    """The variables of ``layer`` that none of its sublayers holds: its own in Keras' order
    (those made trainable first, whatever the trainable flag is now), then any other weight it
    reports that no sublayer claims."""
    claimed = set()
    for _, child in _children(layer):
        for sub in (child if isinstance(child, list) else [child]):
            claimed.update(id(v) for v in sub.weights)
    seen, mine = set(), []
    for v in list(layer._own_variables()) + list(layer.weights):
        if id(v) not in seen and id(v) not in claimed:
            seen.add(id(v))
            mine.append(v)
    return mine


def _walk(layer, path: str, out: dict, visited: set, call_order: bool = False) -> None:
    if id(layer) in visited:
        return  # a shared layer is stored once, under the first path that reaches it
    visited.add(id(layer))
    for i, v in enumerate(_own_variables(layer)):
        key = f"{path}vars/{i}"
        out[key] = Slot(key, v, layer.name)
    for attr, child in _children(layer, call_order):
        if isinstance(child, list):
            used: dict[str, int] = {}
            for sub in child:
                part = _part_name(sub)
                if part in used:
                    used[part] += 1
                    part = f"{part}_{used[part]}"
                else:
                    used[part] = 0
                _walk(sub, f"{path}{attr}/{part}/", out, visited, call_order)
        else:
            _walk(child, f"{path}{attr}/", out, visited, call_order)


def structural_slots(model, call_order: bool = False) -> dict:
    """``{key: Slot}`` over every weight of ``model``, in the order the walk meets them
    (``call_order``: as files written before ``KEY_ORDER`` are keyed)."""
    _check_built(model)
    out: dict = {}
    _walk(model, "", out, set(), call_order)
    return out


def name_slots(model) -> dict:
    """``{variable name: Slot}``: the keys of files written before structural keys. Repeated
    names (user-chosen layer names inside nested models) cannot be told apart there."""
    _check_built(model)
    layer_of = {id(s.variable): s.layer for s in structural_slots(model).values()}
    out: dict = {}
    for v in model.weights:
        if v.name in out:
            raise ValueError(f"model '{model.name}' has two weights named '{v.name}', so a file "
                             "keyed by weight names cannot be loaded into it")
        out[v.name] = Slot(v.name, v, layer_of.get(id(v), v.name.split("/")[0]))
    return out


def slots_for(model, file_keys, key_order=None) -> dict:
    """The slots to read a file with these keys into ``model``: structural keys, or name keys
    for older files (a file without any key is read as structural). ``key_order`` is what the
    file says of its keys: ``KEY_ORDER``, or None for files written before nncore keyed
    functional models' layers in Keras' order (read in the order of the layers' first calls;
    for a model without branches the two orders are the same)."""
    keys = list(file_keys)
    if keys and not is_structural(keys):
        return name_slots(model)
    return structural_slots(model, call_order=key_order != KEY_ORDER)
