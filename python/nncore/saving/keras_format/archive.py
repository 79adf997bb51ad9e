"""``.keras`` archives as Keras 3 writes them: a zip of ``metadata.json``, ``config.json`` (the
model and its compile settings) and ``model.weights.h5``.

``nncore.load_model`` hands an archive here when its ``config.json`` is Keras'; ``model.save``
writes one for a ``.keras`` name. The optimizer's state goes in Keras' layout where it maps
(``optimizer_state``); random generators' and callbacks' states have no place in Keras'
archive: ``.nncore`` archives keep those, for an exact resume."""

from __future__ import annotations

import datetime
import json
import os
import warnings
import zipfile

from .. import _npy
from .._atomic import atomic_write
from .._npy import FormatError
from ..weights import assign_all
from . import h5_weights
from .config_in import KerasConfigError, translate_compile, translate_model
from .config_out import compile_entry, layer_entry

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
# The version of Keras 3's archive layout this writer follows (Keras' loader does not read it).
LAYOUT_VERSION = "3.0.0"
_CONFIG_LIMIT = 64 * 2**20
_METADATA_LIMIT = 2**20
_WEIGHTS_LIMIT = 2**36


def is_keras_config(config) -> bool:
    return isinstance(config, dict) and "class_name" in config and "config" in config \
        and "format" not in config


def _members(zf, path):
    names = zf.namelist()
    unknown = [n for n in names if n not in (CONFIG, METADATA, WEIGHTS)
               and not (n.startswith("assets/") and n.endswith("/"))]
    if unknown:
        if "model.weights.npz" in names:
            raise FormatError(f"{path}: weights stored as model.weights.npz; nncore reads the "
                              "HDF5 layout Keras writes by default (model.weights.h5)")
        raise FormatError(f"{path}: unexpected members in a Keras archive: {unknown[:5]}")
    if WEIGHTS not in names:
        raise FormatError(f"{path}: a Keras archive without {WEIGHTS}")
    for name in (CONFIG, WEIGHTS):
        info = zf.getinfo(name)
        # A member that claims far more bytes than it stores is a decompression bomb.
        if info.compress_size and info.file_size > 1000 * info.compress_size + 2**20:
            raise FormatError(f"{path}: member {name} declares {info.file_size} bytes from "
                              f"{info.compress_size} stored; refusing to inflate it")


def read_config(zf, path):
    raw = _npy.read_member(zf, CONFIG, _CONFIG_LIMIT, path)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: config.json is not valid JSON ({exc})") from None


def load_keras_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Reads a Keras 3 ``.keras`` archive into an nncore model with the same architecture,
    weights and (with ``compile=True``, where nncore has them) compile settings.

    Nothing in the file is executed whatever ``safe_mode`` says: a ``Lambda`` holding Python
    code, or a class nncore does not have, is refused with the layer named. The optimizer's
    state comes across where Keras' layout maps onto nncore's optimizer (SGD, Adam, AdamW,
    RMSprop, Adagrad, Adadelta, Adamax); otherwise it starts afresh, with a warning."""
    from ...serialization import deserialize

    path = os.fspath(filepath)
    with _npy.open_zip(path, "a Keras archive") as zf:
        _members(zf, path)
        config = read_config(zf, path)
        if not is_keras_config(config):
            raise FormatError(f"{path}: config.json is not a Keras model config")
        nn_config = translate_model(config, custom_objects)
        try:
            model = deserialize("layer", nn_config, custom_objects)
        except (KeyError, TypeError, ValueError) as exc:
            raise KerasConfigError(f"{path}: cannot rebuild the model from config.json: "
                                   f"{exc}") from None
        weights = _npy.read_member(zf, WEIGHTS, _WEIGHTS_LIMIT, path)
    arrays, opt_arrays = h5_weights.read_weights(model, weights, f"{path}:{WEIGHTS}",
                                                 optimizer=True) \
        if getattr(model, "built", True) else ([], [])
    assign_all(arrays)
    if compile and config.get("compile_config"):
        _compile_from_keras(model, config["compile_config"], custom_objects, path)
        if getattr(model, "compiled", False):
            restore_optimizer(model, opt_arrays, path)
    return model


def restore_optimizer(model, arrays, path):
    """Keras' optimizer variables into the compiled model's optimizer; a warning, as Keras
    gives, when they do not fit it (the optimizer then starts afresh)."""
    from .optimizer_state import restore

    if not arrays or model.optimizer is None:
        return
    if not restore(model, arrays):
        warnings.warn(f"{path}: the optimizer state in the file ({len(arrays)} variables) does "
                      f"not fit optimizer {type(model.optimizer).__name__} of this model; it "
                      "starts afresh", stacklevel=3)


def read_archive_weights(model, path) -> list:
    """The checked weights of a Keras archive, for ``model.load_weights("m.keras")``."""
    with _npy.open_zip(path, "a Keras archive") as zf:
        _members(zf, path)
        weights = _npy.read_member(zf, WEIGHTS, _WEIGHTS_LIMIT, path)
    return h5_weights.read_weights(model, weights, f"{path}:{WEIGHTS}")


def _compile_from_keras(model, compile_config, custom_objects, path):
    from ..archive import _compile

    try:
        args = translate_compile(compile_config)
        if args is not None and args.get("optimizer") is not None:
            _compile(model, args, custom_objects)
    except (KerasConfigError, KeyError, TypeError, ValueError) as exc:
        # Keras, too, warns and returns the model uncompiled when compile() cannot be rebuilt.
        warnings.warn(f"{path}: the model is returned uncompiled; its compile settings cannot "
                      f"be rebuilt in nncore: {exc}", stacklevel=3)


def save_keras_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True):
    """Writes ``model`` as a Keras 3 archive that ``keras.saving.load_model`` reads."""
    from ... import __version__
    from ..archive import compile_config

    path = os.fspath(filepath)
    entry = layer_entry(model)
    if include_optimizer:
        cfg = compile_config(model)
        if cfg is not None:
            entry["compile_config"] = compile_entry(cfg)
    metadata = {"keras_version": LAYOUT_VERSION, "nncore_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = h5_weights.write_weights(model, optimizer=include_optimizer)
    with atomic_write(path, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(METADATA, json.dumps(metadata))
            zf.writestr(CONFIG, json.dumps(entry))
            zf.writestr(WEIGHTS, weights)
