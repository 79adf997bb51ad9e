"""Layer: the unit of computation (build / forward / backward / get_config), and the symbolic
tensors that the functional API wires layers with."""

from __future__ import annotations

import threading
import functools
from typing import Any, Iterator, Sequence

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..serialization import register
from ..variables import Variable


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


def _shape_tuple(shape) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


class SymbolicTensor:
    """The output of a layer in a model graph: a shape (batch dimension None) and a dtype, no data.

    ``Input(shape=...)`` makes the first ones; calling a layer on symbolic tensors makes the next.
    """

    __slots__ = ("shape", "dtype", "node", "name")

    def __init__(self, shape, dtype, node: "Node | None" = None, name: str | None = None):
        self.shape = _shape_tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        src = f" from {self.node.layer.name}" if self.node else ""
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name}{src}>"


class Node:
    """One call of a layer in a graph: its input tensors and the output tensor it made."""

    __slots__ = ("layer", "inputs", "output", "multi_input")

    def __init__(self, layer: "Layer", inputs: list, output: SymbolicTensor | None, multi_input: bool):
        self.layer = layer
        self.inputs = inputs
        self.output = output
        self.multi_input = multi_input


# Whether any layer ever called add_loss (until then no layer has losses to collect).
_losses_added = False

_LAYER_CALL = None


def _layer_call():
    """nncore.autodiff.layer_call, imported on first use (it imports this module)."""
    global _LAYER_CALL
    if _LAYER_CALL is None:
        from ..autodiff import layer_call

        _LAYER_CALL = layer_call
    return _LAYER_CALL


def _input_shapes(inputs):
    """The build shape of eager inputs (batch dimension None), lists for several inputs."""
    from ..autodiff.tape import value_of

    if isinstance(inputs, (list, tuple)):
        return [(None, *np.shape(value_of(t))[1:]) for t in inputs]
    return (None, *np.shape(value_of(inputs))[1:])


def _is_symbolic(x) -> bool:
    if isinstance(x, SymbolicTensor):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(t, SymbolicTensor) for t in x)


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
    if isinstance(value, (Layer, Variable)):
        yield value
    elif isinstance(value, (list, tuple, dict)):
        if id(value) in seen:
            return
        seen.add(id(value))
        for item in (value.values() if isinstance(value, dict) else value):
            yield from _tracked_items(item, seen)


class Layer:
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

    # ----------------------------------------------------------------- tracking
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

    def _sublayers(self) -> list["Layer"]:
        """The layers this layer holds directly, in attribute order, each once. A model
        overrides it with the layers of its graph."""
        out, seen = [], {id(self)}
        for item in self._attribute_items():
            if isinstance(item, Layer) and id(item) not in seen:
                seen.add(id(item))
                out.append(item)
        return out

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list["Layer"]:
        """This layer and its sublayers, depth first (each before its own sublayers), each once."""
        out: list[Layer] = []
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

    # ----------------------------------------------------------------- computation
    def call(self, inputs, *args, **kwargs):
        """Keras' way to define a layer: the output of ``inputs``, written with ``nncore.ops``
        and operators on arrays and Variables; its gradient comes from the recording."""
        raise NotImplementedError(f"{type(self).__name__} defines neither call() nor forward()")

    @classmethod
    def _defines_call(cls) -> bool:
        return cls.call is not Layer.call

    @classmethod
    def _call_params(cls):
        """Whether ``call`` takes ``training`` (Keras passes it only then) and ``**kwargs``."""
        params = cls.__dict__.get("_call_params_cache")
        if params is None:
            import inspect

            sig = inspect.signature(cls.call).parameters
            params = ("training" in sig,
                      any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.values()))
            cls._call_params_cache = params
        return params

    def forward(self, x, training: bool = False):
        cls = type(self)
        if cls.call is Layer.call:
            raise NotImplementedError(f"{cls.__name__} does not implement forward")
        if not getattr(cls.backward, "_from_recording", False):
            # The layer differentiates itself: run call on plain arrays, record nothing.
            return _layer_call().as_values(self._run_call(x, training))
        return _layer_call().call_forward(self, x, training)

    def backward(self, grad_out):
        if type(self).call is Layer.call:
            raise NotImplementedError(f"{type(self).__name__} does not implement backward")
        return _layer_call().call_backward(self, grad_out)

    backward._from_recording = True     # a subclass that defines backward differentiates itself

    def _run_call(self, inputs, training, args=(), kwargs=None):
        """``call`` with Keras' conventions: ``training`` passed when ``call`` takes it, the
        losses of the previous call cleared first."""
        if _losses_added:
            self._clear_losses()
        takes_training = self._call_params()[0]
        if kwargs or args:
            kwargs = dict(kwargs or {})
            if takes_training:
                kwargs["training"] = training
            return self.call(inputs, *args, **kwargs)
        if takes_training:
            return self.call(inputs, training=training)
        return self.call(inputs)

    # ----------------------------------------------------------------- added losses
    def add_loss(self, loss) -> None:
        """Adds a scalar (a Tensor made in ``call``, or a number) to the training loss; the
        losses of a call replace those of the previous one."""
        global _losses_added
        _losses_added = True
        self.__dict__.setdefault("_added_losses", []).append(loss)

    def _clear_losses(self) -> None:
        if self.__dict__.get("_added_losses"):
            self._added_losses = []

    def _call_losses(self) -> list:
        """The terms ``add_loss`` got during the last call of this layer and its sublayers."""
        if not _losses_added:
            return []       # the common case, without walking the sublayers every step
        out = list(self.__dict__.get("_added_losses") or [])
        seen = {id(self)}
        stack = list(self._sublayers()) if hasattr(self, "_sublayers") else []
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.extend(layer.__dict__.get("_added_losses") or [])
            stack.extend(layer._sublayers() if hasattr(layer, "_sublayers") else [])
        return out

    @property
    def losses(self) -> list:
        """The values of the terms added with ``add_loss`` in the last call (this layer's and its
        sublayers'), as Keras' ``layer.losses`` (weight penalties are added by the trainer)."""
        return [float(np.asarray(getattr(t, "value", t))) for t in self._call_losses()]

    # ----------------------------------------------------------------- calling
    def __call__(self, inputs, *args, training: bool | None = None, **kwargs):
        from ..autodiff import layer_call
        from ..autodiff.tape import state

        if _is_symbolic(inputs):
            return self._call_symbolic(inputs)
        defines_call = self._defines_call()
        if args and not defines_call and training is None and len(args) == 1:
            training, args = args[0], ()          # layer(x, True): the old positional form
        if args or kwargs:
            if not defines_call:
                raise TypeError(f"{type(self).__name__} '{self.name}' takes one input argument "
                                f"and training=; got extra arguments")
        if training is None:
            training = state.training             # the enclosing layer's call (Keras)
        training = bool(training)
        if defines_call and (state.recording or layer_call.any_tracked(inputs)):
            self._maybe_build(_input_shapes(inputs))
            with layer_call.call_context(training):
                return self._run_call(self._cast_inputs(inputs), training, args, kwargs)
        if defines_call and (args or kwargs):
            self._maybe_build(_input_shapes(inputs))
            with layer_call.call_context(training):
                state.recording -= 1              # a plain call: nothing to record
                try:
                    return layer_call.as_values(
                        self._run_call(self._cast_inputs(inputs), training, args, kwargs))
                finally:
                    state.recording += 1
        if not defines_call and (state.recording or layer_call.any_tracked(inputs)):
            return layer_call.record_layer(self, inputs, training)
        if self.multi_input or (defines_call and isinstance(inputs, (list, tuple))):
            if not isinstance(inputs, (list, tuple)):
                raise TypeError(f"{type(self).__name__} '{self.name}' takes a list of inputs")
            arg = [self._as_input_array(t) for t in inputs]
        else:
            arg = self._as_input_array(inputs)
        if defines_call:
            self._maybe_build(_input_shapes(arg))
            with layer_call.call_context(training):
                state.recording -= 1
                try:
                    return layer_call.as_values(self._run_call(arg, training))
                finally:
                    state.recording += 1
        return self._eager_forward(arg, training)

    def _eager_forward(self, arg, training):
        """Build, check and run ``forward`` on arrays (a list of them for a multi-input layer)."""
        if isinstance(arg, list):
            self._maybe_build([(None, *t.shape[1:]) for t in arg])
        else:
            self._maybe_build((None, *arg.shape[1:]))
        self._check_eager_input(arg)
        return self.forward(arg, training=bool(training))

    def _cast_inputs(self, inputs):
        """Float inputs in the layer's dtype, tracked ones through ``ops.cast`` (Keras autocasts)."""
        from ..autodiff.tape import lift

        if isinstance(inputs, (list, tuple)):
            return type(inputs)(self._cast_inputs(x) for x in inputs)
        if isinstance(inputs, dict):
            return {k: self._cast_inputs(v) for k, v in inputs.items()}
        value, node = lift(inputs)
        if node is None:
            if isinstance(value, np.ndarray) and value.dtype.kind in "fiub" \
                    and value.dtype != self.dtype:
                return value.astype(self.dtype)
            return inputs
        if np.asarray(value).dtype != self.dtype:
            from .. import ops

            return ops.cast(inputs, self.dtype)
        return inputs

    def _as_input_array(self, x) -> np.ndarray:
        from ..autodiff.tape import value_of

        arr = np.asarray(value_of(x))
        if arr.dtype != self.dtype:
            if arr.dtype.kind not in "fiub":
                raise TypeError(f"{type(self).__name__} '{self.name}' cannot take input of dtype {arr.dtype}")
            arr = arr.astype(self.dtype)
        return arr

    def _call_symbolic(self, inputs):
        multi = isinstance(inputs, (list, tuple))
        defines_call = self._defines_call()
        if multi != self.multi_input and not defines_call:
            if self.multi_input:
                raise TypeError(f"{type(self).__name__} '{self.name}' takes a list of inputs")
            if len(inputs) != 1:
                raise TypeError(f"{type(self).__name__} '{self.name}' takes one input, got {len(inputs)}")
            inputs, multi = inputs[0], False
        tensors = list(inputs) if multi else [inputs]
        in_shape = [t.shape for t in tensors] if multi else tensors[0].shape
        self._maybe_build(in_shape)
        if defines_call and type(self).compute_output_shape is Layer.compute_output_shape:
            out_shape = self._probe_output_shape(tensors, multi)
        else:
            out_shape = self.compute_output_shape(in_shape)
        node = Node(self, tensors, None, multi)
        out = SymbolicTensor(out_shape, self.dtype, node)
        node.output = out
        self._inbound_nodes.append(node)
        return out

    def _probe_output_shape(self, tensors, multi):
        """The output shape of a layer that defines only ``call``: ``call`` run once, unrecorded,
        on a batch of one zero sample (Keras traces it symbolically instead)."""
        from ..autodiff.layer_call import as_values
        from ..autodiff.tape import state

        zeros = [np.zeros((1, *(1 if d is None else d for d in t.shape[1:])), t.dtype)
                 for t in tensors]
        saved = state.recording
        state.recording = 0
        try:
            out = as_values(self._run_call(zeros if multi else zeros[0], False))
        except Exception as exc:
            raise ShapeError(f"{type(self).__name__} '{self.name}': cannot infer its output "
                             f"shape by calling it on shape {tensors[0].shape if not multi else [t.shape for t in tensors]} "
                             f"({type(exc).__name__}: {exc}); define compute_output_shape") from exc
        finally:
            state.recording = saved
        if isinstance(out, (list, tuple, dict)):
            raise ValueError(f"{type(self).__name__} '{self.name}': a layer with several outputs "
                             "cannot be used in a functional model yet")
        out = np.asarray(out)
        return (tensors[0].shape[0], *out.shape[1:])

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
