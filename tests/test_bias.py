"""bias_add / bias_grad against NumPy, for every rank and channel count (the small-channel path
folds rows together), accumulate, out= and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops

shapes = st.lists(st.integers(0, 9), min_size=1, max_size=4).map(tuple)


@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31))
def test_bias_add_and_grad_match_numpy(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[-1]).astype(dtype)
    y = ops.bias_add(x, b)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_array_equal(y, x + b)
    g = ops.bias_grad(x)
    assert g.dtype == dtype and g.shape == (shape[-1],)
    want = x.astype(np.float64).sum(axis=tuple(range(len(shape) - 1)))
    rows = max(x.size // max(shape[-1], 1), 1)
    np.testing.assert_allclose(g, want, rtol=1e-6 if dtype == np.float32 else 1e-13,
                               atol=1e-6 * np.sqrt(rows) if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("shape", [(32, 32, 32, 8), (5000, 3), (3, 70001), (17, 65), (100_003, 1)])
def test_large_and_odd_shapes_at_1_and_2_threads(shape, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[-1]).astype(dtype)
    want_g = x.astype(np.float64).reshape(-1, shape[-1]).sum(axis=0)
    before = nncore.get_num_threads()
    try:
        for threads in (1, 2):
            nncore.set_num_threads(threads)
            np.testing.assert_array_equal(ops.bias_add(x, b), x + b)
            # Blocks of 8 rows are added in the input precision, then in double: the error is a
            # few eps of the summed magnitudes (cancelling sums get an absolute bound).
            eps = np.finfo(dtype).eps
            bound = 2 * eps * np.abs(want_g) + 4 * eps * np.abs(x).reshape(-1, shape[-1]).sum(axis=0)
            assert np.all(np.abs(ops.bias_grad(x) - want_g) <= bound)
    finally:
        nncore.set_num_threads(before)


def test_gradient_of_sum_is_bias_grad():
    # d/db sum(w * bias_add(x, b)) = bias_grad(w), checked by central differences.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 5))
    b = rng.standard_normal(5)
    w = rng.standard_normal(x.shape)
    h = 1e-6
    numeric = np.array([(np.sum(w * ops.bias_add(x, b + h * e)) - np.sum(w * ops.bias_add(x, b - h * e)))
                        / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(ops.bias_grad(w), numeric, rtol=1e-7)


def test_in_place_accumulate_and_views(dtype, rng):
    x = rng.standard_normal((6, 4)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    y = x.copy()
    assert ops.bias_add(y, b, out=y) is y
    np.testing.assert_array_equal(y, x + b)
    acc = np.ones(4, dtype)
    assert ops.bias_grad(x, out=acc, accumulate=True) is acc
    np.testing.assert_allclose(acc, 1 + x.sum(axis=0, dtype=np.float64), rtol=1e-6)
    view = x[::-2, ::2]
    np.testing.assert_array_equal(ops.bias_add(view, b[:2]), view + b[:2])
    np.testing.assert_allclose(ops.bias_grad(view), view.sum(axis=0), rtol=1e-6)
    x[0, 0] = np.nan
    assert np.isnan(ops.bias_grad(x)[0]) and not np.isnan(ops.bias_grad(x)[1:]).any()


def test_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(nncore.ShapeError, match=r"'bias' must have shape \(3,\).*\(2, 3\), got \(2,\)"):
        ops.bias_add(x, np.zeros(2, np.float32))
    with pytest.raises(nncore.DTypeError, match="'bias' has dtype float64 but 'x' has dtype float32"):
        ops.bias_add(x, np.zeros(3))
    with pytest.raises(nncore.ShapeError, match="at least 1 dimension"):
        ops.bias_grad(np.float32(1))
    with pytest.raises(ValueError, match="accumulate"):
        ops.bias_grad(x, accumulate=True)
    with pytest.raises(nncore.ShapeError, match=r"\(3,\), got \(2,\)"):
        ops.bias_grad(x, out=np.zeros(2, np.float32))
