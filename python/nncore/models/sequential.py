"""Sequential: a plain stack of layers, built into a functional graph once its input shape is known."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..layers.base import Input, InputLayer, Layer, SymbolicTensor
from ..serialization import deserialize, register, serialize
from .model import Model
from ..trainers.trainer import Trainer


class _NotALayerError(ValueError, TypeError):
    pass


@register("layer")
class Sequential(Model):
    """``Sequential([layer, ...])``. The input shape comes from a first ``Input``/``InputLayer``,
    from ``input_shape=`` on the first layer, or from the first data given to fit/predict."""

    def __init__(self, layers=None, name=None, trainable=True):
        Layer.__init__(self, name=name or backend.unique_name("sequential"), trainable=trainable)
        Trainer.__init__(self)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._output_keys = None
        self._input_keys = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        if isinstance(layer, SymbolicTensor):
            if self._stack or self._input_layer is not None:
                raise ValueError("Sequential: an Input can only be the first element; the model's input has already been configured")
            self._input_layer = layer.node.layer
        elif isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("Sequential: an InputLayer can only be the first element; the model's input has already been configured")
            self._input_layer = layer
        elif isinstance(layer, Layer):
            if any(l is layer for l in self._stack):
                raise ValueError(f"Sequential: layer '{layer.name}' is already in the model")
            if any(l.name == layer.name for l in self._stack):
                raise ValueError(f"Sequential: all layers added to a Sequential model should have "
                                 f"unique names; '{layer.name}' is already taken")
            self._stack.append(layer)
        else:
            # ValueError as Keras (and TypeError, which this used to raise).
            raise _NotALayerError("Sequential: only instances of nncore.layers.Layer can be added "
                                  f"to a Sequential model, got {layer!r}")
        self.built = False
        self.compiled = False
        shape = self._known_input_shape()
        if shape is not None and self._stack:
            self._build_graph(shape)

    def pop(self) -> Layer:
        if not self._stack:
            raise ValueError("Sequential.pop: the model has no layers")
        layer = self._stack.pop()
        self.built = False
        self.compiled = False
        shape = self._known_input_shape()
        if shape is not None and self._stack:
            self._build_graph(shape)
        return layer

    def _known_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._stack and self._stack[0]._declared_input_shape is not None:
            return self._stack[0]._declared_input_shape
        first = self._stack[0] if self._stack else None
        # A built model as first layer brings its input shape (Keras builds then).
        if isinstance(first, Model) and first.built and len(first.inputs) == 1:
            return first.inputs[0].shape
        return None

    def _build_graph(self, batch_shape) -> None:
        if not self._stack:
            raise ValueError(f"Sequential model '{self.name}' has no layers: add() some first")
        il = self._input_layer
        if il is None:
            il = Input(batch_shape=tuple(batch_shape), dtype=self._stack[0].dtype).node.layer
        elif tuple(il.batch_shape[1:]) != tuple(batch_shape[1:]):
            raise ShapeError(f"Sequential '{self.name}' was declared with input shape "
                             f"{il.batch_shape}, got {tuple(batch_shape)}")
        self._input_layer = il
        h = il.output
        for layer in self._stack:
            h = layer(h)
        self._init_graph(il.output, h)

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise ValueError("Sequential.build needs an input shape")
        self._build_graph((None, *tuple(input_shape)[1:]))

    def _build_for_data(self, x) -> None:
        """Builds the graph from the first data's input shape (Keras builds on first use)."""
        if not self.built:
            if x is None:
                raise ValueError(f"Sequential model '{self.name}' is not built and got no data "
                                 "to build from")
            arr = x[0] if isinstance(x, (list, tuple)) else x
            self._build_graph((None, *np.shape(arr)[1:]))

    @property
    def layers(self):
        return list(self._stack)

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Sequential.layers` cannot be assigned. Use `add()` and `pop()` "
                             "to change the layers of a Sequential model")

    def compute_output_shape(self, input_shape):
        # Layer by layer, so that a given batch size carries through (Keras).
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def _require_built(self, what):
        if not self.built:
            raise ValueError(
                f"Sequential model '{self.name}' is not built yet, so {what} is unknown: give the "
                "first layer an input shape (nncore.Input(shape=...) as first element) or call "
                "build()/fit()/predict() first"
            )

    def summary(self, *args, **kwargs):
        self._require_built("its summary")
        return super().summary(*args, **kwargs)

    def __call__(self, inputs, training=None):
        if not self.built:
            shape = inputs.shape if isinstance(inputs, SymbolicTensor) else np.shape(inputs)
            self._build_graph((None, *shape[1:]))
        return super().__call__(inputs, training)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [serialize(layer) for layer in self._stack]}
        if self._input_layer is not None:
            config["batch_input_shape"] = list(self._input_layer.batch_shape)
            config["input_dtype"] = self._input_layer.dtype.name
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        if config.get("batch_input_shape") is not None:
            model.add(Input(batch_shape=tuple(config["batch_input_shape"]),
                            dtype=config.get("input_dtype")))
        for entry in config["layers"]:
            model.add(deserialize("layer", entry, custom_objects))
        return model
