"""Fused losses: loss, probabilities and d(mean loss)/d(logits) against NumPy references and
central differences; extreme logits; label checks; out= and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops


def ref_log_softmax(x):
    x = x.astype(np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def ref_softmax_ce(x, t):
    lp = ref_log_softmax(x)
    t = t.astype(np.float64)
    per_row = -np.where(t != 0, t * lp, 0.0).sum(axis=-1)
    rows = per_row.size
    p = np.exp(lp)
    grad = (p * t.sum(axis=-1, keepdims=True) - t) / rows
    return per_row.mean(), p, grad


def ref_bce(x, z):
    x = x.astype(np.float64)
    z = z.astype(np.float64)
    loss = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    with np.errstate(over="ignore"):
        p = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
    return loss.mean(), p, (p - z) / x.size


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-15)


lead = st.lists(st.integers(1, 6), min_size=0, max_size=2).map(tuple)


@given(lead=lead, classes=st.integers(1, 12), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**31), one_hot=st.booleans())
def test_softmax_ce_matches_reference(lead, classes, dtype, seed, one_hot):
    rng = np.random.default_rng(seed)
    shape = lead + (classes,)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    labels = rng.integers(0, classes, lead)
    if one_hot:
        t = np.eye(classes, dtype=dtype)[labels]
    else:
        t = rng.uniform(0, 1, shape).astype(dtype)
        t /= t.sum(axis=-1, keepdims=True)
    loss, p, g = ops.softmax_cross_entropy(x, t)
    want = ref_softmax_ce(x, t)
    assert isinstance(loss, dtype) and p.dtype == g.dtype == dtype and p.shape == g.shape == shape
    np.testing.assert_allclose(loss, want[0], **tol(dtype))
    np.testing.assert_allclose(p, want[1], **tol(dtype))
    np.testing.assert_allclose(g, want[2], **tol(dtype))
    sl, sp, sg = ops.sparse_softmax_cross_entropy(x, labels)
    want = ref_softmax_ce(x, np.eye(classes)[labels])
    np.testing.assert_allclose(sl, want[0], **tol(dtype))
    np.testing.assert_allclose(sp, want[1], **tol(dtype))
    np.testing.assert_allclose(sg, want[2], **tol(dtype))


@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31))
def test_bce_matches_reference(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    z = rng.uniform(0, 1, shape).astype(dtype)
    z[rng.uniform(size=shape) < 0.3] = 1.0
    loss, p, g = ops.sigmoid_binary_cross_entropy(x, z)
    want = ref_bce(x, z)
    assert isinstance(loss, dtype)
    np.testing.assert_allclose(loss, want[0], **tol(dtype))
    np.testing.assert_allclose(p, want[1], **tol(dtype))
    np.testing.assert_allclose(g, want[2], **tol(dtype))


def _numeric_grad(f, x, h=1e-6):
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        out[i] = (f(xp) - f(xm)) / (2 * h)
    return out


def test_gradients_match_central_differences():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 5)) * 2
    t = rng.uniform(0, 1, (4, 5))
    t /= t.sum(axis=1, keepdims=True)
    labels = np.array([0, 4, 2, 2])
    z = rng.uniform(0, 1, (4, 5))
    cases = [
        (lambda v: ops.softmax_cross_entropy(v, t)[0], ops.softmax_cross_entropy(x, t)[2]),
        (lambda v: ops.sparse_softmax_cross_entropy(v, labels)[0],
         ops.sparse_softmax_cross_entropy(x, labels)[2]),
        (lambda v: ops.sigmoid_binary_cross_entropy(v, z)[0],
         ops.sigmoid_binary_cross_entropy(x, z)[2]),
    ]
    # The central difference of a loss near 1 carries a rounding error of about eps / h = 2e-10
    # whatever the kernel: atol sits above it (a 1e-10 bound failed on correct gradients of 5e-5).
    for f, grad in cases:
        np.testing.assert_allclose(grad, _numeric_grad(lambda v: float(f(v)), x), rtol=1e-6, atol=1e-9)


def test_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [-np.inf, 0.0, 5.0]], dtype)
    t = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype)
    with np.errstate(all="raise"):
        loss, p, g = ops.softmax_cross_entropy(x, t)
        sl, _, sg = ops.sparse_softmax_cross_entropy(x, np.array([1, 0, 2]))
    want_rows = [2e4, np.log(3.0), np.log1p(np.exp(-5.0))]
    np.testing.assert_allclose(loss, np.mean(want_rows), rtol=1e-6)
    np.testing.assert_allclose(sl, loss, rtol=1e-6)
    assert np.isfinite(p).all() and np.isfinite(g).all()
    np.testing.assert_allclose(g, sg, rtol=1e-6, atol=1e-30)
    xb = np.array([1e4, -1e4, 1e4, -1e4, np.inf, -np.inf], dtype)
    zb = np.array([1, 0, 0, 1, 1, 0], dtype)
    bl, bp, bg = ops.sigmoid_binary_cross_entropy(xb, zb)
    np.testing.assert_allclose(bl, 2e4 / 6, rtol=1e-6)
    np.testing.assert_array_equal(bp, [1, 0, 1, 0, 1, 0])
    np.testing.assert_allclose(bg, [0, 0, 1 / 6, -1 / 6, 0, 0], rtol=1e-6)
    # The -inf logit of a target class is an infinite loss, honestly.
    assert ops.softmax_cross_entropy(x[2:], np.array([[1, 0, 0]], dtype))[0] == np.inf


def test_nan_shows_in_loss_and_row():
    x = np.array([[0.0, np.nan], [0.0, 1.0]])
    loss, p, g = ops.softmax_cross_entropy(x, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert np.isnan(loss) and np.isnan(p[0]).all() and np.isfinite(p[1]).all()
    loss, _, _ = ops.sigmoid_binary_cross_entropy(np.array([0.0, 1.0]), np.array([np.nan, 1.0]))
    assert np.isnan(loss)


@pytest.mark.parametrize("rows,classes", [(5000, 10), (3, 40_000)])
def test_large_batches_at_1_and_2_threads(rows, classes, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((rows, classes)) * 5).astype(dtype)
    labels = rng.integers(0, classes, rows)
    one_hot = np.zeros((rows, classes))
    one_hot[np.arange(rows), labels] = 1.0
    want = ref_softmax_ce(x, one_hot)
    before = nncore.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            nncore.set_num_threads(threads)
            results.append(ops.sparse_softmax_cross_entropy(x, labels))
    finally:
        nncore.set_num_threads(before)
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][2], results[1][2])
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][0], want[0], rtol=1e-5)


def test_label_forms_and_out(dtype, rng):
    x = rng.standard_normal((3, 4)).astype(dtype)
    want = ops.sparse_softmax_cross_entropy(x, np.array([1, 3, 0]))
    for labels in (np.array([1, 3, 0], np.int32), np.array([[1], [3], [0]]), [1, 3, 0],
                   np.array([1.0, 3.0, 0.0]), np.array([1, 3, 0], np.uint8)):
        got = ops.sparse_softmax_cross_entropy(x, labels)
        assert got[0] == want[0]
        np.testing.assert_array_equal(got[2], want[2])
    probs, grad = np.empty_like(x), np.empty_like(x)
    res = ops.sparse_softmax_cross_entropy(x, [1, 3, 0], out=(probs, grad))
    assert res[1] is probs and res[2] is grad
    np.testing.assert_array_equal(grad, want[2])
    view = x[::-1, ::-1]
    t = np.eye(4, dtype=dtype)[[2, 0, 1]]
    np.testing.assert_array_equal(ops.softmax_cross_entropy(view, t)[2],
                                  ops.softmax_cross_entropy(view.copy(), t)[2])
    loss, p, g = ops.softmax_cross_entropy(np.empty((0, 3), dtype), np.empty((0, 3), dtype))
    assert np.isnan(loss) and p.shape == g.shape == (0, 3)


def test_errors():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"labels\[1\] = 4 is out of range for 4 classes"):
        ops.sparse_softmax_cross_entropy(x, [0, 4, 1])
    with pytest.raises(ValueError, match=r"labels\[0\] = -1"):
        ops.sparse_softmax_cross_entropy(x, [-1, 0, 1])
    with pytest.raises(nncore.ShapeError, match="labels"):
        ops.sparse_softmax_cross_entropy(x, [0, 1])
    with pytest.raises(ValueError, match="whole numbers"):
        ops.sparse_softmax_cross_entropy(x, [0.5, 1, 2])
    with pytest.raises(nncore.DTypeError):
        ops.sparse_softmax_cross_entropy(x, np.array(["a", "b", "c"]))
    with pytest.raises(nncore.DTypeError, match="'y_true' has dtype float64 but 'logits' has dtype float32"):
        ops.softmax_cross_entropy(x, np.zeros((3, 4)))
    with pytest.raises(nncore.ShapeError, match=r"\(3, 4\) and \(3, 5\)"):
        ops.softmax_cross_entropy(x, np.zeros((3, 5), np.float32))
    with pytest.raises(nncore.ShapeError):
        ops.sigmoid_binary_cross_entropy(x, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="shares memory"):
        ops.softmax_cross_entropy(x, x.copy(), out=(x, None))


def _softmax_model(seed):
    nncore.random.set_seed(seed)
    model = nncore.Sequential([nncore.Input(shape=(6,)),
                               nncore.layers.Dense(8, activation="relu"),
                               nncore.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def test_predict_and_evaluate_inside_fit_see_probabilities_and_leave_fit_fused():
    """A callback that calls predict() and evaluate() mid-fit gets probabilities (not the logits
    the fused training step works on), and fit goes on with the same losses as a run without it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 64)]
    seen = []

    def peek(batch, logs):
        p = probe.predict(x[:5], verbose=0)
        seen.append((p.min(), np.abs(p.sum(axis=1) - 1).max(), probe.predict_on_batch(x[:5])))
        probe.evaluate(x[:8], y[:8], verbose=0)

    plain = _softmax_model(3)
    probe = _softmax_model(3)
    h_plain = plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_probe = probe.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                        callbacks=[nncore.callbacks.LambdaCallback(on_train_batch_end=peek)])
    assert len(seen) == 8
    for lowest, off_one, on_batch in seen:
        assert lowest >= 0 and off_one < 1e-5
        np.testing.assert_allclose(on_batch.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(h_plain.history["loss"], h_probe.history["loss"])
    for a, b in zip(plain.get_weights(), probe.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(probe.predict(x, verbose=0).sum(axis=1), 1, atol=1e-5)
