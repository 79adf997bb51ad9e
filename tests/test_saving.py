"""Saving and loading: weights files (.weights.npz, .safetensors), whole-model archives
(.nncore), atomic writes, and refusal of bad, truncated, corrupt or mismatched files."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore import optimizers
from nncore.saving import FormatError


def mlp(units=8, seed=0, dtype=None, extra=False):
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(4,), dtype=dtype)
    h = L.Dense(units, activation="tanh", name="hidden", dtype=dtype)(inp)
    if extra:
        h = L.Dense(units, name="more", dtype=dtype)(h)
    out = L.Dense(3, name="out", dtype=dtype)(h)
    return nncore.Model(inp, out)


# The keys of mlp()'s weights: kernel (0) and bias (1) of its first and second Dense layer.
STRUCTURE_KEYS = ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0",
                  "layers/dense_1/vars/1"]


def data(n=24, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = rng.standard_normal((n, 3)).astype(np.float32)
    return x, y


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------------- weights files
@pytest.mark.parametrize("name", ["w.weights.npz", "w.npz"])
def test_npz_round_trip_keyed_by_structure(tmp_path, name):
    a, b = mlp(seed=0), mlp(seed=1)
    path = tmp_path / name
    a.save_weights(path)
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == STRUCTURE_KEYS
        np.testing.assert_array_equal(f["layers/dense/vars/0"], a.get_layer("hidden").kernel.value)
    b.load_weights(path)
    assert_same_weights(a, b)
    x, _ = data()
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_safetensors_round_trip_and_interop(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    a, b = mlp(seed=0), mlp(seed=1)
    path = tmp_path / "w.safetensors"
    a.save_weights(path)
    loaded = st.load_file(str(path))
    assert sorted(loaded) == STRUCTURE_KEYS
    np.testing.assert_array_equal(loaded["layers/dense_1/vars/0"], a.get_layer("out").kernel.value)
    b.load_weights(path)
    assert_same_weights(a, b)


def test_safetensors_refuses_mismatch_and_garbage(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    mlp(units=8).save_weights(path)
    with pytest.raises(nncore.ShapeError, match=r"w\.safetensors.*hidden/kernel.*\(4, 8\).*\(4, 5\)"):
        mlp(units=5).load_weights(path)
    with pytest.raises(nncore.DTypeError, match="hidden/kernel"):
        mlp(dtype="float64").load_weights(path)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(FormatError, match="bad.safetensors"):
        mlp().load_weights(bad)
    raw = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 20])
    with pytest.raises(ValueError, match="cut.safetensors"):
        mlp().load_weights(tmp_path / "cut.safetensors")


def test_unknown_weights_extension_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        mlp().save_weights(tmp_path / "w.h5")


def test_load_refuses_shape_mismatch_naming_file_and_weight(tmp_path):
    path = tmp_path / "w.weights.npz"
    mlp(units=8).save_weights(path)
    other = mlp(units=5, seed=3)
    before = other.get_weights()
    with pytest.raises(nncore.ShapeError, match=r"w\.weights\.npz.*'hidden/kernel'.*\(4, 8\).*\(4, 5\)"):
        other.load_weights(path)
    for x, y in zip(before, other.get_weights()):  # nothing assigned on failure
        np.testing.assert_array_equal(x, y)


def test_load_refuses_missing_extra_and_dtype_mismatch(tmp_path):
    path = tmp_path / "w.weights.npz"
    mlp().save_weights(path)
    # mlp(extra=True) has a third Dense layer ('out' moves to third place).
    with pytest.raises(ValueError, match=r"another architecture \(missing from the file: "
                       r"layers/dense_2/vars/0 \('out/kernel'\), layers/dense_2/vars/1 \('out/bias'\)\)"):
        mlp(extra=True).load_weights(path)
    big = tmp_path / "big.weights.npz"
    mlp(extra=True).save_weights(big)
    with pytest.raises(ValueError, match=r"in the file but not in the model: layers/dense_2/vars/0, "
                       r"layers/dense_2/vars/1\)"):
        mlp().load_weights(big)
    with pytest.raises(nncore.DTypeError,
                       match=r"'hidden/kernel' \(layers/dense/vars/0, layer 'hidden'\) is stored as "
                             r"float32.*float64"):
        mlp(dtype="float64").load_weights(path)


def test_load_refuses_non_zip_truncated_and_corrupt_files(tmp_path):
    model = mlp()
    good = tmp_path / "good.weights.npz"
    model.save_weights(good)
    raw = good.read_bytes()

    (tmp_path / "text.weights.npz").write_bytes(b"hello, not a zip file")
    with pytest.raises(FormatError, match=r"text\.weights\.npz.*bad header"):
        model.load_weights(tmp_path / "text.weights.npz")

    (tmp_path / "cut.weights.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FormatError, match=r"cut\.weights\.npz"):
        model.load_weights(tmp_path / "cut.weights.npz")

    # Flip one byte inside the data of the first array: the zip CRC must catch it.
    with zipfile.ZipFile(good) as zf:
        info = zf.infolist()[0]
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    corrupt = bytearray(raw)
    corrupt[offset] ^= 0xFF
    (tmp_path / "flip.weights.npz").write_bytes(bytes(corrupt))
    with pytest.raises(FormatError, match=r"flip\.weights\.npz.*corrupt"):
        model.load_weights(tmp_path / "flip.weights.npz")

    with pytest.raises(FileNotFoundError):
        model.load_weights(tmp_path / "absent.weights.npz")


def _zip_with(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)


def _npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


class _Boom:
    """Unpickling this would create a marker file: loading must never get that far."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_never_unpickles(tmp_path):
    model = mlp()
    marker = tmp_path / "pwned"
    names = [v.name for v in model.weights]
    members = {f"{n}.npy": _npy_bytes(v.numpy()) for n, v in zip(names, model.weights)}
    evil = np.empty(1, dtype=object)
    evil[0] = _Boom(str(marker))
    members["hidden/kernel.npy"] = _npy_bytes(evil, allow_pickle=True)  # a name-keyed file
    path = tmp_path / "evil.weights.npz"
    _zip_with(path, members)
    with pytest.raises(nncore.DTypeError, match="hidden/kernel"):
        model.load_weights(path)
    assert not marker.exists()
    # Same for a plain pickle renamed to .npz.
    (tmp_path / "p.weights.npz").write_bytes(pickle.dumps(_Boom(str(marker))))
    with pytest.raises(FormatError):
        model.load_weights(tmp_path / "p.weights.npz")
    assert not marker.exists()


def test_load_refuses_bad_npy_headers_and_oversized_members(tmp_path):
    model = mlp()
    members = {f"{v.name}.npy": _npy_bytes(v.numpy()) for v in model.weights}
    bad = dict(members, **{"out/bias.npy": b"\x93NUMPY\x01\x00garbage-header"})
    _zip_with(tmp_path / "hdr.weights.npz", bad)
    with pytest.raises(FormatError, match=r"hdr\.weights\.npz.*'out/bias'.*header"):
        model.load_weights(tmp_path / "hdr.weights.npz")
    # A member far larger than the weight it claims to be (e.g. a zip bomb) is refused
    # from its declared size, without inflating it.
    huge = dict(members, **{"out/bias.npy": b"\0" * (64 * 2**20)})
    _zip_with(tmp_path / "bomb.weights.npz", huge, zipfile.ZIP_DEFLATED)
    assert os.path.getsize(tmp_path / "bomb.weights.npz") < 2**20
    with pytest.raises(FormatError, match=r"'out/bias.npy' is \d+ bytes"):
        model.load_weights(tmp_path / "bomb.weights.npz")
    # Header says more data than there is.
    short = _npy_bytes(model.get_layer("out").bias.numpy())[:-4]
    _zip_with(tmp_path / "short.weights.npz", dict(members, **{"out/bias.npy": short}))
    with pytest.raises(FormatError, match="truncated"):
        model.load_weights(tmp_path / "short.weights.npz")


def test_repeated_weight_names_save_by_structure_but_refuse_a_name_keyed_file(tmp_path):
    def twins(seed):
        nncore.set_seed(seed)
        inner = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(3, name="twin")])
        inp = nncore.Input(shape=(4,))
        return nncore.Model(inp, L.Dense(3, name="twin")(inner(inp)))

    a, b = twins(0), twins(1)
    a.save_weights(tmp_path / "w.weights.npz")
    b.load_weights(tmp_path / "w.weights.npz")
    assert_same_weights(a, b)
    # A file keyed by names cannot tell the two 'twin/kernel' apart.
    _zip_with(tmp_path / "old.weights.npz", {"twin/kernel.npy": _npy_bytes(np.zeros((4, 3), np.float32))})
    with pytest.raises(ValueError, match="two weights named 'twin/kernel'"):
        b.load_weights(tmp_path / "old.weights.npz")


def test_overwrite_false_keeps_existing_file(tmp_path):
    path = tmp_path / "w.weights.npz"
    mlp(seed=0).save_weights(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        mlp(seed=1).save_weights(path, overwrite=False)
    assert path.read_bytes() == before


# ---------------------------------------------------------------------- atomic writes
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.nncore"
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    model.save(path)
    before = path.read_bytes()
    calls = {"n": 0}
    real = np.lib.format.write_array

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="disk full"):
        mlp(seed=5).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.nncore"]  # the temporary file is gone too


def test_crash_mid_write_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"previous content")
    child = textwrap.dedent(f"""
        import os
        from nncore.saving._atomic import atomic_write
        with atomic_write({str(path)!r}) as f:
            f.write(b"new partial content" * 1000)
            f.flush()
            os._exit(3)   # the process dies before the rename
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr.decode()
    assert path.read_bytes() == b"previous content"


def test_save_into_missing_directory_or_onto_a_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mlp().save_weights(tmp_path / "no" / "w.weights.npz")
    (tmp_path / "d.weights.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        mlp().save_weights(tmp_path / "d.weights.npz")


# ---------------------------------------------------------------------- whole models
def residual_model(seed=0):
    nncore.set_seed(seed)
    a = nncore.Input(shape=(6,), name="a")
    b = nncore.Input(shape=(2,), name="b")
    h = L.Dense(6, activation="tanh", name="h")(a)
    r = L.Add(name="res")([a, h])
    c = L.Concatenate(name="cat")([r, b])
    d = L.Dropout(0.25, name="drop")(c)
    out = L.Dense(3, activation="softmax", name="out")(d)
    return nncore.Model([a, b], out, name="resnetish")


def residual_data(n=40, seed=2):
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal((n, 6)).astype(np.float32)
    xb = rng.standard_normal((n, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    return [xa, xb], y


def test_save_and_load_model_gives_identical_predictions(tmp_path):
    model = residual_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = residual_data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "m.nncore"
    model.save(path)
    loaded = nncore.load_model(path)
    assert type(loaded) is nncore.Model and loaded.name == "resnetish"
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_archive_layout_is_json_and_npy_only(tmp_path):
    model = mlp()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.nncore"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        header = json.loads(zf.read("config.json"))
        for n in names:
            if n.endswith(".npy"):
                np.lib.format.read_array(io.BytesIO(zf.read(n)), allow_pickle=False)
    assert names[0] == "config.json"
    assert all(n == "config.json" or n.endswith(".npy") for n in names)
    assert {"weights/layers/dense/vars/0.npy", "weights/layers/dense_1/vars/1.npy"} <= set(names)
    assert header["format_version"] == 3 and header["key_order"] == "keras"
    assert header["weights"][0] == {"key": "layers/dense/vars/0", "name": "hidden/kernel",
                                    "shape": [4, 8], "dtype": "float32"}
    assert any(n.startswith("optimizer/") for n in names)
    assert header["class_name"] == "Model"
    assert header["nncore_version"] == nncore.__version__
    assert header["compile_config"]["loss"] == "mse"
    assert header["compile_config"]["optimizer"]["class_name"] == "SGD"
    assert header["config"]["layers"][1]["name"] == "hidden"


def test_loaded_model_continues_training_identically(tmp_path):
    x, y = residual_data()
    model = residual_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.nncore")
    loaded = nncore.load_model(tmp_path / "m.nncore")
    h1 = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    h2 = loaded.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert h1.history == h2.history
    assert_same_weights(model, loaded)
    # The optimizer state matters: recompiling from scratch takes a different path.
    fresh = nncore.load_model(tmp_path / "m.nncore", compile=False)
    fresh.compile(optimizer="adam", loss="categorical_crossentropy")
    fresh.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    again = nncore.load_model(tmp_path / "m.nncore")
    again.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert any(not np.array_equal(a, b) for a, b in zip(fresh.get_weights(), again.get_weights()))


def test_training_with_augmentation_continues_identically(tmp_path):
    nncore.set_seed(0)
    inp = nncore.Input(shape=(6, 7, 2))
    h = L.RandomTranslation(0.2, 0.2)(inp)
    h = L.RandomFlip(seed=4)(h)
    h = L.GaussianNoise(0.1)(h)
    model = nncore.Model(inp, L.Dense(2)(L.Flatten()(h)))
    model.compile(optimizer="sgd", loss="mse")
    r = np.random.default_rng(0)
    x, y = r.standard_normal((8, 6, 7, 2)), r.standard_normal((8, 2))
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "aug.nncore")
    loaded = nncore.load_model(tmp_path / "aug.nncore")
    assert model.fit(x, y, epochs=2, batch_size=4, verbose=0).history == \
        loaded.fit(x, y, epochs=2, batch_size=4, verbose=0).history
    assert_same_weights(model, loaded)


def test_load_model_without_compiling(tmp_path):
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.nncore")
    loaded = nncore.load_model(tmp_path / "m.nncore", compile=False)
    assert not loaded.compiled
    with pytest.raises(RuntimeError, match="compile"):
        loaded.fit(*data(), verbose=0)
    uncompiled = mlp(seed=4)
    uncompiled.save(tmp_path / "u.nncore")
    back = nncore.load_model(tmp_path / "u.nncore")
    assert not back.compiled
    assert_same_weights(back, uncompiled)


def test_sequential_round_trip(tmp_path):
    nncore.set_seed(0)
    model = nncore.Sequential([L.Dense(5, activation="relu", input_shape=(3,)), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    model.fit(x, np.zeros((10, 2), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "s.nncore")
    loaded = nncore.load_model(tmp_path / "s.nncore")
    assert type(loaded) is nncore.Sequential
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


class Scale(L.Layer):
    """A custom layer (not registered): y = x * w with one weight per feature."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")
        super().build(input_shape)

    def forward(self, x, training=False):
        self._cache = x
        return x * self.w.value

    def backward(self, grad_out):
        self.w.grad += (grad_out * self._cache).sum(axis=0)
        return grad_out * self.w.value


def test_custom_objects_and_unknown_classes(tmp_path):
    inp = nncore.Input(shape=(3,))
    model = nncore.Model(inp, L.Dense(2)(Scale(name="scale")(inp)))
    model.get_layer("scale").w.assign(np.array([1.0, 2.0, 3.0]))
    model.save(tmp_path / "c.nncore")
    with pytest.raises(ValueError, match=r"c\.nncore.*Scale"):
        nncore.load_model(tmp_path / "c.nncore")
    loaded = nncore.load_model(tmp_path / "c.nncore", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.get_layer("scale").w.value, [1.0, 2.0, 3.0])


def _rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            payload = zin.read(info.filename)
            if info.filename == "config.json":
                header = json.loads(payload)
                edit(header)
                payload = json.dumps(header).encode()
            zout.writestr(info.filename, payload)


def test_load_model_refuses_bad_archives(tmp_path):
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    good = tmp_path / "good.nncore"
    model.save(good)

    _rewrite_config(good, tmp_path / "cls.nncore", lambda h: h.update(class_name="Bogus"))
    with pytest.raises(ValueError, match=r"cls\.nncore.*unknown model class 'Bogus'"):
        nncore.load_model(tmp_path / "cls.nncore")

    def bogus_layer(h):
        h["config"]["layers"][1]["class_name"] = "Dancing"
    _rewrite_config(good, tmp_path / "layer.nncore", bogus_layer)
    with pytest.raises(ValueError, match=r"layer\.nncore.*Dancing"):
        nncore.load_model(tmp_path / "layer.nncore")

    def wider(h):
        h["config"]["layers"][1]["config"]["units"] = 9
    _rewrite_config(good, tmp_path / "shape.nncore", wider)
    with pytest.raises(nncore.ShapeError,
                       match=r"shape\.nncore.*'hidden/kernel' \(layers/dense/vars/0.*\(4, 8\).*\(4, 9\)"):
        nncore.load_model(tmp_path / "shape.nncore")

    _rewrite_config(good, tmp_path / "fmt.nncore", lambda h: h.update(format="other"))
    with pytest.raises(FormatError, match=r"fmt\.nncore is not an nncore model archive"):
        nncore.load_model(tmp_path / "fmt.nncore")

    _rewrite_config(good, tmp_path / "new.nncore", lambda h: h.update(format_version=99))
    with pytest.raises(FormatError, match="upgrade nncore"):
        nncore.load_model(tmp_path / "new.nncore")

    _zip_with(tmp_path / "nocfg.nncore", {"weights/out/bias.npy": b""})
    with pytest.raises(FormatError, match="missing member 'config.json'"):
        nncore.load_model(tmp_path / "nocfg.nncore")

    _zip_with(tmp_path / "json.nncore", {"config.json": b"{oops"})
    with pytest.raises(FormatError, match="not valid JSON"):
        nncore.load_model(tmp_path / "json.nncore")

    raw = good.read_bytes()
    (tmp_path / "cut.nncore").write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(FormatError, match=r"cut\.nncore"):
        nncore.load_model(tmp_path / "cut.nncore")

    (tmp_path / "plain.nncore").write_bytes(b"\x00" * 100)
    with pytest.raises(FormatError, match="bad header"):
        nncore.load_model(tmp_path / "plain.nncore")

    with pytest.raises(ValueError, match=r"\.nncore"):
        nncore.load_model(tmp_path / "m.weights.npz")
    with pytest.raises(ValueError, match=r"\.nncore"):
        model.save(tmp_path / "m.h5")


def test_compile_objects_survive_save_and_load(tmp_path):
    from nncore import losses, metrics, regularizers

    nncore.set_seed(0)
    inp = nncore.Input(shape=(4,))
    h = L.Dense(5, activation="relu", kernel_regularizer=regularizers.L2(0.01), name="h")(inp)
    model = nncore.Model(inp, L.Dense(3, activation="softmax")(h))
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01, clipnorm=1.0),
                  loss=losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=[metrics.CategoricalAccuracy(), "mae"])
    x, _ = data(16)
    y = np.eye(3, dtype=np.float32)[np.arange(16) % 3]
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "o.nncore")
    loaded = nncore.load_model(tmp_path / "o.nncore")
    assert loaded.metrics_names == model.metrics_names == ["loss", "categorical_accuracy", "mae"]
    assert loaded.loss.get_config() == model.loss.get_config()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.get_layer("h").kernel.regularizer is not None
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert loaded.fit(x, y, epochs=2, verbose=0).history == model.fit(x, y, epochs=2, verbose=0).history
