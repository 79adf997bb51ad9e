"""``model.save_weights`` / ``model.load_weights``: every weight keyed by its place in the model's
structure (``'layers/dense/vars/0'``, see ``weight_keys``), as ``.npz`` (NumPy, no pickle) or
``.safetensors``. Files keyed by weight name (``'dense/kernel'``, written by nncore before
structural keys) are still read."""

from __future__ import annotations

import json
import os
import re
import zipfile

import numpy as np

from ..errors import DTypeError, ShapeError
from . import _npy
from ._atomic import atomic_write
from ._npy import FormatError
from .weight_keys import KEY_ORDER, slots_for, structural_slots

NPZ_SUFFIXES = (".weights.npz", ".npz")
H5_SUFFIXES = (".weights.h5",)  # a bare ".h5" is Keras 2's legacy layout
SAFETENSORS_SUFFIX = ".safetensors"
_ST_DTYPES = {"F32": np.dtype(np.float32), "F64": np.dtype(np.float64)}


def weight_format(path: str) -> str:
    if path.endswith(NPZ_SUFFIXES):
        return "npz"
    if path.endswith(SAFETENSORS_SUFFIX):
        return "safetensors"
    if path.endswith(H5_SUFFIXES):
        return "h5"
    raise ValueError(f"cannot tell the weights format of {path!r}: the name must end in "
                     "'.weights.h5' (Keras 3's), '.weights.npz', '.npz' or '.safetensors' "
                     "(load_weights also reads the weights of a '.nncore' or '.keras' archive)")


def _file_names(raw) -> dict:
    """``{key: weight name}`` as a file recorded it (for messages only): anything malformed
    gives no names rather than an error."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if isinstance(raw, dict):
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
    if isinstance(raw, list):
        return {e["key"]: e["name"] for e in raw if isinstance(e, dict)
                and isinstance(e.get("key"), str) and isinstance(e.get("name"), str)}
    return {}


def _listing(items: list, limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _check_keys(path: str, model, slots: dict, found, file_names=None) -> None:
    file_names = file_names or {}
    found = set(found)
    missing = [s for k, s in slots.items() if k not in found]
    # Natural order: dense_2 before dense_10, vars/2 before vars/10.
    extra = sorted(found - set(slots),
                   key=lambda k: [(0, int(t), "") if t.isdigit() else (1, 0, t)
                                  for t in re.split(r"(\d+)", k)])
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing from the file: " + _listing([
                s.key if s.key == s.variable.name else f"{s.key} ('{s.variable.name}')"
                for s in missing]))
        if extra:
            parts.append("in the file but not in the model: " + _listing([
                f"{k} ('{file_names[k]}')" if k in file_names else k for k in extra]))
        raise ValueError(f"{path}: the weights do not match model '{model.name}', the file was "
                         "written by a model of another architecture (" + "; ".join(parts) + ")")


# ---------------------------------------------------------------------- npz
def member_name(prefix: str, key: str) -> str:
    return f"{prefix}{key}.npy"


#: A ``.weights.npz``'s zip comment records how its keys number layers (``KEY_ORDER``), where
#: NumPy's reader does not see it.
KEY_ORDER_COMMENT = f"nncore key_order={KEY_ORDER}".encode()


def write_weights_to_zip(zf: zipfile.ZipFile, slots: dict, prefix: str = "") -> None:
    for key, slot in slots.items():
        _npy.write_array(zf, member_name(prefix, key), slot.variable.value)


def _npz_key_order(zf: zipfile.ZipFile, path: str):
    # zipfile reads a comment cut short by a truncated file without complaint; a file cut
    # before its marker would then be read in the older key order, so the length is checked.
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 22 - 65535))
        tail = f.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        raise FormatError(f"{path} is truncated (no end of central directory)")
    declared = int.from_bytes(tail[end + 20:end + 22], "little")
    if len(tail) - end - 22 != declared:
        raise FormatError(f"{path} is truncated (its zip comment has {len(tail) - end - 22} of "
                          f"{declared} bytes)")
    return KEY_ORDER if zf.comment == KEY_ORDER_COMMENT else None


def read_weights_from_zip(zf: zipfile.ZipFile, path: str, model, prefix: str = "",
                          file_names=None, key_order=None) -> list:
    """``[(Slot, array)]`` for every weight of ``model`` (structural keys, or name keys in older
    files), checked for key, shape and dtype; nothing is assigned yet."""
    stored = [n[len(prefix):-4] for n in zf.namelist()
              if n.startswith(prefix) and n.endswith(".npy")]
    others = [n for n in zf.namelist() if n.startswith(prefix) and not n.endswith(".npy")]
    if others:
        raise FormatError(f"{path}: unexpected members {others[:5]}")
    if not getattr(model, "built", True):
        if stored:
            raise ValueError(f"{path} holds weights but model '{model.name}' is not built")
        return []
    slots = slots_for(model, stored, key_order)
    _check_keys(path, model, slots, stored, _file_names(file_names))
    return [(s, _npy.read_array(zf, member_name(prefix, k), path, name=s.key, label=s.label,
                                shape=s.variable.shape, dtype=s.variable.dtype))
            for k, s in slots.items()]


def _save_npz(path, slots, overwrite):
    with atomic_write(path, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            write_weights_to_zip(zf, slots)
            zf.comment = KEY_ORDER_COMMENT


def _load_npz(path, model) -> list:
    with _npy.open_zip(path, "an .npz weights file") as zf:
        return read_weights_from_zip(zf, path, model, key_order=_npz_key_order(zf, path))


# ---------------------------------------------------------------------- safetensors
def _safetensors():
    try:
        import safetensors  # noqa: F401
        import safetensors.numpy
    except ImportError:
        raise ImportError("the .safetensors format needs the safetensors package: "
                          "pip install 'nncore[safetensors]' (or use a .weights.npz file)") from None
    return safetensors


def _save_safetensors(path, slots, overwrite):
    st = _safetensors()
    from .. import __version__

    data = st.numpy.save({k: np.asarray(s.variable.value, order="C") for k, s in slots.items()},
                         metadata={"format": "nncore", "nncore_version": __version__,
                               "key_order": KEY_ORDER,
                                   "weight_names": json.dumps(
                                       {k: s.variable.name for k, s in slots.items()})})
    with atomic_write(path, overwrite) as f:
        f.write(data)


def _load_safetensors(path, model) -> list:
    st = _safetensors()
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    try:
        handle = st.safe_open(path, framework="numpy")
    except Exception as exc:  # the package raises its own error type for malformed headers
        raise FormatError(f"{path} is not a readable .safetensors file ({exc})") from None
    out = []
    with handle as f:
        keys = list(f.keys())
        slots = slots_for(model, keys, (f.metadata() or {}).get("key_order"))
        names = _file_names((f.metadata() or {}).get("weight_names"))
        _check_keys(path, model, slots, keys, names)
        for key, s in slots.items():
            v = s.variable
            sl = f.get_slice(key)
            dtype = _ST_DTYPES.get(sl.get_dtype())
            if dtype is None:
                raise DTypeError(f"{path}: {s.label} has dtype {sl.get_dtype()}; only "
                                 "F32 and F64 are read")
            if dtype != v.dtype:
                raise DTypeError(f"{path}: {s.label} is stored as {dtype.name} but the "
                                 f"model's weight is {v.dtype.name}")
            if tuple(sl.get_shape()) != v.shape:
                raise ShapeError(f"{path}: {s.label} has shape {tuple(sl.get_shape())} in "
                                 f"the file but {v.shape} in the model")
            try:
                out.append((s, np.array(f.get_tensor(key), copy=True)))
            except Exception as exc:
                raise FormatError(f"{path}: {s.label} cannot be read ({exc})") from None
    return out


# ---------------------------------------------------------------------- public
def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Writes all weights of ``model`` to ``filepath`` (format from the extension), atomically,
    keyed by the model's structure so that another build of the same architecture reads them."""
    path = os.fspath(filepath)
    fmt = weight_format(path)
    slots = structural_slots(model)
    if fmt == "npz":
        _save_npz(path, slots, overwrite)
    elif fmt == "h5":
        from .keras_format.h5_weights import write_weights

        data = write_weights(model)
        with atomic_write(path, overwrite) as f:
            f.write(data)
    else:
        _save_safetensors(path, slots, overwrite)


def load_weights(model, filepath) -> None:
    """Reads weights saved by ``save_weights`` (by this or another build of the same
    architecture), or the weights of a whole-model archive written by ``model.save`` (as Keras
    reads those of a ``.keras`` file). Every weight of the model must be in the file with its
    shape and dtype, and nothing else; the model is changed only when all are."""
    from .archive import MODEL_SUFFIXES, read_archive_weights

    path = os.fspath(filepath)
    archive = path.endswith(MODEL_SUFFIXES)
    fmt = None if archive else weight_format(path)
    structural_slots(model)  # refuses an unbuilt model before the file is opened
    if archive:
        arrays = read_archive_weights(model, path)
    elif fmt == "npz":
        arrays = _load_npz(path, model)
    elif fmt == "h5":
        from .keras_format.archive import restore_optimizer
        from .keras_format.h5_weights import read_weights

        arrays, opt_arrays = read_weights(model, path, path, optimizer=True)
        assign_all(arrays)
        # As Keras: a compiled model also takes the optimizer state saved with the weights.
        if getattr(model, "compiled", False):
            restore_optimizer(model, opt_arrays, path)
        return
    else:
        arrays = _load_safetensors(path, model)
    assign_all(arrays)


def assign_all(arrays: list) -> None:
    for slot, array in arrays:
        slot.variable.assign(array)
