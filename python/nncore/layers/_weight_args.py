"""The ``<weight>_initializer`` / ``<weight>_regularizer`` / ``<weight>_constraint`` arguments of
layers with weights (Keras' naming): stored on the layer, used when the weight is created, and
written back into the config."""

from __future__ import annotations

from .. import activations, constraints
from ..serialization import config_value


def store_weight_args(layer, **weights) -> None:
    """``weights``: ``name=(initializer, regularizer, constraint)``; the constraints are resolved
    now, in the order given, so that a bad one fails the constructor."""
    for name, (initializer, regularizer, constraint) in weights.items():
        setattr(layer, f"{name}_initializer", initializer)
        setattr(layer, f"{name}_regularizer", regularizer)
        setattr(layer, f"{name}_constraint", constraints.get(constraint))


def store_kernel_and_bias_args(layer, activation, use_bias, kernel, bias,
                               kernel_args: str = "kernel") -> None:
    """The arguments of a layer computing ``activation(x * kernel + bias)``: ``kernel`` and
    ``bias`` are (initializer, regularizer, constraint), stored under ``kernel_args`` and
    ``bias``; the weights themselves come at build."""
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    store_weight_args(layer, **{kernel_args: kernel}, bias=bias)
    layer.kernel = None
    layer.bias = None


def add_weight_from_args(layer, name: str, shape, args: str | None = None):
    """The weight ``name`` created with the stored arguments of ``args`` (default ``name``)."""
    args = name if args is None else args
    return layer.add_weight(name, shape, initializer=getattr(layer, f"{args}_initializer"),
                            regularizer=getattr(layer, f"{args}_regularizer"),
                            constraint=getattr(layer, f"{args}_constraint"))


def weight_args_config(layer, names, activity_regularizer: bool = False) -> dict:
    """The config entries in Keras' order: all initializers, all regularizers (then
    ``activity_regularizer`` for the layers whose Keras config has it), all constraints."""
    config = {f"{n}_initializer": config_value(getattr(layer, f"{n}_initializer")) for n in names}
    config.update({f"{n}_regularizer": config_value(getattr(layer, f"{n}_regularizer"))
                   for n in names})
    if activity_regularizer:
        config["activity_regularizer"] = None
    config.update({f"{n}_constraint": constraints.serialize(getattr(layer, f"{n}_constraint"))
                   for n in names})
    return config
