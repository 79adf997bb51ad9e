"""The IDX format of MNIST and Fashion-MNIST: parser with checks that name the file.

Layout (big-endian): two zero bytes, a type code, the number of dimensions ``d``, then ``d``
unsigned 32-bit sizes, then the data in C order. MNIST images have magic 2051 (0x00000803:
ubyte, 3 dims), labels 2049 (0x00000801: ubyte, 1 dim).
"""

from __future__ import annotations

import os

import numpy as np

from ._files import read_file
from .errors import DatasetFormatError

__all__ = ["parse_idx", "read_idx"]

# type code -> big-endian element type
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data: bytes, name: str = "<bytes>", *, expected_shape=None,
              expected_dtype=None) -> np.ndarray:
    """The array stored in the IDX bytes ``data`` (already decompressed).

    ``expected_shape`` (``None`` entries match anything) and ``expected_dtype`` turn a file of
    the wrong kind into a ``DatasetFormatError`` instead of an array of the wrong shape. The
    result is a new, writable, native-endian array.
    """
    n = len(data)
    if n < 4:
        raise DatasetFormatError(f"{name}: {n} bytes is too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise DatasetFormatError(
            f"{name}: not an IDX file (magic {int.from_bytes(data[:4], 'big')} "
            f"= 0x{data[:4].hex()}; IDX files start with 0x0000, e.g. 2051 for images, 2049 for labels)"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise DatasetFormatError(f"{name}: unknown IDX element type 0x{code:02x} in magic 0x{data[:4].hex()}")
    if ndim == 0:
        raise DatasetFormatError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if n < header:
        raise DatasetFormatError(f"{name}: truncated IDX header ({n} bytes, header needs {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    magic = int.from_bytes(data[:4], "big")
    if expected_dtype is not None and dtype != np.dtype(expected_dtype):
        raise DatasetFormatError(
            f"{name}: element type {dtype.name} (magic {magic}), expected {np.dtype(expected_dtype).name}"
        )
    if expected_shape is not None:
        exp = tuple(expected_shape)
        if len(exp) != ndim or any(e is not None and e != s for e, s in zip(exp, shape)):
            want = "x".join("N" if e is None else str(e) for e in exp)
            raise DatasetFormatError(
                f"{name}: header dimensions {'x'.join(map(str, shape))} (magic {magic}), expected {want}"
            )
    count = int(np.prod(shape, dtype=np.int64))
    need = header + count * dtype.itemsize
    if n < need:
        raise DatasetFormatError(
            f"{name}: truncated: {n} bytes, but the header ({'x'.join(map(str, shape))} "
            f"{dtype.name}) needs {need}"
        )
    if n > need:
        raise DatasetFormatError(
            f"{name}: {n - need} unexpected bytes after the {need} that the header "
            f"({'x'.join(map(str, shape))} {dtype.name}) describes"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    # A native-endian copy: frombuffer views the (immutable) bytes, and users write into arrays.
    return arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, **expected) -> np.ndarray:
    """Reads an IDX file, gzip-compressed or not (see ``parse_idx`` for the checks)."""
    return parse_idx(read_file(path), os.fspath(path), **expected)
