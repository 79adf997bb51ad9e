"""Downloads that break: a downloader (pooch's, monkeypatched) that writes part of a file and then
fails, or a process killed in the middle of a download, never leaves a file that a later load
trusts; the next load downloads what is missing and gets the right data."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nncore.datasets import DatasetNotFoundError, _download, _idx_dataset, mnist

pooch = pytest.importorskip("pooch", reason="pooch (extra 'data') is not installed")

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FIELDS = ("train_images", "train_labels", "test_images", "test_labels")
MIRROR = "https://mirror.invalid/mnist/"


def _idx(arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + np.array(arr.shape, dtype=">u4").tobytes()
    return header + arr.tobytes()


def _dataset(seed=0):
    rng = np.random.default_rng(seed)
    arrays = (rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, 12, dtype=np.uint8),
              rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, 5, dtype=np.uint8))
    served = {stem + ".gz": gzip.compress(_idx(a), mtime=0) for stem, a in zip(STEMS, arrays)}
    return arrays, served


def _spec(served):
    files = {}
    for field, stem in zip(FIELDS, STEMS):
        gz = served[stem + ".gz"]
        files[field] = dataclasses.replace(
            getattr(mnist.MNIST, field), sha256=hashlib.sha256(gz).hexdigest(),
            content_sha256=hashlib.sha256(gzip.decompress(gz)).hexdigest())
    return dataclasses.replace(mnist.MNIST, mirrors=(MIRROR,), **files)


@pytest.fixture
def served(monkeypatch, tmp_path):
    """A private cache, MNIST checks shrunk to 12 + 5 images, and the spec of a fake mirror."""
    monkeypatch.delenv("NNCORE_DATA_DIR", raising=False)
    monkeypatch.delenv("NNCORE_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_idx_dataset, "TRAIN_COUNT", 12)
    monkeypatch.setattr(_idx_dataset, "TEST_COUNT", 5)
    arrays, files = _dataset()
    monkeypatch.setattr(mnist, "MNIST", _spec(files))
    return arrays, files


def _downloader(files, broken=(), calls=None):
    """A stand-in for pooch.HTTPDownloader serving ``files``; for names in ``broken`` it writes
    the first half of the bytes and then fails as a dropped connection would."""

    class Downloader:
        def __init__(self, **kwargs):
            pass

        def __call__(self, url, output_file, pooch_obj):
            assert url.startswith(MIRROR)
            name = url[len(MIRROR):]
            if calls is not None:
                calls.append(name)
            data = files[name]
            with open(output_file, "wb") as f:
                if name in broken:
                    f.write(data[: len(data) // 2])
                    f.flush()
                    raise ConnectionResetError("connection reset by peer")
                f.write(data)

    return Downloader


def _cache(tmp_path):
    folder = tmp_path / "xdg-cache" / "nncore" / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _assert_loaded(arrays):
    (xtr, ytr), (xte, yte) = mnist.load_data()
    for got, want in zip((xtr, ytr, xte, yte), arrays):
        np.testing.assert_array_equal(got, want)


def test_partial_download_then_error_leaves_nothing_trusted(tmp_path, monkeypatch, served):
    arrays, files = served
    monkeypatch.setattr(pooch, "HTTPDownloader", _downloader(files, broken=set(files)))
    with pytest.raises(DatasetNotFoundError, match="connection reset"):
        mnist.load_data()
    assert _cache(tmp_path) == []  # not even a partial file under a temporary name
    with pytest.raises(DatasetNotFoundError):
        mnist.load_data(download=False)
    calls = []
    monkeypatch.setattr(pooch, "HTTPDownloader", _downloader(files, calls=calls))
    _assert_loaded(arrays)
    assert sorted(calls) == sorted(files)


def test_one_broken_file_keeps_the_verified_ones_and_fetches_only_the_rest(tmp_path, monkeypatch,
                                                                           served):
    arrays, files = served
    broken = "train-labels-idx1-ubyte.gz"
    monkeypatch.setattr(pooch, "HTTPDownloader", _downloader(files, broken={broken}))
    with pytest.raises(DatasetNotFoundError, match=broken):
        mnist.load_data()
    kept = _cache(tmp_path)
    assert broken not in kept and kept  # what arrived whole was verified and kept
    cache = tmp_path / "xdg-cache" / "nncore" / "mnist"
    for name in kept:
        assert (cache / name).read_bytes() == files[name]
    calls = []
    monkeypatch.setattr(pooch, "HTTPDownloader", _downloader(files, calls=calls))
    _assert_loaded(arrays)
    assert broken in calls and not set(calls) & set(kept)


_KILLED = textwrap.dedent("""
    import dataclasses, gzip, hashlib, os, signal, sys
    import numpy as np
    import pooch
    sys.path.insert(0, sys.argv[1])
    import test_reliability_data as t
    from nncore.datasets import _idx_dataset, mnist

    _idx_dataset.TRAIN_COUNT, _idx_dataset.TEST_COUNT = 12, 5
    arrays, files = t._dataset()
    mnist.MNIST = t._spec(files)

    class Dies:
        def __init__(self, **kwargs):
            pass
        def __call__(self, url, output_file, pooch_obj):
            data = files[url[len(t.MIRROR):]]
            with open(output_file, "wb") as f:
                f.write(data[: len(data) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)   # power cut in the middle of the download

    pooch.HTTPDownloader = Dies
    mnist.load_data()
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_process_killed_mid_download_leaves_no_trusted_file(tmp_path, monkeypatch, served):
    arrays, files = served
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg-cache"), HOME=str(tmp_path / "home"))
    env.pop("NNCORE_DATA_DIR", None)
    proc = subprocess.run([sys.executable, "-c", _KILLED, os.path.dirname(__file__)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = _cache(tmp_path)
    # Only a temporary file remains, under a name no loader looks for.
    assert left and all(n.startswith(".") and n.endswith(".part") for n in left), left
    with pytest.raises(DatasetNotFoundError):
        mnist.load_data(download=False)
    monkeypatch.setattr(pooch, "HTTPDownloader", _downloader(files))
    _assert_loaded(arrays)
