"""predict and predict_on_batch on plain arrays run the graph through an inference plan
(python/nncore/models/inference_plan.py): the layers' kernels called directly, with nothing kept
for backward. These tests hold the plan to the layers' own forward, bit for bit, and check that
the arrays it returns are the caller's."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import nncore
from nncore import Input, Model, Sequential, callbacks, layers

from _seeded import random_inputs


class _Idle(callbacks.Callback):
    """A callback that does nothing: predict takes its general path (adapter, iterator)."""


def _cnn(dtype):
    inp = Input(shape=(12, 10, 3), dtype=dtype)
    h = layers.Conv2D(4, 3, padding="same", activation="relu", dtype=dtype)(inp)
    h = layers.MaxPooling2D(2, dtype=dtype)(h)
    h = layers.Conv2D(6, (3, 2), strides=(1, 2), activation="tanh", dtype=dtype)(h)
    h = layers.MaxPooling2D(2, padding="same", dtype=dtype)(h)
    h = layers.Flatten(dtype=dtype)(h)
    h = layers.Dense(16, dtype=dtype)(h)
    return Model(inp, layers.Dense(5, activation="softmax", dtype=dtype)(h))


def _two_in_three_out(dtype):
    a, b = Input((6,), dtype=dtype), Input((4,), dtype=dtype)
    ha = layers.Dense(8, activation="relu", dtype=dtype)(a)
    hb = layers.Dense(8, activation="sigmoid", dtype=dtype)(b)
    s = layers.Add(dtype=dtype)([ha, hb])
    return Model([a, b], [layers.Dense(3, activation="softmax", dtype=dtype)(s), s,
                          layers.Dense(2, dtype=dtype)(ha)])


def _inputs(model, n, seed=0):
    return random_inputs(model, n, seed, model.dtype)


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _layer_forward(model, x, batch_size):
    """The outputs of the layers' own forward (graph.forward), batch by batch."""
    xs = x if isinstance(x, list) else [x]
    n = xs[0].shape[0]
    parts = [model._graph.forward([a[lo:lo + batch_size] for a in xs], False)
             for lo in range(0, n, batch_size)]
    return [np.concatenate(p) for p in zip(*parts)]


def _assert_same(got, want):
    got, want = _as_list(got), _as_list(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.array_equal(g, w), np.max(np.abs(g - w))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("build", [_cnn, _two_in_three_out])
@pytest.mark.parametrize("n", [1, 7, 64])
def test_predict_matches_the_layers_forward_bit_for_bit(build, dtype, n):
    nncore.set_seed(3)
    model = build(dtype)
    x = _inputs(model, n, seed=n)
    for batch_size in (None, 1, 7, 64):
        want = _layer_forward(model, x, batch_size or 32)
        # Twice: the first call of a shape builds its plan, the second runs it.
        for _ in range(2):
            _assert_same(model.predict(x, batch_size=batch_size, verbose=0), want)
        _assert_same(model.predict(x, batch_size=batch_size, verbose=0, callbacks=[_Idle()]), want)
    for _ in range(2):
        _assert_same(model.predict_on_batch(x), _layer_forward(model, x, n))
    assert model._graph.inference_plans, "predict did not go through an inference plan"


def test_a_returned_array_is_not_changed_by_later_calls():
    nncore.set_seed(0)
    model = _two_in_three_out("float32")
    first = _as_list(model.predict(_inputs(model, 1, seed=1), verbose=0))
    kept = [a.copy() for a in first]
    on_batch = _as_list(model.predict_on_batch(_inputs(model, 1, seed=1)))
    kept_on_batch = [a.copy() for a in on_batch]
    for seed in range(2, 6):
        model.predict(_inputs(model, 1, seed=seed), verbose=0)
        model.predict_on_batch(_inputs(model, 1, seed=seed))
    _assert_same(first, kept)
    _assert_same(on_batch, kept_on_batch)
    # Every output is an array of its own.
    arrays = first + on_batch
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.may_share_memory(a, b)


def test_outputs_never_alias_the_input_or_each_other():
    inp = Input((2, 3))
    flat = layers.Flatten()(inp)
    model = Model(inp, [flat, flat, inp])
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    for _ in range(2):
        for out in (model.predict(x, verbose=0), model.predict_on_batch(x)):
            assert not any(np.may_share_memory(o, x) for o in out)
            assert not np.may_share_memory(out[0], out[1])
            out[0][:] = -1
            assert np.array_equal(out[1], x.reshape(2, 6))
    assert np.array_equal(x, np.arange(12, dtype=np.float32).reshape(2, 2, 3))


def test_inputs_the_kernels_do_not_take_as_they_are():
    nncore.set_seed(1)
    model = _cnn("float32")
    x = np.random.default_rng(0).standard_normal((5, 12, 20, 3)).astype(np.float32)
    strided = x[:, :, ::2]                  # not contiguous
    fortran = np.asfortranarray(strided)
    as_f64 = strided.astype(np.float64)     # cast to the model's dtype per batch
    as_int = (strided * 10).astype(np.int16)
    want = _layer_forward(model, np.ascontiguousarray(strided), 32)
    for _ in range(2):
        _assert_same(model.predict(strided, verbose=0), want)
        _assert_same(model.predict(fortran, verbose=0), want)
        _assert_same(model.predict_on_batch(strided), want)
        _assert_same(model.predict(as_f64, verbose=0),
                     _layer_forward(model, as_f64.astype(np.float32), 32))
        _assert_same(model.predict(as_int, verbose=0),
                     _layer_forward(model, as_int.astype(np.float32), 32))


def test_the_plan_follows_the_weights_and_the_activation():
    nncore.set_seed(2)
    inp = Input((4,))
    dense = layers.Dense(3, activation="softmax")
    model = Model(inp, dense(layers.Dense(5, activation="relu")(inp)))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    model.predict(x, verbose=0)
    model.set_weights([w * 2 + 1 for w in model.get_weights()])
    _assert_same(model.predict(x, verbose=0), _layer_forward(model, x, 32))
    dense.activation = nncore.activations.get("tanh")
    _assert_same(model.predict(x, verbose=0), _layer_forward(model, x, 32))
    # Compiling packs the weights into one buffer (new arrays): the plan reads them there.
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((2, 3), np.float32), epochs=1, verbose=0)
    _assert_same(model.predict(x, verbose=0), _layer_forward(model, x, 32))


def test_a_subclass_keeps_its_own_forward():
    class Doubled(layers.Dense):
        def forward(self, x, training=False):
            return 2 * super().forward(x, training)

    inp = Input((3,))
    model = Model(inp, Doubled(2, kernel_initializer="ones")(inp))
    x = np.ones((1, 3), np.float32)
    for _ in range(2):
        assert np.array_equal(model.predict(x, verbose=0), np.full((1, 2), 6.0, np.float32))


def test_shapes_the_plan_was_not_made_for():
    # A layer of unknown input length: every batch length gets its own plan.
    nncore.set_seed(4)
    inp = Input((None, 3))
    model = Model(inp, layers.Dense(2)(inp))
    for length in (1, 4, 1, 9, 4):
        x = np.random.default_rng(length).standard_normal((2, length, 3)).astype(np.float32)
        _assert_same(model.predict(x, verbose=0), _layer_forward(model, x, 32))
        _assert_same(model.predict_on_batch(x), _layer_forward(model, x, 32))


def test_errors_and_the_general_path_are_unchanged():
    model = Sequential([layers.Dense(2)])
    with pytest.raises(ValueError):         # not built, no data to build from
        model.predict_on_batch(None)
    out = model.predict(np.ones((3, 4), np.float32), verbose=0)   # builds on first data
    assert out.shape == (3, 2)
    with pytest.raises(nncore.errors.ShapeError):
        model.predict(np.ones((3, 5), np.float32), verbose=0)
    with pytest.raises(nncore.errors.ShapeError):
        model.predict_on_batch(np.ones((3, 5), np.float32))
    with pytest.raises(TypeError):
        model.predict(np.array([["a"] * 4]), verbose=0)
    empty = model.predict(np.ones((0, 4), np.float32), verbose=0)
    assert empty.shape == (0, 2)


def test_a_copied_model_does_not_run_the_originals_plan():
    nncore.set_seed(5)
    inp = Input((4,))
    model = Model(inp, layers.Dense(3)(inp))
    x = np.ones((1, 4), np.float32)
    model.predict(x, verbose=0)
    clone = copy.deepcopy(model)
    clone.set_weights([np.zeros_like(w) for w in clone.get_weights()])
    assert np.array_equal(clone.predict(x, verbose=0), np.zeros((1, 3), np.float32))
    assert not np.array_equal(model.predict(x, verbose=0), np.zeros((1, 3), np.float32))


def test_a_layer_called_twice():
    nncore.set_seed(6)
    a, b = Input((5,)), Input((5,))
    shared = layers.Dense(4, activation="relu")
    model = Model([a, b], layers.Concatenate()([shared(a), shared(b)]))
    x = _inputs(model, 3)
    for _ in range(2):
        _assert_same(model.predict(x, verbose=0), _layer_forward(model, x, 32))
