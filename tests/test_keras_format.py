"""Keras 3's file formats in nncore: ``model.save("m.keras")`` writes Keras' archive layout,
``nncore.load_model`` / ``nncore.saving.load_keras_model`` read it, ``.weights.h5`` files go both
ways, and hostile or unsupported files are refused with the problem named.

Files made by Keras 3 itself are checked in tests/test_keras_fixtures.py."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import nncore  # noqa: E402
from nncore import layers as L  # noqa: E402
from nncore.saving import FormatError, load_keras_model  # noqa: E402
from nncore.saving.keras_format.config_in import KerasConfigError  # noqa: E402
from nncore.saving.keras_format.config_out import KerasExportError  # noqa: E402

from _seeded import random_inputs, randomize_weights as randomize  # noqa: E402

BATCHES = (1, 7, 64)


def inputs(model, batch, seed=1):
    return random_inputs(model, batch, seed)


def as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def assert_same_predictions(a, b):
    for batch in BATCHES:
        x = inputs(a, batch)
        for u, v in zip(as_list(a.predict(x, verbose=0)), as_list(b.predict(x, verbose=0))):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u, v)


def conv_zoo(dtype="float32"):
    """Every image layer nncore shares with Keras, in one Sequential."""
    nncore.set_seed(0)
    previous = nncore.backend.floatx()
    nncore.backend.set_floatx(dtype)
    try:
        return _conv_zoo(dtype)
    finally:
        nncore.backend.set_floatx(previous)


def _conv_zoo(dtype):
    return randomize(nncore.Sequential([
        nncore.Input(shape=(9, 9, 4), dtype=dtype),
        L.RandomFlip(), L.RandomRotation(0.1), L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1),
        L.RandomCrop(8, 8),
        L.Conv2D(6, 3, strides=2, padding="same", activation="elu",
                 kernel_regularizer=nncore.regularizers.L2(1e-3),
                 kernel_constraint=nncore.constraints.MaxNorm(3.0)),
        L.BatchNormalization(momentum=0.9, epsilon=1e-3),
        L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2),
        L.AveragePooling2D(2, strides=1, padding="same"),
        L.Conv2D(6, 3, dilation_rate=2, padding="same", groups=2, activation="tanh",
                 use_bias=False, kernel_initializer="he_normal"),
        L.MaxPooling2D(3, strides=2, padding="same"),
        L.LeakyReLU(0.2), L.ELU(0.5), L.Softmax(), L.Dropout(0.5), L.GaussianNoise(0.1),
        L.PReLU(shared_axes=[1, 2]), L.Activation("swish"),
        L.GlobalAveragePooling2D(keepdims=True), L.Reshape((6,)), L.Flatten(),
        L.Dense(3, activation="softmax", bias_regularizer=nncore.regularizers.L1L2(1e-4, 1e-3))],
        name="zoo"))


def merge_model():
    """Functional: two inputs, two outputs, a residual Add, every merging layer, a shared
    layer called twice and a nested Sequential."""
    image = nncore.Input(shape=(8, 8, 3), name="image")
    vec = nncore.Input(shape=(5,), name="vec")
    block = nncore.Sequential([nncore.Input(shape=(8, 8, 3)),
                               L.Conv2D(4, 3, padding="same", activation="relu"),
                               L.BatchNormalization()], name="block")
    c1 = block(image)
    c2 = L.Conv2D(4, 3, padding="same")(c1)
    res = L.Activation("relu")(L.Add()([c1, c2]))
    pooled = L.GlobalAveragePooling2D()(L.Concatenate()([res, c1]))
    shared = L.Dense(4, activation="tanh", name="shared")
    p, v = shared(L.Dense(5)(pooled)), shared(vec)
    merged = [L.Subtract()([p, v]), L.Average()([p, v, v]), L.Maximum()([p, v]),
              L.Minimum()([p, v]), L.Multiply()([p, v]), L.Add()([p, v, v])]
    out1 = L.Dense(3, activation="softmax", name="probs")(L.Concatenate()(merged))
    out2 = L.Flatten(name="flat")(res)
    return randomize(nncore.Model([image, vec], [out1, out2], name="merges"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sequential_round_trip_every_image_layer(tmp_path, dtype):
    model = conv_zoo(dtype)
    path = tmp_path / "zoo.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert config["config"]["layers"][0]["class_name"] == "InputLayer"
    assert config["config"]["layers"][6]["config"]["kernel_regularizer"]["module"] == \
        "keras.regularizers"
    back = nncore.load_model(path)
    assert type(back) is nncore.Sequential and back.dtype == model.dtype
    assert back.get_config() == model.get_config()
    assert_same_predictions(model, back)


def test_functional_round_trip_shared_nested_and_merges(tmp_path):
    model = merge_model()
    path = tmp_path / "merges.keras"
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    entries = {e["name"]: e for e in config["config"]["layers"]}
    assert config["class_name"] == "Functional"
    assert len(entries["shared"]["inbound_nodes"]) == 2
    second = entries["shared"]["inbound_nodes"][1]["args"][0]["config"]
    assert second["keras_history"] == ["vec", 0, 0] and second["shape"] == [None, 5]
    assert config["config"]["input_layers"] == [["image", 0, 0], ["vec", 0, 0]]
    back = load_keras_model(path)
    assert [t.name for t in back.inputs] == ["image", "vec"]
    assert back.output_names == model.output_names
    assert_same_predictions(model, back)


def test_single_input_refs_are_not_nested(tmp_path):
    x = nncore.Input(shape=(3,), name="x")
    model = randomize(nncore.Model(x, L.Dense(2, name="d")(x)))
    model.save(tmp_path / "m.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))["config"]
    assert config["input_layers"] == ["x", 0, 0] and config["output_layers"] == ["d", 0, 0]
    back = nncore.load_model(tmp_path / "m.keras")
    assert not isinstance(back.predict(np.ones((2, 3), np.float32), verbose=0), list)
    assert_same_predictions(model, back)


def test_compile_settings_round_trip_and_training_continues(tmp_path):
    model = conv_zoo()
    model.compile(optimizer=nncore.optimizers.SGD(learning_rate=0.05, momentum=0.9,
                                                  nesterov=True),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "m.keras")
    back = nncore.load_model(tmp_path / "m.keras")
    opt = back.optimizer
    assert type(opt).__name__ == "SGD" and opt.momentum == 0.9 and opt.nesterov
    assert float(opt.learning_rate) == pytest.approx(0.05)
    x = inputs(back, 16)
    y = np.eye(3, dtype=np.float32)[np.arange(16) % 3]
    history = back.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and "accuracy" in history.history
    assert not back.optimizer.iterations == 0


def test_compile_false_leaves_model_uncompiled(tmp_path):
    model = conv_zoo()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    assert not nncore.load_model(tmp_path / "m.keras", compile=False).compiled


def double(t):
    return t * 2


@pytest.mark.parametrize("make,what", [
    (lambda: L.Maxout(3), "Maxout"),
    (lambda: L.ThresholdedReLU(0.5), "ThresholdedReLU"),
    (lambda: L.Lambda(double), "Lambda"),
    (lambda: L.RandomCrop(3, 3, padding=1), r"padding=\[1, 1\]"),
])
def test_layers_keras_lacks_are_refused_and_nothing_written(tmp_path, make, what):
    shape = (4,) if what == "Maxout" else (4, 4, 2)
    model = nncore.Sequential([nncore.Input(shape=shape), make()])
    path = tmp_path / "m.keras"
    with pytest.raises(KerasExportError, match=what):
        model.save(path)
    assert not path.exists()
    model.save(tmp_path / "m.nncore")  # nncore's own format keeps it


def test_optimizer_keras_lacks_is_refused(tmp_path):
    model = conv_zoo()
    model.compile(optimizer=nncore.optimizers.AdaBelief(), loss="mse")
    with pytest.raises(KerasExportError, match="AdaBelief"):
        model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.keras", include_optimizer=False)
    assert not nncore.load_model(tmp_path / "m.keras").compiled


# ---------------------------------------------------------------------- .weights.h5
def test_weights_h5_round_trip_and_layout(tmp_path):
    model = merge_model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:
        assert f["layers/sequential/layers/conv2d/vars/0"].shape == (3, 3, 3, 4)
        names = [f[f"layers/{k}/vars"].attrs["name"] for k in f["layers"] if "vars" in f[f"layers/{k}"]]
        assert "shared" in names and "probs" in names  # Keras records each layer's name
        assert list(f["layers/sequential/layers/batch_normalization/vars"]) == ["0", "1", "2", "3"]
    other = randomize(merge_model(), seed=5)
    other.load_weights(path)
    assert_same_predictions(model, other)


def test_weights_h5_refuses_other_architecture_and_assigns_nothing(tmp_path):
    conv_zoo().save_weights(tmp_path / "w.weights.h5")
    model = merge_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="w.weights.h5.*missing from the file"):
        model.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def _hostile(tmp_path, mutate):
    """A weights file of conv_zoo() changed by ``mutate(h5file)``, and a fresh conv_zoo()."""
    path = tmp_path / "w.weights.h5"
    conv_zoo().save_weights(path)
    with h5py.File(path, "a") as f:
        mutate(f, tmp_path)
    return path, conv_zoo()


def _replace(f, key, **kwargs):
    del f[key]
    f.create_dataset(key, **kwargs)


@pytest.mark.parametrize("mutate,error,match", [
    (lambda f, d: _replace(f, "layers/conv2d/vars/1", data=np.zeros(7, np.float32)),
     nncore.ShapeError, r"layers/conv2d/vars/1.*\(7,\).*\(6,\)"),
    (lambda f, d: _replace(f, "layers/conv2d/vars/1", data=np.zeros(6, np.int32)),
     nncore.DTypeError, "int32"),
    (lambda f, d: _replace(f, "layers/conv2d/vars/1", data=np.zeros(6, np.float16)),
     nncore.DTypeError, "float16"),
    (lambda f, d: _replace(f, "layers/conv2d/vars/1", data=np.zeros(6, np.float64)),
     nncore.DTypeError, "float64 but the model's weight is float32"),
    (lambda f, d: f.__setitem__("layers/conv2d/vars/2", h5py.SoftLink("/layers/conv2d/vars/1")),
     FormatError, "SoftLink"),
    (lambda f, d: f.__setitem__("layers/extra", h5py.ExternalLink(str(d / "other.h5"), "/x")),
     FormatError, "ExternalLink"),
    (lambda f, d: (d.joinpath("raw.bin").write_bytes(b"\0" * 24),
                   _replace(f, "layers/conv2d/vars/1", shape=(6,), dtype=np.float32,
                            external=[(str(d / "raw.bin"), 0, 24)])),
     FormatError, "stored outside the file"),
    (lambda f, d: f.create_dataset("layers/conv2d/vars/2", data=np.zeros(3, np.float32)),
     ValueError, "in the file but not in the model: layers/conv2d/vars/2"),
    (lambda f, d: f.__delitem__("layers/dense/vars/1"),
     ValueError, "missing from the file: layers/dense/vars/1"),
    (lambda f, d: f.create_dataset("optimizer/vars/0", data=np.array([b"code"])),
     FormatError, "optimizer variable /optimizer/vars/0 has dtype"),
    (lambda f, d: f.create_dataset("optimizer/vars/0", data=np.zeros(10**6, np.float32)),
     FormatError, "optimizer variable /optimizer/vars/0 has dtype float32 and 1000000"),
    (lambda f, d: f.create_dataset("optimizer/vars/x", data=np.zeros(1, np.float32)),
     FormatError, "optimizer variables not numbered"),
])
def test_hostile_or_mismatched_h5_is_refused(tmp_path, mutate, error, match):
    path, model = _hostile(tmp_path, mutate)
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_truncated_and_foreign_h5_are_refused(tmp_path):
    path = tmp_path / "w.weights.h5"
    conv_zoo().save_weights(path)
    raw = path.read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FormatError, match="cut.weights.h5"):
        conv_zoo().load_weights(tmp_path / "cut.weights.h5")
    (tmp_path / "text.weights.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(FormatError, match="not an HDF5 file"):
        conv_zoo().load_weights(tmp_path / "text.weights.h5")


def test_bare_h5_name_is_refused_as_keras_2_layout(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        conv_zoo().save_weights(tmp_path / "w.h5")


# ---------------------------------------------------------------------- hostile archives
def _archive(tmp_path, edit_config=None, members=None, name="m.keras"):
    """A .keras archive of merge_model() with its config edited and members replaced."""
    src = tmp_path / "src.keras"
    merge_model().save(src)
    with zipfile.ZipFile(src) as zf:
        content = {n: zf.read(n) for n in zf.namelist()}
    if edit_config is not None:
        config = json.loads(content["config.json"])
        edit_config(config)
        content["config.json"] = json.dumps(config).encode()
    for k, v in (members or {}).items():
        if v is None:
            content.pop(k)
        else:
            content[k] = v
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in content.items():
            zf.writestr(k, v)
    return path


def _layer(config, name):
    return next(e for e in config["config"]["layers"] if e["name"] == name)


def _lambda_layer(config, tmp_path):
    # What Keras writes for Lambda(lambda x: ...): the function's marshalled bytecode. The code
    # would create a file if it ever ran.
    entry = _layer(config, "flat")
    entry["class_name"] = "Lambda"
    entry["config"] = {"name": "flat", "function": {
        "class_name": "__lambda__",
        "config": {"code": "open(%r, 'w')" % str(tmp_path / "ran"), "defaults": None,
                   "closure": None}}, "arguments": {}}


@pytest.mark.parametrize("edit,match", [
    (lambda c, d: _lambda_layer(c, d), "serialized Python code"),
    (lambda c, d: _layer(c, "probs").update(class_name="LSTM"), "nncore has no layer 'LSTM'"),
    (lambda c, d: _layer(c, "probs").update(module="mypackage.layers"),
     "mypackage.layers.*custom_objects"),
    (lambda c, d: _layer(c, "probs")["config"].update(lora_rank=4),
     "probs: Dense: lora_rank=4"),
    (lambda c, d: _layer(c, "probs")["config"].update(
        dtype={"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}),
     "probs: dtype policy 'mixed_float16'"),
    (lambda c, d: _layer(c, "probs")["inbound_nodes"][0]["kwargs"].update(mask=[1]),
     "probs: a call with arguments"),
    (lambda c, d: _layer(c, "probs")["inbound_nodes"][0]["args"][0]["config"]
     ["keras_history"].__setitem__(2, 1), "reads output 1 of layer"),
])
def test_unsupported_or_code_carrying_config_is_refused(tmp_path, edit, match):
    path = _archive(tmp_path, edit_config=lambda c: edit(c, tmp_path))
    with pytest.raises(KerasConfigError, match=match):
        nncore.load_model(path)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("members,match", [
    ({"model.weights.h5": None}, "without model.weights.h5"),
    ({"model.weights.h5": None, "model.weights.npz": b"PK"}, "model.weights.npz"),
    ({"evil.py": b"import os"}, r"unexpected members.*evil\.py"),
    ({"model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 100}, "not a readable HDF5 file"),
    ({"config.json": b"{not json"}, "config.json is not valid JSON"),
])
def test_damaged_archive_is_refused(tmp_path, members, match):
    with pytest.raises(FormatError, match=match):
        nncore.load_model(_archive(tmp_path, members=members))


def test_load_weights_reads_a_keras_archive(tmp_path):
    model = merge_model()
    model.save(tmp_path / "m.keras")
    other = randomize(merge_model(), seed=3)
    other.load_weights(tmp_path / "m.keras")
    assert_same_predictions(model, other)


def test_nncore_archives_keep_loading(tmp_path):
    model = conv_zoo()
    model.compile(optimizer="adam", loss="mse")
    model.fit(inputs(model, 8), np.zeros((8, 3), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m.nncore")
    back = nncore.load_model(tmp_path / "m.nncore")
    assert back.optimizer.iterations == model.optimizer.iterations
    assert_same_predictions(model, back)


# ---------------------------------------------------------------------- optimizer state
@pytest.mark.parametrize("make", [
    lambda O: O.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    lambda O: O.SGD(learning_rate=0.05),
    lambda O: O.Adam(learning_rate=0.01, amsgrad=True),
    lambda O: O.AdamW(learning_rate=0.01),
    lambda O: O.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
    lambda O: O.Adagrad(), lambda O: O.Adadelta(), lambda O: O.Adamax(),
], ids=["sgd-nesterov", "sgd", "adam-amsgrad", "adamw", "rmsprop", "adagrad", "adadelta",
        "adamax"])
def test_optimizer_state_resumes_through_keras_archive(tmp_path, make):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)

    def model():
        nncore.set_seed(0)
        m = nncore.Sequential([nncore.Input((4,)), L.Dense(5, activation="tanh"), L.Dense(2)])
        m.compile(optimizer=make(nncore.optimizers), loss="mse")
        return m

    a = model()
    for _ in range(3):
        a.train_on_batch(x, y)
    a.save(tmp_path / "a.keras")
    b = nncore.load_model(tmp_path / "a.keras")
    assert b.optimizer.iterations == 3
    for _ in range(2):
        a.train_on_batch(x, y)
        b.train_on_batch(x, y)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    # save_weights/load_weights with .weights.h5 carry the state too, as in Keras.
    a.save_weights(tmp_path / "a.weights.h5")
    c = model()
    c.load_weights(tmp_path / "a.weights.h5")
    assert c.optimizer.iterations == a.optimizer.iterations
    a.train_on_batch(x, y)
    c.train_on_batch(x, y)
    for u, v in zip(a.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_optimizer_state_of_another_optimizer_warns_and_starts_afresh(tmp_path):
    x = np.ones((4, 4), np.float32)
    y = np.ones((4, 2), np.float32)
    a = nncore.Sequential([nncore.Input((4,)), L.Dense(2)])
    a.compile(optimizer="adam", loss="mse")
    a.train_on_batch(x, y)
    a.save_weights(tmp_path / "a.weights.h5")
    b = nncore.Sequential([nncore.Input((4,)), L.Dense(2)])
    b.compile(optimizer="rmsprop", loss="mse")
    with pytest.warns(UserWarning, match="does not fit optimizer RMSprop"):
        b.load_weights(tmp_path / "a.weights.h5")
    assert b.optimizer.iterations == 0
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_safe_mode_false_still_runs_no_code(tmp_path):
    path = _archive(tmp_path, edit_config=lambda c: _lambda_layer(c, tmp_path))
    with pytest.raises(KerasConfigError, match="never executes code"):
        nncore.models.load_model(path, safe_mode=False)
    assert not (tmp_path / "ran").exists()
    model = merge_model()
    nncore.models.save_model(model, tmp_path / "m.keras")  # keras.models' spelling
    assert_same_predictions(model, nncore.models.load_model(tmp_path / "m.keras"))


def test_custom_layer_needs_custom_objects(tmp_path):
    from test_custom_layers import Linear

    x = nncore.Input((6,))
    model = randomize(nncore.Model(x, L.Dense(2)(Linear(4, activation="relu")(x))))
    model.save(tmp_path / "m.keras")
    entry = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))
    linear = [e for e in entry["config"]["layers"] if e["class_name"] == "Linear"][0]
    assert linear["module"] == Linear.__module__ and linear["registered_name"] == "Linear"
    with pytest.raises(KerasConfigError, match="custom_objects"):
        nncore.load_model(tmp_path / "m.keras")
    back = nncore.load_model(tmp_path / "m.keras", custom_objects={"Linear": Linear})
    assert_same_predictions(model, back)


def test_subclassed_model_is_refused_by_name(tmp_path):
    class Sub(nncore.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Sub(name="sub")
    model(np.ones((1, 3), np.float32))
    with pytest.raises(KerasExportError, match="'sub' \\(Sub\\) is subclassed"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    model.save_weights(tmp_path / "m.weights.h5")  # its weights still go to Keras' layout
