"""A Keras 3 ``config.json`` as an nncore model config.

Keras writes every object as ``{"module", "class_name", "config", "registered_name", ...}`` and
nncore's configs are Keras' minus the bookkeeping, so translation strips that bookkeeping, turns
dtype policies into dtype names, rewrites functional call records, and refuses what nncore
cannot rebuild exactly: a layer class it lacks, a setting it does not have (unless the setting
is at the value that changes nothing), and anything carrying Python code."""

from __future__ import annotations

import inspect

from ...serialization import lookup

# Keras' settings that nncore's classes do not take, at the values where they make no
# difference to what is computed.
_INERT = {
    "sparse": False, "ragged": False, "optional": False, "quantization_config": None,
    "lora_rank": None, "lora_alpha": None, "input_axes": None, "output_axes": None,
    "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
    "activity_regularizer": None, "autocast": True,
}
# Bookkeeping keys of a serialized Keras object (not settings).
_ENTRY_KEYS = ("module", "class_name", "config", "registered_name", "build_config",
               "compile_config", "name", "inbound_nodes", "shared_object_id")
_CODE_CLASSES = ("__lambda__", "Lambda", "function", "__function__")
# Keras class names nncore registers under another name.
_RENAMED = {"Functional": "Model"}


class KerasConfigError(ValueError):
    """A Keras config that nncore cannot rebuild exactly (the message names the layer)."""


def _where(path):
    return " > ".join(path) if path else "the model"


def _is_entry(obj) -> bool:
    return isinstance(obj, dict) and "class_name" in obj and isinstance(obj.get("class_name"), str)


def _check_no_code(obj, path):
    """Refuses serialized Python (a lambda's bytecode, a function by module path) anywhere."""
    if isinstance(obj, dict):
        cls = obj.get("class_name")
        if cls in ("__lambda__", "function", "__function__") or (cls == "Lambda" and "config" in obj):
            raise KerasConfigError(
                f"{_where(path)}: the file holds serialized Python code ({cls}); nncore never "
                "executes code from files (Keras' safe_mode, whatever its value). Rebuild that "
                "part in Python and load the weights with model.load_weights")
        for k, v in obj.items():
            _check_no_code(v, path + [str(k)] if k in ("layers", "config") else path)
    elif isinstance(obj, list):
        for v in obj:
            _check_no_code(v, path)


def _dtype(value, path):
    if isinstance(value, dict):  # a DTypePolicy
        inner = value.get("config") or {}
        value = inner.get("name", value.get("class_name"))
    if value is None or value in ("float32", "float64"):
        return value
    # A metric's state may be integer (the IoU metrics' confusion matrix); layers compute in
    # floating point only.
    if value in ("int32", "int64") and any(p in ("metrics", "weighted_metrics") for p in path):
        return value
    raise KerasConfigError(f"{_where(path)}: dtype policy {value!r}; nncore computes in float32 "
                           "or float64")


def translate_object(obj, path):
    """A nested serialized object (initializer, regularizer, constraint, schedule, loss,
    metric, optimizer) as ``{"class_name", "config"}``, its settings translated too."""
    if _is_entry(obj):
        if obj.get("registered_name") not in (None, obj["class_name"]) and \
                obj.get("module") not in ("keras", None) and \
                not str(obj.get("module", "")).startswith("keras"):
            raise KerasConfigError(f"{_where(path)}: custom object {obj.get('registered_name')!r} "
                                   f"from module {obj.get('module')!r}")
        if obj["class_name"] in ("__tensor__", "__numpy__"):
            cfg = obj.get("config") or {}
            return cfg.get("value")
        inner = obj.get("config")
        if isinstance(inner, dict):
            inner = {k: translate_value(k, v, path) for k, v in inner.items()}
        return {"class_name": obj["class_name"], "config": inner if inner is not None else {}}
    return obj


def translate_value(key, value, path):
    if key == "dtype":
        return _dtype(value, path)
    if isinstance(value, dict):
        if _is_entry(value):
            return translate_object(value, path + [key])
        return {k: translate_value(k, v, path) for k, v in value.items()}
    if isinstance(value, list):
        return [translate_value(key, v, path) for v in value]
    return value


def _accepted(cls) -> tuple[set, bool]:
    """The keyword arguments ``cls`` takes (its and its bases' __init__s), and whether the walk
    ended at a catch-all ``**kwargs`` that nothing further up names."""
    names: set = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names, False
    return names, True


def _layer_settings(cls, config: dict, path) -> dict:
    names, _ = _accepted(cls)
    names |= {"name", "trainable", "dtype", "batch_input_shape"}
    out = {}
    for key, value in config.items():
        if key in names:
            out[key] = translate_value(key, value, path)
        elif key in _INERT and value == _INERT[key]:
            continue
        else:
            raise KerasConfigError(f"{_where(path)}: setting {key}={value!r} of Keras' "
                                   f"{cls.__name__} has no nncore equivalent")
    return out


def _layer_class(entry, path, custom_objects):
    name = entry["class_name"]
    if name in (custom_objects or {}):
        return custom_objects[name]
    module = str(entry.get("module") or "")
    if module and not module.startswith("keras"):
        raise KerasConfigError(f"{_where(path)}: layer class {name!r} comes from module "
                               f"{module!r}; pass it in custom_objects={{'{name}': cls}}")
    try:
        return lookup("layer", _RENAMED.get(name, name))
    except ValueError:
        raise KerasConfigError(f"{_where(path)}: nncore has no layer {name!r}") from None


def translate_layer(entry, path, custom_objects=None) -> dict:
    """A serialized Keras layer (or model) as nncore's ``{"class_name", "config"}``."""
    from ...models.model import Model
    from ...models.sequential import Sequential

    if not _is_entry(entry):
        raise KerasConfigError(f"{_where(path)}: a layer entry without class_name: {entry!r:.200}")
    config = entry.get("config")
    if not isinstance(config, dict):
        raise KerasConfigError(f"{_where(path)}: layer {entry['class_name']!r} has no config")
    here = path + [str(config.get("name", entry["class_name"]))]
    cls = _layer_class(entry, here, custom_objects)
    if (custom_objects or {}).get(entry["class_name"]) is cls:
        # The user's class takes its own config; only Keras' dtype policies are translated.
        return {"class_name": entry["class_name"],
                "config": {k: translate_value(k, v, here) if k == "dtype" else v
                           for k, v in config.items()}}
    if issubclass(cls, Sequential):
        out = _sequential(config, here, custom_objects)
    elif issubclass(cls, Model):
        out = _functional(config, here, custom_objects)
    else:
        if cls.__name__ == "InputLayer":
            config = dict(config)
            if "batch_shape" not in config and "batch_input_shape" in config:
                config["batch_shape"] = config.pop("batch_input_shape")
        out = _layer_settings(cls, config, here)
        try:
            cls.from_config(dict(out))
        except (TypeError, ValueError) as exc:
            raise KerasConfigError(f"{_where(here)}: {exc}") from None
    return {"class_name": _RENAMED.get(entry["class_name"], entry["class_name"]), "config": out}


def _sequential(config, path, custom_objects) -> dict:
    layers = list(config.get("layers") or [])
    out = {"name": config.get("name"), "trainable": config.get("trainable", True), "layers": []}
    if layers and layers[0].get("class_name") == "InputLayer":
        first = layers.pop(0).get("config") or {}
        shape = first.get("batch_shape", first.get("batch_input_shape"))
        if shape is None:
            raise KerasConfigError(f"{_where(path)}: its InputLayer has no batch_shape")
        out["batch_input_shape"] = list(shape)
        out["input_dtype"] = _dtype(first.get("dtype"), path)
    elif config.get("build_input_shape") is not None:
        out["batch_input_shape"] = list(config["build_input_shape"])
    out["layers"] = [translate_layer(e, path, custom_objects) for e in layers]
    return out


def _history(tensor, path):
    """A ``__keras_tensor__`` reference as nncore's ``[layer name, call index]``."""
    if not (isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__"):
        raise KerasConfigError(f"{_where(path)}: a call argument that is not a tensor of the "
                               f"model ({tensor!r:.120}); nncore's layers take tensors only")
    hist = (tensor.get("config") or {}).get("keras_history")
    if not (isinstance(hist, list) and len(hist) == 3):
        raise KerasConfigError(f"{_where(path)}: a tensor without keras_history")
    name, node, index = hist
    if index != 0:
        raise KerasConfigError(f"{_where(path)}: reads output {index} of layer {name!r}; nncore's "
                               "layers have one output")
    return [name, int(node)]


def _node(node, path) -> dict:
    if isinstance(node, list):  # Keras 2 style [[name, node, index, kwargs], ...]
        raise KerasConfigError(f"{_where(path)}: a Keras 2 config (inbound nodes as lists); "
                               "save the model again with Keras 3")
    args, kwargs = node.get("args") or [], node.get("kwargs") or {}
    extra = {k: v for k, v in kwargs.items() if v is not None}
    if len(args) != 1 or extra:
        raise KerasConfigError(f"{_where(path)}: a call with arguments nncore's layers do not take "
                               f"({len(args)} positional, keywords {sorted(extra)})")
    arg = args[0]
    if isinstance(arg, list):
        return {"args": [_history(t, path) for t in arg], "multi": True}
    return {"args": [_history(arg, path)], "multi": False}


def _refs(struct, path, what):
    """Keras' input_layers/output_layers (one ref, a list of refs or a dict of them) as nncore's
    list of refs, whether it was nested, and the dict's keys."""
    def ref(r):
        if not (isinstance(r, list) and len(r) == 3 and isinstance(r[0], str)):
            raise KerasConfigError(f"{_where(path)}: bad {what} entry {r!r:.80}")
        if r[2] != 0:
            raise KerasConfigError(f"{_where(path)}: {what} reads output {r[2]} of {r[0]!r}")
        return [r[0], int(r[1])]

    if isinstance(struct, dict):
        return [ref(v) for v in struct.values()], True, list(struct)
    if isinstance(struct, list) and struct and isinstance(struct[0], str):
        return [ref(struct)], False, None
    if isinstance(struct, list):
        return [ref(r) for r in struct], True, None
    raise KerasConfigError(f"{_where(path)}: bad {what}")


def _functional(config, path, custom_objects) -> dict:
    layers = []
    for entry in config.get("layers") or []:
        out = translate_layer(entry, path, custom_objects)
        name = entry.get("name") or out["config"].get("name")
        out["name"] = name
        here = path + [str(name)]
        out["inbound_nodes"] = [_node(n, here) for n in entry.get("inbound_nodes") or []]
        layers.append(out)
    ins, nested_in, in_keys = _refs(config.get("input_layers"), path, "input_layers")
    outs, nested_out, out_keys = _refs(config.get("output_layers"), path, "output_layers")
    result = {"name": config.get("name"), "trainable": config.get("trainable", True),
              "layers": layers, "input_layers": ins, "output_layers": outs,
              "nested_inputs": nested_in, "nested_outputs": nested_out}
    if in_keys is not None:
        result["input_keys"] = in_keys
    if out_keys is not None:
        result["output_keys"] = out_keys
    return result


def translate_model(entry, custom_objects=None) -> dict:
    """The whole ``config.json`` of a ``.keras`` archive as nncore's serialized model."""
    _check_no_code(entry, [])
    return translate_layer(entry, [], custom_objects)


def translate_compile(config, path="compile_config"):
    """Keras' ``compile_config`` as the arguments of nncore's ``compile``; settings nncore lacks
    raise KerasConfigError (the caller warns and leaves the model uncompiled, as Keras does when
    compile() cannot be rebuilt)."""
    if not isinstance(config, dict):
        return None
    _check_no_code(config, [path])
    known = ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics")
    extra = {k: v for k, v in config.items() if k not in known and v not in (None, False, "auto")}
    if extra.get("steps_per_execution") == 1:
        extra.pop("steps_per_execution")
    if extra:
        raise KerasConfigError(f"{path}: settings nncore's compile does not take: {sorted(extra)}")
    return {k: translate_value(k, config.get(k), [path]) for k in known}
