"""A functional model lists its layers in Keras 3's order (decreasing depth from the outputs, then
the order the walk from the outputs first reached them), which is also the order weight files key
them by: branching models exchange weights with Keras only in that order."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nncore
from nncore import layers as L


def _branching(models, layers):
    """Two paths of different lengths into an Add, a layer shared by two calls, two outputs."""
    x = models.Input((8,), name="x")
    a = layers.Dense(4, name="main1")(x)
    a = layers.Dense(4, name="main2")(a)
    a = layers.Dense(4, name="main3")(a)
    s = layers.Dense(4, name="short1")(x)
    s = layers.Dense(4, name="short2")(s)
    added = layers.Add(name="add")([s, a])
    shared = layers.Dense(4, name="shared")
    both = layers.Concatenate(name="cat")([shared(added), shared(a)])
    side = layers.Dense(2, name="side")(s)
    return models.Model(x, [both, side])


# keras.Model(...).layers for the same graph (Keras 3.15.1)
KERAS_ORDER = ["x", "main1", "short1", "main2", "short2", "main3", "add", "shared", "cat", "side"]


def test_layers_are_listed_in_keras_order():
    model = _branching(nncore, L)
    assert [layer.name for layer in model.layers] == KERAS_ORDER
    # Execution is unaffected: the same numbers as composing the layers by hand.
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    both, side = model.predict(x, verbose=0)
    get = model.get_layer
    a = get("main3")(get("main2")(get("main1")(x)))
    s = get("short2")(get("short1")(x))
    want = np.concatenate([get("shared")(a + s), get("shared")(a)], axis=-1)
    np.testing.assert_allclose(both, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(side, get("side")(s), rtol=1e-5, atol=1e-6)


def test_config_round_trip_keeps_the_order():
    model = _branching(nncore, L)
    back = nncore.Model.from_config(model.get_config())
    assert [layer.name for layer in back.layers] == KERAS_ORDER


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_weights_of_a_branching_model_load(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 is not installed")
    pytest.importorskip("h5py", reason="reading .weights.h5 needs h5py")
    if keras.backend.backend() != "torch":
        pytest.skip("compared with Keras' torch backend only")
    theirs = _branching(keras, keras.layers)
    # Keras' own order for this graph, pinned above
    assert [layer.name for layer in theirs.layers] == KERAS_ORDER
    theirs.save_weights(tmp_path / "b.weights.h5")
    ours = _branching(nncore, L)
    ours.load_weights(tmp_path / "b.weights.h5")
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    for got, want in zip(ours.predict(x, verbose=0), theirs(x)):
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(want), rtol=1e-5, atol=1e-6)


def _legacy_npz(model, path):
    """A weights file as nncore wrote them before it took Keras' order: keys numbered by the
    layers' first calls, no key-order marker."""
    from nncore.saving.weight_keys import structural_slots

    np.savez(path, **{k: s.variable.value for k, s in structural_slots(model, call_order=True).items()})


def test_files_from_before_keras_order_still_load_right(tmp_path):
    from nncore.saving.weight_keys import structural_slots

    model = _branching(nncore, L)
    rng = np.random.default_rng(1)
    for w in model.weights:
        w.assign(rng.standard_normal(w.shape).astype(w.dtype))
    new, old = structural_slots(model), structural_slots(model, call_order=True)
    # The two orders give the same keys to different layers here (same shapes: a mixed-up
    # load would go unnoticed), so the file must be read in the order it was written in.
    assert set(new) == set(old)
    assert any(new[k].variable is not old[k].variable for k in new)
    _legacy_npz(model, tmp_path / "old.weights.npz")
    fresh = _branching(nncore, L)
    fresh.load_weights(tmp_path / "old.weights.npz")
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Files written now carry the marker and are read in Keras' order.
    model.save_weights(tmp_path / "new.weights.npz")
    again = _branching(nncore, L)
    again.load_weights(tmp_path / "new.weights.npz")
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_version_2_archives_are_read_in_call_order(tmp_path):
    import json
    import zipfile

    from nncore.saving.weight_keys import structural_slots

    model = _branching(nncore, L)
    rng = np.random.default_rng(2)
    for w in model.weights:
        w.assign(rng.standard_normal(w.shape).astype(w.dtype))
    model.save(tmp_path / "m.nncore")
    with zipfile.ZipFile(tmp_path / "m.nncore") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(members["config.json"])
    header["format_version"] = 2
    del header["key_order"]
    new, old = structural_slots(model), structural_slots(model, call_order=True)
    by_var = {id(s.variable): k for k, s in new.items()}
    renamed = {}
    for name, data in members.items():
        if name.startswith("weights/"):
            continue
        renamed[name] = data
    for key, slot in old.items():  # each weight under the key the older order gave it
        renamed[f"weights/{key}.npy"] = members[f"weights/{by_var[id(slot.variable)]}.npy"]
    for entry in header["weights"]:
        var = new[entry["key"]].variable
        entry["key"] = next(k for k, s in old.items() if s.variable is var)
    renamed["config.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(tmp_path / "v2.nncore", "w") as zf:
        for name, data in renamed.items():
            zf.writestr(name, data)
    back = nncore.load_model(tmp_path / "v2.nncore")
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
