"""How a layer is called, as a mixin of ``Layer``: on arrays (its fused ``forward``), on
symbolic tensors (the functional API), inside a recording (``nncore.autodiff``), and Keras'
``call`` with ``add_loss`` for layers written the Keras way."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .symbolic import Node, SymbolicTensor, _is_symbolic

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


def _default_output_shape(cls) -> bool:
    """Whether ``cls`` keeps Layer's ``compute_output_shape`` (the identity)."""
    return cls.compute_output_shape.__qualname__ == "Layer.compute_output_shape"


class Calling:
    """The calling half of ``Layer``."""

    def call(self, inputs, *args, **kwargs):
        """Keras' way to define a layer: the output of ``inputs``, written with ``nncore.ops``
        and operators on arrays and Variables; its gradient comes from the recording."""
        raise NotImplementedError(f"{type(self).__name__} defines neither call() nor forward()")

    @classmethod
    def _defines_call(cls) -> bool:
        return cls.call is not Calling.call

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
        if cls.call is Calling.call:
            raise NotImplementedError(f"{cls.__name__} does not implement forward")
        if not getattr(cls.backward, "_from_recording", False):
            # The layer differentiates itself: run call on plain arrays, record nothing.
            return _layer_call().as_values(self._run_call(x, training))
        return _layer_call().call_forward(self, x, training)

    def backward(self, grad_out):
        if type(self).call is Calling.call:
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
            with layer_call.call_context(training, record=False):
                return layer_call.as_values(
                    self._run_call(self._cast_inputs(inputs), training, args, kwargs))
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
            with layer_call.call_context(training, record=False):
                return layer_call.as_values(self._run_call(arg, training))
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
        if defines_call and _default_output_shape(type(self)):
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
