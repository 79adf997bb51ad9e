"""``model.save_weights`` / ``model.load_weights``: every weight keyed by its name
(``'dense/kernel'``), as ``.npz`` (NumPy, no pickle) or ``.safetensors``."""

from __future__ import annotations

import os
import zipfile

import numpy as np

from ..errors import DTypeError, ShapeError
from . import _npy
from ._atomic import atomic_write
from ._npy import FormatError

NPZ_SUFFIXES = (".weights.npz", ".npz")
SAFETENSORS_SUFFIX = ".safetensors"
_ST_DTYPES = {"F32": np.dtype(np.float32), "F64": np.dtype(np.float64)}


def weight_format(path: str) -> str:
    if path.endswith(NPZ_SUFFIXES):
        return "npz"
    if path.endswith(SAFETENSORS_SUFFIX):
        return "safetensors"
    raise ValueError(f"cannot tell the weights format of {path!r}: the name must end in "
                     "'.weights.npz', '.npz' or '.safetensors'")


def named_weights(model) -> dict:
    """``{variable name: Variable}`` over the model's weights, refusing repeated names (which
    only user-chosen layer names inside nested models can produce)."""
    if not getattr(model, "built", True):
        raise ValueError(f"model '{model.name}' is not built yet, so it has no weights to save "
                         "or load: give it an input shape or call it on data first")
    out = {}
    for v in model.weights:
        if v.name in out:
            raise ValueError(f"model '{model.name}' has two weights named '{v.name}'; give the "
                             "layers unique names before saving")
        out[v.name] = v
    return out


def _check_names(path: str, model, expected: dict, found) -> None:
    found = set(found)
    missing = [n for n in expected if n not in found]
    extra = sorted(found - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from the file: {', '.join(missing)}")
        if extra:
            parts.append(f"in the file but not in the model: {', '.join(extra)}")
        raise ValueError(f"{path}: the weights do not match model '{model.name}' ("
                         + "; ".join(parts) + ")")


# ---------------------------------------------------------------------- npz
def member_name(prefix: str, name: str) -> str:
    return f"{prefix}{name}.npy"


def write_weights_to_zip(zf: zipfile.ZipFile, weights: dict, prefix: str = "") -> None:
    for name, v in weights.items():
        _npy.write_array(zf, member_name(prefix, name), v.value)


def read_weights_from_zip(zf: zipfile.ZipFile, path: str, model, weights: dict,
                          prefix: str = "") -> dict:
    """Arrays for every weight, checked for name, shape and dtype; nothing is assigned yet."""
    stored = [n[len(prefix):-4] for n in zf.namelist()
              if n.startswith(prefix) and n.endswith(".npy")]
    others = [n for n in zf.namelist() if n.startswith(prefix) and not n.endswith(".npy")]
    if others:
        raise FormatError(f"{path}: unexpected members {others[:5]}")
    _check_names(path, model, weights, stored)
    return {name: _npy.read_array(zf, member_name(prefix, name), path, name=name,
                                  shape=v.shape, dtype=v.dtype)
            for name, v in weights.items()}


def _save_npz(path, weights, overwrite):
    with atomic_write(path, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            write_weights_to_zip(zf, weights)


def _load_npz(path, model, weights) -> dict:
    with _npy.open_zip(path, "an .npz weights file") as zf:
        return read_weights_from_zip(zf, path, model, weights)


# ---------------------------------------------------------------------- safetensors
def _safetensors():
    try:
        import safetensors  # noqa: F401
        import safetensors.numpy
    except ImportError:
        raise ImportError("the .safetensors format needs the safetensors package: "
                          "pip install 'nncore[safetensors]' (or use a .weights.npz file)") from None
    return safetensors


def _save_safetensors(path, weights, overwrite):
    st = _safetensors()
    from .. import __version__

    data = st.numpy.save({n: np.asarray(v.value, order="C") for n, v in weights.items()},
                         metadata={"format": "nncore", "nncore_version": __version__})
    with atomic_write(path, overwrite) as f:
        f.write(data)


def _load_safetensors(path, model, weights) -> dict:
    st = _safetensors()
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    try:
        handle = st.safe_open(path, framework="numpy")
    except Exception as exc:  # the package raises its own error type for malformed headers
        raise FormatError(f"{path} is not a readable .safetensors file ({exc})") from None
    out = {}
    with handle as f:
        _check_names(path, model, weights, f.keys())
        for name, v in weights.items():
            sl = f.get_slice(name)
            dtype = _ST_DTYPES.get(sl.get_dtype())
            if dtype is None:
                raise DTypeError(f"{path}: weight '{name}' has dtype {sl.get_dtype()}; only "
                                 "F32 and F64 are read")
            if dtype != v.dtype:
                raise DTypeError(f"{path}: weight '{name}' is stored as {dtype.name} but the "
                                 f"model's weight is {v.dtype.name}")
            if tuple(sl.get_shape()) != v.shape:
                raise ShapeError(f"{path}: weight '{name}' has shape {tuple(sl.get_shape())} in "
                                 f"the file but {v.shape} in the model")
            try:
                out[name] = np.array(f.get_tensor(name), copy=True)
            except Exception as exc:
                raise FormatError(f"{path}: weight '{name}' cannot be read ({exc})") from None
    return out


# ---------------------------------------------------------------------- public
def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Writes all weights of ``model`` to ``filepath`` (format from the extension), atomically."""
    path = os.fspath(filepath)
    fmt = weight_format(path)
    weights = named_weights(model)
    if fmt == "npz":
        _save_npz(path, weights, overwrite)
    else:
        _save_safetensors(path, weights, overwrite)


def load_weights(model, filepath) -> None:
    """Reads weights saved by ``save_weights``. Every weight of the model must be in the file
    with its shape and dtype, and nothing else; the model is changed only when all are."""
    path = os.fspath(filepath)
    fmt = weight_format(path)
    weights = named_weights(model)
    arrays = _load_npz(path, model, weights) if fmt == "npz" else _load_safetensors(path, model, weights)
    assign_all(weights, arrays)


def assign_all(weights: dict, arrays: dict) -> None:
    for name, v in weights.items():
        v.assign(arrays[name])
