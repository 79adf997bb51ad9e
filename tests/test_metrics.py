"""Metrics: state accumulated across batches (and reset) against references computed on all the
data at once; Keras' choice of accuracy from the loss; names and config round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import losses, metrics


def batches(n, sizes):
    idx = np.cumsum(sizes)[:-1]
    return np.split(np.arange(n), idx)


def run(metric, y_true, y_pred, sizes, w=None):
    for b in batches(len(y_true), sizes):
        metric.update_state(y_true[b], y_pred[b], None if w is None else w[b])
    return metric.result()


def weighted_mean(v, w):
    return float((v * w).sum() / w.sum()) if w is not None else float(v.mean())


SIZES = st.lists(st.integers(1, 7), min_size=1, max_size=5)


@given(sizes=SIZES, c=st.integers(2, 6), seed=st.integers(0, 2**32 - 1), weighted=st.booleans())
@settings(max_examples=30)
def test_accuracies_accumulate_across_batches(sizes, c, seed, weighted):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    labels = rng.integers(0, c, size=n)
    onehot = np.eye(c)[labels]
    probs = rng.dirichlet(np.ones(c), size=n)
    w = rng.uniform(0.1, 2, size=n) if weighted else None
    hit = (probs.argmax(-1) == labels).astype(float)
    assert run(metrics.CategoricalAccuracy(), onehot, probs, sizes, w) == pytest.approx(weighted_mean(hit, w))
    assert run(metrics.SparseCategoricalAccuracy(), labels, probs, sizes, w) == pytest.approx(weighted_mean(hit, w))
    assert run(metrics.SparseCategoricalAccuracy(), labels[:, None].astype(float), probs, sizes, w) == \
        pytest.approx(weighted_mean(hit, w))
    k = min(2, c)
    rank = (probs > probs[np.arange(n), labels][:, None]).sum(-1)   # how many beat the label
    topk = (rank < k).astype(float)
    assert run(metrics.TopKCategoricalAccuracy(k=k), onehot, probs, sizes, w) == pytest.approx(weighted_mean(topk, w))
    assert run(metrics.SparseTopKCategoricalAccuracy(k=k), labels, probs, sizes, w) == \
        pytest.approx(weighted_mean(topk, w))
    yb = rng.integers(0, 2, size=(n, 3)).astype(float)
    pb = rng.uniform(size=(n, 3))
    per_sample = ((pb > 0.5) == yb).mean(-1)
    assert run(metrics.BinaryAccuracy(), yb, pb, sizes, w) == pytest.approx(weighted_mean(per_sample, w))
    yi = rng.integers(0, 3, size=n)
    pi = rng.integers(0, 3, size=n)
    assert run(metrics.Accuracy(), yi, pi, sizes, w) == pytest.approx(weighted_mean((yi == pi).astype(float), w))


@given(sizes=SIZES, d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), weighted=st.booleans())
@settings(max_examples=30)
def test_regression_metrics_accumulate(sizes, d, seed, weighted):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    t, p = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    w = rng.uniform(0.1, 2, size=n) if weighted else None
    assert run(metrics.MeanAbsoluteError(), t, p, sizes, w) == pytest.approx(weighted_mean(np.abs(t - p).mean(-1), w))
    mse = weighted_mean(((t - p) ** 2).mean(-1), w)
    assert run(metrics.MeanSquaredError(), t, p, sizes, w) == pytest.approx(mse)
    assert run(metrics.RootMeanSquaredError(), t, p, sizes, w) == pytest.approx(math.sqrt(mse))
    bce = metrics.get("binary_crossentropy")
    tb = rng.integers(0, 2, size=(n, d)).astype(float)
    pb = rng.uniform(0.05, 0.95, size=(n, d))
    want = weighted_mean(-(tb * np.log(pb) + (1 - tb) * np.log(1 - pb)).mean(-1), w)
    assert run(bce, tb, pb, sizes, w) == pytest.approx(want)


def test_reset_and_call():
    m = metrics.CategoricalAccuracy()
    assert m.result() == 0.0
    assert m(np.eye(2), np.array([[0.9, 0.1], [0.8, 0.2]])) == 0.5
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(np.eye(2), np.eye(2))
    assert m.result() == 1.0
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])
    mean.update_state([10.0], sample_weight=[3.0])
    assert mean.result() == pytest.approx((6 + 30) / 6)
    s = metrics.Sum()
    s.update_state([1.0, 2.0])
    assert s.result() == 3.0


def test_top_k_ties_count_as_in_like_keras():
    p = np.array([[0.3, 0.3, 0.3, 0.1], [0.5, 0.2, 0.2, 0.1]])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([2, 2], p, k=1), [1.0, 0.0])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([3, 2], p, k=2), [0.0, 1.0])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([3, 3], p, k=9), [1.0, 1.0])


def test_categorical_accuracy_ties_take_the_first_class():
    assert metrics.categorical_accuracy([[1, 0]], [[0.5, 0.5]])[0] == 1.0
    assert metrics.categorical_accuracy([[0, 1]], [[0.5, 0.5]])[0] == 0.0


@pytest.mark.parametrize("loss, cls", [
    ("categorical_crossentropy", metrics.CategoricalAccuracy),
    (losses.CategoricalCrossentropy(from_logits=True), metrics.CategoricalAccuracy),
    ("categorical_focal_crossentropy", metrics.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    (losses.SparseCategoricalCrossentropy, metrics.SparseCategoricalAccuracy),
    ("binary_crossentropy", metrics.BinaryAccuracy),
    ("binary_focal_crossentropy", metrics.BinaryAccuracy),
    ("mse", metrics.AutoAccuracy), (None, metrics.AutoAccuracy), ("not_a_loss", metrics.AutoAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_is_chosen_from_the_loss(loss, cls, name):
    m = metrics.get(name, loss=loss)
    assert type(m) is cls and m.name == name


def test_binary_accuracy_from_logits_thresholds_at_zero():
    m = metrics.get("accuracy", loss=losses.BinaryCrossentropy(from_logits=True))
    m.update_state(np.array([[1.0], [0.0]]), np.array([[0.2], [-0.2]]))
    assert m.result() == 1.0


@pytest.mark.parametrize("y_true, y_pred, chosen", [
    (np.array([[1.0], [0.0]]), np.array([[0.7], [0.2]]), metrics.BinaryAccuracy),
    (np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]), metrics.SparseCategoricalAccuracy),
    (np.array([[1], [0]]), np.array([[0.2, 0.8], [0.6, 0.4]]), metrics.SparseCategoricalAccuracy),
    (np.eye(2)[[1, 0]], np.array([[0.2, 0.8], [0.6, 0.4]]), metrics.CategoricalAccuracy),
])
def test_auto_accuracy_decides_from_shapes(y_true, y_pred, chosen):
    m = metrics.get("accuracy")
    m.update_state(y_true, y_pred)
    assert type(m._metric) is chosen and m.result() == 1.0
    m.reset_state()
    assert m.result() == 0.0


@pytest.mark.parametrize("name, cls", [
    ("mae", metrics.MeanAbsoluteError), ("mse", metrics.MeanSquaredError),
    ("mean_absolute_error", metrics.MeanAbsoluteError), ("mean_squared_error", metrics.MeanSquaredError),
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("rmse", metrics.RootMeanSquaredError),
    ("binary_accuracy", metrics.BinaryAccuracy), ("categorical_accuracy", metrics.CategoricalAccuracy),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
    ("kl_divergence", metrics.KLDivergence), ("huber", metrics.LossMetric),
])
def test_string_names_keep_the_given_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name


@pytest.mark.parametrize("metric", [
    metrics.Mean(name="m"), metrics.Sum(), metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.3),
    metrics.CategoricalAccuracy(name="accuracy"), metrics.SparseCategoricalAccuracy(),
    metrics.TopKCategoricalAccuracy(k=3), metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
    metrics.MeanAbsoluteError(), metrics.MeanSquaredError(), metrics.RootMeanSquaredError(),
    metrics.AutoAccuracy(), metrics.LossMetric("huber", name="hub"),
], ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    again = metrics.deserialize(metrics.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == config
    assert metrics.get(metric) is metric


def test_errors():
    with pytest.raises(nncore.ShapeError, match=r"\(3,\).*\(3, 4\).*sparse_categorical_accuracy"):
        metrics.CategoricalAccuracy().update_state(np.array([0, 1, 2]), np.zeros((3, 4)))
    with pytest.raises(nncore.ShapeError, match="one-hot"):
        metrics.SparseCategoricalAccuracy().update_state(np.eye(3), np.zeros((3, 3)))
    with pytest.raises(nncore.ShapeError):
        metrics.MeanSquaredError().update_state(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        metrics.get("nope")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        metrics.SparseTopKCategoricalAccuracy(k=1).update_state(np.array([5]), np.zeros((1, 3)))


def test_function_metric():
    m = metrics.get(lambda t, p: np.abs(t - p).max(-1))
    m.update_state(np.zeros((2, 3)), np.array([[1.0, 2, 3], [0, 0, 1]]))
    assert m.result() == 2.0
