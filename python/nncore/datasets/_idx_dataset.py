"""Loading an MNIST-like dataset (four IDX files): find, download if needed, parse, check."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from . import _download, _locate
from ._files import read_file, sha256_bytes
from ._sources import IdxDataset
from .errors import DatasetChecksumError, DatasetFormatError, DatasetIntegrityWarning, DatasetNotFoundError
from .idx import parse_idx

NUM_CLASSES = 10
IMAGE_SIZE = 28
TRAIN_COUNT = 60000
TEST_COUNT = 10000


def _find(ds: IdxDataset, data_dir):
    """The first searched folder holding all four files, and notes on the incomplete ones."""
    searched = []
    for folder, how in _locate.search_dirs(ds.name, data_dir):
        if not folder.is_dir():
            searched.append(f"{folder} ({how}): no such folder")
            continue
        paths = [_locate.first_existing(folder, spec.names()) for spec in ds.files]
        if all(p is not None for p in paths):
            return paths, searched
        have = [p.name for p in paths if p is not None]
        missing = [spec.download for spec, p in zip(ds.files, paths) if p is None]
        note = f"has {', '.join(have)} but lacks {', '.join(missing)}" if have else "none of the files"
        searched.append(f"{folder} ({how}): {note}")
    return None, searched


def _download_all(ds: IdxDataset) -> list[Path]:
    folder = _locate.cache_dir(ds.name)
    paths = []
    for spec in ds.files:
        have = _locate.first_existing(folder, spec.names())
        if have is None:
            urls = [m + spec.download for m in ds.mirrors]
            have = _download.download_verified(urls, spec.sha256, folder / spec.download)
        paths.append(have)
    return paths


def _load_checked(path: Path, spec, expected_shape, foreign: dict, mismatches: list) -> np.ndarray:
    data = read_file(path)
    arr = parse_idx(data, os.fspath(path), expected_shape=expected_shape, expected_dtype=np.uint8)
    digest = sha256_bytes(data)
    if digest in foreign:
        raise DatasetFormatError(f"{path}: this is the {foreign[digest]} file, not the one expected here")
    if spec.content_sha256 is not None and digest != spec.content_sha256:
        mismatches.append(path.name)
    return arr


def _check_labels(labels: np.ndarray, path: Path) -> None:
    if labels.size and labels.max() >= NUM_CLASSES:
        bad = int(np.argmax(labels >= NUM_CLASSES))
        raise DatasetFormatError(
            f"{path}: label {int(labels[bad])} at index {bad}, labels must be 0..{NUM_CLASSES - 1}"
        )


def load(ds: IdxDataset, data_dir=None, download: bool = True, foreign: dict | None = None):
    """``((x_train, y_train), (x_test, y_test))`` as uint8, shapes (60000, 28, 28) / (60000,) and
    (10000, 28, 28) / (10000,), like ``keras.datasets``."""
    paths, searched = _find(ds, data_dir)
    if paths is None:
        needed = [spec.download for spec in ds.files]
        if not download or _locate.downloads_disabled():
            why = ("downloading is disabled" if not download
                   else f"downloading is disabled by ${_locate.ENV_OFFLINE}")
            raise DatasetNotFoundError(_locate.not_found_message(ds.title, ds.name, needed, searched, why))
        if not _download.have_pooch():
            raise DatasetNotFoundError(_locate.not_found_message(
                ds.title, ds.name, needed, searched,
                "cannot be downloaded without pooch (pip install 'nncore[data]')"))
        try:
            paths = _download_all(ds)
        except _download.DownloadFailed as exc:
            why = "could not be downloaded:\n    " + "\n    ".join(f"{u}: {r}" for u, r in exc.failures)
            msg = _locate.not_found_message(ds.title, ds.name, needed, searched, why)
            raise (DatasetChecksumError(msg) if exc.mismatch else DatasetNotFoundError(msg)) from None

    foreign = foreign or {}
    mismatches: list[str] = []
    n_train, n_test = TRAIN_COUNT, TEST_COUNT
    s = IMAGE_SIZE
    x_train = _load_checked(paths[0], ds.train_images, (n_train, s, s), foreign, mismatches)
    y_train = _load_checked(paths[1], ds.train_labels, (n_train,), foreign, mismatches)
    x_test = _load_checked(paths[2], ds.test_images, (n_test, s, s), foreign, mismatches)
    y_test = _load_checked(paths[3], ds.test_labels, (n_test,), foreign, mismatches)
    _check_labels(y_train, paths[1])
    _check_labels(y_test, paths[3])
    if mismatches:
        warnings.warn(
            f"{ds.title} files in {paths[0].parent} are well-formed but their content differs from "
            f"the published originals: {', '.join(mismatches)} (SHA-256 of the decompressed data). "
            "They are used as they are.",
            DatasetIntegrityWarning, stacklevel=3,
        )
    return (x_train, y_train), (x_test, y_test)
