"""Arrays as ``.npy`` members of a zip file, written and read without pickle and with every size
checked against what the model expects before anything is allocated."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from ..errors import DTypeError, ShapeError

#: Largest .npy header accepted (NumPy's own default limit).
MAX_HEADER = 10000
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class FormatError(ValueError):
    """A file is not what it claims to be: bad header, truncated or corrupt content."""


def check_zip_magic(path: str, what: str) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    if head not in ZIP_MAGIC:
        raise FormatError(f"{path} is not {what} (bad header: expected a zip archive)")


def open_zip(path: str, what: str) -> zipfile.ZipFile:
    check_zip_magic(path, what)
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FormatError(f"{path} is not a readable {what} (truncated or corrupt: {exc})") from None
    names = zf.namelist()
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        zf.close()
        raise FormatError(f"{path}: duplicate members {dupes}")
    return zf


def write_array(zf: zipfile.ZipFile, member: str, array: np.ndarray) -> None:
    with zf.open(member, "w", force_zip64=array.nbytes > 2**31) as f:
        np.lib.format.write_array(f, np.asarray(array, order="C"), allow_pickle=False)


def read_member(zf: zipfile.ZipFile, member: str, limit: int, path: str) -> bytes:
    """A member's bytes, refusing members larger than ``limit`` (zip bombs, wrong files)."""
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise FormatError(f"{path}: missing member '{member}'") from None
    if info.file_size > limit:
        raise FormatError(f"{path}: member '{member}' is {info.file_size} bytes, more than the "
                          f"{limit} expected")
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FormatError(f"{path}: member '{member}' is corrupt or truncated ({exc})") from None
    if len(data) > limit:
        raise FormatError(f"{path}: member '{member}' is larger than the {limit} bytes expected")
    return data


def read_array(zf: zipfile.ZipFile, member: str, path: str, *, name: str,
               shape: tuple | None = None, dtype: np.dtype | None = None,
               max_bytes: int | None = None, kinds: str = "f",
               label: str | None = None) -> np.ndarray:
    """Reads ``member`` as an array of a dtype kind in ``kinds`` (floats for weights). With
    ``shape``/``dtype`` given, the header must match them (``ShapeError`` / ``DTypeError``
    otherwise) before the data are read. Errors call the array ``label`` (default
    ``weight '<name>'``)."""
    what = label or f"weight '{name}'"
    if max_bytes is None:
        if shape is None or dtype is None:
            raise ValueError("internal: read_array needs shape and dtype, or max_bytes")
        max_bytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    data = read_member(zf, member, max_bytes + MAX_HEADER + 16, path)
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(f, max_header_size=MAX_HEADER)
        elif version in ((2, 0), (3, 0)):
            got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(f, max_header_size=MAX_HEADER)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as exc:
        raise FormatError(f"{path}: {what} has a bad .npy header ({exc})") from None
    if got_dtype.kind not in kinds or got_dtype.hasobject:
        raise DTypeError(f"{path}: {what} has dtype {got_dtype}; only arrays of kind "
                         f"'{kinds}' are read here")
    if dtype is not None and got_dtype.newbyteorder("=") != np.dtype(dtype):
        raise DTypeError(f"{path}: {what} is stored as {got_dtype.newbyteorder('=').name} "
                         f"but the model's weight is {np.dtype(dtype).name}")
    if shape is not None and tuple(got_shape) != tuple(shape):
        raise ShapeError(f"{path}: {what} has shape {tuple(got_shape)} in the file but "
                         f"{tuple(shape)} in the model")
    nbytes = int(np.prod(got_shape, dtype=np.int64)) * got_dtype.itemsize
    if nbytes > max_bytes:
        raise FormatError(f"{path}: {what} claims {nbytes} bytes, more than expected")
    body = data[f.tell():]
    if len(body) != nbytes:
        raise FormatError(f"{path}: {what} holds {len(body)} data bytes, its header "
                          f"says {nbytes} (truncated or corrupt)")
    arr = np.frombuffer(body, dtype=got_dtype).reshape(got_shape, order="F" if fortran else "C")
    return np.array(arr, dtype=got_dtype.newbyteorder("="), order="C")
