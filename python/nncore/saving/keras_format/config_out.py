"""An nncore model as Keras 3's ``config.json``: the same configs, with the bookkeeping Keras'
deserializer needs (modules, dtype policies, the InputLayer of a Sequential, functional call
records with their tensors' shapes). What Keras 3 has no class or setting for is refused with
the layer named, rather than written into a file Keras would misread."""

from __future__ import annotations

import numpy as np

from ...serialization import serialize

# Layers nncore has and Keras 3 does not.
_NOT_IN_KERAS = {"Maxout", "ThresholdedReLU", "Lambda"}
# nncore-only settings of Keras classes, at the values where Keras' class computes the same.
_NNCORE_ONLY = {"RandomCrop": {"padding": (0, [0, 0], [[0, 0], [0, 0]]),
                               "fill_mode": ("constant",), "fill_value": (0.0,)}}
_NESTED_MODULES = (("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
                   ("_constraint", "keras.constraints"))
_KIND_MODULES = {"optimizer": "keras.optimizers", "loss": "keras.losses",
                 "metric": "keras.metrics", "schedule": "keras.optimizers.schedules"}
# Classes nncore has under these names whose Keras twin is spelled differently, or absent.
_OPTIMIZERS_NOT_IN_KERAS = {"AdaBelief", "LBFGS", "RAdam"}
_LOSSES_NOT_IN_KERAS = {"ContrastiveLoss"}


class KerasExportError(ValueError):
    """The model has a part Keras 3 cannot represent (the message names it)."""


def _policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def keras_object(obj, module):
    """nncore's ``{"class_name", "config"}`` as a Keras serialized object."""
    if not isinstance(obj, dict) or "class_name" not in obj:
        return obj
    inner = obj.get("config") or {}
    inner = {k: _value(k, v) for k, v in inner.items()}
    return {"module": module, "class_name": obj["class_name"], "config": inner,
            "registered_name": None}


def _value(key, value):
    if isinstance(value, dict) and "class_name" in value:
        for suffix, module in _NESTED_MODULES:
            if key.endswith(suffix):
                return keras_object(value, module)
        if key == "learning_rate":
            return keras_object(value, _KIND_MODULES["schedule"])
        return keras_object(value, "keras")
    return value


def _layer_config(layer, where):
    cls = type(layer).__name__
    if cls in _NOT_IN_KERAS:
        raise KerasExportError(f"{where}: layer '{layer.name}' ({cls}) has no Keras 3 equivalent; "
                               "save the model as '.nncore' instead")
    entry = serialize(layer)
    config = dict(entry["config"])
    for key, neutral in _NNCORE_ONLY.get(cls, {}).items():
        if key in config:
            if config[key] not in neutral:
                raise KerasExportError(f"{where}: layer '{layer.name}' ({cls}) has {key}="
                                       f"{config[key]!r}, which Keras 3's {cls} does not take; "
                                       "save the model as '.nncore' instead")
            del config[key]
    out = {}
    for key, value in config.items():
        if key == "dtype" and isinstance(value, str):
            out[key] = _policy(value)
        elif key == "batch_input_shape":
            out["batch_shape"] = value
        else:
            out[key] = _value(key, value)
    return out


def _input_entry(layer_or_shape, name, dtype):
    config = {"batch_shape": list(layer_or_shape), "dtype": dtype, "sparse": False,
              "ragged": False, "name": name, "optional": False}
    return {"module": "keras.layers", "class_name": "InputLayer", "config": config,
            "registered_name": None}


def layer_entry(layer, where="the model"):
    from ...layers.base import InputLayer
    from ...models.model import Model
    from ...models.sequential import Sequential

    here = f"{where} > {layer.name}" if where != "the model" else layer.name
    if isinstance(layer, Sequential):
        return _sequential(layer, here)
    if isinstance(layer, Model):
        return _functional(layer, here)
    if isinstance(layer, InputLayer):
        return _input_entry(layer.batch_shape, layer.name, layer.dtype.name)
    cls = type(layer)
    if cls.__module__.startswith("nncore."):
        entry = {"module": "keras.layers", "class_name": cls.__name__,
                 "config": _layer_config(layer, here), "registered_name": None}
    else:
        # A user's class, as Keras writes one: its module and name; loading it needs the class
        # in custom_objects (Keras and nncore alike).
        entry = {"module": cls.__module__, "class_name": cls.__name__,
                 "config": _layer_config(layer, here), "registered_name": cls.__name__}
    shape = getattr(layer, "_build_input_shape", None)
    if shape is not None:
        entry["build_config"] = {"input_shape": _shape_list(shape)}
    return entry


def _shape_list(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [list(s) for s in shape]
    return list(shape) if shape is not None else None


def _sequential(model, where):
    layers = []
    inp = getattr(model, "_input_layer", None)
    if inp is not None:
        layers.append(_input_entry(inp.batch_shape, inp.name, inp.dtype.name))
    layers += [layer_entry(layer, where) for layer in model._stack]
    config = {"name": model.name, "trainable": model.trainable, "dtype": _policy(np.dtype(model.dtype).name),
              "layers": layers}
    entry = {"module": "keras", "class_name": "Sequential", "config": config,
             "registered_name": None}
    if inp is not None:
        entry["build_config"] = {"input_shape": list(inp.batch_shape)}
    return entry


def _tensor(t, ref):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype.name, "keras_history": ref}}


def _functional(model, where):
    from ...models.call_step import CallStep

    g = model._graph
    if any(isinstance(layer, CallStep) for layer in g.layers):
        # A subclassed model runs its own Python ``call``: a Keras archive could only name its
        # class, which Keras (and nncore) would need in custom_objects to rebuild it.
        raise KerasExportError(f"{where}: model '{model.name}' ({type(model).__name__}) is "
                               "subclassed (its own call()); save it as '.nncore', or save its "
                               "weights with save_weights('....weights.h5')")
    entries: dict = {}
    ref: dict = {}
    for layer in g.layers:
        entry = layer_entry(layer, where)
        entry["name"] = layer.name
        entry["inbound_nodes"] = []
        entries[layer.name] = entry
    for t, i in zip(model.inputs, g.input_ids):
        ref[i] = [t.node.layer.name, 0, 0]
    for s in g.steps:
        nodes = entries[s.layer.name]["inbound_nodes"]
        tensors = [_tensor(g.tensors[i], ref[i]) for i in s.inputs]
        nodes.append({"args": [tensors if s.multi else tensors[0]], "kwargs": {}})
        ref[s.output] = [s.layer.name, len(nodes) - 1, 0]

    def structure(ids, keys, nested):
        refs = [ref[i] for i in ids]
        if keys is not None:
            return dict(zip(keys, refs))
        return refs if nested else refs[0]

    config = {"name": model.name, "trainable": model.trainable, "dtype": _policy(np.dtype(model.dtype).name),
              "layers": [entries[layer.name] for layer in g.layers],
              "input_layers": structure(g.input_ids, model._input_keys, model._nested_inputs),
              "output_layers": structure(g.output_ids, model._output_keys,
                                         model._nested_outputs)}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": config, "registered_name": "Functional"}


def _compile_value(value, kind, where):
    if isinstance(value, list):
        return [_compile_value(v, kind, where) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _compile_value(v, kind, where) for k, v in value.items()}
    if isinstance(value, dict):
        name = value["class_name"]
        if (kind == "optimizer" and name in _OPTIMIZERS_NOT_IN_KERAS) or \
                (kind == "loss" and name in _LOSSES_NOT_IN_KERAS):
            raise KerasExportError(f"{where}: {kind} {name} has no Keras 3 equivalent")
        return keras_object(value, _KIND_MODULES[kind])
    return value


def compile_entry(compile_config, where="compile_config"):
    """nncore's saved compile settings in Keras' ``compile_config`` form."""
    if compile_config is None:
        return None
    return {"optimizer": _compile_value(compile_config.get("optimizer"), "optimizer", where),
            "loss": _compile_value(compile_config.get("loss"), "loss", where),
            "loss_weights": compile_config.get("loss_weights"),
            "metrics": _compile_value(compile_config.get("metrics"), "metric", where),
            "weighted_metrics": _compile_value(compile_config.get("weighted_metrics"), "metric",
                                               where),
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
