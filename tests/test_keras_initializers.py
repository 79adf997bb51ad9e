"""Cases ported from keras/src/initializers/constant_initializers_test.py and
random_initializers_test.py (same shapes, values and tolerances). Keras' SeedGenerator seeds,
the STFT initializer and MultiHeadAttention are not in nncore and are left out."""

import json

import numpy as np
import pytest

from nncore import initializers
from nncore.initializers import compute_fans


def run_class_serialization_test(init, shape=(4, 3)):
    """What Keras' run_class_serialization_test checks: the config survives from_config and
    serialize/deserialize (also through JSON), and the rebuilt object computes the same."""
    config = init.get_config()
    again = type(init).from_config(config)
    assert again.get_config() == config
    revived = initializers.deserialize(json.loads(json.dumps(initializers.serialize(init))))
    assert type(revived) is type(init) and revived.get_config() == config
    if getattr(init, "seed", 0) is not None:
        np.testing.assert_array_equal(revived(shape), init(shape))


def test_zeros_initializer():
    # keras/src/initializers/constant_initializers_test.py::ConstantInitializersTest::test_zeros_initializer
    init = initializers.Zeros()
    values = init(shape=(3, 3))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, np.zeros((3, 3)))
    run_class_serialization_test(init)


def test_ones_initializer():
    # keras/src/initializers/constant_initializers_test.py::ConstantInitializersTest::test_ones_initializer
    init = initializers.Ones()
    values = init(shape=(3, 3))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, np.ones((3, 3)))
    run_class_serialization_test(init)


def test_constant_initializer():
    # keras/src/initializers/constant_initializers_test.py::ConstantInitializersTest::test_constant_initializer
    init = initializers.Constant(value=6.0)
    values = init(shape=(3, 3))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, np.full((3, 3), 6.0))
    run_class_serialization_test(init)


def test_constant_initializer_array_value():
    # keras/src/initializers/constant_initializers_test.py::ConstantInitializersTest::test_constant_initializer_array_value
    value = np.random.default_rng(0).random((3, 3))
    init = initializers.Constant(value=value)
    values = init(shape=(3, 3))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, np.full((3, 3), value), rtol=1e-6, atol=1e-6)
    run_class_serialization_test(init, shape=(3, 3))


def test_constant_array_broadcasts_and_checks_shape():
    init = initializers.Constant([1.0, 2.0])
    np.testing.assert_array_equal(init((3, 2)), [[1.0, 2.0]] * 3)
    assert init((3, 2)).dtype == np.float32
    with pytest.raises(ValueError, match=r"shape \(2,\) cannot fill shape \(2, 3\)"):
        init((2, 3))
    with pytest.raises(TypeError, match="number or an array"):
        initializers.Constant("six")
    assert initializers.get({"class_name": "Constant", "config": {"value": [[1.0], [2.0]]}})(
        (2, 3)).tolist() == [[1.0] * 3, [2.0] * 3]


def test_identity_initializer():
    # keras/src/initializers/constant_initializers_test.py::ConstantInitializersTest::test_identity_initializer
    init = initializers.Identity(gain=2)
    values = init(shape=(3, 3))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, np.eye(3) * 2)
    run_class_serialization_test(init)
    assert isinstance(initializers.get("IdentityInitializer"), initializers.Identity)


def test_random_normal():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_random_normal
    shape = (25, 20)
    init = initializers.RandomNormal(mean=0.0, stddev=1.0, seed=1234)
    values = init(shape=shape)
    assert (init.mean, init.stddev, init.seed) == (0.0, 1.0, 1234)
    assert values.shape == shape
    np.testing.assert_allclose(np.std(values), 1.0, atol=1e-1)
    run_class_serialization_test(init)
    # A fixed seed yields the same results each call.
    init = initializers.RandomNormal(mean=0.0, stddev=1.0, seed=1337)
    np.testing.assert_allclose(init(shape=shape), init(shape=shape))
    # Unseeded: a clone draws other values.
    init = initializers.RandomNormal(mean=0.0, stddev=1.0, seed=None)
    values = init(shape=shape)
    clone = initializers.RandomNormal.from_config(init.get_config())
    assert not np.allclose(values, clone(shape=shape))
    # Seeded: a clone draws the same values.
    init = initializers.RandomNormal(mean=0.0, stddev=1.0, seed=1337)
    values = init(shape=shape)
    clone = initializers.RandomNormal.from_config(init.get_config())
    np.testing.assert_allclose(values, clone(shape=shape))


def test_random_uniform():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_random_uniform
    init = initializers.RandomUniform(minval=-1.0, maxval=1.0, seed=1234)
    values = init(shape=(5, 5))
    assert (init.minval, init.maxval, init.seed) == (-1.0, 1.0, 1234)
    assert values.shape == (5, 5)
    assert np.min(values) >= -1.0 and np.max(values) < 1.0
    run_class_serialization_test(init)


def test_variance_scaling():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_variance_scaling
    shape = (25, 20)
    for mode, n in (("fan_in", 25), ("fan_out", 20)):
        init = initializers.VarianceScaling(scale=2.0, seed=1234, mode=mode)
        values = init(shape=shape)
        assert (init.scale, init.seed) == (2.0, 1234)
        assert values.shape == shape
        np.testing.assert_allclose(np.std(values), np.sqrt(2.0 / n), atol=1e-1)
        run_class_serialization_test(init)


def test_orthogonal():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_orthogonal
    init = initializers.Orthogonal(gain=2.0, seed=1234)
    values = init(shape=(5, 5))
    assert (init.seed, init.gain) == (1234, 2.0)
    assert values.shape == (5, 5)
    for column in values.T:
        assert np.linalg.norm(column) == pytest.approx(2.0, abs=1e-6)
    for i in range(5):
        for j in range(i + 1, 5):
            assert np.dot(values[:, i], values[:, j]) == pytest.approx(0.0, abs=1e-6)
    run_class_serialization_test(init)
    assert isinstance(initializers.get("OrthogonalInitializer"), initializers.Orthogonal)
    assert initializers.serialize(init)["class_name"] == "Orthogonal"


def test_get_method():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_get_method
    assert isinstance(initializers.get("glorot_normal"), initializers.GlorotNormal)
    assert initializers.get(None) is None
    with pytest.raises(ValueError):
        initializers.get("typo")


def test_get_method_with_tensor():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_get_method_with_tensor
    tensor = np.random.default_rng(0).uniform(size=(5, 5)).astype("float32")
    init = initializers.get(tensor)
    np.testing.assert_allclose(init(shape=(5, 5)), tensor)
    with pytest.raises(ValueError, match=r"Expected `shape` to be"):
        init(shape=(10, 10))


def test_variance_scaling_invalid_scale():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_variance_scaling_invalid_scale
    with pytest.raises(ValueError, match="Argument `scale` must be positive float."):
        initializers.VarianceScaling(scale=-1.0, seed=1234, mode="fan_in")


def test_variance_scaling_invalid_mode():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_variance_scaling_invalid_mode
    with pytest.raises(ValueError, match="Invalid `mode` argument:"):
        initializers.VarianceScaling(scale=2.0, seed=1234, mode="invalid_mode")


def test_variance_scaling_invalid_distribution():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_variance_scaling_invalid_distribution
    with pytest.raises(ValueError, match="Invalid `distribution` argument:"):
        initializers.VarianceScaling(scale=2.0, seed=1234, mode="fan_in",
                                     distribution="invalid_dist")


def test_compute_fans_with_axes():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_compute_fans_with_axes
    assert compute_fans((512, 8, 64), input_axes=[0], output_axes=[1, 2]) == (512, 512)
    assert compute_fans((512, 8, 64), input_axes=[0, 1], output_axes=[2]) == (512 * 8, 64)
    with pytest.raises(ValueError, match="out of range"):
        compute_fans((2, 3), input_axes=[2], output_axes=[0])


def test_variance_scaling_with_axes():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_variance_scaling_with_axes
    shape = (32, 4, 16)
    init = initializers.VarianceScaling(scale=2.0, seed=1234, mode="fan_in", input_axes=[0],
                                        output_axes=[1, 2])
    values = init(shape=shape)
    assert values.shape == shape
    np.testing.assert_allclose(np.std(values), np.sqrt(2.0 / 32), atol=1e-1)
    init = initializers.VarianceScaling(scale=2.0, seed=1234, mode="fan_in")
    np.testing.assert_allclose(np.std(init(shape=shape)), np.sqrt(2.0 / 128), atol=1e-1)


def test_variance_scaling_serialization_with_axes():
    # keras/src/initializers/random_initializers_test.py::RandomInitializersTest::test_variance_scaling_serialization_with_axes
    run_class_serialization_test(initializers.VarianceScaling(input_axes=[0], output_axes=[1, 2]),
                                 shape=(4, 2, 3))
    init = initializers.LecunNormal(seed=3, input_axes=[0], output_axes=[1, 2])
    assert init.get_config() == {"seed": 3, "input_axes": [0], "output_axes": [1, 2]}
    run_class_serialization_test(init, shape=(4, 2, 3))
