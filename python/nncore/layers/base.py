"""Layer: the unit of computation (build / forward / backward / get_config), its weights and
config; how it is called (``calling.py``), what it tracks (``tracking.py``) and the symbolic
tensors of the functional API (``symbolic.py``) are its mixins and neighbours."""

from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..serialization import register
from ..variables import Variable
from .calling import Calling
from .symbolic import Node, SymbolicTensor, _is_symbolic, _shape_tuple  # noqa: F401  (re-exported)
from .tracking import Tracking, _tracked_items  # noqa: F401  (re-exported)


def _policy_dtype(dtype):
    """The dtype of a Keras dtype policy config (``{"class_name": "DTypePolicy", "config":
    {"name": "float32"}}``, as Keras saves it) or name; other dtypes pass through."""
    if isinstance(dtype, dict):
        name = dtype.get("config", {}).get("name") if isinstance(dtype.get("config"), dict) else None
        if not isinstance(name, str):
            raise ValueError(f"cannot read a dtype from {dtype!r}")
        dtype = name
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        raise ValueError(f"dtype policy {dtype!r}: mixed precision is not supported; use "
                         "'float32' or 'float64'")
    return dtype

class Layer(Tracking, Calling):
    """Base class of all layers.

    A subclass implements:

    - ``build(input_shape)``: creates its weights with ``add_weight`` once the input shape is
      known (the batch dimension is ``None``), then calls ``super().build(input_shape)``;
    - ``compute_output_shape(input_shape)``: the output shape, raising ``ShapeError`` (naming the
      layer) for an input it cannot take;
    - ``forward(x, training=False)``: the output for a batch ``x`` (a list of arrays for layers
      that take several inputs), keeping in ``self._cache`` whatever ``backward`` needs;
    - ``backward(grad_out)``: the gradient with respect to the input(s) of the last ``forward``,
      *adding* the gradients of its weights into ``variable.grad`` (it may return None when
      ``self.needs_input_grad`` is False);
    - ``get_config()``: the constructor arguments, so that ``cls.from_config(config)`` rebuilds it.

    Everything forward keeps for backward goes in ``self._cache``: a model that calls one layer at
    several places of its graph saves and restores it per call.

    Layers and Variables assigned as attributes, directly or inside lists, tuples and dicts, are
    tracked as in Keras 3: a custom layer's ``weights`` (and ``count_params``, ``get_weights``,
    saving) include its sublayers', and setting ``trainable`` sets it on every sublayer.
    """

    #: Layers such as Add or Concatenate take a list of inputs.
    multi_input = False
    #: Whether attributes are scanned for sublayers and variables. A model's state is the layers
    #: of its graph, and its attributes hold the training loop's own buffers instead.
    _track_attributes = True

    def __init__(self, *, name: str | None = None, dtype=None, trainable: bool = True,
                 input_shape: Sequence[int] | None = None, batch_size: int | None = None,
                 activity_regularizer=None, **kwargs: Any):
        # Accepted so that Keras configs (which carry it for convolutions) load.
        if activity_regularizer is not None:
            raise ValueError(f"{type(self).__name__}: activity_regularizer is not supported; "
                             "regularize the weights (kernel_regularizer=...) instead")
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}"
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"layer name must be a non-empty string, got {name!r}")
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.dtype = backend.standardize_dtype(_policy_dtype(dtype))
        if not isinstance(trainable, (bool, np.bool_)):
            raise ValueError(f"{type(self).__name__}: expected `trainable` to be a boolean, got "
                             f"trainable={trainable!r} of type {type(trainable).__name__}")
        # Set directly, not through the property: at construction the flag is the layer's own
        # (Keras), sublayers keep theirs.
        self._trainable = bool(trainable)
        self.built = False
        self._init_variable_stores()
        self._cache: Any = None
        # A model clears this on layers fed only by its inputs: their input gradient is not needed,
        # and for a first convolution it is the most expensive part of the backward pass.
        self.needs_input_grad = True
        self._build_input_shape = None
        self._inbound_nodes: list[Node] = []
        # Keras 2 style `input_shape=` on the first layer of a Sequential model.
        self._declared_input_shape = (
            (batch_size, *_shape_tuple(input_shape)) if input_shape is not None else None
        )

    def _output_shape(self, x_shape: tuple) -> tuple:
        """``compute_output_shape`` of a concrete input shape, remembered per shape (the training
        loop asks once per step)."""
        shapes = self.__dict__.setdefault("_output_shapes", {})
        shape = shapes.get(x_shape)
        if shape is None:
            shape = shapes[x_shape] = tuple(self.compute_output_shape(x_shape))
        return shape

    # ----------------------------------------------------------------- weights
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient: bool = False, name: str | None = None) -> Variable:
        """Creates, initializes and tracks a weight ``'<layer>/<name>'``.

        Keras' call ``add_weight(shape=..., initializer=..., name=...)`` (positionally ``shape,
        initializer, dtype``) and nncore's ``add_weight(name, shape, ...)`` both work. The dtype
        defaults to the layer's, the initializer to glorot_uniform, the shape to a scalar.
        ``constraint`` (a name, config, Constraint or callable) is attached to the variable: the
        optimizer projects the weight with it once after each step."""
        from .. import constraints, initializers, regularizers

        args = list(args)
        if args and isinstance(args[0], str):
            if name is not None:
                raise ValueError(f"add_weight: name given twice ({args[0]!r} and {name!r})")
            name = args.pop(0)
        if len(args) > 3:
            raise ValueError(f"add_weight() takes at most 3 positional arguments (shape, "
                            f"initializer, dtype) but {len(args)} were given")
        for key, value in zip(("shape", "initializer", "dtype"), args):
            if locals()[key] is not None:
                raise ValueError(f"add_weight: `{key}` was passed both positionally and as a keyword")
            if key == "shape":
                shape = value
            elif key == "initializer":
                initializer = value
            else:
                dtype = value
        del autocast, aggregation, overwrite_with_gradient  # one device, no mixed precision
        if name is None:
            n = len(self._trainable_variables) + len(self._non_trainable_variables)
            name = "variable" if not n else f"variable_{n}"
        dtype = self.dtype if dtype is None else backend.standardize_dtype(dtype)
        try:
            shape = tuple(int(d) for d in (() if shape is None else shape))
        except TypeError:
            raise ValueError(f"add_weight '{self.name}/{name}': shape must be a tuple of ints, "
                             f"got {shape!r}") from None
        if any(d < 0 for d in shape):
            raise ValueError(f"add_weight '{self.name}/{name}': negative dimension in shape {shape}")
        constraint = constraints.get(constraint)
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        value = np.asarray(init(shape, dtype=dtype), dtype=dtype)
        if value.shape != shape:
            raise ShapeError(f"initializer of '{self.name}/{name}' returned shape {value.shape}, expected {shape}")
        var = Variable(value, name=f"{self.name}/{name}", trainable=trainable,
                       regularizer=regularizers.get(regularizer), constraint=constraint)
        self._track_variable(var)
        return var

    # ----------------------------------------------------------------- weights
    @property
    def weights(self) -> list[Variable]:
        """Every weight of the layer and of its sublayers, each once: the layer's own (trainable
        ones first), then each sublayer's in turn (Keras order)."""
        out, seen = [], set()
        for layer in self._flatten_layers():
            for v in layer._own_variables():
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.non_trainable_weights

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"layer '{self.name}' is not built yet, so its weights do not exist: call it on an "
                "input or call build(input_shape) first"
            )
        return int(sum(v.size for v in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(
                f"layer '{self.name}' has {len(mine)} weight(s) but {len(weights)} were given"
            )
        for var, w in zip(mine, weights):
            w = np.asarray(w)
            if w.shape != var.shape:
                raise ShapeError(
                    f"layer '{self.name}': weight '{var.name}' has shape {var.shape}, got {w.shape}"
                )
        for var, w in zip(mine, weights):
            var.assign(w)

    def zero_grads(self) -> None:
        for v in self.weights:
            v.zero_grad()

    def regularization_loss(self) -> float:
        """Sum of the penalties of the regularized trainable weights (sublayers' included, each
        weight once)."""
        total = 0.0
        for v in self.trainable_weights:
            if v.regularizer is not None:
                total += float(v.regularizer(v.value))
        return total

    def add_regularization_grads(self) -> None:
        """Adds the gradient of each weight's penalty into its ``grad``."""
        for v in self.trainable_weights:
            if v.regularizer is not None:
                v.grad += v.regularizer.gradient(v.value)

    # ----------------------------------------------------------------- build / shapes
    def build(self, input_shape) -> None:
        self._build_input_shape = input_shape
        self.built = True

    def __init_subclass__(cls, **kwargs):
        # As Keras: a subclass's build marks the layer built, whether or not it calls
        # super().build, so that calling layer.build(shape) by hand then using the layer does
        # not build it (and make its weights) a second time.
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is None or getattr(build, "_marks_built", False):
            return

        @functools.wraps(build)
        def build_and_mark(self, *args, **kw):
            out = build(self, *args, **kw)
            if not self.built:
                shape = args[0] if args else kw.get("input_shape")
                self._build_input_shape = shape
                self.built = True
            return out

        build_and_mark._marks_built = True
        cls.build = build_and_mark

    def compute_output_shape(self, input_shape):
        return input_shape

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            self.build(input_shape)
            self._build_input_shape = input_shape
            self.built = True

    def _check_eager_input(self, x) -> None:
        """Eager calls on a built layer: the non-batch dimensions must match those it was built for."""
        want = self._build_input_shape
        if want is None:
            return
        if self.multi_input:
            shapes = [np.shape(t) for t in x]
            wants = list(want)
        else:
            shapes, wants = [np.shape(x)], [want]
        if len(shapes) != len(wants):
            raise ShapeError(f"{type(self).__name__} '{self.name}' expects {len(wants)} inputs, got {len(shapes)}")
        for got, exp in zip(shapes, wants):
            if len(got) != len(exp) or any(e is not None and g != e for g, e in zip(got[1:], exp[1:])):
                raise ShapeError(
                    f"{type(self).__name__} '{self.name}' expects input shape {tuple(exp)}, got {tuple(got)}"
                )

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self._declared_input_shape is not None:
            config["batch_input_shape"] = list(self._declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        batch_input_shape = config.pop("batch_input_shape", None)
        layer = cls(**config)
        if batch_input_shape is not None:
            layer._declared_input_shape = _shape_tuple(batch_input_shape)
        return layer

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


@register("layer")
class InputLayer(Layer):
    """The entry of a model: passes its input through; ``Input(shape=...)`` creates one."""

    def __init__(self, *, shape=None, batch_size=None, batch_shape=None, dtype=None, name=None, **kwargs):
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs shape= (without the batch dimension) or batch_shape=")
            batch_shape = (batch_size, *tuple(shape))
        super().__init__(name=name or backend.unique_name("input_layer"), dtype=dtype, **kwargs)
        self.batch_shape = _shape_tuple(batch_shape)
        if any(d is not None and d < 0 for d in self.batch_shape):
            raise ValueError(f"InputLayer: negative dimension in shape {self.batch_shape}")
        self.built = True
        self._build_input_shape = self.batch_shape
        node = Node(self, [], None, False)
        self.output = SymbolicTensor(self.batch_shape, self.dtype, node, name=self.name)
        node.output = self.output
        self._inbound_nodes.append(node)

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out):
        return grad_out

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name, "batch_shape": list(self.batch_shape)}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None) -> SymbolicTensor:
    """A symbolic input of a functional model: ``Input(shape=(32, 32, 3))``."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape).output
