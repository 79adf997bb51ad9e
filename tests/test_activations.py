"""Activations against float64 NumPy references written here, backward passes against central
finite differences, every ISA path against the generic one, extreme inputs, out= and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def _phi_cdf(x):
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def _gelu_tanh(x):
    # 0.5 x (1 + tanh(z)) = x / (1 + exp(-2z)): the same function without the cancellation of
    # 1 + tanh(z) for x < 0, which would make the reference less accurate than the op.
    z = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    with np.errstate(over="ignore"):
        return x / (1.0 + np.exp(-2.0 * z))


def _gelu_tanh_grad(x):
    z = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    dz = math.sqrt(2.0 / math.pi) * (1.0 + 3 * 0.044715 * x**2)
    s = _sigmoid(2.0 * z)  # (1 + tanh z) / 2
    return s + x * 2.0 * s * _sigmoid(-2.0 * z) * dz


# name -> (reference f, reference f', parameters passed positionally, points where f' jumps)
REFERENCES = {
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float), (), [0.0]),
    "relu6": (lambda x: np.clip(x, 0.0, 6.0), lambda x: ((x > 0) & (x < 6)).astype(float), (),
              [0.0, 6.0]),
    "leaky_relu": (lambda x: np.where(x >= 0, x, 0.2 * x), lambda x: np.where(x > 0, 1.0, 0.2), (),
                   [0.0]),
    "leaky_relu_0.05": (lambda x: np.where(x >= 0, x, 0.05 * x),
                        lambda x: np.where(x > 0, 1.0, 0.05), (0.05,), [0.0]),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
            lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))), (), [0.0]),
    "elu_0.5": (lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0))),
                lambda x: np.where(x > 0, 1.0, 0.5 * np.exp(np.minimum(x, 0))), (0.5,), [0.0]),
    "selu": (lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
             lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0))), (),
             [0.0]),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x), (), []),
    "hard_sigmoid": (lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
                     lambda x: np.where((x > -3) & (x < 3), 1.0 / 6.0, 0.0), (), [-3.0, 3.0]),
    "tanh": (np.tanh, lambda x: 1.0 / np.cosh(np.minimum(np.abs(x), 700)) ** 2, (), []),
    "softplus": (lambda x: np.logaddexp(0.0, x), _sigmoid, (), []),
    "softsign": (lambda x: x / (1.0 + np.abs(x)), lambda x: 1.0 / (1.0 + np.abs(x)) ** 2, (), []),
    "exponential": (np.exp, np.exp, (), []),
    "swish": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1 + x * _sigmoid(-x)), (), []),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1 + x * _sigmoid(-x)), (), []),
    "gelu": (lambda x: x * _phi_cdf(x),
             lambda x: _phi_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), (False,), []),
    "gelu_approximate": (_gelu_tanh, _gelu_tanh_grad, (True,), []),
    "thresholded_relu": (lambda x: np.where(x > 1.0, x, 0.0), lambda x: (x > 1.0).astype(float), (),
                         [1.0]),
    "thresholded_relu_-0.5": (lambda x: np.where(x > -0.5, x, 0.0),
                              lambda x: (x > -0.5).astype(float), (-0.5,), [-0.5]),
    "heaviside": (lambda x: (x >= 0).astype(float), lambda x: np.zeros_like(x), (), [0.0]),
}
FROM_OUTPUT = {"relu", "relu6", "elu", "elu_0.5", "selu", "sigmoid", "tanh", "exponential"}


def op_name(key):
    base = key.split("_0")[0].split("_-")[0]
    return "gelu" if base == "gelu_approximate" else base


def forward(key):
    return getattr(ops, op_name(key))


def backward(key):
    return getattr(ops, op_name(key) + "_backward")


def tolerances(dtype):
    # float32 results are compared with a float64 reference of the same (float32) inputs.
    return (2e-6, 1e-7) if np.dtype(dtype) == np.float32 else (1e-13, 1e-300)


def sample(rng, shape, dtype, key, scale=4.0):
    """Values in [-scale, scale] kept away from the kinks of `key` (finite differences)."""
    x = rng.uniform(-scale, scale, size=shape)
    for k in REFERENCES[key][3]:
        near = np.abs(x - k) < 1e-2
        x[near] = k + np.where(x[near] >= k, 0.05, -0.05)
    return x.astype(dtype)


shapes = st.lists(st.integers(0, 7), min_size=0, max_size=3).map(tuple)


@pytest.mark.parametrize("key", sorted(REFERENCES))
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31))
def test_forward_and_backward_match_reference(key, shape, dtype, seed):
    f_ref, df_ref, params, _ = REFERENCES[key]
    rng = np.random.default_rng(seed)
    x = sample(rng, shape, dtype, key)
    gy = rng.standard_normal(shape).astype(dtype)
    rtol, atol = tolerances(dtype)
    y = forward(key)(x, *params)
    assert y.dtype == dtype and y.shape == x.shape
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(y, f_ref(x64), rtol=rtol, atol=atol * 10 + rtol * 1e-3)
    gx = backward(key)(gy, x, *params)
    assert gx.dtype == dtype and gx.shape == x.shape
    np.testing.assert_allclose(gx, gy * df_ref(x64), rtol=rtol * 4, atol=atol * 10 + rtol * 1e-3)
    if key in FROM_OUTPUT:
        gxo = getattr(ops, op_name(key) + "_backward_from_output")(gy, y, *params)
        # From the rounded output (e.g. 1 - y^2): accurate to a few eps absolute, not relative.
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(gxo, gy * df_ref(x64), rtol=rtol * 50,
                                   atol=16 * eps * np.abs(gy).max(initial=0) + atol)


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_backward_matches_central_differences(key):
    f_ref, _, params, _ = REFERENCES[key]
    rng = np.random.default_rng(7)
    x = sample(rng, (5, 13), np.float64, key, scale=6.0)
    gy = rng.standard_normal(x.shape)
    h = 1e-6
    numeric = gy * (forward(key)(x + h, *params) - forward(key)(x - h, *params)) / (2 * h)
    np.testing.assert_allclose(backward(key)(gy, x, *params), numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("key", sorted(REFERENCES))
@pytest.mark.parametrize("n", [1, 15, 17, 1000, 70_001])
def test_every_isa_matches_generic(key, n):
    _, _, params, _ = REFERENCES[key]
    rng = np.random.default_rng(n)
    for dtype in (np.float32, np.float64):
        x = sample(rng, (n,), dtype, key, scale=30.0)
        gy = rng.standard_normal(n).astype(dtype)
        with ops.use_isa("generic"):
            want_y = forward(key)(x, *params)
            want_g = backward(key)(gy, x, *params)
        for isa in ops.available_isas():
            with ops.use_isa(isa):
                y = forward(key)(x, *params)
                g = backward(key)(gy, x, *params)
            # Same formulas in every path; FMA contraction in the AVX builds changes roundings,
            # which exp amplifies by |argument| in the tails (|u| ~ 2000 for gelu at x = -30).
            # Derivatives with a zero (gelu' at x = -0.75, swish' at -1.28) are differences of O(1)
            # terms there, so they get an absolute tolerance too.
            rtol = 1e-4 if dtype == np.float32 else 1e-11
            tiny = np.finfo(dtype).tiny
            np.testing.assert_allclose(y, want_y, rtol=rtol, atol=tiny, err_msg=isa)
            np.testing.assert_allclose(g, want_g, rtol=rtol, atol=rtol * 0.01 * np.abs(gy).max(),
                                       err_msg=isa)


EXTREMES = np.array([-np.inf, -1e4, -800.0, -100.0, -1e-30, -0.0, 0.0, 1e-30, 100.0, 800.0, 1e4,
                     np.inf])


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_extreme_inputs_give_limits_without_warnings(key, dtype):
    f_ref, df_ref, params, _ = REFERENCES[key]
    x = EXTREMES.astype(dtype)
    with np.errstate(all="raise"):
        y = forward(key)(x, *params)
        g = backward(key)(np.ones_like(x), x, *params)
    with np.errstate(all="ignore"):
        want = f_ref(x.astype(np.float64)).astype(dtype)
        want_g = df_ref(x.astype(np.float64)).astype(dtype)
    # The references use the limits where NumPy itself would produce inf * 0.
    fix = {"swish": (0.0, 0.0), "silu": (0.0, 0.0), "gelu": (0.0, 0.0), "gelu_approximate": (0.0, 0.0)}
    if key in fix:
        want[x == -np.inf] = 0.0
        want_g[x == -np.inf] = 0.0
        want_g[x == np.inf] = 1.0
    if key == "softsign":
        want[np.isinf(x)] = np.sign(x[np.isinf(x)])
    assert not np.isnan(y).any() and not np.isnan(g).any()
    # atol: results in the subnormal range carry few significant bits.
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=tiny)
    np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=tiny)


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_nan_propagates(key, dtype):
    _, _, params, _ = REFERENCES[key]
    x = np.array([np.nan, 1.0, -1.0, np.nan], dtype=dtype)
    y = forward(key)(x, *params)
    g = backward(key)(np.ones_like(x), x, *params)
    assert np.isnan(y[[0, 3]]).all() and not np.isnan(y[[1, 2]]).any()
    assert np.isnan(g[[0, 3]]).all()
    gy_nan = backward(key)(np.full_like(x, np.nan), x, *params)
    assert np.isnan(gy_nan).all()


def test_stable_at_1e4_float32():
    x = np.array([-1e4, -88.8, 88.8, 1e4], dtype=np.float32)
    with np.errstate(all="raise"):
        # sigmoid(-88.8) ~ 2.7e-39 is subnormal in float32: compare to the subnormal spacing.
        np.testing.assert_allclose(ops.sigmoid(x), [0.0, _sigmoid(-88.8), 1.0, 1.0], rtol=0,
                                   atol=1e-44)
        np.testing.assert_allclose(ops.softplus(x), [0.0, np.exp(-88.8), 88.8, 1e4], rtol=1e-6,
                                   atol=1e-44)
        np.testing.assert_allclose(ops.swish(x), [0.0, -88.8 * np.exp(-88.8), 88.8, 1e4],
                                   rtol=1e-6, atol=1e-42)
        np.testing.assert_array_equal(ops.tanh(x), [-1.0, -1.0, 1.0, 1.0])


def test_gelu_tanh_is_the_textbook_formula():
    x = np.linspace(-6, 6, 241)
    z = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    np.testing.assert_allclose(ops.gelu(x, approximate=True), 0.5 * x * (1.0 + np.tanh(z)),
                               rtol=1e-9, atol=1e-14)


def test_keras_defaults():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    # keras.activations.leaky_relu(negative_slope=0.2); gelu(approximate=False) examples of the
    # Keras docs (TensorFlow's float32 output, good to ~5e-5; ours is the exact value rounded).
    np.testing.assert_allclose(ops.leaky_relu(x), [-0.6, -0.2, 0, 1, 3], rtol=1e-6)
    np.testing.assert_allclose(ops.leaky_relu(x, alpha=0.3), [-0.9, -0.3, 0, 1, 3], rtol=1e-6)
    np.testing.assert_allclose(ops.gelu(x, approximate=False),
                               [-0.00404951, -0.15865529, 0.0, 0.8413447, 2.9959507], rtol=1e-4)
    # keras.ops.gelu defaults to the tanh approximation (keras/src/ops/nn.py).
    np.testing.assert_array_equal(ops.gelu(x), ops.gelu(x, approximate=True))
    np.testing.assert_allclose(ops.gelu(x, approximate=True),
                               [-0.00363752, -0.15880796, 0.0, 0.841192, 2.9963627], rtol=1e-4)
    np.testing.assert_allclose(ops.hard_sigmoid(x), [0.0, 1 / 3, 0.5, 2 / 3, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(ops.heaviside(x), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(ops.step(x), ops.heaviside(x))
    np.testing.assert_array_equal(ops.heaviside_backward(np.ones_like(x), x), np.zeros(5))
    np.testing.assert_array_equal(ops.thresholded_relu(x), [0, 0, 0, 0, 3])
    np.testing.assert_array_equal(ops.silu(x), ops.swish(x))


def test_out_in_place_and_aliasing(dtype, rng):
    x = rng.standard_normal((4, 5)).astype(dtype)
    want = ops.sigmoid(x)
    out = np.empty_like(x)
    assert ops.sigmoid(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    y = x.copy()
    assert ops.sigmoid(y, out=y) is y
    np.testing.assert_array_equal(y, want)
    gy = rng.standard_normal(x.shape).astype(dtype)
    want_g = ops.sigmoid_backward(gy, x)
    g2 = gy.copy()
    np.testing.assert_array_equal(ops.sigmoid_backward(g2, x, out=g2), want_g)
    flat = np.arange(10, dtype=dtype)
    with pytest.raises(ValueError, match="shares memory"):
        ops.relu(flat[:-1], out=flat[1:])


def test_large_arrays_use_threads_with_the_same_result(rng):
    x = rng.standard_normal(300_001).astype(np.float32) * 5
    before = nncore.get_num_threads()
    try:
        nncore.set_num_threads(1)
        one = ops.tanh(x), ops.elu_backward(x, x)
        nncore.set_num_threads(2)
        two = ops.tanh(x), ops.elu_backward(x, x)
    finally:
        nncore.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_non_contiguous_views(dtype, rng):
    base = rng.standard_normal((8, 10)).astype(dtype)
    view = base[::2, ::-3]
    np.testing.assert_array_equal(ops.softsign(view), ops.softsign(view.copy()))
    np.testing.assert_array_equal(ops.elu_backward(view, view.T.T), ops.elu_backward(view.copy(),
                                                                                   view.copy()))


def test_zero_size_and_scalars(dtype):
    assert ops.relu(np.empty((0, 3), dtype)).shape == (0, 3)
    assert ops.tanh_backward(np.empty(0, dtype), np.empty(0, dtype)).shape == (0,)
    y = ops.sigmoid(np.array(0.0, dtype))
    assert y.shape == () and y == 0.5


def test_errors():
    x32 = np.zeros((2, 3), np.float32)
    with pytest.raises(nncore.DTypeError, match="'x'.*int64"):
        ops.relu(np.zeros(3, np.int64))
    with pytest.raises(nncore.DTypeError, match="float16"):
        ops.tanh(np.zeros(3, np.float16))
    with pytest.raises(nncore.DTypeError, match="'x' has dtype float64 but 'grad_y' has dtype float32"):
        ops.relu_backward(x32, x32.astype(np.float64))
    with pytest.raises(nncore.ShapeError, match=r"\(2, 3\) and \(3, 2\)"):
        ops.sigmoid_backward(x32, x32.T.copy())
    with pytest.raises(nncore.ShapeError, match=r"must have shape \(2, 3\), got \(3, 2\)"):
        ops.relu(x32, out=np.zeros((3, 2), np.float32))
    with pytest.raises(nncore.DTypeError):
        ops.relu(x32, out=np.zeros((2, 3), np.float64))
    with pytest.raises(nncore.ShapeError, match="C-contiguous"):
        ops.relu(x32, out=np.zeros((3, 2), np.float32).T)
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.relu(x32, out=ro)
    with pytest.raises(nncore.DTypeError, match="None"):
        ops.relu(None)
    assert issubclass(nncore.DTypeError, TypeError) and issubclass(nncore.ShapeError, ValueError)
