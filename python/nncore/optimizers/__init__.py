"""nncore.optimizers: the Keras 3 optimizers plus RAdam, AdaBelief and L-BFGS, and learning
rate schedules.

``get("adam")``, ``get("sgd")``, ``get({"class_name": "Adam", "config": {...}})`` or an
instance. Beyond Keras' names, ``"momentum"`` gives ``SGD(momentum=0.9)`` and ``"nesterov"``
(or ``"nag"``) ``SGD(momentum=0.9, nesterov=True)``.
"""

from __future__ import annotations

from .. import serialization
from . import schedules
from .adabelief import AdaBelief
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .lbfgs import LBFGS
from .nadam import Nadam
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

KIND = "optimizer"

_SGD_ALIASES = {
    "momentum": {"momentum": 0.9},
    "sgd_momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "nag": {"momentum": 0.9, "nesterov": True},
}


def get(identifier):
    """An ``Optimizer`` from a name, a config dict, an Optimizer class or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in _SGD_ALIASES:
        return SGD(**_SGD_ALIASES[identifier.lower()])
    return serialization.get(KIND, identifier, Optimizer)


def serialize(optimizer: Optimizer) -> dict:
    return serialization.serialize(optimizer)


def deserialize(config: dict, custom_objects=None) -> Optimizer:
    return serialization.deserialize(KIND, config, custom_objects)


__all__ = ["LBFGS", "SGD", "AdaBelief", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Nadam",
           "Optimizer", "RAdam", "RMSprop", "deserialize", "get", "schedules", "serialize"]
