"""Dropout: masks are a pure function of (seed, index) (the same at 1 and 2 threads, for any
array length), drop rates are right, scaling is Keras's, backward matches differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops


@given(shape=st.lists(st.integers(0, 9), min_size=0, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float32, np.float64]), rate=st.floats(0.0, 0.95),
       seed=st.integers(0, 2**64 - 1))
def test_output_is_scaled_masked_input(shape, dtype, rate, seed):
    x = np.random.default_rng(seed % 2**32).standard_normal(shape).astype(dtype)
    y, mask = ops.dropout(x, rate, seed)
    assert y.dtype == dtype and y.shape == shape and mask.dtype == np.bool_ and mask.shape == shape
    scale = dtype(1.0 / (1.0 - rate))
    np.testing.assert_array_equal(y, x * np.where(mask, scale, dtype(0)))
    gy = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(ops.dropout_backward(gy, mask, rate),
                                  gy * np.where(mask, scale, dtype(0)))


@pytest.mark.parametrize("n", [1, 2, 3, 1001, 300_001])
def test_same_seed_same_mask_at_1_and_2_threads(n, dtype):
    x = np.ones(n, dtype)
    before = nncore.get_num_threads()
    try:
        nncore.set_num_threads(1)
        y1, m1 = ops.dropout(x, 0.3, 12345)
        nncore.set_num_threads(2)
        y2, m2 = ops.dropout(x, 0.3, 12345)
    finally:
        nncore.set_num_threads(before)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(y1, y2)


def test_mask_depends_on_index_not_length_or_dtype():
    _, long = ops.dropout(np.ones(5000, np.float32), 0.5, 7)
    _, short = ops.dropout(np.ones(1001, np.float64), 0.5, 7)
    np.testing.assert_array_equal(long[:1001], short)
    _, shaped = ops.dropout(np.ones((50, 100), np.float32), 0.5, 7)
    np.testing.assert_array_equal(shaped.ravel(), long)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_drop_fraction_and_independence(rate):
    n = 1_000_000
    _, a = ops.dropout(np.ones(n, np.float32), rate, 0)
    _, b = ops.dropout(np.ones(n, np.float32), rate, 1)
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs((1 - a.mean()) - rate) < 5 * sigma
    # Neighbouring elements (which share one 64-bit draw) and neighbouring seeds are uncorrelated.
    for u, v in ((a[:-1], a[1:]), (a[0::2], a[1::2]), (a, b)):
        corr = np.corrcoef(u.astype(float), v.astype(float))[0, 1]
        assert abs(corr) < 5 / np.sqrt(u.size)
    assert not np.array_equal(a, b)


def test_rate_zero_keeps_everything_and_nan_stays_visible(dtype):
    x = np.arange(10, dtype=dtype)
    y, mask = ops.dropout(x, 0.0, 3)
    assert mask.all()
    np.testing.assert_array_equal(y, x)
    x = np.full(1000, np.nan, dtype)
    y, mask = ops.dropout(x, 0.5, 3)
    assert (~mask).any() and np.isnan(y).all()  # x * 0 for dropped NaN, as Keras's x * mask


def test_backward_matches_central_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 7))
    gy = rng.standard_normal(x.shape)
    _, mask = ops.dropout(x, 0.4, 99)
    h = 1e-6
    numeric = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        numeric[i] = np.sum(gy * (ops.dropout(xp, 0.4, 99)[0] - ops.dropout(xm, 0.4, 99)[0])) / (2 * h)
    np.testing.assert_allclose(ops.dropout_backward(gy, mask, 0.4), numeric, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(ops.dropout_backward(gy, mask.astype(np.uint8), 0.4),
                                  ops.dropout_backward(gy, mask, 0.4))


def test_out_in_place_views_and_seed_none(dtype, rng):
    x = rng.standard_normal((6, 5)).astype(dtype)
    want_y, want_m = ops.dropout(x, 0.5, 42)
    y = x.copy()
    m = np.empty(x.shape, bool)
    got = ops.dropout(y, 0.5, 42, out=(y, m))
    assert got[0] is y and got[1] is m
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(m, want_m)
    g = rng.standard_normal(x.shape).astype(dtype)
    want_g = ops.dropout_backward(g, m, 0.5)
    assert ops.dropout_backward(g, m, 0.5, out=g) is g
    np.testing.assert_array_equal(g, want_g)
    view = x[::-1, ::2]
    np.testing.assert_array_equal(ops.dropout(view, 0.5, 1)[0], ops.dropout(view.copy(), 0.5, 1)[0])
    nncore.random.set_seed(5)
    a = ops.dropout(np.ones(100, dtype), 0.5)[1]
    nncore.random.set_seed(5)
    np.testing.assert_array_equal(ops.dropout(np.ones(100, dtype), 0.5)[1], a)
    assert ops.dropout(np.empty((0, 4), dtype), 0.5, 1)[0].shape == (0, 4)


def test_errors():
    x = np.ones(4, np.float32)
    for rate in (1.0, -0.1, float("nan"), 2.0):
        with pytest.raises(ValueError, match="rate"):
            ops.dropout(x, rate, 0)
    with pytest.raises(ValueError, match="rate"):
        ops.dropout_backward(x, np.ones(4, bool), 1.0)
    for seed in (-1, 2**64):
        with pytest.raises(ValueError, match="seed"):
            ops.dropout(x, 0.5, seed)
    with pytest.raises(TypeError, match="seed"):
        ops.dropout(x, 0.5, 1.5)
    with pytest.raises(nncore.DTypeError, match="mask"):
        ops.dropout_backward(x, np.ones(4, np.float32), 0.5)
    with pytest.raises(nncore.ShapeError, match=r"\(3,\) and \(4,\)"):
        ops.dropout_backward(x, np.ones(3, bool), 0.5)
    with pytest.raises(nncore.DTypeError):
        ops.dropout(np.ones(4, np.int64), 0.5, 0)
    with pytest.raises(nncore.DTypeError, match="bool"):
        ops.dropout(x, 0.5, 0, out=(None, np.ones(4, np.uint8)))


# ---------------------------------------------------------------- the Dropout layer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_inference_is_identity(dtype):
    x = np.random.default_rng(0).standard_normal((6, 7)).astype(dtype)
    layer = nncore.layers.Dropout(0.5, seed=1, dtype=dtype)
    for y in (layer(x), layer(x, training=False), layer.forward(x, training=False)):
        np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.7])
def test_layer_training_scales_kept_units_and_drops_rate(rate):
    x = np.random.default_rng(1).uniform(1.0, 2.0, (200, 500)).astype(np.float32)
    layer = nncore.layers.Dropout(rate, seed=7)
    y = layer(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1.0 - rate), rtol=1e-6)
    n = x.size
    # Binomial: the dropped fraction is within 5 standard deviations of rate.
    assert abs((~kept).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    g = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(g, kept / (1.0 - rate), rtol=1e-6)


def test_layer_noise_shape_broadcasts_one_mask():
    x = np.ones((4, 5, 6), np.float32)
    y = nncore.layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=3)(x, training=True)
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))
    assert set(np.unique(y)) <= {0.0, 2.0}
    with pytest.raises(nncore.ShapeError, match="noise_shape"):
        nncore.layers.Dropout(0.5, noise_shape=(None, 3, 6))(x, training=True)
    with pytest.raises(nncore.ShapeError, match="noise_shape"):
        nncore.layers.Dropout(0.5, noise_shape=(None, 6))(x, training=True)


def test_layer_in_a_model_predict_and_evaluate_do_not_drop():
    inp = nncore.Input(shape=(50,))
    model = nncore.Model(inp, nncore.layers.Dropout(0.5, seed=0)(inp))
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(2).uniform(1, 2, (8, 50)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert model.evaluate(x, x, verbose=0) == 0.0


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_dropout_basics
def test_keras_dropout_basics():
    from test_keras_core_layers import run_layer_test

    run_layer_test(nncore.layers.Dropout, {"rate": 0.2}, input_shape=(2, 3),
                   call_kwargs={"training": True}, expected_output_shape=(2, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_losses=0)


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_dropout_rescaling
def test_keras_dropout_rescaling():
    inputs = np.ones((20, 500))
    outputs = nncore.layers.Dropout(0.5, seed=1337)(inputs, training=True)
    np.testing.assert_allclose(np.mean(outputs), 1.0, atol=0.02)
    np.testing.assert_allclose(np.max(outputs), 2.0, rtol=1e-6)


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_dropout_partial_noise_shape_dynamic
def test_keras_dropout_partial_noise_shape_dynamic():
    outputs = nncore.layers.Dropout(0.5, noise_shape=(None, 1, None))(np.ones((20, 5, 10)),
                                                                      training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_dropout_partial_noise_shape_static
def test_keras_dropout_partial_noise_shape_static():
    outputs = nncore.layers.Dropout(0.5, noise_shape=(20, 1, 10))(np.ones((20, 5, 10)),
                                                                  training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_dropout_negative_rate
# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_dropout_rate_greater_than_one
@pytest.mark.parametrize("rate", [-0.5, 1.5])
def test_keras_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`. "
                                         "Expected a float value between 0 and 1"):
        nncore.layers.Dropout(rate=rate)


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_none
def test_keras_validate_noise_shape_none():
    assert nncore.layers.Dropout(0.5, noise_shape=None).noise_shape is None


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_integer_tuple
def test_keras_validate_noise_shape_integer_tuple():
    assert nncore.layers.Dropout(0.5, noise_shape=(20, 1, 10)).noise_shape == (20, 1, 10)


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_none_values
def test_keras_validate_noise_shape_none_values():
    assert nncore.layers.Dropout(0.5, noise_shape=(None, 1, None)).noise_shape == (None, 1, None)


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_cast_to_a_tuple
def test_keras_validate_noise_shape_cast_to_a_tuple():
    layer = nncore.layers.Dropout(0.5, noise_shape=[20, 1, 10])
    assert layer.noise_shape == (20, 1, 10)
    assert isinstance(layer.noise_shape, tuple)


# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_non_iterable
# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_invalid_type
# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_negative_value
# keras/src/layers/regularization/dropout_test.py::DropoutTest::test_validate_noise_shape_zero_value
@pytest.mark.parametrize("noise_shape, message", [
    ("Invalid", "Expected a tuple or list of integers."),
    ((20, 1.5, 10), "Expected all elements to be integers or None."),
    ((20, -1, 10), "Expected all dimensions to be positive integers or None."),
    ((20, 0, 10), "Expected all dimensions to be positive integers or None."),
])
def test_keras_validate_noise_shape_errors(noise_shape, message):
    with pytest.raises(ValueError, match="Invalid value received for argument `noise_shape`. "
                                         + message.replace(".", r"\.")):
        nncore.layers.Dropout(0.5, noise_shape=noise_shape)


def test_layer_masks_repeat_with_seed_and_rng_state():
    x = np.ones((4, 50), np.float32)
    a, b = nncore.layers.Dropout(0.5, seed=11), nncore.layers.Dropout(0.5, seed=11)
    first = a(x, training=True)
    np.testing.assert_array_equal(first, b(x, training=True))
    state = a.get_rng_state()
    second = a(x, training=True)
    assert not np.array_equal(first, second)  # a new mask each step
    a.set_rng_state(state)
    np.testing.assert_array_equal(a(x, training=True), second)
