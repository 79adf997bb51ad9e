"""``model.save(path)`` / ``nncore.load_model(path)``: one zip archive holding the architecture
and compile settings (``config.json``), the weights and the optimizer's state.

A ``.keras`` name gets Keras 3's own archive instead (``keras_format``), which Keras reads;
``load_model`` reads both, telling them apart by their ``config.json``.

Layout of ``.nncore``::

    config.json                 format, nncore version, class name, model config,
                                compile config, optimizer-state skeleton, RNG states
    weights/<key>.npy           one array per weight (NumPy format, never pickled), keyed by
                                the model's structure (``weights/layers/dense/vars/0.npy``);
                                format version 1 keyed them by name (``weights/dense/kernel.npy``)
    optimizer/<k>.npy           the optimizer's state arrays, in the skeleton's order
    callbacks/<k>.npy           arrays in the states of the callbacks of the fit that saved it
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from ..serialization import lookup
from . import _npy
from ._atomic import atomic_write
from ._npy import FormatError
from .weight_keys import KEY_ORDER, structural_slots
from .weights import assign_all, read_weights_from_zip, write_weights_to_zip

FORMAT = "nncore-model"
# 2: weights keyed by structure (version 1 readers would report every weight missing).
# 3: a functional model's layers numbered in Keras' order (``weight_keys.KEY_ORDER``); version 2
#    numbered them by first call, and is read that way.
FORMAT_VERSION = 3
MODEL_SUFFIXES = (".nncore", ".keras")
_CONFIG_LIMIT = 64 * 2**20
_STATE_DTYPES = ("float32", "float64", "int32", "int64", "uint8", "bool")


# ---------------------------------------------------------------------- compile config
def _identifier_config(value, what):
    """A compile argument (a name, an object with get_config, or lists/dicts of them) as JSON."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_identifier_config(v, what) for v in value]
    if isinstance(value, dict):
        return {str(k): _identifier_config(v, what) for k, v in value.items()}
    if hasattr(value, "get_config"):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    raise ValueError(f"cannot save the compile settings: {what} {value!r} has no get_config(); "
                     "use a named loss/metric or an object with get_config, or save the weights "
                     "and compile again after loading")


def compile_config(model):
    args = getattr(model, "_compile_config", None)
    if args is None or not getattr(model, "compiled", False):
        return None
    opt = model.optimizer if model.optimizer is not None else args.get("optimizer")
    return {
        "optimizer": _identifier_config(opt, "optimizer"),
        "loss": _identifier_config(args.get("loss"), "loss"),
        "metrics": _identifier_config(args.get("metrics"), "metric"),
        "loss_weights": _identifier_config(args.get("loss_weights"), "loss weight"),
        "weighted_metrics": _identifier_config(args.get("weighted_metrics"), "metric"),
    }


# ---------------------------------------------------------------------- optimizer state
def _split_state(obj, arrays: list):
    """Replaces every array leaf of a (nested) state by a reference to its index in ``arrays``."""
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        arrays.append(np.asarray(obj))
        return {"__array__": len(arrays) - 1}
    if isinstance(obj, dict):
        return {"__dict__": [[_split_state(k, arrays), _split_state(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__list__": [_split_state(v, arrays) for v in obj], "tuple": isinstance(obj, tuple)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"__value__": obj}
    raise ValueError(f"cannot save optimizer state entry of type {type(obj).__name__}")


def _join_state(skel, arrays: list):
    if not isinstance(skel, dict) or len(skel) == 0:
        raise FormatError("bad optimizer state skeleton")
    if "__array__" in skel:
        return arrays[int(skel["__array__"])]
    if "__dict__" in skel:
        return {_join_state(k, arrays): _join_state(v, arrays) for k, v in skel["__dict__"]}
    if "__list__" in skel:
        items = [_join_state(v, arrays) for v in skel["__list__"]]
        return tuple(items) if skel.get("tuple") else items
    if "__value__" in skel:
        return skel["__value__"]
    raise FormatError("bad optimizer state skeleton")


def _optimizer_state(model):
    opt = getattr(model, "optimizer", None)
    if opt is None or not hasattr(opt, "get_state") or not getattr(opt, "built", True):
        return None, []
    state = opt.get_state()
    if state is None:
        return None, []
    arrays: list = []
    return _split_state(state, arrays), arrays


def _restore_optimizer(model, skel, arrays, path):
    opt = model.optimizer
    if not hasattr(opt, "set_state"):
        raise FormatError(f"{path}: the archive holds optimizer state but optimizer "
                          f"{type(opt).__name__} cannot take it (no set_state)")
    model._ensure_packed()
    if hasattr(opt, "build") and not getattr(opt, "built", True):
        opt.build(model._opt_vars)
    try:
        opt.set_state(_join_state(skel, arrays))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise FormatError(f"{path}: the optimizer state does not fit optimizer "
                          f"{type(opt).__name__} of this model ({type(exc).__name__}: {exc})") from None


# ---------------------------------------------------------------------- callback states
def _callback_states(model):
    """States of the callbacks of the ``fit`` running now (a checkpoint written by one of them),
    as ``[[class name, state], ...]`` split into a skeleton and arrays."""
    states = []
    for cb in getattr(model, "_fit_callbacks", None) or []:
        state = cb.get_state() if hasattr(cb, "get_state") else None
        if state:
            states.append([type(cb).__name__, state])
    if not states:
        return None, []
    arrays: list = []
    return _split_state(states, arrays), arrays


# ---------------------------------------------------------------------- RNG states
def _rng_states(model):
    layers = {}
    for layer in _all_layers(model):
        if hasattr(layer, "get_rng_state"):
            layers[layer.name] = layer.get_rng_state()
    rng = getattr(model, "_shuffle_rng", None)
    return {"shuffle": None if rng is None else rng.bit_generator.state, "layers": layers}


def _set_rng_states(model, states):
    from .. import random as nn_random

    if not states:
        return
    if states.get("shuffle") is not None:
        if model._shuffle_rng is None:
            model._shuffle_rng = nn_random.make_generator(None)
        model._shuffle_rng.bit_generator.state = states["shuffle"]
    by_name = {layer.name: layer for layer in _all_layers(model)}
    for name, state in (states.get("layers") or {}).items():
        layer = by_name.get(name)
        if layer is not None and hasattr(layer, "set_rng_state"):
            layer.set_rng_state(state)


def _all_layers(model):
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        if hasattr(layer, "layers") and layer is not model:
            out.extend(_all_layers(layer))
    return out


# ---------------------------------------------------------------------- save / load
def _check_suffix(path):
    if not path.endswith(MODEL_SUFFIXES):
        raise ValueError(f"model files must end in '.nncore' (or '.keras'); got {path!r}. "
                         "For weights alone use save_weights with '.weights.npz'")


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Writes ``model`` (architecture, compile settings, weights, optimizer state) atomically."""
    from .. import __version__

    path = os.fspath(filepath)
    _check_suffix(path)
    if path.endswith(".keras"):
        from .keras_format.archive import save_keras_model

        save_keras_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)
        return
    slots = structural_slots(model) if getattr(model, "built", True) else {}
    skel, opt_arrays = _optimizer_state(model) if include_optimizer else (None, [])
    cb_skel, cb_arrays = _callback_states(model)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key_order": KEY_ORDER,
        "nncore_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": compile_config(model),
        "weights": [{"key": k, "name": s.variable.name, "shape": list(s.variable.shape),
                     "dtype": s.variable.dtype.name} for k, s in slots.items()],
        "optimizer_state": skel,
        "optimizer_arrays": [{"shape": list(a.shape), "dtype": a.dtype.name} for a in opt_arrays],
        "rng_states": _rng_states(model),
        "callback_states": cb_skel,
        "callback_arrays": [{"shape": list(a.shape), "dtype": a.dtype.name} for a in cb_arrays],
    }
    text = json.dumps(header, indent=1)
    with atomic_write(path, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("config.json", text)
            write_weights_to_zip(zf, slots, prefix="weights/")
            for k, a in enumerate(opt_arrays):
                _npy.write_array(zf, f"optimizer/{k}.npy", a)
            for k, a in enumerate(cb_arrays):
                _npy.write_array(zf, f"callbacks/{k}.npy", a)


def _read_json(zf, path):
    raw = _npy.read_member(zf, "config.json", _CONFIG_LIMIT, path)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: config.json is not valid JSON ({exc})") from None


def _is_keras_archive(path) -> bool:
    from .keras_format.archive import is_keras_config

    with _npy.open_zip(path, "a model archive") as zf:
        return is_keras_config(_read_json(zf, path))


def _read_header(zf, path):
    header = _read_json(zf, path)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FormatError(f"{path} is not an nncore model archive (config.json has no "
                          f"format '{FORMAT}')")
    if int(header.get("format_version", 0)) > FORMAT_VERSION:
        raise FormatError(f"{path} was written by nncore {header.get('nncore_version')} in "
                          f"format version {header['format_version']}; this nncore reads up to "
                          f"{FORMAT_VERSION}: upgrade nncore")
    for key in ("class_name", "config"):
        if key not in header:
            raise FormatError(f"{path}: config.json lacks '{key}'")
    return header


def _model_class(name, custom_objects, path):
    from ..models.model import Model

    cls = (custom_objects or {}).get(name)
    if cls is None:
        try:
            cls = lookup("layer", name)
        except ValueError:
            raise ValueError(f"{path}: unknown model class '{name}'; pass it in "
                             "custom_objects={'" + name + "': cls}") from None
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ValueError(f"{path}: class '{name}' is not a model class")
    return cls


def _compile(model, cfg, custom_objects):
    from ..serialization import deserialize

    def resolve(value, kind):
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            return deserialize(kind, value, custom_objects)
        if isinstance(value, list):
            return [resolve(v, kind) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v, kind) for k, v in value.items()}
        return value

    model.compile(optimizer=resolve(cfg["optimizer"], "optimizer"),
                  loss=resolve(cfg["loss"], "loss"),
                  metrics=resolve(cfg.get("metrics"), "metric"),
                  weighted_metrics=resolve(cfg.get("weighted_metrics"), "metric"),
                  loss_weights=cfg.get("loss_weights"))


def _state_spec(spec, path, k, what="optimizer"):
    try:
        shape = tuple(int(d) for d in spec["shape"])
        dtype = spec["dtype"]
    except (KeyError, TypeError, ValueError):
        raise FormatError(f"{path}: bad entry {k} in {what}_arrays") from None
    if dtype not in _STATE_DTYPES or any(d < 0 for d in shape):
        raise FormatError(f"{path}: {what} state {k} has dtype {dtype!r} / shape {shape}")
    return shape, np.dtype(dtype)


def _read_states(zf, header, path, what):
    """The ``what`` state arrays listed in the header, each checked against its entry."""
    specs = header.get(f"{what}_arrays") or []
    if not isinstance(specs, list):
        raise FormatError(f"{path}: {what}_arrays must be a list")
    out = []
    for k, spec in enumerate(specs):
        shape, dtype = _state_spec(spec, path, k, what)
        folder = "optimizer" if what == "optimizer" else "callbacks"
        out.append(_npy.read_array(zf, f"{folder}/{k}.npy", path, name=f"{what} state {k}",
                                   shape=shape, dtype=dtype, kinds="fiub"))
    return out


def read_archive_weights(model, path: str) -> list:
    """The checked weights of an archive, for ``model.load_weights("m.nncore")``."""
    if _is_keras_archive(path):
        from .keras_format.archive import read_archive_weights as read_keras

        return read_keras(model, path)
    with _npy.open_zip(path, "an nncore model archive") as zf:
        header = _read_header(zf, path)
        return read_weights_from_zip(zf, path, model, prefix="weights/",
                                     file_names=header.get("weights"),
                                     key_order=header.get("key_order"))


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Rebuilds a model saved with ``model.save``: same architecture and weights, and (with
    ``compile=True``) compiled as it was, with the optimizer's state, so training continues
    where it stopped. Files are checked before use; nothing is unpickled.

    Keras 3 archives (``model.save("m.keras")`` in Keras or nncore) are read too
    (``keras_format.load_keras_model``). ``safe_mode`` is Keras' argument: nncore never runs
    code from a file, whatever its value."""
    path = os.fspath(filepath)
    _check_suffix(path)
    if _is_keras_archive(path):
        from .keras_format.archive import load_keras_model

        return load_keras_model(path, custom_objects=custom_objects, compile=compile,
                                safe_mode=safe_mode)
    with _npy.open_zip(path, "an nncore model archive") as zf:
        header = _read_header(zf, path)
        cls = _model_class(header["class_name"], custom_objects, path)
        try:
            model = cls.from_config(header["config"], custom_objects=custom_objects)
        except (KeyError, TypeError, ValueError) as exc:
            raise type(exc)(f"{path}: cannot rebuild the model from config.json: {exc}") from None
        arrays = read_weights_from_zip(zf, path, model, prefix="weights/",
                                       file_names=header.get("weights"),
                                       key_order=header.get("key_order"))
        opt_arrays = []
        skel = header.get("optimizer_state")
        cfg = header.get("compile_config")
        if compile and cfg is not None and skel is not None:
            opt_arrays = _read_states(zf, header, path, "optimizer")
        cb_skel = header.get("callback_states")
        cb_states = None
        if cb_skel is not None:
            try:
                cb_states = _join_state(cb_skel, _read_states(zf, header, path, "callback"))
            except (KeyError, IndexError, TypeError, ValueError):
                raise FormatError(f"{path}: bad callback_states") from None
            if not isinstance(cb_states, list) or not all(
                    isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) for e in cb_states):
                raise FormatError(f"{path}: bad callback_states")
    assign_all(arrays)
    if compile and cfg is not None:
        _compile(model, cfg, custom_objects)
        if skel is not None:
            _restore_optimizer(model, skel, opt_arrays, path)
    _set_rng_states(model, header.get("rng_states"))
    # Taken by the next fit's callbacks of the same classes (exact resume).
    model._pending_callback_states = cb_states
    return model
