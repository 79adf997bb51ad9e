"""Keras 3's loss unit tests (keras/src/losses/losses_test.py), ported case by case: same inputs,
same expected values, same tolerances (Keras' ``assertAlmostEqual`` is 3 decimals unless told).

Left out: ``test_dtype_arg`` (bfloat16 results; NumPy has no bfloat16), and the classes nncore
does not have (CTC, Tversky, Circle, CategoricalGeneralizedCrossEntropy). Where Keras' result
depends on its backend (``axis`` of SparseCategoricalCrossentropy) nncore follows the backend
that supports the argument (torch).
"""

import warnings

import numpy as np
import pytest

from nncore import losses


def almost(actual, desired, decimal=3):
    np.testing.assert_array_almost_equal(np.asarray(actual, dtype=np.float64), desired, decimal=decimal)


def close(actual, desired, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), desired, atol=atol, rtol=rtol)


def round_trip(loss):
    """Keras' ``run_class_serialization_test``: the config survives from_config and
    serialize/deserialize unchanged."""
    config = loss.get_config()
    assert type(loss).from_config(config).get_config() == config
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == config
    return again


YT = np.array([[1, 9, 2], [-5, -2, 6]])
YP = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
YT_STEP = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
YP_STEP = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
W_STEP = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3))
W_COL = np.array([[1.2], [3.4]])


# ------------------------------------------------------------------ MeanSquaredErrorTest
def test_mse_config():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_config
    round_trip(losses.MeanSquaredError(name="mymse"))


def test_mse_base_function_reduction():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_base_function_reduction
    loss = losses.mean_squared_error(np.array([4, 8, 12]), np.array([[3], [0], [1]]))
    assert np.shape(loss) == (3,)


def test_mse_all_correct_unweighted():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_all_correct_unweighted
    y = np.array([[4, 8, 12], [8, 1, 3]])
    almost(losses.MeanSquaredError()(y, y), 0.0)


def test_mse_unweighted():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_unweighted
    almost(losses.MeanSquaredError()(YT, YP), 49.5)


def test_mse_scalar_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_scalar_weighted
    almost(losses.MeanSquaredError()(YT, YP, sample_weight=2.3), 113.85)


def test_mse_sample_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_sample_weighted
    almost(losses.MeanSquaredError()(YT, YP, sample_weight=W_COL), 767.8 / 6)


def test_mse_timestep_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_timestep_weighted
    almost(losses.MeanSquaredError()(YT_STEP, YP_STEP, sample_weight=W_STEP), 97.833336)


def test_mse_zero_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_zero_weighted
    almost(losses.MeanSquaredError()(YT, YP, sample_weight=0), 0.0)


def test_mse_no_reduction():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_no_reduction
    almost(losses.MeanSquaredError(reduction=None)(YT, YP, sample_weight=2.3), [84.3333, 143.3666])


def test_mse_sum_reduction():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_sum_reduction
    almost(losses.MeanSquaredError(reduction="sum")(YT, YP, sample_weight=2.3), 227.69998)


def test_mse_mean_with_sample_weight_reduction():
    # keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_mean_with_sample_weight_reduction
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=W_COL)
    almost(loss, (110 / 3 * 1.2 + 187 / 3 * 3.4) / (1.2 + 3.4))


# ------------------------------------------------------------------ MeanAbsoluteErrorTest
def test_mae_config():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_config
    round_trip(losses.MeanAbsoluteError(name="myname"))


def test_mae_all_correct_unweighted():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_all_correct_unweighted
    y = np.array([[4, 8, 12], [8, 1, 3]])
    almost(losses.MeanAbsoluteError()(y, y), 0.0)


def test_mae_unweighted():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_unweighted
    almost(losses.MeanAbsoluteError()(YT, YP), 5.5)


def test_mae_scalar_weighted():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_scalar_weighted
    almost(losses.MeanAbsoluteError()(YT, YP, sample_weight=2.3), 12.65)


def test_mae_sample_weighted():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_sample_weighted
    almost(losses.MeanAbsoluteError()(YT, YP, sample_weight=W_COL), 81.4 / 6)


def test_mae_timestep_weighted():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_timestep_weighted
    almost(losses.MeanAbsoluteError()(YT_STEP, YP_STEP, sample_weight=W_STEP), 13.833333)


def test_mae_zero_weighted():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_zero_weighted
    almost(losses.MeanAbsoluteError()(YT, YP, sample_weight=0), 0.0)


def test_mae_no_reduction():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_no_reduction
    almost(losses.MeanAbsoluteError(reduction=None)(YT, YP, sample_weight=2.3), [10.7333, 14.5666])


def test_mae_sum_reduction():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_sum_reduction
    almost(losses.MeanAbsoluteError(reduction="sum")(YT, YP, sample_weight=2.3), 25.29999)


def test_mae_mean_with_sample_weight_reduction():
    # keras/src/losses/losses_test.py::MeanAbsoluteErrorTest::test_mean_with_sample_weight_reduction
    loss = losses.MeanAbsoluteError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=W_COL)
    almost(loss, (14 / 3 * 1.2 + 19 / 3 * 3.4) / (1.2 + 3.4))


# ------------------------------------------------------------------ MeanAbsolutePercentageErrorTest
def test_mape_config():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_config
    round_trip(losses.MeanAbsolutePercentageError(name="mymape"))


def test_mape_all_correct_unweighted():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_all_correct_unweighted
    y = np.array([[4, 8, 12], [8, 1, 3]])
    almost(losses.MeanAbsolutePercentageError()(y, y), 0.0)


def test_mape_unweighted():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_unweighted
    almost(losses.MeanAbsolutePercentageError()(YT, YP), 211.8518, 3)


def test_mape_scalar_weighted():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_scalar_weighted
    almost(losses.MeanAbsolutePercentageError()(YT, YP, sample_weight=2.3), 487.259, 3)


def test_mape_sample_weighted():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_sample_weighted
    almost(losses.MeanAbsolutePercentageError()(YT, YP, sample_weight=W_COL), 422.8888, 3)


def test_mape_timestep_weighted():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_timestep_weighted
    almost(losses.MeanAbsolutePercentageError()(YT_STEP, YP_STEP, sample_weight=W_STEP), 694.4444)


def test_mape_zero_weighted():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_zero_weighted
    almost(losses.MeanAbsolutePercentageError()(YT, YP, sample_weight=0), 0.0, 3)


def test_mape_no_reduction():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_no_reduction
    loss = losses.MeanAbsolutePercentageError(reduction=None)(YT, YP, sample_weight=2.3)
    almost(loss, [621.8518, 352.6666])


def test_mape_mean_with_sample_weight_reduction():
    # keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::test_mean_with_sample_weight_reduction
    loss = losses.MeanAbsolutePercentageError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=W_COL)
    almost(loss, 183.865)


# ------------------------------------------------------------------ MeanSquaredLogarithmicErrorTest
def test_msle_config():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_config
    round_trip(losses.MeanSquaredLogarithmicError(name="mysloge"))


def test_msle_unweighted():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_unweighted
    almost(losses.MeanSquaredLogarithmicError()(YT, YP), 1.4370, 3)


def test_msle_scalar_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_scalar_weighted
    almost(losses.MeanSquaredLogarithmicError()(YT, YP, sample_weight=2.3), 3.3051, 3)


def test_msle_sample_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_sample_weighted
    almost(losses.MeanSquaredLogarithmicError()(YT, YP, sample_weight=W_COL), 3.7856, 3)


def test_msle_timestep_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_timestep_weighted
    almost(losses.MeanSquaredLogarithmicError()(YT_STEP, YP_STEP, sample_weight=W_STEP), 2.647374)


def test_msle_zero_weighted():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_zero_weighted
    almost(losses.MeanSquaredLogarithmicError()(YT, YP, sample_weight=0), 0.0, 3)


def test_msle_mean_with_sample_weight_reduction():
    # keras/src/losses/losses_test.py::MeanSquaredLogarithmicErrorTest::test_mean_with_sample_weight_reduction
    loss = losses.MeanSquaredLogarithmicError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=W_COL)
    almost(loss, 1.646)


# ------------------------------------------------------------------ Hinge, SquaredHinge, CategoricalHinge
H_TRUE = np.array([[0.0, 1.0], [0.0, 0.0]])
H_PRED = np.array([[0.6, 0.4], [0.4, 0.6]])


@pytest.mark.parametrize("cls, over_batch, total, per_sample", [
    # keras/src/losses/losses_test.py::HingeTest::test_unweighted
    (losses.Hinge, 1.3, 2.6, [1.1, 1.5]),
    # keras/src/losses/losses_test.py::SquaredHingeTest::test_unweighted
    (losses.SquaredHinge, 1.86, 3.72, [1.46, 2.26]),
    # keras/src/losses/losses_test.py::CategoricalHingeTest::test_unweighted
    (losses.CategoricalHinge, 1.4, 2.8, [1.2, 1.6]),
])
def test_hinges_unweighted(cls, over_batch, total, per_sample):
    almost(cls(reduction="sum_over_batch_size")(H_TRUE, H_PRED), over_batch, 3)
    almost(cls(reduction="sum")(H_TRUE, H_PRED), total, 3)
    close(cls(reduction=None)(H_TRUE, H_PRED), per_sample)
    with pytest.raises(ValueError, match="Invalid value for argument"):
        cls(reduction="abc")


@pytest.mark.parametrize("cls, over_batch, total, per_sample", [
    # keras/src/losses/losses_test.py::HingeTest::test_weighted
    (losses.Hinge, 0.55, 1.1, [1.1, 0.0]),
    # keras/src/losses/losses_test.py::SquaredHingeTest::test_weighted
    (losses.SquaredHinge, 0.73, 1.46, [1.46, 0.0]),
    # keras/src/losses/losses_test.py::CategoricalHingeTest::test_weighted
    (losses.CategoricalHinge, 0.6, 1.2, [1.2, 0.0]),
])
def test_hinges_weighted(cls, over_batch, total, per_sample):
    w = [1, 0]
    almost(cls(reduction="sum_over_batch_size")(H_TRUE, H_PRED, sample_weight=w), over_batch, 3)
    almost(cls(reduction="sum")(H_TRUE, H_PRED, sample_weight=w), total, 3)
    almost(cls(reduction=None)(H_TRUE, H_PRED, sample_weight=w), per_sample)


@pytest.mark.parametrize("cls", [
    # keras/src/losses/losses_test.py::HingeTest::test_zero_weighted
    losses.Hinge,
    # keras/src/losses/losses_test.py::SquaredHingeTest::test_zero_weighted
    losses.SquaredHinge,
    # keras/src/losses/losses_test.py::CategoricalHingeTest::test_zero_weighted
    losses.CategoricalHinge,
])
def test_hinges_zero_weighted(cls):
    assert cls()(H_TRUE, H_PRED, sample_weight=0.0) == 0.0


# ------------------------------------------------------------------ CosineSimilarityTest
COS_TRUE = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
COS_PRED = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)


def _l2(x, axis):
    return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=axis, keepdims=True), 1e-12))


COS_EXPECTED = np.sum(_l2(COS_TRUE, 1) * _l2(COS_PRED, 1), axis=(1,))


def test_cosine_similarity_config():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_config
    obj = losses.CosineSimilarity(axis=2, reduction="sum", name="cosine_loss")
    assert obj.name == "cosine_loss" and obj.reduction == "sum"
    assert obj.get_config() == {"name": "cosine_loss", "reduction": "sum", "axis": 2}
    round_trip(obj)


def test_cosine_similarity_unweighted():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_unweighted
    almost(losses.CosineSimilarity()(COS_TRUE, COS_PRED), -np.mean(COS_EXPECTED), 3)


def test_cosine_similarity_scalar_weighted():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_scalar_weighted
    almost(losses.CosineSimilarity()(COS_TRUE, COS_PRED, sample_weight=2.3), -np.mean(COS_EXPECTED * 2.3), 3)


def test_cosine_similarity_sample_weighted():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_sample_weighted
    w = np.asarray([1.2, 3.4])
    almost(losses.CosineSimilarity()(COS_TRUE, COS_PRED, sample_weight=w), -np.mean(COS_EXPECTED * w), 3)


def test_cosine_similarity_timestep_weighted():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_timestep_weighted
    y_true = COS_TRUE.reshape((2, 3, 1))
    y_pred = COS_PRED.reshape((2, 3, 1))
    w = np.asarray([3, 6, 5, 0, 4, 2]).reshape((2, 3))
    expected = np.sum(_l2(y_true, 2) * _l2(y_pred, 2), axis=(2,))
    almost(losses.CosineSimilarity()(y_true, y_pred, sample_weight=w), -np.mean(expected * w), 3)


def test_cosine_similarity_zero_weighted():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_zero_weighted
    almost(losses.CosineSimilarity()(COS_TRUE, COS_PRED, sample_weight=0), 0.0, 3)


def test_cosine_similarity_axis():
    # keras/src/losses/losses_test.py::CosineSimilarityTest::test_axis
    almost(losses.CosineSimilarity(axis=1)(COS_TRUE, COS_PRED), -np.mean(COS_EXPECTED), 3)


# ------------------------------------------------------------------ HuberLossTest
HU_PRED = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
HU_TRUE = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def _huber(y_true, y_pred, delta=1.0):
    abs_error = np.abs(y_pred - y_true)
    quadratic = np.minimum(abs_error, delta)
    return 0.5 * quadratic * quadratic + delta * (abs_error - quadratic)


def test_huber_config():
    # keras/src/losses/losses_test.py::HuberLossTest::test_config
    obj = losses.Huber(delta=2.0, reduction="sum", name="huber")
    assert obj.name == "huber" and obj.reduction == "sum"
    assert obj.get_config() == {"name": "huber", "reduction": "sum", "delta": 2.0}
    round_trip(obj)


def test_huber_all_correct():
    # keras/src/losses/losses_test.py::HuberLossTest::test_all_correct
    almost(losses.Huber()(HU_TRUE, HU_TRUE), 0.0, 3)


def test_huber_unweighted():
    # keras/src/losses/losses_test.py::HuberLossTest::test_unweighted
    almost(losses.Huber()(HU_TRUE, HU_PRED), np.sum(_huber(HU_TRUE, HU_PRED)) / 6, 3)


def test_huber_scalar_weighted():
    # keras/src/losses/losses_test.py::HuberLossTest::test_scalar_weighted
    h = losses.Huber()
    loss = h(HU_TRUE, HU_PRED, sample_weight=2.3)
    almost(loss, 2.3 * np.sum(_huber(HU_TRUE, HU_PRED)) / 6, 3)
    almost(loss, h(HU_TRUE, HU_PRED, sample_weight=2.3), 3)


def test_huber_sample_weighted():
    # keras/src/losses/losses_test.py::HuberLossTest::test_sample_weighted
    loss = losses.Huber()(HU_TRUE, HU_PRED, sample_weight=np.array([[1.2], [3.4]]))
    w = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    almost(loss, np.sum(_huber(HU_TRUE, HU_PRED) * w) / 6, 3)


def test_huber_timestep_weighted():
    # keras/src/losses/losses_test.py::HuberLossTest::test_timestep_weighted
    y_pred = HU_PRED.reshape((2, 3, 1))
    y_true = HU_TRUE.reshape((2, 3, 1))
    w = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3, 1))
    loss = losses.Huber()(y_true, y_pred, sample_weight=w)
    almost(loss, np.sum(_huber(y_true, y_pred) * w) / 6, 3)


def test_huber_zero_weighted():
    # keras/src/losses/losses_test.py::HuberLossTest::test_zero_weighted
    almost(losses.Huber()(HU_TRUE, HU_PRED, sample_weight=0), 0.0, 3)


def test_huber_non_default_delta():
    # keras/src/losses/losses_test.py::HuberLossTest::test_non_default_delta
    loss = losses.Huber(delta=0.8)(HU_TRUE, HU_PRED, sample_weight=2.3)
    almost(loss, 2.3 * np.sum(_huber(HU_TRUE, HU_PRED, 0.8)) / 6, 3)


# ------------------------------------------------------------------ LogCoshTest
LC_EXPECTED = np.log((np.exp(COS_PRED - COS_TRUE) + np.exp(COS_TRUE - COS_PRED)) / 2)


def test_log_cosh_config():
    # keras/src/losses/losses_test.py::LogCoshTest::test_config
    obj = losses.LogCosh(reduction="sum", name="logcosh_loss")
    assert obj.name == "logcosh_loss" and obj.reduction == "sum"
    assert obj.get_config() == {"name": "logcosh_loss", "reduction": "sum"}


def test_log_cosh_unweighted():
    # keras/src/losses/losses_test.py::LogCoshTest::test_unweighted
    almost(losses.LogCosh()(COS_TRUE, COS_PRED), np.sum(LC_EXPECTED) / 6, 3)


def test_log_cosh_scalar_weighted():
    # keras/src/losses/losses_test.py::LogCoshTest::test_scalar_weighted
    obj = losses.LogCosh()
    loss = obj(COS_TRUE, COS_PRED, sample_weight=2.3)
    almost(loss, 2.3 * np.sum(LC_EXPECTED) / 6, 3)
    almost(loss, obj(COS_TRUE, COS_PRED, sample_weight=2.3), 3)


def test_log_cosh_sample_weighted():
    # keras/src/losses/losses_test.py::LogCoshTest::test_sample_weighted
    loss = losses.LogCosh()(COS_TRUE, COS_PRED, sample_weight=np.asarray([1.2, 3.4]))
    w = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    almost(loss, np.sum(LC_EXPECTED * w) / 6, 3)


def test_log_cosh_timestep_weighted():
    # keras/src/losses/losses_test.py::LogCoshTest::test_timestep_weighted
    error = YP_STEP - YT_STEP
    expected = np.log((np.exp(error) + np.exp(-error)) / 2)
    w = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3, 1))
    almost(losses.LogCosh()(YT_STEP, YP_STEP, sample_weight=w), np.sum(expected * w) / 6, 3)


def test_log_cosh_zero_weighted():
    # keras/src/losses/losses_test.py::LogCoshTest::test_zero_weighted
    almost(losses.LogCosh()(COS_TRUE, COS_PRED, sample_weight=0), 0.0, 3)


# ------------------------------------------------------------------ KLDivergenceTest
KL_PRED = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype=np.float32).reshape((2, 3))
KL_TRUE = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype=np.float32).reshape((2, 3))
KL_EXPECTED = KL_TRUE * np.log(KL_TRUE / KL_PRED)


def test_kl_divergence_config():
    # keras/src/losses/losses_test.py::KLDivergenceTest::test_config
    obj = losses.KLDivergence(reduction="sum", name="kld")
    assert obj.name == "kld" and obj.reduction == "sum"


def test_kl_divergence_unweighted():
    # keras/src/losses/losses_test.py::KLDivergenceTest::test_unweighted
    almost(losses.KLDivergence()(KL_TRUE, KL_PRED), np.sum(KL_EXPECTED) / 2, 3)


def test_kl_divergence_scalar_weighted():
    # keras/src/losses/losses_test.py::KLDivergenceTest::test_scalar_weighted
    obj = losses.KLDivergence()
    loss = obj(KL_TRUE, KL_PRED, sample_weight=2.3)
    almost(loss, 2.3 * np.sum(KL_EXPECTED) / 2, 3)
    almost(loss, obj(KL_TRUE, KL_PRED, sample_weight=2.3), 3)


def test_kl_divergence_sample_weighted():
    # keras/src/losses/losses_test.py::KLDivergenceTest::test_sample_weighted
    w = np.asarray([1.2, 3.4], dtype=np.float32).reshape((2, 1))
    w_full = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4], dtype=np.float32).reshape(2, 3)
    almost(losses.KLDivergence()(KL_TRUE, KL_PRED, sample_weight=w), np.sum(KL_EXPECTED * w_full) / 2, 3)


def test_kl_divergence_timestep_weighted():
    # keras/src/losses/losses_test.py::KLDivergenceTest::test_timestep_weighted
    y_true = KL_TRUE.reshape(2, 3, 1)
    y_pred = KL_PRED.reshape(2, 3, 1)
    w = np.asarray([3, 6, 5, 0, 4, 2]).reshape(2, 3)
    expected = np.sum(y_true * np.log(y_true / y_pred), axis=-1)
    almost(losses.KLDivergence()(y_true, y_pred, sample_weight=w), np.sum(expected * w) / (2 * 3), 3)


def test_kl_divergence_zero_weighted():
    # keras/src/losses/losses_test.py::KLDivergenceTest::test_zero_weighted
    almost(losses.KLDivergence()(KL_TRUE, KL_PRED, sample_weight=0), 0.0, 3)


# ------------------------------------------------------------------ PoissonTest
PO_PRED = np.asarray([1, 9, 2, 5, 2, 6], dtype=np.float32).reshape((2, 3))
PO_TRUE = np.asarray([4, 8, 12, 8, 1, 3], dtype=np.float32).reshape((2, 3))
PO_EXPECTED = PO_PRED - PO_TRUE * np.log(PO_PRED)


def test_poisson_config():
    # keras/src/losses/losses_test.py::PoissonTest::test_config
    obj = losses.Poisson(reduction="sum", name="poisson")
    assert obj.name == "poisson" and obj.reduction == "sum"


def test_poisson_unweighted():
    # keras/src/losses/losses_test.py::PoissonTest::test_unweighted
    almost(losses.Poisson()(PO_TRUE, PO_PRED), np.sum(PO_EXPECTED) / 6, 3)


def test_poisson_scalar_weighted():
    # keras/src/losses/losses_test.py::PoissonTest::test_scalar_weighted
    obj = losses.Poisson()
    loss = obj(PO_TRUE, PO_PRED, sample_weight=2.3)
    almost(loss, 2.3 * np.sum(PO_EXPECTED) / 6, 3)
    almost(loss, obj(PO_TRUE, PO_PRED, sample_weight=2.3), 3)


def test_poisson_sample_weighted():
    # keras/src/losses/losses_test.py::PoissonTest::test_sample_weighted
    w = np.asarray([1.2, 3.4]).reshape((2, 1))
    w_full = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    almost(losses.Poisson()(PO_TRUE, PO_PRED, sample_weight=w), np.sum(PO_EXPECTED * w_full) / 6, 3)


def test_poisson_timestep_weighted():
    # keras/src/losses/losses_test.py::PoissonTest::test_timestep_weighted
    y_true = PO_TRUE.reshape(2, 3, 1)
    y_pred = PO_PRED.reshape(2, 3, 1)
    w = np.asarray([3, 6, 5, 0, 4, 2]).reshape(2, 3, 1)
    expected = y_pred - y_true * np.log(y_pred)
    loss = losses.Poisson()(y_true, y_pred, sample_weight=w.reshape((2, 3)))
    almost(loss, np.sum(expected * w) / 6, 3)


def test_poisson_zero_weighted():
    # keras/src/losses/losses_test.py::PoissonTest::test_zero_weighted
    almost(losses.Poisson()(PO_TRUE, PO_PRED, sample_weight=0), 0.0, 3)


# ------------------------------------------------------------------ BinaryCrossentropyTest
EYE3 = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype="float32")
B_TRUE = np.array([1, 0, 1, 0]).reshape([2, 2])
B_PRED = np.array([1, 1, 1, 0], dtype="float32").reshape([2, 2])
B_LOG_TRUE = np.array([[1, 0, 1], [0, 1, 1]])
B_LOGITS = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])


def test_bce_config():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_config
    round_trip(losses.BinaryCrossentropy(name="bce", axis=-1))


def test_bce_all_correct_unweighted():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_all_correct_unweighted
    almost(losses.BinaryCrossentropy()(EYE3, EYE3), 0.0)
    logits = np.array([[10.0, -10.0, -10.0], [-10.0, 10.0, -10.0], [-10.0, -10.0, 10.0]])
    almost(losses.BinaryCrossentropy(from_logits=True)(EYE3, logits), 0.0)


def test_bce_unweighted():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_unweighted
    y_pred = np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]], dtype="float32")
    close(losses.BinaryCrossentropy()(EYE3, y_pred), 0.20046903)
    almost(losses.BinaryCrossentropy()(B_TRUE, B_PRED), 3.98559)
    almost(losses.BinaryCrossentropy(from_logits=True)(B_LOG_TRUE, B_LOGITS), 3.3333)


def test_bce_scalar_weighted():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_scalar_weighted
    almost(losses.BinaryCrossentropy()(B_TRUE, B_PRED, sample_weight=2.3), 9.1668)
    almost(losses.BinaryCrossentropy(from_logits=True)(B_LOG_TRUE, B_LOGITS, sample_weight=2.3), 7.666)


def test_bce_sample_weighted():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_sample_weighted
    w = np.array([1.2, 3.4]).reshape((2, 1))
    almost(losses.BinaryCrossentropy()(B_TRUE, B_PRED, sample_weight=w), 4.7827)
    almost(losses.BinaryCrossentropy(from_logits=True)(B_LOG_TRUE, B_LOGITS, sample_weight=np.array([4, 3])), 10.0)


def test_bce_no_reduction():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_no_reduction
    loss = losses.BinaryCrossentropy(from_logits=True, reduction=None)(B_LOG_TRUE, B_LOGITS)
    close(loss, [0.0, 6.666], atol=1e-3)


def test_bce_label_smoothing():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_label_smoothing
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.array([[1, 0, 1]]), np.array([[10.0, -10.0, -10.0]]))
    almost(loss, (10.0 + 5.0 * 0.1) / 3.0)


def test_bce_shape_mismatch():
    # keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_shape_mismatch
    y_pred = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    with pytest.raises(ValueError, match="must have the same shape"):
        losses.BinaryCrossentropy()(np.array([[0], [1], [2]]), y_pred)


# ------------------------------------------------------------------ CategoricalCrossentropyTest
C_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
C_PRED = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
C_LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
C_W = np.array([[1.2], [3.4], [5.6]]).reshape((3, 1))


def test_cce_config():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_config
    round_trip(losses.CategoricalCrossentropy(name="cce", axis=-1))


def test_cce_all_correct_unweighted():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_all_correct_unweighted
    y_true = C_TRUE.astype("int64")
    almost(losses.CategoricalCrossentropy()(y_true, EYE3), 0.0)
    logits = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    almost(losses.CategoricalCrossentropy(from_logits=True)(y_true, logits), 0.0)


def test_cce_unweighted():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_unweighted
    almost(losses.CategoricalCrossentropy()(C_TRUE, C_PRED), 0.3239)
    almost(losses.CategoricalCrossentropy(from_logits=True)(C_TRUE, C_LOGITS), 0.0573)


def test_cce_scalar_weighted():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_scalar_weighted
    almost(losses.CategoricalCrossentropy()(C_TRUE, C_PRED, sample_weight=2.3), 0.7449)
    almost(losses.CategoricalCrossentropy(from_logits=True)(C_TRUE, C_LOGITS, sample_weight=2.3), 0.1317)


def _warns_one_class(fn):
    with pytest.warns(SyntaxWarning, match=r"expected y_pred.shape to be \(batch_size, num_classes\)"):
        fn(np.array([[1], [1]], dtype="float32"), np.array([[0.5], [0.5]], dtype="float32"))
    with pytest.warns(SyntaxWarning, match=r"expected y_pred.shape to be \(batch_size, num_classes\)"):
        fn(np.ones((2, 1, 4), dtype="float32"), np.ones((2, 1, 4), dtype="float32"), axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(np.ones((2, 4, 1), dtype="float32"), np.ones((2, 4, 1), dtype="float32"), axis=1)
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]


def test_cce_warning_for_invalid_shape():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_warning_for_invalid_shape
    _warns_one_class(losses.categorical_crossentropy)


def test_cce_sample_weighted():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_sample_weighted
    almost(losses.CategoricalCrossentropy()(C_TRUE, C_PRED, sample_weight=C_W), 1.0696)
    almost(losses.CategoricalCrossentropy(from_logits=True)(C_TRUE, C_LOGITS, sample_weight=C_W), 0.31829)


def test_cce_no_reduction():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_no_reduction
    loss = losses.CategoricalCrossentropy(from_logits=True, reduction=None)(C_TRUE, C_LOGITS)
    close(loss, (0.001822, 0.000459, 0.169846))


def test_cce_label_smoothing():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_label_smoothing
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.array([[1, 0, 0]]), np.array([[100.0, -100.0, -100.0]]))
    almost(loss, 400.0 * 0.1 / 3.0)


def test_cce_label_smoothing_ndarray():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_label_smoothing_ndarray
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.asarray([[1, 0, 0]]), np.asarray([[100.0, -100.0, -100.0]]))
    almost(loss, 400.0 * 0.1 / 3.0)


AX_TRUE = np.array([[[1, 0], [0, 1], [0, 0]], [[0, 1], [1, 0], [0, 0]]], dtype="float32")
AX_PRED = np.array([[[0.8, 0.1], [0.1, 0.8], [0.1, 0.1]], [[0.1, 0.8], [0.8, 0.1], [0.1, 0.1]]],
                   dtype="float32")


def test_cce_label_smoothing_with_axis():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_label_smoothing_with_axis
    loss = losses.CategoricalCrossentropy(label_smoothing=0.1, axis=1)(AX_TRUE, AX_PRED)
    smoothed = AX_TRUE * 0.9 + 0.1 / 3
    almost(loss, np.mean(-np.sum(smoothed * np.log(AX_PRED), axis=1)), decimal=5)


def test_cce_shape_mismatch():
    # keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_shape_mismatch
    y_pred = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    with pytest.raises(ValueError, match="must have the same shape"):
        losses.CategoricalCrossentropy()(np.array([[0], [1], [2]]), y_pred)


# ------------------------------------------------------------------ SparseCategoricalCrossentropyTest
def test_scce_config():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_config
    round_trip(losses.SparseCategoricalCrossentropy(name="scce"))
    obj = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3, axis=0, name="scce")
    config = obj.get_config()
    assert config["from_logits"] is True and config["ignore_class"] == 3 and config["axis"] == 0
    round_trip(obj)


def test_scce_all_correct_unweighted():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_all_correct_unweighted
    y_true = np.array([[0], [1], [2]], dtype="int64")
    almost(losses.SparseCategoricalCrossentropy()(y_true, EYE3), 0.0, 3)
    logits = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    almost(losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, logits), 0.0, 3)


def test_scce_unweighted():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_unweighted
    y_true = np.array([0, 1, 2])
    almost(losses.SparseCategoricalCrossentropy()(y_true, C_PRED), 0.3239, 3)
    almost(losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, C_LOGITS), 0.0573, 3)


def test_scce_scalar_weighted():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_scalar_weighted
    y_true = np.array([[0], [1], [2]])
    almost(losses.SparseCategoricalCrossentropy()(y_true, C_PRED, sample_weight=2.3), 0.7449, 3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, C_LOGITS, sample_weight=2.3)
    almost(loss, 0.1317, 3)


def test_scce_sample_weighted():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_sample_weighted
    y_true = np.array([[0], [1], [2]])
    almost(losses.SparseCategoricalCrossentropy()(y_true, C_PRED, sample_weight=C_W), 1.0696, 3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, C_LOGITS, sample_weight=C_W)
    almost(loss, 0.31829, 3)


def test_scce_no_reduction():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_no_reduction
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(
        np.array([[0], [1], [2]]), C_LOGITS)
    close(loss, (0.001822, 0.000459, 0.169846))


def test_scce_ignore_class():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_ignore_class
    logits = np.array([[[0.854, 0.698, 0.598], [0.088, 0.86, 0.018]]])
    obj = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=None)
    close(obj(np.array([[-1, 2]]), logits), [[0.0, 1.480129]])
    close(obj(np.array([[[-1], [2]]]), logits), [[0.0, 1.480129]])


SEG_TRUE = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
SEG_PRED = np.array([
    [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
    [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]],
])
SEG_PRED_2 = np.array([
    [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.2, 0.8]],
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
    [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.4]],
])
SEG_EXPECTED_2 = (-np.log(0.2) - np.log(0.4)) / 16.0


def test_scce_binary_segmentation():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_binary_segmentation
    close(losses.SparseCategoricalCrossentropy()(SEG_TRUE, SEG_PRED), 0.0)
    close(losses.SparseCategoricalCrossentropy()(SEG_TRUE, SEG_PRED_2), SEG_EXPECTED_2)


def test_scce_binary_segmentation_different_axis():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_binary_segmentation_different_axis
    # (the torch-backend branch: the class axis may be any axis)
    close(losses.SparseCategoricalCrossentropy(axis=0)(SEG_TRUE, np.moveaxis(SEG_PRED, 2, 0)), 0.0)
    moved = np.moveaxis(SEG_PRED_2, 2, 0)
    close(losses.SparseCategoricalCrossentropy(axis=0)(SEG_TRUE, moved), SEG_EXPECTED_2)
    close(losses.SparseCategoricalCrossentropy(axis=1)(np.array([SEG_TRUE] * 3), np.array([moved] * 3)),
          SEG_EXPECTED_2)


def test_scce_squeezes_singleton_class_dim_on_user_axis():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_squeezes_singleton_class_dim_on_user_axis
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(2, 1, 4, 4)).astype("float32")
    y_pred = rng.random((2, 2, 4, 4)).astype("float32")
    assert losses.sparse_categorical_crossentropy(y_true, y_pred, axis=1).shape == (2, 4, 4)


MSEG_TRUE = np.array([[0, 1, 2, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
MSEG_PRED = np.array([
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
])
MSEG_PRED_2 = np.array([
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.0, 0.8]],
    [[0.7, 0.3, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]],
])
MSEG_EXPECTED_2 = (-np.log(0.2) - np.log(0.3) - np.log(0.5)) / 16.0


def test_scce_multi_class_segmentation():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_multi_class_segmentation
    close(losses.SparseCategoricalCrossentropy()(MSEG_TRUE, MSEG_PRED), 0.0)
    close(losses.SparseCategoricalCrossentropy()(MSEG_TRUE, MSEG_PRED_2), MSEG_EXPECTED_2)


def test_scce_multi_class_segmentation_different_axis():
    # keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_multi_class_segmentation_different_axis
    # (the torch-backend branch)
    close(losses.SparseCategoricalCrossentropy(axis=0)(MSEG_TRUE, np.moveaxis(MSEG_PRED, 2, 0)), 0.0)
    moved = np.moveaxis(MSEG_PRED_2, 2, 0)
    close(losses.SparseCategoricalCrossentropy(axis=0)(MSEG_TRUE, moved), MSEG_EXPECTED_2)
    close(losses.SparseCategoricalCrossentropy(axis=1)(np.array([MSEG_TRUE] * 3), np.array([moved] * 3)),
          MSEG_EXPECTED_2)


# ------------------------------------------------------------------ BinaryFocalCrossentropyTest
F_TRUE = np.asarray([1, 0, 1, 0]).reshape([2, 2])
F_PRED = np.asarray([0.9, 0.8, 0.7, 0.2], dtype=np.float32).reshape([2, 2])
F_LOG_TRUE = np.array([[1, 1, 0], [0, 1, 0]], dtype="float32")
F_LOGITS = np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]])


def test_bfce_config():
    # keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_config
    round_trip(losses.BinaryFocalCrossentropy(name="bfce"))


def test_bfce_all_correct_unweighted():
    # keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_all_correct_unweighted
    almost(losses.BinaryFocalCrossentropy(gamma=1.5)(EYE3, EYE3), 0.0, 3)
    logits = np.array([[100.0, -100.0, -100.0], [-100.0, 100.0, -100.0], [-100.0, -100.0, 100.0]])
    almost(losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)(EYE3, logits), 0.0, 3)


def test_bfce_unweighted():
    # keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_unweighted
    almost(losses.BinaryFocalCrossentropy(gamma=2.0)(F_TRUE, F_PRED), 0.268, 3)
    almost(losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True)(F_LOG_TRUE, F_LOGITS), 0.799, 3)


def test_bfce_scalar_weighted():
    # keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_scalar_weighted
    almost(losses.BinaryFocalCrossentropy(gamma=2.0)(F_TRUE, F_PRED, sample_weight=1.23), 0.3296, 3)
    loss = losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True)(F_LOG_TRUE, F_LOGITS, sample_weight=3.21)
    almost(loss, 2.565, 3)


def test_bfce_sample_weighted():
    # keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_sample_weighted
    w = np.array([1.2, 3.4]).reshape((2, 1))
    almost(losses.BinaryFocalCrossentropy(gamma=2.0)(F_TRUE, F_PRED, sample_weight=w), 0.34415, 3)
    loss = losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True)(F_LOG_TRUE, F_LOGITS, sample_weight=w)
    almost(loss, 0.95977, 3)


def test_bfce_no_reduction():
    # keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_no_reduction
    close(losses.BinaryFocalCrossentropy(gamma=2.0, reduction=None)(F_TRUE, F_PRED), (0.515547, 0.020513))


# ------------------------------------------------------------------ CategoricalFocalCrossentropyTest
def test_cfce_config():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_config
    round_trip(losses.CategoricalFocalCrossentropy(name="cfce"))


def test_cfce_all_correct_unweighted():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_all_correct_unweighted
    y_true = C_TRUE.astype("int64")
    almost(losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0)(y_true, EYE3), 0.0, 3)
    logits = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    almost(losses.CategoricalFocalCrossentropy(from_logits=True)(y_true, logits), 0.0, 3)


def test_cfce_unweighted():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_unweighted
    almost(losses.CategoricalFocalCrossentropy()(C_TRUE, C_PRED), 0.02059, 3)
    almost(losses.CategoricalFocalCrossentropy(from_logits=True)(C_TRUE, C_LOGITS), 0.000345, 3)


def test_cfce_scalar_weighted():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_scalar_weighted
    almost(losses.CategoricalFocalCrossentropy()(C_TRUE, C_PRED, sample_weight=2.3), 0.047368, 3)
    loss = losses.CategoricalFocalCrossentropy(from_logits=True)(C_TRUE, C_LOGITS, sample_weight=2.3)
    almost(loss, 0.000794, 4)


def test_cfce_warning_for_invalid_shape():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_warning_for_invalid_shape
    _warns_one_class(losses.categorical_focal_crossentropy)


def test_cfce_sample_weighted():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_sample_weighted
    almost(losses.CategoricalFocalCrossentropy()(C_TRUE, C_PRED, sample_weight=C_W), 0.06987, 3)
    loss = losses.CategoricalFocalCrossentropy(from_logits=True)(C_TRUE, C_LOGITS, sample_weight=C_W)
    almost(loss, 0.001933, 3)


def test_cfce_no_reduction():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_no_reduction
    loss = losses.CategoricalFocalCrossentropy(from_logits=True, reduction=None)(C_TRUE, C_LOGITS)
    close(loss, (1.5096224e-09, 2.4136547e-11, 1.0360638e-03))


def test_cfce_label_smoothing():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_label_smoothing
    loss = losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.array([[1, 0, 0]]), np.array([[4.9, -0.5, 2.05]]))
    almost(loss, 0.06685, 3)


def test_cfce_label_smoothing_with_axis():
    # keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_label_smoothing_with_axis
    loss = losses.CategoricalFocalCrossentropy(label_smoothing=0.1, axis=1)(AX_TRUE, AX_PRED)
    smoothed = AX_TRUE * 0.9 + 0.1 / 3
    focal = 0.25 * np.power(1 - AX_PRED, 2.0) * (-smoothed * np.log(AX_PRED))
    almost(loss, np.mean(np.sum(focal, axis=1)), decimal=5)


# ------------------------------------------------------------------ DiceTest
def test_dice_config():
    # keras/src/losses/losses_test.py::DiceTest::test_config
    round_trip(losses.Dice(name="mydice"))


def test_dice_correctness():
    # keras/src/losses/losses_test.py::DiceTest::test_correctness
    close(losses.Dice()(np.array([[1, 2], [1, 2]]), np.array([[4, 1], [6, 1]])), -0.55555546)


def test_dice_binary_segmentation():
    # keras/src/losses/losses_test.py::DiceTest::test_binary_segmentation
    y_true = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    y_pred = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]])
    close(losses.Dice()(y_true, y_pred), 0.77777773)


def test_dice_binary_segmentation_with_axis():
    # keras/src/losses/losses_test.py::DiceTest::test_binary_segmentation_with_axis
    y_true = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    y_pred = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    close(losses.Dice(axis=(1, 2, 3), reduction=None)(y_true, y_pred), [0.5, 0.75757575])


# ------------------------------------------------------------------ functions against classes
FUNCTION_CASES = [
    (losses.mean_squared_error, losses.MeanSquaredError(), {}),
    (losses.mean_absolute_error, losses.MeanAbsoluteError(), {}),
    (losses.mean_absolute_percentage_error, losses.MeanAbsolutePercentageError(), {}),
    (losses.mean_squared_logarithmic_error, losses.MeanSquaredLogarithmicError(), {}),
    (losses.cosine_similarity, losses.CosineSimilarity(axis=0), {"axis": 0}),
    (losses.huber, losses.Huber(delta=0.7), {"delta": 0.7}),
    (losses.log_cosh, losses.LogCosh(), {}),
    (losses.hinge, losses.Hinge(), {}),
    (losses.squared_hinge, losses.SquaredHinge(), {}),
    (losses.categorical_hinge, losses.CategoricalHinge(), {}),
    (losses.kl_divergence, losses.KLDivergence(), {}),
    (losses.poisson, losses.Poisson(), {}),
    (losses.binary_crossentropy, losses.BinaryCrossentropy(label_smoothing=0.1), {"label_smoothing": 0.1}),
    (losses.binary_focal_crossentropy, losses.BinaryFocalCrossentropy(gamma=1.0), {"gamma": 1.0}),
    (losses.categorical_crossentropy, losses.CategoricalCrossentropy(from_logits=True), {"from_logits": True}),
    (losses.categorical_focal_crossentropy, losses.CategoricalFocalCrossentropy(), {}),
    (losses.dice, losses.Dice(axis=(1,)), {"axis": (1,)}),
]


@pytest.mark.parametrize("fn, loss, kwargs", FUNCTION_CASES, ids=[c[0].__name__ for c in FUNCTION_CASES])
def test_function_and_instance_agree(fn, loss, kwargs):
    rng = np.random.default_rng(1)
    y_true = (rng.random((5, 4)) > 0.5).astype("float32")
    y_pred = rng.uniform(0.05, 0.95, (5, 4)).astype("float32")
    values = fn(y_true, y_pred, **kwargs)
    assert values.shape == ((4,) if fn is losses.cosine_similarity else (5,))
    close(values, loss.call(y_true, y_pred), atol=0, rtol=0)
    close(np.mean(values), loss(y_true, y_pred), atol=1e-7, rtol=1e-6)


def test_sparse_function_and_instance_agree():
    rng = np.random.default_rng(2)
    y_pred = rng.random((6, 3)).astype("float32")
    labels = rng.integers(0, 3, size=6)
    close(losses.sparse_categorical_crossentropy(labels, y_pred, ignore_class=1),
          losses.SparseCategoricalCrossentropy(ignore_class=1).call(labels, y_pred), atol=0, rtol=0)


@pytest.mark.parametrize("alias, fn", [
    ("mse", losses.mean_squared_error), ("MSE", losses.mean_squared_error),
    ("mae", losses.mean_absolute_error), ("MAE", losses.mean_absolute_error),
    ("mape", losses.mean_absolute_percentage_error), ("MAPE", losses.mean_absolute_percentage_error),
    ("msle", losses.mean_squared_logarithmic_error), ("MSLE", losses.mean_squared_logarithmic_error),
    ("kld", losses.kl_divergence), ("KLD", losses.kl_divergence), ("bce", losses.binary_crossentropy),
    ("BCE", losses.binary_crossentropy),
])
def test_function_aliases(alias, fn):
    assert getattr(losses, alias) is fn
    assert type(losses.get(alias)) is type(losses.get(fn)) is fn.loss_class


def test_a_loss_function_given_to_get_can_be_trained_on():
    loss = losses.get(losses.mse)
    value, grad = loss.forward_backward(np.zeros((2, 3)), np.ones((2, 3)))
    assert value == 1.0 and np.allclose(grad, 2.0 / 6)


def test_sparse_axis_gradient_matches_last_axis():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(2, 3, 5)).astype(np.float64)       # classes on axis 1
    labels = rng.integers(0, 3, size=(2, 5))
    moved = np.moveaxis(logits, 1, -1)
    for from_logits in (False, True):
        ref = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        obj = losses.SparseCategoricalCrossentropy(from_logits=from_logits, axis=1)
        x = moved if from_logits else np.abs(moved) + 0.1
        loss_ref, g_ref = ref.forward_backward(labels, x)
        loss, g = obj.forward_backward(labels, np.moveaxis(x, -1, 1))
        close(loss, loss_ref, atol=1e-12)
        close(g, np.moveaxis(g_ref, -1, 1), atol=1e-12)
    fused = losses.SparseCategoricalCrossentropy(from_logits=True, axis=1)
    loss, g, probs = fused.forward_backward_from_logits(labels, logits)
    loss_ref, g_ref, probs_ref = losses.SparseCategoricalCrossentropy(from_logits=True) \
        .forward_backward_from_logits(labels, moved)
    close(loss, loss_ref, atol=1e-12)
    close(g, np.moveaxis(g_ref, -1, 1), atol=1e-12)
    close(probs, np.moveaxis(probs_ref, -1, 1), atol=1e-12)


# ------------------------------------------------------------------ keras/src/losses/loss_test.py
class ExampleLoss(losses.Loss):
    """A loss written the Keras way: only ``call``."""

    def call(self, y_true, y_pred):
        return (y_true - y_pred) ** 2


LT_TRUE = np.array([1.0, 0.0, 1.0, 0.0])
LT_PRED = np.array([0.1, 0.2, 0.3, 0.4])


def test_loss_squeeze_or_expand():
    # keras/src/losses/loss_test.py::LossTest::test_squeeze_or_expand
    from nncore.losses.base import align_ranks
    for a, b, shape in (((3,), (3, 1), (3, 1)), ((3, 2), (3, 2, 1), (3, 2))):
        x1, x2 = align_ranks(np.ones(a), np.ones(b))
        assert x1.shape == x2.shape == shape
        x2, x1 = align_ranks(np.ones(b), np.ones(a))
        assert x1.shape == x2.shape == shape


def test_loss_reduction():
    # keras/src/losses/loss_test.py::LossTest::test_reduction
    close(ExampleLoss(reduction=None)(LT_TRUE, LT_PRED), (LT_TRUE - LT_PRED) ** 2)
    close(ExampleLoss(reduction="sum")(LT_TRUE, LT_PRED), np.sum((LT_TRUE - LT_PRED) ** 2))
    close(ExampleLoss(reduction="sum_over_batch_size")(LT_TRUE, LT_PRED), np.sum((LT_TRUE - LT_PRED) ** 2) / 4)
    with pytest.raises(ValueError, match="Invalid value for argument"):
        ExampleLoss(reduction="abc")


def test_loss_sample_weight():
    # keras/src/losses/loss_test.py::LossTest::test_sample_weight
    w = np.array([0.4, 0.3, 0.2, 0.1])
    close(ExampleLoss()(LT_TRUE, LT_PRED, sample_weight=w), np.sum(w * (LT_TRUE - LT_PRED) ** 2) / 4)
    close(ExampleLoss()(LT_TRUE, LT_PRED, sample_weight=np.zeros(4)), 0)


def test_loss_mixed_dtypes():
    # keras/src/losses/loss_test.py::LossTest::test_mixed_dtypes
    w = np.array([0.4, 0.3, 0.2, 0.1], dtype="float64")
    y_true = np.array([1.0, 0.0, 1.0, 0.0], dtype="int32")
    y_pred = np.array([0.1, 0.2, 0.3, 0.4], dtype="float32")
    close(ExampleLoss()(y_true, y_pred, sample_weight=w), np.sum(w * (y_true - y_pred) ** 2) / 4, rtol=1e-6)


def test_loss_get_method():
    # keras/src/losses/loss_test.py::LossTest::test_get_method
    # (nncore's get gives a Loss instance for a name: its class carries the gradient)
    assert type(losses.get("mse")) is losses.mean_squared_error.loss_class
    assert losses.get(None) is None
    with pytest.raises(ValueError):
        losses.get("typo")


def test_loss_dtype_arg():
    # keras/src/losses/loss_test.py::LossTest::test_dtype_arg
    loss_fn = ExampleLoss(dtype="float16")
    loss = loss_fn(LT_TRUE.astype("float32"), LT_PRED.astype("float32"))
    assert np.asarray(loss).dtype == np.float16
    with pytest.raises(AttributeError):
        loss_fn.dtype = "bfloat16"


@pytest.mark.parametrize("cls", [losses.MeanSquaredError, losses.MeanAbsoluteError, losses.Huber,
                                 losses.CategoricalCrossentropy, losses.KLDivergence])
def test_builtin_losses_take_keras_dtype_argument(cls):
    # keras/src/losses/losses_test.py::*::test_dtype_arg, with float16 for bfloat16 (NumPy has none)
    y = np.array([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]], dtype="float32")
    obj = cls(dtype="float16")
    assert obj.dtype == "float16"
    assert np.asarray(obj(y, y[::-1])).dtype == np.float16
    assert obj.call(y, y[::-1]).dtype == np.float16
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        cls(dtype="bfloat16")


def test_keras_style_loss_trains_through_its_recorded_call():
    # Its call is differentiated: d mean((t - p)^2) / dp = 2 (p - t) / n.
    value, grad = ExampleLoss().forward_backward(LT_TRUE, LT_PRED)
    assert value == pytest.approx(np.mean((LT_TRUE - LT_PRED) ** 2))
    np.testing.assert_allclose(grad, 2 * (LT_PRED - LT_TRUE) / LT_PRED.size, rtol=1e-12)
