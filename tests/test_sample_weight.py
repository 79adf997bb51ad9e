"""fit / train_on_batch with sample_weight and class_weight (Keras semantics: the per-sample losses
are weighted, then averaged over the batch size)."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L


def model(lr=0.1):
    nncore.set_seed(0)
    inp = nncore.Input(shape=(4,), dtype="float64")
    h = L.Dense(6, activation="tanh", dtype="float64")(inp)
    m = nncore.Model(inp, L.Dense(3, activation="softmax", dtype="float64")(h))
    m.compile(optimizer=nncore.optimizers.SGD(learning_rate=lr), loss="categorical_crossentropy")
    return m


def data(n=24):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4))
    labels = rng.integers(0, 3, n)
    return x, np.eye(3)[labels], labels


def test_uniform_weight_scales_the_gradient_like_the_learning_rate():
    x, y, _ = data()
    a, b = model(lr=0.1), model(lr=0.3)
    a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, sample_weight=np.full(len(x), 3.0))
    b.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-14)


def test_weighted_step_matches_the_weighted_mean_gradient():
    x, y, _ = data(8)
    w = np.array([0, 1, 2, 0.5, 0, 3, 1, 1.5])
    m = model(lr=1.0)
    before = m.get_weights()
    m.train_on_batch(x, y, sample_weight=w)
    got = [b - a for a, b in zip(m.get_weights(), before)]
    # Reference: per-sample gradients (one-sample batches, lr 1) weighted and averaged over 8.
    want = [np.zeros_like(v) for v in before]
    for i in range(8):
        r = model(lr=1.0)
        r.train_on_batch(x[i:i + 1], y[i:i + 1])
        for k, (a, b) in enumerate(zip(r.get_weights(), before)):
            want[k] += w[i] * (b - a) / 8
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("one_hot", [True, False])
def test_class_weight_equals_the_matching_sample_weight(one_hot):
    x, y, labels = data()
    cw = {0: 0.5, 1: 2.0, 2: 1.0}
    a, b = model(), model()
    if not one_hot:
        a.compile(optimizer=nncore.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        b.compile(optimizer=nncore.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    target = y if one_hot else labels
    a.fit(x, target, batch_size=8, epochs=1, verbose=0, class_weight=cw)
    b.fit(x, target, batch_size=8, epochs=1, verbose=0,
          sample_weight=np.array([cw[c] for c in labels]))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def weighted_cross_entropy(m, x, y, w):
    """Reference: the per-sample cross-entropies of m's predictions, weighted and averaged over the
    number of samples (Keras's sum_over_batch_size)."""
    p = m.predict(x, verbose=0)
    return float(np.mean(w * -np.log((p * y).sum(axis=1))))


def test_evaluate_and_test_on_batch_weight_the_loss():
    x, y, _ = data()
    m = model()
    w = np.linspace(0.0, 2.0, len(x))
    want = weighted_cross_entropy(m, x, y, w)
    # One batch: the weighted mean over the batch size; in batches: the mean of those.
    np.testing.assert_allclose(m.evaluate(x, y, batch_size=len(x), sample_weight=w, verbose=0),
                               want, rtol=1e-12)
    np.testing.assert_allclose(m.test_on_batch(x, y, sample_weight=w), want, rtol=1e-12)
    np.testing.assert_allclose(m.evaluate(x, y, batch_size=8, sample_weight=w, verbose=0),
                               want, rtol=1e-12)
    assert m.evaluate(x, y, sample_weight=np.zeros(len(x)), verbose=0) == 0.0
    with pytest.raises(ValueError, match=r"evaluate: sample_weight must have shape \(24,\)"):
        m.evaluate(x, y, sample_weight=np.ones(3), verbose=0)


def test_validation_split_splits_the_weights_too():
    x, y, _ = data()
    w = np.linspace(0.0, 2.0, len(x))
    m = model(lr=0.0)        # weights stay put, so val_loss can be recomputed afterwards
    h = m.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_split=0.25, sample_weight=w)
    want = weighted_cross_entropy(m, x[18:], y[18:], w[18:])
    np.testing.assert_allclose(h.history["val_loss"][0], want, rtol=1e-12)


def test_validation_data_takes_weights():
    x, y, _ = data()
    w = np.linspace(0.0, 2.0, 8)
    m = model(lr=0.0)
    h = m.fit(x[:16], y[:16], batch_size=8, epochs=1, verbose=0,
              validation_data=(x[16:], y[16:], w))
    want = weighted_cross_entropy(m, x[16:], y[16:], w)
    np.testing.assert_allclose(h.history["val_loss"][0], want, rtol=1e-12)
    plain = m.fit(x[:16], y[:16], batch_size=8, epochs=1, verbose=0,
                  validation_data=(x[16:], y[16:], None))
    np.testing.assert_allclose(plain.history["val_loss"][0],
                               weighted_cross_entropy(m, x[16:], y[16:], np.ones(8)), rtol=1e-12)


def test_bad_weights_are_refused():
    x, y, _ = data()
    m = model()
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(24,\)"):
        m.fit(x, y, verbose=0, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="finite and >= 0"):
        m.fit(x, y, verbose=0, sample_weight=-np.ones(24))
    with pytest.raises(TypeError, match="class_weight must be a dict"):
        m.fit(x, y, verbose=0, class_weight=[1.0, 2.0, 3.0])


def test_classes_missing_from_class_weight_weigh_one():
    # keras/src/trainers/data_adapters/data_adapter_utils.py::class_weight_to_sample_weights:
    # a class without an entry gets 1.0 (so {1: 10.0} up-weights class 1 only).
    x, y, _ = data()
    labels = y.argmax(1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)
    a, b = model(), model()
    a.fit(x, y, verbose=0, shuffle=False, class_weight={1: 3.0})
    b.fit(x, y, verbose=0, shuffle=False, sample_weight=np.where(labels == 1, 3.0, 1.0))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
