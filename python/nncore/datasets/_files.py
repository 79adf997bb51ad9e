"""Reading dataset files: whole-file reads, gzip detected from the bytes, content hashes."""

from __future__ import annotations

import hashlib
import os
import zlib

from .errors import DatasetFormatError

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(data: bytes) -> bool:
    return data[:2] == _GZIP_MAGIC


def gunzip(data: bytes, name: str) -> bytes:
    """Inflates every gzip member of ``data`` (CRC and length are checked by zlib).

    Done by hand rather than with ``gzip.decompress`` so that a damaged or cut file becomes a
    ``DatasetFormatError`` naming it, and because zlib releases the GIL here, which lets the
    CIFAR-10 loader inflate its six files on several threads.
    """
    parts = []
    rest = data
    while rest:
        d = zlib.decompressobj(wbits=31)  # 31: gzip wrapper, header and trailer checked
        try:
            parts.append(d.decompress(rest))
            parts.append(d.flush())
        except zlib.error as exc:
            raise DatasetFormatError(f"{name}: not a valid gzip file ({exc})") from None
        if not d.eof:
            raise DatasetFormatError(f"{name}: truncated gzip file (the compressed stream ends early)")
        rest = d.unused_data
        # Some writers pad the end with zero bytes; anything else must be another member.
        if rest and not rest.startswith(_GZIP_MAGIC):
            if rest.strip(b"\x00"):
                raise DatasetFormatError(f"{name}: unexpected bytes after the end of the gzip stream")
            break
    return b"".join(parts)


def read_file(path: str | os.PathLike) -> bytes:
    """The content of ``path``, decompressed when it is gzip (whatever its name says: browsers
    often save an already-inflated download under its ``.gz`` name)."""
    with open(path, "rb") as f:
        data = f.read()
    if is_gzip(data):
        data = gunzip(data, os.fspath(path))
    return data


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()
