"""Weight constraints: Keras 3's constraints_test.py cases, dtypes, identifiers, and constraints on
layers (resolved at construction, serialized in get_config, applied after an optimizer step)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nncore
from nncore import constraints, layers


def get_example_array():
    np.random.seed(3537)
    example_array = np.random.random((100, 100)) * 100.0 - 50.0
    example_array[0, 0] = 0.0
    return example_array


# ---------------------------------------------------------------- keras/src/constraints/constraints_test.py


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_max_norm
def test_max_norm():
    constraint_fn = constraints.MaxNorm(2.0)
    x = np.array([[0, 0, 0], [1.0, 0, 0], [3, 0, 0], [3, 3, 3]]).T
    target = np.array(
        [[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0],
         [2.0 / np.sqrt(3), 2.0 / np.sqrt(3), 2.0 / np.sqrt(3)]]).T
    np.testing.assert_allclose(constraint_fn(x), target, rtol=1e-6, atol=1e-6)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg
def test_non_neg():
    output = constraints.NonNeg()(get_example_array())
    assert (np.min(output, axis=1) >= 0.0).all()


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_unit_norm
def test_unit_norm():
    output = constraints.UnitNorm()(get_example_array())
    l2 = np.sqrt(np.sum(np.square(output), axis=0))
    np.testing.assert_allclose(l2, 1.0, rtol=1e-6, atol=1e-6)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_min_max_norm
def test_min_max_norm():
    output = constraints.MinMaxNorm(min_value=0.2, max_value=0.5)(get_example_array())
    l2 = np.sqrt(np.sum(np.square(output), axis=0))
    assert np.all(l2 >= 0.2)
    assert np.all(l2 <= 0.5 + 1e-6)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_get_method
def test_get_method():
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert constraints.get(None) is None
    with pytest.raises(ValueError):
        constraints.get("typo")


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_default_constraint_call
def test_default_constraint_call():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(constraints.Constraint()(x), x)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_constraint_get_config
def test_constraint_get_config():
    assert constraints.Constraint().get_config() == {}


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_constraint_from_config
def test_constraint_from_config():
    config = constraints.Constraint().get_config()
    assert isinstance(constraints.Constraint.from_config(config), constraints.Constraint)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_max_norm_get_config
def test_max_norm_get_config():
    constraint_fn = constraints.MaxNorm(max_value=3.0, axis=1)
    config = constraint_fn.get_config()
    assert config == {"max_value": 3.0, "axis": 1}
    restored = constraints.MaxNorm.from_config(config)
    assert restored.max_value == constraint_fn.max_value
    assert restored.axis == constraint_fn.axis
    x = get_example_array()
    np.testing.assert_allclose(constraint_fn(x), restored(x))


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_unit_norm_get_config
def test_unit_norm_get_config():
    constraint_fn = constraints.UnitNorm(axis=1)
    config = constraint_fn.get_config()
    assert config == {"axis": 1}
    restored = constraints.UnitNorm.from_config(config)
    assert restored.axis == constraint_fn.axis
    x = get_example_array()
    np.testing.assert_allclose(constraint_fn(x), restored(x))


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_min_max_norm_get_config
def test_min_max_norm_get_config():
    constraint_fn = constraints.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.7, axis=1)
    config = constraint_fn.get_config()
    assert config == {"min_value": 0.5, "max_value": 2.0, "rate": 0.7, "axis": 1}
    restored = constraints.MinMaxNorm.from_config(config)
    assert restored.min_value == constraint_fn.min_value
    assert restored.max_value == constraint_fn.max_value
    assert restored.rate == constraint_fn.rate
    assert restored.axis == constraint_fn.axis
    x = get_example_array()
    np.testing.assert_allclose(constraint_fn(x), restored(x))


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg_get_config
def test_non_neg_get_config():
    assert constraints.NonNeg().get_config() == {}


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg_from_config
def test_non_neg_from_config():
    config = constraints.NonNeg().get_config()
    assert isinstance(constraints.NonNeg.from_config(config), constraints.NonNeg)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg_serialization_roundtrip
def test_non_neg_serialization_roundtrip():
    original = constraints.NonNeg()
    restored = constraints.NonNeg.from_config(original.get_config())
    x = get_example_array()
    np.testing.assert_allclose(original(x), restored(x))


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg_zeroes_negatives
def test_non_neg_zeroes_negatives():
    np.testing.assert_allclose(constraints.NonNeg()(np.full((5, 5), -3.0)), np.zeros((5, 5)))


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg_preserves_positives
def test_non_neg_preserves_positives():
    x = np.full((5, 5), 3.0)
    np.testing.assert_allclose(constraints.NonNeg()(x), x)


# keras/src/constraints/constraints_test.py::ConstraintsTest::test_non_neg_all_zeros_input
def test_non_neg_all_zeros_input():
    np.testing.assert_allclose(constraints.NonNeg()(np.zeros((5, 5))), np.zeros((5, 5)))


# ---------------------------------------------------------------- beyond the Keras cases


def _ref_norms(w, axis):
    return np.sqrt(np.sum(np.square(w.astype(np.float64)), axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda: constraints.MaxNorm(1.5, axis=[0, 1, 2]),
    lambda: constraints.MinMaxNorm(0.5, 1.0, rate=0.5, axis=0),
    lambda: constraints.UnitNorm(axis=-1),
    lambda: constraints.NonNeg(),
])
def test_shape_and_dtype_are_kept(dtype, make):
    w = np.random.default_rng(0).standard_normal((3, 3, 4, 5)).astype(dtype)
    out = make()(w)
    assert isinstance(out, np.ndarray)
    assert out.shape == w.shape and out.dtype == dtype


def test_max_norm_per_conv_filter_against_numpy():
    w = np.random.default_rng(1).standard_normal((3, 3, 4, 5)) * 2
    w[..., 0] *= 0.01  # one filter under the limit stays as it is
    out = constraints.MaxNorm(2.0, axis=[0, 1, 2])(w)
    norms = _ref_norms(w, (0, 1, 2))
    want = w * np.minimum(norms, 2.0) / (norms + 1e-7)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    np.testing.assert_allclose(out[..., 0], w[..., 0], rtol=1e-6)
    np.testing.assert_allclose(_ref_norms(out, (0, 1, 2))[..., 1:], 2.0, rtol=1e-6)


def test_min_max_norm_rate_moves_part_of_the_way():
    w = np.array([[3.0, 0.1], [4.0, 0.0]])  # column norms 5 and 0.1
    out = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(w)
    # new norm = 0.5 * clip(norm, 1, 2) + 0.5 * norm
    np.testing.assert_allclose(_ref_norms(out, 0).ravel(), [0.5 * 2 + 0.5 * 5, 0.5 * 1 + 0.5 * 0.1],
                               rtol=1e-6)


def test_zero_column_stays_zero():
    w = np.zeros((4, 2), np.float32)
    for c in (constraints.MaxNorm(), constraints.UnitNorm(), constraints.MinMaxNorm(1.0, 2.0)):
        out = c(w)
        assert np.all(np.isfinite(out)) and np.all(out == 0)


@pytest.mark.parametrize("name, cls", [
    ("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
    ("min_max_norm", constraints.MinMaxNorm), ("MinMaxNorm", constraints.MinMaxNorm),
    ("non_neg", constraints.NonNeg), ("NonNeg", constraints.NonNeg),
    ("unit_norm", constraints.UnitNorm), ("UnitNorm", constraints.UnitNorm),
])
def test_get_by_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_get_other_identifiers():
    c = constraints.MaxNorm(3)
    assert constraints.get(c) is c
    assert type(constraints.get(constraints.NonNeg)) is constraints.NonNeg
    restored = constraints.get(constraints.serialize(c))
    assert type(restored) is constraints.MaxNorm and restored.max_value == 3
    # A Keras-saved config carries extra keys ("module", "registered_name").
    keras_cfg = {"module": "keras.constraints", "class_name": "UnitNorm", "config": {"axis": 1},
                 "registered_name": None}
    assert constraints.get(keras_cfg).axis == 1
    fn = lambda w: w * 0  # noqa: E731
    assert constraints.get(fn) is fn
    for bad in (3, "typo", {"class_name": "Nope", "config": {}}, int):
        with pytest.raises(ValueError):
            constraints.get(bad)


def test_serialize_and_deserialize():
    assert constraints.serialize(None) is None
    cfg = constraints.serialize(constraints.MinMaxNorm(0.1, 0.9, 0.5, [0, 1]))
    assert json.loads(json.dumps(cfg)) == cfg
    c = constraints.deserialize(cfg)
    assert (c.min_value, c.max_value, c.rate, c.axis) == (0.1, 0.9, 0.5, [0, 1])
    assert type(constraints.deserialize("non_neg")) is constraints.NonNeg
    with pytest.raises(ValueError, match="plain function"):
        constraints.serialize(lambda w: w)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="max_value"):
        constraints.MaxNorm(-1.0)
    with pytest.raises(ValueError, match="max_value"):
        constraints.MinMaxNorm(min_value=2.0, max_value=1.0)
    with pytest.raises(ValueError, match="rate"):
        constraints.MinMaxNorm(rate=1.5)
    with pytest.raises(ValueError, match="axis"):
        constraints.UnitNorm(axis="x")
    with pytest.raises(nncore.ShapeError, match="axis"):
        constraints.MaxNorm(axis=3)(np.ones((2, 2)))
    with pytest.raises(TypeError, match="dtype"):
        constraints.NonNeg()(np.array(["a"]))


# ---------------------------------------------------------------- on layers


def test_unknown_name_fails_at_layer_construction():
    for make in (lambda: layers.Dense(2, kernel_constraint="typo"),
                 lambda: layers.Conv2D(2, 3, bias_constraint="typo"),
                 lambda: layers.PReLU(alpha_constraint="typo"),
                 lambda: layers.BatchNormalization(gamma_constraint="typo")):
        with pytest.raises(ValueError, match="typo"):
            make()


@pytest.mark.parametrize("make, names", [
    (lambda: layers.Dense(3, kernel_constraint="non_neg", bias_constraint=constraints.MaxNorm(1.0)),
     ("kernel_constraint", "bias_constraint")),
    (lambda: layers.Conv2D(2, 3, kernel_constraint=constraints.MaxNorm(2, axis=[0, 1, 2]),
                           bias_constraint="unit_norm"), ("kernel_constraint", "bias_constraint")),
    (lambda: layers.PReLU(alpha_constraint="non_neg"), ("alpha_constraint",)),
    (lambda: layers.BatchNormalization(beta_constraint="non_neg",
                                       gamma_constraint=constraints.MinMaxNorm(0.5, 2.0)),
     ("beta_constraint", "gamma_constraint")),
])
def test_layer_config_round_trip_keeps_constraints(make, names):
    layer = make()
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    restored = type(layer).from_config(config)
    for n in names:
        assert config[n] is not None and config[n]["class_name"]
        assert type(getattr(restored, n)) is type(getattr(layer, n))
        assert getattr(restored, n).get_config() == getattr(layer, n).get_config()
    assert restored.get_config() == {**config, "name": restored.name}


def test_weights_carry_resolved_constraints():
    dense = layers.Dense(3, kernel_constraint="non_neg", bias_constraint="max_norm")
    dense.build((None, 4))
    assert isinstance(dense.kernel.constraint, constraints.NonNeg)
    assert isinstance(dense.bias.constraint, constraints.MaxNorm)
    bn = layers.BatchNormalization(beta_constraint="non_neg", gamma_constraint="unit_norm")
    bn.build((None, 4))
    assert isinstance(bn.beta.constraint, constraints.NonNeg)
    assert isinstance(bn.gamma.constraint, constraints.UnitNorm)
    assert bn.moving_mean.constraint is None and bn.moving_variance.constraint is None
    prelu = layers.PReLU(alpha_constraint="non_neg")
    prelu.build((None, 4))
    assert isinstance(prelu.alpha.constraint, constraints.NonNeg)


def test_add_weight_resolves_names():
    layer = layers.Layer()
    w = layer.add_weight("w", (2, 2), initializer="ones", constraint="unit_norm")
    assert isinstance(w.constraint, constraints.UnitNorm)
    with pytest.raises(ValueError):
        layer.add_weight("v", (2,), constraint="typo")


def test_fit_applies_string_constraints_after_each_step():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = rng.standard_normal((32, 3)).astype(np.float32)
    model = nncore.Sequential([
        nncore.Input(shape=(4,)),
        layers.Dense(5, kernel_constraint="non_neg", kernel_initializer="random_normal"),
        layers.BatchNormalization(gamma_constraint=constraints.MaxNorm(0.5)),
        layers.Dense(3, kernel_constraint=constraints.MaxNorm(0.1)),
    ])
    model.compile(optimizer=nncore.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    k0 = model.layers[0].kernel.numpy()
    assert k0.dtype == np.float32 and k0.min() >= 0
    assert np.linalg.norm(model.layers[1].gamma.numpy()) <= 0.5 + 1e-6
    assert np.all(np.linalg.norm(model.layers[2].kernel.numpy(), axis=0) <= 0.1 + 1e-6)


def test_constraints_survive_model_save_and_load(tmp_path):
    inp = nncore.Input(shape=(6, 6, 2))
    h = layers.Conv2D(3, 3, kernel_constraint=constraints.MaxNorm(1.5, axis=[0, 1, 2]))(inp)
    h = layers.BatchNormalization(beta_constraint="non_neg")(h)
    h = layers.PReLU(alpha_constraint="non_neg")(layers.Flatten()(h))
    model = nncore.Model(inp, layers.Dense(2, bias_constraint=constraints.UnitNorm())(h))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = nncore.load_model(path)
    by_name = {l.name: l for l in loaded.layers}
    for layer in model.layers:
        for key, value in vars(layer).items():
            if key.endswith("_constraint") and value is not None:
                other = getattr(by_name[layer.name], key)
                assert type(other) is type(value) and other.get_config() == value.get_config()
    assert isinstance(by_name[model.layers[1].name].kernel.constraint, constraints.MaxNorm)


class _ClipAt(constraints.Constraint):
    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return np.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


def test_custom_constraint_subclass_round_trips_by_name():
    layer = layers.Dense(2, kernel_constraint=_ClipAt(0.25))
    restored = layers.Dense.from_config(json.loads(json.dumps(layer.get_config())))
    assert isinstance(restored.kernel_constraint, _ClipAt)
    assert restored.kernel_constraint.limit == 0.25
    # A subclass named like a built-in does not replace it.
    class MaxNorm(constraints.Constraint):  # noqa: F811
        pass
    assert type(constraints.get("MaxNorm")) is constraints.MaxNorm
