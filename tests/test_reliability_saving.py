"""Saving under failure: a writer killed (SIGKILL) in the middle of a save leaves the previous
file loadable with its weights; loading refuses hostile or damaged files with a clear error and
without side effects (no unpickling, the model untouched)."""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.saving import FormatError

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

WIDTH = 640  # the big layer: WIDTH x WIDTH float32, 1.6 MB per save, so a save takes a while


def big_model():
    return nncore.Sequential([nncore.Input(shape=(WIDTH,)), L.Dense(WIDTH, name="big"),
                              L.Dense(3, name="head")])


def small_model(seed=0):
    nncore.set_seed(seed)
    return nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(5, name="hidden"),
                              L.Dense(2, name="out")])


def fill(model, k):
    model.set_weights([np.full(w.shape, float(k), w.dtype) for w in model.get_weights()])


def saved_generation(model) -> int:
    """The k of ``fill(model, k)`` that the loaded weights hold; fails on any torn mix."""
    ws = model.get_weights()
    k = float(ws[0].flat[0])
    for w in ws:
        assert np.all(w == k), "weights from different saves are mixed in one file"
    assert k == int(k) and k >= 0
    return int(k)


# ---------------------------------------------------------------------- SIGKILL during a save
_WRITER = """
import os, sys, time
import numpy as np
import nncore
from nncore import layers as L
path, fmt, stall_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = nncore.Sequential([nncore.Input(shape=({width},)), L.Dense({width}, name="big"),
                           L.Dense(3, name="head")])
if fmt == "model":
    model.compile(optimizer="adam", loss="mse")
if stall_at >= 0:
    # Stop for good in the middle of save number stall_at, after part of the data is written,
    # so that the parent's SIGKILL lands mid-save for certain.
    import nncore.saving._npy as npy
    real, count = npy.write_array, [0]
    def write_array(zf, member, array):
        real(zf, member, array)
        count[0] += 1
        if generation == stall_at and count[0] >= 2:
            print("STALLED", flush=True)
            time.sleep(600)
    npy.write_array = write_array
generation = 0
while True:
    model.set_weights([np.full(w.shape, float(generation), w.dtype) for w in model.get_weights()])
    if fmt == "model":
        model.save(path)
    else:
        model.save_weights(path)
    print(generation, flush=True)
    generation += 1
"""


def _start_writer(path, fmt, stall_at=-1):
    code = _WRITER.format(width=WIDTH)
    return subprocess.Popen([sys.executable, "-c", code, str(path), fmt, str(stall_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(proc, predicate, timeout=60):
    """Lines from the writer until ``predicate(line)``; returns the last completed generation."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"writer ended early: {proc.stderr.read()}")
        line = line.strip()
        if line.isdigit():
            last = int(line)
        if predicate(line):
            return last
    raise AssertionError("writer too slow")


def _load(path, fmt):
    if fmt == "model":
        return nncore.load_model(path)
    model = big_model()
    model.load_weights(path)
    return model


@pytest.mark.parametrize("fmt,name", [("weights", "w.weights.npz"), ("model", "m.nncore"),
                                      ("weights", "w.safetensors")])
def test_sigkill_in_the_middle_of_a_save_keeps_the_previous_file(tmp_path, fmt, name):
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors")
        stall_at = -1  # one write call: there is no "middle" to stop in, only random kills
    else:
        stall_at = 3
    path = tmp_path / name
    proc = _start_writer(path, fmt, stall_at)
    try:
        if stall_at >= 0:
            last = _read_until(proc, lambda line: line == "STALLED")
            assert last == stall_at - 1
            # The half-written save is on disk under a temporary name, not under the real one.
            assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
        else:
            last = _read_until(proc, lambda line: line == "3")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    got = saved_generation(_load(path, fmt))
    if stall_at >= 0:
        assert got == stall_at - 1
    else:
        assert got >= last  # the kill may land after a rename that was not reported yet


@pytest.mark.parametrize("fmt,name", [("weights", "w.weights.npz"), ("model", "m.nncore")])
def test_sigkill_at_random_moments_never_tears_the_file(tmp_path, fmt, name):
    path = tmp_path / name
    rng = np.random.default_rng(7)
    for _ in range(6):
        proc = _start_writer(path, fmt)
        try:
            last = _read_until(proc, lambda line: line == "1")
            time.sleep(float(rng.uniform(0.0, 0.3)))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        assert saved_generation(_load(path, fmt)) >= last


def test_saved_files_get_the_usual_permissions(tmp_path):
    # A temporary file is created private (0600); the saved file must not stay so.
    old = os.umask(0o022)
    try:
        small_model().save_weights(tmp_path / "w.weights.npz")
        assert os.stat(tmp_path / "w.weights.npz").st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "w.weights.npz", 0o640)  # an existing file keeps its mode
        small_model().save_weights(tmp_path / "w.weights.npz")
        assert os.stat(tmp_path / "w.weights.npz").st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


# ---------------------------------------------------------------------- hostile files
class _Boom:
    """Unpickling this creates ``marker``: proof that a loader ran pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _evil_array(marker):
    evil = np.empty(3, dtype=object)
    evil[:] = [_Boom(str(marker))] * 3
    return _npy(evil, allow_pickle=True)


def _rezip(src, dst, replace):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))


def _snapshot(model):
    return [w.copy() for w in model.get_weights()]


def _unchanged(model, before):
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_npz_with_pickled_object_array_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    model = small_model()
    model.save_weights(tmp_path / "ok.weights.npz")
    # The crafted file really would create the marker if something unpickled it.
    _rezip(tmp_path / "ok.weights.npz", tmp_path / "evil.weights.npz",
           {"layers/dense/vars/0.npy": _evil_array(marker)})
    np.load(tmp_path / "evil.weights.npz", allow_pickle=True)["layers/dense/vars/0"]
    assert marker.exists()
    marker.unlink()
    target = small_model(seed=3)
    before = _snapshot(target)
    with pytest.raises(nncore.DTypeError, match=r"evil\.weights\.npz.*hidden/kernel.*object"):
        target.load_weights(tmp_path / "evil.weights.npz")
    assert not marker.exists()
    _unchanged(target, before)


@pytest.mark.parametrize("member", ["weights/layers/dense/vars/0.npy",
                                    "weights/layers/dense_1/vars/1.npy", "optimizer/1.npy"])
def test_model_archive_with_pickled_member_is_refused(tmp_path, member):
    marker = tmp_path / "marker"
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "ok.nncore")
    with zipfile.ZipFile(tmp_path / "ok.nncore") as zf:
        assert member in zf.namelist()
    _rezip(tmp_path / "ok.nncore", tmp_path / "evil.nncore", {member: _evil_array(marker)})
    with pytest.raises(nncore.DTypeError, match="object"):
        nncore.load_model(tmp_path / "evil.nncore")
    assert not marker.exists()


def test_model_archive_config_cannot_name_arbitrary_classes(tmp_path):
    model = small_model()
    model.save(tmp_path / "ok.nncore")
    with zipfile.ZipFile(tmp_path / "ok.nncore") as zf:
        header = json.loads(zf.read("config.json"))
    header["class_name"] = "os.system"
    _rezip(tmp_path / "ok.nncore", tmp_path / "bad.nncore",
           {"config.json": json.dumps(header).encode()})
    with pytest.raises(ValueError, match="unknown model class 'os.system'"):
        nncore.load_model(tmp_path / "bad.nncore")


@pytest.mark.parametrize("head", [b"", b"\x00" * 64, b"GARBAGE!" * 8, b"\x93NUMPY" + b"\x00" * 60,
                                  b"PK\x03\x04" + b"\xff" * 60])
@pytest.mark.parametrize("name", ["w.weights.npz", "m.nncore"])
def test_bad_headers_are_refused(tmp_path, head, name):
    path = tmp_path / name
    path.write_bytes(head)
    model = small_model()
    before = _snapshot(model)
    with pytest.raises(FormatError, match=name.replace(".", r"\.")):
        if name.endswith(".nncore"):
            nncore.load_model(path)
        else:
            model.load_weights(path)
    _unchanged(model, before)


@pytest.mark.parametrize("name", ["w.weights.npz", "m.nncore", "w.safetensors"])
def test_every_truncation_is_refused(tmp_path, name):
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors")
    src = small_model(seed=1)
    src.compile(optimizer="adam", loss="mse")
    src.fit(np.ones((4, 4), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    whole = tmp_path / ("whole." + name)
    if name.endswith(".nncore"):
        src.save(whole)
    else:
        src.save_weights(whole)
    raw = whole.read_bytes()
    model = small_model(seed=2)
    before = _snapshot(model)
    cut_points = sorted(set(range(0, len(raw), max(1, len(raw) // 97))) | {len(raw) - 1})
    for cut in cut_points:
        path = tmp_path / name
        path.write_bytes(raw[:cut])
        with pytest.raises(FormatError):
            if name.endswith(".nncore"):
                nncore.load_model(path)
            else:
                model.load_weights(path)
        _unchanged(model, before)


# ---------------------------------------------------------------------- safetensors headers
def _safetensors_parts(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _safetensors_file(path, header, body, length=None):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + body)


def _absurd_variants(header, body):
    k = "layers/dense/vars/0"
    size = len(body)

    def with_entry(**changes):
        h = json.loads(json.dumps(header))
        h[k].update(changes)
        return h

    yield "header length 2**62", header, body, 2**62
    yield "header length past the end", header, body, 10**6
    yield "offset far past the end", with_entry(data_offsets=[0, 10**12]), body, None
    yield "end before begin", with_entry(data_offsets=[size, 4]), body, None
    yield "negative offset", with_entry(data_offsets=[-8, 72]), body, None
    yield "shape of 10**9 elements", with_entry(shape=[4, 10**9]), body, None
    yield "shape overflowing 64 bits", with_entry(shape=[2**40, 2**40]), body, None
    yield "overlapping tensors", with_entry(data_offsets=header["layers/dense_1/vars/1"]["data_offsets"]), body, None
    yield "data cut short", header, body[:-5], None
    yield "header not a dict", [1, 2, 3], body, None


def test_safetensors_with_absurd_offsets_and_lengths_is_refused(tmp_path):
    pytest.importorskip("safetensors")
    small_model().save_weights(tmp_path / "ok.safetensors")
    header, body = _safetensors_parts(tmp_path / "ok.safetensors")
    model = small_model(seed=4)
    before = _snapshot(model)
    for what, h, b, length in _absurd_variants(header, body):
        path = tmp_path / "bad.safetensors"
        _safetensors_file(path, h, b, length)
        with pytest.raises(FormatError, match=r"bad\.safetensors"):
            model.load_weights(path)
        _unchanged(model, before)


# ---------------------------------------------------------------------- mismatches
@pytest.mark.parametrize("name", ["w.weights.npz", "w.safetensors"])
def test_mismatched_shapes_dtypes_and_names_change_nothing(tmp_path, name):
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors")
    path = tmp_path / name
    cases = [
        (nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(6, name="hidden"),
                            L.Dense(2, name="out")]), nncore.ShapeError, r"hidden/kernel.*\(4, 6\)"),
        (nncore.Sequential([nncore.Input(shape=(4,), dtype="float64"),
                            L.Dense(5, name="hidden", dtype="float64"),
                            L.Dense(2, name="out", dtype="float64")]), nncore.DTypeError, "float64"),
        # Another architecture: a BatchNormalization where small_model has its second Dense.
        (nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(5, name="first"),
                            L.BatchNormalization()]), ValueError,
         r"missing from the file: layers/dense_1/vars/0 \('out/kernel'\).*"
         r"in the file but not in the model: layers/batch_normalization/vars/0"),
    ]
    target = small_model(seed=9)
    for other, error, message in cases:
        other.save_weights(path)
        before = _snapshot(target)
        with pytest.raises(error, match=message):
            target.load_weights(path)
        _unchanged(target, before)


def test_model_archive_with_mismatched_weights_is_refused(tmp_path):
    model = small_model()
    model.save(tmp_path / "ok.nncore")
    other = _npy(np.zeros((4, 7), np.float32))
    _rezip(tmp_path / "ok.nncore", tmp_path / "shape.nncore", {"weights/layers/dense/vars/0.npy": other})
    with pytest.raises(nncore.ShapeError, match=r"hidden/kernel.*\(4, 7\).*\(4, 5\)"):
        nncore.load_model(tmp_path / "shape.nncore")
    _rezip(tmp_path / "ok.nncore", tmp_path / "dtype.nncore",
           {"weights/layers/dense/vars/0.npy": _npy(np.zeros((4, 5), np.float64))})
    with pytest.raises(nncore.DTypeError, match="float64"):
        nncore.load_model(tmp_path / "dtype.nncore")
    with zipfile.ZipFile(tmp_path / "ok.nncore") as zin, \
            zipfile.ZipFile(tmp_path / "names.nncore", "w") as zout:
        for info in zin.infolist():
            target = info.filename.replace("/dense/", "/conv2d/")
            zout.writestr(target, zin.read(info.filename))
    with pytest.raises(ValueError, match=r"missing from the file: layers/dense/vars/0 \('hidden/kernel'\)"
                       r".*in the file but not in the model: layers/conv2d/vars/0, layers/conv2d/vars/1"):
        nncore.load_model(tmp_path / "names.nncore")


def test_loader_never_imports_pickle_machinery_for_weights(tmp_path):
    """A weights load in a fresh process never calls pickle.load/loads at all."""
    small_model().save_weights(tmp_path / "w.weights.npz")
    code = textwrap.dedent(f"""
        import pickle
        def forbidden(*a, **k):
            raise SystemExit("pickle used")
        pickle.load = pickle.loads = forbidden
        pickle.Unpickler = forbidden
        import nncore
        from nncore import layers as L
        m = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(5, name="hidden"),
                               L.Dense(2, name="out")])
        m.load_weights({str(tmp_path / 'w.weights.npz')!r})
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
