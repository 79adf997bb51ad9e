"""Activation functions by Keras name, each with the backward pass the layers need.

``get("relu")`` returns an :class:`ActivationFn`; ``get(None)`` / ``get("linear")`` returns None
(identity). Backward passes use the output where that is cheaper (sigmoid, tanh, softmax, elu,
exponential) and the input otherwise; layers keep both from the forward pass.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import ops


class ActivationFn:
    """One activation: ``forward(x)`` and ``backward(grad_y, x, y)`` -> gradient w.r.t. ``x``."""

    def __init__(self, name: str, forward: Callable, backward: Callable, *, needs: str = "x",
                 params: dict | None = None):
        self.name = name
        self._forward = forward
        self._backward = backward
        self.needs = needs  # "x": backward reads the input; "y": it reads the output
        self.params = dict(params or {})

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x, **self.params)

    def backward(self, grad_y: np.ndarray, x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray:
        if self.needs == "y":
            return self._backward(grad_y, y, **self.params)
        return self._backward(grad_y, x, **self.params)

    def __call__(self, x):
        return self.forward(np.asarray(x))

    def get_config(self) -> dict:
        return {"name": self.name, **self.params}

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


def _from_input(name, fwd_name=None, **params):
    fwd = getattr(ops, fwd_name or name)
    bwd = getattr(ops, f"{fwd_name or name}_backward")
    return ActivationFn(name, fwd, bwd, needs="x", params=params)


def _from_output(name, fwd_name=None, **params):
    fwd = getattr(ops, fwd_name or name)
    bwd = getattr(ops, f"{fwd_name or name}_backward_from_output")
    return ActivationFn(name, fwd, bwd, needs="y", params=params)


def _softmax(name="softmax"):
    return ActivationFn(name, ops.softmax, ops.softmax_backward, needs="y")


def _log_softmax():
    return ActivationFn("log_softmax", ops.log_softmax, ops.log_softmax_backward, needs="y")


_FACTORIES: dict[str, Callable[[], ActivationFn]] = {
    "relu": lambda: _from_input("relu"),
    "relu6": lambda: _from_input("relu6"),
    "leaky_relu": lambda: _from_input("leaky_relu"),
    "elu": lambda: _from_output("elu"),
    "selu": lambda: _from_input("selu"),
    "sigmoid": lambda: _from_output("sigmoid"),
    "tanh": lambda: _from_output("tanh"),
    "softplus": lambda: _from_input("softplus"),
    "softsign": lambda: _from_input("softsign"),
    "hard_sigmoid": lambda: _from_input("hard_sigmoid"),
    "exponential": lambda: _from_output("exponential"),
    "swish": lambda: _from_input("swish"),
    "silu": lambda: _from_input("silu"),
    "gelu": lambda: _from_input("gelu"),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "heaviside": lambda: _from_input("heaviside"),
    "step": lambda: _from_input("heaviside"),
}

NAMES = tuple(sorted(_FACTORIES))


def get(identifier) -> ActivationFn | None:
    """Resolves an activation: None/'linear' -> None, a Keras name, an ActivationFn, or a config."""
    if identifier is None:
        return None
    if isinstance(identifier, ActivationFn):
        return identifier
    if isinstance(identifier, dict):
        params = dict(identifier)
        name = params.pop("name")
        act = get(name)
        if act is not None and params:
            act.params.update(params)
        return act
    if isinstance(identifier, str):
        key = identifier.lower()
        if key == "linear":
            return None
        if key not in _FACTORIES:
            raise ValueError(
                f"unknown activation '{identifier}'; known: linear, {', '.join(NAMES)}"
            )
        return _FACTORIES[key]()
    raise ValueError(
        f"cannot use {identifier!r} as an activation: give a name such as 'relu', None, or an "
        "nncore.activations.ActivationFn with forward and backward"
    )


def serialize(act: ActivationFn | None):
    """Config form: the name (or a dict with parameters), 'linear' for None."""
    if act is None:
        return "linear"
    return act.name if not act.params else act.get_config()
