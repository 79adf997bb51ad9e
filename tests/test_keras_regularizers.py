"""Cases ported from keras/src/regularizers/regularizers_test.py (regularizers applied to
Variables, as Keras applies them; same values and messages)."""

import json

import numpy as np
import pytest

from nncore import regularizers
from nncore.regularizers import validate_float_arg
from nncore.variables import Variable


@pytest.fixture
def value():
    return np.random.default_rng(1337).random((4, 4)).astype(np.float32)


def V(value):
    return Variable(np.asarray(value, np.float32), name="x")


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b, rtol=1e-6, atol=1e-6)


def run_class_serialization_test(reg):
    config = reg.get_config()
    assert type(reg).from_config(config).get_config() == config
    revived = regularizers.deserialize(json.loads(json.dumps(regularizers.serialize(reg))))
    assert type(revived) is type(reg) and revived.get_config() == config


def test_config():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_config
    for reg in (regularizers.L1(0.1), regularizers.L2(0.1), regularizers.L1L2(l1=0.1, l2=0.2),
                regularizers.OrthogonalRegularizer(factor=0.1, mode="rows")):
        run_class_serialization_test(reg)


def test_l1(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1
    close(regularizers.L1(0.1)(V(value)), 0.1 * np.sum(np.abs(value)))


def test_l2(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l2
    close(regularizers.L2(0.1)(V(value)), 0.1 * np.sum(np.square(value)))


def test_l1_l2(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1_l2
    close(regularizers.L1L2(l1=0.1, l2=0.2)(V(value)),
          0.1 * np.sum(np.abs(value)) + 0.2 * np.sum(np.square(value)))


def test_orthogonal_regularizer(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_orthogonal_regularizer
    y = regularizers.OrthogonalRegularizer(factor=0.1, mode="rows")(V(value))
    inputs = value / np.linalg.norm(value, axis=1, keepdims=True)
    close(y, 0.1 * 0.5 * np.sum(np.abs(np.dot(inputs, inputs.T) * (1.0 - np.eye(4))))
          / (4.0 * (4.0 - 1.0) / 2.0))


def test_get_method():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_get_method
    assert isinstance(regularizers.get("l1l2"), regularizers.L1L2)
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert isinstance(regularizers.get("orthogonal_regularizer"), regularizers.OrthogonalRegularizer)
    assert regularizers.get(None) is None
    with pytest.raises(ValueError):
        regularizers.get("typo")


def test_l1l2_get_config():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1l2_get_config
    reg = regularizers.L1L2(l1=0.01, l2=0.02)
    config = reg.get_config()
    close(config["l1"], 0.01)
    close(config["l2"], 0.02)
    again = regularizers.L1L2.from_config(config)
    assert again.get_config() == config
    close(again.l1, 0.01)
    close(again.l2, 0.02)


def test_orthogonal_regularizer_mode_validation():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_orthogonal_regularizer_mode_validation
    with pytest.raises(ValueError) as info:
        regularizers.OrthogonalRegularizer(factor=0.01, mode="invalid_mode")
    assert str(info.value) == ('Invalid value for argument `mode`. Expected one of {"rows", '
                               '"columns"}. Received: mode=invalid_mode')


def test_orthogonal_regularizer_input_rank_validation():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_orthogonal_regularizer_input_rank_validation
    with pytest.raises(ValueError) as info:
        regularizers.OrthogonalRegularizer(factor=0.1)(V(np.ones((4, 4, 4))))
    assert str(info.value) == ("Inputs to OrthogonalRegularizer must have rank 2. "
                               f"Received: inputs.shape={(4, 4, 4)}")


def test_orthogonal_regularizer_get_config():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_orthogonal_regularizer_get_config
    reg = regularizers.OrthogonalRegularizer(factor=0.01, mode="columns")
    config = reg.get_config()
    assert config["factor"] == pytest.approx(0.01, abs=1e-7) and config["mode"] == "columns"
    again = regularizers.OrthogonalRegularizer.from_config(config).get_config()
    assert again["factor"] == pytest.approx(0.01, abs=1e-7) and again["mode"] == "columns"


def test_l1_with_zero_weights():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1_with_zero_weights
    close(regularizers.L1(0.1)(V(np.zeros((4, 4)))), 0.0)


def test_l1_with_negative_weights():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1_with_negative_weights
    close(regularizers.L1(0.1)(V(np.ones((4, 4)))), regularizers.L1(0.1)(V(-np.ones((4, 4)))))


def test_l1_zero_coefficient(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1_zero_coefficient
    close(regularizers.L1(0.0)(V(value)), 0.0)


def test_l2_with_zero_weights():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l2_with_zero_weights
    close(regularizers.L2(0.1)(V(np.zeros((4, 4)))), 0.0)


def test_l2_zero_coefficient(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l2_zero_coefficient
    close(regularizers.L2(0.0)(V(value)), 0.0)


def test_l2_is_larger_than_l1_for_large_weights():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l2_is_larger_than_l1_for_large_weights
    x = V(np.ones((4, 4)) * 10.0)
    assert float(regularizers.L2(1.0)(x)) > float(regularizers.L1(1.0)(x))


def test_l2_is_smaller_than_l1_for_small_weights():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l2_is_smaller_than_l1_for_small_weights
    x = V(np.ones((4, 4)) * 0.1)
    assert float(regularizers.L2(1.0)(x)) < float(regularizers.L1(1.0)(x))


def test_l1l2_zero_coefficients(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1l2_zero_coefficients
    close(regularizers.L1L2(l1=0.0, l2=0.0)(V(value)), 0.0)


def test_l1l2_only_l1(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1l2_only_l1
    close(regularizers.L1L2(l1=0.1, l2=0.0)(V(value)), regularizers.L1(0.1)(V(value)))


def test_l1l2_only_l2(value):
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1l2_only_l2
    close(regularizers.L1L2(l1=0.0, l2=0.1)(V(value)), regularizers.L2(0.1)(V(value)))


def test_l1l2_with_zero_weights():
    # keras/src/regularizers/regularizers_test.py::RegularizersTest::test_l1l2_with_zero_weights
    close(regularizers.L1L2(l1=0.1, l2=0.2)(V(np.zeros((4, 4)))), 0.0)


def test_gradients_take_variables(value):
    x = V(value)
    np.testing.assert_allclose(regularizers.L2(0.1).gradient(x), 0.2 * value, rtol=1e-6)
    np.testing.assert_array_equal(regularizers.L1(0.1).gradient(x), np.float32(0.1) * np.sign(value))


# keras/src/regularizers/regularizers_test.py::ValidateFloatArgTest
def test_validate_float_with_valid_args():
    assert validate_float_arg(1, "test") == 1.0
    assert validate_float_arg(1.0, "test") == 1.0


@pytest.mark.parametrize("bad", ["not_a_number", float("nan"), float("inf"), -float("inf"), -1,
                                 -0.001, None, [0.1]],
                         ids=["invalid_types", "nan", "inf", "-inf", "negative_number",
                              "negative_float", "none", "list"])
def test_validate_float_rejects(bad):
    with pytest.raises(ValueError, match="expected a non-negative float"):
        validate_float_arg(bad, "test")


def test_validate_float_with_zero_small_and_large():
    assert validate_float_arg(0, "test") == 0.0
    assert validate_float_arg(0.0, "test") == 0.0
    assert validate_float_arg(1e-10, "test") == pytest.approx(1e-10)
    assert validate_float_arg(1e6, "test") == pytest.approx(1e6)
    assert isinstance(validate_float_arg(1, "test"), float)
    assert isinstance(validate_float_arg(1.0, "test"), float)
