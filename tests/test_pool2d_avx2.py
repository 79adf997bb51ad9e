"""The AVX2 pooling kernels against slow NumPy references and against the portable kernels.

Aimed at what the AVX2 file does differently: channel counts around the register width (8 floats,
4 doubles: partial registers, channel patterns repeated or shifted across a register, several
registers per pixel), windows that tile a row, leave gaps or are clipped by padding (whole-register
stores that run into later pixels, masked stores at a row's end), NaN and ties (first maximum, NaN
wins), float32 and float64, 1 to 4 threads. Every output must be bitwise the generic path's.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nncore
from nncore import ops

pytestmark = pytest.mark.skipif("avx2" not in ops.available_isas(), reason="this CPU has no AVX2")

# ---------------------------------------------------------------- references


def _pad_out(size, pool, stride, padding):
    if padding == "valid":
        return 0, (size - pool) // stride + 1
    out = -(-size // stride)
    return max((out - 1) * stride + pool - size, 0) // 2, out


def _windows(x_shape, pool, strides, padding):
    """(i, j, r0, r1, c0, c1) for every output pixel: the input rows/columns of its window."""
    _, h, w, _ = x_shape
    pt, oh = _pad_out(h, pool[0], strides[0], padding)
    pl, ow = _pad_out(w, pool[1], strides[1], padding)
    for i in range(oh):
        r0 = i * strides[0] - pt
        for j in range(ow):
            c0 = j * strides[1] - pl
            yield i, j, max(r0, 0), min(r0 + pool[0], h), max(c0, 0), min(c0 + pool[1], w)


def _out_hw(x_shape, pool, strides, padding):
    return (_pad_out(x_shape[1], pool[0], strides[0], padding)[1],
            _pad_out(x_shape[2], pool[1], strides[1], padding)[1])


def reference(x, dy, pool, strides, padding):
    """Max (first maximum, NaN wins), its flat positions, average (float64), and the gradients of
    both for dy (float64, accumulated where windows overlap)."""
    n, h, w, c = x.shape
    oh, ow = _out_hw(x.shape, pool, strides, padding)
    y = np.zeros((n, oh, ow, c), x.dtype)
    am = np.zeros((n, oh, ow, c), np.int64)
    avg = np.zeros((n, oh, ow, c))
    dx_max = np.zeros((n, h * w * c))
    dx_avg = np.zeros((n, h, w, c))
    for i, j, r0, r1, c0, c1 in _windows(x.shape, pool, strides, padding):
        win = x[:, r0:r1, c0:c1, :].reshape(n, (r1 - r0) * (c1 - c0), c)
        k = np.argmax(win, axis=1)  # the first maximum; NaN counts as the largest
        y[:, i, j, :] = np.take_along_axis(win, k[:, None, :], 1)[:, 0, :]
        am[:, i, j, :] = ((r0 + k // (c1 - c0)) * w + c0 + k % (c1 - c0)) * c + np.arange(c)
        avg[:, i, j, :] = win.astype(np.float64).mean(axis=1)
        for b in range(n):
            np.add.at(dx_max[b], am[b, i, j], dy[b, i, j].astype(np.float64))
        dx_avg[:, r0:r1, c0:c1, :] += dy[:, i, j, None, None, :].astype(np.float64) / ((r1 - r0) * (c1 - c0))
    return y, am, avg, dx_max.reshape(x.shape), dx_avg


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64 if a.dtype == np.float64 else a.dtype)


def run_ops(x, dy, pool, strides, padding, isa, threads):
    """Every pooling op on one ISA path, writing into outputs filled with NaN (-7 for argmax) so
    that an element a kernel leaves unwritten shows."""
    kw = dict(strides=strides, padding=padding)

    def junk(like, dtype=None):
        return np.full(like.shape, -7 if dtype == np.int32 else np.nan, dtype or like.dtype)

    before = nncore.get_num_threads()
    nncore.set_num_threads(threads)
    try:
        with ops.use_isa(isa):
            y, am = ops.max_pool2d_with_argmax(x, pool, out=junk(dy), argmax_out=junk(dy, np.int32), **kw)
            return dict(
                y=y, am=am,
                y_plain=ops.max_pool2d(x, pool, out=junk(dy), **kw),
                dx_x=ops.max_pool2d_backward(dy, x, pool, out=junk(x), **kw),
                dx_am=ops.max_pool2d_backward_argmax(dy, am, x.shape, pool_size=pool, out=junk(x), **kw),
                dx_scatter=ops.max_pool2d_backward_argmax(dy, am, x.shape, out=junk(x)),
                avg=ops.avg_pool2d(x, pool, out=junk(dy), **kw),
                dx_avg=ops.avg_pool2d_backward(dy, x.shape, pool, out=junk(x), **kw),
            )
    finally:
        nncore.set_num_threads(before)


def check_case(x, pool, strides, padding, threads, seed):
    rng = np.random.default_rng(seed)
    dtype = x.dtype
    oh, ow = _out_hw(x.shape, pool, strides, padding)
    dy = rng.standard_normal((x.shape[0], oh, ow, x.shape[3])).astype(dtype)
    got = run_ops(x, dy, pool, strides, padding, "avx2", threads)
    want_y, want_am, want_avg, want_dx_max, want_dx_avg = reference(x, dy, pool, strides, padding)

    np.testing.assert_array_equal(_bits(got["y"]), _bits(want_y))  # NaN payloads and signs of zero
    np.testing.assert_array_equal(_bits(got["y_plain"]), _bits(want_y))
    assert got["am"].dtype == np.int32
    np.testing.assert_array_equal(got["am"], want_am)
    overlap = strides[0] < pool[0] or strides[1] < pool[1]
    eps = np.finfo(dtype).eps
    count = pool[0] * pool[1]
    sum_tol = 2 * count * eps * (1 + np.abs(dy).max(initial=0))  # a sum of at most `count` dy
    for name in ("dx_x", "dx_am", "dx_scatter"):
        assert got[name].dtype == dtype and got[name].shape == x.shape
        if overlap:  # several dy summed into one element
            np.testing.assert_allclose(got[name], want_dx_max, rtol=0, atol=sum_tol, err_msg=name)
        else:  # every element is one dy or zero
            np.testing.assert_array_equal(got[name], want_dx_max.astype(dtype), err_msg=name)
    scale = 1 + (np.nanmax(np.abs(x)) if x.size and not np.isnan(x).all() else 0)
    # NaN where the window holds one, in both
    np.testing.assert_allclose(got["avg"], want_avg, rtol=0, atol=2 * count * eps * scale)
    np.testing.assert_allclose(got["dx_avg"], want_dx_avg, rtol=0, atol=sum_tol)

    # The portable kernels sum in the same order: every output is bitwise the same.
    ref = run_ops(x, dy, pool, strides, padding, "generic", 1)
    for name, value in ref.items():
        np.testing.assert_array_equal(_bits(got[name]), _bits(value), err_msg=name)


def make_input(rng, shape, dtype, ties, nans):
    x = rng.standard_normal(shape).astype(dtype)
    if ties:  # few distinct values, zeros of both signs: the first maximum must win
        x = rng.choice(np.array([-1.0, -0.0, 0.0, 1.0], dtype), size=shape)
    if x.size and nans:
        x.reshape(-1)[rng.integers(x.size, size=nans)] = np.nan
    return x


# ---------------------------------------------------------------- hypothesis


@st.composite
def cases(draw):
    c = draw(st.one_of(st.integers(1, 20), st.sampled_from([3, 8, 16, 17])))
    pool = (draw(st.integers(1, 4)), draw(st.integers(1, 5)))
    # Mostly windows that do not overlap (the row kernels' backward); sometimes overlapping ones.
    strides = (max(1, pool[0] + draw(st.integers(-1, 2))), max(1, pool[1] + draw(st.integers(-2, 3))))
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 40)), c)
    padding = draw(st.sampled_from(["valid", "same"]))
    if padding == "valid":
        assume(pool[0] <= shape[1] and pool[1] <= shape[2])
    return shape, pool, strides, padding


@given(case=cases(), dtype=st.sampled_from([np.float32, np.float64]), ties=st.booleans(),
       nans=st.sampled_from([0, 0, 1, 3]), threads=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_avx2_matches_reference_and_generic(case, dtype, ties, nans, threads, seed):
    shape, pool, strides, padding = case
    rng = np.random.default_rng(seed)
    check_case(make_input(rng, shape, dtype, ties, nans), pool, strides, padding, threads, seed)


@given(case=cases(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_avx2_backward_from_a_changed_argmax(case, dtype, seed):
    """One argmax entry moved to another element of the image: accepted (and routed there) when it
    stays in its window and channel, refused like the generic path otherwise."""
    shape, pool, strides, padding = case
    assume(shape[0] > 0 and strides[0] >= pool[0] and strides[1] >= pool[1])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    y, am = ops.max_pool2d_with_argmax(x, pool, strides=strides, padding=padding)
    dy = rng.standard_normal(y.shape).astype(dtype)
    e = int(rng.integers(am.size))
    b, i, j, ch = np.unravel_index(e, am.shape)
    _, h, w, c = shape
    if rng.random() < 0.5:  # somewhere in the image
        target = int(rng.integers(h * w * c))
    else:  # next to the old position: another channel or a neighbouring pixel
        target = int(am[b, i, j, ch]) + int(rng.choice([-c - 1, -c, -1, 1, c, c + 1, w * c]))
        assume(0 <= target < h * w * c)
    bad = am.copy()
    bad[b, i, j, ch] = target
    windows = {(wi, wj): (r0, r1, c0, c1) for wi, wj, r0, r1, c0, c1 in _windows(shape, pool, strides, padding)}
    r0, r1, c0, c1 = windows[(i, j)]
    pixel, channel = divmod(target, c)
    valid = channel == ch and r0 <= pixel // w < r1 and c0 <= pixel % w < c1
    kw = dict(pool_size=pool, strides=strides, padding=padding)
    for isa in ("avx2", "generic"):
        with ops.use_isa(isa):
            if valid:
                dx = ops.max_pool2d_backward_argmax(dy, bad, shape, **kw)
                want = np.zeros((shape[0], h * w * c), dtype)
                for k in range(shape[0]):  # windows do not overlap: every position at most once
                    want[k, bad[k].ravel()] = dy[k].ravel()
                np.testing.assert_array_equal(dx.reshape(shape[0], -1), want, err_msg=isa)
            else:
                with pytest.raises(nncore.ShapeError, match="outside their windows"):
                    ops.max_pool2d_backward_argmax(dy, bad, shape, **kw)


# ---------------------------------------------------------------- every channel count, fixed layouts

LAYOUTS = [  # (h, w), pool, strides, padding: which row kernel path they reach
    ((4, 32), (2, 2), (2, 2), "valid"),   # tiling windows of two columns
    ((5, 33), (2, 2), (2, 2), "same"),    # the same with the last window of a row clipped
    ((4, 33), (2, 2), (2, 2), "valid"),   # the same with a last column no window reads
    ((6, 18), (3, 3), (3, 3), "valid"),   # tiling windows of three columns
    ((7, 10), (3, 3), (3, 3), "same"),    # padding on the left: windows clipped at both ends
    ((4, 17), (2, 2), (2, 3), "valid"),   # gaps between windows (columns no window reads)
    ((5, 9), (2, 1), (3, 1), "same"),     # one-column windows, rows between windows
    ((5, 12), (3, 3), (2, 2), "same"),    # overlapping windows (the drivers' own loops)
    ((3, 16), (2, 3), (2, 2), "same"),    # 7 whole windows, then one the padding clips
    ((3, 16), (2, 3), (2, 1), "same"),    # stride 1: clipped windows at both ends
]


@pytest.mark.parametrize("c", list(range(1, 21)))
@pytest.mark.parametrize("layout", LAYOUTS, ids=[f"{a[1]}{a[2]}{a[3]}" for a in LAYOUTS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_avx2_every_channel_count(c, layout, dtype):
    (h, w), pool, strides, padding = layout
    rng = np.random.default_rng(1000 * c + h * w)
    x = make_input(rng, (2, h, w, c), np.dtype(dtype), ties=bool(c % 2), nans=c % 3)
    check_case(x, pool, strides, padding, threads=1 + c % 3, seed=c)


@pytest.mark.parametrize("c", list(range(1, 21)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("layout", [((2, 12), (2, 2), (2, 2)), ((2, 11), (2, 3), (2, 4))], ids=["tiled", "gaps"])
def test_avx2_argmax_moved_to_the_next_pixel_is_refused(c, dtype, layout):
    """An entry of a window's last column moved one pixel right (the next window's pixel, or a gap)
    must not count as matched, also where the last register of a window's row reaches into it."""
    (h, w), pool, strides = layout
    x = np.random.default_rng(c).standard_normal((1, h, w, c)).astype(dtype)
    last_cols = np.arange(pool[1] - 1, w, strides[1])
    x[:, :, last_cols, :] += 10  # every maximum in its window's last column
    with ops.use_isa("avx2"):
        y, am = ops.max_pool2d_with_argmax(x, pool, strides=strides)
    dy = np.ones_like(y)
    assert ((am // c) % w == last_cols[None, None, : y.shape[2], None]).all()
    for b, i, j, ch in np.argwhere(am >= 0)[::3]:
        bad = am.copy()
        bad[b, i, j, ch] += c
        for isa in ("avx2", "generic"):
            with ops.use_isa(isa), pytest.raises(nncore.ShapeError, match="outside their windows"):
                ops.max_pool2d_backward_argmax(dy, bad, x.shape, pool_size=pool, strides=strides)


def test_avx2_nan_stays_and_ties_keep_the_first():
    x = np.zeros((1, 2, 4, 9), np.float32)
    x[0, 0, 1, 8] = np.nan  # the last channel, in the tail register of a 9-channel pixel
    x[0, 1, 0, 8] = np.inf
    x[0, 1, 1, 0] = -0.0
    with ops.use_isa("avx2"):
        y, am = ops.max_pool2d_with_argmax(x, 2)
    assert np.isnan(y[0, 0, 0, 8]) and am[0, 0, 0, 8] == (0 * 4 + 1) * 9 + 8
    assert (am[0, 0, 0, :8] == np.arange(8)).all() and not np.signbit(y[0, 0, 0, 0])
    assert (am[0, 0, 1] == (0 * 4 + 2) * 9 + np.arange(9)).all()
