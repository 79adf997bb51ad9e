"""to_categorical (Keras semantics), normalize, image_grid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore.errors import ShapeError
from nncore.utils import image_grid, normalize, to_categorical


def reference_one_hot(y, k):
    out = np.zeros((len(y), k))
    for i, v in enumerate(y):
        out[i, v] = 1.0
    return out


@given(n=st.integers(0, 30), k=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_to_categorical_matches_reference(n, k, seed):
    y = np.random.default_rng(seed).integers(0, k, n)
    out = to_categorical(y, num_classes=k)
    assert out.shape == (n, k) and out.dtype == np.float32
    np.testing.assert_array_equal(out, reference_one_hot(y, k))


def test_to_categorical_shapes_and_inference():
    y = np.array([[3], [0], [9]], dtype=np.uint8)  # Keras' CIFAR-10 labels are (N, 1)
    out = nncore.to_categorical(y, num_classes=10)
    assert out.shape == (3, 10)
    np.testing.assert_array_equal(out.argmax(1), [3, 0, 9])
    assert to_categorical([2, 0]).shape == (2, 3)  # num_classes from max + 1
    assert to_categorical([[1, 2], [0, 0]], 3).shape == (2, 2, 3)
    assert to_categorical(np.array([1.0, 2.0]), 3, dtype="float64").dtype == np.float64
    assert to_categorical(np.array([], dtype=int), 4).shape == (0, 4)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match=r"label 10 is outside \[0, 10\)"):
        to_categorical([1, 10], 10)
    with pytest.raises(ValueError, match=r"label -1"):
        to_categorical([-1, 2])
    with pytest.raises(ValueError, match="whole numbers"):
        to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="pass num_classes"):
        to_categorical([])
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        to_categorical([0], -2)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        to_categorical([0], 1.5)
    with pytest.raises(TypeError, match="integers"):
        to_categorical(["a"])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0, 0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[1, 1], [0, 0]])
    np.testing.assert_allclose(normalize(np.array([1, -3]), order=1), [0.25, -0.75])


def test_image_grid_layout():
    imgs = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3) + 1
    g = image_grid(imgs, ncols=3, padding=1)
    assert g.shape == (2 * 3 + 1, 3 * 4 + 1) and g.dtype == np.uint8
    np.testing.assert_array_equal(g[1:3, 1:4], imgs[0])
    np.testing.assert_array_equal(g[1:3, 5:8], imgs[1])
    np.testing.assert_array_equal(g[4:6, 5:8], imgs[4])
    assert np.all(g[4:6, 9:12] == 0)  # empty sixth cell
    assert np.all(g[0] == 0) and np.all(g[:, 4] == 0)  # gaps
    rgb = image_grid(np.ones((4, 3, 3, 3)), padding=0, pad_value=0.5)
    assert rgb.shape == (6, 6, 3)
    f = image_grid(np.stack([np.zeros((2, 2)), np.array([[-1.0, 1.0], [0.0, 3.0]])]), rescale=True, padding=0)
    np.testing.assert_allclose(f[:, 2:], [[0, 0.5], [0.25, 1]])
    np.testing.assert_allclose(f[:, :2], 0.5)  # constant image
    assert image_grid(imgs, pad_value=0.5).dtype == np.float64
    with pytest.raises(ShapeError):
        image_grid(np.zeros((2, 3)))
