"""Vector-Jacobian products of the neural-network ops of nncore.ops against central finite
differences in float64, over random shapes, strides, paddings, pool sizes and axes; float32
recorded values against the plain (unrecorded) values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vjp_check import check_vjp

import nncore
from nncore import ops
from nncore.ops import _conv

SETTINGS = settings(max_examples=15, deadline=None)


def _away_from(x, kinks, margin=0.05):
    """``x`` pushed off the points where the function has no derivative."""
    for k in kinks:
        near = np.abs(x - k) < margin
        x = np.where(near, k + np.where(x >= k, margin, -margin), x)
    return x


# name -> (call, kinks to avoid)
ACTIVATIONS = {
    "relu": (lambda x: ops.relu(x), [0.0]),
    "relu6": (lambda x: ops.relu6(x), [0.0, 6.0]),
    "sigmoid": (lambda x: ops.sigmoid(x), []),
    "tanh": (lambda x: ops.tanh(x), []),
    "gelu": (lambda x: ops.gelu(x), []),
    "gelu_exact": (lambda x: ops.gelu(x, approximate=False), []),
    "silu": (lambda x: ops.silu(x), []),
    "swish": (lambda x: ops.swish(x), []),
    "elu": (lambda x: ops.elu(x), [0.0]),
    "elu_alpha": (lambda x: ops.elu(x, alpha=0.5), [0.0]),
    "elu_negative_alpha": (lambda x: ops.elu(x, alpha=-0.7), [0.0]),
    "selu": (lambda x: ops.selu(x), [0.0]),
    "leaky_relu": (lambda x: ops.leaky_relu(x), [0.0]),
    "leaky_relu_slope0": (lambda x: ops.leaky_relu(x, negative_slope=0.0), [0.0]),
    "leaky_relu_negative": (lambda x: ops.leaky_relu(x, negative_slope=-0.3), [0.0]),
    "softplus": (lambda x: ops.softplus(x), []),
    "softsign": (lambda x: ops.softsign(x), [0.0]),
    "hard_sigmoid": (lambda x: ops.hard_sigmoid(x), [-3.0, 3.0]),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), seed=st.integers(0, 2**16))
def test_activation_vjp(name, shape, seed):
    fn, kinks = ACTIVATIONS[name]
    x = _away_from(np.random.default_rng(seed).uniform(-7, 7, shape), kinks)
    check_vjp(fn, x, seed=seed)


@pytest.mark.parametrize("fn", [ops.softmax, ops.log_softmax])
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_softmax_vjp(fn, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(len(shape)).normal(0, 2, shape)
    check_vjp(lambda v: fn(v, axis=axis), x)


@pytest.mark.parametrize("fn", [ops.softmax, ops.log_softmax])
@pytest.mark.parametrize("axis", [None, (0,), (0, 2), (2, 0, 1), [1, 2]])
def test_softmax_over_several_axes_vjp(fn, axis):
    x = np.random.default_rng(5).normal(0, 2, (2, 3, 4))
    check_vjp(lambda v: fn(v, axis=axis), x)


def _same_or_valid():
    return st.sampled_from(["valid", "same", "SAME"])


@SETTINGS
@given(n=st.integers(1, 2), hw=st.tuples(st.integers(3, 6), st.integers(3, 6)),
       cin=st.integers(1, 3), cout=st.integers(1, 3),
       k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       strides=st.sampled_from([1, 2, (1, 2), (2, 1)]), dilation=st.sampled_from([1, 2, (2, 1)]),
       padding=_same_or_valid(), first=st.booleans(), seed=st.integers(0, 1000))
def test_conv_vjp(n, hw, cin, cout, k, strides, dilation, padding, first, seed):
    rng = np.random.default_rng(seed)
    if padding == "valid" and any((kk - 1) * d + 1 > s for kk, d, s in
                                  zip(k, np.broadcast_to(dilation, 2), hw)):
        dilation = 1
    x = rng.normal(size=(n, cin) + hw if first else (n,) + hw + (cin,))
    w = rng.normal(size=k + (cin, cout))
    fmt = "channels_first" if first else "channels_last"
    check_vjp(lambda a, b: ops.conv(a, b, strides=strides, padding=padding, data_format=fmt,
                                    dilation_rate=dilation), x, w, seed=seed)


@SETTINGS
@given(hw=st.tuples(st.integers(3, 5), st.integers(3, 5)), c=st.integers(1, 3),
       mult=st.integers(1, 2), k=st.integers(1, 3), strides=st.sampled_from([1, 2]),
       padding=_same_or_valid(), first=st.booleans(), seed=st.integers(0, 1000))
def test_depthwise_conv_vjp(hw, c, mult, k, strides, padding, first, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, c) + hw if first else (2,) + hw + (c,))
    w = rng.normal(size=(k, k, c, mult))
    fmt = "channels_first" if first else "channels_last"
    check_vjp(lambda a, b: ops.depthwise_conv(a, b, strides=strides, padding=padding,
                                              data_format=fmt), x, w, seed=seed)


@pytest.mark.parametrize("pool", [ops.max_pool, ops.average_pool])
@SETTINGS
@given(hw=st.tuples(st.integers(2, 6), st.integers(2, 6)), c=st.integers(1, 3),
       pool_size=st.sampled_from([1, 2, 3, (2, 1), (1, 3)]),
       strides=st.sampled_from([None, 1, 2, (1, 2)]), padding=_same_or_valid(),
       first=st.booleans(), seed=st.integers(0, 1000))
def test_pool_vjp(pool, hw, c, pool_size, strides, padding, first, seed):
    ph, pw = np.broadcast_to(pool_size, 2)
    if ph > hw[0] or pw > hw[1]:
        padding = "same"
    x = np.random.default_rng(seed).permutation(2 * hw[0] * hw[1] * c).astype(np.float64)
    # Distinct values at least 1 apart: no two window elements are within a step of a tie.
    x = x.reshape((2, c) + hw if first else (2,) + hw + (c,))
    fmt = "channels_first" if first else "channels_last"
    # Both pools are piecewise linear and no tie is within 0.5: a step of 1e-3 is exact, where
    # 1e-6 on values up to ~150 left rounding noise above rtol on small gradient elements.
    check_vjp(lambda a: pool(a, pool_size, strides=strides, padding=padding, data_format=fmt), x,
              seed=seed, eps=1e-3)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_moments_vjp(shape, data):
    ndim = len(shape)
    axes = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    keepdims = data.draw(st.booleans())
    x = np.random.default_rng(ndim).normal(size=shape)
    check_vjp(lambda a: ops.moments(a, axes, keepdims=keepdims)[0], x)
    check_vjp(lambda a: ops.moments(a, axes, keepdims=keepdims)[1], x)
    # Both outputs in one target: their gradients add up.
    check_vjp(lambda a: ops.add(*ops.moments(a, axes, keepdims=keepdims)), x)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data(),
       with_offset=st.booleans(), with_scale=st.booleans())
def test_batch_normalization_vjp(shape, data, with_offset, with_scale):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    c = shape[axis]
    rng = np.random.default_rng(ndim + c)
    x = rng.normal(size=shape)
    args = [x, rng.normal(size=c), rng.uniform(0.5, 2.0, c)]
    if with_offset:
        args.append(rng.normal(size=c))
    if with_scale:
        args.append(rng.normal(size=c))

    def fn(a, m, v, *rest):
        rest = list(rest)
        off = rest.pop(0) if with_offset else None
        sc = rest.pop(0) if with_scale else None
        return ops.batch_normalization(a, m, v, axis, offset=off, scale=sc, epsilon=1e-3)
    check_vjp(fn, *args)


def test_moments_then_batch_normalization_is_training_batch_norm():
    # The composed gradient is the training-mode batch-norm gradient of the fused kernel.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3, 3, 5))
    gamma, beta, g = rng.normal(size=5), rng.normal(size=5), rng.normal(size=x.shape)
    with nncore.GradientTape() as tape:
        tape.watch(x)
        tape.watch(gamma)
        mean, var = ops.moments(x, (0, 1, 2))
        y = ops.batch_normalization(x, mean, var, -1, offset=beta, scale=gamma, epsilon=1e-3)
    dx, dgamma = tape.gradient(y, [x, gamma], output_gradients=g)
    y_ref, bm, _, inv_std = ops.batch_norm_train(x, gamma, beta, 1e-3)
    dx_ref, dgamma_ref, _ = ops.batch_norm_backward(g, x, gamma, bm, inv_std)
    np.testing.assert_allclose(np.asarray(y), y_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dgamma, dgamma_ref, rtol=1e-8, atol=1e-10)


def _probs(rng, shape, axis):
    p = rng.uniform(0.2, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("from_logits", [False, True])
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_categorical_crossentropy_vjp(from_logits, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(len(shape))
    target = _probs(rng, shape, axis)
    # Unnormalized probabilities: the op's normalization is part of what is differentiated.
    output = rng.normal(size=shape) if from_logits else rng.uniform(0.2, 1.0, shape)
    check_vjp(lambda t, o: ops.categorical_crossentropy(t, o, from_logits=from_logits, axis=axis),
              target, output)


@pytest.mark.parametrize("from_logits", [False, True])
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_sparse_categorical_crossentropy_vjp(from_logits, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(len(shape) + 7)
    rest = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    labels = rng.integers(0, shape[axis], rest)
    output = rng.normal(size=shape) if from_logits else rng.uniform(0.2, 1.0, shape)
    check_vjp(lambda o: ops.sparse_categorical_crossentropy(labels, o, from_logits=from_logits,
                                                            axis=axis), output)


@pytest.mark.parametrize("from_logits", [False, True])
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), seed=st.integers(0, 1000))
def test_binary_crossentropy_vjp(from_logits, shape, seed):
    rng = np.random.default_rng(seed)
    target = rng.uniform(0, 1, shape)
    output = rng.normal(0, 3, shape) if from_logits else rng.uniform(0.05, 0.95, shape)
    check_vjp(lambda t, o: ops.binary_crossentropy(t, o, from_logits=from_logits), target, output,
              seed=seed)


def test_clipped_probabilities_pass_no_gradient():
    out = np.array([[1e-9, 1.0], [0.5, 0.5]])
    with nncore.GradientTape() as tape:
        tape.watch(out)
        loss = ops.binary_crossentropy(np.array([[1.0, 0.0], [1.0, 0.0]]), out)
    g = tape.gradient(loss, out)
    assert g[0, 0] == 0 and g[0, 1] == 0 and g[1, 0] != 0


# -- float32: the recorded value is the plain value, bit for bit --------------------------------
F32_CASES = {
    **{name: (fn, lambda r: r.normal(0, 3, (3, 4))) for name, (fn, _) in ACTIVATIONS.items()},
    "softmax": (lambda x: ops.softmax(x, axis=0), lambda r: r.normal(size=(3, 4))),
    "log_softmax": (lambda x: ops.log_softmax(x), lambda r: r.normal(size=(3, 4))),
    "conv": (lambda x: ops.conv(x, np.ones((2, 2, 3, 2), np.float32), padding="same"),
             lambda r: r.normal(size=(2, 4, 4, 3))),
    "depthwise_conv": (lambda x: ops.depthwise_conv(x, np.ones((2, 2, 3, 2), np.float32)),
                       lambda r: r.normal(size=(2, 4, 4, 3))),
    "max_pool": (lambda x: ops.max_pool(x, 2, padding="same"), lambda r: r.normal(size=(2, 5, 5, 3))),
    "average_pool": (lambda x: ops.average_pool(x, 3, strides=1),
                     lambda r: r.normal(size=(2, 5, 5, 3))),
    "moments": (lambda x: ops.moments(x, (0, 1))[1], lambda r: r.normal(size=(4, 3, 2))),
    "batch_normalization": (lambda x: ops.batch_normalization(
        x, np.ones(3, np.float32), np.full(3, 2, np.float32), 1), lambda r: r.normal(size=(4, 3, 2))),
    "categorical_crossentropy": (lambda x: ops.categorical_crossentropy(
        np.eye(4, dtype=np.float32)[:3], x, from_logits=True), lambda r: r.normal(size=(3, 4))),
    "sparse_categorical_crossentropy": (lambda x: ops.sparse_categorical_crossentropy(
        np.array([0, 3, 1]), x), lambda r: r.uniform(0.1, 1, (3, 4))),
    "binary_crossentropy": (lambda x: ops.binary_crossentropy(
        np.full((3, 4), 0.25, np.float32), x, from_logits=True), lambda r: r.normal(size=(3, 4))),
}


@pytest.mark.parametrize("name", sorted(F32_CASES))
def test_float32_recorded_value_equals_plain(name):
    fn, make = F32_CASES[name]
    x = make(np.random.default_rng(0)).astype(np.float32)
    plain = fn(x)
    assert isinstance(plain, np.ndarray) and plain.dtype == np.float32
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    assert isinstance(y, nncore.Tensor) and y.dtype == np.float32
    np.testing.assert_array_equal(y.value, plain)
    g = tape.gradient(y, x)
    assert g.dtype == np.float32 and g.shape == x.shape and np.all(np.isfinite(g))


def test_float32_op_takes_a_promoted_gradient():
    # A float64 constant downstream promotes the incoming gradient; the kernel still gets one dtype.
    x = np.linspace(-2, 2, 6).astype(np.float32)
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.multiply(ops.sigmoid(x), np.full(6, 2.0))
    g = tape.gradient(y, x)
    s = 1 / (1 + np.exp(-x.astype(np.float64)))
    np.testing.assert_allclose(g, 2 * s * (1 - s), rtol=1e-6)


# -- only the wanted gradients are computed ------------------------------------------------------
def test_conv_skips_the_input_gradient_of_data(monkeypatch):
    x = np.random.default_rng(0).normal(size=(1, 4, 4, 2))
    w = nncore.Variable(np.random.default_rng(1).normal(size=(3, 3, 2, 2)))

    def boom(*a, **k):
        raise AssertionError("the input gradient of data was computed")
    monkeypatch.setattr(_conv, "conv2d_backward_input", boom)
    with nncore.GradientTape() as tape:
        y = ops.conv(x, w)
    (gw,) = tape.gradient(y, [w])
    assert gw.shape == (3, 3, 2, 2)


def test_conv_skips_the_kernel_gradient_when_only_the_input_is_wanted(monkeypatch):
    x = np.random.default_rng(0).normal(size=(1, 4, 4, 2))
    w = np.random.default_rng(1).normal(size=(3, 3, 2, 2))

    def boom(*a, **k):
        raise AssertionError("the kernel gradient was computed")
    monkeypatch.setattr(_conv, "conv2d_backward_weight", boom)
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.conv(x, w, padding="same")
    assert tape.gradient(y, x).shape == x.shape


def test_out_equal_to_the_tracked_input_keeps_the_gradient_right():
    # out=x overwrites the input a from-input VJP reads: the op must keep a copy.
    x = np.linspace(-3, 3, 7)
    want = ops.swish_backward(np.ones(7), x.copy())
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.swish(x, out=x)
    np.testing.assert_allclose(tape.gradient(y, x), want)
