"""The CIFAR-10 "binary version": records of 1 label byte + 3072 pixel bytes (RGB planes, each
32x32 row-major), 10,000 records per batch file; parsed into NHWC uint8 like Keras returns."""

from __future__ import annotations

import os

import numpy as np

from ._files import read_file
from .errors import DatasetFormatError

__all__ = ["RECORD_BYTES", "parse_cifar10_binary", "read_cifar10_binary"]

IMAGE_SHAPE = (32, 32, 3)
RECORD_BYTES = 1 + 32 * 32 * 3
NUM_CLASSES = 10


def parse_cifar10_binary(data: bytes, name: str = "<bytes>", *, records: int | None = None,
                         out_images: np.ndarray | None = None, out_labels: np.ndarray | None = None):
    """``(images (n, 32, 32, 3) uint8, labels (n,) uint8)`` from the bytes of one batch file.

    ``records`` requires that exact count (each official file holds 10,000). Results go into
    ``out_images`` / ``out_labels`` when given (the loader fills one big array per split).
    """
    n = len(data)
    if n % RECORD_BYTES:
        whole = n // RECORD_BYTES
        raise DatasetFormatError(
            f"{name}: size {n} bytes is not a whole number of {RECORD_BYTES}-byte records "
            f"({whole} records + {n - whole * RECORD_BYTES} bytes): truncated or not a CIFAR-10 binary file"
        )
    count = n // RECORD_BYTES
    if records is not None and count != records:
        raise DatasetFormatError(
            f"{name}: {count} records ({n} bytes), expected {records} ({records * RECORD_BYTES} bytes)"
        )
    rec = np.frombuffer(data, dtype=np.uint8).reshape(count, RECORD_BYTES)
    labels = rec[:, 0]
    if count and labels.max() >= NUM_CLASSES:
        bad = int(np.argmax(labels >= NUM_CLASSES))
        raise DatasetFormatError(
            f"{name}: record {bad} has label {int(labels[bad])}, labels must be 0..{NUM_CLASSES - 1} "
            "(corrupt file, or not the CIFAR-10 binary version)"
        )
    planar = rec[:, 1:].reshape(count, 3, 32, 32)
    if out_images is None:
        out_images = np.empty((count, *IMAGE_SHAPE), dtype=np.uint8)
    if out_labels is None:
        out_labels = np.empty((count,), dtype=np.uint8)
    np.copyto(out_images, planar.transpose(0, 2, 3, 1))
    np.copyto(out_labels, labels)
    return out_images, out_labels


def read_cifar10_binary(path: str | os.PathLike, *, records: int | None = None):
    """Reads one batch file, gzip-compressed or not (see ``parse_cifar10_binary``)."""
    return parse_cifar10_binary(read_file(path), os.fspath(path), records=records)
