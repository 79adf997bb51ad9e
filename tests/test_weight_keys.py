"""Weight files keyed by the model's structure (``layers/dense/vars/0``), as Keras 3 keys them:
two builds of one architecture read each other's files whatever their auto-generated layer
names; files keyed by name (written before) still load; a file of another architecture is
refused naming the layer and weight."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import nncore
from nncore import callbacks
from nncore import layers as L

FORMATS = ["w.weights.npz", "w.safetensors"]


def _need(name):
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors")


def sequential(units=5):
    return nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(units, activation="relu"),
                              L.BatchNormalization(), L.Dense(2)])


def functional():
    inp = nncore.Input(shape=(6, 6, 2))
    h = L.Conv2D(3, 3, padding="same")(inp)
    a = L.Dense(4)(L.Flatten()(h))
    b = L.Dense(4)(L.Flatten()(L.MaxPooling2D()(h)))
    return nncore.Model(inp, L.Dense(1)(L.Add()([a, b])))


def nested():
    inp = nncore.Input(shape=(4,))
    block = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(3), L.Dense(4)])
    inner_in = nncore.Input(shape=(4,))
    branch = nncore.Model(inner_in, L.Dense(2)(inner_in))
    h = L.Dense(4)(inp)
    return nncore.Model(inp, L.Concatenate()([branch(block(h)), L.Dense(1)(h)]))


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape).astype(w.dtype) for w in model.get_weights()])


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


def keys_of(path):
    if str(path).endswith(".safetensors"):
        import safetensors.numpy

        return sorted(safetensors.numpy.load_file(str(path)))
    with np.load(path, allow_pickle=False) as f:
        return sorted(f.files)


def _npy(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


# ---------------------------------------------------------------------- same architecture
@pytest.mark.parametrize("name", FORMATS)
def test_two_unnamed_sequential_models_in_one_process_round_trip(tmp_path, name):
    _need(name)
    a, b = sequential(), sequential()
    assert a.layers[0].name != b.layers[0].name  # auto names differ: dense_7 vs dense_9
    randomize(a, 0)
    a.save_weights(tmp_path / name)
    assert keys_of(tmp_path / name) == [
        "layers/batch_normalization/vars/0", "layers/batch_normalization/vars/1",
        "layers/batch_normalization/vars/2", "layers/batch_normalization/vars/3",
        "layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0",
        "layers/dense_1/vars/1"]
    b.load_weights(tmp_path / name)
    assert_same_weights(a, b)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


@pytest.mark.parametrize("name", FORMATS)
def test_two_unnamed_functional_models_in_one_process_round_trip(tmp_path, name):
    _need(name)
    a, b = functional(), functional()
    randomize(a, 2)
    a.save_weights(tmp_path / name)
    assert keys_of(tmp_path / name) == [
        "layers/conv2d/vars/0", "layers/conv2d/vars/1", "layers/dense/vars/0",
        "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1",
        "layers/dense_2/vars/0", "layers/dense_2/vars/1"]
    b.load_weights(tmp_path / name)
    assert_same_weights(a, b)


@pytest.mark.parametrize("name", FORMATS)
def test_nested_models_are_keyed_under_their_own_layers(tmp_path, name):
    _need(name)
    a, b = nested(), nested()
    randomize(a, 3)
    a.save_weights(tmp_path / name)
    assert keys_of(tmp_path / name) == [
        "layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0",
        "layers/dense_1/vars/1", "layers/functional/layers/dense/vars/0",
        "layers/functional/layers/dense/vars/1", "layers/sequential/layers/dense/vars/0",
        "layers/sequential/layers/dense/vars/1", "layers/sequential/layers/dense_1/vars/0",
        "layers/sequential/layers/dense_1/vars/1"]
    b.load_weights(tmp_path / name)
    assert_same_weights(a, b)


def test_whole_model_archive_uses_the_same_keys(tmp_path):
    a = nested()
    randomize(a, 4)
    a.save(tmp_path / "m.nncore")
    with zipfile.ZipFile(tmp_path / "m.nncore") as zf:
        names = [n for n in zf.namelist() if n.startswith("weights/")]
    assert "weights/layers/sequential/layers/dense_1/vars/0.npy" in names
    assert_same_weights(a, nncore.load_model(tmp_path / "m.nncore"))


def test_file_written_in_another_process_loads(tmp_path):
    path = tmp_path / "w.weights.npz"
    code = textwrap.dedent(f"""
        import numpy as np
        import nncore
        from nncore import layers as L
        nncore.set_seed(5)
        m = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(5, activation="relu"),
                               L.BatchNormalization(), L.Dense(2)])
        m.save_weights({str(path)!r})
        np.save({str(tmp_path / 'ref.npy')!r}, np.concatenate([w.ravel() for w in m.get_weights()]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for _ in range(3):  # move this process's name counters on: dense_12 ... are not 'dense'
        L.Dense(1)
    model = sequential()
    model.load_weights(path)
    np.testing.assert_array_equal(np.concatenate([w.ravel() for w in model.get_weights()]),
                                  np.load(tmp_path / "ref.npy"))


def test_keys_do_not_depend_on_the_trainable_flag(tmp_path):
    a, b = sequential(), sequential()
    randomize(a, 6)
    a.layers[1].trainable = False  # frozen BatchNormalization: all four weights non-trainable
    a.save_weights(tmp_path / "w.weights.npz")
    b.load_weights(tmp_path / "w.weights.npz")
    assert_same_weights(a, b)
    # Keras' order within a layer: trainable weights (gamma, beta) before the moving statistics.
    with np.load(tmp_path / "w.weights.npz") as f:
        np.testing.assert_array_equal(f["layers/batch_normalization/vars/2"],
                                      a.layers[1].moving_mean.value)


def test_shared_layer_is_stored_once(tmp_path):
    def build():
        inp = nncore.Input(shape=(3,))
        shared = L.Dense(3)
        return nncore.Model(inp, shared(shared(inp)))

    a, b = build(), build()
    randomize(a, 7)
    a.save_weights(tmp_path / "w.weights.npz")
    assert keys_of(tmp_path / "w.weights.npz") == ["layers/dense/vars/0", "layers/dense/vars/1"]
    b.load_weights(tmp_path / "w.weights.npz")
    assert_same_weights(a, b)


# ---------------------------------------------------------------------- other architectures
@pytest.mark.parametrize("name", FORMATS)
def test_file_of_another_architecture_is_refused_naming_layer_and_weight(tmp_path, name):
    _need(name)
    path = tmp_path / name
    functional().save_weights(path)
    target = sequential()
    before = target.get_weights()
    # The file's own names for its extra weights are given where the format records them.
    named = "" if name.endswith(".npz") else r" \('conv2d(_\d+)?/kernel'\)"
    with pytest.raises(ValueError, match=r"another architecture \(missing from the file: "
                                         r"layers/batch_normalization/vars/0 \('batch_normalization"
                                         r"(_\d+)?/gamma'\).*in the file but not in the model: "
                                         rf"layers/conv2d/vars/0{named}, layers/conv2d/vars/1"):
        target.load_weights(path)
    for x, y in zip(before, target.get_weights()):
        np.testing.assert_array_equal(x, y)
    # Same layers, one wider: the shape error names the model's weight, its key and its layer.
    sequential(units=5).save_weights(path)
    narrow = sequential(units=3)
    first = narrow.layers[0].name
    with pytest.raises(nncore.ShapeError, match=rf"'{first}/kernel' \(layers/dense/vars/0, layer "
                                                rf"'{first}'\) has shape \(4, 5\) in the file but "
                                                r"\(4, 3\) in the model"):
        narrow.load_weights(path)


def test_dtype_mismatch_names_layer_and_weight(tmp_path):
    sequential().save_weights(tmp_path / "w.weights.npz")
    model = nncore.Sequential([nncore.Input(shape=(4,), dtype="float64"),
                               L.Dense(5, dtype="float64", name="wide"),
                               L.BatchNormalization(dtype="float64"), L.Dense(2, dtype="float64")])
    with pytest.raises(nncore.DTypeError, match=r"'wide/kernel' \(layers/dense/vars/0, layer 'wide'\) "
                                                r"is stored as float32 but the model's weight is float64"):
        model.load_weights(tmp_path / "w.weights.npz")


# ---------------------------------------------------------------------- older files
def _name_keyed(model):
    return {v.name: v.numpy() for v in model.weights}


def test_name_keyed_npz_file_still_loads(tmp_path):
    model = sequential()
    randomize(model, 8)
    with zipfile.ZipFile(tmp_path / "old.weights.npz", "w") as zf:
        for name, arr in _name_keyed(model).items():
            zf.writestr(f"{name}.npy", _npy(arr))
    # The same model (its names match the file) reads it; a name missing is reported by name.
    target = nncore.Sequential.from_config(model.get_config())
    target.load_weights(tmp_path / "old.weights.npz")
    assert_same_weights(model, target)
    with pytest.raises(ValueError, match=r"missing from the file: dense_\d+/kernel"):
        sequential().load_weights(tmp_path / "old.weights.npz")


def test_name_keyed_safetensors_file_still_loads(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = sequential()
    randomize(model, 9)
    st.save_file(_name_keyed(model), str(tmp_path / "old.safetensors"))
    target = nncore.Sequential.from_config(model.get_config())
    target.load_weights(tmp_path / "old.safetensors")
    assert_same_weights(model, target)


def test_version_1_archive_keyed_by_name_still_loads(tmp_path):
    model = sequential()
    randomize(model, 10)
    model.save(tmp_path / "new.nncore")
    with zipfile.ZipFile(tmp_path / "new.nncore") as zin, \
            zipfile.ZipFile(tmp_path / "old.nncore", "w") as zout:
        header = json.loads(zin.read("config.json"))
        header["format_version"] = 1
        header["weights"] = [{"name": e["name"], "shape": e["shape"], "dtype": e["dtype"]}
                             for e in header["weights"]]
        zout.writestr("config.json", json.dumps(header))
        for name, arr in _name_keyed(model).items():
            zout.writestr(f"weights/{name}.npy", _npy(arr))
    assert_same_weights(model, nncore.load_model(tmp_path / "old.nncore"))


# ---------------------------------------------------------------------- checkpoints
def test_weights_checkpoint_loads_into_a_freshly_built_model(tmp_path):
    nncore.set_seed(11)
    model = sequential()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    path = tmp_path / "ckpt.weights.npz"
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True, monitor="loss")])
    fresh = sequential()
    fresh.load_weights(path)
    assert_same_weights(model, fresh)
    np.testing.assert_array_equal(model.predict(x, verbose=0), fresh.predict(x, verbose=0))


# ---------------------------------------------------------------------- ported Keras cases
def basic_functional():
    inputs = nncore.Input(shape=(4,), batch_size=2)
    x = L.Dense(1, name="first_dense")(inputs)
    return nncore.Model(inputs, L.Dense(1, name="second_dense")(x))


class SubclassFunctional(nncore.Model):
    """A subclassed functional model identical to basic_functional()."""

    def __init__(self, **kwargs):
        inputs = nncore.Input(shape=(4,), batch_size=2)
        dense = L.Dense(1, name="first_dense")
        outputs = L.Dense(1, name="second_dense")(dense(inputs))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # An attribute naming a layer of the graph must not change the keys.
        self.layer_attr = dense


# keras/src/saving/saving_lib_test.py::SavingTest::test_save_load_weights_only
def test_save_load_weights_only(tmp_path):
    path = tmp_path / "mymodel.weights.npz"
    model = basic_functional()
    ref_input = np.random.random((2, 4))
    ref_output = model.predict(ref_input, verbose=0)
    model.save_weights(path)
    model = basic_functional()
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(ref_input, verbose=0), ref_output, atol=1e-6)


# keras/src/saving/saving_lib_test.py::SavingTest::test_load_weights_only_with_keras_file
@pytest.mark.parametrize("name", ["mymodel.keras", "mymodel.nncore"])
def test_load_weights_only_with_keras_file(tmp_path, name):
    path = tmp_path / name
    model = basic_functional()
    ref_input = np.random.random((2, 4))
    ref_output = model.predict(ref_input, verbose=0)
    model.save(path)
    model = basic_functional()
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(ref_input, verbose=0), ref_output, atol=1e-6)


def test_load_weights_of_an_archive_refuses_another_architecture(tmp_path):
    functional().save(tmp_path / "m.nncore")
    with pytest.raises(ValueError, match=r"m\.nncore: the weights do not match model .*another "
                                         r"architecture.*in the file but not in the model: "
                                         r"layers/conv2d/vars/0 \('conv2d(_\d+)?/kernel'\)"):
        sequential().load_weights(tmp_path / "m.nncore")
    (tmp_path / "fake.nncore").write_bytes(b"not a zip")
    with pytest.raises(nncore.saving.FormatError, match=r"fake\.nncore"):
        sequential().load_weights(tmp_path / "fake.nncore")


# keras/src/saving/saving_lib_test.py::SavingTest::test_save_weights_subclassed_functional
def test_save_weights_subclassed_functional(tmp_path):
    path = tmp_path / "mymodel.weights.npz"
    model = basic_functional()
    ref_input = np.random.random((2, 4))
    ref_output = model.predict(ref_input, verbose=0)
    model.save_weights(path)  # saving basic, loading subclassed
    model = SubclassFunctional()
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(ref_input, verbose=0), ref_output, atol=1e-6)
    model.save_weights(path)  # saving subclassed, loading basic
    model = basic_functional()
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(ref_input, verbose=0), ref_output, atol=1e-6)


# keras/src/saving/saving_lib_test.py::SavingTest::test_load_weights_only_with_unbuilt_model
# (nncore's unbuilt model is a Sequential without an input shape)
def test_load_weights_only_with_unbuilt_model(tmp_path):
    path = tmp_path / "mymodel.weights.npz"
    model = nncore.Sequential([L.Dense(3), L.Dense(2)])
    model.predict(np.random.random((5, 4)), verbose=0)  # builds it
    model.save_weights(path)
    model.load_weights(path)
    with pytest.raises(ValueError, match="is not built yet"):
        nncore.Sequential([L.Dense(3), L.Dense(2)]).load_weights(path)
    with pytest.raises(ValueError, match="is not built yet"):
        nncore.Sequential([L.Dense(3), L.Dense(2)]).save_weights(path)


def _inference_after_instantiation(model, tmp_path):
    x_ref = np.random.random((2, 4))
    y_ref = model.predict(x_ref, verbose=0)
    model.save(tmp_path / "my_model.nncore")
    loaded = nncore.load_model(tmp_path / "my_model.nncore")
    assert not model.compiled
    for w_ref, w in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(w, w_ref)
    np.testing.assert_allclose(loaded.predict(x_ref, verbose=0), y_ref)


# keras/src/saving/saving_lib_test.py::SavingTest::test_load_model_containing_reused_layer
def test_load_model_containing_reused_layer(tmp_path):
    inputs = nncore.Input((4,))
    reused_layer = L.Dense(4)
    x = L.Dense(4)(reused_layer(inputs))
    model = nncore.Model(inputs, reused_layer(x))
    assert len(model.layers) == 3  # Input + 2 Dense layers
    _inference_after_instantiation(model, tmp_path)


def _func(in_size=4, out_size=2, name=None):
    inputs = nncore.Input(shape=(in_size,))
    return nncore.Model(inputs, L.Dense(out_size)(inputs), name=name)


# keras/src/saving/saving_lib_test.py::SavingTest::test_nested_functional_model_saving
def test_nested_functional_model_saving(tmp_path):
    input_a, input_b = nncore.Input((4,)), nncore.Input((4,))
    out_a = _func(out_size=2, name="func_a")(input_a)
    out_b = _func(out_size=3, name="func_b")(input_b)
    model = nncore.Model([input_a, input_b], [out_a, out_b])
    model.save(tmp_path / "nested_func.nncore")
    new_model = nncore.load_model(tmp_path / "nested_func.nncore")
    x = [np.random.random((2, 4)), np.random.random((2, 4))]
    ref_out, out = model.predict(x, verbose=0), new_model.predict(x, verbose=0)
    np.testing.assert_allclose(ref_out[0], out[0])
    np.testing.assert_allclose(ref_out[1], out[1])
    # The two inner models hold a layer named 'dense' each: keys keep them apart.
    model.save_weights(tmp_path / "w.weights.npz")
    assert "layers/functional_1/layers/dense/vars/0" in keys_of(tmp_path / "w.weights.npz")


# keras/src/saving/saving_lib_test.py::SavingTest::test_nested_shared_functional_model_saving
def test_nested_shared_functional_model_saving(tmp_path):
    inputs = [nncore.Input((4,)), nncore.Input((4,))]
    func_shared = _func(out_size=4, name="func_shared")
    out_a = L.Dense(2)(func_shared(inputs[0]))
    out_b = L.Dense(2)(func_shared(inputs[1]))
    model = nncore.Model(inputs, [out_a, out_b])
    model.save(tmp_path / "nested_shared_func.nncore")
    new_model = nncore.load_model(tmp_path / "nested_shared_func.nncore")
    x = [np.random.random((2, 4)), np.random.random((2, 4))]
    ref_out, out = model.predict(x, verbose=0), new_model.predict(x, verbose=0)
    np.testing.assert_allclose(ref_out[0], out[0])
    np.testing.assert_allclose(ref_out[1], out[1])


@pytest.mark.parametrize("names", ["{not json", "[1, 2]", '{"layers/conv2d/vars/0": 7}', "x" * 5000])
def test_malformed_recorded_names_only_drop_the_names_from_messages(tmp_path, names):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {"layers/conv2d/vars/0": np.zeros((3, 3, 2, 3), np.float32)}
    st.save_file(arrays, str(tmp_path / "w.safetensors"), metadata={"weight_names": names})
    with pytest.raises(ValueError, match=r"in the file but not in the model: layers/conv2d/vars/0\)"):
        sequential().load_weights(tmp_path / "w.safetensors")


def test_long_mismatch_lists_are_cut_short(tmp_path):
    wide = nncore.Sequential([nncore.Input(shape=(2,))] + [L.Dense(2) for _ in range(12)])
    wide.save_weights(tmp_path / "w.weights.npz")
    narrow = nncore.Sequential([nncore.Input(shape=(2,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"in the file but not in the model: layers/dense_1/vars/0, "
                                         r"layers/dense_1/vars/1, layers/dense_2/vars/0, "
                                         r"(layers/dense_\d+/vars/\d, ){6}layers/dense_5/vars/1 "
                                         r"and 12 more\)$"):
        narrow.load_weights(tmp_path / "w.weights.npz")
