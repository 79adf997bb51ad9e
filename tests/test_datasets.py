"""Datasets: the real files in shared/data, the IDX and CIFAR-10 parsers on synthetic files (every
error path), the lookup order, and downloads from local URLs (no test touches the network)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
import warnings

import numpy as np
import pytest
from conftest import shared_data_dir

from nncore.datasets import (
    DatasetChecksumError,
    DatasetFormatError,
    DatasetIntegrityWarning,
    DatasetNotFoundError,
    _download,
    _idx_dataset,
    cifar10,
    fashion_mnist,
    mnist,
)
from nncore.datasets.cifar_binary import RECORD_BYTES, parse_cifar10_binary, read_cifar10_binary
from nncore.datasets.idx import parse_idx, read_idx

REAL_FETCH = _download.fetch  # file:// URLs are copied locally; the autouse fixture forbids others
SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="no real datasets: set NNCORE_DATA_DIR to the folder holding mnist/ and cifar10/")

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's own cache or data folder, and none may download."""
    monkeypatch.delenv("NNCORE_DATA_DIR", raising=False)
    monkeypatch.delenv("NNCORE_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def no_network(url, dest):
        raise AssertionError(f"test tried to download {url}")

    monkeypatch.setattr(_download, "fetch", no_network)
    # Downloads here are local (file://) or faked, so they run without pooch installed too.
    monkeypatch.setattr(_download, "have_pooch", lambda: True)


# --------------------------------------------------------------------------- file builders
def idx_bytes(arr: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    big = arr.astype(arr.dtype.newbyteorder(">")) if arr.dtype.itemsize > 1 else arr
    header = bytes([0, 0, codes[big.dtype], arr.ndim]) + np.array(arr.shape, dtype=">u4").tobytes()
    return header + big.tobytes()


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Slow, obvious writer of the binary format: per record, label then R, G, B planes."""
    out = bytearray()
    for img, lab in zip(images, labels):
        out.append(int(lab))
        for c in range(3):
            out += img[:, :, c].tobytes()
    return bytes(out)


def small_mnist(seed: int, n_train=12, n_test=5):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train, dtype=np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test, dtype=np.uint8))


def write_mnist(folder, arrays, gz=True, names=MNIST_FILES):
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in zip(names, arrays):
        data = idx_bytes(arr)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def small_counts(monkeypatch):
    """MNIST-sized checks shrunk to 12 training and 5 test images, so files stay tiny."""
    monkeypatch.setattr(_idx_dataset, "TRAIN_COUNT", 12)
    monkeypatch.setattr(_idx_dataset, "TEST_COUNT", 5)


def small_cifar(seed: int, per_file=4):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 256, (per_file, 32, 32, 3), dtype=np.uint8),
             rng.integers(0, 10, per_file, dtype=np.uint8)) for _ in CIFAR_FILES]


def write_cifar(folder, batches, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in zip(CIFAR_FILES, batches):
        data = cifar_bytes(x, y)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / name).write_bytes(data)
    return folder


def cifar_tar_gz(batches) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, (x, y) in zip(CIFAR_FILES, batches):
            data = cifar_bytes(x, y)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def small_cifar_counts(monkeypatch):
    monkeypatch.setattr(cifar10, "RECORDS_PER_FILE", 4)


def assert_cifar_equal(loaded, batches):
    (xtr, ytr), (xte, yte) = loaded
    np.testing.assert_array_equal(xtr, np.concatenate([x for x, _ in batches[:5]]))
    np.testing.assert_array_equal(ytr, np.concatenate([y for _, y in batches[:5]])[:, None])
    np.testing.assert_array_equal(xte, batches[5][0])
    np.testing.assert_array_equal(yte, batches[5][1][:, None])


# --------------------------------------------------------------------------- real data
@needs_shared
def test_mnist_real_files():
    with warnings.catch_warnings():
        # The shared MNIST is byte-exact in content: no integrity warning may appear.
        warnings.simplefilter("error", DatasetIntegrityWarning)
        (x_train, y_train), (x_test, y_test) = mnist.load_data(SHARED)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8 and a.flags.writeable and a.flags.c_contiguous
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert int(x_train[0].sum()) == 27525
    assert x_train[0, 6, 14:20].tolist() == [253, 253, 253, 253, 225, 172]
    assert x_test[0, 10, 10:16].tolist() == [0, 17, 66, 14, 67, 67]
    assert x_train[:, 0, 0].max() == 0  # the corners of MNIST digits are blank


@needs_shared
def test_mnist_env_var_points_at_root_or_folder(monkeypatch):
    monkeypatch.setenv("NNCORE_DATA_DIR", str(SHARED))  # root holding mnist/
    (_, y1), _ = mnist.load_data()
    monkeypatch.setenv("NNCORE_DATA_DIR", str(SHARED / "mnist"))  # the folder itself
    (_, y2), _ = mnist.load_data()
    np.testing.assert_array_equal(y1, y2)


@needs_shared
def test_cifar10_real_files():
    with pytest.warns(DatasetIntegrityWarning, match="data_batch_1"):
        # The shared copy is partly decoded from JPEG: well-formed, not the official content.
        (x_train, y_train), (x_test, y_test) = cifar10.load_data(SHARED)
    assert x_train.shape == (50000, 32, 32, 3) and y_train.shape == (50000, 1)
    assert x_test.shape == (10000, 32, 32, 3) and y_test.shape == (10000, 1)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8 and a.flags.writeable
    assert np.bincount(y_train[:, 0]).tolist() == [5000] * 10
    assert np.bincount(y_test[:, 0]).tolist() == [1000] * 10
    assert np.bincount(y_train[:10000, 0]).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert y_test[:10, 0].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    # Published pixel values of the exact records (R plane start, B plane end).
    assert x_train[0, 0, :3, 0].tolist() == [59, 43, 50]
    assert x_train[0, 31, -3:, 2].tolist() == [140, 84, 72]
    assert x_train[1, 0, :3, 0].tolist() == [154, 126, 105]
    assert x_train[1, 31, -3:, 2].tolist() == [139, 142, 144]
    assert x_test[0, 0, :3, 0].tolist() == [158, 159, 165]
    assert x_test[0, 31, -3:, 2].tolist() == [124, 129, 110]


@needs_shared
def test_fashion_mnist_refuses_mnist_files():
    with pytest.raises(DatasetFormatError, match="MNIST train-images"):
        fashion_mnist.load_data(SHARED / "mnist", download=False)


# --------------------------------------------------------------------------- IDX parser
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("shape", [(0,), (7,), (3, 4), (2, 0, 5), (2, 3, 4, 1)])
def test_idx_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    arr = (rng.normal(size=shape) * 100).astype(dtype)
    out = parse_idx(idx_bytes(arr))
    assert out.shape == shape and out.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(out, arr)


def test_idx_reads_gzip_by_content_not_by_name(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(idx_bytes(arr))  # inflated by a browser, name kept
    (tmp_path / "b").write_bytes(gzip.compress(idx_bytes(arr)))
    (tmp_path / "c.gz").write_bytes(gzip.compress(idx_bytes(arr[:1])) + gzip.compress(idx_bytes(arr)[16 + 12:]))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "b"), arr)
    # Two gzip members are one stream; the header of the first member's IDX still says 1x3x4,
    # so the extra member's bytes are trailing data.
    with pytest.raises(DatasetFormatError, match="unexpected bytes"):
        read_idx(tmp_path / "c.gz")


def idx_error_cases():
    good = idx_bytes(np.zeros((2, 3, 4), np.uint8))
    return [
        (b"\x00\x00", "too short"),
        (b"\x1f\x00\x08\x03" + good[4:], "not an IDX file"),
        (b"\x00\x00\x07\x03" + good[4:], "unknown IDX element type"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (good[:10], "truncated IDX header"),
        (good[:-1], "truncated"),
        (good + b"\x00", "unexpected bytes"),
    ]


@pytest.mark.parametrize("data,match", idx_error_cases())
def test_idx_errors(tmp_path, data, match):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DatasetFormatError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_idx_expected_shape_and_dtype():
    data = idx_bytes(np.zeros((5, 28, 27), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"header dimensions 5x28x27 \(magic 2051\), expected Nx28x28"):
        parse_idx(data, "x", expected_shape=(None, 28, 28))
    with pytest.raises(DatasetFormatError, match="expected Nx28x28"):
        parse_idx(idx_bytes(np.zeros((5,), np.uint8)), "x", expected_shape=(None, 28, 28))
    with pytest.raises(DatasetFormatError, match="element type int32"):
        parse_idx(idx_bytes(np.zeros((5,), ">i4")), "x", expected_dtype=np.uint8)
    assert parse_idx(data, "x", expected_shape=(5, 28, None)).shape == (5, 28, 27)


def test_bad_gzip(tmp_path):
    z = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 100)))
    (tmp_path / "cut.gz").write_bytes(z[: len(z) // 2])
    with pytest.raises(DatasetFormatError, match="cut.gz: truncated gzip"):
        read_idx(tmp_path / "cut.gz")
    damaged = bytearray(z)
    damaged[len(z) // 2] ^= 0xFF
    (tmp_path / "damaged.gz").write_bytes(bytes(damaged))
    with pytest.raises(DatasetFormatError, match="damaged.gz: not a valid gzip"):
        read_idx(tmp_path / "damaged.gz")
    (tmp_path / "tail.gz").write_bytes(z + b"garbage")
    with pytest.raises(DatasetFormatError, match="tail.gz: unexpected bytes after the end of the gzip"):
        read_idx(tmp_path / "tail.gz")
    (tmp_path / "padded.gz").write_bytes(z + b"\x00" * 8)  # zero padding after a stream is fine
    assert read_idx(tmp_path / "padded.gz").shape == (10, 100)


# --------------------------------------------------------------------------- CIFAR parser
@pytest.mark.parametrize("count", [0, 1, 3])
def test_cifar_parser_layout(count):
    rng = np.random.default_rng(count)
    x = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, count, dtype=np.uint8)
    images, labels = parse_cifar10_binary(cifar_bytes(x, y))
    np.testing.assert_array_equal(images, x)
    np.testing.assert_array_equal(labels, y)
    assert images.flags.c_contiguous and images.flags.writeable


def test_cifar_parser_errors(tmp_path):
    x = np.zeros((3, 32, 32, 3), np.uint8)
    good = cifar_bytes(x, np.array([1, 2, 3]))
    path = tmp_path / "data_batch_9.bin"
    path.write_bytes(good[:-5])
    with pytest.raises(DatasetFormatError, match=r"data_batch_9.bin: size 9214 bytes is not a whole number .*\(2 records \+ 3068 bytes"):
        read_cifar10_binary(path)
    path.write_bytes(good)
    with pytest.raises(DatasetFormatError, match="3 records .*expected 4"):
        read_cifar10_binary(path, records=4)
    bad = bytearray(good)
    bad[2 * RECORD_BYTES] = 10
    path.write_bytes(bytes(bad))
    with pytest.raises(DatasetFormatError, match="data_batch_9.bin: record 2 has label 10"):
        read_cifar10_binary(path)
    path.write_bytes(gzip.compress(good)[:-4])
    with pytest.raises(DatasetFormatError, match="truncated gzip"):
        read_cifar10_binary(path)


# --------------------------------------------------------------------------- MNIST-like loading
def test_mnist_load_from_data_dir_gz_and_raw(tmp_path, small_counts):
    arrays = small_mnist(1)
    for gz in (True, False):
        folder = write_mnist(tmp_path / f"gz{gz}", arrays, gz=gz)
        with pytest.warns(DatasetIntegrityWarning, match="train-images"):  # not the real MNIST
            (xtr, ytr), (xte, yte) = mnist.load_data(folder)
        for got, want in zip((xtr, ytr, xte, yte), arrays):
            np.testing.assert_array_equal(got, want)
            assert got.dtype == np.uint8


def test_mnist_accepts_dotted_names(tmp_path, small_counts):
    arrays = small_mnist(2)
    dotted = [n.replace("-idx", ".idx", 1) for n in MNIST_FILES]
    folder = write_mnist(tmp_path / "d", arrays, gz=False, names=dotted)
    with pytest.warns(DatasetIntegrityWarning):
        (_, ytr), _ = mnist.load_data(folder)
    np.testing.assert_array_equal(ytr, arrays[1])


def mark(arrays, value):
    """The same dataset with the first training label set to ``value`` (to tell copies apart)."""
    y = arrays[1].copy()
    y[0] = value
    return (arrays[0], y, arrays[2], arrays[3])


def test_lookup_order(tmp_path, monkeypatch, small_counts):
    warnings.simplefilter("ignore", DatasetIntegrityWarning)
    arrays = small_mnist(3)
    data_dir = write_mnist(tmp_path / "given", mark(arrays, 1))
    env_root = tmp_path / "env"
    write_mnist(env_root / "mnist", mark(arrays, 2))
    xdg_cache = write_mnist(tmp_path / "xdg-cache" / "nncore" / "mnist", mark(arrays, 3))
    home_cache = write_mnist(tmp_path / "home" / ".cache" / "nncore" / "mnist", mark(arrays, 4))

    def first_label(**kw):
        (_, y), _ = mnist.load_data(download=False, **kw)
        return int(y[0])

    monkeypatch.setenv("NNCORE_DATA_DIR", str(env_root))
    assert first_label(data_dir=data_dir) == 1
    assert first_label() == 2
    monkeypatch.setenv("NNCORE_DATA_DIR", str(env_root / "mnist"))
    assert first_label() == 2
    monkeypatch.delenv("NNCORE_DATA_DIR")
    assert first_label() == 3
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert first_label() == 4
    # An incomplete folder is passed over (and reported if nothing else is found).
    (data_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    assert first_label(data_dir=data_dir) == 4
    del xdg_cache, home_cache


def test_subfolder_before_folder(tmp_path, small_counts):
    warnings.simplefilter("ignore", DatasetIntegrityWarning)
    arrays = small_mnist(4)
    root = write_mnist(tmp_path / "root", mark(arrays, 5))
    write_mnist(root / "mnist", mark(arrays, 6))
    (_, y), _ = mnist.load_data(root, download=False)
    assert y[0] == 6


def test_not_found_message(tmp_path, monkeypatch, small_counts):
    partial = write_mnist(tmp_path / "partial", small_mnist(5))
    (partial / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data(partial, download=False)
    msg = str(info.value)
    for needed in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "NNCORE_DATA_DIR",
                   "data_dir=", "downloading is disabled", str(partial), "lacks train-images-idx3-ubyte.gz",
                   str(tmp_path / "xdg-cache" / "nncore" / "mnist")):
        assert needed in msg, needed
    monkeypatch.setenv("NNCORE_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="NNCORE_OFFLINE"):
        fashion_mnist.load_data()
    with pytest.raises(DatasetNotFoundError, match="cifar-10-binary.tar.gz"):
        cifar10.load_data()
    monkeypatch.delenv("NNCORE_OFFLINE")
    monkeypatch.setattr(_download, "have_pooch", lambda: False)
    with pytest.raises(DatasetNotFoundError, match=r"without pooch \(pip install 'nncore\[data\]'\)"):
        mnist.load_data()


@pytest.mark.parametrize("case", ["labels_range", "image_dims", "truncated", "label_count"])
def test_load_errors_name_the_file(tmp_path, small_counts, case):
    xtr, ytr, xte, yte = small_mnist(6)
    if case == "labels_range":
        ytr = ytr.copy()
        ytr[7] = 10
    elif case == "image_dims":
        xte = np.zeros((5, 28, 29), np.uint8)
    elif case == "label_count":
        ytr = ytr[:-1]
    folder = write_mnist(tmp_path / case, (xtr, ytr, xte, yte))
    if case == "truncated":
        p = folder / "t10k-images-idx3-ubyte.gz"
        p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-100]))
    expected = {
        "labels_range": r"train-labels-idx1-ubyte.gz: label 10 at index 7",
        "image_dims": r"t10k-images-idx3-ubyte.gz: header dimensions 5x28x29 \(magic 2051\), expected 5x28x28",
        "truncated": r"t10k-images-idx3-ubyte.gz: truncated",
        "label_count": r"train-labels-idx1-ubyte.gz: header dimensions 11 \(magic 2049\), expected 12",
    }[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetIntegrityWarning)
        with pytest.raises(DatasetFormatError, match=expected):
            mnist.load_data(folder)


# --------------------------------------------------------------------------- downloads
def mirror_of(tmp_path, arrays, name="mirror"):
    """A local mirror (file:// URL) with gzipped files, and the dataset spec pointing at it."""
    folder = write_mnist(tmp_path / name, arrays)
    spec = mnist.MNIST
    files = {}
    for field, stem in zip(("train_images", "train_labels", "test_images", "test_labels"), MNIST_FILES):
        gz = (folder / (stem + ".gz")).read_bytes()
        old = getattr(spec, field)
        files[field] = dataclasses.replace(old, sha256=hashlib.sha256(gz).hexdigest(),
                                           content_sha256=hashlib.sha256(gzip.decompress(gz)).hexdigest())
    return folder, dataclasses.replace(spec, **files)


def test_download_from_local_mirror(tmp_path, monkeypatch, small_counts):
    monkeypatch.setattr(_download, "fetch", REAL_FETCH)
    arrays = small_mnist(7)
    good, spec = mirror_of(tmp_path, arrays)
    bad = write_mnist(tmp_path / "bad-mirror", mark(arrays, 9))  # same names, other bytes
    spec = dataclasses.replace(spec, mirrors=(bad.as_uri() + "/", good.as_uri() + "/"))
    monkeypatch.setattr(mnist, "MNIST", spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetIntegrityWarning)  # downloads match the spec exactly
        (xtr, ytr), (xte, yte) = mnist.load_data()
    for got, want in zip((xtr, ytr, xte, yte), arrays):
        np.testing.assert_array_equal(got, want)
    cache = tmp_path / "xdg-cache" / "nncore" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(s + ".gz" for s in MNIST_FILES)
    # Found in the cache now: a second load downloads nothing.
    monkeypatch.setattr(_download, "fetch", lambda url, dest: pytest.fail("downloaded again"))
    (_, y2), _ = mnist.load_data()
    np.testing.assert_array_equal(y2, arrays[1])


def test_download_refused_on_hash_mismatch(tmp_path, monkeypatch, small_counts):
    monkeypatch.setattr(_download, "fetch", REAL_FETCH)
    arrays = small_mnist(8)
    _, spec = mirror_of(tmp_path, arrays)
    bad = write_mnist(tmp_path / "bad-mirror", mark(arrays, 9))
    monkeypatch.setattr(mnist, "MNIST", dataclasses.replace(spec, mirrors=(bad.as_uri() + "/",)))
    with pytest.raises(DatasetChecksumError, match="SHA-256 mismatch") as info:
        mnist.load_data()
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    cache = tmp_path / "xdg-cache" / "nncore" / "mnist"
    # The images matched and were kept; the tampered labels left nothing behind, not even a part file.
    assert sorted(p.name for p in cache.iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch, small_counts):
    arrays = small_mnist(9)
    _, spec = mirror_of(tmp_path, arrays)
    monkeypatch.setattr(mnist, "MNIST", dataclasses.replace(spec, mirrors=("https://mirror.invalid/",)))

    def interrupted(url, dest):
        dest.write_bytes(b"\x1f\x8b partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(_download, "fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mnist.load_data()
    cache = tmp_path / "xdg-cache" / "nncore" / "mnist"
    assert list(cache.iterdir()) == []


def test_network_error_is_not_found(tmp_path, monkeypatch, small_counts):
    def offline(url, dest):
        raise OSError("Name or service not known")

    monkeypatch.setattr(_download, "fetch", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    msg = str(info.value)
    assert "ossci-datasets" in msg and "cvdf-datasets" in msg and "Name or service not known" in msg
    assert "NNCORE_DATA_DIR" in msg


def test_fetch_goes_through_pooch(tmp_path, monkeypatch):
    pooch = pytest.importorskip("pooch", reason="pooch (extra 'data') is not installed")
    calls = []

    class FakeDownloader:
        def __init__(self, **kwargs):
            calls.append(kwargs)

        def __call__(self, url, output_file, pooch_obj):
            calls.append(url)
            with open(output_file, "wb") as f:
                f.write(b"payload")

    monkeypatch.setattr(pooch, "HTTPDownloader", FakeDownloader)
    monkeypatch.setattr(_download, "fetch", REAL_FETCH)
    dest = tmp_path / "x.gz"
    out = _download.download_verified(["https://example.invalid/x.gz"], hashlib.sha256(b"payload").hexdigest(),
                                      dest, quiet=True)
    assert out == dest and dest.read_bytes() == b"payload"
    assert calls[1] == "https://example.invalid/x.gz" and calls[0]["progressbar"] is False


# --------------------------------------------------------------------------- CIFAR-10 loading
def test_cifar_loose_files_and_subfolder(tmp_path, small_cifar_counts):
    batches = small_cifar(10)
    for gz, folder in ((False, tmp_path / "a"), (True, tmp_path / "b" / "cifar-10-batches-bin")):
        write_cifar(folder, batches, gz=gz)
        with pytest.warns(DatasetIntegrityWarning, match="test_batch"):
            loaded = cifar10.load_data(folder if not gz else tmp_path / "b")
        assert_cifar_equal(loaded, batches)


def test_cifar_archive_in_folder(tmp_path, small_cifar_counts):
    batches = small_cifar(11)
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(cifar_tar_gz(batches))
    with pytest.warns(DatasetIntegrityWarning):
        assert_cifar_equal(cifar10.load_data(tmp_path), batches)


def test_cifar_errors_name_the_file(tmp_path, small_cifar_counts):
    batches = small_cifar(12)
    folder = write_cifar(tmp_path / "c", batches)
    p = folder / "data_batch_3.bin"
    p.write_bytes(p.read_bytes()[:-1])
    with pytest.raises(DatasetFormatError, match="data_batch_3.bin: size"):
        cifar10.load_data(folder)
    write_cifar(folder, batches)
    bad = bytearray((folder / "test_batch.bin").read_bytes())
    bad[RECORD_BYTES] = 200
    (folder / "test_batch.bin").write_bytes(bytes(bad))
    with pytest.raises(DatasetFormatError, match="test_batch.bin: record 1 has label 200"):
        cifar10.load_data(folder)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "cifar-10-binary.tar.gz").write_bytes(cifar_tar_gz(batches)[:-300])
    with pytest.raises(DatasetFormatError, match="cifar-10-binary.tar.gz"):
        cifar10.load_data(tmp_path / "t")


def test_cifar_download_unpacks_into_cache(tmp_path, monkeypatch, small_cifar_counts):
    monkeypatch.setattr(_download, "fetch", REAL_FETCH)
    batches = small_cifar(13)
    archive = tmp_path / "server" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(cifar_tar_gz(batches))
    ds = cifar10._DS
    files = [dataclasses.replace(s, content_sha256=hashlib.sha256(cifar_bytes(x, y)).hexdigest())
             for s, (x, y) in zip(ds.files, batches)]
    spec = dataclasses.replace(
        ds, urls=(archive.as_uri(),), train=tuple(files[:5]), test=tuple(files[5:]),
        archive=dataclasses.replace(ds.archive, sha256=hashlib.sha256(archive.read_bytes()).hexdigest()))
    monkeypatch.setattr(cifar10, "_DS", spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetIntegrityWarning)
        assert_cifar_equal(cifar10.load_data(), batches)
    cache = tmp_path / "xdg-cache" / "nncore" / "cifar10"
    assert sorted(p.name for p in cache.iterdir()) == sorted(CIFAR_FILES)
    # A tampered archive is refused and never unpacked.
    for p in cache.iterdir():
        p.unlink()
    archive.write_bytes(cifar_tar_gz(small_cifar(14)))
    with pytest.raises(DatasetChecksumError):
        cifar10.load_data()
    assert list(cache.iterdir()) == []


def test_shared_data_dir_follows_the_readme_variable(tmp_path, monkeypatch):
    import conftest

    (tmp_path / "cifar10").mkdir()
    monkeypatch.setenv("NNCORE_DATA_DIR", str(tmp_path))
    assert conftest.shared_data_dir() == tmp_path
    # Pointing at one dataset's folder, as the README allows, still finds the root.
    monkeypatch.setenv("NNCORE_DATA_DIR", str(tmp_path / "cifar10"))
    assert conftest.shared_data_dir() == tmp_path
