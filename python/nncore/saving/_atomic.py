"""Atomic file replacement: a reader sees the old file or the new one, never a torn mix."""

from __future__ import annotations

import contextlib
import os
import tempfile


def _fsync_dir(folder: str) -> None:
    # The rename is only durable once the directory entry is on disk. Some platforms cannot
    # open a directory (Windows); there the rename itself is the best that can be had.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _set_mode(fd: int, path: str) -> None:
    # mkstemp makes the file private (0600); the saved file should get the mode a plain open()
    # would give it: the old file's when replacing one, else 0666 less the umask.
    if not hasattr(os, "fchmod"):
        return
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    with contextlib.suppress(OSError):
        os.fchmod(fd, mode)


@contextlib.contextmanager
def atomic_write(path: str, overwrite: bool = True):
    """Yields a binary file object; on success its content replaces ``path`` in one step.

    The data go to a temporary file in the same directory (so ``os.replace`` is a rename on one
    file system), are flushed and fsync'ed, then renamed over ``path``, and the directory is
    fsync'ed. If anything fails before the rename, the temporary file is removed and ``path``
    is untouched; a crash leaves at most a stray ``.<name>.*.tmp`` beside it.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path}: directory {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        _set_mode(fd, path)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
