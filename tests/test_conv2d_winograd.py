"""The Winograd F(4x4, 3x3) path of conv2d (forward and input gradient) against float64 NumPy
references within its documented error bound, on every ISA path, bitwise equal at 1-4 threads; the
layers it does not apply to fall back to the direct kernel bit for bit; the on/off switch; input
gradients against finite differences."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import ops

from _conv_pads import explicit_pads
from conftest import threads

# The documented bound (README "Winograd convolution", cpp/ops/conv2d_winograd.cpp): in float32
# each output's error stays below 1e-5 * S, S the largest sum |x| |w| over the terms of the
# outputs within 3 pixels (its tile's neighbours: a tile's transforms mix them, so an output of
# zeros in the padding still gets their rounding), measured up to 3.7e-6 at 16-256 channels (the
# direct kernel 3e-7 of its own sum); and below 2e-4 of the output's RMS.
F32_BOUND = 1e-5
F32_RMS_BOUND = 2e-4
F64_BOUND = 1e-5 * np.finfo(np.float64).eps / np.finfo(np.float32).eps


@contextlib.contextmanager
def winograd(mode):
    ops.set_winograd(mode)
    try:
        yield
    finally:
        ops.set_winograd(None)


# ---------------------------------------------------------------- references (float64, explicit)


def ref_forward(x, w, pads):
    (pt, pb), (pl, pr) = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = xp.shape[1] - 2, xp.shape[2] - 2
    y = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(3):
        for j in range(3):
            y += xp[:, i:i + oh, j:j + ow, :] @ w[i, j].astype(np.float64)
    return y


def ref_backward_input(dy, w, x_shape, pads):
    (pt, pb), (pl, pr) = pads
    n, h, wd, _ = x_shape
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, x_shape[3]))
    oh, ow = dy.shape[1], dy.shape[2]
    for i in range(3):
        for j in range(3):
            dxp[:, i:i + oh, j:j + ow, :] += dy.astype(np.float64) @ w[i, j].T.astype(np.float64)
    return dxp[:, pt:pt + h, pl:pl + wd]


def local_scale(s):
    """max of s over the 7 x 7 pixels around each pixel (NHWC)."""
    from numpy.lib.stride_tricks import sliding_window_view

    p = np.pad(s, ((0, 0), (3, 3), (3, 3), (0, 0)), mode="edge")
    return sliding_window_view(p, (7, 7), axis=(1, 2)).max(axis=(-2, -1))


def bound(dtype):
    return F32_BOUND if dtype == np.float32 else F64_BOUND


# ---------------------------------------------------------------- hypothesis cases


@st.composite
def cases(draw, max_size=13, channels=(16, 17, 32, 33, 40, 48)):
    n = draw(st.integers(1, 2))
    cin, cout = draw(st.sampled_from(channels)), draw(st.sampled_from(channels))
    padding = draw(st.sampled_from(["valid", "same", "explicit"]))
    if padding == "explicit":
        padding = ((draw(st.integers(0, 3)), draw(st.integers(0, 3))),
                   (draw(st.integers(0, 3)), draw(st.integers(0, 3))))
        lo_h, lo_w = max(1, 3 - sum(padding[0])), max(1, 3 - sum(padding[1]))
    else:
        lo_h = lo_w = 1 if padding == "same" else 3
    h, w = draw(st.integers(lo_h, max_size)), draw(st.integers(lo_w, max_size))
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64])))
    return dict(x_shape=(n, h, w, cin), w_shape=(3, 3, cin, cout), padding=padding, dtype=dtype,
                seed=draw(st.integers(0, 2**31 - 1)), bias=draw(st.booleans()),
                relu=draw(st.booleans()))


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal(case["x_shape"]).astype(dt)
    w = rng.standard_normal(case["w_shape"]).astype(dt)
    b = rng.standard_normal(case["w_shape"][3]).astype(dt) if case["bias"] else None
    return x, w, b


def pads_of(case):
    return explicit_pads(case["padding"], case["x_shape"], case["w_shape"], (1, 1), (1, 1))


def check_forward(case):
    x, w, b = arrays(case)
    pads = pads_of(case)
    want = ref_forward(x, w, pads) + (0 if b is None else b)
    scale = local_scale(ref_forward(np.abs(x), np.abs(w), pads) + (0 if b is None else np.abs(b)))
    if case["relu"]:
        want = np.maximum(want, 0)
    act = "relu" if case["relu"] else None
    with winograd("always"):
        for isa in ops.available_isas():
            first = None
            with ops.use_isa(isa):
                for nt in (1, 2, 3, 4):
                    with threads(nt):
                        got = ops.conv2d(x, w, b, padding=case["padding"], activation=act)
                    assert got.dtype == x.dtype and got.shape == want.shape, isa
                    err = np.abs(got.astype(np.float64) - want)
                    assert np.all(err <= bound(x.dtype) * scale + 1e-30), (isa, float(err.max()))
                    if first is None:
                        first = got
                    np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")


def check_backward_input(case):
    x, w, _ = arrays(case)
    pads = pads_of(case)
    rng = np.random.default_rng(case["seed"] + 1)
    y_shape = ref_forward(x[:, :, :, :1], w[:, :, :1, :1], pads).shape
    dy = rng.standard_normal(y_shape[:3] + (w.shape[3],)).astype(x.dtype)
    want = ref_backward_input(dy, w, x.shape, pads)
    scale = local_scale(ref_backward_input(np.abs(dy), np.abs(w), x.shape, pads))
    with winograd("always"):
        for isa in ops.available_isas():
            first = None
            with ops.use_isa(isa):
                for nt in (1, 2, 3, 4):
                    with threads(nt):
                        got = ops.conv2d_backward_input(dy, w, x.shape, padding=case["padding"])
                    assert got.dtype == x.dtype and got.shape == x.shape, isa
                    err = np.abs(got.astype(np.float64) - want)
                    assert np.all(err <= bound(x.dtype) * scale + 1e-30), (isa, float(err.max()))
                    if first is None:
                        first = got
                    np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")


@given(cases())
def test_forward_matches_reference_on_every_isa_and_thread_count(case):
    check_forward(case)


@given(cases())
def test_backward_input_matches_reference_on_every_isa_and_thread_count(case):
    check_backward_input(case)


@pytest.mark.slow
@settings(max_examples=25)
@given(cases(max_size=40, channels=(32, 64, 96, 130)))
def test_large_forward_matches_reference(case):
    check_forward(case)


@pytest.mark.slow
@settings(max_examples=25)
@given(cases(max_size=40, channels=(32, 64, 96, 130)))
def test_large_backward_input_matches_reference(case):
    check_backward_input(case)


# ---------------------------------------------------------------- where it applies


@pytest.mark.parametrize("channels", [16, 32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_it_is_taken_where_it_applies(dtype, channels):
    """On, the result differs from the direct kernel's in the last bits; off, it is the direct
    kernel's exactly (both within the bound of the reference, checked above)."""
    rng = np.random.default_rng(1)
    c = channels
    x = rng.standard_normal((4, 16, 16, c)).astype(dtype)  # 64 full tiles: the heuristic takes it
    w = rng.standard_normal((3, 3, c, c)).astype(dtype)
    dy = rng.standard_normal((4, 16, 16, c)).astype(dtype)
    with winograd(False):
        direct = ops.conv2d(x, w, padding="same"), ops.conv2d_backward_input(dy, w, x.shape, padding="same")
    with winograd(True):
        wino = ops.conv2d(x, w, padding="same"), ops.conv2d_backward_input(dy, w, x.shape, padding="same")
    for d, g in zip(direct, wino):
        assert not np.array_equal(d, g)
        np.testing.assert_allclose(g, d, rtol=0, atol=1e-3 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("shape,kernel,strides,dilation", [
    ((2, 12, 12, 15), (3, 3, 15, 48), 1, 1),    # too few input channels
    ((2, 12, 12, 48), (3, 3, 48, 8), 1, 1),     # too few output channels
    ((2, 12, 12, 32), (3, 3, 32, 32), 2, 1),    # strided
    ((2, 12, 12, 32), (3, 3, 32, 32), 1, 2),    # dilated
    ((2, 12, 12, 32), (5, 5, 32, 32), 1, 1),    # not 3x3
    ((2, 12, 12, 32), (3, 1, 32, 32), 1, 1),
])
def test_other_layers_fall_back_to_the_direct_kernel(shape, kernel, strides, dilation):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(kernel).astype(np.float32)
    kw = dict(strides=strides, dilation=dilation, padding="same")
    with winograd(False):
        y0 = ops.conv2d(x, w, **kw)
        dx0 = ops.conv2d_backward_input(y0, w, x.shape, **kw)
    with winograd("always"):
        y1 = ops.conv2d(x, w, **kw)
        dx1 = ops.conv2d_backward_input(y0, w, x.shape, **kw)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(dx0, dx1)


@pytest.mark.parametrize("channels,dtype,taken", [(256, np.float32, True), (512, np.float32, False),
                                                  (256, np.float64, False)])
def test_transformed_weights_past_16_mb_keep_the_direct_kernel(isa, channels, dtype, taken):
    """36 * 256 * 256 float32 values are 9.4 MB (taken); 512 channels (37.7 MB) and float64 at 256
    (18.9 MB) stay on the direct kernel, except on the portable path, whose direct kernel is
    slow enough for Winograd to pay up to 256 MB."""
    taken = taken or isa == "generic"
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 8, 8, channels)).astype(dtype)  # 32 full tiles
    w = (rng.standard_normal((3, 3, channels, channels)) / 48).astype(dtype)
    with winograd(False):
        y0 = ops.conv2d(x, w, padding="same")
        dx0 = ops.conv2d_backward_input(y0, w, x.shape, padding="same")
    with winograd(True):
        y1 = ops.conv2d(x, w, padding="same")
        dx1 = ops.conv2d_backward_input(y0, w, x.shape, padding="same")
    assert (y0.tobytes() != y1.tobytes()) is taken
    assert (dx0.tobytes() != dx1.tobytes()) is taken


@pytest.mark.parametrize("shape", [(1, 8, 8, 64), (32, 2, 2, 64), (32, 5, 5, 64)])
def test_small_maps_keep_the_direct_kernel(shape):
    """Too few tiles, or tiles mostly wasted: the direct kernel is faster and is kept."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((3, 3, 64, 64)).astype(np.float32)
    with winograd(False):
        y0 = ops.conv2d(x, w, padding="same")
    with winograd(True):
        y1 = ops.conv2d(x, w, padding="same")
    np.testing.assert_array_equal(y0, y1)


# ---------------------------------------------------------------- the switch


def test_switch(monkeypatch):
    monkeypatch.delenv("NNCORE_WINOGRAD", raising=False)
    ops.set_winograd(None)
    assert ops.get_winograd() is True and nncore.get_winograd() is True
    monkeypatch.setenv("NNCORE_WINOGRAD", "0")
    assert ops.get_winograd() is False  # read at run time
    ops.set_winograd(True)
    assert ops.get_winograd() is True  # the explicit setting wins
    ops.set_winograd(None)
    assert ops.get_winograd() is False
    monkeypatch.setenv("NNCORE_WINOGRAD", "1")
    assert ops.get_winograd() is True
    ops.set_winograd(False)
    assert nncore.get_winograd() is False
    ops.set_winograd(None)
    with pytest.raises(TypeError, match="set_winograd"):
        ops.set_winograd("yes")
    with pytest.raises(TypeError, match="set_winograd"):
        ops.set_winograd(1)


def test_environment_variable_turns_it_off_in_a_new_process():
    code = ("import numpy as np, nncore\nfrom nncore import ops\n"
            "x = np.random.default_rng(0).standard_normal((4, 16, 16, 32)).astype(np.float32)\n"
            "w = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)\n"
            "y = ops.conv2d(x, w, padding='same')\n"
            "ops.set_winograd(False)\n"
            "print(nncore.get_winograd(), np.array_equal(y, ops.conv2d(x, w, padding='same')))\n")
    # The child imports the nncore this test runs (an installed one or a checkout's python/).
    path = os.pathsep.join(p for p in (os.path.dirname(nncore.__path__[0]),
                                       os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, NNCORE_WINOGRAD="0", PYTHONPATH=path)
    launcher = shlex.split(os.environ.get("NNCORE_TEST_LAUNCHER", ""))  # QEMU's CPU models
    out = subprocess.run([*launcher, sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


# ---------------------------------------------------------------- accuracy and gradients


@pytest.mark.parametrize("channels", [32, 64, 128])
def test_float32_error_stays_within_the_documented_bound(channels):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, 12, 12, channels))
    w = rng.standard_normal((3, 3, channels, channels))
    pads = ((1, 1), (1, 1))
    want = ref_forward(x, w, pads)
    scale = local_scale(ref_forward(np.abs(x), np.abs(w), pads))
    with winograd("always"):
        got = ops.conv2d(x.astype(np.float32), w.astype(np.float32), padding="same")
        dx = ops.conv2d_backward_input(want.astype(np.float32), w.astype(np.float32), x.shape,
                                       padding="same")
    err = np.abs(got - want)
    assert (err / scale).max() <= F32_BOUND
    assert err.max() <= F32_RMS_BOUND * np.sqrt(np.mean(want ** 2))
    want_dx = ref_backward_input(want, w, x.shape, pads)
    scale_dx = local_scale(ref_backward_input(np.abs(want), np.abs(w), x.shape, pads))
    assert (np.abs(dx - want_dx) / scale_dx).max() <= F32_BOUND


@pytest.mark.parametrize("padding", ["same", "valid", ((2, 0), (1, 3))])
def test_input_gradient_against_finite_differences(padding):
    """d sum(conv2d(x, w) * r) / dx by central differences through the Winograd forward pass,
    against the Winograd input gradient, in float64."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 10, 32))
    w = rng.standard_normal((3, 3, 32, 33)) / 10
    with winograd("always"):
        y = ops.conv2d(x, w, padding=padding)
        r = rng.standard_normal(y.shape)
        grad = ops.conv2d_backward_input(r, w, x.shape, padding=padding)
        eps = 1e-6
        for flat in rng.choice(x.size, 24, replace=False):
            idx = np.unravel_index(flat, x.shape)
            xp, xm = x.copy(), x.copy()
            xp[idx] += eps
            xm[idx] -= eps
            fd = (np.sum(ops.conv2d(xp, w, padding=padding) * r)
                  - np.sum(ops.conv2d(xm, w, padding=padding) * r)) / (2 * eps)
            assert abs(fd - grad[idx]) <= 1e-6 * max(1.0, abs(fd)), (idx, fd, grad[idx])


@pytest.mark.slow  # 9,216 kernel weights perturbed one by one: a minute under QEMU
def test_layer_gradients_through_winograd_against_finite_differences():
    """A Conv2D layer (bias, tanh) whose forward and input gradient take the Winograd path."""
    from nncore import layers

    layer = layers.Conv2D(32, 3, padding="same", activation="tanh", dtype="float64",
                          bias_initializer="random_normal")
    with winograd("always"):
        assert nncore.gradcheck(layer, np.random.default_rng(5).standard_normal((1, 5, 6, 32)))


def test_non_finite_inputs_reach_only_the_tiles_that_read_them():
    """The transforms subtract, so an inf turns the outputs of every tile reading it into NaN or
    inf (README); outputs whose tiles do not read it stay finite."""
    x = np.ones((2, 16, 16, 32), np.float32)
    x[0, 7, 9, 0] = np.inf
    w = np.ones((3, 3, 32, 32), np.float32)
    with winograd(True):
        y = ops.conv2d(x, w, padding="same")
    assert not np.isfinite(y[0, 6:9, 8:11]).any()
    far = np.ones(y.shape, bool)
    far[0, 7 - 5:7 + 6, 9 - 5:9 + 6] = False
    assert np.isfinite(y[far]).all()
