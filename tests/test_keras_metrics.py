"""Keras 3's own metric unit tests, ported case by case (same inputs, expected values and
tolerances), from keras/src/metrics/{reduction,accuracy,probabilistic,regression,hinge}_metrics_test.py.

Cases that only check Keras internals (``len(metric.variables)``, symbolic ``KerasTensor``
shapes) are left out; a metric's config round trip stands in for ``run_class_serialization_test``.
"""

import numpy as np
import pytest

from nncore import metrics
from nncore.errors import ShapeError


def assert_close(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, atol=atol, rtol=rtol)


def round_trip(m):
    """``from_config(get_config())`` and ``deserialize(serialize())`` give the same config."""
    config = m.get_config()
    again = type(m).from_config(config)
    assert again.get_config() == config
    assert metrics.deserialize(metrics.serialize(m)).get_config() == config
    return again


def check_config(m, name, dtype):
    assert m.name == name and m.dtype == dtype
    m2 = round_trip(m)
    assert m2.name == name and m2.dtype == dtype
    return m2


Y_TRUE_01 = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
Y_PRED_01 = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])
W4 = np.array([1.0, 1.5, 2.0, 2.5])


# ------------------------------------------------------------------ reduction_metrics_test.py
def test_sum_config():
    # keras/src/metrics/reduction_metrics_test.py::SumTest::test_config
    check_config(metrics.Sum(name="sum", dtype="float32"), "sum", "float32")


def test_sum_unweighted():
    # keras/src/metrics/reduction_metrics_test.py::SumTest::test_unweighted
    m = metrics.Sum(name="sum", dtype="float32")
    m.update_state([1, 3, 5, 7])
    assert_close(m.result(), 16.0, atol=1e-3)


def test_sum_weighted():
    # keras/src/metrics/reduction_metrics_test.py::SumTest::test_weighted
    m = metrics.Sum(name="sum", dtype="float32")
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert_close(m.result(), 4.0, atol=1e-3)


def test_sum_weighted_nd():
    # keras/src/metrics/reduction_metrics_test.py::SumTest::test_weighted_nd
    m = metrics.Sum(name="sum", dtype="float32")
    m.update_state([[1, 3], [5, 7]], sample_weight=[[1, 1], [1, 0]])
    assert_close(m.result(), 9.0, atol=1e-3)


def test_sum_weighted_nd_broadcast():
    # keras/src/metrics/reduction_metrics_test.py::SumTest::test_weighted_nd_broadcast
    m = metrics.Sum(name="sum", dtype="float32")
    m.update_state([[1, 3], [5, 7]], sample_weight=[[1, 0]])
    assert_close(m.result(), 6.0, atol=1e-3)


def test_mean_config():
    # keras/src/metrics/reduction_metrics_test.py::MeanTest::test_config
    check_config(metrics.Mean(name="mean", dtype="float32"), "mean", "float32")


def test_mean_unweighted():
    # keras/src/metrics/reduction_metrics_test.py::MeanTest::test_unweighted
    m = metrics.Mean(name="mean", dtype="float32")
    m.update_state([1, 3, 5, 7])
    assert_close(m.result(), 4.0, atol=1e-3)


def test_mean_weighted():
    # keras/src/metrics/reduction_metrics_test.py::MeanTest::test_weighted
    m = metrics.Mean(name="mean", dtype="float32")
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert_close(m.result(), 2.0, atol=1e-3)


def test_mean_weighted_negative_weights():
    # keras/src/metrics/reduction_metrics_test.py::MeanTest::test_weighted_negative_weights
    m = metrics.Mean(name="mean", dtype="float32")
    m.update_state([1, 3, 5, 7], sample_weight=[-1, -1, 0, 0])
    assert_close(m.result(), 2.0, atol=1e-3)


def test_mean_weighted_nd():
    # keras/src/metrics/reduction_metrics_test.py::MeanTest::test_weighted_nd
    m = metrics.Mean(name="mean", dtype="float32")
    m.update_state([[1, 3], [5, 7]], sample_weight=[[1, 1], [1, 0]])
    assert_close(m.result(), 3.0, atol=1e-3)


def test_mean_weighted_nd_broadcast():
    # keras/src/metrics/reduction_metrics_test.py::MeanTest::test_weighted_nd_broadcast
    m = metrics.Mean(name="mean", dtype="float32")
    m.update_state([[1, 3], [5, 7]], sample_weight=[[1, 0]])
    assert_close(m.result(), 3.0, atol=1e-3)


def _squared(y_true, y_pred):
    return (y_true - y_pred) ** 2


def test_metric_wrapper_config():
    # keras/src/metrics/reduction_metrics_test.py::MetricWrapperTest::test_config
    m = metrics.MeanMetricWrapper(fn=_squared, name="mse", dtype="float32")
    m2 = check_config(m, "mse", "float32")
    assert "fn" in m2.get_config()


def test_metric_wrapper_unweighted():
    # keras/src/metrics/reduction_metrics_test.py::MetricWrapperTest::test_unweighted
    m = metrics.MeanMetricWrapper(fn=_squared, name="mse", dtype="float32")
    m.update_state(Y_TRUE_01, Y_PRED_01)
    assert_close(m.result(), 0.5, atol=1e-5)


def test_metric_wrapper_weighted():
    # keras/src/metrics/reduction_metrics_test.py::MetricWrapperTest::test_weighted
    m = metrics.MeanMetricWrapper(fn=_squared, name="mse", dtype="float32")
    assert_close(m(Y_TRUE_01, Y_PRED_01, sample_weight=W4), 0.54285, atol=1e-5)


def test_metric_wrapper_weighted_broadcast():
    # keras/src/metrics/reduction_metrics_test.py::MetricWrapperTest::test_weighted_broadcast
    m = metrics.MeanMetricWrapper(fn=_squared, name="mse", dtype="float32")
    w = np.array([[1.0, 0.0, 0.5, 0.0, 1.0]])
    assert_close(m(Y_TRUE_01, Y_PRED_01, sample_weight=w), 0.45, atol=1e-5)


def test_binary_accuracy_with_boolean_inputs():
    # keras/src/metrics/reduction_metrics_test.py::MetricWrapperTest::test_binary_accuracy_with_boolean_inputs
    # (the Keras case builds a model whose output is ``x > 0.5``; its prediction is that array)
    x = np.random.default_rng(0).random((32, 1))
    y = x > 0.5
    m = metrics.BinaryAccuracy()
    m.update_state(y, x > 0.5)
    assert m.result() == 1.0


# ------------------------------------------------------------------ accuracy_metrics_test.py
def test_accuracy_config():
    # keras/src/metrics/accuracy_metrics_test.py::AccuracyTest::test_config
    check_config(metrics.Accuracy(name="accuracy", dtype="float32"), "accuracy", "float32")


def test_accuracy_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::AccuracyTest::test_unweighted
    m = metrics.Accuracy(name="accuracy", dtype="float32")
    m.update_state(np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [4]]))
    assert_close(m.result(), 0.75, atol=1e-3)


def test_accuracy_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::AccuracyTest::test_weighted
    m = metrics.Accuracy(name="accuracy", dtype="float32")
    m.update_state(np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [4]]),
                   sample_weight=np.array([1, 1, 0, 0]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_accuracy_weighted_rank_1():
    # keras/src/metrics/accuracy_metrics_test.py::AccuracyTest::test_weighted_rank_1
    m = metrics.Accuracy(name="accuracy", dtype="float32")
    m.update_state(np.array([1, 2, 3, 4]), np.array([0, 2, 3, 4]), sample_weight=np.array([1, 1, 0, 0]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_accuracy_weighted_nd_weights():
    # keras/src/metrics/accuracy_metrics_test.py::AccuracyTest::test_weighted_nd_weights
    m = metrics.Accuracy(name="accuracy", dtype="float32")
    m.update_state(np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 4]]),
                   sample_weight=np.array([[1, 0], [0, 1]]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_accuracy_weighted_nd_broadcast_weights():
    # keras/src/metrics/accuracy_metrics_test.py::AccuracyTest::test_weighted_nd_broadcast_weights
    m = metrics.Accuracy(name="accuracy", dtype="float32")
    m.update_state(np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 4]]),
                   sample_weight=np.array([[1, 0]]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_binary_accuracy_config():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_config
    check_config(metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32"),
                 "binary_accuracy", "float32")


def test_binary_accuracy_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_unweighted
    m = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32")
    m.update_state(np.array([[1], [1], [0], [0]]), np.array([[0.98], [1], [0], [0.6]]))
    assert_close(m.result(), 0.75, atol=1e-3)
    m = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32")
    m.update_state(np.array([1, 1, 0, 0]), np.array([[0.98], [1], [0], [0.6]]))
    assert_close(m.result(), 0.75, atol=1e-3)


def test_binary_accuracy_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_weighted
    m = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32")
    m.update_state(np.array([[1], [1], [0], [0]]), np.array([[0.98], [1], [0], [0.6]]),
                   sample_weight=np.array([1, 0, 0, 1]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_binary_accuracy_weighted_rank_1():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_weighted_rank_1
    m = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32")
    m.update_state(np.array([1, 1, 0, 0]), np.array([0.98, 1, 0, 0.6]),
                   sample_weight=np.array([1, 0, 0, 1]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_binary_accuracy_weighted_nd_weights():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_weighted_nd_weights
    m = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32")
    m.update_state(np.array([[1, 1], [0, 0]]), np.array([[0.98, 1], [0, 0.6]]),
                   sample_weight=np.array([[1, 0], [0, 1]]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_binary_accuracy_weighted_nd_broadcast_weights():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_weighted_nd_broadcast_weights
    m = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32")
    m.update_state(np.array([[1, 1], [0, 0]]), np.array([[0.98, 1], [0, 0.6]]),
                   sample_weight=np.array([[1, 0]]))
    assert_close(m.result(), 1.0, atol=1e-3)


def test_binary_accuracy_threshold():
    # keras/src/metrics/accuracy_metrics_test.py::BinaryAccuracyTest::test_threshold
    m1 = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32", threshold=0.3)
    m2 = metrics.BinaryAccuracy(name="binary_accuracy", dtype="float32", threshold=0.9)
    y_true = np.array([[1], [1], [0], [0]])
    y_pred = np.array([[0.98], [0.5], [0.1], [0.2]])
    m1.update_state(y_true, y_pred)
    m2.update_state(y_true, y_pred)
    assert_close(m1.result(), 1.0)
    assert_close(m2.result(), 0.75)


def test_categorical_accuracy_config():
    # keras/src/metrics/accuracy_metrics_test.py::CategoricalAccuracyTest::test_config
    check_config(metrics.CategoricalAccuracy(name="categorical_accuracy", dtype="float32"),
                 "categorical_accuracy", "float32")


def test_categorical_accuracy_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::CategoricalAccuracyTest::test_unweighted
    m = metrics.CategoricalAccuracy(name="categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0, 0, 1], [0, 1, 0]]), np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_categorical_accuracy_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::CategoricalAccuracyTest::test_weighted
    m = metrics.CategoricalAccuracy(name="categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0, 0, 1], [0, 1, 0]]), np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]),
                   sample_weight=np.array([0.7, 0.3]))
    assert_close(m.result(), 0.3, atol=1e-3)


def test_sparse_categorical_accuracy_config():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_config
    check_config(metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32"),
                 "sparse_categorical_accuracy", "float32")


def test_sparse_categorical_accuracy_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_unweighted
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[2], [1]]), np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_sparse_categorical_accuracy_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_weighted
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[2], [1]]), np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]),
                   sample_weight=np.array([0.7, 0.3]))
    assert_close(m.result(), 0.3, atol=1e-3)


def test_sparse_categorical_accuracy_squeeze_y_true():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_squeeze_y_true
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0], [1], [2]]),
                   np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]))
    assert_close(m.result(), 1.0, atol=1e-4)


def test_sparse_categorical_accuracy_cast_y_pred_dtype():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_cast_y_pred_dtype
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([0, 1], dtype=np.int64), np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32))
    assert_close(m.result(), 1.0, atol=1e-4)


def test_sparse_categorical_accuracy_reshape_matches():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_reshape_matches
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    y_true = np.array([[0], [0]], dtype=np.int64)
    y_pred = np.array([[[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]]], dtype=np.float32)
    m.update_state(y_true, y_pred)
    assert_close(m.result(), np.array([1.0, 1.0]))


def test_sparse_categorical_accuracy_squeeze_y_true_shape():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_squeeze_y_true_shape
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0], [1], [2]]), np.eye(3))
    assert_close(m.result(), 1.0, atol=1e-4)


def test_sparse_categorical_accuracy_cast_y_pred_to_match_y_true_dtype():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_cast_y_pred_to_match_y_true_dtype
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([0, 1, 2], dtype=np.int32),
                   np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]], dtype=np.float64))
    assert_close(m.result(), 1.0, atol=1e-4)


def test_sparse_categorical_accuracy_reshape_matches_to_original_y_true_shape():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_reshape_matches_to_original_y_true_shape
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0], [1]]), np.array([[0.9, 0.1], [0.1, 0.9]]))
    assert_close(m.result(), 1.0, atol=1e-4)


def test_sparse_categorical_accuracy_matching_shapes_without_squeeze():
    # keras/src/metrics/accuracy_metrics_test.py::SparseCategoricalAccuracyTest::test_matching_shapes_without_squeeze
    m = metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    m.update_state(np.array([2, 1, 0], dtype=np.int32),
                   np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32))
    assert_close(m.result(), 1.0, atol=1e-4)


def test_top_k_categorical_accuracy_config():
    # keras/src/metrics/accuracy_metrics_test.py::TopKCategoricalAccuracyTest::test_config
    m = metrics.TopKCategoricalAccuracy(k=1, name="top_k_categorical_accuracy", dtype="float32")
    assert m.get_config()["k"] == 1
    m2 = check_config(m, "top_k_categorical_accuracy", "float32")
    assert m2.k == 1


def test_top_k_categorical_accuracy_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::TopKCategoricalAccuracyTest::test_unweighted
    m = metrics.TopKCategoricalAccuracy(k=1, name="top_k_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0, 0, 1], [0, 1, 0]]),
                   np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype="float32"))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_top_k_categorical_accuracy_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::TopKCategoricalAccuracyTest::test_weighted
    m = metrics.TopKCategoricalAccuracy(k=1, name="top_k_categorical_accuracy", dtype="float32")
    m.update_state(np.array([[0, 0, 1], [0, 1, 0]]),
                   np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype="float32"),
                   sample_weight=np.array([0.7, 0.3]))
    assert_close(m.result(), 0.3, atol=1e-3)


def test_sparse_top_k_categorical_accuracy_config():
    # keras/src/metrics/accuracy_metrics_test.py::SparseTopKCategoricalAccuracyTest::test_config
    m = metrics.SparseTopKCategoricalAccuracy(k=1, name="sparse_top_k_categorical_accuracy", dtype="float32")
    assert m.get_config()["k"] == 1
    m2 = check_config(m, "sparse_top_k_categorical_accuracy", "float32")
    assert m2.k == 1 and not m2.from_sorted_ids


def test_sparse_top_k_categorical_accuracy_config_from_sorted_ids():
    # keras/src/metrics/accuracy_metrics_test.py::SparseTopKCategoricalAccuracyTest::test_config_from_sorted_ids
    m = metrics.SparseTopKCategoricalAccuracy(k=1, name="sparse_top_k_categorical_accuracy",
                                              dtype="float32", from_sorted_ids=True)
    assert m.get_config()["from_sorted_ids"]
    assert round_trip(m).from_sorted_ids


def test_sparse_top_k_categorical_accuracy_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::SparseTopKCategoricalAccuracyTest::test_unweighted
    m = metrics.SparseTopKCategoricalAccuracy(k=1, name="sparse_top_k_categorical_accuracy", dtype="float32")
    m.update_state(np.array([2, 1]), np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype="float32"))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_sparse_top_k_categorical_accuracy_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::SparseTopKCategoricalAccuracyTest::test_weighted
    m = metrics.SparseTopKCategoricalAccuracy(k=1, name="sparse_top_k_categorical_accuracy", dtype="float32")
    m.update_state(np.array([2, 1]), np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype="float32"),
                   sample_weight=np.array([0.7, 0.3]))
    assert_close(m.result(), 0.3, atol=1e-3)


def test_sparse_top_k_categorical_accuracy_from_sorted_ids_unweighted():
    # keras/src/metrics/accuracy_metrics_test.py::SparseTopKCategoricalAccuracyTest::test_from_sorted_ids_unweighted
    m = metrics.SparseTopKCategoricalAccuracy(k=1, name="sparse_top_k_categorical_accuracy",
                                              dtype="float32", from_sorted_ids=True)
    m.update_state(np.array([2, 1]), np.array([[1, 0, 3], [1, 2, 3]]))
    assert_close(m.result(), 0.5, atol=1e-3)


def test_sparse_top_k_categorical_accuracy_from_sorted_ids_weighted():
    # keras/src/metrics/accuracy_metrics_test.py::SparseTopKCategoricalAccuracyTest::test_from_sorted_ids_weighted
    m = metrics.SparseTopKCategoricalAccuracy(k=1, name="sparse_top_k_categorical_accuracy",
                                              dtype="float32", from_sorted_ids=True)
    m.update_state(np.array([2, 1]), np.array([[1, 0, 3], [1, 2, 3]]), sample_weight=np.array([0.7, 0.3]))
    assert_close(m.result(), 0.3, atol=1e-3)


# ------------------------------------------------------------------ probabilistic_metrics_test.py
KLD_PRED = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype=np.float32).reshape((2, 3))
KLD_TRUE = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype=np.float32).reshape((2, 3))
KLD_EXPECTED = np.multiply(KLD_TRUE, np.log(KLD_TRUE / KLD_PRED))


def test_kl_divergence_config():
    # keras/src/metrics/probabilistic_metrics_test.py::KLDivergenceTest::test_config
    check_config(metrics.KLDivergence(name="kld", dtype="int32"), "kld", "int32")


def test_kl_divergence_unweighted():
    # keras/src/metrics/probabilistic_metrics_test.py::KLDivergenceTest::test_unweighted
    m = metrics.KLDivergence()
    m.update_state(KLD_TRUE, KLD_PRED)
    assert_close(m.result(), np.sum(KLD_EXPECTED) / 2, atol=1e-3)


def test_kl_divergence_weighted():
    # keras/src/metrics/probabilistic_metrics_test.py::KLDivergenceTest::test_weighted
    m = metrics.KLDivergence()
    w = np.asarray([1.2, 3.4], dtype=np.float32).reshape((2, 1))
    result = m(KLD_TRUE, KLD_PRED, sample_weight=w)
    w_full = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4], dtype=np.float32).reshape((2, 3))
    assert_close(result, np.sum(KLD_EXPECTED * w_full) / (1.2 + 3.4), atol=1e-3)


POI_PRED = np.asarray([1, 9, 2, 5, 2, 6], dtype=np.float32).reshape((2, 3))
POI_TRUE = np.asarray([4, 8, 12, 8, 1, 3], dtype=np.float32).reshape((2, 3))
POI_EXPECTED = POI_PRED - np.multiply(POI_TRUE, np.log(POI_PRED))


def test_poisson_config():
    # keras/src/metrics/probabilistic_metrics_test.py::PoissonTest::test_config
    round_trip(metrics.Poisson(name="poisson"))


def test_poisson_unweighted():
    # keras/src/metrics/probabilistic_metrics_test.py::PoissonTest::test_unweighted
    m = metrics.Poisson()
    m.update_state(POI_TRUE, POI_PRED)
    assert_close(m.result(), np.sum(POI_EXPECTED) / 6, atol=1e-3)


def test_poisson_weighted():
    # keras/src/metrics/probabilistic_metrics_test.py::PoissonTest::test_weighted
    m = metrics.Poisson()
    w = np.asarray([1.2, 3.4], dtype=np.float32).reshape((2, 1))
    result = m(POI_TRUE, POI_PRED, sample_weight=w)
    w_full = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4], dtype=np.float32).reshape((2, 3))
    assert_close(result, np.sum(POI_EXPECTED * w_full) / np.sum(w_full), atol=1e-3)


def test_binary_crossentropy_metric_config():
    # keras/src/metrics/probabilistic_metrics_test.py::BinaryCrossentropyTest::test_config
    m = round_trip(metrics.BinaryCrossentropy(name="bce", dtype="int32", label_smoothing=0.2))
    assert m.name == "bce" and m.label_smoothing == 0.2


def test_binary_crossentropy_metric_unweighted():
    # keras/src/metrics/probabilistic_metrics_test.py::BinaryCrossentropyTest::test_unweighted
    m = metrics.BinaryCrossentropy()
    y_true = np.array([1, 0, 1, 0]).reshape([2, 2])
    y_pred = np.array([1, 1, 1, 0], dtype=np.float32).reshape([2, 2])
    assert_close(m(y_true, y_pred), 3.9855, atol=1e-3)


def test_binary_crossentropy_metric_unweighted_with_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::BinaryCrossentropyTest::test_unweighted_with_logits
    m = metrics.BinaryCrossentropy(from_logits=True)
    y_true = np.array([[1, 0, 1], [0, 1, 1]])
    y_pred = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
    assert_close(m(y_true, y_pred), 3.333, atol=1e-3)


def test_binary_crossentropy_metric_weighted():
    # keras/src/metrics/probabilistic_metrics_test.py::BinaryCrossentropyTest::test_weighted
    m = metrics.BinaryCrossentropy()
    y_true = np.array([1, 0, 1, 0]).reshape([2, 2])
    y_pred = np.array([1, 1, 1, 0], dtype=np.float32).reshape([2, 2])
    assert_close(m(y_true, y_pred, sample_weight=np.array([1.5, 2.0])), 3.4162, atol=1e-3)


def test_binary_crossentropy_metric_weighted_from_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::BinaryCrossentropyTest::test_weighted_from_logits
    m = metrics.BinaryCrossentropy(from_logits=True)
    y_true = np.array([[1, 0, 1], [0, 1, 1]])
    y_pred = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
    assert_close(m(y_true, y_pred, sample_weight=np.array([2.0, 2.5])), 3.7037, atol=1e-3)


def test_binary_crossentropy_metric_label_smoothing():
    # keras/src/metrics/probabilistic_metrics_test.py::BinaryCrossentropyTest::test_label_smoothing
    logits = np.array((10.0, -10.0, -10.0))
    y_true = np.array((1, 0, 1))
    m = metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert_close(m(y_true, logits), (10.0 + 5.0 * 0.1) / 3.0, atol=1e-3)


CCE_TRUE = np.array([[0, 1, 0], [0, 0, 1]])
CCE_PRED = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
CCE_LOGITS = np.array([[1, 9, 0], [1, 8, 1]], dtype=np.float32)


def test_categorical_crossentropy_metric_config():
    # keras/src/metrics/probabilistic_metrics_test.py::CategoricalCrossentropyTest::test_config
    m = round_trip(metrics.CategoricalCrossentropy(name="cce", dtype="int32", label_smoothing=0.2))
    assert m.name == "cce" and m.label_smoothing == 0.2 and m.axis == -1


def test_categorical_crossentropy_metric_unweighted():
    # keras/src/metrics/probabilistic_metrics_test.py::CategoricalCrossentropyTest::test_unweighted
    assert_close(metrics.CategoricalCrossentropy()(CCE_TRUE, CCE_PRED), 1.176, atol=1e-3)


def test_categorical_crossentropy_metric_unweighted_from_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::CategoricalCrossentropyTest::test_unweighted_from_logits
    assert_close(metrics.CategoricalCrossentropy(from_logits=True)(CCE_TRUE, CCE_LOGITS), 3.5011, atol=1e-3)


def test_categorical_crossentropy_metric_weighted():
    # keras/src/metrics/probabilistic_metrics_test.py::CategoricalCrossentropyTest::test_weighted
    m = metrics.CategoricalCrossentropy()
    assert_close(m(CCE_TRUE, CCE_PRED, sample_weight=np.array([1.5, 2.0])), 1.338, atol=1e-3)


def test_categorical_crossentropy_metric_weighted_from_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::CategoricalCrossentropyTest::test_weighted_from_logits
    m = metrics.CategoricalCrossentropy(from_logits=True)
    assert_close(m(CCE_TRUE, CCE_LOGITS, sample_weight=np.array([1.5, 2.0])), 4.0012, atol=1e-3)


def test_categorical_crossentropy_metric_label_smoothing():
    # keras/src/metrics/probabilistic_metrics_test.py::CategoricalCrossentropyTest::test_label_smoothing
    m = metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert_close(m(CCE_TRUE, CCE_LOGITS), 3.667, atol=1e-3)


SCCE_TRUE = np.array([1, 2])


def test_sparse_categorical_crossentropy_metric_config():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_config
    m = round_trip(metrics.SparseCategoricalCrossentropy(name="scce", dtype="int32"))
    assert m.name == "scce" and m.dtype == "int32" and m.ignore_class is None and m.axis == -1


def test_sparse_categorical_crossentropy_metric_unweighted():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_unweighted
    assert_close(metrics.SparseCategoricalCrossentropy()(SCCE_TRUE, CCE_PRED), 1.176, atol=1e-3)


def test_sparse_categorical_crossentropy_metric_unweighted_from_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_unweighted_from_logits
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    assert_close(m(SCCE_TRUE, CCE_LOGITS), 3.5011, atol=1e-3)


def test_sparse_categorical_crossentropy_metric_weighted():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_weighted
    m = metrics.SparseCategoricalCrossentropy()
    assert_close(m(SCCE_TRUE, CCE_PRED, sample_weight=np.array([1.5, 2.0])), 1.338, atol=1e-3)


def test_sparse_categorical_crossentropy_metric_weighted_from_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_weighted_from_logits
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    assert_close(m(SCCE_TRUE, CCE_LOGITS, sample_weight=np.array([1.5, 2.0])), 4.0012, atol=1e-3)


IGN_PRED = np.array([[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]])


def test_sparse_categorical_crossentropy_metric_ignore_class():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_ignore_class
    m = metrics.SparseCategoricalCrossentropy(ignore_class=0)
    assert_close(m(np.array([0, 1, 2]), IGN_PRED), 0.78462, atol=1e-3)


def test_sparse_categorical_crossentropy_metric_ignore_class_weighted():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_ignore_class_weighted
    m = metrics.SparseCategoricalCrossentropy(ignore_class=0)
    result = m(np.array([0, 1, 2]), IGN_PRED, sample_weight=np.array([0.5, 1.5, 2.0]))
    assert_close(result, 1.33774646, atol=1e-3)


def test_sparse_categorical_crossentropy_metric_ignore_class_from_logits():
    # keras/src/metrics/probabilistic_metrics_test.py::SparseCategoricalCrossentropyTest::test_ignore_class_from_logits
    m = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    logits = np.array([[10, 1, 1], [1, 9, 0], [1, 8, 1]], dtype=np.float32)
    assert_close(m(np.array([0, 1, 2]), logits), 2.33409, atol=1e-3)


# ------------------------------------------------------------------ regression_metrics_test.py
def test_mean_squared_error_metric_unweighted():
    # keras/src/metrics/regression_metrics_test.py::MeanSquaredErrorTest::test_unweighted
    m = metrics.MeanSquaredError()
    m.update_state(Y_TRUE_01, Y_PRED_01)
    assert_close(m.result(), 0.5, atol=1e-5)


def test_mean_squared_error_metric_weighted():
    # keras/src/metrics/regression_metrics_test.py::MeanSquaredErrorTest::test_weighted
    assert_close(metrics.MeanSquaredError()(Y_TRUE_01, Y_PRED_01, sample_weight=W4), 0.54285, atol=1e-5)


COS_TRUE = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
COS_PRED = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)


def _cos_expected(axis=1):
    def l2(x):
        return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=axis, keepdims=True), 1e-12))
    return np.sum(l2(COS_TRUE) * l2(COS_PRED), axis=(axis,))


def test_cosine_similarity_metric_config():
    # keras/src/metrics/regression_metrics_test.py::CosineSimilarityTest::test_config
    m = metrics.CosineSimilarity(axis=2, name="my_cos", dtype="int32")
    m2 = check_config(m, "my_cos", "int32")
    assert m2.axis == 2


def test_cosine_similarity_metric_unweighted():
    # keras/src/metrics/regression_metrics_test.py::CosineSimilarityTest::test_unweighted
    assert_close(metrics.CosineSimilarity()(COS_TRUE, COS_PRED), np.mean(_cos_expected()), atol=1e-3)


def test_cosine_similarity_metric_weighted():
    # keras/src/metrics/regression_metrics_test.py::CosineSimilarityTest::test_weighted
    w = np.asarray([1.2, 3.4])
    result = metrics.CosineSimilarity()(COS_TRUE, COS_PRED, sample_weight=w)
    assert_close(result, np.sum(_cos_expected() * w) / np.sum(w), atol=1e-3)


def test_cosine_similarity_metric_axis():
    # keras/src/metrics/regression_metrics_test.py::CosineSimilarityTest::test_axis
    assert_close(metrics.CosineSimilarity(axis=1)(COS_TRUE, COS_PRED), np.mean(_cos_expected(1)), atol=1e-3)


def test_mean_absolute_error_metric_config():
    # keras/src/metrics/regression_metrics_test.py::MeanAbsoluteErrorTest::test_config
    check_config(metrics.MeanAbsoluteError(name="my_mae", dtype="int32"), "my_mae", "int32")


def test_mean_absolute_error_metric_unweighted():
    # keras/src/metrics/regression_metrics_test.py::MeanAbsoluteErrorTest::test_unweighted
    m = metrics.MeanAbsoluteError()
    m.update_state(Y_TRUE_01, Y_PRED_01)
    assert_close(m.result(), 0.5, atol=1e-5)


def test_mean_absolute_error_metric_weighted():
    # keras/src/metrics/regression_metrics_test.py::MeanAbsoluteErrorTest::test_weighted
    assert_close(metrics.MeanAbsoluteError()(Y_TRUE_01, Y_PRED_01, sample_weight=W4), 0.54285, atol=1e-5)


def test_mean_absolute_percentage_error_metric_config():
    # keras/src/metrics/regression_metrics_test.py::MeanAbsolutePercentageErrorTest::test_config
    check_config(metrics.MeanAbsolutePercentageError(name="my_mape", dtype="int32"), "my_mape", "int32")


def test_mean_absolute_percentage_error_metric_unweighted():
    # keras/src/metrics/regression_metrics_test.py::MeanAbsolutePercentageErrorTest::test_unweighted
    result = metrics.MeanAbsolutePercentageError()(Y_TRUE_01, Y_PRED_01.astype("float32"))
    assert_close(result, 35e7, atol=1e-5)


def test_mean_absolute_percentage_error_metric_weighted():
    # keras/src/metrics/regression_metrics_test.py::MeanAbsolutePercentageErrorTest::test_weighted
    result = metrics.MeanAbsolutePercentageError()(Y_TRUE_01, Y_PRED_01.astype("float32"), sample_weight=W4)
    assert_close(result, 40e7, atol=1e-5)


def test_mean_squared_logarithmic_error_metric_config():
    # keras/src/metrics/regression_metrics_test.py::MeanSquaredLogarithmicErrorTest::test_config
    check_config(metrics.MeanSquaredLogarithmicError(name="my_msle", dtype="int32"), "my_msle", "int32")


def test_mean_squared_logarithmic_error_metric_unweighted():
    # keras/src/metrics/regression_metrics_test.py::MeanSquaredLogarithmicErrorTest::test_unweighted
    m = metrics.MeanSquaredLogarithmicError()
    m.update_state(Y_TRUE_01, Y_PRED_01)
    assert_close(m.result(), 0.24022, atol=1e-5)


def test_mean_squared_logarithmic_error_metric_weighted():
    # keras/src/metrics/regression_metrics_test.py::MeanSquaredLogarithmicErrorTest::test_weighted
    result = metrics.MeanSquaredLogarithmicError()(Y_TRUE_01, Y_PRED_01, sample_weight=W4)
    assert_close(result, 0.26082, atol=1e-5)


def test_root_mean_squared_error_config():
    # keras/src/metrics/regression_metrics_test.py::RootMeanSquaredErrorTest::test_config
    check_config(metrics.RootMeanSquaredError(name="rmse", dtype="int32"), "rmse", "int32")


def test_root_mean_squared_error_unweighted():
    # keras/src/metrics/regression_metrics_test.py::RootMeanSquaredErrorTest::test_unweighted
    m = metrics.RootMeanSquaredError()
    m.update_state(np.array([2, 4, 6]), np.array([1, 3, 2]))
    assert_close(np.sqrt(6), m.result(), atol=1e-3)


def test_root_mean_squared_error_weighted():
    # keras/src/metrics/regression_metrics_test.py::RootMeanSquaredErrorTest::test_weighted
    m = metrics.RootMeanSquaredError()
    result = m(np.array([2, 4, 6, 8]), np.array([1, 3, 2, 3]), sample_weight=np.array([0, 1, 0, 1]))
    assert_close(np.sqrt(13), result, atol=1e-3)


LC_TRUE = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
LC_PRED = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)
LC_EXPECTED = np.log((np.exp(LC_PRED - LC_TRUE) + np.exp(LC_TRUE - LC_PRED)) / 2)


def test_log_cosh_error_config():
    # keras/src/metrics/regression_metrics_test.py::LogCoshErrorTest::test_config
    m = metrics.LogCoshError(name="logcosh", dtype="int32")
    assert m.name == "logcosh" and m.dtype == "int32"


def test_log_cosh_error_unweighted():
    # keras/src/metrics/regression_metrics_test.py::LogCoshErrorTest::test_unweighted
    m = metrics.LogCoshError()
    m.update_state(LC_TRUE, LC_PRED)
    assert_close(m.result(), np.sum(LC_EXPECTED) / 6, atol=1e-3)


def test_log_cosh_error_weighted():
    # keras/src/metrics/regression_metrics_test.py::LogCoshErrorTest::test_weighted
    m = metrics.LogCoshError(dtype="float32")
    result = m(LC_TRUE, LC_PRED, sample_weight=np.array([[1.2], [3.4]]))
    w = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    assert_close(result, np.sum(LC_EXPECTED * w) / np.sum(w), atol=1e-3)


def test_r2_score_config():
    # keras/src/metrics/regression_metrics_test.py::R2ScoreTest::test_config
    m = metrics.R2Score(class_aggregation=None, num_regressors=2, dtype="float32")
    assert m.class_aggregation is None and m.num_regressors == 2 and m.dtype == "float32"
    m2 = metrics.R2Score.from_config(m.get_config())
    assert m2.class_aggregation is None and m2.num_regressors == 2 and m2.dtype == "float32"


def _r2(y_true, y_pred, sample_weight, class_aggregation, num_regressors, expected):
    r2 = metrics.R2Score(class_aggregation, num_regressors, dtype="float32")
    r2.update_state(y_true, y_pred, sample_weight)
    assert_close(r2.result(), expected, atol=1e-6, rtol=1e-5)


# keras/src/metrics/regression_metrics_test.py::R2ScoreTest::test_r2_sklearn_comparison
@pytest.mark.parametrize("class_aggregation, num_regressors, expected", [
    (None, 0, [0.37, -1.295, 0.565]),
    (None, 1, [-0.26, -3.59, 0.13]),
    ("uniform_average", 0, -0.12),
    ("variance_weighted_average", 0, -0.12),
])
def test_r2_sklearn_comparison(class_aggregation, num_regressors, expected):
    y_true = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    y_pred = [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]]
    _r2(y_true, y_pred, None, class_aggregation, num_regressors, expected)


# keras/src/metrics/regression_metrics_test.py::R2ScoreTest::test_r2_tfa_comparison
@pytest.mark.parametrize("class_aggregation, num_regressors, expected", [
    (None, 0, [0.17305559, -8.836666, -0.521]),
    (None, 1, [-0.65388882, -18.673332, -2.042]),
    (None, 2, [0.17305559, -8.836666, -0.521]),
    ("uniform_average", 0, -3.0615367889404297),
    ("uniform_average", 1, -7.123073577880859),
    ("uniform_average", 2, -3.0615367889404297),
    ("variance_weighted_average", 0, -1.3710224628448486),
    ("variance_weighted_average", 1, -3.742044448852539),
    ("variance_weighted_average", 2, -1.3710224628448486),
])
def test_r2_tfa_comparison(class_aggregation, num_regressors, expected):
    y_true = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    y_pred = [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]]
    with pytest.warns(UserWarning) if num_regressors == 2 else _nullcontext():
        _r2(y_true, y_pred, [0.8, 0.1, 0.4], class_aggregation, num_regressors, expected)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_r2_score_errors():
    # keras/src/metrics/regression_metrics_test.py::R2ScoreTest::test_errors
    with pytest.raises(ValueError, match="Invalid value for argument `class_aggregation`"):
        metrics.R2Score(class_aggregation="wrong")
    with pytest.raises(ValueError, match="Invalid value for argument `num_regressors`"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="expects 2D inputs with shape"):
        metrics.R2Score().update_state([0.0, 1.0], [0.0, 1.0])


# ------------------------------------------------------------------ hinge_metrics_test.py
H_PRED = np.array([[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]])


@pytest.mark.parametrize("cls, name", [
    # keras/src/metrics/hinge_metrics_test.py::HingeTest::test_config
    (metrics.Hinge, "hinge"),
    # keras/src/metrics/hinge_metrics_test.py::SquaredHingeTest::test_config
    (metrics.SquaredHinge, "squared_hinge"),
    # keras/src/metrics/hinge_metrics_test.py::CategoricalHingeTest::test_config
    (metrics.CategoricalHinge, "cat_hinge"),
])
def test_hinge_metrics_config(cls, name):
    check_config(cls(name=name, dtype="int32"), name, "int32")


def test_hinge_metric_unweighted():
    # keras/src/metrics/hinge_metrics_test.py::HingeTest::test_unweighted
    m = metrics.Hinge()
    m.update_state(np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]]), H_PRED)
    assert_close(m.result(), 0.506, atol=1e-3)


def test_hinge_metric_weighted():
    # keras/src/metrics/hinge_metrics_test.py::HingeTest::test_weighted
    y_true = np.array([[-1, 1, -1, 1], [-1, -1, 1, 1]])
    assert_close(metrics.Hinge()(y_true, H_PRED, sample_weight=np.array([1.5, 2.0])), 0.493, atol=1e-3)


def test_squared_hinge_metric_unweighted():
    # keras/src/metrics/hinge_metrics_test.py::SquaredHingeTest::test_unweighted
    m = metrics.SquaredHinge()
    m.update_state(np.array([[0, 1, 0, 1], [0, 0, 1, 1]], dtype="float32"), H_PRED)
    assert_close(m.result(), 0.364, atol=1e-3)


def test_squared_hinge_metric_weighted():
    # keras/src/metrics/hinge_metrics_test.py::SquaredHingeTest::test_weighted
    y_true = np.array([[-1, 1, -1, 1], [-1, -1, 1, 1]], dtype="float32")
    result = metrics.SquaredHinge()(y_true, H_PRED, sample_weight=np.array([1.5, 2.0]))
    assert_close(result, 0.347, atol=1e-3)


CH_TRUE = np.array(((0, 1, 0, 1, 0), (0, 0, 1, 1, 1), (1, 1, 1, 1, 0), (0, 0, 0, 0, 1)), dtype="float32")
CH_PRED = np.array(((0, 0, 1, 1, 0), (1, 1, 1, 1, 1), (0, 1, 0, 1, 0), (1, 1, 1, 1, 1)), dtype="float32")


def test_categorical_hinge_metric_unweighted():
    # keras/src/metrics/hinge_metrics_test.py::CategoricalHingeTest::test_unweighted
    m = metrics.CategoricalHinge()
    m.update_state(CH_TRUE, CH_PRED)
    assert_close(m.result(), 0.5, atol=1e-5)


def test_categorical_hinge_metric_weighted():
    # keras/src/metrics/hinge_metrics_test.py::CategoricalHingeTest::test_weighted
    result = metrics.CategoricalHinge()(CH_TRUE, CH_PRED, sample_weight=np.array((1.0, 1.5, 2.0, 2.5)))
    assert_close(result, 0.5, atol=1e-5)


# ------------------------------------------------------------------ beyond the Keras files
def test_categorical_accuracy_takes_the_argmax_over_the_last_axis():
    rng = np.random.default_rng(3)
    y_pred = rng.random((4, 5, 3))            # (batch, time, classes)
    y_true = np.eye(3)[rng.integers(0, 3, size=(4, 5))]
    expected = np.mean(y_true.argmax(-1) == y_pred.argmax(-1))
    m = metrics.CategoricalAccuracy()
    m.update_state(y_true, y_pred)
    assert_close(m.result(), expected, atol=1e-12)
    wrong_axis = np.mean(y_true.argmax(1) == y_pred.argmax(1))
    assert not np.isclose(expected, wrong_axis)


def test_metric_names_resolve_to_keras_classes():
    for name, cls in [("binary_crossentropy", metrics.BinaryCrossentropy), ("bce", metrics.BinaryCrossentropy),
                      ("categorical_crossentropy", metrics.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy", metrics.SparseCategoricalCrossentropy),
                      ("kl_divergence", metrics.KLDivergence), ("poisson", metrics.Poisson),
                      ("hinge", metrics.Hinge), ("squared_hinge", metrics.SquaredHinge),
                      ("categorical_hinge", metrics.CategoricalHinge),
                      ("msle", metrics.MeanSquaredLogarithmicError),
                      ("mape", metrics.MeanAbsolutePercentageError), ("logcosh", metrics.LogCoshError),
                      ("cosine_similarity", metrics.CosineSimilarity), ("r2_score", metrics.R2Score),
                      ("root_mean_squared_error", metrics.RootMeanSquaredError)]:
        assert type(metrics.get(name)) is cls, name
    defaults = {metrics.BinaryCrossentropy: "binary_crossentropy", metrics.KLDivergence: "kl_divergence",
                metrics.LogCoshError: "logcosh", metrics.R2Score: "r2_score",
                metrics.CosineSimilarity: "cosine_similarity",
                metrics.MeanSquaredLogarithmicError: "mean_squared_logarithmic_error"}
    for cls, name in defaults.items():
        assert cls().name == name


def test_sparse_accuracy_shapes_that_do_not_broadcast_raise():
    with pytest.raises(ShapeError, match="does not match"):
        metrics.sparse_categorical_accuracy(np.zeros(3), np.zeros((2, 4)))
    with pytest.raises(ShapeError, match="one-hot"):
        metrics.sparse_categorical_accuracy(np.eye(3), np.eye(3))


def test_top_k_metrics_expose_k_and_compute_with_it():
    y_pred = np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]])
    for m, y_true in ((metrics.TopKCategoricalAccuracy(k=2), np.array([[0, 0, 1], [0, 0, 1]])),
                      (metrics.SparseTopKCategoricalAccuracy(k=2), np.array([2, 2]))):
        assert m.k == 2 and m.get_config()["k"] == 2
        m.update_state(y_true, y_pred)
        assert m.result() == 0.5
        m.k = 3
        m.reset_state()
        m.update_state(y_true, y_pred)
        assert m.result() == 1.0 and m.get_config()["k"] == 3 and type(m).from_config(m.get_config()).k == 3
        with pytest.raises(ValueError, match="k must be a positive integer"):
            m.k = 0
