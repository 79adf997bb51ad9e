"""Initializers: fan rules, sample statistics against Keras' variance-scaling formulas, seeding,
dtypes, orthogonality, names and config round trips, and use from Layer.add_weight."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nncore
from nncore import initializers
from nncore.layers.base import Layer
from nncore.random import set_seed


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((784, 128), (784, 128)),
    ((3, 3, 3, 8), (27, 72)),            # HWIO conv kernel: 3·3·cin, 3·3·cout
    ((5, 5, 16, 32), (400, 800)), ((2, 4, 6), (8, 12)),
])
def test_compute_fans(shape, fans):
    assert initializers.compute_fans(shape) == fans


# (name, shape, variance n) -> expected std and, for uniform, the bound
TRUNC = 0.87962566103423978


@pytest.mark.parametrize("name, scale, mode, dist", [
    ("glorot_uniform", 1.0, "fan_avg", "uniform"), ("glorot_normal", 1.0, "fan_avg", "truncated"),
    ("he_normal", 2.0, "fan_in", "truncated"), ("he_uniform", 2.0, "fan_in", "uniform"),
    ("lecun_normal", 1.0, "fan_in", "truncated"), ("lecun_uniform", 1.0, "fan_in", "uniform"),
])
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 32, 64)])
def test_variance_scaling_statistics(name, scale, mode, dist, shape):
    fan_in, fan_out = initializers.compute_fans(shape)
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = initializers.get(name)(shape, dtype="float64")
    assert w.shape == shape and w.dtype == np.float64
    var = scale / n
    # The sample std of the final weights is sqrt(var) in every case (that is what the
    # truncation constant is for); 60k samples give ~0.3% relative error.
    assert w.std() == pytest.approx(math.sqrt(var), rel=0.02)
    assert abs(w.mean()) < 0.02 * math.sqrt(var)
    if dist == "uniform":
        limit = math.sqrt(3 * var)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    else:
        bound = 2 * math.sqrt(var) / TRUNC
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


def test_variance_scaling_modes_and_untruncated():
    shape = (400, 100)
    for mode, n in [("fan_in", 400), ("fan_out", 100), ("fan_avg", 250)]:
        w = initializers.VarianceScaling(3.0, mode, "untruncated_normal", seed=1)(shape, "float64")
        assert w.std() == pytest.approx(math.sqrt(3.0 / n), rel=0.02)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")


def test_plain_random_initializers():
    shape = (250, 200)
    w = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=3)(shape, "float64")
    assert w.mean() == pytest.approx(1.0, abs=0.01) and w.std() == pytest.approx(0.5, rel=0.02)
    w = initializers.RandomUniform(minval=-2, maxval=3, seed=3)(shape, "float64")
    assert w.min() >= -2 and w.max() <= 3 and w.mean() == pytest.approx(0.5, abs=0.03)
    w = initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=3)(shape, "float64")
    assert np.all(np.abs(w - 0.5) <= 0.2) and w.std() == pytest.approx(0.1 * TRUNC, rel=0.02)
    w = initializers.get("random_normal")(shape)
    assert w.std() == pytest.approx(0.05, rel=0.02)


def test_seeding():
    a = initializers.GlorotUniform(seed=5)((20, 30))
    assert np.array_equal(a, initializers.GlorotUniform(seed=5)((20, 30)))
    init = initializers.HeNormal(seed=5)
    assert np.array_equal(init((4, 4)), init((4, 4)))            # a seeded instance repeats
    unseeded = initializers.GlorotUniform()
    assert not np.array_equal(unseeded((4, 4)), unseeded((4, 4)))  # unseeded draws afresh
    set_seed(123)
    first = [initializers.get("glorot_uniform")((5, 5)), initializers.get("he_normal")((3, 3, 2, 4))]
    set_seed(123)
    second = [initializers.get("glorot_uniform")((5, 5)), initializers.get("he_normal")((3, 3, 2, 4))]
    assert all(np.array_equal(x, y) for x, y in zip(first, second))
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed=-1)


def test_dtypes_follow_argument_and_floatx():
    assert initializers.GlorotUniform(seed=1)((3, 4)).dtype == np.float32
    w32 = initializers.GlorotUniform(seed=1)((3, 4), dtype=np.float32)
    w64 = initializers.GlorotUniform(seed=1)((3, 4), dtype="float64")
    assert w64.dtype == np.float64 and np.allclose(w32, w64, atol=1e-7)
    assert initializers.Zeros()((2,), "float64").dtype == np.float64


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 3, 4, 8)])
def test_orthogonal(shape):
    w = initializers.get("orthogonal")(shape, "float64")
    flat = w.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)
    w2 = initializers.OrthogonalInitializer(gain=2.0, seed=0)(shape, "float64")
    assert np.linalg.norm(w2.reshape(-1, shape[-1]), axis=None) ** 2 == pytest.approx(4 * min(flat.shape))
    with pytest.raises(ValueError, match="rank >= 2"):
        initializers.OrthogonalInitializer()((5,))


def test_constant_initializers():
    assert np.all(initializers.get("zeros")((2, 3)) == 0)
    assert np.all(initializers.get("ones")((2, 3)) == 1)
    assert np.all(initializers.Constant(2.5)((4,)) == 2.5)
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("glorot_normal", initializers.GlorotNormal), ("he_normal", initializers.HeNormal),
    ("he_uniform", initializers.HeUniform), ("lecun_normal", initializers.LecunNormal),
    ("lecun_uniform", initializers.LecunUniform), ("zeros", initializers.Zeros), ("zero", initializers.Zeros),
    ("ones", initializers.Ones), ("one", initializers.Ones), ("constant", initializers.Constant),
    ("random_normal", initializers.RandomNormal), ("normal", initializers.RandomNormal),
    ("random_uniform", initializers.RandomUniform), ("uniform", initializers.RandomUniform),
    ("truncated_normal", initializers.TruncatedNormal), ("orthogonal", initializers.OrthogonalInitializer),
    ("Orthogonal", initializers.OrthogonalInitializer), ("identity", initializers.Identity),
    ("variance_scaling", initializers.VarianceScaling),
])
def test_string_names(name, cls):
    assert type(initializers.get(name)) is cls


@pytest.mark.parametrize("init", [
    initializers.GlorotUniform(seed=3), initializers.HeNormal(), initializers.Constant(0.5),
    initializers.Zeros(), initializers.Ones(), initializers.Identity(gain=2.0),
    initializers.RandomNormal(mean=1.0, stddev=2.0, seed=1), initializers.RandomUniform(-1, 1),
    initializers.TruncatedNormal(stddev=0.3), initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=9),
    initializers.OrthogonalInitializer(gain=0.5, seed=2), initializers.LecunUniform(seed=4),
], ids=lambda i: type(i).__name__)
def test_config_round_trip(init):
    config = init.get_config()
    again = initializers.deserialize(initializers.serialize(init))
    assert type(again) is type(init) and again.get_config() == config
    if getattr(init, "seed", 0) is not None:
        assert np.array_equal(again((4, 5)), init((4, 5)))


def test_get_accepts_callables_and_none():
    fn = lambda shape, dtype=None: np.full(shape, 7.0, dtype=dtype)  # noqa: E731
    assert initializers.get(fn) is fn
    assert type(initializers.get(initializers.HeUniform)) is initializers.HeUniform
    assert initializers.get(None) is None        # Keras: no initializer
    with pytest.raises(ValueError, match="unknown initializer"):
        initializers.get("glorot_uniformm")


class _Probe(Layer):
    def __init__(self, init, reg=None, **kwargs):
        super().__init__(**kwargs)
        self.init, self.reg = init, reg

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], 3), initializer=self.init, regularizer=self.reg)
        super().build(input_shape)


def test_layers_use_initializers_and_regularizers():
    set_seed(7)
    layer = _Probe("he_uniform", "l2", dtype="float64")
    layer.build((None, 4))
    w = layer.kernel.value
    assert w.dtype == np.float64 and np.abs(w).max() <= math.sqrt(6 / 4)
    assert layer.regularization_loss() == pytest.approx(0.01 * (w ** 2).sum())
    np.testing.assert_allclose(layer.kernel.regularizer.gradient(w), 0.02 * w)
    set_seed(7)
    again = _Probe("he_uniform", dtype="float64")
    again.build((None, 4))
    assert np.array_equal(again.kernel.value, w)
    with pytest.raises(nncore.ShapeError):
        _Probe(lambda shape, dtype=None: np.zeros((1,), dtype)).build((None, 4))
