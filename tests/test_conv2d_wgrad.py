"""conv2d_backward_weight aimed at its kernels: channel counts around the vector widths, short and
long runs, runs along input rows and along grad_y rows, strides, dilations, paddings, accumulate,
float32 and float64, against a NumPy reference on every ISA path; and the same bits at 1-4 threads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nncore
from nncore import ops

# ---------------------------------------------------------------- reference (float64, explicit)


def pads_of(padding, size, window, stride):
    """(before, after) for 'valid', 'same' (TensorFlow's rule: the odd element after) or a pair."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((-(-size // stride) - 1) * stride + window - size, 0)
        return total // 2, total - total // 2
    return padding


def geometry(x_shape, w_shape, strides, padding, dilation):
    """((pt, pb), (pl, pr)) and the output (OH, OW)."""
    pads, out = [], []
    for axis in range(2):
        size, k, s, d = x_shape[1 + axis], w_shape[axis], strides[axis], dilation[axis]
        p = pads_of(padding if isinstance(padding, str) else padding[axis], size, (k - 1) * d + 1, s)
        pads.append(p)
        out.append((size + p[0] + p[1] - (k - 1) * d - 1) // s + 1)
    return pads, tuple(out)


def ref_backward_weight(x, dy, w_shape, strides, pads, dilation):
    """dw[a, b, c, o] = sum_{n, i, j} x_pad[n, i*sh + a*dh, j*sw + b*dw, c] * dy[n, i, j, o]."""
    xp = np.pad(x.astype(np.float64), ((0, 0), pads[0], pads[1], (0, 0)))
    dy = dy.astype(np.float64)
    oh, ow = dy.shape[1:3]
    (sh, sw), (dh, dw_) = strides, dilation
    dw = np.zeros(w_shape)
    for a in range(w_shape[0]):
        for b in range(w_shape[1]):
            taps = xp[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, b * dw_:b * dw_ + (ow - 1) * sw + 1:sw, :]
            dw[a, b] = np.einsum("nhwc,nhwo->co", taps, dy)
    return dw


def error_bound(dtype, terms, magnitude):
    """Any summation order of `terms` products is within gamma_terms * sum |products| of the exact
    sum (Higham, Accuracy and Stability, 3.1); the float64 reference adds its own, smaller, error."""
    eps = np.finfo(dtype).eps
    return 2 * (terms + 2) * eps * magnitude + np.finfo(dtype).tiny


# ---------------------------------------------------------------- cases

# Around the vector widths (8 floats, 4 doubles, 16 per two-vector block) and a few past 32.
channels = st.one_of(st.integers(1, 20), st.integers(31, 33))
# Stride 1, no dilation and taller kernels make runs along grad_y rows possible: draw them often.
small = st.sampled_from([1, 1, 1, 2, 3])


@st.composite
def wgrad_cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    strides = (draw(small), draw(small))
    dilation = (draw(small), draw(small))
    n = draw(st.integers(1, 3))
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 40))  # short and long rows
    padding = draw(st.one_of(st.sampled_from(["valid", "same"]),
                             st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                                       st.tuples(st.integers(0, 2), st.integers(0, 2)))))
    x_shape = (n, h, w, draw(channels))
    w_shape = (kh, kw, x_shape[3], draw(channels))
    pads, (oh, ow) = geometry(x_shape, w_shape, strides, padding, dilation)
    assume(oh >= 1 and ow >= 1)
    return dict(x_shape=x_shape, w_shape=w_shape, strides=strides, padding=padding, dilation=dilation)


def operands(case, dtype, seed):
    rng = np.random.default_rng(seed)
    _, out = geometry(case["x_shape"], case["w_shape"], case["strides"], case["padding"], case["dilation"])
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    dy = rng.standard_normal(case["x_shape"][:1] + out + case["w_shape"][3:]).astype(dtype)
    return rng, x, dy


def check_against_reference(case, dtype, accumulate, seed):
    rng, x, dy = operands(case, dtype, seed)
    pads, _ = geometry(case["x_shape"], case["w_shape"], case["strides"], case["padding"], case["dilation"])
    args = (case["w_shape"], case["strides"], pads, case["dilation"])
    start = rng.standard_normal(case["w_shape"]).astype(dtype) if accumulate else np.zeros(case["w_shape"])
    want = start + ref_backward_weight(x, dy, *args)
    tol = error_bound(dtype, dy.shape[0] * dy.shape[1] * dy.shape[2],
                      np.abs(start) + ref_backward_weight(np.abs(x), np.abs(dy), *args))
    kwargs = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            out = start.astype(dtype) if accumulate else np.full(case["w_shape"], np.nan, dtype)
            got = ops.conv2d_backward_weight(x, dy, case["w_shape"], out=out, accumulate=accumulate, **kwargs)
        assert got is out and got.dtype == dtype, isa
        bad = np.abs(got - want) > tol
        assert not bad.any(), (isa, f"{bad.sum()} of {bad.size} elements, first at {np.argwhere(bad)[0]}: "
                                    f"{got[bad][0]} vs {want[bad][0]}")


@given(case=wgrad_cases(), dtype=st.sampled_from([np.float32, np.float64]), accumulate=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_backward_weight_matches_reference_on_every_isa(case, dtype, accumulate, seed):
    check_against_reference(case, dtype, accumulate, seed)


# Each kernel family at least once, whatever hypothesis draws: (x_shape, w_shape, strides, padding,
# dilation). Runs along grad_y rows need stride-1 rows, dilation 1 along the row and kh > 1.
FAMILIES = {
    "seed-conv1": ((4, 12, 13, 3), (3, 3, 3, 8), (1, 1), "same", (1, 1)),
    "seed-conv2": ((4, 9, 8, 8), (3, 3, 8, 16), (1, 1), "same", (1, 1)),
    "dy-runs-masked": ((2, 11, 14, 5), (3, 3, 5, 7), (1, 1), "same", (1, 1)),
    "dy-runs-kh2-kh5": ((2, 12, 9, 2), (5, 2, 2, 6), (1, 1), "valid", (1, 1)),
    "dy-runs-dilated-rows": ((2, 13, 9, 3), (3, 3, 3, 4), (1, 1), "same", (2, 1)),
    "columns-1-channel": ((2, 10, 17, 9), (3, 3, 9, 1), (1, 1), "same", (1, 1)),
    "columns-3-channels-strided": ((2, 10, 17, 6), (3, 3, 6, 3), (2, 2), "same", (1, 1)),
    "columns-4-channels-long-run": ((1, 6, 9, 33), (2, 5, 33, 4), (1, 2), "valid", (1, 1)),
    "two-vector-blocks-masked": ((2, 7, 9, 4), (3, 3, 4, 20), (1, 1), "same", (1, 1)),
    "33-channels-per-tap": ((2, 9, 14, 33), (3, 3, 33, 33), (1, 1), ((1, 0), (2, 1)), (1, 2)),
    "short-runs-strided": ((2, 9, 9, 1), (3, 3, 1, 5), (2, 1), "same", (1, 1)),
    "1x1-wide": ((1, 2, 40, 32), (1, 1, 32, 31), (1, 1), "valid", (1, 1)),
}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("accumulate", [False, True], ids=["write", "accumulate"])
def test_kernel_families(family, dtype, accumulate):
    x_shape, w_shape, strides, padding, dilation = FAMILIES[family]
    case = dict(x_shape=x_shape, w_shape=w_shape, strides=strides, padding=padding, dilation=dilation)
    check_against_reference(case, dtype, accumulate, seed=3)


def test_non_finite_input_reaches_only_the_taps_that_see_it(dtype, isa):
    """Masked lanes (channels past cout, columns past a run) must not carry inf * 0 into dw."""
    for cin, cout in [(1, 1), (3, 3), (5, 7), (2, 20), (9, 4)]:
        x = np.ones((1, 6, 7, cin), dtype)
        x[0, 0, 0, 0] = np.inf  # only tap (0, 0) of a valid 3x3 window ever reads it
        dy = np.ones((1, 4, 5, cout), dtype)
        got = ops.conv2d_backward_weight(x, dy, (3, 3, cin, cout))
        expect = np.isinf(got)
        assert expect[0, 0, 0].all() and expect.sum() == cout, (cin, cout)
        assert np.isfinite(np.delete(got.reshape(-1), np.flatnonzero(expect))).all()


# ---------------------------------------------------------------- thread count

# conv::threads_for gives a thread per 40,000 multiply-adds, at most one per (image, output row):
# these cases have >= 160,000 of them and >= 8 rows, so 2, 3 and 4 threads all run.
@st.composite
def threaded_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = (draw(small), draw(small))
    dilation = (draw(small), draw(small))
    image = (draw(st.integers(8, 24)), draw(st.integers(4, 24)), draw(channels))
    w_shape = (kh, kw, image[2], draw(channels))
    padding = draw(st.sampled_from(["valid", "same"]))
    _, (oh, ow) = geometry((1,) + image, w_shape, strides, padding, dilation)
    assume(oh >= 1 and ow >= 1)
    # The batch supplies the work: enough images for 160,000 multiply-adds and 8 rows, plus 0-2.
    per_image = oh * ow * int(np.prod(w_shape))
    n = max(-(-160_000 // per_image), -(-8 // oh)) + draw(st.integers(0, 2))
    assume(n <= 32)
    return dict(x_shape=(n,) + image, w_shape=w_shape, strides=strides, padding=padding, dilation=dilation)


def same_bits_at_1_to_4_threads(case, dtype, accumulate, seed):
    rng, x, dy = operands(case, dtype, seed)
    start = rng.standard_normal(case["w_shape"]).astype(dtype)
    kwargs = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    before = nncore.get_num_threads()
    try:
        for isa in ops.available_isas():
            with ops.use_isa(isa):
                results = {}
                for threads in (1, 2, 3, 4):
                    nncore.set_num_threads(threads)
                    out = start.copy()
                    ops.conv2d_backward_weight(x, dy, case["w_shape"], out=out, accumulate=accumulate, **kwargs)
                    results[threads] = out
            for threads in (2, 3, 4):
                differ = results[threads].view(np.uint8) != results[1].view(np.uint8)
                assert not differ.any(), (isa, threads, int(differ.sum()))
    finally:
        nncore.set_num_threads(before)


@given(case=threaded_cases(), dtype=st.sampled_from([np.float32, np.float64]), accumulate=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_same_bits_at_1_to_4_threads(case, dtype, accumulate, seed):
    same_bits_at_1_to_4_threads(case, dtype, accumulate, seed)


@pytest.mark.parametrize(
    "x_shape,w_shape,dtype",
    [
        ((8, 32, 32, 16), (3, 3, 16, 16), np.float32),  # the layer that differed in 8,793 of 9,216
        ((5, 16, 16, 3), (3, 3, 3, 8), np.float32),
        ((1, 4, 1, 1100), (1, 1, 1100, 1000), np.float32),  # dw over 4 MB: one chunk, column slices
        ((1, 4, 1, 700), (1, 1, 700, 800), np.float64),
    ],
    ids=["16to16", "3to8", "big-dw-f32", "big-dw-f64"],
)
def test_same_bits_at_1_to_4_threads_named_layers(x_shape, w_shape, dtype):
    case = dict(x_shape=x_shape, w_shape=w_shape, strides=(1, 1), padding="same", dilation=(1, 1))
    same_bits_at_1_to_4_threads(case, dtype, accumulate=False, seed=5)


def aligned_views(shape, dtype, offsets):
    """Views of `shape` starting `offset` elements past a 64-byte boundary, one per offset."""
    size = int(np.prod(shape))
    views = []
    for offset in offsets:
        buf = np.empty(size + 64, dtype)
        start = (-buf.ctypes.data % 64) // buf.itemsize + offset
        views.append(buf[start:start + size].reshape(shape))
    return views


@pytest.mark.parametrize("accumulate", [False, True], ids=["write", "accumulate"])
def test_same_bits_whatever_the_alignment_of_out(dtype, isa, accumulate):
    """The same bits whatever the address of `out` and the thread count, down to the sign of a zero
    (products that underflow keep their sign in an FMA chain; adding a partial sum of -0 to +0
    would not)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((6, 12, 10, 5)).astype(dtype)
    dy = rng.standard_normal((6, 10, 8, 20)).astype(dtype)
    tiny = np.finfo(dtype).tiny
    x[..., 0], dy[..., 0] = -np.sqrt(tiny) * 1e-10, np.sqrt(tiny) * 1e-10  # every product rounds to -0
    start = rng.standard_normal((3, 3, 5, 20)).astype(dtype)
    start[:, :, 0, 0] = -0.0
    before = nncore.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            nncore.set_num_threads(threads)
            for out in aligned_views(start.shape, dtype, range(0, 64 // start.itemsize, 2)):
                out[...] = start
                ops.conv2d_backward_weight(x, dy, start.shape, out=out, accumulate=accumulate)
                results.append(out.copy())
    finally:
        nncore.set_num_threads(before)
    for r in results[1:]:
        assert r.tobytes() == results[0].tobytes()
    if isa != "generic":  # the portable kernels multiply, then add to +0: +0 + -0 is +0
        assert (results[0][:, :, 0, 0] == 0).all() and np.signbit(results[0][:, :, 0, 0]).all()
