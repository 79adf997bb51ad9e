"""Numerics under stress: TerminateOnNaN names the batch, softmax-family ops and the fused
losses stay exact at logits of ±1e4, and float32 gradients of a small model stay within a
stated bound of the float64 ones."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nncore
from nncore import callbacks as C
from nncore import layers as L
from nncore import ops


# ---------------------------------------------------------------------- TerminateOnNaN
def _nan_at(batch_index, batch_size=4, n=24):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = rng.standard_normal((n, 1)).astype(np.float32)
    y[batch_index * batch_size] = np.nan  # poisons exactly that batch (no shuffling)
    nncore.set_seed(0)
    model = nncore.Sequential([nncore.Input(shape=(3,)), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model, x, y


@pytest.mark.parametrize("bad", [0, 3, 5])
def test_terminate_on_nan_message_names_the_batch(capsys, bad):
    model, x, y = _nan_at(bad)
    cb = C.TerminateOnNaN()
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, callbacks=[cb], verbose=0)
    out = capsys.readouterr().out
    assert re.search(rf"Epoch 1, batch {bad + 1}\b.*invalid loss \(nan\)", out), out
    assert (cb.stopped_epoch, cb.stopped_batch) == (0, bad)
    assert len(history.epoch) == 1  # it stopped in the first epoch

    model, x, y = _nan_at(bad)
    with pytest.raises(RuntimeError, match=rf"epoch 1, batch {bad + 1}\b"):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False,
                  callbacks=[C.TerminateOnNaN(raise_error=True)], verbose=0)


# ---------------------------------------------------------------------- ±1e4 logits
def _extreme_logits(dtype):
    rows = [
        [1e4, -1e4, 0.0, 1e4 - 1.0],
        [-1e4, -1e4, -1e4, -1e4 + 2.0],
        [1e4, 1e4, 1e4, 1e4],
        [-1e4, 1e4, -1e4, -1e4],
        [0.5, -0.25, 1e4, -1e4],
    ]
    return np.array(rows, dtype=dtype)


def _ref_log_softmax(x):
    x = x.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_at_plus_minus_1e4(dtype):
    x = _extreme_logits(dtype)
    ref_log = _ref_log_softmax(x)
    p = ops.softmax(x)
    lp = ops.log_softmax(x)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(p, np.exp(ref_log), rtol=0, atol=tol)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=4 * tol)
    # log-softmax of -2e4 is -2e4 (not -inf): compared relative to the magnitude.
    np.testing.assert_allclose(lp, ref_log, rtol=tol, atol=tol)
    g = np.ones_like(x)
    assert np.all(np.isfinite(ops.softmax_backward(g, p)))
    assert np.all(np.isfinite(ops.log_softmax_backward(g, lp)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cross_entropies_at_plus_minus_1e4(dtype):
    x = _extreme_logits(dtype)
    rows, classes = x.shape
    ref_log = _ref_log_softmax(x)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for target in range(classes):
        onehot = np.zeros_like(x)
        onehot[:, target] = 1
        loss, probs, grad = ops.softmax_cross_entropy(x, onehot)
        ref = -ref_log[:, target].mean()
        assert np.isfinite(loss)
        np.testing.assert_allclose(loss, ref, rtol=tol)
        np.testing.assert_allclose(grad, (np.exp(ref_log) - onehot) / rows, atol=tol)
        sloss, _, sgrad = ops.sparse_softmax_cross_entropy(x, np.full(rows, target))
        np.testing.assert_allclose(sloss, ref, rtol=tol)
        np.testing.assert_allclose(sgrad, grad, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_binary_cross_entropy_at_plus_minus_1e4(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 30.0], [1e4 - 1, -1e4 + 1, -30.0]], dtype=dtype)
    s = ops.sigmoid(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_array_equal(s[0, :2], [1.0, 0.0])
    xd = x.astype(np.float64)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for z in (np.zeros_like(x), np.ones_like(x), np.full_like(x, 0.25)):
        zd = z.astype(np.float64)
        ref = np.maximum(xd, 0) - xd * zd + np.log1p(np.exp(-np.abs(xd)))
        loss, probs, grad = ops.sigmoid_binary_cross_entropy(x, z)
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        np.testing.assert_allclose(loss, ref.mean(), rtol=tol)
        sig = 0.5 * (1 + np.tanh(0.5 * xd))  # sigmoid without overflow
        np.testing.assert_allclose(grad, (sig - zd) / x.size, atol=tol)


def test_losses_through_a_model_at_plus_minus_1e4():
    """The Keras-level losses with from_logits and the softmax-output path stay finite too."""
    x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    for loss, activation, y in [
        (nncore.losses.CategoricalCrossentropy(from_logits=True), None,
         np.array([[0, 1], [1, 0]], np.float32)),
        ("categorical_crossentropy", "softmax", np.array([[0, 1], [1, 0]], np.float32)),
        (nncore.losses.BinaryCrossentropy(from_logits=True), None,
         np.array([[0, 1], [1, 0]], np.float32)),
        ("binary_crossentropy", "sigmoid", np.array([[0, 1], [1, 0]], np.float32)),
    ]:
        model = nncore.Sequential([nncore.Input(shape=(2,)),
                                   L.Dense(2, activation=activation, name="d")])
        model.compile(optimizer=nncore.optimizers.SGD(learning_rate=0.0), loss=loss)
        # Logits of ±1e4 on the wrong side for every sample.
        model.set_weights([np.array([[1e4, -1e4], [-1e4, 1e4]], np.float32), np.zeros(2, np.float32)])
        value = model.train_on_batch(x, y)
        assert np.isfinite(value) and value > 10, (loss, activation, value)
        for v in model.trainable_weights:
            assert np.all(np.isfinite(v.grad)), (loss, activation)


# ---------------------------------------------------------------------- float32 vs float64
def _model(dtype):
    inp = nncore.Input(shape=(6,), dtype=dtype)
    h = L.Dense(16, activation="tanh", name="h1", dtype=dtype)(inp)
    h = L.Dense(12, activation="sigmoid", name="h2", dtype=dtype)(h)
    out = L.Dense(4, activation="softmax", name="out", dtype=dtype)(h)
    model = nncore.Model(inp, out)
    model.compile(optimizer=nncore.optimizers.SGD(learning_rate=0.0),
                  loss="categorical_crossentropy")
    return model


def _grads(model, x, y):
    model.train_on_batch(x, y)  # learning rate 0: computes the gradients, changes nothing
    return {v.name: v.grad.astype(np.float64) for v in model.trainable_weights}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_float32_gradients_within_bound_of_float64(seed):
    """Bound: per weight array, ||g32 - g64|| <= 3e-6 ||g64||, 25 float32 epsilons (1.2e-7).
    Measured: at most 3.3e-7 over these seeds, so the bound has a tenfold margin."""
    nncore.set_seed(seed)
    m32 = _model("float32")
    m64 = _model("float64")
    m64.set_weights([w.astype(np.float64) for w in m32.get_weights()])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]
    g32 = _grads(m32, x, y)
    g64 = _grads(m64, x.astype(np.float64), y.astype(np.float64))
    assert g32.keys() == g64.keys()
    worst = 0.0
    for name in g64:
        scale = np.linalg.norm(g64[name])
        assert scale > 0, name
        err = np.linalg.norm(g32[name] - g64[name]) / scale
        worst = max(worst, err)
        assert err <= 3e-6, (name, err)
    assert worst > 0  # the two runs really were in different precisions
