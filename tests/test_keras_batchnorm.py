"""BatchNormalization as a layer: Keras 3's batch_normalization_test.py cases, and its state (the
moving statistics) after one training step, at inference, and inside fit/evaluate/predict, each
against an independent NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import constraints, layers
from test_keras_core_layers import run_layer_test


def np_moments(x, axis):
    """Batch mean and biased variance per feature (Keras' ops.moments divides by N)."""
    x = np.asarray(x, np.float64)
    axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    return x.mean(axis=axes), x.var(axis=axes)


def np_normalize(x, mean, var, gamma, beta, eps, axis=-1):
    shape = [1] * x.ndim
    shape[axis] = -1
    r = lambda v: np.reshape(np.asarray(v, np.float64), shape)  # noqa: E731
    return r(gamma) * (np.asarray(x, np.float64) - r(mean)) / np.sqrt(r(var) + eps) + r(beta)


def _layer_with_state(c, momentum, seed=0):
    rng = np.random.default_rng(seed)
    layer = layers.BatchNormalization(momentum=momentum)
    layer.build((None, c))
    state = {
        "gamma": rng.uniform(0.5, 2.0, c), "beta": rng.standard_normal(c),
        "moving_mean": rng.standard_normal(c), "moving_variance": rng.uniform(0.5, 3.0, c),
    }
    for k, v in state.items():
        getattr(layer, k).assign(v)
    return layer, {k: getattr(layer, k).numpy().astype(np.float64) for k in state}


# ---------------------------------------------------------------- state of one layer


@pytest.mark.parametrize("momentum", [0.99, 0.9, 0.5])
def test_one_training_step_updates_moving_stats_by_momentum(momentum):
    layer, s = _layer_with_state(3, momentum)
    x = np.random.default_rng(1).normal(4.0, 3.0, (6, 3)).astype(np.float32)
    y = layer(x, training=True)
    mean, var = np_moments(x, -1)
    want_mm = momentum * s["moving_mean"] + (1 - momentum) * mean
    want_mv = momentum * s["moving_variance"] + (1 - momentum) * var
    np.testing.assert_allclose(layer.moving_mean.numpy(), want_mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), want_mv, rtol=1e-5, atol=1e-6)
    # Inverted momentum or the unbiased (N - 1) variance would be far from these.
    if momentum != 0.5:  # symmetric: inverting changes nothing
        inverted = (1 - momentum) * s["moving_mean"] + momentum * mean
        assert not np.allclose(layer.moving_mean.numpy(), inverted, rtol=1e-3)
    unbiased = momentum * s["moving_variance"] + (1 - momentum) * var * 6 / 5
    assert not np.allclose(layer.moving_variance.numpy(), unbiased, rtol=1e-4)
    # The training output is normalized with the batch statistics.
    np.testing.assert_allclose(y, np_normalize(x, mean, var, s["gamma"], s["beta"], 1e-3),
                               rtol=1e-4, atol=1e-5)


def test_forward_training_updates_like_call():
    layer, s = _layer_with_state(4, 0.99)
    x = np.random.default_rng(2).normal(-2.0, 5.0, (8, 4)).astype(np.float32)
    layer.forward(x, training=True)
    mean, var = np_moments(x, -1)
    np.testing.assert_allclose(layer.moving_mean.numpy(),
                               0.99 * s["moving_mean"] + 0.01 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(),
                               0.99 * s["moving_variance"] + 0.01 * var, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call", ["call", "forward"])
def test_inference_uses_moving_stats_and_leaves_them(call):
    layer, s = _layer_with_state(3, 0.9)
    x = np.random.default_rng(3).normal(10.0, 4.0, (5, 3)).astype(np.float32)
    y = layer(x, training=False) if call == "call" else layer.forward(x, training=False)
    want = np_normalize(x, s["moving_mean"], s["moving_variance"], s["gamma"], s["beta"], 1e-3)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    mean, var = np_moments(x, -1)
    assert not np.allclose(y, np_normalize(x, mean, var, s["gamma"], s["beta"], 1e-3), atol=1e-2)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), s["moving_mean"].astype(np.float32))
    np.testing.assert_array_equal(layer.moving_variance.numpy(),
                                  s["moving_variance"].astype(np.float32))


def test_default_call_is_inference():
    layer, s = _layer_with_state(3, 0.9)
    x = np.random.default_rng(4).normal(size=(5, 3)).astype(np.float32)
    y = layer(x)
    np.testing.assert_allclose(
        y, np_normalize(x, s["moving_mean"], s["moving_variance"], s["gamma"], s["beta"], 1e-3),
        rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), s["moving_mean"].astype(np.float32))


def test_axis_1_updates_per_feature_of_that_axis():
    layer = layers.BatchNormalization(axis=1, momentum=0.8)
    x = np.random.default_rng(5).normal(3.0, 2.0, (4, 3, 5)).astype(np.float32)
    layer(x, training=True)
    mean, var = np_moments(x, 1)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.2 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.8 + 0.2 * var, rtol=1e-5)


# ---------------------------------------------------------------- state inside a model


def _model(momentum=0.9, seed=0):
    inp = nncore.Input(shape=(3,))
    bn = layers.BatchNormalization(momentum=momentum)
    out = layers.Dense(2)(bn(inp))
    model = nncore.Model(inp, out)
    model.compile(optimizer=nncore.optimizers.SGD(0.01), loss="mse")
    rng = np.random.default_rng(seed)
    bn.moving_mean.assign(rng.standard_normal(3))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 3))
    x = rng.normal(5.0, 2.0, (8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    return model, bn, x, y


def test_predict_and_evaluate_leave_moving_stats():
    model, bn, x, y = _model()
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    model.predict(x, batch_size=4, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mm)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), mv)
    model.evaluate(x, y, batch_size=4, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mm)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), mv)


def test_predict_normalizes_with_moving_stats():
    model, bn, x, _ = _model()
    kernel, bias = model.layers[-1].kernel.numpy(), model.layers[-1].bias.numpy()
    want = np_normalize(x, bn.moving_mean.numpy(), bn.moving_variance.numpy(), np.ones(3),
                        np.zeros(3), 1e-3) @ kernel + bias
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), want, rtol=1e-4, atol=1e-5)


def test_fit_one_step_updates_moving_stats_by_formula():
    model, bn, x, y = _model(momentum=0.9)
    mm, mv = bn.moving_mean.numpy().astype(np.float64), bn.moving_variance.numpy().astype(np.float64)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    mean, var = np_moments(x, -1)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.9 * mm + 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 * mv + 0.1 * var, rtol=1e-5,
                               atol=1e-6)


def test_fit_applies_beta_gamma_constraints():
    inp = nncore.Input(shape=(3,))
    bn = layers.BatchNormalization(beta_constraint="non_neg",
                                   gamma_constraint=constraints.MaxNorm(0.5))
    model = nncore.Model(inp, bn(inp))
    model.compile(optimizer=nncore.optimizers.SGD(1.0), loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    model.fit(x, x * 3 - 5, batch_size=16, epochs=1, verbose=0)
    assert bn.beta.numpy().min() >= 0
    assert np.linalg.norm(bn.gamma.numpy()) <= 0.5 + 1e-6


# ---------------------------------------------------------------- keras/src/layers/normalization/batch_normalization_test.py


# keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest::test_bn_basics
@pytest.mark.parametrize("init_kwargs, input_shape, n_trainable, n_losses", [
    ({"center": True, "scale": True}, (2, 3), 2, 0),
    ({"center": False, "scale": False}, (2, 3), 0, 0),
    ({"center": True, "scale": True, "beta_regularizer": "l2", "gamma_regularizer": "l2"},
     (2, 4, 4, 3), 2, 2),
])
def test_bn_basics(init_kwargs, input_shape, n_trainable, n_losses):
    run_layer_test(layers.BatchNormalization, init_kwargs, call_kwargs={"training": True},
                   input_shape=input_shape, expected_output_shape=input_shape,
                   expected_num_trainable_weights=n_trainable,
                   expected_num_non_trainable_weights=2, expected_num_losses=n_losses)


# keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest::test_correctness
# (the Masking part is left out: nncore has no masks)
@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("input_shape", [(5, 2, 3), (5, 3, 3, 2)])
@pytest.mark.parametrize("moving_mean_initializer", ["zeros", "ones"])
@pytest.mark.parametrize("moving_variance_initializer", ["zeros", "ones"])
def test_correctness(axis, input_shape, moving_mean_initializer, moving_variance_initializer):
    layer = layers.BatchNormalization(axis=axis, momentum=0,
                                      moving_mean_initializer=moving_mean_initializer,
                                      moving_variance_initializer=moving_variance_initializer)
    # Random data centered on 5.0, variance 10.0
    x = np.random.normal(loc=5.0, scale=10.0, size=input_shape)
    out = x
    for _ in range(3):
        out = layer(out, training=True)

    broadcast_shape = [1] * len(input_shape)
    broadcast_shape[axis] = input_shape[axis]
    out = out - np.reshape(layer.beta.numpy(), broadcast_shape)
    out = out / np.reshape(layer.gamma.numpy(), broadcast_shape)
    reduction_axes = list(range(len(input_shape)))
    del reduction_axes[axis]
    reduction_axes = tuple(reduction_axes)
    np.testing.assert_allclose(np.mean(out, axis=reduction_axes), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=reduction_axes), 1.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 1.0, atol=1e-3)

    # Inference done before training shouldn't match.
    inference_out = layer(x, training=False)
    training_out = layer(x, training=True)
    assert not np.allclose(inference_out, training_out, rtol=1e-6, atol=1e-6)

    # Since momentum is zero, inference after training should match.
    training_out = layer(x, training=True)
    inference_out = layer(x, training=False)
    np.testing.assert_allclose(inference_out, training_out, rtol=1e-6, atol=1e-6)


# keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest::test_trainable_behavior
def test_trainable_behavior():
    layer = layers.BatchNormalization(axis=-1, momentum=0.8, epsilon=1e-7)
    layer.build((1, 4, 4, 3))
    layer.trainable = False
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 4

    # Random data centered on 5.0, variance 10.0
    x = np.random.normal(loc=5.0, scale=10.0, size=(200, 4, 4, 3))
    out = layer(x, training=True)
    np.testing.assert_allclose(out, x, rtol=1e-6, atol=1e-6)

    layer.trainable = True
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2

    for _ in range(10):
        out = layer(x, training=True)
    out = out - np.reshape(layer.beta.numpy(), (1, 1, 1, 3))
    out = out / np.reshape(layer.gamma.numpy(), (1, 1, 1, 3))
    np.testing.assert_allclose(np.mean(out, axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=(0, 1, 2)), 1.0, atol=1e-3)


# keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest::test_serialization
# (with renorm=False: nncore has no batch renormalization)
def test_serialization():
    layer = layers.BatchNormalization(momentum=0.95, beta_constraint="non_neg")
    config = layer.get_config()
    new_layer = layers.BatchNormalization.from_config(config)
    assert new_layer.get_config() == config
    for key in ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
                "synchronized", "renorm", "renorm_clipping", "renorm_momentum"):
        assert key in config, key


def test_renorm_is_refused():
    with pytest.raises(ValueError, match="renorm"):
        layers.BatchNormalization(renorm=True)


def test_frozen_layer_in_fit_keeps_moving_stats_and_uses_them():
    model, bn, x, y = _model(momentum=0.9)
    bn.trainable = False
    model.compile(optimizer=nncore.optimizers.SGD(0.01), loss="mse")
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    gamma, beta = bn.gamma.numpy(), bn.beta.numpy()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mm)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), mv)
    np.testing.assert_array_equal(bn.gamma.numpy(), gamma)
    np.testing.assert_array_equal(bn.beta.numpy(), beta)
