"""Depthwise forward register tiles (depth multiplier 1): rows wide enough for tiles of 6, 4, 2
and 1 interior pixels plus edge columns, channel counts with two-vector, one-vector and leftover
blocks on every ISA path, against the slow NumPy reference; bitwise equal at 1-4 threads, and
a channel's result does not depend on which block (or the leftover loop) computed it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nncore import ops

from conftest import threads
from test_depthwise_conv2d import ref_depthwise, tol


@st.composite
def wide_cases(draw):
    kh, kw = draw(st.sampled_from([(3, 3), (3, 3), (1, 1), (2, 3), (3, 1), (5, 5)]))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dh, dw = draw(st.sampled_from([(1, 1), (1, 1), (2, 2), (1, 2)]))
    padding = draw(st.sampled_from(["valid", "same", ((1, 0), (2, 1))]))
    h = draw(st.integers((kh - 1) * dh + 1, (kh - 1) * dh + 5))
    w = draw(st.integers((kw - 1) * dw + 1, (kw - 1) * dw + 30))
    c = draw(st.sampled_from([1, 4, 8, 12, 16, 24, 32, 40, 48, 67, 96, 100]))
    n = draw(st.integers(1, 2))
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64])))
    return dict(x_shape=(n, h, w, c), w_shape=(kh, kw, c, 1), strides=(sh, sw),
                dilation=(dh, dw), padding=padding, dtype=dtype,
                seed=draw(st.integers(0, 2**31 - 1)), bias=draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(wide_cases())
def test_tiles_match_reference_on_every_isa_and_thread_count(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal(case["x_shape"]).astype(dt)
    w = rng.standard_normal(case["w_shape"]).astype(dt)
    b = rng.standard_normal(case["w_shape"][2]).astype(dt) if case["bias"] else None
    g = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    want = ref_depthwise(x, w, b, case["strides"], case["padding"], case["dilation"])
    c = x.shape[3]
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            first = None
            for nt in (1, 2, 3, 4):
                with threads(nt):
                    got = ops.depthwise_conv2d(x, w, b, **g)
                np.testing.assert_allclose(got, want, rtol=0, atol=tol(dt, w.shape[0] * w.shape[1]),
                                           err_msg=isa)
                if first is None:
                    first = got
                np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")
            # Channels [0, k) alone land in other blocks (or the leftover loop): same bits.
            k = max(1, c - 5)
            part = ops.depthwise_conv2d(np.ascontiguousarray(x[..., :k]),
                                        np.ascontiguousarray(w[:, :, :k]),
                                        None if b is None else b[:k].copy(), **g)
            np.testing.assert_array_equal(part, first[..., :k], err_msg=isa)


def test_mobilenet_shapes_on_every_isa():
    rng = np.random.default_rng(3)
    for h, c, s in [(12, 32, 1), (12, 144, 2), (6, 96, 1), (3, 160, 1)]:
        x = rng.standard_normal((2, h, h, c)).astype(np.float32)
        w = rng.standard_normal((3, 3, c, 1)).astype(np.float32)
        b = rng.standard_normal(c).astype(np.float32)
        want = ref_depthwise(x, w, b, (s, s), "same", (1, 1))
        for isa in ops.available_isas():
            with ops.use_isa(isa):
                got = ops.depthwise_conv2d(x, w, b, strides=s, padding="same")
            np.testing.assert_allclose(got, want, rtol=0, atol=tol(np.float32, 9), err_msg=isa)
