"""Keras-style string names and config round trips for layers, losses, optimizers, metrics,
initializers, regularizers, constraints, schedules and callbacks.

Each kind has a registry. Classes register with ``@register(kind, "alias", ...)``; the class name
itself is always registered. ``get(kind, identifier)`` accepts an instance (returned as is), a
string name, a config dict ``{"class_name": ..., "config": {...}}`` or, where the kind allows it,
a plain function.
"""

from __future__ import annotations

import inspect

from typing import Any, Callable

_REGISTRIES: dict[str, dict[str, type]] = {}


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def register(kind: str, *aliases: str) -> Callable[[type], type]:
    """Class decorator: makes ``cls`` reachable by its class name and the given aliases."""

    def deco(cls: type) -> type:
        reg = _REGISTRIES.setdefault(kind, {})
        for key in (cls.__name__, *aliases):
            reg[key] = cls
            reg.setdefault(_norm(key), cls)
        return cls

    return deco


def registered(kind: str) -> dict[str, type]:
    return dict(_REGISTRIES.get(kind, {}))


def lookup(kind: str, name: str) -> type:
    reg = _REGISTRIES.get(kind, {})
    if name in reg:
        return reg[name]
    if _norm(name) in reg:
        return reg[_norm(name)]
    known = sorted(k for k in reg if not k.islower() or "_" in k or k.isalpha())
    raise ValueError(f"unknown {kind} '{name}'; known names: {', '.join(sorted(set(known)))}")


def serialize(obj: Any) -> dict:
    """``{"class_name": ..., "config": obj.get_config()}``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind: str, data: dict, custom_objects: dict | None = None) -> Any:
    if not isinstance(data, dict) or "class_name" not in data:
        raise ValueError(f"cannot deserialize {kind} from {data!r}")
    name = data["class_name"]
    cls = (custom_objects or {}).get(name) or lookup(kind, name)
    config = dict(data.get("config", {}))
    # Containers (models) and Lambda resolve what they hold through the same custom_objects.
    if custom_objects and "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


def get(kind: str, identifier: Any, base: type | None = None, **kwargs) -> Any:
    """Resolves an identifier of a kind to an object (see module docstring)."""
    if identifier is None:
        return None
    if base is not None and isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        return lookup(kind, identifier)(**kwargs)
    if isinstance(identifier, dict):
        return deserialize(kind, identifier)
    if isinstance(identifier, type) and base is not None and issubclass(identifier, base):
        return identifier(**kwargs)
    raise ValueError(f"could not interpret {kind} identifier {identifier!r}")


def config_value(obj: Any) -> Any:
    """A constructor argument in config form: plain values stay, objects become config dicts."""
    if obj is None or isinstance(obj, (str, int, float, bool, dict, list, tuple)):
        return list(obj) if isinstance(obj, tuple) else obj
    if hasattr(obj, "get_config"):
        return serialize(obj)
    raise ValueError(f"cannot serialize {obj!r} into a config")


class Configurable:
    """The config protocol of the small Keras objects (initializers, regularizers,
    constraints): ``get_config`` holds the constructor's arguments, ``from_config`` calls it."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()}>"
