"""LayerNormalization and GroupNormalization: slow NumPy references, hypothesis over shapes, axes,
groups and dtypes, float64 finite-difference gradients of inputs and weights, Keras-made values,
parameter counts, configs, and a fit + ``.keras`` round trip."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers
from nncore.errors import ShapeError
from test_layers_padding_upsampling import save_round_trip

DTYPES = [np.float32, np.float64]


def ref_layer_norm(x, axes, gamma, beta, eps, rms=False):
    """Per sample (every index outside ``axes``), in float64, one loop over those indices."""
    x = x.astype(np.float64)
    rest = [a for a in range(x.ndim) if a not in axes]
    y = np.empty_like(x)
    for idx in np.ndindex(*[x.shape[a] for a in rest]):
        sel = [slice(None)] * x.ndim
        for a, i in zip(rest, idx):
            sel[a] = i
        v = x[tuple(sel)]
        out = (v if rms else v - v.mean()) / np.sqrt(v.var() + eps)
        if gamma is not None:
            out = out * gamma
        if beta is not None:
            out = out + beta
        y[tuple(sel)] = out
    return y


def ref_group_norm(x, groups, axis, gamma, beta, eps):
    x = np.moveaxis(x.astype(np.float64), axis, -1)
    c = x.shape[-1]
    y = np.empty_like(x)
    per = c // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            v = x[n, ..., g * per:(g + 1) * per]
            y[n, ..., g * per:(g + 1) * per] = (v - v.mean()) / np.sqrt(v.var() + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return np.moveaxis(y, -1, axis)


def _randomize(layer, rng):
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape).astype(w.dtype))


@st.composite
def ln_cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    axes = draw(st.lists(st.integers(1, len(shape) - 1), min_size=1, max_size=len(shape) - 1,
                         unique=True))
    negative = draw(st.booleans())
    axis = [a - len(shape) for a in axes] if negative else axes
    return shape, (axis[0] if len(axis) == 1 and draw(st.booleans()) else axis), sorted(axes)


@given(case=ln_cases(), dtype=st.sampled_from(DTYPES), center=st.booleans(), scale=st.booleans(),
       rms=st.booleans(), seed=st.integers(0, 2**31))
def test_layer_norm_matches_reference(case, dtype, center, scale, rms, seed):
    shape, axis, axes = case
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = layers.LayerNormalization(axis=axis, center=center, scale=scale, rms_scaling=rms,
                                          dtype=dtype)
    y = layer(x)
    _randomize(layer, rng)
    y = layer(x)
    gamma = None if layer.gamma is None else layer.gamma.value.astype(np.float64)
    beta = None if layer.beta is None else layer.beta.value.astype(np.float64)
    if gamma is not None or beta is not None:
        bshape = [shape[a] if a in axes else 1 for a in range(len(shape))]
        gamma = None if gamma is None else gamma.reshape(bshape)
        beta = None if beta is None else beta.reshape(bshape)
    want = _ref_ln_broadcast(x, axes, gamma, beta, layer.epsilon, rms)
    assert y.dtype == dtype and y.shape == x.shape
    tol = 64 * np.finfo(dtype).eps
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol * (1 + np.abs(want).max()))
    n_params = 0 if not (scale or rms) else int(np.prod([shape[a] for a in axes]))
    n_params += 0 if not center or rms else int(np.prod([shape[a] for a in axes]))
    assert layer.count_params() == n_params


def _ref_ln_broadcast(x, axes, gamma, beta, eps, rms):
    """ref_layer_norm with gamma/beta given broadcast to x's rank."""
    y = ref_layer_norm(x, axes, None, None, eps, rms)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


@pytest.mark.parametrize("kwargs", [{}, {"axis": [1, 3]}, {"axis": (2, 3), "center": False},
                                    {"axis": 1, "scale": False}, {"rms_scaling": True}])
def test_layer_norm_gradcheck(kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 2, 4)) * 2 + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = layers.LayerNormalization(dtype="float64", **kwargs)
    layer.build(x.shape)
    _randomize(layer, rng)
    assert nncore.gradcheck(layer, x)


def test_layer_norm_matches_keras_values():
    # Made with keras.layers.LayerNormalization(axis=[1, 3]) and these weights (Keras 3.15.1,
    # torch backend), rounded to 5 decimals.
    x = (np.arange(24, dtype="float64").reshape(1, 2, 3, 4) ** 1.5 % 7).astype("float32")
    layer = layers.LayerNormalization(axis=[1, 3])
    layer.build(x.shape)
    layer.set_weights([np.linspace(0.5, 2, 8).reshape(2, 4), np.linspace(-1, 1, 8).reshape(2, 4)])
    want = [-1.7797, -1.48468, -0.61368, 0.9305, -1.41431, -0.34559, -1.317, 0.61133, -1.78034,
            0.0382, -0.77005, -2.02526, 2.31352, 1.65963, 0.83468, -0.10427, -0.9817, -1.47636,
            3.28755, 3.41823, 1.12042, 1.36449, 1.72984, 2.27491]
    np.testing.assert_allclose(layer(x).ravel(), want, atol=2e-5)


def test_layer_norm_config_and_errors():
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, gamma_regularizer="l2",
                                      beta_constraint="non_neg")
    config = layer.get_config()
    assert config["axis"] == [1, 2] and config["epsilon"] == 1e-5 and config["rms_scaling"] is False
    assert json.loads(json.dumps(config)) == config
    assert layers.LayerNormalization.from_config(config).get_config() == config
    with pytest.warns(UserWarning, match="variance"):
        assert layers.LayerNormalization(rms_scaling=True).get_config()["rms_scaling"] is True
    for bad in ["-1", 1.5, [0.5]]:
        with pytest.raises(TypeError, match="axis"):
            layers.LayerNormalization(axis=bad)
    with pytest.raises(ValueError, match="epsilon"):
        layers.LayerNormalization(epsilon=0)
    with pytest.raises(ValueError, match="uplicate"):
        layers.LayerNormalization(axis=[1, -2])(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="out of bounds"):
        layers.LayerNormalization(axis=3)(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="batch"):
        layers.LayerNormalization(axis=0)(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="expects"):
        built = layers.LayerNormalization()
        built(np.zeros((2, 3)))
        built.compute_output_shape((None, 4))


# ---------------------------------------------------------------- GroupNormalization
@st.composite
def gn_cases(draw):
    rank = draw(st.integers(2, 4))
    shape = [draw(st.integers(1, 3)) for _ in range(rank)]
    axis = draw(st.integers(1, rank - 1))
    groups = draw(st.integers(1, 4))
    shape[axis] = groups * draw(st.integers(1, 3))
    return tuple(shape), axis, groups


@given(case=gn_cases(), dtype=st.sampled_from(DTYPES), center=st.booleans(), scale=st.booleans(),
       negative_axis=st.booleans(), seed=st.integers(0, 2**31))
def test_group_norm_matches_reference(case, dtype, center, scale, negative_axis, seed):
    shape, axis, groups = case
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 - 1).astype(dtype)
    layer = layers.GroupNormalization(groups=groups, axis=axis - len(shape) if negative_axis else axis,
                                      center=center, scale=scale, dtype=dtype)
    layer.build(x.shape)
    _randomize(layer, rng)
    y = layer(x)
    gamma = None if layer.gamma is None else layer.gamma.value.astype(np.float64)
    beta = None if layer.beta is None else layer.beta.value.astype(np.float64)
    want = ref_group_norm(x, groups, axis, gamma, beta, layer.epsilon)
    assert y.dtype == dtype and y.shape == x.shape
    tol = 64 * np.finfo(dtype).eps
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol * (1 + np.abs(want).max()))
    assert layer.count_params() == shape[axis] * (int(center) + int(scale))


@pytest.mark.parametrize("kwargs", [{"groups": 2}, {"groups": 3, "axis": 1}, {"groups": -1},
                                    {"groups": 1, "center": False}, {"groups": 6, "scale": False}])
def test_group_norm_gradcheck(kwargs):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2, 6)) * 2 + 0.5
    layer = layers.GroupNormalization(dtype="float64", **kwargs)
    layer.build(x.shape)
    _randomize(layer, rng)
    assert nncore.gradcheck(layer, x)


def test_group_norm_matches_keras_values():
    # Made with keras.layers.GroupNormalization(groups=2) and these weights (Keras 3.15.1, torch
    # backend), rounded to 5 decimals.
    x = (np.arange(24, dtype="float64").reshape(1, 2, 3, 4) ** 1.5 % 7).astype("float32")
    layer = layers.GroupNormalization(groups=2)
    layer.build(x.shape)
    layer.set_weights([np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.0, -0.5, 1.0])])
    want = [-0.78783, -1.74073, -2.30528, 4.03627, -0.37036, 0.91461, -5.98043, 2.48242, -0.10844,
            2.43389, -0.93565, -4.50041, 1.95457, 1.49224, -1.34872, -3.09373, -0.37036, -2.49818,
            3.79692, 5.46835, 1.4843, 1.79441, 1.76512, 4.28449]
    np.testing.assert_allclose(layer(x).ravel(), want, atol=2e-5)


def test_group_norm_config_and_errors():
    config = layers.GroupNormalization(groups=4, axis=1, epsilon=1e-5).get_config()
    assert (config["groups"], config["axis"], config["epsilon"]) == (4, 1, 1e-5)
    assert layers.GroupNormalization.from_config(config).get_config() == config
    for bad in [0, -2, 1.5, True]:
        with pytest.raises(ValueError, match="groups"):
            layers.GroupNormalization(groups=bad)
    with pytest.raises(ValueError, match="cannot be more"):
        layers.GroupNormalization(groups=8)(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupNormalization(groups=3)(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="feature axis"):
        layers.GroupNormalization(groups=1, axis=0)(np.zeros((2, 3, 4)))
    layer = layers.GroupNormalization(groups=-1)
    layer(np.zeros((2, 5, 6)))
    assert layer.groups == 6 and layer.count_params() == 12


# keras/src/layers/normalization/group_normalization_test.py::GroupNormalizationTest::test_correctness_instance_norm
def test_keras_group_norm_instance_norm():
    x = np.random.default_rng(0).normal(5.0, 10.0, (1000, 2, 2, 2)).astype("float32")
    out = layers.GroupNormalization(groups=-1, axis=-1)(x)
    flat = np.moveaxis(out, -1, 1).reshape(1000, 2, -1)
    np.testing.assert_allclose(flat.mean(axis=-1), 0.0, atol=1e-4)
    np.testing.assert_allclose(flat.std(axis=-1), 1.0, atol=1e-2)


# keras/src/layers/normalization/layer_normalization_test.py::LayerNormalizationTest::test_correctness
def test_keras_layer_norm_correctness():
    x = np.random.default_rng(0).normal(5.0, 10.0, (1000, 2, 2, 2)).astype("float32")
    layer = layers.LayerNormalization(dtype="float32")
    layer.build(x.shape)
    layer.gamma.assign(np.full(2, 0.5, "float32"))
    layer.beta.assign(np.full(2, 1.5, "float32"))
    out = (layer(x) - 1.5) / 0.5
    np.testing.assert_allclose(out.mean(), 0.0, atol=1e-1)
    np.testing.assert_allclose(out.std(), 1.0, atol=1e-1)


def test_normalizations_fit_and_keras_save_round_trip(tmp_path):
    nncore.set_seed(0)
    model = nncore.Sequential([
        nncore.Input((4, 4, 3)), layers.Conv2D(8, 3, padding="same"),
        layers.GroupNormalization(groups=4, gamma_regularizer="l2"),
        layers.LayerNormalization(axis=[1, 2, 3]), layers.Flatten(), layers.Dense(6),
        layers.LayerNormalization(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 4, 4, 3)).astype(np.float32)
    hist = model.fit(x, x.mean(axis=(1, 2, 3))[:, None], epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    save_round_trip(tmp_path, model, x)
