"""ZeroPadding2D, Cropping2D (and the other image-reshaping layers of issue 18): NumPy references,
hypothesis over shapes, dtypes and layouts, float64 finite-difference gradients, configs, and
cases ported from Keras 3's tests (each cites its origin)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers
from nncore.errors import ShapeError
from test_keras_core_layers import run_layer_test

DTYPES = [np.float32, np.float64]


def _layout(x, data_format):
    return np.moveaxis(x, -1, 1) if data_format == "channels_first" else x


def _to_last(y, data_format):
    return np.moveaxis(y, 1, -1) if data_format == "channels_first" else y


def save_round_trip(tmp_path, model, x):
    """``model.save('m.keras')`` then ``nncore.load_model``: same config, same predictions."""
    path = tmp_path / "m.keras"
    model.save(path)
    back = nncore.load_model(path)
    assert back.get_config() == model.get_config()
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    return back


# ---------------------------------------------------------------- ZeroPadding2D / Cropping2D
def ref_pad(x, pads):
    """Slow reference, channels_last: each output pixel copied from the input or zero."""
    (t, b), (l, r) = pads
    n, h, w, c = x.shape
    y = np.zeros((n, h + t + b, w + l + r, c), x.dtype)
    for i in range(h):
        for j in range(w):
            y[:, t + i, l + j, :] = x[:, i, j, :]
    return y


def ref_crop(x, crops):
    (t, b), (l, r) = crops
    n, h, w, c = x.shape
    return np.stack([np.stack([x[:, i, j, :] for j in range(l, w - r)], axis=1)
                     for i in range(t, h - b)], axis=1)


borders = st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                    st.tuples(st.integers(0, 3), st.integers(0, 3)))


@given(pads=borders, shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5),
                                     st.integers(1, 3)),
       dtype=st.sampled_from(DTYPES), data_format=st.sampled_from(["channels_last", "channels_first"]),
       seed=st.integers(0, 2**31))
def test_zero_padding_matches_reference(pads, shape, dtype, data_format, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    layer = layers.ZeroPadding2D(pads, data_format=data_format, dtype=dtype)
    y = layer(_layout(x, data_format))
    want = ref_pad(x, pads)
    assert y.dtype == dtype and y.shape == _layout(want, data_format).shape
    np.testing.assert_array_equal(_to_last(y, data_format), want)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(g)
    # The adjoint of padding is cropping: <pad(x), g> == <x, dx>.
    np.testing.assert_array_equal(_to_last(dx, data_format), ref_crop(_to_last(g, data_format), pads))


@given(crops=borders, shape=st.tuples(st.integers(1, 3), st.integers(1, 8), st.integers(1, 8),
                                      st.integers(1, 3)),
       dtype=st.sampled_from(DTYPES), data_format=st.sampled_from(["channels_last", "channels_first"]),
       seed=st.integers(0, 2**31))
def test_cropping_matches_reference(crops, shape, dtype, data_format, seed):
    (t, b), (l, r) = crops
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    layer = layers.Cropping2D(crops, data_format=data_format, dtype=dtype)
    if t + b >= shape[1] or l + r >= shape[2]:
        with pytest.raises(ShapeError, match="smaller than"):
            layer(_layout(x, data_format))
        return
    y = layer(_layout(x, data_format))
    want = ref_crop(x, crops)
    np.testing.assert_array_equal(_to_last(y, data_format), want)
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_array_equal(_to_last(layer.backward(g), data_format),
                                  ref_pad(_to_last(g, data_format), crops))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_padding_cropping_gradcheck(data_format):
    x = np.random.default_rng(1).standard_normal((2, 5, 6, 5))
    assert nncore.gradcheck(layers.ZeroPadding2D(((1, 2), (0, 3)), data_format=data_format), x)
    assert nncore.gradcheck(layers.Cropping2D(((1, 0), (2, 1)), data_format=data_format), x)


@pytest.mark.parametrize("value, want", [
    (2, [[2, 2], [2, 2]]), ((1, 3), [[1, 1], [3, 3]]), (((0, 1), (2, 3)), [[0, 1], [2, 3]]),
    ([[4, 0], 1], [[4, 0], [1, 1]])])
def test_border_argument_forms(value, want):
    for cls, arg in ((layers.ZeroPadding2D, "padding"), (layers.Cropping2D, "cropping")):
        config = cls(value).get_config()
        assert config[arg] == want and config["data_format"] == "channels_last"
        assert json.loads(json.dumps(config)) == config
        assert cls.from_config(config).get_config() == config


@pytest.mark.parametrize("bad", [-1, (1, 2, 3), ((1, 2), (3, 4), (5, 6)), ((-1, 0), (0, 0)),
                                 ((1, 2, 3), (0, 0)), "same", 1.5, ((1.5, 0), (0, 0)), None])
def test_bad_borders_are_refused(bad):
    for cls in (layers.ZeroPadding2D, layers.Cropping2D):
        with pytest.raises(ValueError):
            cls(bad)


def test_bad_data_format_and_rank():
    with pytest.raises(ValueError, match="data_format"):
        layers.ZeroPadding2D(data_format="nhwc")
    with pytest.raises(ShapeError, match="4-D"):
        layers.ZeroPadding2D()(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="4-D"):
        layers.Cropping2D(1).compute_output_shape((None, 3, 4))


def test_output_shape_with_unknown_sizes():
    assert layers.ZeroPadding2D(((1, 2), (3, 4))).compute_output_shape((None, None, 5, 2)) == \
        (None, None, 12, 2)
    assert layers.Cropping2D(((1, 2), (3, 4)), data_format="channels_first").compute_output_shape(
        (None, 2, 10, None)) == (None, 2, 7, None)


def test_padding_layer_takes_other_image_sizes():
    layer = layers.ZeroPadding2D(1)
    assert layer(np.ones((1, 2, 2, 1))).shape == (1, 4, 4, 1)
    assert layer(np.ones((2, 5, 3, 4))).shape == (2, 7, 5, 4)


# keras/src/layers/reshaping/zero_padding2d_test.py::ZeroPadding2DTest::test_zero_padding_2d
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("padding", [((1, 2), (3, 4)), (1, 2), 1])
def test_keras_zero_padding_2d(data_format, padding):
    x = np.random.default_rng(0).random((1, 2, 3, 4)).astype(np.float32)
    _, out = run_layer_test(layers.ZeroPadding2D, {"padding": padding, "data_format": data_format},
                            input_data=x, expected_num_trainable_weights=0)
    ((t, b), (l, r)) = layers.ZeroPadding2D(padding).padding
    if data_format == "channels_last":
        for i in range(t):
            np.testing.assert_array_equal(out[:, i, :, :], 0.0)
        for i in range(l):
            np.testing.assert_array_equal(out[:, :, i, :], 0.0)
        np.testing.assert_array_equal(out[:, t:out.shape[1] - b, l:out.shape[2] - r, :], x)
    else:
        for i in range(t):
            np.testing.assert_array_equal(out[:, :, i, :], 0.0)
        np.testing.assert_array_equal(out[:, :, t:out.shape[2] - b, l:out.shape[3] - r], x)


# keras/src/layers/reshaping/cropping2d_test.py::Cropping2DTest::test_cropping_2d
@pytest.mark.parametrize("cropping, data_format, expected", [
    (((1, 2), (3, 4)), "channels_first", (1, 2, 4, 5)),  # from a (1, 2, 7, 12) input
    (((1, 2), (3, 4)), "channels_last", (1, 4, 5, 5)),   # from a (1, 7, 12, 5) input
    ((1, 2), "channels_last", (1, 5, 8, 5)),
    (1, "channels_first", (1, 2, 5, 10)),
])
def test_keras_cropping_2d(cropping, data_format, expected):
    shape = (1, 2, 7, 12) if data_format == "channels_first" else (1, 7, 12, 5)
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    run_layer_test(layers.Cropping2D, {"cropping": cropping, "data_format": data_format},
                   input_data=x, expected_output_shape=expected, expected_num_trainable_weights=0)


# keras/src/layers/reshaping/cropping2d_test.py::Cropping2DTest::test_cropping_2d_errors_if_cropping_more_than_available
def test_keras_cropping_more_than_available():
    with pytest.raises(ValueError):
        layers.Cropping2D(cropping=((5, 5), (0, 0)))(nncore.Input(batch_shape=(3, 5, 7, 9)))
    with pytest.raises(ValueError):
        layers.Cropping2D(cropping=((0, 0), (4, 4)))(np.zeros((3, 5, 7, 9)))


def test_padding_cropping_fit_and_keras_save_round_trip(tmp_path):
    nncore.set_seed(0)
    model = nncore.Sequential([
        nncore.Input((6, 6, 2)), layers.ZeroPadding2D(((1, 0), (2, 1))),
        layers.Conv2D(3, 3), layers.Cropping2D(1), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 6, 6, 2)).astype(np.float32)
    y = x.sum(axis=(1, 2, 3))[:, None]
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    save_round_trip(tmp_path, model, x)


# ---------------------------------------------------------------- UpSampling2D
def ref_upsample(x, size, interpolation):
    """Slow reference, channels_last: each output pixel from its source coordinate
    ``(o + 0.5) / s - 0.5`` (half-pixel centers, clamped at the borders)."""
    n, h, w, c = x.shape
    sh, sw = size
    y = np.zeros((n, h * sh, w * sw, c), x.dtype)
    for i in range(h * sh):
        for j in range(w * sw):
            if interpolation == "nearest":
                y[:, i, j] = x[:, i // sh, j // sw]
                continue
            u = min(max((i + 0.5) / sh - 0.5, 0.0), h - 1)
            v = min(max((j + 0.5) / sw - 0.5, 0.0), w - 1)
            i0, j0 = int(np.floor(u)), int(np.floor(v))
            i1, j1 = min(i0 + 1, h - 1), min(j0 + 1, w - 1)
            a, b = u - i0, v - j0
            y[:, i, j] = ((1 - a) * (1 - b) * x[:, i0, j0] + (1 - a) * b * x[:, i0, j1]
                          + a * (1 - b) * x[:, i1, j0] + a * b * x[:, i1, j1])
    return y


@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3)),
       size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       interpolation=st.sampled_from(["nearest", "bilinear"]), dtype=st.sampled_from(DTYPES),
       data_format=st.sampled_from(["channels_last", "channels_first"]), seed=st.integers(0, 2**31))
def test_upsampling_matches_reference(shape, size, interpolation, dtype, data_format, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    layer = layers.UpSampling2D(size, data_format=data_format, interpolation=interpolation,
                                dtype=dtype)
    y = layer(_layout(x, data_format))
    want = ref_upsample(x.astype(np.float64), size, interpolation)
    assert y.dtype == dtype
    tol = 4 * np.finfo(dtype).eps * (1 + np.abs(want))
    np.testing.assert_array_less(np.abs(_to_last(y, data_format) - want), tol + 1e-300)
    # Backward is the adjoint of forward: <up(x), g> == <x, dx>.
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g.astype(dtype))
    assert dx.dtype == dtype and dx.shape == _layout(x, data_format).shape
    lhs = np.vdot(ref_upsample(x.astype(np.float64), size, interpolation),
                  _to_last(g, data_format))
    rhs = np.vdot(x.astype(np.float64), _to_last(dx.astype(np.float64), data_format))
    assert abs(lhs - rhs) <= 64 * np.finfo(dtype).eps * (1 + np.abs(x).sum() * np.abs(g).max() * 4)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling_gradcheck(interpolation, data_format):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 2))
    assert nncore.gradcheck(layers.UpSampling2D((3, 2), data_format=data_format,
                                                interpolation=interpolation), x)


def test_upsampling_bilinear_matches_keras():
    # Made with keras.layers.UpSampling2D((3, 2), interpolation="bilinear") (Keras 3.15.1, torch
    # backend); the values are exact multiples of 1/12.
    x = np.array([[1., 4., 2.], [0., 3., -1.]]).reshape(1, 2, 3, 1)
    want = np.array([[12, 21, 39, 42, 30, 24], [12, 21, 39, 42, 30, 24], [8, 17, 35, 36, 20, 12],
                     [4, 13, 31, 30, 10, 0], [0, 9, 27, 24, 0, -12], [0, 9, 27, 24, 0, -12]]) / 12
    for dtype in DTYPES:
        y = layers.UpSampling2D((3, 2), interpolation="bilinear", dtype=dtype)(x.astype(dtype))
        np.testing.assert_allclose(y[0, :, :, 0], want, atol=4 * np.finfo(dtype).eps)


def test_upsampling_matches_keras_when_installed():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 is not installed")
    if keras.backend.backend() != "torch":
        pytest.skip("compared with Keras' torch backend only")
    x = np.random.default_rng(3).standard_normal((2, 5, 3, 2)).astype(np.float32)
    for size in [(2, 2), (3, 1), (1, 4)]:
        for interpolation in ["nearest", "bilinear"]:
            want = keras.ops.convert_to_numpy(
                keras.layers.UpSampling2D(size, interpolation=interpolation)(x))
            got = layers.UpSampling2D(size, interpolation=interpolation)(x)
            np.testing.assert_allclose(got, want, atol=1e-6)


def test_upsampling_config_and_validation():
    layer = layers.UpSampling2D()
    config = layer.get_config()
    assert config["size"] == [2, 2] and config["interpolation"] == "nearest"
    assert config["data_format"] == "channels_last"
    assert layers.UpSampling2D.from_config(config).get_config() == config
    assert layers.UpSampling2D(3, interpolation="BILINEAR").get_config()["size"] == [3, 3]
    for bad in [0, (1, 0), (2, 2, 2), 1.5, "2"]:
        with pytest.raises(ValueError, match="size"):
            layers.UpSampling2D(bad)
    with pytest.raises(ValueError, match="not supported"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="cubic")
    with pytest.raises(ShapeError, match="4-D"):
        layers.UpSampling2D()(np.zeros((1, 2, 3)))
    assert layers.UpSampling2D((2, 3), data_format="channels_first").compute_output_shape(
        (None, 4, None, 5)) == (None, 4, None, 15)


# keras/src/layers/reshaping/up_sampling2d_test.py::UpSampling2dTest::test_upsampling_2d
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("length_row, length_col", [(2, 2), (2, 3)])
def test_keras_upsampling_2d(data_format, length_row, length_col):
    shape = (2, 2, 11, 12) if data_format == "channels_first" else (2, 11, 12, 2)
    inputs = np.random.default_rng(0).random(shape).astype(np.float32)
    run_layer_test(layers.UpSampling2D, {"size": (2, 2), "data_format": data_format},
                   input_data=inputs, expected_num_trainable_weights=0)
    out = layers.UpSampling2D((length_row, length_col), data_format=data_format)(inputs)
    ax = 2 if data_format == "channels_first" else 1
    want = np.repeat(np.repeat(inputs, length_row, axis=ax), length_col, axis=ax + 1)
    np.testing.assert_array_equal(out, want)


# keras/src/layers/reshaping/up_sampling2d_test.py::UpSampling2dTest::test_upsampling_2d_correctness
def test_keras_upsampling_2d_correctness():
    x = np.arange(12).reshape((2, 2, 1, 3)).astype(np.float32)
    want = np.array([[[[0., 1., 2.], [0., 1., 2.]], [[3., 4., 5.], [3., 4., 5.]]],
                     [[[6., 7., 8.], [6., 7., 8.]], [[9., 10., 11.], [9., 10., 11.]]]])
    np.testing.assert_array_equal(layers.UpSampling2D(size=(1, 2))(x), want)


def test_upsampling_fit_and_keras_save_round_trip(tmp_path):
    nncore.set_seed(0)
    model = nncore.Sequential([
        nncore.Input((4, 4, 2)), layers.UpSampling2D(interpolation="bilinear"),
        layers.Conv2D(3, 3, padding="same"), layers.UpSampling2D((1, 2)),
        layers.Conv2D(1, 3), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 4, 4, 2)).astype(np.float32)
    hist = model.fit(x, x.mean(axis=(1, 2, 3))[:, None], epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    save_round_trip(tmp_path, model, x)
