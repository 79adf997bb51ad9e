"""Bitwise the same results at 1, 2, 3 and 4 threads (DESIGN.md convention 13): every nncore.ops
function on every ISA path and both dtypes, over shapes large enough that the op really splits its
work (each strategy's sizes reach several times the op's per-thread threshold in cpp/), and a few
epochs of training whose weights and losses must hash the same at 1 and 2 threads."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib.util
import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncore
from nncore import ops
from nncore.ops import _activations

THREADS = (1, 2, 3, 4)
DTYPES = [np.float32, np.float64]

# The `isa` fixture sets the ISA path once per test, which is what every example needs; the
# examples are big, so a quarter of the profile's count (the thorough profile still gives 100).
SETTINGS = settings(
    max_examples=max(8, settings.default.max_examples // 4),
    suppress_health_check=[*settings.default.suppress_health_check,
                           HealthCheck.function_scoped_fixture],
)


def as_arrays(result):
    items = result if isinstance(result, (tuple, list)) else (result,)
    return [np.array(a, copy=True) for a in items]


def assert_same_at_every_thread_count(fn, threads=THREADS):
    """Runs fn() (which must not change its inputs) at each thread count; every output must have
    the bits of the first count's. The failure names the op (the first ops.<name> in fn)."""
    before = nncore.get_num_threads()
    results = []
    try:
        for t in threads:
            nncore.set_num_threads(t)
            results.append(as_arrays(fn()))
    finally:
        nncore.set_num_threads(before)
    first = results[0]
    for t, res in zip(threads[1:], results[1:]):
        assert len(res) == len(first)
        for i, (a, b) in enumerate(zip(first, res)):
            assert a.shape == b.shape and a.dtype == b.dtype
            if a.tobytes() != b.tobytes():
                differ = int(np.count_nonzero(a.reshape(-1).view(np.uint8) != b.reshape(-1).view(np.uint8)))
                pytest.fail(f"{op_name(fn)}: output {i} (shape {a.shape}, {a.dtype}) differs at "
                            f"{t} threads from {threads[0]} thread(s): {differ} differing bytes")


def op_name(fn):
    names = [n for n in fn.__code__.co_names if hasattr(ops, n) and n != "ops"]
    return "ops." + names[0] if names else getattr(fn, "__name__", "fn")


def sizes(grain):
    """Element counts: tiny, around the op's per-thread threshold, and big enough for 4 threads
    (3 * grain + 1 or more; chunk boundaries fall anywhere)."""
    return st.one_of(st.integers(0, 300), st.integers(grain // 2, 2 * grain),
                     st.integers(3 * grain + 1, 5 * grain))


def normal(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


@st.composite
def rows_cols(draw, max_elems=300_000):
    """(rows, cols) of a channels-last array: few channels (conv activations), many (Dense),
    widths that are not multiples of the wide-row / column-block sizes, 0 and 1 included."""
    cols = draw(st.one_of(st.integers(1, 70), st.integers(71, 700), st.integers(701, 5000)))
    rows = draw(st.one_of(st.integers(0, 40), st.integers(0, max(max_elems // cols, 1))))
    return rows, cols


def spread(draw, rows, cols):
    """A 2-D or NHWC view of rows x cols (the ops reduce over all axes but the last)."""
    if rows % 4 == 0 and rows > 0 and draw(st.booleans()):
        return (rows // 4, 2, 2, cols)
    return (rows, cols)


# ---------------------------------------------------------------- elementwise and per-row ops

FORWARD = [n for n in _activations.__all__ if not n.endswith(("_backward", "_from_output"))]
BACKWARD = [n for n in _activations.__all__ if n.endswith("_backward")]
FROM_OUTPUT = [n for n in _activations.__all__ if n.endswith("_backward_from_output")]


@SETTINGS
@given(name=st.sampled_from(FORWARD + BACKWARD + FROM_OUTPUT), n=sizes(1 << 15),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_activations(isa, name, n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, n, dtype, 3.0)
    g = normal(rng, n, dtype)
    f = getattr(ops, name)
    if name in FORWARD:
        assert_same_at_every_thread_count(lambda: f(x))
    elif name in BACKWARD:
        assert_same_at_every_thread_count(lambda: f(g, x))
    else:
        y = getattr(ops, name[: -len("_backward_from_output")])(x)
        assert_same_at_every_thread_count(lambda: f(g, y))


@SETTINGS
@given(n=sizes(1 << 15), rate=st.sampled_from([0.0, 0.1, 0.5, 0.9]), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_dropout(isa, n, rate, dtype, seed):
    rng = np.random.default_rng(seed)
    x, g = normal(rng, n, dtype), normal(rng, n, dtype)
    assert_same_at_every_thread_count(lambda: ops.dropout(x, rate, seed))
    _, mask = ops.dropout(x, rate, seed)
    assert_same_at_every_thread_count(lambda: ops.dropout_backward(g, mask, rate))


@SETTINGS
@given(shape=st.one_of(
           st.tuples(st.integers(0, 4000), st.integers(1, 300)),
           st.tuples(st.integers(1, 40), st.integers(1, 30), st.integers(1, 300))),
       axis=st.integers(-3, 2), log=st.booleans(), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_softmax(isa, shape, axis, log, dtype, seed):
    axis = axis % len(shape)
    rng = np.random.default_rng(seed)
    x, g = normal(rng, shape, dtype, 4.0), normal(rng, shape, dtype)
    fwd = ops.log_softmax if log else ops.softmax
    bwd = ops.log_softmax_backward if log else ops.softmax_backward
    y = fwd(x, axis)
    assert_same_at_every_thread_count(lambda: fwd(x, axis))
    assert_same_at_every_thread_count(lambda: bwd(g, y, axis))


@SETTINGS
@given(rows=st.one_of(st.integers(0, 50), st.integers(50, 6000)), cols=st.integers(1, 200),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_softmax_cross_entropy(isa, rows, cols, dtype, seed):
    rng = np.random.default_rng(seed)
    logits = normal(rng, (rows, cols), dtype, 5.0)
    target = rng.dirichlet(np.ones(cols), rows).astype(dtype) if rows else logits.copy()
    labels = rng.integers(0, cols, rows)
    assert_same_at_every_thread_count(lambda: ops.softmax_cross_entropy(logits, target))
    assert_same_at_every_thread_count(lambda: ops.sparse_softmax_cross_entropy(logits, labels))


@SETTINGS
@given(n=sizes(1 << 13), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_sigmoid_binary_cross_entropy(isa, n, dtype, seed):
    rng = np.random.default_rng(seed)
    logits, target = normal(rng, n, dtype, 5.0), rng.random(n).astype(dtype)
    assert_same_at_every_thread_count(lambda: ops.sigmoid_binary_cross_entropy(logits, target))


OPTIMIZERS = ["sgd", "sgd_momentum", "sgd_nesterov", "adam", "adamw", "amsgrad", "rmsprop",
              "rmsprop_centered_momentum"]


def optimizer_update(kind, p, g, rng):
    """One update of copies of p and fresh state; returns everything it wrote."""
    p = p.copy()
    state = [rng.random(p.shape).astype(p.dtype) * 0.01 for _ in range(3)]
    if kind.startswith("sgd"):
        v = state[0] if kind != "sgd" else None
        ops.sgd_step(p, g, v, lr=0.01, momentum=0.0 if v is None else 0.9,
                     nesterov=kind == "sgd_nesterov", weight_decay=0.01)
        return (p,) if v is None else (p, v)
    if kind in ("adam", "adamw", "amsgrad"):
        m, v, vhat = state
        ops.adam_step(p, g, m, v, lr=0.001, step=7, amsgrad_vhat=vhat if kind == "amsgrad" else None,
                      weight_decay=0.004 if kind == "adamw" else 0.0)
        return p, m, v, vhat
    rms, buf, mg = state
    centered = kind == "rmsprop_centered_momentum"
    ops.rmsprop_step(p, g, rms, buf if centered else None, lr=0.001, momentum=0.9 if centered else 0.0,
                     centered=centered, mg=mg if centered else None)
    return p, rms, buf, mg


@SETTINGS
@given(kind=st.sampled_from(OPTIMIZERS), n=sizes(1 << 13), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_optimizer_steps(isa, kind, n, dtype, seed):
    rng = np.random.default_rng(seed)
    p, g = normal(rng, n, dtype), normal(rng, n, dtype)
    assert_same_at_every_thread_count(
        lambda: optimizer_update(kind, p, g, np.random.default_rng(seed)))


# ---------------------------------------------------------------- per-channel reductions


@SETTINGS
@given(data=st.data(), dims=rows_cols(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_bias(isa, data, dims, dtype, seed):
    rows, cols = dims
    shape = spread(data.draw, rows, cols)
    rng = np.random.default_rng(seed)
    x, b = normal(rng, shape, dtype), normal(rng, cols, dtype)
    start = normal(rng, cols, dtype)
    assert_same_at_every_thread_count(lambda: ops.bias_add(x, b))
    assert_same_at_every_thread_count(lambda: ops.bias_grad(x))
    assert_same_at_every_thread_count(
        lambda: ops.bias_grad(x, out=start.copy(), accumulate=True))
    if len(shape) == 4:
        assert_same_at_every_thread_count(lambda: ops.conv2d_backward_bias(x))


@SETTINGS
@given(data=st.data(), dims=rows_cols(), affine=st.booleans(), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_batch_norm(isa, data, dims, affine, dtype, seed):
    rows, cols = dims
    shape = spread(data.draw, rows, cols)
    rng = np.random.default_rng(seed)
    # An offset mean: the two-pass statistics must still agree to the bit.
    x = normal(rng, shape, dtype, 2.0) + dtype(3.0)
    g = normal(rng, shape, dtype)
    gamma = normal(rng, cols, dtype) if affine else None
    beta = normal(rng, cols, dtype) if affine else None
    mm, mv = normal(rng, cols, dtype), rng.random(cols).astype(dtype) + dtype(0.5)
    assert_same_at_every_thread_count(lambda: ops.batch_norm_train(x, gamma, beta, 1e-3))
    assert_same_at_every_thread_count(lambda: ops.batch_norm_inference(x, gamma, beta, mm, mv))
    if rows == 0:
        return
    _, mean, _, inv_std = ops.batch_norm_train(x, gamma, beta, 1e-3)
    assert_same_at_every_thread_count(lambda: ops.batch_norm_backward(g, x, gamma, mean, inv_std))


@pytest.mark.parametrize("shape", [
    (32768, 8),        # 16 row chunks of one column block
    (300, 1000),       # 5 row chunks x 4 column blocks: the thread ranges split both
    (1100, 4097),      # 16 row chunks x 8 column blocks, a ragged last block
    (32, 4096),        # one row chunk, 8 column blocks (a Dense gradient)
    (100_003, 3),      # a shorter last wide row
    (9000, 37),
])
def test_channel_sums_on_grid_corners(isa, shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = normal(rng, shape, dtype) + dtype.type(1.0)
    g = normal(rng, shape, dtype)
    assert_same_at_every_thread_count(lambda: ops.bias_grad(x))
    assert_same_at_every_thread_count(lambda: ops.batch_norm_train(x, None, None, 1e-3))
    _, mean, _, inv_std = ops.batch_norm_train(x, None, None, 1e-3)
    assert_same_at_every_thread_count(lambda: ops.batch_norm_backward(g, x, None, mean, inv_std))
    # and the sums are right: float32 sums run in double (a few eps of the input's precision);
    # float64 ones within the classic bound of a sum of `rows` terms
    rows = x.size // shape[-1]
    eps = np.finfo(dtype).eps
    slack = 8 if dtype == np.float32 else rows
    want = x.astype(np.float64).sum(axis=0)
    bound = slack * eps * np.abs(x).astype(np.float64).sum(axis=0)
    assert np.all(np.abs(ops.bias_grad(x) - want) <= bound)
    assert np.all(np.abs(mean - want / rows) <= bound / rows + eps * np.abs(want / rows))


# ---------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw):
    n, c = draw(st.integers(1, 24)), draw(st.integers(1, 40))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    if padding == "valid":
        ph, pw = min(ph, h), min(pw, w)
    return (n, h, w, c), (ph, pw), (sh, sw), padding


@SETTINGS
@given(case=pool_cases(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_pooling(isa, case, dtype, seed):
    shape, pool, strides, padding = case
    rng = np.random.default_rng(seed)
    x = normal(rng, shape, dtype)
    kw = dict(strides=strides, padding=padding)
    y, argmax = ops.max_pool2d_with_argmax(x, pool, **kw)
    g = normal(rng, y.shape, dtype)
    assert_same_at_every_thread_count(lambda: ops.max_pool2d(x, pool, **kw))
    assert_same_at_every_thread_count(lambda: ops.max_pool2d_with_argmax(x, pool, **kw))
    assert_same_at_every_thread_count(lambda: ops.max_pool2d_backward(g, x, pool, **kw))
    assert_same_at_every_thread_count(lambda: ops.max_pool2d_backward_argmax(g, argmax, shape))
    assert_same_at_every_thread_count(
        lambda: ops.max_pool2d_backward_argmax(g, argmax, shape, pool_size=pool, **kw))
    assert_same_at_every_thread_count(lambda: ops.avg_pool2d(x, pool, **kw))
    ga = normal(rng, ops.avg_pool2d(x, pool, **kw).shape, dtype)
    assert_same_at_every_thread_count(lambda: ops.avg_pool2d_backward(ga, x, pool, **kw))
    gg = normal(rng, (shape[0], shape[3]), dtype)
    assert_same_at_every_thread_count(lambda: ops.global_avg_pool2d(x))
    assert_same_at_every_thread_count(lambda: ops.global_avg_pool2d_backward(gg, shape))


# ---------------------------------------------------------------- convolution and GEMM


@st.composite
def conv_cases(draw):
    n = draw(st.integers(1, 16))
    h, w = draw(st.integers(1, 34)), draw(st.integers(1, 34))
    cin, cout = draw(st.integers(1, 20)), draw(st.integers(1, 24))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    strides = draw(st.sampled_from([1, 2, (1, 2)]))
    dilation = 1 if strides != 1 else draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from(["valid", "same"]))
    if padding == "valid":
        kh, kw = min(kh, (h - 1) // dilation + 1), min(kw, (w - 1) // dilation + 1)
    return (n, h, w, cin), (kh, kw, cin, cout), dict(strides=strides, padding=padding, dilation=dilation)


@SETTINGS
@given(case=conv_cases(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_conv2d(isa, case, dtype, seed):
    x_shape, w_shape, kw = case
    rng = np.random.default_rng(seed)
    x, w = normal(rng, x_shape, dtype), normal(rng, w_shape, dtype)
    b = normal(rng, w_shape[3], dtype)
    y = ops.conv2d(x, w, **kw)
    g = normal(rng, y.shape, dtype)
    assert_same_at_every_thread_count(lambda: ops.conv2d(x, w, **kw))
    assert_same_at_every_thread_count(lambda: ops.conv2d(x, w, b, activation="relu", **kw))
    assert_same_at_every_thread_count(lambda: ops.conv2d_backward_input(g, w, x_shape, **kw))
    assert_same_at_every_thread_count(lambda: ops.conv2d_backward_weight(x, g, w_shape, **kw))
    y = ops.conv2d(x, w, b, activation="relu", **kw)
    assert_same_at_every_thread_count(lambda: ops.conv2d_backward_weight_fused(
        x, g, w_shape, relu_output=y, **kw))


@SETTINGS
@given(case=conv_cases(), mult=st.integers(1, 3), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_depthwise_conv2d(isa, case, mult, dtype, seed):
    x_shape, (kh, kw_, cin, _), kw = case
    w_shape = (kh, kw_, cin, mult)
    rng = np.random.default_rng(seed)
    x, w = normal(rng, x_shape, dtype), normal(rng, w_shape, dtype)
    b = normal(rng, cin * mult, dtype)
    g = normal(rng, ops.depthwise_conv2d(x, w, **kw).shape, dtype)
    dw0 = normal(rng, w_shape, dtype)
    assert_same_at_every_thread_count(lambda: ops.depthwise_conv2d(x, w, b, **kw))
    assert_same_at_every_thread_count(
        lambda: ops.depthwise_conv2d_backward_input(g, w, x_shape, **kw))
    assert_same_at_every_thread_count(
        lambda: ops.depthwise_conv2d_backward_weight(x, g, w_shape, **kw))
    # The per-chunk sums are added to what the buffer already holds, in the same order.
    assert_same_at_every_thread_count(lambda: ops.depthwise_conv2d_backward_weight(
        x, g, w_shape, out=dw0.copy(), accumulate=True, **kw))


@st.composite
def gemm_shapes(draw):
    """Ordinary products and long-depth ones with a small C (weight gradients: split over k)."""
    if draw(st.booleans()):
        return draw(st.integers(1, 300)), draw(st.integers(1, 300)), draw(st.integers(1, 300))
    return draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.integers(1000, 20000))


@SETTINGS
@given(mnk=gemm_shapes(), ta=st.booleans(), tb=st.booleans(), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_gemm(isa, mnk, ta, tb, dtype, seed):
    m, n, k = mnk
    rng = np.random.default_rng(seed)
    a = normal(rng, (k, m) if ta else (m, k), dtype)
    b = normal(rng, (n, k) if tb else (k, n), dtype)
    c = normal(rng, (m, n), dtype)
    bias = normal(rng, n, dtype)
    assert_same_at_every_thread_count(lambda: ops.matmul(a, b, transpose_a=ta, transpose_b=tb))
    assert_same_at_every_thread_count(
        lambda: ops.gemm(a, b, c.copy(), alpha=0.5, beta=-1.5, transpose_a=ta, transpose_b=tb))
    if not ta and not tb:
        assert_same_at_every_thread_count(lambda: ops.dense(a, b, bias, activation="relu"))


# ---------------------------------------------------------------- layer / group norm, upsampling


@SETTINGS
@given(data=rows_cols(), center=st.booleans(), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_layer_norm(isa, data, center, dtype, seed):
    rows, cols = data
    rng = np.random.default_rng(seed)
    x, g = normal(rng, (rows, cols), dtype, 2.0), normal(rng, (rows, cols), dtype)
    gamma, beta = normal(rng, cols, dtype), normal(rng, cols, dtype)
    y, mean, inv = ops.layer_norm(x, gamma, beta, center=center)
    assert_same_at_every_thread_count(lambda: ops.layer_norm(x, gamma, beta, center=center))
    assert_same_at_every_thread_count(
        lambda: ops.layer_norm_backward(g, x, gamma, mean, inv, center=center))


@SETTINGS
@given(n=st.integers(0, 9), hw=st.integers(1, 40), groups=st.sampled_from([1, 2, 4, 8]),
       cg=st.sampled_from([1, 3, 4, 8]), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_group_norm(isa, n, hw, groups, cg, dtype, seed):
    rng = np.random.default_rng(seed)
    shape = (n, hw, hw, groups * cg)
    x, g = normal(rng, shape, dtype, 2.0), normal(rng, shape, dtype)
    gamma, beta = normal(rng, shape[-1], dtype), normal(rng, shape[-1], dtype)
    y, mean, inv = ops.group_norm(x, gamma, beta, groups)
    assert_same_at_every_thread_count(lambda: ops.group_norm(x, gamma, beta, groups))
    assert_same_at_every_thread_count(
        lambda: ops.group_norm_backward(g, x, gamma, mean, inv, groups))


@SETTINGS
@given(n=st.integers(0, 4), h=st.integers(1, 24), w=st.integers(1, 24), c=st.integers(1, 40),
       size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       mode=st.sampled_from(["nearest", "bilinear"]), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_upsample2d(isa, n, h, w, c, size, mode, dtype, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, (n, h, w, c), dtype)
    g = normal(rng, (n, h * size[0], w * size[1], c), dtype)
    assert_same_at_every_thread_count(lambda: ops.upsample2d(x, size, mode))
    assert_same_at_every_thread_count(lambda: ops.upsample2d_backward(g, size, mode))


@SETTINGS
@given(n=st.integers(0, 300_000), act=st.sampled_from([None, "relu", "relu6"]),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_add_act(isa, n, act, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = normal(rng, n, dtype, 4.0), normal(rng, n, dtype, 4.0)
    assert_same_at_every_thread_count(lambda: ops.add_act(a, b, act))


# ---------------------------------------------------------------- what covers every op


def test_every_op_is_covered():
    """A new op in nncore.ops must get a test here (or be listed as not computing anything)."""
    covered = set(FORWARD + BACKWARD + FROM_OUTPUT) | {
        "dropout", "dropout_backward", "softmax", "log_softmax", "softmax_backward",
        "log_softmax_backward", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
        "sigmoid_binary_cross_entropy", "sgd_step", "adam_step", "rmsprop_step", "bias_add",
        "bias_grad", "conv2d_backward_bias", "batch_norm_train", "batch_norm_inference",
        "batch_norm_backward", "max_pool2d", "max_pool2d_with_argmax", "max_pool2d_backward",
        "max_pool2d_backward_argmax", "avg_pool2d", "avg_pool2d_backward", "global_avg_pool2d",
        "global_avg_pool2d_backward", "conv2d", "conv2d_backward_input", "conv2d_backward_weight",
        "conv2d_backward_weight_fused",
        "depthwise_conv2d", "depthwise_conv2d_backward_input", "depthwise_conv2d_backward_weight",
        "matmul", "gemm", "dense"}
    covered |= {"layer_norm", "layer_norm_backward", "group_norm", "group_norm_backward",
                "upsample2d", "upsample2d_backward", "add_act"}
    runtime = {"active_isa", "available_isas", "get_num_threads", "set_num_threads", "info",
               "use_isa", "get_winograd", "set_winograd"}
    # keras.ops names computed by the kernels above (layout changes around them only).
    composed = {"conv", "depthwise_conv", "max_pool", "average_pool"}
    # keras.ops' NumPy-category ops (and the nn ops written with them): NumPy computes them on
    # the calling thread, so the thread count cannot change their bits.
    kernel_modules = ("nncore.ops._", "nncore.ops.nn_activations", "nncore.ops.nn_conv_pool")
    numpy_computed = {n for n in ops.__all__ if n not in covered
                      and not getattr(ops, n).__module__.startswith(kernel_modules)}
    assert set(ops.__all__) - covered - runtime - composed - numpy_computed == set()


# ---------------------------------------------------------------- floating-point modes


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.machine() == "x86_64"
                         and platform.libc_ver()[0] == "glibc"),
                    reason="sets flush-to-zero through glibc's x86 fesetenv")
def test_worker_threads_take_the_callers_floating_point_modes():
    """A caller that flushes subnormals (torch.set_flush_denormal does) gets the same bits from
    every thread count: the worker threads take on the calling thread's modes."""
    code = f"""
        import ctypes, ctypes.util
        import numpy as np
        import nncore
        from nncore import ops
        libm = ctypes.CDLL({ctypes.util.find_library("m")!r})
        x = np.full(1 << 18, 1e-40, np.float32)          # subnormal
        b = np.zeros(1, np.float32)
        before = []
        for t in (1, 4):
            nncore.set_num_threads(t)
            before.append(ops.bias_add(x[:, None], b).ravel())
        # fenv_t of x86-64 glibc: 28 bytes of x87 state, then MXCSR; set DAZ and FTZ in it
        env = (ctypes.c_uint32 * 8)()
        assert libm.fegetenv(env) == 0
        env[7] |= 0x8040
        assert libm.fesetenv(env) == 0
        out = []
        for t in (1, 2, 3, 4):
            nncore.set_num_threads(t)
            out.append(ops.bias_add(x[:, None], b).ravel())
        nonzero = lambda a: int(np.count_nonzero(a.view(np.uint32)))  # DAZ: 1e-40 == 0 now
        print(nonzero(before[0]), nonzero(before[1]), [nonzero(o) for o in out])
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS="4"))
    assert proc.returncode == 0, proc.stderr
    n = 1 << 18
    assert proc.stdout.split() == [str(n), str(n), "[0,", "0,", "0,", "0]"], proc.stdout


# ---------------------------------------------------------------- training


def train_and_hash(threads, blas_threads=None):
    """Trains a small CNN (Conv2D, MaxPool2D, BatchNormalization, Dropout, Dense, softmax, Adam
    with global gradient clipping) for 3 epochs on seeded random data at `threads` threads;
    returns the sha256 of every weight's bytes and of the history, and the per-weight digests."""
    from nncore.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, MaxPool2D

    before = nncore.get_num_threads()
    limits = None
    if blas_threads is not None:
        threadpoolctl = pytest.importorskip("threadpoolctl")
        limits = threadpoolctl.threadpool_limits(blas_threads, user_api="blas")
    try:
        nncore.set_num_threads(threads)
        nncore.set_seed(1234)
        rng = np.random.default_rng(5)
        x = rng.random((192, 16, 16, 3)).astype(np.float32)
        y = nncore.to_categorical(rng.integers(0, 10, 192), 10)
        inp = Input(shape=(16, 16, 3))
        h = Conv2D(16, 3, padding="same", activation="relu")(inp)
        h = BatchNormalization()(h)
        h = MaxPool2D(2)(h)
        h = Dropout(0.3)(h)
        h = Flatten()(h)
        out = Dense(10, activation="softmax")(Dense(64, activation="relu")(h))
        model = nncore.Model(inp, out)
        model.compile(optimizer=nncore.optimizers.Adam(1e-3, global_clipnorm=5.0),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=32, epochs=3, validation_split=0.25, verbose=0)
    finally:
        nncore.set_num_threads(before)
        if limits is not None:
            limits.restore_original_limits()
    digest = hashlib.sha256()
    parts = []
    for w in model.get_weights():
        raw = np.ascontiguousarray(w).tobytes()
        digest.update(raw)
        parts.append(hashlib.sha256(raw).hexdigest()[:12])
    for key in sorted(history.history):
        values = np.asarray(history.history[key], dtype=np.float64)
        assert np.all(np.isfinite(values)), key
        digest.update(key.encode() + values.tobytes())
    return digest.hexdigest(), parts, history.history


def test_training_reproduces_bit_for_bit_at_1_and_2_threads():
    one, parts_one, hist_one = train_and_hash(1)
    two, parts_two, hist_two = train_and_hash(2)
    assert hist_one["loss"][-1] < hist_one["loss"][0]          # it did train
    differing = [i for i, (a, b) in enumerate(zip(parts_one, parts_two)) if a != b]
    assert one == two, f"weights {differing} differ; losses {hist_one['loss']} vs {hist_two['loss']}"


def test_training_does_not_depend_on_the_blas_thread_count():
    """The Python side (gradient clipping norms, L2 penalties, L-BFGS) sums without BLAS, whose
    threaded dot products split the work by the machine's core count."""
    one, _, _ = train_and_hash(1, blas_threads=1)
    two, _, _ = train_and_hash(1, blas_threads=2)
    assert one == two


def test_python_reductions_do_not_depend_on_the_blas_thread_count():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from nncore import optimizers, regularizers
    from nncore.variables import Variable

    rng = np.random.default_rng(3)
    big = rng.standard_normal(300_001)            # long enough for OpenBLAS to split a dot
    kernel = rng.standard_normal((400, 300))

    def steps(optimizer):
        v = Variable(np.zeros(big.size), name="w")
        for step in range(3):
            optimizer.apply_gradients([(big * (step + 1) + v.value, v)])
        return v.value

    def run():
        reg = regularizers.OrthogonalRegularizer(0.1)
        out = [regularizers.L2(0.1)(big), regularizers.L1L2(0.1, 0.2)(big), reg(kernel),
               reg.gradient(kernel)]
        out += [steps(optimizers.SGD(0.1, global_clipnorm=1.0)),
                steps(optimizers.SGD(0.1, clipnorm=1.0)),
                steps(optimizers.LBFGS(learning_rate=0.1))]
        return [np.asarray(o, dtype=np.float64).tobytes() for o in out]

    results = []
    for t in (1, 2, 4):
        with threadpoolctl.threadpool_limits(t, user_api="blas"):
            results.append(run())
    assert results[0] == results[1] == results[2]
