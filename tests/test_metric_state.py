"""Every metric's running state against an independent NumPy reference: several
``update_state`` calls with sample weights (zeros included), ``reset_state``, more updates; and
every metric survives ``copy.deepcopy`` and rebuilds fresh from ``from_config(get_config())``
(compile builds one copy per model output that way).

The references compute each batch's per-sample values directly from the formulas and take the
weighted mean over everything fed since the last reset: ``Σ w·v / Σ w`` (0 when ``Σ w = 0``).
"""

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nncore import metrics

EPS = 1e-7


# ------------------------------------------------------------------ data for each kind of metric
def _probs(rng, n, c):
    p = rng.uniform(0.01, 1.0, (n, c))
    return p / p.sum(axis=1, keepdims=True)


def _data(kind, rng, n):
    if kind == "equal":
        return rng.integers(0, 3, (n, 3)), rng.integers(0, 3, (n, 3))
    if kind == "binary":
        return (rng.random((n, 3)) > 0.5).astype(np.float64), rng.random((n, 3))
    if kind == "onehot":
        return np.eye(4)[rng.integers(0, 4, n)], _probs(rng, n, 4)
    if kind == "sparse":
        return rng.integers(0, 4, n), _probs(rng, n, 4)
    if kind == "signed":
        return rng.choice([-1.0, 1.0], (n, 3)), rng.normal(size=(n, 3))
    if kind == "positive":
        return rng.uniform(0.05, 1.0, (n, 3)), rng.uniform(0.05, 1.0, (n, 3))
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 3))


def _clip(p):
    return np.clip(p, EPS, 1 - EPS)


# Per-sample values, computed without nncore.
REFS = {
    "accuracy": ("equal", lambda t, p: (t == p).mean(axis=1)),
    "binary_accuracy": ("binary", lambda t, p: ((p > 0.5) == t).mean(axis=1)),
    "categorical_accuracy": ("onehot", lambda t, p: (t.argmax(1) == p.argmax(1)).astype(float)),
    "sparse_categorical_accuracy": ("sparse", lambda t, p: (t == p.argmax(1)).astype(float)),
    "top_k": ("onehot", lambda t, p: np.array([t[i].argmax() in np.argsort(-p[i])[:2] for i in range(len(t))], float)),
    "sparse_top_k": ("sparse", lambda t, p: np.array([t[i] in np.argsort(-p[i])[:2] for i in range(len(t))], float)),
    "mse": ("regression", lambda t, p: ((t - p) ** 2).mean(axis=1)),
    "mae": ("regression", lambda t, p: np.abs(t - p).mean(axis=1)),
    "mape": ("regression", lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(axis=1)),
    "msle": ("regression", lambda t, p: ((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(t, EPS))) ** 2).mean(axis=1)),
    "logcosh": ("regression", lambda t, p: np.log(np.cosh(p - t)).mean(axis=1)),
    "cosine": ("regression", lambda t, p: (t * p).sum(1) / (np.linalg.norm(t, axis=1) * np.linalg.norm(p, axis=1))),
    "bce": ("binary", lambda t, p: -(t * np.log(_clip(p)) + (1 - t) * np.log(1 - _clip(p))).mean(axis=1)),
    "cce": ("onehot", lambda t, p: -(t * np.log(_clip(p / p.sum(1, keepdims=True)))).sum(axis=1)),
    "scce": ("sparse", lambda t, p: -np.log(_clip(p[np.arange(len(t)), t] / p.sum(1)))),
    "kld": ("positive", lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(axis=1)),
    "poisson": ("positive", lambda t, p: (p - t * np.log(p + EPS)).mean(axis=1)),
    "hinge": ("signed", lambda t, p: np.maximum(1 - t * p, 0).mean(axis=1)),
    "squared_hinge": ("signed", lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(axis=1)),
    "categorical_hinge": ("onehot", lambda t, p: np.maximum(((1 - t) * p).max(1) - (t * p).sum(1) + 1, 0)),
    "huber": ("regression", lambda t, p: np.where(np.abs(p - t) <= 1, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5).mean(axis=1)),
    "wrapper": ("regression", lambda t, p: ((t - p) ** 4).mean(axis=1)),
    "auto_accuracy": ("sparse", lambda t, p: (t == p.argmax(1)).astype(float)),
    "rmse": ("regression", lambda t, p: ((t - p) ** 2).mean(axis=1)),
}


def _fourth_power(y_true, y_pred):
    return (y_true - y_pred) ** 4


FACTORIES = {
    "accuracy": metrics.Accuracy,
    "binary_accuracy": metrics.BinaryAccuracy,
    "categorical_accuracy": metrics.CategoricalAccuracy,
    "sparse_categorical_accuracy": metrics.SparseCategoricalAccuracy,
    "top_k": lambda: metrics.TopKCategoricalAccuracy(k=2),
    "sparse_top_k": lambda: metrics.SparseTopKCategoricalAccuracy(k=2),
    "mse": metrics.MeanSquaredError,
    "mae": metrics.MeanAbsoluteError,
    "mape": metrics.MeanAbsolutePercentageError,
    "msle": metrics.MeanSquaredLogarithmicError,
    "logcosh": metrics.LogCoshError,
    "cosine": metrics.CosineSimilarity,
    "bce": metrics.BinaryCrossentropy,
    "cce": metrics.CategoricalCrossentropy,
    "scce": metrics.SparseCategoricalCrossentropy,
    "kld": metrics.KLDivergence,
    "poisson": metrics.Poisson,
    "hinge": metrics.Hinge,
    "squared_hinge": metrics.SquaredHinge,
    "categorical_hinge": metrics.CategoricalHinge,
    "huber": lambda: metrics.get("huber"),
    "wrapper": lambda: metrics.MeanMetricWrapper(_fourth_power, name="fourth"),
    "auto_accuracy": lambda: metrics.get("accuracy"),
    "rmse": metrics.RootMeanSquaredError,
}


def _weights(rng, n, mode):
    if mode == "none":
        return None
    w = rng.uniform(0.0, 2.0, n)
    w[rng.random(n) < 0.3] = 0.0                       # zero weights drop samples
    if mode == "all_zero":
        w[:] = 0.0
    return w[:, None] if mode == "column" else w


def _reference(name, batches):
    """Weighted mean of the per-sample reference values over ``batches``."""
    fn = REFS[name][1]
    total = count = 0.0
    for t, p, w in batches:
        v = fn(t, p)
        w = np.ones(len(v)) if w is None else np.ravel(w)
        total += float(np.sum(v * w))
        count += float(np.sum(w))
    mean = total / count if count else 0.0
    return np.sqrt(mean) if name == "rmse" else mean


def _batches(name, rng, sizes, modes):
    kind = REFS[name][0]
    return [(*_data(kind, rng, n), _weights(rng, n, mode)) for n, mode in zip(sizes, modes)]


def _feed(m, batches):
    for t, p, w in batches:
        m.update_state(t, p, sample_weight=w)


WEIGHT_MODES = st.sampled_from(["none", "per_sample", "column", "all_zero"])


@pytest.mark.parametrize("name", sorted(FACTORIES))
@given(seed=st.integers(0, 2**32 - 1),
       first=st.lists(st.tuples(st.integers(1, 9), WEIGHT_MODES), min_size=1, max_size=4),
       second=st.lists(st.tuples(st.integers(1, 9), WEIGHT_MODES), min_size=1, max_size=3))
def test_state_matches_numpy_reference_across_updates_and_reset(name, seed, first, second):
    rng = np.random.default_rng(seed)
    m = FACTORIES[name]()
    before = _batches(name, rng, *zip(*first))
    _feed(m, before)
    np.testing.assert_allclose(m.result(), _reference(name, before), rtol=1e-6, atol=1e-9)
    m.reset_state()
    assert m.result() == 0.0
    after = _batches(name, rng, *zip(*second))
    _feed(m, after)
    np.testing.assert_allclose(m.result(), _reference(name, after), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_deepcopy_and_from_config_give_independent_equal_metrics(name):
    rng = np.random.default_rng(7)
    m = FACTORIES[name]()
    batches = _batches(name, rng, [5, 4, 6], ["per_sample", "none", "column"])
    _feed(m, batches[:2])
    seen = m.result()

    twin = copy.deepcopy(m)
    _feed(twin, batches[2:])
    assert m.result() == seen                                  # the copy has its own state
    np.testing.assert_allclose(twin.result(), _reference(name, batches), rtol=1e-6, atol=1e-9)

    fresh = type(m).from_config(m.get_config())
    assert type(fresh) is type(m) and fresh.get_config() == m.get_config()
    assert fresh.result() == 0.0                               # built fresh, no state carried
    _feed(fresh, batches)
    np.testing.assert_allclose(fresh.result(), twin.result(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ Sum and Mean with any weight rank
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), d=st.integers(1, 5),
       weight_shape=st.sampled_from(["scalar", "sample", "column", "element", "row"]))
def test_sum_and_mean_follow_keras_reduction_for_any_weight_rank(seed, n, d, weight_shape):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, d))
    w = {"scalar": rng.uniform(0, 2), "sample": rng.uniform(0, 2, n), "column": rng.uniform(0, 2, (n, 1)),
         "element": rng.uniform(0, 2, (n, d)), "row": rng.uniform(0, 2, (1, d))}[weight_shape]
    w = np.where(rng.random(np.shape(w)) < 0.3, 0.0, w)
    wb = np.broadcast_to(np.reshape(w, (n, 1)) if np.ndim(w) == 1 else w, (n, d))
    s = metrics.Sum()
    s.update_state(values, sample_weight=w)
    m = metrics.Mean()
    m.update_state(values, sample_weight=w)
    if np.ndim(w) == 0:
        # Keras: a scalar weight keeps the values' rank, then each sample is summed (Sum) or
        # averaged (Mean) and the weight counts once per sample.
        np.testing.assert_allclose(s.result(), w * values.sum(), rtol=1e-12, atol=1e-12)
        expected_mean = (w * values.mean(axis=1)).sum() / (w * n) if w else 0.0
    else:
        # Element weights weight elements: Σ w·v for Sum; Mean divides by the weights averaged
        # within each sample.
        np.testing.assert_allclose(s.result(), (wb * values).sum(), rtol=1e-12, atol=1e-12)
        count = wb.mean(axis=1).sum()
        expected_mean = (wb * values).mean(axis=1).sum() / count if count else 0.0
    np.testing.assert_allclose(m.result(), expected_mean, rtol=1e-10, atol=1e-12)


def test_r2_score_against_numpy_over_updates_and_reset():
    rng = np.random.default_rng(11)

    def ref(ts, ps, ws):
        t, p, w = np.concatenate(ts), np.concatenate(ps), np.concatenate(ws)[:, None]
        mean = (w * t).sum(0) / w.sum()
        return np.mean(1 - (w * (t - p) ** 2).sum(0) / (w * (t - mean) ** 2).sum(0))

    r2 = metrics.R2Score()
    for _round in range(2):
        ts, ps, ws = [], [], []
        for n in (4, 7, 5):
            t = rng.normal(size=(n, 3))
            ts.append(t)
            ps.append(t + 0.5 * rng.normal(size=(n, 3)))
            w = rng.uniform(0.1, 2.0, n)
            w[0] = 0.0
            ws.append(w)
            r2.update_state(ts[-1], ps[-1], sample_weight=w)
        np.testing.assert_allclose(r2.result(), ref(ts, ps, ws), rtol=1e-9)
        twin = copy.deepcopy(r2)
        fresh = metrics.R2Score.from_config(r2.get_config())
        assert fresh.result() == 0.0 and fresh.get_config() == r2.get_config()
        r2.reset_state()
        assert r2.result() == 0.0
        twin.update_state(ts[0], ps[0])
        assert twin.result() != 0.0


def test_metric_state_with_all_zero_weights_is_zero_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in sorted(FACTORIES):
            m = FACTORIES[name]()
            rng = np.random.default_rng(0)
            _feed(m, _batches(name, rng, [4], ["all_zero"]))
            assert m.result() == 0.0, name
