"""Files written by Keras 3 itself (tests/fixtures/keras, made by tools/make_keras_fixtures.py
with Keras 3.15 on its PyTorch backend) read into nncore: the ``.keras`` archives rebuild the
architecture and compile settings, the ``.weights.h5`` files load into nncore models of the same
architecture, and both predict what Keras predicted, to 1e-5, at batch sizes 1, 7 and 64.

The other direction (nncore writes ``.keras``, Keras reads it) runs where Keras is installed."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("h5py")

import nncore  # noqa: E402
from nncore import layers as L  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "keras"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
NAMES = sorted(MANIFEST["models"])
BATCHES = (1, 7, 64)


def expected(name):
    with np.load(FIXTURES / f"{name}.expected.npz", allow_pickle=False) as data:
        spec = MANIFEST["models"][name]
        return [data[k] for k in spec["inputs"]], [data[k] for k in spec["outputs"]]


def check_predictions(model, name):
    xs, ys = expected(name)
    for n in BATCHES:
        x = [a[:n] for a in xs]
        got = model.predict(x if len(x) > 1 else x[0], verbose=0)
        got = list(got) if isinstance(got, (list, tuple)) else [got]
        assert len(got) == len(ys)
        for g, y in zip(got, ys):
            assert g.shape == y[:n].shape and g.dtype == np.float32
            np.testing.assert_allclose(g, y[:n], rtol=0, atol=1e-5)


def test_fixtures_are_the_files_the_manifest_describes():
    for file, digest in MANIFEST["sha256"].items():
        if file.endswith(".keras"):
            continue  # Keras stamps the save time into the archive
        assert hashlib.sha256((FIXTURES / file).read_bytes()).hexdigest() == digest, file


@pytest.mark.parametrize("name", NAMES)
def test_keras_archive_loads_and_predicts_as_keras(name):
    model = nncore.load_model(FIXTURES / f"{name}.keras")
    layers = [f"{type(layer).__name__}:{layer.name}" for layer in model.layers]
    assert [entry for entry in MANIFEST["models"][name]["layers"] if "InputLayer" not in entry] \
        == [entry for entry in layers if "InputLayer" not in entry]
    check_predictions(model, name)


@pytest.mark.parametrize("name", NAMES)
def test_weights_h5_loads_into_same_architecture(name):
    template = nncore.load_model(FIXTURES / f"{name}.keras", compile=False)
    model = nncore.Model.from_config(template.get_config()) \
        if type(template) is nncore.Model else nncore.Sequential.from_config(template.get_config())
    model.load_weights(FIXTURES / f"{name}.weights.h5")
    check_predictions(model, name)


def test_seed_cnn_weights_into_a_hand_built_model():
    model = nncore.Sequential([
        nncore.Input((32, 32, 3)),
        L.Conv2D(8, (3, 3), padding="same"), L.MaxPooling2D((2, 2)),
        L.Conv2D(16, (3, 3), padding="same"), L.MaxPooling2D((2, 2)),
        L.Flatten(), L.Dense(4), L.Dense(10, activation="softmax")])
    model.load_weights(FIXTURES / "seed_cnn.weights.h5")
    check_predictions(model, "seed_cnn")


def test_compile_settings_come_across():
    seed = nncore.load_model(FIXTURES / "seed_cnn.keras")
    assert type(seed.optimizer).__name__ == "Adam"
    mlp = nncore.load_model(FIXTURES / "mlp_l2.keras")
    opt = mlp.optimizer
    assert type(opt).__name__ == "SGD" and opt.momentum == 0.9 and opt.nesterov
    assert float(opt.learning_rate) == pytest.approx(0.05)
    dense = mlp.layers[0]
    assert type(dense.kernel.regularizer).__name__ == "L2"
    assert dense.kernel.regularizer.get_config() == pytest.approx({"l2": 1e-3})
    assert type(dense.bias.regularizer).__name__ == "L1L2"
    res = nncore.load_model(FIXTURES / "residual.keras")
    assert res.compiled and len(res.outputs) == 2
    # The loaded models train: a step of each moves its loss.
    xs, _ = expected("mlp_l2")
    y = np.arange(len(xs[0])) % 5
    before = mlp.evaluate(xs[0], y, verbose=0)
    mlp.fit(xs[0], y, epochs=3, verbose=0)
    assert mlp.evaluate(xs[0], y, verbose=0)[0] < before[0]


def _keras_available():
    return importlib.util.find_spec("keras") is not None and \
        importlib.util.find_spec("torch") is not None


@pytest.mark.skipif(not _keras_available(),
                    reason="Keras 3 and PyTorch are not installed: the nncore -> .keras -> "
                           "Keras round trip is not checked here")
def test_keras_reads_what_nncore_writes(tmp_path):
    """nncore writes .keras archives of the fixtures' models and of models with every layer
    type Keras shares; Keras 3 loads them (safe_mode) and predicts what nncore predicts."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_keras_format import conv_zoo, merge_model

    models = {name: nncore.load_model(FIXTURES / f"{name}.keras") for name in NAMES}
    models["zoo"] = conv_zoo()
    models["zoo64"] = conv_zoo("float64")
    models["merges"] = merge_model()
    models["merges"].compile(optimizer="rmsprop", loss=["categorical_crossentropy", "mse"])
    rng = np.random.default_rng(0)
    for name, model in models.items():
        model.save(tmp_path / f"{name}.keras")
        xs = [rng.standard_normal((64, *t.shape[1:])).astype(t.dtype) for t in model.inputs]
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
        arrays = {("x" if len(xs) == 1 else f"x{i}"): x for i, x in enumerate(xs)}
        arrays.update({("y" if len(ys) == 1 else f"y{i}"): y for i, y in enumerate(ys)})
        np.savez(tmp_path / f"{name}.expected.npz", **arrays)
    env = dict(os.environ, KERAS_BACKEND="torch")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "make_keras_fixtures.py"),
                          "--check-roundtrip", str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in models:
        assert name in run.stdout


@pytest.mark.skipif(not _keras_available(),
                    reason="Keras 3 and PyTorch are not installed: Keras-made models of every "
                           "shared layer type are not checked here (the fixtures are)")
def test_every_shared_layer_type_from_keras(tmp_path):
    """tools/keras_layer_zoo.py makes Keras models with every layer type nncore shares with
    Keras (float32 and float64, a Sequential without InputLayer, a compiled model with a
    learning-rate schedule); nncore loads each and predicts what Keras predicted."""
    env = dict(os.environ, KERAS_BACKEND="torch")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "keras_layer_zoo.py"),
                          str(tmp_path)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    names = run.stdout.split()
    assert len(names) == 5
    for name in names:
        model = nncore.load_model(tmp_path / f"{name}.keras")
        with np.load(tmp_path / f"{name}.expected.npz", allow_pickle=False) as data:
            xs = [data[k] for k in sorted(data) if k.startswith("x")]
            ys = [data[k] for k in sorted(data) if k.startswith("y")]
        for n in BATCHES:
            got = model.predict([x[:n] for x in xs] if len(xs) > 1 else xs[0][:n], verbose=0)
            got = list(got) if isinstance(got, (list, tuple)) else [got]
            for g, y in zip(got, ys):
                assert g.dtype == y.dtype, name
                np.testing.assert_allclose(g, y[:n], rtol=0, atol=1e-5, err_msg=name)
    compiled = nncore.load_model(tmp_path / "no_input_layer.keras")
    schedule = compiled.optimizer._learning_rate  # .learning_rate is its current value, as Keras
    assert type(schedule).__name__ == "ExponentialDecay" and compiled.optimizer.clipnorm == 1.0
    assert schedule.get_config()["decay_steps"] == 100


OPTIMIZERS = {
    "sgd": lambda O: O.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "adam": lambda O: O.Adam(learning_rate=0.01, amsgrad=True),
    "adamw": lambda O: O.AdamW(learning_rate=0.01, weight_decay=0.01),
    "rmsprop": lambda O: O.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
    "adagrad": lambda O: O.Adagrad(learning_rate=0.1),
    "adadelta": lambda O: O.Adadelta(learning_rate=1.0),
    "adamax": lambda O: O.Adamax(learning_rate=0.01),
}


def _small_model(name):
    nncore.set_seed(0)
    model = nncore.Sequential([nncore.Input((6,)), L.Dense(8, activation="tanh"),
                               L.BatchNormalization(), L.Dense(3)])
    model.compile(optimizer=OPTIMIZERS[name](nncore.optimizers), loss="mse")
    return model


@pytest.mark.skipif(not _keras_available(),
                    reason="Keras 3 and PyTorch are not installed: optimizer state crossing "
                           "between nncore and Keras is not checked here")
def test_optimizer_state_crosses_over(tmp_path):
    """Training resumes across the libraries: nncore trains, saves .keras, and Keras' next step
    equals nncore's next step; Keras trains, saves, and nncore's next step equals Keras'."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.standard_normal((32, 3)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    ours = {}
    for name in OPTIMIZERS:
        model = _small_model(name)
        for _ in range(3):
            model.train_on_batch(x, y)
        model.save(tmp_path / f"a_{name}.keras")
        model.train_on_batch(x, y)
        ours[name] = model.get_weights()
        _small_model(name).save(tmp_path / f"b_{name}.keras")
    env = dict(os.environ, KERAS_BACKEND="torch")
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "keras_jobs" / "optimizer_resume.py"),
                          str(tmp_path)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Skipping variable loading" not in run.stderr
    for name in OPTIMIZERS:
        with np.load(tmp_path / f"a_{name}.after.npz") as keras_after:
            for i, w in enumerate(ours[name]):
                np.testing.assert_allclose(keras_after[str(i)], w, rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name}: nncore -> Keras, weight {i}")
        model = nncore.load_model(tmp_path / f"b_{name}.trained.keras")
        assert model.optimizer.iterations == 3
        model.train_on_batch(x, y)
        with np.load(tmp_path / f"b_{name}.after.npz") as keras_after:
            for i, w in enumerate(model.get_weights()):
                np.testing.assert_allclose(w, keras_after[str(i)], rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name}: Keras -> nncore, weight {i}")
