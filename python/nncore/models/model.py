"""Model: a graph of layers (functional API) that is itself a layer, with the Keras training API
(compile / fit / evaluate / predict, from ``nncore.trainers.Trainer``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Sequence

import numpy as np

from ..errors import ShapeError
from ..layers.base import InputLayer, Layer, SymbolicTensor
from ..serialization import register
from .graph import Graph
from .summary import format_summary
from ..trainers.trainer import Trainer


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


@register("layer", "Functional")
class Model(Trainer, Layer):
    """``Model(inputs, outputs)``: the layers between ``Input`` tensors and output tensors.

    A model is also a layer: it can be called on tensors of another model.

    Subclassing as in Keras: ``class M(nncore.Model)`` with ``__init__`` (creating its layers as
    attributes) and ``call(inputs, training=None)``. Such a model is built by its first data (or
    call); ``fit`` then runs ``call`` recorded and back-propagates through the recording, while
    the built-in layers it calls keep their fused kernels.
    """

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if inputs is None and outputs is None and type(self)._defines_call():
            self._init_subclassed(name, **kwargs)
            return
        if inputs is None or outputs is None:
            raise TypeError("Model needs inputs= and outputs= (tensors from nncore.Input and layer "
                            "calls), or subclass it and define call()")
        Layer.__init__(self, name=name or self._default_name(), **kwargs)
        self._init_graph(inputs, outputs)
        Trainer.__init__(self)

    # ----------------------------------------------------------------- subclassed models
    _subclassed = False

    def _init_subclassed(self, name, **kwargs):
        from .. import backend

        Layer.__init__(self, name=name or backend.unique_name(backend.to_snake_case(type(self).__name__)),
                       **kwargs)
        Trainer.__init__(self)
        self._subclassed = True
        self._track_attributes = True
        self._graph = None
        self.inputs, self.outputs = [], []
        self._input_keys = self._output_keys = None
        self._nested_inputs = self._nested_outputs = False
        self.built = False

    def _build_subclassed(self, x) -> None:
        """The graph of a subclassed model: its inputs (shaped like ``x``) and one step, ``call``."""
        from ..layers.base import Input
        from .call_step import CallStep

        arrays = list(x) if isinstance(x, (list, tuple)) else [x]
        ins = [Input(batch_shape=(None, *np.shape(a)[1:]), dtype=self.dtype) for a in arrays]
        out = CallStep(self)(ins if isinstance(x, (list, tuple)) else ins[0])
        track = self._track_attributes
        self._init_graph(ins if isinstance(x, (list, tuple)) else ins[0], out)
        self._track_attributes = track
        self.multi_input = False        # call takes the structure it was given

    def build(self, input_shape=None):
        if self._subclassed:
            if input_shape is None:
                raise ValueError(f"build of subclassed model '{self.name}' needs an input shape")
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
            zeros = [np.zeros((1, *(1 if d is None else d for d in s[1:])), self.dtype) for s in shapes]
            self._build_subclassed(zeros if isinstance(input_shape, list) else zeros[0])
            return
        Layer.build(self, input_shape)

    def _default_name(self) -> str:
        from .. import backend

        return backend.unique_name("functional")

    def _init_graph(self, inputs, outputs) -> None:
        # Inputs given as a dict: data is passed keyed the same way; the model's inputs are in
        # the order of the sorted keys, as Keras flattens a dict.
        self._input_keys = None
        if isinstance(inputs, Mapping):
            named = {str(k): v for k, v in inputs.items()}
            self._input_keys = sorted(named)
            inputs = [named[k] for k in self._input_keys]
        self._nested_inputs = isinstance(inputs, (list, tuple))
        # Outputs given as a dict: predict returns a dict and the keys name the outputs, in
        # sorted order (Keras).
        self._output_keys = None
        if isinstance(outputs, Mapping):
            named = {str(k): v for k, v in outputs.items()}
            self._output_keys = sorted(named)
            outputs = [named[k] for k in self._output_keys]
        self._nested_outputs = isinstance(outputs, (list, tuple))
        self.inputs = _as_list(inputs)
        self.outputs = _as_list(outputs)
        if not self.inputs or not self.outputs:
            raise ValueError("Model needs at least one input and one output")
        self._graph = Graph(self.inputs, self.outputs)
        self.multi_input = len(self.inputs) > 1
        self.built = True
        self._build_input_shape = ([t.shape for t in self.inputs] if self.multi_input
                                   else self.inputs[0].shape)
        dtypes = {np.dtype(layer.dtype) for layer in self._graph.layers}
        self.dtype = np.dtype(np.float64) if np.dtype(np.float64) in dtypes else np.dtype(np.float32)

    def _build_for_data(self, x) -> None:
        # A functional model is built from its Input tensors; a subclassed one from its data.
        if self._subclassed and self._graph is None:
            if x is None:
                raise ValueError(f"model '{self.name}' is not built and got no data to build from")
            self._build_subclassed(x)

    def _explain_input_mismatch(self, shape, tensor):
        """Raises the most helpful ShapeError for data of ``shape`` fed to input ``tensor``: the
        first layer that cannot take it, found by running shape inference with it."""
        got = (None, *shape[1:])
        if len(shape) == len(tensor.shape):
            g = self._graph
            known = {g.tensor_ids[id(tensor)]: got}
            for s in g.steps:
                if not all(i in known for i in s.inputs):
                    continue
                arg = [known[i] for i in s.inputs] if s.multi else known[s.inputs[0]]
                try:
                    known[s.output] = s.layer.compute_output_shape(arg)
                except ShapeError:
                    raise
                except Exception:
                    break
        raise ShapeError(
            f"model '{self.name}' expects input '{tensor.node.layer.name}' of shape "
            f"{tensor.shape}, got data of shape {tuple(shape)}"
        )

    # ----------------------------------------------------------------- structure
    @property
    def layers(self) -> list[Layer]:
        if self._subclassed:
            return Layer._sublayers(self)
        return list(self._graph.layers)

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used: a "
                             "model's layers come from its inputs and outputs")

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named '{name}' in model '{self.name}'; layers: "
                         f"{', '.join(l.name for l in self.layers)}")

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes if self._nested_inputs else shapes[0]

    @property
    def output_shape(self):
        return self._structure_outputs([t.shape for t in self.outputs])

    @property
    def input_names(self) -> list[str]:
        """The keys of dict inputs, else the names of the input layers."""
        if self._input_keys is not None:
            return list(self._input_keys)
        return [t.node.layer.name for t in self.inputs]

    def _inputs_from_dict(self, x: Mapping):
        """The values of a dict keyed by input name, in the order of the inputs."""
        names = self.input_names
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(f"model '{self.name}' has inputs {names}; the dict passed has no "
                             f"value for {missing} (its keys: {list(x)})")
        values = [x[n] for n in names]
        return values if self.multi_input else values[0]

    def __call__(self, inputs, *args, training=None, **kwargs):
        from ..trainers.model_io import adjust_rank

        if self._subclassed:
            return super().__call__(inputs, *args, training=training, **kwargs)
        if args and training is None and len(args) == 1:
            training, args = args[0], ()
        if isinstance(inputs, Mapping):
            inputs = self._inputs_from_dict(inputs)
        # Arrays one rank off an input lose or gain a trailing axis of size 1 (Keras).
        if self.multi_input and isinstance(inputs, (list, tuple)):
            inputs = [adjust_rank(x, t.shape) if isinstance(x, np.ndarray) else x
                      for x, t in zip(inputs, self.inputs)]
        elif isinstance(inputs, np.ndarray):
            inputs = adjust_rank(inputs, self.inputs[0].shape)
        return super().__call__(inputs, *args, training=training, **kwargs)

    @property
    def output_names(self) -> list[str]:
        """The keys of dict outputs, else the names of the layers making the outputs."""
        if self._output_keys is not None:
            return list(self._output_keys)
        return [t.node.layer.name for t in self.outputs]

    def _structure_outputs(self, values: list):
        """Per-output values in the structure the model was built with (dict, list, single)."""
        if self._output_keys is not None:
            return dict(zip(self._output_keys, values))
        return values if self._nested_outputs else values[0]

    # ----------------------------------------------------------------- weights
    # A model's weights are its graph's layers' (Layer.weights walks _sublayers): the model keeps
    # no variable of its own, and its attributes hold the training loop's buffers.
    _track_attributes = False

    def _sublayers(self):
        return self.layers

    def count_params(self) -> int:
        return int(sum(v.size for v in self.weights))

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(f"model '{self.name}' has {len(mine)} weight arrays, got {len(weights)}")
        for v, w in zip(mine, weights):
            if np.shape(w) != v.shape:
                raise ShapeError(f"weight '{v.name}' has shape {v.shape}, got {np.shape(w)}")
        for v, w in zip(mine, weights):
            v.assign(w)

    # ----------------------------------------------------------------- as a layer
    def compute_output_shape(self, input_shape):
        shapes = input_shape if self.multi_input else [input_shape]
        for got, t in zip(shapes, self.inputs):
            if len(got) != len(t.shape) or any(
                    a is not None and b is not None and a != b for a, b in zip(got[1:], t.shape[1:])):
                raise ShapeError(f"model '{self.name}' expects input shape {t.shape}, got {tuple(got)}")
        # The batch size given carries through (Keras).
        batch = shapes[0][0] if shapes and len(shapes[0]) else None
        return self._structure_outputs([(batch, *t.shape[1:]) for t in self.outputs])

    def forward(self, x, training=False):
        if self._subclassed:
            return Layer.forward(self, x, training)
        xs = list(x) if self.multi_input else [x]
        return self._structure_outputs(self._graph.forward(xs, training))

    def backward(self, grad_out):
        if self._subclassed:
            return Layer.backward(self, grad_out)
        if self._output_keys is not None:
            grads = [grad_out[k] for k in self._output_keys]
        else:
            grads = list(grad_out) if self._nested_outputs else [grad_out]
        gins = self._graph.backward(grads)
        return gins if self.multi_input else gins[0]

    backward._from_recording = True     # for a subclassed model, the recording of call

    def set_needs_input_grad(self, needed: bool) -> None:
        """Whether the model computes the gradient of its inputs. Without it, a layer whose
        inputs depend on no trainable weight (the model's inputs, through augmentation, frozen
        or weightless layers) skips its input gradient, and nothing before it runs backward."""
        self.needs_input_grad = needed
        graph = self._graph
        # Tensors whose gradient nobody needs: the inputs, then what weight-free layers make of them.
        free = set() if needed else set(graph.input_ids)
        layer_needs: dict[int, bool] = {}
        for step in graph.steps:
            inputs_free = all(i in free for i in step.inputs)
            layer_needs[id(step.layer)] = layer_needs.get(id(step.layer), False) or not inputs_free
            if inputs_free and not step.layer.trainable_weights:
                free.add(step.output)
        for step in graph.steps:
            wanted = layer_needs[id(step.layer)]
            step.layer.needs_input_grad = wanted
            if isinstance(step.layer, Model):
                step.layer.set_needs_input_grad(wanted)

    # ----------------------------------------------------------------- saving
    def save_weights(self, filepath, overwrite=True):
        """Writes every weight keyed by the model's structure, as Keras 3 (``layers/dense_1/vars/0``;
        ``.weights.npz``/``.npz`` or ``.safetensors``)."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Reads weights saved by ``save_weights`` (or those of a ``.nncore`` archive) into a model
        of the same structure; keys, shapes and dtypes must all match."""
        from ..saving import load_weights

        load_weights(self, filepath)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Writes the whole model (config, compile settings, weights, optimizer state) to one
        ``.nncore`` archive; ``nncore.load_model`` reads it back."""
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs):
        """Exports the model for inference. ``format="onnx"`` (the one format nncore writes)
        gives an ONNX file (opset 17) with channels-last inputs and outputs and a dynamic batch
        dimension; it needs the ``onnx`` package (``pip install 'nncore[onnx]'``)."""
        if format != "onnx":
            raise ValueError(f"Unrecognized format={format!r}: nncore exports format='onnx' only")
        from ..saving.onnx_export import export_onnx

        export_onnx(self, filepath, verbose=verbose, input_signature=input_signature, **kwargs)

    # ----------------------------------------------------------------- summary
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False):
        """Prints the Keras-style table: layer name and type, output shape, parameter count."""
        text = format_summary(self, line_length=line_length, show_trainable=show_trainable)
        (print_fn or print)(text)

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        """Layers (each with its config and the calls that feed it) and the input/output refs.

        A reference ``[layer_name, k]`` names the output of the k-th call of that layer.
        """
        from ..serialization import serialize

        g = self._graph
        ref: dict[int, list] = {}
        entries: dict[str, dict] = {}
        for layer in g.layers:
            entry = serialize(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = []
            entries[layer.name] = entry
        for t, i in zip(self.inputs, g.input_ids):
            ref[i] = [t.node.layer.name, 0]
        for s in g.steps:
            calls = entries[s.layer.name]["inbound_nodes"]
            args = [ref[i] for i in s.inputs]
            calls.append({"args": args, "multi": s.multi})
            ref[s.output] = [s.layer.name, len(calls) - 1]
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [entries[layer.name] for layer in g.layers],
            "input_layers": [ref[i] for i in g.input_ids],
            "output_layers": [ref[i] for i in g.output_ids],
            "nested_inputs": self._nested_inputs,
            **({} if self._input_keys is None else {"input_keys": list(self._input_keys)}),
            "nested_outputs": self._nested_outputs,
            **({} if self._output_keys is None else {"output_keys": list(self._output_keys)}),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        from ..serialization import deserialize

        tensors: dict[tuple[str, int], SymbolicTensor] = {}
        pending = []
        for entry in config["layers"]:
            layer = deserialize("layer", entry, custom_objects)
            if isinstance(layer, InputLayer):
                tensors[(layer.name, 0)] = layer.output
                continue
            pending += [(layer, k, call) for k, call in enumerate(entry.get("inbound_nodes", []))]
        # Layers are listed in the order they were first called, so a shared layer's later call
        # may read tensors made further down the list: replay calls as their inputs appear,
        # each layer's calls in their original order.
        while pending:
            waiting = []
            for layer, k, call in pending:
                refs = [tuple(r) for r in call["args"]]
                if all(r in tensors for r in refs) and (k == 0 or (layer.name, k - 1) in tensors):
                    args = [tensors[r] for r in refs]
                    tensors[(layer.name, k)] = layer(args if call["multi"] else args[0])
                else:
                    waiting.append((layer, k, call))
            if len(waiting) == len(pending):
                missing = sorted({r for _, _, c in waiting for r in map(tuple, c["args"])
                                  if r not in tensors})
                raise ValueError(f"model config of '{config.get('name')}': layer calls read "
                                 f"tensors that no layer makes: {missing}")
            pending = waiting
        ins = [tensors[tuple(r)] for r in config["input_layers"]]
        if config.get("input_keys") is not None:
            ins = dict(zip(config["input_keys"], ins))
        elif not config.get("nested_inputs"):
            ins = ins[0]
        outs = [tensors[tuple(r)] for r in config["output_layers"]]
        if config.get("output_keys") is not None:
            outs = dict(zip(config["output_keys"], outs))
        elif not config.get("nested_outputs"):
            outs = outs[0]
        model = cls(inputs=ins, outputs=outs,
                    name=config.get("name"))
        if not config.get("trainable", True):
            # Only a frozen model propagates its flag: setting True would unfreeze the layers
            # that were saved frozen.
            model.trainable = False
        return model
