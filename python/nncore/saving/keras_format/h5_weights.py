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
from ..weight_keys import KEY_ORDER, slots_for, structural_slots

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


def read_dataset(ds, path: str, label: str, shape, dtype, kinds="f") -> np.ndarray:
    if ds.is_virtual:
        raise FormatError(f"{path}: {label} is a virtual dataset")
    try:
        external = ds.id.get_create_plist().get_external_count()
    except (OSError, RuntimeError, ValueError):
        external = 1
    if external:
        raise FormatError(f"{path}: {label} is stored outside the file")
    if ds.dtype.kind not in kinds:
        raise DTypeError(f"{path}: {label} has dtype {ds.dtype}; weights are float")
    if ds.dtype.kind == "f" and np.dtype(ds.dtype) not in _DTYPES:
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


def _optimizer_arrays(found: dict, path: str, limit: int) -> list:
    """The arrays under ``optimizer/vars`` in index order, each no larger than ``limit``
    elements (the model's weights bound every slot)."""
    keys = [k for k in found if k.startswith("optimizer/vars/")]
    try:
        order = sorted(keys, key=lambda k: int(k.rsplit("/", 1)[1]))
    except ValueError:
        raise FormatError(f"{path}: optimizer variables not numbered 0..n") from None
    if [k.rsplit("/", 1)[1] for k in order] != [str(i) for i in range(len(order))]:
        raise FormatError(f"{path}: optimizer variables not numbered 0..n")
    out = []
    for k in order:
        ds = found[k]
        if ds.dtype.kind not in "fiu" or ds.size > limit:
            raise FormatError(f"{path}: optimizer variable /{k} has dtype {ds.dtype} and "
                              f"{ds.size} elements")
        out.append(read_dataset(ds, path, f"optimizer variable /{k}", ds.shape, ds.dtype,
                                kinds="fiu"))
    return out


def read_weights(model, source, path: str, optimizer: bool = False):
    """``[(Slot, array)]`` for every weight of ``model`` from a Keras 3 HDF5 weight file,
    checked (keys, shapes, dtypes); nothing is assigned yet. With ``optimizer=True`` also the
    optimizer's arrays (Keras' layout, unchecked against any optimizer yet)."""
    from ..weights import _check_keys

    with open_h5(source, path) as h5:
        found = datasets(h5, path)
        stored = {k: ds for k, ds in found.items() if not _is_training_state(k)}
        slots = slots_for(model, list(stored), KEY_ORDER)
        _check_keys(path, model, slots, list(stored))
        weights = [(s, read_dataset(stored[k], path, s.label, s.variable.shape, s.variable.dtype))
                   for k, s in slots.items()]
        if not optimizer:
            return weights
        limit = max([s.variable.size for s in slots.values()] + [1])
        return weights, _optimizer_arrays(found, path, limit)


def write_weights(model, optimizer: bool = True) -> bytes:
    """The model's weights in Keras 3's layout, as the bytes of an HDF5 file; with
    ``optimizer`` also the optimizer's state where it maps onto Keras' (``optimizer_state``)."""
    from .optimizer_state import keras_arrays

    h5py = _h5py()
    slots = structural_slots(model)
    opt_arrays = keras_arrays(model) if optimizer else None
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        for key, slot in slots.items():
            group_path, index = key.rsplit("/", 1)
            group = h5.require_group(group_path)
            if "name" not in group.attrs:
                group.attrs["name"] = slot.layer
            group.create_dataset(index, data=np.asarray(slot.variable.value, order="C"))
        h5.require_group("vars").attrs["name"] = model.name
        if opt_arrays is not None:
            group = h5.require_group("optimizer/vars")
            group.attrs["name"] = model.optimizer.name
            for i, a in enumerate(opt_arrays):
                group.create_dataset(str(i), data=a)
    return buf.getvalue()
