"""Downloads with SHA-256 verification: a file is written under a temporary name and moved into
place only once its hash matches, so an interrupted or tampered download is never used later."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from ._files import sha256_file

TIMEOUT_SECONDS = 60


class DownloadFailed(Exception):
    """Every URL failed; ``failures`` lists ``(url, reason)`` and ``mismatch`` tells whether one
    of them delivered a file with the wrong hash."""

    def __init__(self, failures: list[tuple[str, str]], mismatch: bool):
        self.failures = failures
        self.mismatch = mismatch
        super().__init__("; ".join(f"{u}: {r}" for u, r in failures))


def have_pooch() -> bool:
    try:
        import pooch  # noqa: F401
    except ImportError:
        return False
    return True


def fetch(url: str, dest: Path) -> None:
    """Copies ``url`` to ``dest`` as it is (no verification here). ``file://`` URLs are copied
    directly, which serves local mirrors; everything else goes through pooch."""
    if url.startswith("file://"):
        shutil.copyfile(url2pathname(urlparse(url).path), dest)
        return
    import pooch

    downloader = pooch.HTTPDownloader(progressbar=_progress_bar_available(), timeout=TIMEOUT_SECONDS)
    downloader(url, str(dest), None)


def _progress_bar_available() -> bool:
    """pooch draws its bar with tqdm; only worth it on a terminal."""
    if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def download_verified(urls, sha256: str, dest: Path, *, quiet: bool = False) -> Path:
    """Fetches the first of ``urls`` that delivers bytes with SHA-256 ``sha256`` into ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[str, str]] = []
    mismatch = False
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if not quiet:
                print(f"Downloading data from {url}", file=sys.stderr, flush=True)
            fetch(url, tmp)
            got = sha256_file(tmp)
            if got != sha256:
                mismatch = True
                failures.append((url, f"SHA-256 mismatch (got {got}, expected {sha256}); file discarded"))
                continue
            os.replace(tmp, dest)
            return dest
        except Exception as exc:  # network errors come in many types (requests, OSError, ...)
            failures.append((url, f"{type(exc).__name__}: {exc}"))
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadFailed(failures, mismatch)
