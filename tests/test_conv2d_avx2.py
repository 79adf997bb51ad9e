"""The AVX2 convolution gather kernels (forward and backward-input) against a slow NumPy reference and
the portable path, on the shapes their specializations key on: channel counts with fixed-offset
addressing (1-4, 8, 16, 32, 64) and their neighbours, rows shorter than a register tile or not a
multiple of one, every pixel-packed group size (few output channels, stride-1 rows), strides,
dilations, paddings, fused bias and ReLU, non-finite values, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nncore
from nncore import ops

pytestmark = pytest.mark.skipif("avx2" not in ops.available_isas(), reason="this CPU has no AVX2 path")

# ---------------------------------------------------------------- reference (float64, tap by tap)


def pads_for(padding, h, w, kh, kw, strides, dilation):
    """((top, bottom), (left, right)) of 'valid', 'same' (TensorFlow's rule) or explicit pads."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        out = []
        for size, k, s, d in ((h, kh, strides[0], dilation[0]), (w, kw, strides[1], dilation[1])):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    return padding


def tap_product(v, m):
    """v[..., c] summed against m[c, o], element by element (no BLAS: a blocked product may form
    0 * inf in its padding, and the references must be obviously right for non-finite inputs)."""
    return (v.astype(np.float64)[..., :, None] * m.astype(np.float64)).sum(axis=-2)


def ref_forward(x, w, bias, strides, pads, dilation, relu):
    (pt, pb), (pl, pr) = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, _, co = w.shape
    sh, sw = strides
    dh, dw = dilation
    oh = (xp.shape[1] - (kh - 1) * dh - 1) // sh + 1
    ow = (xp.shape[2] - (kw - 1) * dw - 1) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, co))
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, b * dw:b * dw + (ow - 1) * sw + 1:sw, :]
            y += tap_product(patch, w[a, b])
    if bias is not None:
        y += bias.astype(np.float64)
    return np.maximum(y, 0) if relu else y  # np.maximum keeps NaN, as the kernels must


def ref_backward_input(dy, w, x_shape, strides, pads, dilation):
    (pt, pb), (pl, pr) = pads
    n, h, wd, c = x_shape
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    oh, ow = dy.shape[1:3]
    sh, sw = strides
    dh, dw = dilation
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            dxp[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, b * dw:b * dw + (ow - 1) * sw + 1:sw, :] += tap_product(
                dy, w[a, b].T)
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def tolerance(dtype, terms, scale):
    eps = np.finfo(dtype).eps
    return 16 * eps * max(terms, 1) ** 0.5 * scale + np.finfo(dtype).tiny


def on(isa, fn):
    with ops.use_isa(isa):
        return fn()


def check(got_avx2, got_generic, want, tol):
    np.testing.assert_allclose(got_avx2, want, rtol=0, atol=tol, err_msg="avx2 vs reference")
    np.testing.assert_allclose(got_avx2, got_generic, rtol=0, atol=2 * tol, err_msg="avx2 vs generic")


# ---------------------------------------------------------------- shapes aimed at the kernels

# Fixed-offset channel counts and their neighbours, the 8/16-lane block edges, and beyond.
channels = st.one_of(st.integers(1, 20), st.integers(31, 33), st.just(64))
# Rows shorter than the 8- and 12-pixel tiles, between them, and longer non-multiples.
widths = st.one_of(st.integers(1, 13), st.integers(14, 40))
pad_values = st.one_of(
    st.sampled_from(["valid", "same"]),
    st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(0, 2), st.integers(0, 2))),
)


@st.composite
def geometries(draw, cin=channels, cout=channels, stride_w=st.integers(1, 3)):
    g = dict(
        n=draw(st.integers(1, 2)), h=draw(st.integers(1, 5)), w=draw(widths),
        cin=draw(cin), cout=draw(cout), kh=draw(st.integers(1, 3)), kw=draw(st.integers(1, 4)),
        strides=(draw(st.integers(1, 3)), draw(stride_w)),
        dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 3))),
    )
    padding = draw(pad_values)
    pads = pads_for(padding, g["h"], g["w"], g["kh"], g["kw"], g["strides"], g["dilation"])
    assume((g["kh"] - 1) * g["dilation"][0] + 1 <= g["h"] + sum(pads[0]))
    assume((g["kw"] - 1) * g["dilation"][1] + 1 <= g["w"] + sum(pads[1]))
    g["padding"], g["pads"] = padding, pads
    return g


def operands(g, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((g["n"], g["h"], g["w"], g["cin"])).astype(dtype)
    w = rng.standard_normal((g["kh"], g["kw"], g["cin"], g["cout"])).astype(dtype)
    b = rng.standard_normal(g["cout"]).astype(dtype)
    return rng, x, w, b


def kwargs(g):
    return dict(strides=g["strides"], padding=g["padding"], dilation=g["dilation"])


def run_forward(g, x, w, b, relu, dtype):
    want = ref_forward(x, w, b, g["strides"], g["pads"], g["dilation"], relu)
    act = "relu" if relu else None
    got = [on(isa, lambda: ops.conv2d(x, w, b, activation=act, **kwargs(g))) for isa in ("avx2", "generic")]
    k = g["kh"] * g["kw"] * g["cin"]
    check(*got, want, tolerance(dtype, k, 4.0 * k ** 0.5 + 4))
    assert got[0].dtype == dtype and got[0].shape == want.shape


def run_backward_input(g, rng, w, dtype):
    y_shape = ref_forward(np.zeros((g["n"], g["h"], g["w"], g["cin"])), w, None, g["strides"], g["pads"],
                          g["dilation"], False).shape
    dy = rng.standard_normal(y_shape).astype(dtype)
    x_shape = (g["n"], g["h"], g["w"], g["cin"])
    want = ref_backward_input(dy, w, x_shape, g["strides"], g["pads"], g["dilation"])
    got = [on(isa, lambda: ops.conv2d_backward_input(dy, w, x_shape, **kwargs(g))) for isa in ("avx2", "generic")]
    k = g["kh"] * g["kw"] * g["cout"]
    check(*got, want, tolerance(dtype, k, 4.0 * k ** 0.5 + 4))
    assert got[0].dtype == dtype and got[0].shape == x_shape


dtypes = st.sampled_from([np.float32, np.float64])


@given(g=geometries(), dtype=dtypes, bias=st.booleans(), relu=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_forward_matches_reference(g, dtype, bias, relu, seed):
    _, x, w, b = operands(g, dtype, seed)
    run_forward(g, x, w, b if bias else None, relu, dtype)


@given(g=geometries(), dtype=dtypes, seed=st.integers(0, 2**32 - 1))
def test_backward_input_matches_reference(g, dtype, seed):
    rng, _, w, _ = operands(g, dtype, seed)
    run_backward_input(g, rng, w, dtype)


# The pixel-packed gather runs for few output channels on stride-1 rows: float32 packs 8, 4, 2 and
# 2 pixels of 1, 2, 3 and 4 channels, float64 4 and 2 pixels of 1 and 2 channels; the rest of a row
# (width not a multiple of the group) goes to the channel-vectorized kernel.
few = st.integers(1, 4)


@given(g=geometries(cout=few, stride_w=st.just(1)), dtype=dtypes, bias=st.booleans(), relu=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_forward_packed_groups(g, dtype, bias, relu, seed):
    _, x, w, b = operands(g, dtype, seed)
    run_forward(g, x, w, b if bias else None, relu, dtype)


@given(g=geometries(cin=few, stride_w=st.just(1)), dtype=dtypes, seed=st.integers(0, 2**32 - 1))
def test_backward_input_packed_groups(g, dtype, seed):
    rng, _, w, _ = operands(g, dtype, seed)
    run_backward_input(g, rng, w, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("cout", [1, 2, 3, 4, 8, 9, 16, 24, 33])
@pytest.mark.parametrize("cin", [1, 3, 8, 16, 64, 7])
def test_seed_like_rows_every_width(cin, cout, dtype):
    """3x3 'same' layers on every row width from 1 to 34: each tile split of a row, each packed
    group count and remainder, with bias and ReLU."""
    rng = np.random.default_rng(cin * 100 + cout)
    w = rng.standard_normal((3, 3, cin, cout)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    for width in range(1, 35):
        x = rng.standard_normal((1, 3, width, cin)).astype(dtype)
        g = dict(n=1, h=3, w=width, cin=cin, cout=cout, kh=3, kw=3, strides=(1, 1), dilation=(1, 1),
                 padding="same", pads=((1, 1), (1, 1)))
        run_forward(g, x, w, b, True, dtype)
        run_backward_input(g, rng, w, dtype)


# ---------------------------------------------------------------- non-finite values


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("cin,cout", [(3, 8), (8, 3), (16, 1), (1, 2), (3, 4), (8, 16), (5, 20)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_non_finite_values_reach_only_their_window(bad, cin, cout, dtype):
    """A NaN or infinity in x reaches exactly the outputs whose window holds it, through ReLU
    (which keeps NaN and maps -inf to 0): neighbouring pixels share registers and packed lanes,
    and a lane that multiplied 0 * inf would turn into NaN."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 4, 19, cin)).astype(dtype)
    x[0, 1, 9, cin - 1] = bad
    w = rng.uniform(0.5, 1.5, (3, 3, cin, cout)).astype(dtype)  # one sign: inf never meets -inf
    b = rng.standard_normal(cout).astype(dtype)
    pads = ((1, 1), (1, 1))
    for relu in (False, True):
        want = ref_forward(x, w, b, (1, 1), pads, (1, 1), relu)
        with ops.use_isa("avx2"):
            got = ops.conv2d(x, w, b, padding="same", activation="relu" if relu else None)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
        finite = np.isfinite(want)
        # the bad value did reach some outputs (ReLU turns -inf into 0)
        assert finite.sum() < finite.size or (relu and bad < 0)
        k = 9 * cin
        np.testing.assert_allclose(got[finite], want[finite], rtol=0, atol=tolerance(dtype, k, 4 * k ** 0.5 + 4))
    dy = rng.standard_normal((1, 4, 19, cout)).astype(dtype)
    dy[0, 2, 9, 0] = bad
    want = ref_backward_input(dy, w, x.shape, (1, 1), pads, (1, 1))
    with ops.use_isa("avx2"):
        got = ops.conv2d_backward_input(dy, w, x.shape, padding="same")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    assert np.isfinite(got[np.isfinite(want)]).all()


def test_relu_zeroes_negatives_and_keeps_nan():
    x = np.array([np.nan, -2.0, 3.0, -np.inf, np.inf, 0.0, -0.0, 1.0, -1.0], np.float32).reshape(1, 1, 9, 1)
    for cout in (1, 3, 8, 9):
        w = np.ones((1, 1, 1, cout), np.float32)
        with ops.use_isa("avx2"):
            y = ops.conv2d(x, w, activation="relu")
        want = np.maximum(x.astype(np.float64), 0) * np.ones(cout)
        np.testing.assert_array_equal(y, want)


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("cin,cout", [(3, 8), (8, 16), (8, 3), (64, 64), (5, 20)])
def test_same_bits_at_any_thread_count(cin, cout):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 9, 21, cin)).astype(np.float32)
    w = rng.standard_normal((3, 3, cin, cout)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    dy = rng.standard_normal((3, 9, 21, cout)).astype(np.float32)
    before = nncore.get_num_threads()
    results = []
    try:
        with ops.use_isa("avx2"):
            for threads in (1, 2, 3, 4):
                nncore.set_num_threads(threads)
                results.append((ops.conv2d(x, w, b, padding="same", activation="relu"),
                                ops.conv2d_backward_input(dy, w, x.shape, padding="same")))
    finally:
        nncore.set_num_threads(before)
    for y, dx in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        np.testing.assert_array_equal(dx, results[0][1])
