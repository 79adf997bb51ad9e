"""CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, 10 classes (binary version)."""

from __future__ import annotations

import io
import os
import tarfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import _download, _locate
from ._files import gunzip, is_gzip, read_file, sha256_bytes, sha256_file
from ._sources import CIFAR10
from .cifar_binary import IMAGE_SHAPE, parse_cifar10_binary
from .errors import DatasetChecksumError, DatasetFormatError, DatasetIntegrityWarning, DatasetNotFoundError

__all__ = ["CLASS_NAMES", "load_data"]

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RECORDS_PER_FILE = 10000
_DS = CIFAR10


def _loose_files(folder: Path):
    paths = [_locate.first_existing(folder, spec.names()) for spec in _DS.files]
    return paths


def _find(data_dir):
    """``("files", [paths])`` or ``("archive", path)`` from the first folder that has the data."""
    searched = []
    for folder, how in _locate.search_dirs(_DS.name, data_dir):
        if not folder.is_dir():
            searched.append(f"{folder} ({how}): no such folder")
            continue
        notes = []
        for sub in (folder, folder / _DS.member_dir):
            if not sub.is_dir():
                continue
            paths = _loose_files(sub)
            if all(p is not None for p in paths):
                return ("files", paths), searched
            have = [p.name for p in paths if p is not None]
            if have:
                missing = [s.stem for s, p in zip(_DS.files, paths) if p is None]
                notes.append(f"{sub} has {', '.join(have)} but lacks {', '.join(missing)}")
        archive = folder / _DS.archive.stem
        if archive.is_file():
            return ("archive", archive), searched
        searched.append(f"{folder} ({how}): " + ("; ".join(notes) if notes else "none of the files"))
    return None, searched


def _members_of_archive(archive: Path, data: bytes | None = None) -> dict:
    """The batch files inside ``cifar-10-binary.tar.gz``, as ``{stem: bytes}``."""
    if data is None:
        with open(archive, "rb") as f:
            data = f.read()
    if is_gzip(data):
        data = gunzip(data, os.fspath(archive))
    out = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for spec in _DS.files:
                member = f"{_DS.member_dir}/{spec.stem}"
                try:
                    f = tar.extractfile(member)
                except KeyError:
                    f = None
                if f is None:
                    raise DatasetFormatError(f"{archive}: the archive has no file '{member}'")
                out[spec.stem] = f.read()
    except tarfile.TarError as exc:
        raise DatasetFormatError(f"{archive}: not a valid tar archive ({exc})") from None
    return out


def _download_into_cache() -> list[Path]:
    """Downloads the official archive (verified), unpacks the six batch files next to it, each
    moved into place once written, then deletes the archive."""
    folder = _locate.cache_dir(_DS.name)
    archive = _download.download_verified(_DS.urls, _DS.archive.sha256, folder / _DS.archive.download)
    members = _members_of_archive(archive)
    paths = []
    for spec in _DS.files:
        dest = folder / spec.stem
        tmp = dest.with_name(f".{dest.name}.part")
        tmp.write_bytes(members[spec.stem])
        os.replace(tmp, dest)
        paths.append(dest)
    archive.unlink()
    return paths


def _allocate():
    n_train = RECORDS_PER_FILE * len(_DS.train)
    n_test = RECORDS_PER_FILE * len(_DS.test)
    x_train = np.empty((n_train, *IMAGE_SHAPE), dtype=np.uint8)
    y_train = np.empty((n_train,), dtype=np.uint8)
    x_test = np.empty((n_test, *IMAGE_SHAPE), dtype=np.uint8)
    y_test = np.empty((n_test,), dtype=np.uint8)
    # (destination images, destination labels) for each file, in _DS.files order
    slots = [(x_train[i * RECORDS_PER_FILE:(i + 1) * RECORDS_PER_FILE],
              y_train[i * RECORDS_PER_FILE:(i + 1) * RECORDS_PER_FILE]) for i in range(len(_DS.train))]
    slots.append((x_test, y_test))
    return (x_train, y_train, x_test, y_test), slots


def _parse_into(data: bytes, name: str, spec, slot, check_hash: bool) -> bool:
    """Parses one batch into its slot; True when its content differs from the official file."""
    parse_cifar10_binary(data, name, records=RECORDS_PER_FILE, out_images=slot[0], out_labels=slot[1])
    return check_hash and sha256_bytes(data) != spec.content_sha256


def load_data(data_dir=None, *, download: bool = True):
    """Loads CIFAR-10 as ``((x_train, y_train), (x_test, y_test))``, like ``keras.datasets.cifar10``:
    uint8 images (50000, 32, 32, 3) and (10000, 32, 32, 3) in NHWC order, labels uint8 of shape
    (50000, 1) and (10000, 1); class names in ``CLASS_NAMES``.

    Reads the *binary version*: ``data_batch_1.bin`` .. ``data_batch_5.bin`` and
    ``test_batch.bin`` (each gzipped or not, in the folder or its ``cifar-10-batches-bin/``), or
    the official ``cifar-10-binary.tar.gz`` itself. Looks in ``data_dir`` (its ``cifar10/``
    subfolder first), ``$NNCORE_DATA_DIR`` (likewise), the user cache
    (``~/.cache/nncore/cifar10``), then downloads the archive (pooch, SHA-256 verified) and
    unpacks it into the cache; ``download=False`` or ``NNCORE_OFFLINE=1`` turns that off.

    Corrupt files raise ``DatasetFormatError`` naming the file; well-formed files whose content
    differs from the official batches give one ``DatasetIntegrityWarning`` and are used.
    """
    found, searched = _find(data_dir)
    if found is None:
        needed = [s.stem + "[.gz]" for s in _DS.files] + [f"(or the archive {_DS.archive.stem})"]
        if not download or _locate.downloads_disabled():
            why = ("downloading is disabled" if not download
                   else f"downloading is disabled by ${_locate.ENV_OFFLINE}")
            raise DatasetNotFoundError(_locate.not_found_message(_DS.title, _DS.name, needed, searched, why))
        if not _download.have_pooch():
            raise DatasetNotFoundError(_locate.not_found_message(
                _DS.title, _DS.name, needed, searched,
                "cannot be downloaded without pooch (pip install 'nncore[data]')"))
        try:
            found = ("files", _download_into_cache())
        except _download.DownloadFailed as exc:
            why = "could not be downloaded:\n    " + "\n    ".join(f"{u}: {r}" for u, r in exc.failures)
            msg = _locate.not_found_message(_DS.title, _DS.name, needed, searched, why)
            raise (DatasetChecksumError(msg) if exc.mismatch else DatasetNotFoundError(msg)) from None

    arrays, slots = _allocate()
    kind, where = found
    if kind == "files":
        def work(i):
            path = where[i]
            return _parse_into(read_file(path), os.fspath(path), _DS.files[i], slots[i], True)

        # zlib, hashlib and numpy's copies release the GIL: the files load in parallel.
        workers = max(1, min(len(slots), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            differs = list(pool.map(work, range(len(slots))))
        names = [p.name for p in where]
        folder = where[0].parent
    else:
        raw = where.read_bytes()
        official = sha256_bytes(raw) == _DS.archive.sha256
        members = _members_of_archive(where, raw)
        differs = [_parse_into(members[s.stem], f"{where}:{s.stem}", s, slots[i], not official)
                   for i, s in enumerate(_DS.files)]
        names = [s.stem for s in _DS.files]
        folder = where
    changed = [n for n, d in zip(names, differs) if d]
    if changed:
        warnings.warn(
            f"CIFAR-10 files in {folder} are well-formed but their content differs from the official "
            f"batches: {', '.join(changed)} (SHA-256 of the decompressed data). They are used as they are.",
            DatasetIntegrityWarning, stacklevel=2,
        )
    x_train, y_train, x_test, y_test = arrays
    return (x_train, y_train.reshape(-1, 1)), (x_test, y_test.reshape(-1, 1))
