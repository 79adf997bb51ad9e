"""Keras 3's test cases for ``to_categorical`` and ``normalize``, ported (same inputs, expected
values and checks; each cites its origin). ``build_pos_neg_masks`` of the same Keras file is an
internal helper, not part of ``keras.utils``, and is not ported."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore.utils import normalize, to_categorical

NUM_CLASSES = 5


@pytest.mark.parametrize("shape,expected_shape", [
    ((1,), (1, NUM_CLASSES)),
    ((3,), (3, NUM_CLASSES)),
    ((4, 3), (4, 3, NUM_CLASSES)),
    ((5, 4, 3), (5, 4, 3, NUM_CLASSES)),
    ((3, 1), (3, NUM_CLASSES)),
    ((3, 2, 1), (3, 2, NUM_CLASSES)),
])
def test_to_categorical(shape, expected_shape):
    # keras/src/utils/numerical_utils_test.py::TestNumericalUtils::test_to_categorical
    label = np.random.default_rng(0).integers(0, NUM_CLASSES, shape)
    one_hot = to_categorical(label, NUM_CLASSES)
    assert one_hot.shape == expected_shape
    assert np.all(one_hot.sum(axis=-1) == 1)
    assert np.all(np.argmax(one_hot, -1).reshape(label.shape) == label)


def test_to_categorical_without_num_classes():
    # keras/src/utils/numerical_utils_test.py::TestNumericalUtils::test_to_categorical_without_num_classes
    label = [0, 2, 5]
    assert to_categorical(label).shape == (3, 5 + 1)
    # Keras infers the count for any falsy num_classes (`if not num_classes`), 0 included.
    assert to_categorical(label, 0).shape == (3, 6)


def test_to_categorical_with_backend_tensor():
    # keras/src/utils/numerical_utils_test.py::TestNumericalUtils::test_to_categorical_with_backend_tensor
    # (a NumPy array stands for the backend tensor)
    label = np.array([0, 2, 1, 3, 4])
    expected = np.array([
        [1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
    ])
    one_hot = nncore.utils.to_categorical(label, NUM_CLASSES)
    np.testing.assert_allclose(one_hot, expected, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_normalize(order):
    # keras/src/utils/numerical_utils_test.py::TestNumericalUtils::test_normalize
    # (backend.random.uniform((3, 3), seed=1337) replaced by NumPy draws; same expected formula)
    xnp = np.random.default_rng(1337).uniform(size=(3, 3)).astype("float32")
    l2 = np.atleast_1d(np.linalg.norm(xnp, order, axis=-1))
    l2[l2 == 0] = 1
    expected = xnp / np.expand_dims(l2, axis=-1)
    out = normalize(xnp, axis=-1, order=order)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, expected, atol=1e-6, rtol=1e-6)


def test_normalize_numpy_axis_zero():
    # keras/src/utils/numerical_utils_test.py::TestNumericalUtils::test_normalize_numpy_axis_zero
    x = np.array([[3.0, 0.0, 12.0], [4.0, 5.0, 0.0]])
    expected = np.array([[0.6, 0.0, 1.0], [0.8, 1.0, 0.0]])
    out = normalize(x, axis=0)
    assert isinstance(out, np.ndarray)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, expected, atol=1e-6, rtol=1e-6)


def test_pydataset_is_exported_from_utils():
    assert nncore.utils.PyDataset is nncore.trainers.data_adapters.py_dataset.PyDataset
