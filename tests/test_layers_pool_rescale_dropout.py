"""GlobalMaxPooling2D, Rescaling and SpatialDropout2D: NumPy references, hypothesis over shapes,
dtypes and layouts, float64 finite-difference gradients, configs, Keras-ported cases (each cites
its origin) and a fit + ``.keras`` round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers
from nncore.errors import ShapeError
from test_keras_core_layers import run_layer_test
from test_layers_padding_upsampling import save_round_trip

DTYPES = [np.float32, np.float64]
FORMATS = ["channels_last", "channels_first"]


# ---------------------------------------------------------------- GlobalMaxPooling2D
def ref_global_max(x_last):
    """Slow reference: per sample and channel, the first maximum (row-major) and its place."""
    n, h, w, c = x_last.shape
    y = np.empty((n, c), x_last.dtype)
    where = np.empty((n, c, 2), int)
    for b in range(n):
        for k in range(c):
            best = (0, 0)
            for i in range(h):
                for j in range(w):
                    if x_last[b, i, j, k] > x_last[b, best[0], best[1], k]:
                        best = (i, j)
            y[b, k], where[b, k] = x_last[b, best[0], best[1], k], best
    return y, where


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4)),
       dtype=st.sampled_from(DTYPES), data_format=st.sampled_from(FORMATS), keepdims=st.booleans(),
       ties=st.booleans(), seed=st.integers(0, 2**31))
def test_global_max_pool_matches_reference(shape, dtype, data_format, keepdims, ties, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    if ties:  # few distinct values: the first maximum gets the gradient
        x = np.round(x)
    first = data_format == "channels_first"
    layer = layers.GlobalMaxPooling2D(data_format=data_format, keepdims=keepdims, dtype=dtype)
    y = layer(np.moveaxis(x, -1, 1) if first else x)
    want, where = ref_global_max(x)
    n, c = want.shape
    assert y.dtype == dtype
    assert y.shape == ((n, c, 1, 1) if first else (n, 1, 1, c)) if keepdims else (n, c)
    np.testing.assert_array_equal(y.reshape(n, c), want)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(g)
    dx = np.moveaxis(dx, 1, -1) if first else dx
    want_dx = np.zeros_like(x)
    for b in range(n):
        for k in range(c):
            want_dx[b, where[b, k, 0], where[b, k, 1], k] = g.reshape(n, c)[b, k]
    np.testing.assert_array_equal(dx, want_dx)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_max_pool_gradcheck(data_format, keepdims):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    assert nncore.gradcheck(layers.GlobalMaxPooling2D(data_format=data_format, keepdims=keepdims), x)


def test_global_max_pool_nan_wins():
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = np.nan
    assert np.isnan(layers.GlobalMaxPooling2D()(x)).all()


def test_global_max_pool_alias_config_and_errors():
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D
    assert type(layers.get({"class_name": "GlobalMaxPool2D", "config": {}})) is layers.GlobalMaxPooling2D
    config = layers.GlobalMaxPooling2D(data_format="channels_first", keepdims=True).get_config()
    assert config["data_format"] == "channels_first" and config["keepdims"] is True
    with pytest.raises(ShapeError, match="4-D"):
        layers.GlobalMaxPooling2D()(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="data_format"):
        layers.GlobalMaxPooling2D(data_format="NCHW")


# keras/src/layers/pooling/global_max_pooling_test.py::GlobalMaxPoolingBasicTest::test_global_max_pooling2d
@pytest.mark.parametrize("data_format, keepdims, input_shape, output_shape", [
    ("channels_last", False, (3, 5, 6, 4), (3, 4)),
    ("channels_last", True, (3, 5, 6, 4), (3, 1, 1, 4)),
    ("channels_first", False, (3, 5, 6, 4), (3, 5)),
])
def test_keras_global_max_pooling2d(data_format, keepdims, input_shape, output_shape):
    run_layer_test(layers.GlobalMaxPooling2D, {"data_format": data_format, "keepdims": keepdims},
                   input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=0)


# keras/src/layers/pooling/global_max_pooling_test.py::GlobalMaxPoolingCorrectnessTest::test_global_max_pooling2d
@pytest.mark.parametrize("data_format, keepdims", [("channels_last", False), ("channels_last", True),
                                                   ("channels_first", False), ("channels_first", True)])
def test_keras_global_max_pooling2d_correctness(data_format, keepdims):
    x = np.arange(96, dtype="float32").reshape((2, 3, 4, 4))
    got = layers.GlobalMaxPooling2D(data_format=data_format, keepdims=keepdims)(x)
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    np.testing.assert_array_equal(got, np.max(x, axis=axes, keepdims=keepdims))


# ---------------------------------------------------------------- Rescaling
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), dtype=st.sampled_from(DTYPES),
       per_channel=st.booleans(), seed=st.integers(0, 2**31))
def test_rescaling_matches_reference(shape, dtype, per_channel, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    scale = rng.standard_normal(shape[-1]).tolist() if per_channel else float(rng.standard_normal())
    offset = float(rng.standard_normal())
    layer = layers.Rescaling(scale, offset, dtype=dtype)
    y = layer(x)
    want = x.astype(np.float64) * np.asarray(scale) + offset
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(y, want, rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps * 8)
    g = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(layer.backward(g), g * np.asarray(scale), rtol=4 * np.finfo(dtype).eps)


def test_rescaling_gradcheck_and_no_weights():
    x = np.random.default_rng(0).standard_normal((2, 3, 3, 2))
    for layer in (layers.Rescaling(1 / 255.0, -0.5), layers.Rescaling([2.0, -3.0], [0.5, 0.25])):
        assert nncore.gradcheck(layer, x)
        layer.build(x.shape)
        assert layer.count_params() == 0


def test_rescaling_config_and_errors():
    config = layers.Rescaling(np.array([1.0, 2.0, 3.0]), offset=np.float32(0.5)).get_config()
    assert config["scale"] == [1.0, 2.0, 3.0] and config["offset"] == 0.5
    assert json.loads(json.dumps(config)) == config
    assert layers.Rescaling.from_config(config).get_config() == config
    # The form Keras gives a NumPy array in its configs.
    keras_form = {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float64"}}
    assert layers.Rescaling(keras_form).scale == [1.0, 2.0]
    for bad in ["a", None, [], {"x": 1}]:
        with pytest.raises(ValueError, match="scale"):
            layers.Rescaling(bad)
    with pytest.raises(ShapeError, match="broadcast"):
        layers.Rescaling([1.0, 2.0, 3.0])(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match="broadcast"):
        layers.Rescaling(1.0, np.zeros((2, 2, 2)))(np.zeros((2, 2)))


# keras/src/layers/preprocessing/rescaling_test.py::RescalingTest::test_rescaling_basics
def test_keras_rescaling_basics():
    run_layer_test(layers.Rescaling, {"scale": 1.0 / 255, "offset": 0.5}, input_shape=(2, 3),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0)


# keras/src/layers/preprocessing/rescaling_test.py::RescalingTest::test_rescaling_correctness
def test_keras_rescaling_correctness():
    x = np.random.default_rng(0).random((3, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(layers.Rescaling(scale=1.0 / 255, offset=0.5)(x), x / 255 + 0.5,
                               rtol=1e-6)


# keras/src/layers/preprocessing/rescaling_test.py::RescalingTest::test_rescaling_with_channels_last_and_vector_scale
def test_keras_rescaling_vector_scale():
    x = np.random.default_rng(0).random((2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(layers.Rescaling(scale=[1.0 / 255, 1.0 / 127, 1.0 / 63])(x),
                               x * np.array([1 / 255, 1 / 127, 1 / 63], "float32"), rtol=1e-6)


# ---------------------------------------------------------------- SpatialDropout2D
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 6)),
       rate=st.floats(0.0, 0.9), dtype=st.sampled_from(DTYPES), data_format=st.sampled_from(FORMATS),
       seed=st.integers(0, 2**31))
def test_spatial_dropout_drops_whole_channels(shape, rate, dtype, data_format, seed):
    x = np.random.default_rng(seed).uniform(1, 2, shape).astype(dtype)  # no zeros of its own
    layer = layers.SpatialDropout2D(rate, data_format=data_format, seed=seed % 1000, dtype=dtype)
    assert layer(x, training=False) is x
    y = layer(x, training=True)
    assert y.dtype == dtype and y.shape == x.shape
    kept = y != 0
    # Each channel of each sample is dropped or kept as a whole.
    axes = (2, 3) if data_format == "channels_first" else (1, 2)
    assert np.all(kept.all(axis=axes) | (~kept).all(axis=axes))
    np.testing.assert_allclose(y[kept], x[kept] / (1 - rate), rtol=4 * np.finfo(dtype).eps)
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g) != 0, kept)


def test_spatial_dropout_rate_and_seeds():
    x = np.ones((64, 2, 2, 32))
    y = layers.SpatialDropout2D(0.25, seed=3)(x, training=True)
    assert abs((y[:, 0, 0, :] == 0).mean() - 0.25) < 0.03
    a = layers.SpatialDropout2D(0.5, seed=7)(x, training=True)
    b = layers.SpatialDropout2D(0.5, seed=7)(x, training=True)
    np.testing.assert_array_equal(a, b)
    nncore.set_seed(11)
    c = layers.SpatialDropout2D(0.5)(x, training=True)
    nncore.set_seed(11)
    np.testing.assert_array_equal(layers.SpatialDropout2D(0.5)(x, training=True), c)


def test_spatial_dropout_gradcheck_in_training():
    x = np.random.default_rng(0).standard_normal((3, 2, 3, 4))
    for data_format in FORMATS:
        assert nncore.gradcheck(layers.SpatialDropout2D(0.5, data_format=data_format, seed=1), x,
                                training=True)


def test_spatial_dropout_config_and_errors():
    config = layers.SpatialDropout2D(0.3, data_format="channels_first", seed=5).get_config()
    # Keras' keys exactly (its constructor takes no `trainable`).
    assert set(config) == {"name", "dtype", "rate", "seed", "data_format"}
    assert layers.SpatialDropout2D.from_config(config).get_config() == config
    for bad in [-0.1, 1.0, "0.5", True]:
        with pytest.raises(ValueError, match="rate"):
            layers.SpatialDropout2D(bad)
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.5, data_format="nchw")
    with pytest.raises(ShapeError, match="4-D"):
        layers.SpatialDropout2D(0.5)(np.zeros((2, 3, 4)), training=True)


# keras/src/layers/regularization/spatial_dropout_test.py::SpatialDropoutTest::test_spatial_dropout_2d
def test_keras_spatial_dropout_2d():
    for data_format, shape in [("channels_last", (2, 3, 4, 5)), ("channels_first", (2, 3, 4, 5))]:
        run_layer_test(layers.SpatialDropout2D, {"rate": 0.5, "data_format": data_format},
                       call_kwargs={"training": True}, input_shape=shape,
                       expected_output_shape=shape, expected_num_trainable_weights=0)


# keras/src/layers/regularization/spatial_dropout_test.py::SpatialDropoutTest::test_spatial_dropout_2D_dynamic
def test_keras_spatial_dropout_2d_correctness():
    x = np.ones((3, 3, 3, 3))
    out = layers.SpatialDropout2D(0.5, data_format="channels_last", seed=1337)(x, training=True)
    for b in range(3):
        for c in range(3):
            assert np.allclose(out[b, :, :, c], 0) or np.allclose(out[b, :, :, c], 2.0)


def test_fit_and_keras_save_round_trip(tmp_path):
    nncore.set_seed(0)
    model = nncore.Sequential([
        nncore.Input((5, 5, 3)), layers.Rescaling(0.5, offset=-0.25),
        layers.Conv2D(4, 3, padding="same", activation="relu"), layers.SpatialDropout2D(0.25, seed=1),
        layers.GlobalMaxPooling2D(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 5, 5, 3)).astype(np.float32)
    hist = model.fit(x, x.max(axis=(1, 2, 3))[:, None], epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    save_round_trip(tmp_path, model, x)
