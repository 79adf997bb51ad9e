"""1x1 stride-1 unpadded conv2d layers that widen the channels run as one GEMM: against a NumPy
reference (float64 matrix product, bias, relu) on every ISA path, bitwise equal at 1-4 threads,
and the same whether or not the layer's spatial shape is folded into rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nncore import ops

from conftest import threads


@st.composite
def cases(draw):
    cin = draw(st.integers(1, 40))
    cout = draw(st.integers(cin + 1, cin + 70))
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9))
    return dict(shape=(n, h, w, cin), cout=cout,
                dtype=np.dtype(draw(st.sampled_from([np.float32, np.float64]))),
                bias=draw(st.booleans()), act=draw(st.sampled_from([None, "relu"])),
                seed=draw(st.integers(0, 2**31 - 1)))


@settings(max_examples=40, deadline=None)
@given(cases())
def test_expand_1x1_matches_reference_on_every_isa_and_thread_count(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal(case["shape"]).astype(dt)
    cin, cout = case["shape"][3], case["cout"]
    w = rng.standard_normal((1, 1, cin, cout)).astype(dt)
    b = rng.standard_normal(cout).astype(dt) if case["bias"] else None
    want = x.astype(np.float64).reshape(-1, cin) @ w.astype(np.float64).reshape(cin, cout)
    if b is not None:
        want += b
    if case["act"] == "relu":
        want = np.maximum(want, 0)
    want = want.reshape(case["shape"][:3] + (cout,))
    atol = (2e-5 if dt == np.float32 else 1e-12) * 4 * np.sqrt(cin) * (1 + np.abs(x).max())
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            first = None
            for nt in (1, 2, 3, 4):
                with threads(nt):
                    got = ops.conv2d(x, w, b, activation=case["act"])
                np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=isa)
                if first is None:
                    first = got
                np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")
            # One image of N*H*W pixels in a row: the same rows of the same GEMM.
            flat = ops.conv2d(x.reshape(1, 1, -1, cin), w, b, activation=case["act"])
            np.testing.assert_array_equal(flat.reshape(got.shape), first, err_msg=isa)


def test_relu_keeps_nan_and_padded_or_strided_layers_still_work():
    x = np.ones((1, 4, 4, 2), np.float32)
    x[0, 1, 1, 0] = np.nan
    w = np.ones((1, 1, 2, 5), np.float32)
    y = ops.conv2d(x, w, activation="relu")
    assert np.isnan(y[0, 1, 1]).all() and (y[0, 0, 0] == 2).all()
    ys = ops.conv2d(x, w, strides=2)
    assert ys.shape == (1, 2, 2, 5)
    yp = ops.conv2d(x, w, padding=((1, 0), (0, 1)))
    assert yp.shape == (1, 5, 5, 5) and (yp[0, 0] == 0).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 50), st.integers(1, 50), st.integers(1, 3), st.integers(1, 17),
       st.sampled_from([np.float32, np.float64]), st.integers(0, 2**31 - 1))
def test_1x1_backward_input_on_small_maps_matches_reference(cin, cout, n, hw, dtype, seed):
    """Maps of up to 16x16 pixels take the GEMM (17x17 the gather kernel): both against
    dy @ w^T on every ISA path, bitwise equal at 1-4 threads."""
    rng = np.random.default_rng(seed)
    x_shape = (n, hw, hw, cin)
    dy = rng.standard_normal((n, hw, hw, cout)).astype(dtype)
    w = rng.standard_normal((1, 1, cin, cout)).astype(dtype)
    want = (dy.astype(np.float64).reshape(-1, cout) @ w.astype(np.float64).reshape(cin, cout).T)
    want = want.reshape(x_shape)
    atol = (2e-5 if dtype == np.float32 else 1e-12) * 4 * np.sqrt(cout) * (1 + np.abs(dy).max())
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            first = None
            for nt in (1, 2, 3, 4):
                with threads(nt):
                    got = ops.conv2d_backward_input(dy, w, x_shape)
                np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=isa)
                if first is None:
                    first = got
                np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")
