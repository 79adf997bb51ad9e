"""Losses: values against independent NumPy formulas and Keras' documented examples, gradients
against central finite differences in float64, fused softmax/sigmoid paths, label errors,
reductions and sample weights, config round trips and string names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import losses

EPS = 1e-7


# ----------------------------------------------------------------------------- references
def ref_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def ref_log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def ref_sigmoid(z):
    return np.array([1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
                     for v in np.ravel(z)]).reshape(np.shape(z))


def ref_bce(t, p, from_logits=False, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    if from_logits:
        # log σ(z) = -log1p(e^-z), log(1-σ(z)) = -z - log1p(e^-z), both written stably.
        lsig = -np.logaddexp(0, -p)
        l1m = -np.logaddexp(0, p)
        return -(t * lsig + (1 - t) * l1m).mean(-1)
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


def ref_cce(t, p, from_logits=False, ls=0.0):
    if ls:
        t = t * (1 - ls) + ls / t.shape[-1]
    if from_logits:
        return -(t * ref_log_softmax(p)).sum(-1)
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(q)).sum(-1)


def ref_scce(labels, p, from_logits=False):
    t = np.eye(p.shape[-1])[labels]
    return ref_cce(t, p, from_logits)


def ref_binary_focal(t, p, gamma=2.0, alpha=0.25, balance=False, from_logits=False):
    prob = ref_sigmoid(p) if from_logits else p
    bce_elem = ref_bce(t[..., None], p[..., None], from_logits)
    pt = t * prob + (1 - t) * (1 - prob)
    w = (t * alpha + (1 - t) * (1 - alpha)) if balance else 1.0
    return (w * (1 - pt) ** gamma * bce_elem).mean(-1)


def ref_cat_focal(t, p, gamma=2.0, alpha=0.25, from_logits=False):
    if from_logits:
        q = ref_softmax(p)
        logq = ref_log_softmax(p)
    else:
        q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
        logq = np.log(q)
    return (alpha * (1 - q) ** gamma * -t * logq).sum(-1)


def ref_cat_hinge(t, p):
    pos = (t * p).sum(-1)
    neg = ((1 - t) * p).max(-1)
    return np.maximum(neg - pos + 1, 0)


def ref_hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def ref_cosine(t, p):
    nt = t / np.maximum(np.sqrt((t * t).sum(-1, keepdims=True)), EPS)
    npr = p / np.maximum(np.sqrt((p * p).sum(-1, keepdims=True)), EPS)
    return -(nt * npr).sum(-1)


def ref_dice(t, p, axis=None):
    inter = (t * p).sum(axis=axis)
    return 1 - 2 * inter / (t.sum(axis=axis) + p.sum(axis=axis) + EPS)


def ref_huber(t, p, delta=1.0):
    e = p - t
    return np.where(np.abs(e) <= delta, 0.5 * e ** 2, delta * np.abs(e) - 0.5 * delta ** 2).mean(-1)


# ----------------------------------------------------------------------------- data
def away_from(x, kinks, gap=1e-3):
    """Moves entries of x that are within gap of a kink by 3*gap (finite differences need it)."""
    x = x.copy()
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] += 3 * gap
    return x


def make_case(kind, rng, n, c):
    """(y_true, y_pred) for a loss family, in its domain and away from its kinks."""
    if kind == "regression":
        t = rng.normal(size=(n, c))
        p = t + away_from(rng.normal(size=(n, c)), [0.0])
        return t, p
    if kind == "huber":
        t = rng.normal(size=(n, c))
        e = away_from(rng.normal(scale=1.5, size=(n, c)), [-1.0, 0.0, 1.0])
        return t, t + e
    if kind == "mape":
        t = rng.uniform(0.2, 2.0, size=(n, c)) * rng.choice([-1, 1], size=(n, c))
        return t, t + away_from(rng.normal(size=(n, c)), [0.0])
    if kind == "positive":
        return rng.uniform(0.05, 3.0, size=(n, c)), rng.uniform(0.05, 3.0, size=(n, c))
    if kind == "prob":
        return rng.uniform(0, 1, size=(n, c)), rng.uniform(0.05, 0.95, size=(n, c))
    if kind == "binary_prob":
        return rng.integers(0, 2, size=(n, c)).astype(float), rng.uniform(0.05, 0.95, size=(n, c))
    if kind == "binary_logits":
        return rng.integers(0, 2, size=(n, c)).astype(float), rng.normal(scale=3, size=(n, c))
    if kind == "onehot_prob":
        c = max(c, 2)
        t = np.eye(c)[rng.integers(0, c, size=n)]
        return t, rng.uniform(0.2, 1.0, size=(n, c))
    if kind == "onehot_logits":
        c = max(c, 2)
        t = np.eye(c)[rng.integers(0, c, size=n)]
        return t, rng.normal(scale=3, size=(n, c))
    if kind == "hinge":
        t = rng.choice([-1.0, 1.0], size=(n, c))
        p = rng.normal(size=(n, c))
        m = away_from(1 - t * p, [0.0])
        return t, (1 - m) / t
    if kind == "cat_hinge":
        c = max(c, 2)
        while True:
            t = np.eye(c)[rng.integers(0, c, size=n)]
            p = rng.normal(size=(n, c))
            other = np.sort((1 - t) * p, axis=-1)
            margin = ref_cat_hinge(t, p)
            gaps = other[:, -1] - other[:, -2]
            if np.all(gaps > 1e-3) and np.all(np.abs((other[:, -1] - (t * p).sum(-1) + 1)) > 1e-3):
                return t, p
    if kind == "cosine":
        t = rng.normal(size=(n, c))
        p = rng.normal(size=(n, c))
        p[np.linalg.norm(p, axis=-1) < 0.1] += 0.5
        return t, p
    if kind == "contrastive":
        t = rng.integers(0, 2, size=(n, 1)).astype(float)
        return t, away_from(rng.uniform(0, 2, size=(n, 1)), [1.0])
    raise AssertionError(kind)


LOSSES = {
    # name: (factory, data kind, reference per-sample function)
    "mse": (losses.MeanSquaredError, "regression", lambda t, p: ((t - p) ** 2).mean(-1)),
    "mae": (losses.MeanAbsoluteError, "regression", lambda t, p: np.abs(t - p).mean(-1)),
    "mape": (losses.MeanAbsolutePercentageError, "mape",
             lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    "msle": (losses.MeanSquaredLogarithmicError, "positive",
             lambda t, p: ((np.log(p + 1) - np.log(t + 1)) ** 2).mean(-1)),
    "huber": (losses.Huber, "huber", ref_huber),
    "log_cosh": (losses.LogCosh, "regression", lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    "kld": (losses.KLDivergence, "prob",
            lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    "poisson": (losses.Poisson, "positive", lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    "cosine_similarity": (losses.CosineSimilarity, "cosine", ref_cosine),
    "hinge": (losses.Hinge, "hinge",
              lambda t, p: np.maximum(1 - ref_hinge_labels(t) * p, 0).mean(-1)),
    "squared_hinge": (losses.SquaredHinge, "hinge",
                      lambda t, p: (np.maximum(1 - ref_hinge_labels(t) * p, 0) ** 2).mean(-1)),
    "categorical_hinge": (losses.CategoricalHinge, "cat_hinge", ref_cat_hinge),
    "binary_crossentropy": (losses.BinaryCrossentropy, "binary_prob", ref_bce),
    "bce_logits": (lambda: losses.BinaryCrossentropy(from_logits=True), "binary_logits",
                   lambda t, p: ref_bce(t, p, True)),
    "bce_smooth": (lambda: losses.BinaryCrossentropy(label_smoothing=0.2), "binary_prob",
                   lambda t, p: ref_bce(t, p, ls=0.2)),
    "categorical_crossentropy": (losses.CategoricalCrossentropy, "onehot_prob", ref_cce),
    "cce_logits": (lambda: losses.CategoricalCrossentropy(from_logits=True), "onehot_logits",
                   lambda t, p: ref_cce(t, p, True)),
    "cce_smooth_logits": (lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                          "onehot_logits", lambda t, p: ref_cce(t, p, True, 0.1)),
    "binary_focal": (losses.BinaryFocalCrossentropy, "binary_prob", ref_binary_focal),
    "binary_focal_logits_balanced": (
        lambda: losses.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True, gamma=3.0),
        "binary_logits", lambda t, p: ref_binary_focal(t, p, gamma=3.0, balance=True, from_logits=True)),
    "categorical_focal": (losses.CategoricalFocalCrossentropy, "onehot_prob", ref_cat_focal),
    "categorical_focal_logits": (lambda: losses.CategoricalFocalCrossentropy(from_logits=True, gamma=1.5),
                                 "onehot_logits", lambda t, p: ref_cat_focal(t, p, 1.5, from_logits=True)),
    "dice": (losses.Dice, "positive", ref_dice),
    "dice_per_sample": (lambda: losses.Dice(axis=(1,)), "positive", lambda t, p: ref_dice(t, p, axis=1)),
    "contrastive": (losses.ContrastiveLoss, "contrastive",
                    lambda t, p: t * p ** 2 + (1 - t) * np.maximum(1 - p, 0) ** 2),
}


def fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f(x)
        flat[i] = old - eps
        fm = f(x)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return g


def reduce_mean(values):
    values = np.asarray(values)
    return float(values) if values.ndim == 0 else float(values.sum() / values.size)


# ----------------------------------------------------------------------------- values and gradients
@pytest.mark.parametrize("name", sorted(LOSSES))
@given(n=st.integers(1, 5), c=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=12)
def test_value_and_gradient(name, n, c, seed):
    factory, kind, ref = LOSSES[name]
    rng = np.random.default_rng(seed)
    t, p = make_case(kind, rng, n, c)
    loss = factory()
    want = reduce_mean(ref(t, p))
    assert loss(t, p) == pytest.approx(want, rel=1e-9, abs=1e-12)
    value, grad = loss.forward_backward(t, p)
    assert value == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert grad.shape == p.shape and grad.dtype == p.dtype
    num = fd_grad(lambda x: loss(t, x), p.copy())
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_float32_matches_float64(name):
    factory, kind, _ = LOSSES[name]
    rng = np.random.default_rng(7)
    t, p = make_case(kind, rng, 6, 5)
    loss = factory()
    v64, g64 = loss.forward_backward(t, p)
    v32, g32 = loss.forward_backward(t.astype(np.float32), p.astype(np.float32))
    assert g32.dtype == np.float32
    assert v32 == pytest.approx(v64, rel=1e-4, abs=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=1e-5 * max(1.0, np.abs(g64).max()))


@pytest.mark.parametrize(
    "loss, y_true, y_pred, kwargs, expected",
    [
        # Values printed in the Keras 3 docstrings of these losses.
        (losses.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], {}, 1.177),
        (losses.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
         {"sample_weight": [0.3, 0.7]}, 0.814),
        (losses.CategoricalCrossentropy(reduction="sum"), [[0, 1, 0], [0, 0, 1]],
         [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], {}, 2.354),
        (losses.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], {}, 1.177),
        (losses.BinaryCrossentropy(from_logits=True), [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8], {}, 0.8654),
        (losses.BinaryCrossentropy(from_logits=True), [[0, 1], [0, 0]], [[-18.6, 0.51], [2.94, -12.8]],
         {"sample_weight": [0.8, 0.2]}, 0.243),
        (losses.BinaryCrossentropy(from_logits=True, reduction="sum"), [[0, 1], [0, 0]],
         [[-18.6, 0.51], [2.94, -12.8]], {}, 1.730),
        (losses.BinaryFocalCrossentropy(gamma=2, from_logits=True), [0, 1, 0, 0],
         [-18.6, 0.51, 2.94, -12.8], {}, 0.691),
        (losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2, from_logits=True),
         [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8], {}, 0.51),
        (losses.BinaryFocalCrossentropy(gamma=3, from_logits=True), [[0, 1], [0, 0]],
         [[-18.6, 0.51], [2.94, -12.8]], {"sample_weight": [0.8, 0.2]}, 0.133),
        (losses.BinaryFocalCrossentropy(gamma=4, from_logits=True, reduction="sum"), [[0, 1], [0, 0]],
         [[-18.6, 0.51], [2.94, -12.8]], {}, 1.222),
        (losses.CategoricalFocalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
         {}, 0.23315276),
        (losses.CategoricalFocalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
         {"sample_weight": [0.3, 0.7]}, 0.1632),
        (losses.Huber(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], {}, 0.155),
        (losses.LogCosh(), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], {}, 0.108),
        (losses.Dice(), [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]],
         [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]], {}, 0.6164384),
    ],
)
def test_keras_documented_values(loss, y_true, y_pred, kwargs, expected):
    got = loss(np.array(y_true, dtype=float), np.array(y_pred, dtype=float), **kwargs)
    decimals = len(str(expected).split(".")[1])
    assert round(got, decimals) == pytest.approx(expected, abs=1.01 * 10 ** -decimals)


def test_keras_documented_per_sample_values():
    t = np.array([[0, 1], [0, 0]], float)
    np.testing.assert_allclose(losses.BinaryCrossentropy(reduction=None)(t, [[0.6, 0.4], [0.4, 0.6]]),
                               [0.916, 0.714], atol=1e-3)
    np.testing.assert_allclose(
        losses.BinaryFocalCrossentropy(gamma=5, from_logits=True, reduction=None)(t, [[-18.6, 0.51], [2.94, -12.8]]),
        [0.0017, 1.1561], atol=1e-4)
    np.testing.assert_allclose(losses.CosineSimilarity(reduction=None)(
        [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]), [0, -1, 1], atol=1e-6)
    np.testing.assert_allclose(losses.Dice(axis=(1, 2, 3), reduction=None)(
        np.array([[[[1.0], [1.0]], [[0.0], [0.0]]]] * 2),
        np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])), [0.5, 0.75757575], atol=1e-6)


# ----------------------------------------------------------------------------- sparse labels
@given(n=st.integers(1, 6), c=st.integers(2, 7), seed=st.integers(0, 2**32 - 1),
       from_logits=st.booleans(), column=st.booleans())
@settings(max_examples=25)
def test_sparse_categorical_value_and_gradient(n, c, seed, from_logits, column):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, size=n)
    p = rng.normal(scale=3, size=(n, c)) if from_logits else rng.uniform(0.2, 1.0, size=(n, c))
    y = labels[:, None] if column else labels
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    value, grad = loss.forward_backward(y, p)
    assert value == pytest.approx(ref_scce(labels, p, from_logits).mean(), rel=1e-9)
    np.testing.assert_allclose(grad, fd_grad(lambda x: loss(y, x), p.copy()), rtol=1e-5, atol=1e-7)
    # The same labels one-hot give the categorical loss.
    cce = losses.CategoricalCrossentropy(from_logits=from_logits)
    assert value == pytest.approx(cce(np.eye(c)[labels], p), rel=1e-12)


def test_sparse_labels_as_floats_and_higher_rank():
    rng = np.random.default_rng(3)
    p = rng.normal(size=(2, 3, 4))
    labels = rng.integers(0, 4, size=(2, 3))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    v, g = loss.forward_backward(labels.astype(np.float32), p)
    assert v == pytest.approx(ref_scce(labels, p, True).mean())
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(labels, x), p.copy()), rtol=1e-5, atol=1e-8)


def test_ignore_class_averages_over_valid_entries():
    rng = np.random.default_rng(4)
    p = rng.normal(size=(6, 3))
    labels = np.array([0, 2, -1, 1, -1, 2])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    valid = labels != -1
    want = ref_scce(labels[valid], p[valid], True).mean()
    v, g = loss.forward_backward(labels, p)
    assert v == pytest.approx(want)
    assert np.all(g[~valid] == 0)
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(labels, x), p.copy()), rtol=1e-5, atol=1e-8)
    lf, gf, probs = loss.forward_backward_from_logits(labels, p)
    assert lf == pytest.approx(v) and np.allclose(gf, g)


# ----------------------------------------------------------------------------- fused activations
@given(n=st.integers(1, 6), c=st.integers(2, 8), seed=st.integers(0, 2**32 - 1),
       ls=st.sampled_from([0.0, 0.1]))
@settings(max_examples=25)
def test_fused_softmax_crossentropy(n, c, seed, ls):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2, size=(n, c))
    t = np.eye(c)[rng.integers(0, c, size=n)]
    loss = losses.CategoricalCrossentropy(label_smoothing=ls)
    assert loss.fused_activation == "softmax"
    value, gz, probs = loss.forward_backward_from_logits(t, z)
    np.testing.assert_allclose(probs, ref_softmax(z), rtol=1e-12)
    # Unclipped regime: equals the loss of the softmax output, and its gradient through softmax.
    assert value == pytest.approx(loss(t, ref_softmax(z)), rel=1e-9)
    np.testing.assert_allclose(gz, fd_grad(lambda x: loss(t, ref_softmax(x)), z.copy()), rtol=1e-5, atol=1e-8)
    tt = t * (1 - ls) + ls / c
    np.testing.assert_allclose(gz, (ref_softmax(z) - tt) / n, rtol=1e-10, atol=1e-15)


@given(n=st.integers(1, 6), c=st.integers(2, 8), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1.0, 50.0, 1e3, 1e5]), dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=40)
def test_fused_paths_with_extreme_logits(n, c, seed, scale, dtype):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(n, c)) * scale).astype(dtype)
    z64 = z.astype(np.float64)
    labels = rng.integers(0, c, size=n)
    t = np.eye(c, dtype=dtype)[labels]
    tol = dict(rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-15)
    want = ref_cce(t.astype(np.float64), z64, True).mean()
    for fused in (losses.CategoricalCrossentropy().forward_backward_from_logits(t, z),
                  losses.SparseCategoricalCrossentropy().forward_backward_from_logits(labels, z)):
        v, g, probs = fused
        assert g.dtype == dtype and probs.dtype == dtype
        assert v == pytest.approx(want, rel=tol["rtol"], abs=tol["atol"])
        np.testing.assert_allclose(g, (ref_softmax(z64) - t) / n, **tol)
    tb = rng.integers(0, 2, size=(n, c)).astype(dtype)
    v, g, probs = losses.BinaryCrossentropy().forward_backward_from_logits(tb, z)
    assert v == pytest.approx(ref_bce(tb.astype(np.float64), z64, True).mean(), rel=tol["rtol"], abs=tol["atol"])
    np.testing.assert_allclose(g, (ref_sigmoid(z64) - tb) / tb.size, **tol)
    for loss in (losses.BinaryFocalCrossentropy(), losses.CategoricalFocalCrossentropy()):
        v, g, probs = loss.forward_backward_from_logits(t, z)
        assert np.isfinite(v) and np.all(np.isfinite(g)) and np.all(np.isfinite(probs))


@given(n=st.integers(1, 6), c=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25)
def test_fused_sparse_softmax_and_sigmoid(n, c, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2, size=(n, c))
    labels = rng.integers(0, c, size=n)
    sl = losses.SparseCategoricalCrossentropy()
    v, gz, probs = sl.forward_backward_from_logits(labels, z)
    assert v == pytest.approx(sl(labels, ref_softmax(z)), rel=1e-9)
    np.testing.assert_allclose(gz, (ref_softmax(z) - np.eye(c)[labels]) / n, rtol=1e-10, atol=1e-15)
    bl = losses.BinaryCrossentropy()
    assert bl.fused_activation == "sigmoid"
    tb = rng.integers(0, 2, size=(n, c)).astype(float)
    v, gz, probs = bl.forward_backward_from_logits(tb, z)
    assert v == pytest.approx(bl(tb, ref_sigmoid(z)), rel=1e-9)
    np.testing.assert_allclose(probs, ref_sigmoid(z), rtol=1e-12)
    np.testing.assert_allclose(gz, (ref_sigmoid(z) - tb) / tb.size, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", ["binary_focal", "categorical_focal"])
def test_fused_focal_matches_from_logits(name):
    rng = np.random.default_rng(5)
    factory, kind, _ = LOSSES[name]
    t, _ = make_case(kind, rng, 5, 4)
    z = rng.normal(scale=2, size=t.shape)
    loss = factory()
    logit_loss = type(loss)(from_logits=True)
    v, gz, probs = loss.forward_backward_from_logits(t, z)
    v2, g2 = logit_loss.forward_backward(t, z)
    assert v == pytest.approx(v2) and np.allclose(gz, g2)
    act = ref_softmax(z) if loss.fused_activation == "softmax" else ref_sigmoid(z)
    assert v == pytest.approx(loss(t, act), rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite_and_exact(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-3e4, 2e4, 2e4], [88.0, -88.0, 500.0]], dtype=dtype)
    labels = np.array([1, 0, 2])
    t = np.eye(3, dtype=dtype)[labels]
    z64 = z.astype(np.float64)
    want = ref_cce(t.astype(np.float64), z64, True).mean()
    for loss in (losses.CategoricalCrossentropy(), losses.CategoricalCrossentropy(from_logits=True)):
        v, g, probs = loss.forward_backward_from_logits(t, z)
        assert np.isfinite(v) and np.all(np.isfinite(g)) and np.all(np.isfinite(probs))
        assert v == pytest.approx(want, rel=1e-6)
        np.testing.assert_allclose(g, (ref_softmax(z64) - t) / 3, atol=1e-7)
    v, g = losses.CategoricalCrossentropy(from_logits=True).forward_backward(t, z)
    assert v == pytest.approx(want, rel=1e-6)
    v, g, _ = losses.SparseCategoricalCrossentropy().forward_backward_from_logits(labels, z)
    assert v == pytest.approx(want, rel=1e-6) and np.all(np.isfinite(g))
    tb = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]], dtype=dtype)
    for fn in (lambda: losses.BinaryCrossentropy().forward_backward_from_logits(tb, z)[:2],
               lambda: losses.BinaryCrossentropy(from_logits=True).forward_backward(tb, z)):
        v, g = fn()
        assert np.isfinite(v) and np.all(np.isfinite(g))
        assert v == pytest.approx(ref_bce(tb.astype(float), z64, True).mean(), rel=1e-6)
    for loss in (losses.BinaryFocalCrossentropy(from_logits=True), losses.CategoricalFocalCrossentropy(from_logits=True)):
        v, g = loss.forward_backward(t, z)
        assert np.isfinite(v) and np.all(np.isfinite(g))


def test_probabilities_at_zero_and_one_are_clipped_not_infinite():
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    for loss in (losses.BinaryCrossentropy(), losses.CategoricalCrossentropy(), losses.KLDivergence(),
                 losses.BinaryFocalCrossentropy(), losses.CategoricalFocalCrossentropy(), losses.Poisson()):
        v, g = loss.forward_backward(t, p)
        assert np.isfinite(v) and np.all(np.isfinite(g)), loss.name
    assert losses.BinaryCrossentropy()(t, p) == pytest.approx(-math.log(EPS), rel=1e-6)


# ----------------------------------------------------------------------------- reductions and weights
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight"])
def test_reductions_and_sample_weight_gradients(reduction):
    rng = np.random.default_rng(11)
    t, p = make_case("onehot_logits", rng, 5, 4)
    w = rng.uniform(0.1, 2.0, size=5)
    loss = losses.CategoricalCrossentropy(from_logits=True, reduction=reduction)
    per = ref_cce(t, p, True)
    div = {"sum": 1.0, "mean_with_sample_weight": w.sum()}.get(reduction, per.size)
    assert loss(t, p, sample_weight=w) == pytest.approx((per * w).sum() / div)
    v, g = loss.forward_backward(t, p, sample_weight=w)
    assert v == pytest.approx((per * w).sum() / div)
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(t, x, sample_weight=w), p.copy()), rtol=1e-5, atol=1e-8)
    v, g, _ = loss.forward_backward_from_logits(t, p, sample_weight=w)
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(t, x, sample_weight=w), p.copy()), rtol=1e-5, atol=1e-8)
    v, g, _ = loss.forward_backward_from_logits(t, p)
    div = 1.0 if reduction == "sum" else per.size
    assert v == pytest.approx(per.sum() / div)
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(t, x), p.copy()), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_fused_sparse_and_binary_with_sample_weights(reduction):
    rng = np.random.default_rng(12)
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=5)
    w = rng.uniform(0.1, 2.0, size=5)
    for loss, y in ((losses.SparseCategoricalCrossentropy(reduction=reduction), labels),
                    (losses.BinaryCrossentropy(reduction=reduction), rng.integers(0, 2, size=(5, 4))),
                    (losses.BinaryFocalCrossentropy(reduction=reduction), rng.integers(0, 2, size=(5, 4))),
                    (losses.CategoricalFocalCrossentropy(reduction=reduction), np.eye(4)[labels])):
        act = ref_softmax if loss.fused_activation == "softmax" else ref_sigmoid
        v, g, _ = loss.forward_backward_from_logits(y, z, sample_weight=w)
        assert v == pytest.approx(loss(y, act(z), sample_weight=w), rel=1e-9)
        np.testing.assert_allclose(g, fd_grad(lambda x: loss(y, act(x), sample_weight=w), z.copy()),
                                   rtol=1e-5, atol=1e-8)
        v, g, _ = loss.forward_backward_from_logits(y, z)
        np.testing.assert_allclose(g, fd_grad(lambda x: loss(y, act(x)), z.copy()), rtol=1e-5, atol=1e-8)


def test_reduction_none_returns_per_sample_values_and_trains_on_the_mean():
    t, p = make_case("regression", np.random.default_rng(2), 4, 3)
    loss = losses.MeanSquaredError(reduction=None)
    np.testing.assert_allclose(loss(t, p), ((t - p) ** 2).mean(-1))
    v, g = loss.forward_backward(t, p)
    assert v == pytest.approx(((t - p) ** 2).mean())
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_rank_alignment_like_keras():
    rng = np.random.default_rng(0)
    y = rng.normal(size=5)
    p = rng.normal(size=(5, 1))
    v, g = losses.MeanSquaredError().forward_backward(y, p)
    assert v == pytest.approx(((y - p[:, 0]) ** 2).mean()) and g.shape == (5, 1)
    v, g = losses.MeanSquaredError().forward_backward(y[:, None], p[:, 0])
    assert g.shape == (5,)
    b = rng.integers(0, 2, size=5)
    v, g, probs = losses.BinaryCrossentropy().forward_backward_from_logits(b, p)
    assert g.shape == (5, 1) and probs.shape == (5, 1)


def test_empty_batch():
    v, g = losses.CategoricalCrossentropy(from_logits=True).forward_backward(np.zeros((0, 3)), np.zeros((0, 3)))
    assert v == 0.0 and g.shape == (0, 3)
    v, g, probs = losses.CategoricalCrossentropy().forward_backward_from_logits(np.zeros((0, 3)), np.zeros((0, 3)))
    assert v == 0.0 and g.shape == (0, 3)
    v, g, _ = losses.SparseCategoricalCrossentropy().forward_backward_from_logits(np.zeros(0, int), np.zeros((0, 3)))
    assert v == 0.0 and g.shape == (0, 3)


def test_axis_argument():
    rng = np.random.default_rng(9)
    z = rng.normal(size=(2, 4, 3))       # classes on axis 1
    t = np.moveaxis(np.eye(4)[rng.integers(0, 4, size=(2, 3))], -1, 1)
    loss = losses.CategoricalCrossentropy(from_logits=True, axis=1)
    want = ref_cce(np.moveaxis(t, 1, -1), np.moveaxis(z, 1, -1), True).mean()
    v, g = loss.forward_backward(t, z)
    assert v == pytest.approx(want) and g.shape == z.shape
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(t, x), z.copy()), rtol=1e-5, atol=1e-8)
    v2, g2, probs = loss.forward_backward_from_logits(t, z)
    assert v2 == pytest.approx(want) and np.allclose(g2, g)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


# ----------------------------------------------------------------------------- label errors
def test_label_errors_are_clear():
    p = np.full((4, 3), 1 / 3)
    with pytest.raises(nncore.ShapeError, match=r"\(4,\).*\(4, 3\).*sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.array([0, 1, 2, 1]), p)
    with pytest.raises(nncore.ShapeError, match=r"4 columns but the model predicts 3 classes"):
        losses.CategoricalCrossentropy().forward_backward(np.eye(4), p)
    with pytest.raises(nncore.ShapeError, match=r"\(4, 3\).*one-hot.*categorical_crossentropy"):
        losses.SparseCategoricalCrossentropy().forward_backward(np.eye(3)[[0, 1, 2, 0]], p)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*from 0 to 3"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 3, 1]), p)
    with pytest.raises(ValueError, match=r"from -1 to"):
        losses.SparseCategoricalCrossentropy().forward_backward_from_logits(np.array([0, -1, 2, 1]), p)
    with pytest.raises(ValueError, match="labels must be integers"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1.5, 2, 1]), p)
    with pytest.raises(ValueError, match="labels must be integers"):
        losses.SparseCategoricalCrossentropy()(np.array([0, np.nan, 2, 1]), p)
    with pytest.raises(nncore.ShapeError, match=r"\(5,\).*\(4, 3\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros(5, int), p)
    with pytest.raises(nncore.ShapeError, match=r"\(4, 2\).*\(4, 3\)"):
        losses.MeanSquaredError().forward_backward(np.zeros((4, 2)), p)
    with pytest.raises(nncore.ShapeError, match=r"\(4, 3\).*\(4, 1\)"):
        losses.BinaryCrossentropy().forward_backward_from_logits(p, np.zeros((4, 1)))
    with pytest.raises(nncore.DTypeError):
        losses.MeanSquaredError()(np.array(["a", "b"]), np.zeros(2))
    with pytest.raises(nncore.ShapeError, match="sample_weight"):
        losses.MeanSquaredError()(p, p, sample_weight=np.ones(3))
    with pytest.raises(nncore.ShapeError, match="alpha has 2 entries"):
        losses.CategoricalFocalCrossentropy(alpha=[0.5, 0.5])(np.eye(3), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="does not depend on y_pred"):
        losses.get(lambda t, p: np.square(np.asarray(t) - np.asarray(p))).forward_backward(p, p)


def test_wrapped_function_without_gradient_is_differentiated():
    loss = losses.get(lambda t, p: ((t - p) ** 2).sum(-1))
    t, p = make_case("regression", np.random.default_rng(2), 3, 2)
    v, g = loss.forward_backward(t, p)
    assert v == pytest.approx(((t - p) ** 2).sum(-1).mean())
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(t, x), p.copy()), rtol=1e-6)


def test_wrapped_function_with_gradient_trains():
    loss = losses.LossFunctionWrapper(lambda t, p: ((t - p) ** 2).sum(-1), gradient=lambda t, p: 2 * (p - t))
    t, p = make_case("regression", np.random.default_rng(1), 3, 2)
    v, g = loss.forward_backward(t, p)
    assert v == pytest.approx(((t - p) ** 2).sum(-1).mean())
    np.testing.assert_allclose(g, fd_grad(lambda x: loss(t, x), p.copy()), rtol=1e-6)


# ----------------------------------------------------------------------------- names and configs
NAMES = {
    "mean_squared_error": losses.MeanSquaredError, "mse": losses.MeanSquaredError, "MSE": losses.MeanSquaredError,
    "mean_absolute_error": losses.MeanAbsoluteError, "mae": losses.MeanAbsoluteError,
    "mean_absolute_percentage_error": losses.MeanAbsolutePercentageError, "mape": losses.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": losses.MeanSquaredLogarithmicError, "msle": losses.MeanSquaredLogarithmicError,
    "binary_crossentropy": losses.BinaryCrossentropy, "bce": losses.BinaryCrossentropy,
    "categorical_crossentropy": losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
    "hinge": losses.Hinge, "squared_hinge": losses.SquaredHinge, "categorical_hinge": losses.CategoricalHinge,
    "huber": losses.Huber, "huber_loss": losses.Huber, "log_cosh": losses.LogCosh, "logcosh": losses.LogCosh,
    "kl_divergence": losses.KLDivergence, "kld": losses.KLDivergence,
    "kullback_leibler_divergence": losses.KLDivergence, "poisson": losses.Poisson,
    "cosine_similarity": losses.CosineSimilarity, "cosine_proximity": losses.CosineSimilarity,
    "binary_focal_crossentropy": losses.BinaryFocalCrossentropy, "focal_loss": losses.BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": losses.CategoricalFocalCrossentropy,
    "dice": losses.Dice, "Dice": losses.Dice, "contrastive_loss": losses.ContrastiveLoss,
    "CategoricalCrossentropy": losses.CategoricalCrossentropy,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_string_names(name):
    assert type(losses.get(name)) is NAMES[name]


CONFIGURED = [
    losses.MeanSquaredError(reduction="sum", name="m"), losses.MeanAbsoluteError(),
    losses.MeanAbsolutePercentageError(), losses.MeanSquaredLogarithmicError(), losses.Huber(delta=0.5),
    losses.LogCosh(), losses.KLDivergence(), losses.Poisson(), losses.CosineSimilarity(axis=1),
    losses.Hinge(), losses.SquaredHinge(), losses.CategoricalHinge(),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, axis=1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, reduction=None),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.0),
    losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], gamma=3.0),
    losses.Dice(axis=(1, 2)), losses.ContrastiveLoss(margin=2.0),
]


@pytest.mark.parametrize("loss", CONFIGURED, ids=lambda l: type(l).__name__)
def test_config_round_trip(loss):
    config = loss.get_config()
    again = type(loss).from_config(config)
    assert again.get_config() == config
    restored = losses.deserialize(losses.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == config
    assert losses.get(losses.serialize(loss)).get_config() == config
    assert losses.get(loss) is loss


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="unknown loss 'nope'.*mean_squared_error"):
        losses.get("nope")
