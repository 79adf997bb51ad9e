"""Keras 3's HDF5 weight layout (``model.weights.h5`` in a ``.keras`` archive, and
``.weights.h5`` files): one group per layer at its structural path, its variables as datasets
``vars/0``, ``vars/1``, ... in the layer's order -- the keys nncore's weight files use.

Reading treats the file as hostile: only hard links are followed (an external or soft link
could reach other files or loop), only plain float datasets stored inside the file are read
(no external or virtual storage), and shapes and dtypes are checked against the model before a
byte is read."""

from __future__ import annotations

import io

import numpy as np

from ...errors import DTypeError, ShapeError
from .._npy import FormatError
from ..weight_keys import slots_for, structural_slots

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_OBJECTS = 1_000_000
_MAX_DEPTH = 64
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras 3 files (.keras, .weights.h5) need h5py: "
                          "pip install 'nncore[keras]'") from None
    return h5py


def open_h5(source, path: str):
    """``source`` (a file name or the bytes of one) opened read-only, after checking its
    signature, as an h5py File."""
    h5py = _h5py()
    if isinstance(source, (bytes, bytearray)):
        head = bytes(source[:8])
        source = io.BytesIO(source)
    else:
        try:
            with open(source, "rb") as f:
                head = f.read(8)
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {path}") from None
    if head != HDF5_MAGIC:
        raise FormatError(f"{path} is not an HDF5 file (bad signature)")
    try:
        return h5py.File(source, "r", locking=False) if not isinstance(source, io.BytesIO) \
            else h5py.File(source, "r")
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path} is not a readable HDF5 file (truncated or corrupt: {exc})") \
            from None


def datasets(h5, path: str) -> dict:
    """``{key: dataset}`` for every dataset reachable through hard links, keyed by its path
    without the leading slash; anything else in the file is refused."""
    h5py = _h5py()
    found: dict = {}
    count = 0

    def walk(group, prefix, depth):
        nonlocal count
        if depth > _MAX_DEPTH:
            raise FormatError(f"{path}: groups nested deeper than {_MAX_DEPTH}")
        try:
            names = list(group.keys())
        except (OSError, RuntimeError, ValueError) as exc:
            raise FormatError(f"{path}: unreadable group /{prefix} ({exc})") from None
        for name in names:
            count += 1
            if count > _MAX_OBJECTS:
                raise FormatError(f"{path}: more than {_MAX_OBJECTS} objects")
            key = f"{prefix}{name}"
            try:
                link = group.get(name, getlink=True)
            except (OSError, RuntimeError, ValueError) as exc:
                raise FormatError(f"{path}: unreadable link /{key} ({exc})") from None
            if not isinstance(link, h5py.HardLink):
                raise FormatError(f"{path}: /{key} is a {type(link).__name__}; weight files hold "
                                  "no links to other places or files")
            try:
                obj = group[name]
            except (OSError, RuntimeError, ValueError, KeyError) as exc:
                raise FormatError(f"{path}: unreadable object /{key} ({exc})") from None
            if isinstance(obj, h5py.Group):
                walk(obj, key + "/", depth + 1)
            elif isinstance(obj, h5py.Dataset):
                found[key] = obj
            else:
                raise FormatError(f"{path}: /{key} is a {type(obj).__name__}")

    walk(h5, "", 0)
    return found


def _is_training_state(key: str) -> bool:
    """The optimizer's variables and the model's own (seed generators, metric trackers) are
    training state, not weights; nncore starts those afresh."""
    return key.startswith("optimizer/") or key.startswith("vars/") or "/metrics/" in f"/{key}"


def read_dataset(ds, path: str, label: str, shape, dtype) -> np.ndarray:
    if ds.is_virtual:
        raise FormatError(f"{path}: {label} is a virtual dataset")
    try:
        external = ds.id.get_create_plist().get_external_count()
    except (OSError, RuntimeError, ValueError):
        external = 1
    if external:
        raise FormatError(f"{path}: {label} is stored outside the file")
    if ds.dtype.kind != "f":
        raise DTypeError(f"{path}: {label} has dtype {ds.dtype}; weights are float")
    if np.dtype(ds.dtype) not in _DTYPES:
        raise DTypeError(f"{path}: {label} is stored as {ds.dtype}; nncore reads float32 and "
                         "float64")
    if np.dtype(ds.dtype) != np.dtype(dtype):
        raise DTypeError(f"{path}: {label} is stored as {ds.dtype} but the model's weight is "
                         f"{np.dtype(dtype).name}")
    if tuple(ds.shape or ()) != tuple(shape):
        raise ShapeError(f"{path}: {label} has shape {tuple(ds.shape or ())} in the file but "
                         f"{tuple(shape)} in the model")
    try:
        out = np.empty(shape, dtype=dtype)
        if out.size:
            ds.read_direct(out)
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise FormatError(f"{path}: {label} cannot be read ({exc})") from None
    return out


def read_weights(model, source, path: str) -> list:
    """``[(Slot, array)]`` for every weight of ``model`` from a Keras 3 HDF5 weight file,
    checked (keys, shapes, dtypes); nothing is assigned yet."""
    from ..weights import _check_keys

    with open_h5(source, path) as h5:
        stored = {k: ds for k, ds in datasets(h5, path).items() if not _is_training_state(k)}
        slots = slots_for(model, list(stored))
        _check_keys(path, model, slots, list(stored))
        return [(s, read_dataset(stored[k], path, s.label, s.variable.shape, s.variable.dtype))
                for k, s in slots.items()]


def write_weights(model) -> bytes:
    """The model's weights in Keras 3's layout, as the bytes of an HDF5 file."""
    h5py = _h5py()
    slots = structural_slots(model)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        for key, slot in slots.items():
            group_path, index = key.rsplit("/", 1)
            group = h5.require_group(group_path)
            if "name" not in group.attrs:
                group.attrs["name"] = slot.layer
            group.create_dataset(index, data=np.asarray(slot.variable.value, order="C"))
        h5.require_group("vars").attrs["name"] = model.name
    return buf.getvalue()
