"""Keras 3's own test cases for the augmentation layers, ported (same inputs, expected values and
tolerances; each cites its origin), and the layers' random state against NumPy references.

Keras' deterministic cases fix the random draw by replacing ``backend.random.uniform``; here the
same draw is fixed by replacing the layer's ``_uniform``, the one place its image transforms
draw from. Bounding-box, segmentation-mask and dict-input cases are not ported: nncore's layers
take image arrays only.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

import nncore
import nncore.random
from nncore import layers as L
from nncore.layers.augmentation import (
    GaussianNoise,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)

IMAGE_PP = "keras/src/layers/preprocessing/image_preprocessing"
# Keras' testing.TestCase.assertAllClose defaults.
ATOL = RTOL = 1e-6


def fixed_uniform(layer, value):
    """Every draw of ``layer`` returns ``value`` (Keras' tests patch backend.random.uniform)."""
    def draw(low, high, size):
        return np.full(() if size is None else size, value, dtype=np.float64)
    layer._uniform = draw
    return layer


def run_layer_check(cls, init_kwargs, input_data, expected_output=None, expected_output_shape=None,
                    **call_kwargs):
    """The parts of Keras' run_layer_test that apply here: the config round trip, the eager call
    (training defaulting as in Keras) and its output shape or values."""
    layer = cls(**init_kwargs)
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config
    out = layer(input_data, **call_kwargs)
    if expected_output_shape is not None:
        assert out.shape == tuple(expected_output_shape)
    if expected_output is not None:
        np.testing.assert_allclose(out, np.asarray(expected_output, dtype=np.float64), atol=ATOL, rtol=RTOL)
    return out


# --------------------------------------------------------------------------- RandomFlip
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip(mode):
    # keras/src/layers/preprocessing/image_preprocessing/random_flip_test.py::RandomFlipTest::test_random_flip
    run_layer_check(RandomFlip, {"mode": mode}, np.random.default_rng(0).random((2, 3, 4)),
                    expected_output_shape=(2, 3, 4))


def test_random_flip_horizontal():
    # keras/src/layers/preprocessing/image_preprocessing/random_flip_test.py::RandomFlipTest::test_random_flip_horizontal
    nncore.random.set_seed(0)
    kwargs = {"mode": "horizontal", "data_format": "channels_last", "seed": 42}
    layer = fixed_uniform(RandomFlip(**kwargs), 0.1)
    np.testing.assert_allclose(layer(np.asarray([[[2, 3, 4], [5, 6, 7]]])), [[[5, 6, 7], [2, 3, 4]]],
                               atol=ATOL, rtol=RTOL)
    layer = fixed_uniform(RandomFlip(**kwargs), 0.1)
    x = np.asarray([[[[2, 3, 4], [5, 6, 7]]], [[[2, 3, 4], [5, 6, 7]]]])
    np.testing.assert_allclose(layer(x), [[[[5, 6, 7], [2, 3, 4]]], [[[5, 6, 7], [2, 3, 4]]]],
                               atol=ATOL, rtol=RTOL)


def test_random_flip_vertical():
    # keras/src/layers/preprocessing/image_preprocessing/random_flip_test.py::RandomFlipTest::test_random_flip_vertical
    nncore.random.set_seed(0)
    kwargs = {"mode": "vertical", "data_format": "channels_last", "seed": 42}
    layer = fixed_uniform(RandomFlip(**kwargs), 0.1)
    np.testing.assert_allclose(layer(np.asarray([[[2, 3, 4]], [[5, 6, 7]]])), [[[5, 6, 7]], [[2, 3, 4]]],
                               atol=ATOL, rtol=RTOL)
    layer = fixed_uniform(RandomFlip(**kwargs), 0.1)
    x = np.asarray([[[[2, 3, 4]], [[5, 6, 7]]], [[[2, 3, 4]], [[5, 6, 7]]]])
    np.testing.assert_allclose(layer(x), [[[[5, 6, 7]], [[2, 3, 4]]], [[[5, 6, 7]], [[2, 3, 4]]]],
                               atol=ATOL, rtol=RTOL)


def test_random_flip_tf_data_compatibility():
    # keras/src/layers/preprocessing/image_preprocessing/random_flip_test.py::RandomFlipTest::test_tf_data_compatibility
    # (Keras' seed 42 draws a flip for these batches; the draw is fixed to one here.)
    layer = fixed_uniform(RandomFlip("vertical", data_format="channels_last", seed=42), 0.1)
    np.testing.assert_allclose(layer(np.array([[[2, 3, 4]], [[5, 6, 7]]])), [[[5, 6, 7]], [[2, 3, 4]]])
    layer = fixed_uniform(RandomFlip("vertical", data_format="channels_last", seed=42), 0.1)
    x = np.array([[[[2, 3, 4]], [[5, 6, 7]]], [[[2, 3, 4]], [[5, 6, 7]]]])
    np.testing.assert_allclose(layer(x), [[[[5, 6, 7]], [[2, 3, 4]]], [[[5, 6, 7]], [[2, 3, 4]]]])


def test_random_flip_draw_above_half_keeps_the_image():
    # Keras flips where the uniform draw is <= 0.5 (random_flip.py); a draw of 0.9 keeps it.
    x = np.arange(12.0).reshape(1, 2, 2, 3)
    np.testing.assert_array_equal(fixed_uniform(RandomFlip(), 0.9)(x), x)
    np.testing.assert_array_equal(fixed_uniform(RandomFlip(), 0.5)(x), x[:, ::-1, ::-1])


# --------------------------------------------------------------------------- RandomCrop
@pytest.mark.parametrize("data_format,input_shape,expected", [
    ("channels_last", (1, 3, 4, 3), (1, 2, 2, 3)),
    ("channels_last", (3, 4, 3), (2, 2, 3)),
    ("channels_first", (1, 3, 3, 4), (1, 3, 2, 2)),
    ("channels_first", (3, 3, 4), (3, 2, 2)),
])
def test_random_crop(data_format, input_shape, expected):
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_random_crop
    run_layer_check(RandomCrop, {"height": 2, "width": 2, "data_format": data_format},
                    np.random.default_rng(1).random(input_shape), expected_output_shape=expected)


def test_random_crop_full():
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_random_crop_full
    inp = np.random.default_rng(1337).random((12, 8, 16, 3))
    np.testing.assert_allclose(RandomCrop(8, 16)(inp, training=False), inp, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("height,width,expected", [
    (8, 8, (12, 8, 8, 3)),     # test_random_crop_partial
    (10, 8, (12, 10, 8, 3)),   # test_predicting_with_longer_height
    (8, 18, (12, 8, 18, 3)),   # test_predicting_with_longer_width
])
def test_random_crop_partial_and_longer(height, width, expected):
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_random_crop_partial
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_predicting_with_longer_height
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_predicting_with_longer_width
    run_layer_check(RandomCrop, {"height": height, "width": width},
                    np.random.default_rng(2).random((12, 8, 16, 3)), expected_output_shape=expected)


def test_random_crop_tf_data_compatibility():
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_tf_data_compatibility
    out = RandomCrop(8, 9)(np.random.default_rng(3).random((2, 10, 12, 3)))
    assert out.shape == (2, 8, 9, 3)


def test_random_crop_inference_passes_images_through():
    # keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_segmentation_mask_preserves_dtype_and_classes
    # (its image part: a 16x16 crop of 8x8 images resizes while training, is a no-op otherwise)
    images = np.random.default_rng(4).random((2, 8, 8, 3)).astype("float32")
    layer = RandomCrop(16, 16, seed=0)
    assert layer(images).shape == (2, 16, 16, 3)
    np.testing.assert_allclose(layer(images, training=False), images)


def test_random_crop_window_and_resize_against_numpy():
    # Keras' rule (random_crop.py): a window drawn once per batch, at floor(uniform(0, h - H + 1))
    # (height first, then width), when the images are larger in both dimensions.
    x = np.random.default_rng(5).random((3, 7, 9, 2))
    draws = iter([2.7, 0.2])
    layer = RandomCrop(4, 5, dtype="float64")
    layer._uniform = lambda low, high, size: next(draws)
    np.testing.assert_array_equal(layer(x), x[:, 2:6, 0:5])
    # Otherwise the largest centred window of the target aspect ratio, resized bilinearly with
    # half-pixel centres: 7x9 -> 7x7 window at column 1, upscaled to 14x14 (a 2x upscale:
    # output pixel i reads input coordinate (i + 0.5) / 2 - 0.5, clamped at the edges).
    out = RandomCrop(14, 14, dtype="float64")(x)
    window = x[:, :, 1:8]
    coords = np.clip((np.arange(14) + 0.5) / 2 - 0.5, 0, 6)
    lo = np.floor(coords).astype(int)
    hi = np.minimum(lo + 1, 6)
    f = coords - lo
    rows = window[:, lo] * (1 - f)[None, :, None, None] + window[:, hi] * f[None, :, None, None]
    want = rows[:, :, lo] * (1 - f)[None, None, :, None] + rows[:, :, hi] * f[None, None, :, None]
    np.testing.assert_allclose(out, want, atol=1e-12)


def test_random_crop_one_dimension_equal_takes_the_centre():
    # random_crop.py draws a position only when both dimensions are larger than the window;
    # 7x9 images and a 4x9 window give the centred aspect-ratio window, rows 1..4, every time.
    x = np.random.default_rng(6).random((2, 7, 9, 1))
    layer = RandomCrop(4, 9, seed=0, dtype="float64")
    for _ in range(3):
        np.testing.assert_array_equal(layer(x), x[:, 1:5])


def test_random_crop_channels_first_symbolic_shape():
    # random_crop.py::compute_output_shape: the height and width axes of the data format.
    assert RandomCrop(24, 20, data_format="channels_first")(L.Input((3, 32, 32))).shape == (None, 3, 24, 20)
    assert RandomCrop(24, 20)(L.Input((32, 32, 3))).shape == (None, 24, 20, 3)


# --------------------------------------------------------------------------- RandomRotation
ROTATED_180 = np.asarray([
    [24, 23, 22, 21, 20],
    [19, 18, 17, 16, 15],
    [14, 13, 12, 11, 10],
    [9, 8, 7, 6, 5],
    [4, 3, 2, 1, 0],
])


@pytest.mark.parametrize("factor", [-0.4, -0.2, 0.4, 0.2, (-0.2, 0.4)])
def test_random_rotation_shapes(factor):
    # keras/src/layers/preprocessing/image_preprocessing/random_rotation_test.py::RandomRotationTest::test_random_rotation_shapes
    run_layer_check(RandomRotation, {"factor": factor}, np.random.default_rng(0).random((2, 3, 4)),
                    expected_output_shape=(2, 3, 4))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_random_rotation_correctness(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_rotation_test.py::RandomRotationTest::test_random_rotation_correctness
    shape = (1, 5, 5, 1) if data_format == "channels_last" else (1, 1, 5, 5)
    input_image = np.reshape(np.arange(0, 25), shape)
    out = RandomRotation(factor=(0.5, 0.5), data_format=data_format)(input_image)
    np.testing.assert_allclose(out, ROTATED_180.reshape(shape), atol=1e-5, rtol=RTOL)


def test_random_rotation_training_false():
    # keras/src/layers/preprocessing/image_preprocessing/random_rotation_test.py::RandomRotationTest::test_training_false
    input_image = np.reshape(np.arange(0, 25), (1, 5, 5, 1))
    out = RandomRotation(factor=(0.5, 0.5))(input_image, training=False)
    np.testing.assert_allclose(out, input_image, atol=ATOL, rtol=RTOL)


def test_random_rotation_tf_data_compatibility():
    # keras/src/layers/preprocessing/image_preprocessing/random_rotation_test.py::RandomRotationTest::test_tf_data_compatibility
    # (tf.data maps the layer over single images: an unbatched (5, 5, 1) image here)
    input_image = np.reshape(np.arange(0, 25), (1, 5, 5, 1))
    out = RandomRotation(factor=(0.5, 0.5))(input_image[0])
    np.testing.assert_allclose(out, ROTATED_180.reshape(5, 5, 1), atol=ATOL, rtol=RTOL)


def test_random_rotation_factor_config_and_bounds():
    # Keras' base layer keeps factor as the sorted (lower, upper) pair and refuses numbers
    # outside [-1, 1] (base_image_preprocessing_layer.py::_set_factor).
    assert RandomRotation(0.2).get_config()["factor"] == (-0.2, 0.2)
    assert RandomRotation(-0.3).get_config()["factor"] == (-0.3, 0.3)
    assert RandomRotation((0.4, -0.2)).get_config()["factor"] == (-0.2, 0.4)
    for bad in (1.5, -1.2, (1.5, 2.0), (-3.0, -2.0), (0.1, 0.2, 0.3), "0.1"):
        with pytest.raises(ValueError, match="factor"):
            RandomRotation(bad)


# --------------------------------------------------------------------------- RandomZoom
@pytest.mark.parametrize("height_factor,width_factor", [
    (-0.4, -0.6), (-0.2, -0.3), ((-0.4, -0.5), (-0.2, -0.3)),
    (0.4, 0.6), (0.2, 0.3), ((0.4, 0.5), (0.2, 0.3)),
])
def test_random_zoom(height_factor, width_factor):
    # keras/src/layers/preprocessing/image_preprocessing/random_zoom_test.py::RandomZoomTest::test_random_zoom
    run_layer_check(RandomZoom, {"height_factor": height_factor, "width_factor": width_factor},
                    np.random.default_rng(0).random((2, 3, 4)), expected_output_shape=(2, 3, 4))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_random_zoom_out_correctness(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_zoom_test.py::RandomZoomTest::test_random_zoom_out_correctness
    shape = (1, 5, 5, 1) if data_format == "channels_last" else (1, 1, 5, 5)
    expected = np.asarray([
        [0, 0, 0, 0, 0],
        [0, 2.7, 4.5, 6.3, 0],
        [0, 10.2, 12.0, 13.8, 0],
        [0, 17.7, 19.5, 21.3, 0],
        [0, 0, 0, 0, 0],
    ])
    run_layer_check(RandomZoom, {"height_factor": (0.5, 0.5), "width_factor": (0.8, 0.8),
                                 "interpolation": "bilinear", "fill_mode": "constant",
                                 "data_format": data_format},
                    np.reshape(np.arange(0, 25), shape), expected_output=expected.reshape(shape))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_random_zoom_in_correctness(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_zoom_test.py::RandomZoomTest::test_random_zoom_in_correctness
    shape = (1, 5, 5, 1) if data_format == "channels_last" else (1, 1, 5, 5)
    expected = np.asarray([
        [6.0, 6.5, 7.0, 7.5, 8.0],
        [8.5, 9.0, 9.5, 10.0, 10.5],
        [11.0, 11.5, 12.0, 12.5, 13.0],
        [13.5, 14.0, 14.5, 15.0, 15.5],
        [16.0, 16.5, 17.0, 17.5, 18.0],
    ])
    run_layer_check(RandomZoom, {"height_factor": (-0.5, -0.5), "width_factor": (-0.5, -0.5),
                                 "interpolation": "bilinear", "fill_mode": "constant",
                                 "data_format": data_format},
                    np.reshape(np.arange(0, 25), shape), expected_output=expected.reshape(shape))


def test_random_zoom_tf_data_compatibility():
    # keras/src/layers/preprocessing/image_preprocessing/random_zoom_test.py::RandomZoomTest::test_tf_data_compatibility
    layer = RandomZoom(height_factor=(0.5, 0.5), width_factor=(0.8, 0.8), interpolation="nearest",
                       fill_mode="constant")
    expected = np.asarray([
        [0, 0, 0, 0, 0],
        [0, 5, 7, 9, 0],
        [0, 10, 12, 14, 0],
        [0, 20, 22, 24, 0],
        [0, 0, 0, 0, 0],
    ]).reshape(1, 5, 5, 1)
    np.testing.assert_allclose(layer(np.reshape(np.arange(0, 25), (1, 5, 5, 1))), expected)


def test_random_zoom_dynamic_shape():
    # keras/src/layers/preprocessing/image_preprocessing/random_zoom_test.py::RandomZoomTest::test_dynamic_shape
    inputs = L.Input((None, None, 3))
    outputs = RandomZoom(height_factor=(0.5, 0.5), width_factor=(0.8, 0.8), interpolation="nearest",
                         fill_mode="constant")(inputs)
    model = nncore.Model(inputs, outputs)
    x = np.random.default_rng(0).random((1, 6, 6, 3))
    np.testing.assert_allclose(model.predict(x, verbose=0), x, rtol=1e-6)  # predict: no zoom


def test_random_zoom_connect_with_flatten():
    # keras/src/layers/preprocessing/image_preprocessing/random_zoom_test.py::RandomZoomTest::test_connect_with_flatten
    model = nncore.Sequential([
        RandomZoom((-0.5, 0.0), (-0.5, 0.0)),
        L.Flatten(),
        L.Dense(1, activation="relu"),
    ])
    model.compile(loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.random((2, 2, 2, 1)), y=rng.random((2,)), verbose=0)


def test_random_zoom_factor_bounds():
    # random_zoom.py::_check_factor_range: every value in (-1, 1]; pairs are sorted.
    assert RandomZoom((0.3, -0.2))._h_range == (-0.2, 0.3)
    for bad in (-1.0, (-1.0, 0.5), 1.5, (0.1, 0.2, 0.3), {"h": 0.1}):
        with pytest.raises(ValueError, match="height_factor"):
            RandomZoom(bad)


# --------------------------------------------------------------------------- RandomTranslation
@pytest.mark.parametrize("height_factor,width_factor", [(0.4, 0.6), (0.3, 0.2), ((-0.5, 0.4), (0.2, 0.3))])
def test_random_translation(height_factor, width_factor):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation
    run_layer_check(RandomTranslation, {"height_factor": height_factor, "width_factor": width_factor},
                    np.random.default_rng(0).random((2, 3, 4)), expected_output_shape=(2, 3, 4))


@pytest.mark.parametrize("height_factor,width_factor", [
    ([0.1, 0.2, 0.3], 0.0), ({"dummy": 0.3}, 0.0), (-1.1, 0.0), ((-1.1, 0.0), 0.0),
], ids=["bad_len", "bad_type", "exceed_range_single", "exceed_range_tuple"])
def test_random_translation_with_bad_factor(height_factor, width_factor):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_with_bad_factor
    with pytest.raises(ValueError):
        run_layer_check(RandomTranslation, {"height_factor": height_factor, "width_factor": width_factor},
                        np.zeros((2, 3, 4)), expected_output_shape=(2, 3, 4))


def test_random_translation_with_inference_mode():
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_with_inference_mode
    input_data = np.random.default_rng(0).random((1, 4, 4, 3))
    out = RandomTranslation(0.2, 0.1)(input_data, training=False)
    np.testing.assert_allclose(out, input_data, atol=ATOL, rtol=RTOL)


def _translation_case(data_format, input_image, expected, shape, **init_kwargs):
    if data_format == "channels_last":
        shape4 = (1, *shape, 1)
    else:
        shape4 = (1, 1, *shape)
    run_layer_check(RandomTranslation, {**init_kwargs, "data_format": data_format},
                    np.reshape(input_image, shape4), expected_output=np.reshape(expected, shape4))


DATA_FORMATS = ["channels_first", "channels_last"]


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_up_numeric_reflect(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_up_numeric_reflect
    expected = [[5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [20, 21, 22, 23, 24],
                [20, 21, 22, 23, 24]]
    _translation_case(data_format, np.arange(0, 25), expected, (5, 5),
                      height_factor=(-0.2, -0.2), width_factor=0.0)


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_up_numeric_constant(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_up_numeric_constant
    expected = [[5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [20, 21, 22, 23, 24],
                [0, 0, 0, 0, 0]]
    _translation_case(data_format, np.arange(0, 25).astype("float32"), expected, (5, 5),
                      height_factor=(-0.2, -0.2), width_factor=0.0, fill_mode="constant")


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_down_numeric_reflect(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_down_numeric_reflect
    expected = [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14],
                [15, 16, 17, 18, 19]]
    _translation_case(data_format, np.arange(0, 25), expected, (5, 5),
                      height_factor=(0.2, 0.2), width_factor=0.0)


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_asymmetric_size_numeric_reflect(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_asymmetric_size_numeric_reflect
    expected = [[6, 7], [4, 5], [2, 3], [0, 1], [0, 1], [2, 3], [4, 5], [6, 7]]
    _translation_case(data_format, np.arange(0, 16), expected, (8, 2),
                      height_factor=(0.5, 0.5), width_factor=0.0)


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_down_numeric_constant(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_down_numeric_constant
    expected = [[0, 0, 0, 0, 0], [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14],
                [15, 16, 17, 18, 19]]
    _translation_case(data_format, np.arange(0, 25), expected, (5, 5),
                      height_factor=(0.2, 0.2), width_factor=0.0, fill_mode="constant", fill_value=0.0)


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_left_numeric_reflect(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_left_numeric_reflect
    expected = [[1, 2, 3, 4, 4], [6, 7, 8, 9, 9], [11, 12, 13, 14, 14], [16, 17, 18, 19, 19],
                [21, 22, 23, 24, 24]]
    _translation_case(data_format, np.arange(0, 25), expected, (5, 5),
                      height_factor=0.0, width_factor=(-0.2, -0.2))


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_random_translation_left_numeric_constant(data_format):
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_random_translation_left_numeric_constant
    expected = [[1, 2, 3, 4, 0], [6, 7, 8, 9, 0], [11, 12, 13, 14, 0], [16, 17, 18, 19, 0],
                [21, 22, 23, 24, 0]]
    _translation_case(data_format, np.arange(0, 25), expected, (5, 5),
                      height_factor=0.0, width_factor=(-0.2, -0.2), fill_mode="constant", fill_value=0.0)


def test_random_translation_tf_data_compatibility():
    # keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest::test_tf_data_compatibility
    out = RandomTranslation(0.2, 0.1)(np.random.default_rng(0).random((1, 4, 4, 3)))
    assert out.shape == (1, 4, 4, 3)


# --------------------------------------------------------------------------- GaussianNoise
def test_gaussian_noise_basics():
    # keras/src/layers/regularization/gaussian_noise_test.py::GaussianNoiseTest::test_gaussian_noise_basics
    layer = GaussianNoise(stddev=0.2)
    out = run_layer_check(GaussianNoise, {"stddev": 0.2}, np.random.default_rng(0).random((2, 3)),
                          expected_output_shape=(2, 3), training=True)
    assert out.shape == (2, 3)
    assert layer.trainable_weights == [] and layer.non_trainable_weights == []
    assert set(layer.get_config()) >= {"stddev", "seed", "name", "dtype", "trainable"}


def test_gaussian_noise_correctness():
    # keras/src/layers/regularization/gaussian_noise_test.py::GaussianNoiseTest::test_gaussian_noise_correctness
    inputs = np.ones((20, 500))
    outputs = GaussianNoise(0.3, seed=1337)(inputs, training=True)
    np.testing.assert_allclose(np.std(outputs), 0.3, atol=0.02)


def test_gaussian_noise_defaults_to_inference_and_checks_stddev():
    # gaussian_noise.py: call(training=False) by default; stddev must lie in [0, 1].
    x = np.ones((4, 5), dtype=np.float32)
    np.testing.assert_array_equal(GaussianNoise(0.3, seed=1)(x), x)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="stddev"):
            GaussianNoise(bad)


# --------------------------------------------------------------------------- shared arguments
@pytest.mark.parametrize("make", [
    lambda **kw: RandomTranslation(0.1, 0.1, **kw),
    lambda **kw: RandomRotation(0.1, **kw),
    lambda **kw: RandomZoom(0.1, **kw),
], ids=["translation", "rotation", "zoom"])
def test_affine_layers_arguments_and_config_keys(make):
    # Keras raises NotImplementedError for an unknown fill_mode or interpolation.
    with pytest.raises(NotImplementedError, match="fill_mode"):
        make(fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        make(interpolation="bicubic")
    config = make().get_config()
    assert {"fill_mode": "reflect", "interpolation": "bilinear", "fill_value": 0.0, "seed": None,
            "data_format": "channels_last"}.items() <= config.items()


def test_config_keys_match_keras():
    assert {"mode", "seed", "data_format"} <= set(RandomFlip().get_config())
    assert {"height", "width", "seed", "data_format"} <= set(RandomCrop(2, 2).get_config())
    assert {"height_factor", "width_factor"} <= set(RandomZoom(0.1).get_config())
    assert RandomZoom(0.1).get_config()["width_factor"] is None
    assert RandomTranslation((0.1, 0.2), 0.3).get_config()["height_factor"] == (0.1, 0.2)
    with pytest.raises(ValueError, match="data_format"):
        RandomFlip(data_format="channels_middle")


# --------------------------------------------------------------------------- random state
def test_flip_draws_follow_the_seeded_numpy_generator():
    """The layer's generator is ``numpy.random.default_rng(seed)``; each call continues its
    stream (one uniform per image), and inference draws nothing."""
    x = np.random.default_rng(0).random((16, 3, 4, 2))
    layer = RandomFlip("horizontal", seed=123, dtype="float64")
    ref = np.random.default_rng(123)
    for _ in range(3):
        flips = ref.uniform(0.0, 1.0, 16) <= 0.5
        want = np.where(flips[:, None, None, None], x[:, :, ::-1], x)
        np.testing.assert_array_equal(layer(x), want)
        np.testing.assert_array_equal(layer(x, training=False), x)


def test_translation_against_scipy():
    """Shifts drawn from ``default_rng(seed)`` (height, then width, times the image size) and
    applied as scipy's order-1 shift with Keras' reflect mode (scipy's ``reflect``)."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 6, 7, 2))
    layer = RandomTranslation((-0.3, 0.2), 0.25, seed=99, dtype="float64")
    ref = np.random.default_rng(99)
    for _ in range(2):
        dy = ref.uniform(-0.3, 0.2, 5) * 6
        dx = ref.uniform(-0.25, 0.25, 5) * 7
        want = np.stack([scipy.ndimage.shift(x[i], (dy[i], dx[i], 0), order=1, mode="reflect")
                         for i in range(5)])
        np.testing.assert_allclose(layer(x), want, atol=1e-10)


def test_rotation_against_scipy():
    """Angles drawn as ``uniform(lower * 360, upper * 360)`` degrees; scipy's affine_transform
    with the same inverse map about the centre and constant fill."""
    x = np.random.default_rng(8).normal(size=(4, 9, 8, 1))
    layer = RandomRotation(0.15, fill_mode="constant", seed=5, dtype="float64")
    angles = np.deg2rad(np.random.default_rng(5).uniform(-54.0, 54.0, 4))
    c = np.array([4.0, 3.5])
    want = []
    for img, a in zip(x, angles):
        # (y, x) output -> input: x_in = cos*x - sin*y, y_in = sin*x + cos*y about the centre
        m = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        want.append(scipy.ndimage.affine_transform(img[:, :, 0], m, offset=c - m @ c, order=1,
                                                   mode="grid-constant", cval=0.0)[:, :, None])
    np.testing.assert_allclose(layer(x), np.stack(want), atol=1e-10)


def test_same_seed_same_transforms_and_global_seed():
    x = np.random.default_rng(1).random((8, 6, 6, 3))
    for make in (lambda s: RandomZoom(0.3, seed=s), lambda s: RandomCrop(4, 4, seed=s),
                 lambda s: RandomFlip(seed=s)):
        a, b = make(3), make(3)
        np.testing.assert_array_equal(a(x), b(x))
        np.testing.assert_array_equal(a(x), b(x))  # and the streams stay together
        nncore.random.set_seed(21)
        c = make(None)(x)
        nncore.random.set_seed(21)
        np.testing.assert_array_equal(make(None)(x), c)


class Recorder(L.Layer):
    """Passes its input through and keeps a copy of what it was given."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x, training=False):
        self.seen.append((np.array(x), bool(training)))
        return x

    def backward(self, grad_out):
        return grad_out


def test_fit_augments_and_predict_does_not():
    x = np.random.default_rng(2).random((8, 4, 4, 1)).astype("float32")
    y = np.zeros((8, 1), dtype="float32")
    recorder = Recorder()
    flip = RandomFlip("horizontal", seed=4)
    model = nncore.Sequential([L.Input((4, 4, 1)), flip, recorder, L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    ref = np.random.default_rng(4)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert [t for _, t in recorder.seen] == [True, True]
    for seen, _ in recorder.seen:
        flips = ref.uniform(0.0, 1.0, 8) <= 0.5
        assert flips.any() and not flips.all()
        np.testing.assert_array_equal(seen, np.where(flips[:, None, None, None], x[:, :, ::-1], x))
    recorder.seen.clear()
    state = flip.get_rng_state()
    model.predict(x, batch_size=8, verbose=0)
    model.evaluate(x, y, batch_size=8, verbose=0)
    assert [t for _, t in recorder.seen] == [False, False]
    for seen, _ in recorder.seen:
        np.testing.assert_array_equal(seen, x)
    assert flip.get_rng_state() == state  # inference drew nothing
