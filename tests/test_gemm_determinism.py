"""GEMM results are bit-for-bit the same at any thread count, through any route of the driver
(packed or in-place operands, narrow blocks, row, column or depth splits) and for any memory layout
of the operands (views and their contiguous copies, row- or column-major, M = 1), on every ISA path.
Only the depth block size may change the bits (it fixes the order of the sums), so every comparison
holds it fixed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import gemm_tuning, threads
from nncore import _core, ops

ISAS = ops.available_isas()
DTYPES = [np.float32, np.float64]
THREADS = (1, 2, 3, 4)


def assert_same_bits(got, want, msg=""):
    """Equal bit patterns: also tells +0 from -0 and one NaN payload from another."""
    assert got.dtype == want.dtype and got.shape == want.shape, msg
    same = got.view(f"u{got.itemsize}") == want.view(f"u{want.itemsize}")
    if not same.all():
        where = np.argwhere(~same)[:5].tolist()
        diff = float(np.nanmax(np.abs(got.astype(np.float64) - want.astype(np.float64))))
        raise AssertionError(f"{msg}: {(~same).sum()} of {same.size} elements differ "
                             f"(first at {where}, max difference {diff:.3g})")


def assert_near_reference(got, a, b, ta=False, tb=False):
    """A loose check against float64 that a wrong answer cannot pass (the exact tolerances live in
    test_gemm.py): identical wrong results at every thread count would otherwise look fine."""
    a64 = np.asarray(a, np.float64)
    b64 = np.asarray(b, np.float64)
    want = (a64.T if ta else a64) @ (b64.T if tb else b64)
    k = a.shape[0] if ta else a.shape[1]
    scale = np.abs(a64).max(initial=0) * np.abs(b64).max(initial=0) * max(k, 1) + 1
    eps = np.finfo(got.dtype).eps
    np.testing.assert_allclose(got, want, rtol=0, atol=64 * eps * scale)


def product_operands(rng, m, k, n, dtype, ta=False, tb=False):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return a, b


# --- every thread count, every route ------------------------------------------------------------

# Routes through the driver, reached on small shapes by shrinking the blocks and forcing threads
# to start for any amount of work. All use depth blocks of 16, so all must agree with each other
# too, not only across thread counts.
KC = 16
ROUTES = {
    "auto": {},
    "rows or columns": {"split": 0},
    "depth blocks": {"split": 1},
    "in place": {"pack": 0, "split": 0},
    "pack A": {"pack": 1},
    "pack B": {"pack": 2, "split": 0},
    "pack both, small blocks": {"pack": 3, "mc": 13, "nc": 40},
}

# Sizes around the register tiles (6-12 rows, 8-32 columns) and below half a vector (narrow).
small = st.one_of(st.integers(1, 4), st.integers(5, 40), st.integers(41, 80))
deep = st.one_of(st.integers(1, 40), st.integers(41, 200))


@given(
    m=small,
    n=small,
    k=deep,
    ta=st.booleans(),
    tb=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_route_and_thread_count_gives_the_same_bits(m, n, k, ta, tb, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = product_operands(rng, m, k, n, dtype, ta, tb)
    for isa in ISAS:
        with ops.use_isa(isa):
            with gemm_tuning(kc=KC):
                first = ops.matmul(a, b, transpose_a=ta, transpose_b=tb)
            assert_near_reference(first, a, b, ta, tb)
            for route, overrides in ROUTES.items():
                with gemm_tuning(kc=KC, min_thread_flops=1.0, **overrides):
                    for nt in THREADS:
                        with threads(nt):
                            got = ops.matmul(a, b, transpose_a=ta, transpose_b=tb)
                        assert_same_bits(got, first, f"{isa} {route} {nt} threads {(m, k, n)}")


@given(
    m=small,
    n=small,
    k=deep,
    coefs=st.sampled_from([(1.0, 0.0), (1.0, 1.0), (0.75, -1.5), (-2.0, 0.5)]),
    with_bias=st.booleans(),
    relu=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_epilogue_and_beta_give_the_same_bits(m, n, k, coefs, with_bias, relu, dtype, seed):
    """alpha, beta * C, bias and ReLU after a depth split: the partial sums are added in the
    order one thread adds them, and the epilogue runs once, at the end."""
    rng = np.random.default_rng(seed)
    alpha, beta = coefs
    a, b = product_operands(rng, m, k, n, dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype) if with_bias else None
    for isa in ISAS:
        with ops.use_isa(isa):
            results = []
            for route in ("auto", "depth blocks", "rows or columns"):
                with gemm_tuning(kc=KC, min_thread_flops=1.0, **ROUTES[route]):
                    for nt in THREADS:
                        c = c0.copy()
                        with threads(nt):
                            _core.gemm(a, b, c, alpha, beta, False, False, bias=bias, relu=relu)
                        results.append((f"{route} {nt} threads", c))
                        if beta == 0.0 and alpha == 1.0:
                            with threads(nt):
                                d = ops.dense(a, b, bias, activation="relu" if relu else None)
                            results.append((f"dense {route} {nt} threads", d))
            for name, got in results[1:]:
                assert_same_bits(got, results[0][1], f"{isa} {name} {(m, k, n)}")


# Shapes at the default block sizes that take each route on their own: long depth and a small C
# (depth split), many rows (row split), many columns (column split), narrow, a single row.
DEFAULT_SHAPES = [
    (16, 8192, 16),  # depth split from 2 threads
    (27, 3000, 8),  # depth split, and narrow where a vector holds 16 values
    (5, 5000, 3),  # narrow depth split
    (200, 300, 150),  # row split, operands packed
    (8, 300, 2000),  # column split
    (130, 2000, 36),  # several depth blocks, row split
    (1, 4000, 3),  # a single row
    (70, 70, 70),  # near the smallest size that starts a second thread
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", DEFAULT_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_default_blocks_same_bits_at_1_to_4_threads(shape, dtype, isa, rng):
    m, k, n = shape
    a, b = product_operands(rng, m, k, n, dtype)
    bias = rng.standard_normal(n).astype(dtype)
    at = np.ascontiguousarray(a.T)
    runs = {}
    for nt in THREADS:
        with threads(nt):
            runs[nt] = (ops.matmul(a, b), ops.matmul(at, b, transpose_a=True),
                        ops.dense(a, b, bias, activation="relu"))
    assert_near_reference(runs[1][0], a, b)
    for nt in THREADS:
        for which, got in zip(("matmul", "matmul A.T", "dense"), runs[nt]):
            assert_same_bits(got, runs[1][0 if which != "dense" else 2], f"{which} {nt} threads")


# --- any memory layout -----------------------------------------------------------------------


def stored_as(x, how, rng):
    """x itself, or a view with the same values in another layout."""
    if how == "C":
        return np.ascontiguousarray(x)
    if how == "F":
        return np.asfortranarray(x)
    if how == "transposed view":
        return np.ascontiguousarray(x.T).T
    if how == "column slice":
        big = rng.standard_normal((x.shape[0], x.shape[1] + 3)).astype(x.dtype)
        big[:, 1 : 1 + x.shape[1]] = x
        return big[:, 1 : 1 + x.shape[1]]
    if how == "every other element":
        big = rng.standard_normal((2 * x.shape[0] + 1, 2 * x.shape[1] + 1)).astype(x.dtype)
        big[1::2, 1::2] = x
        return big[1::2, 1::2]
    if how == "reversed rows":
        return np.ascontiguousarray(x[::-1])[::-1]
    raise ValueError(how)


LAYOUTS = ["C", "F", "transposed view", "column slice", "every other element", "reversed rows"]


@given(
    m=st.one_of(st.just(1), st.integers(1, 3), small),
    n=small,
    k=deep,
    how_a=st.sampled_from(LAYOUTS),
    how_b=st.sampled_from(LAYOUTS),
    nt=st.sampled_from(THREADS),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_views_and_contiguous_copies_give_the_same_bits(m, n, k, how_a, how_b, nt, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = product_operands(rng, m, k, n, dtype)
    bias = rng.standard_normal(n).astype(dtype)
    va, vb = stored_as(a, how_a, rng), stored_as(b, how_b, rng)
    for isa in ISAS:
        with ops.use_isa(isa), threads(nt):
            want = ops.matmul(a, b)
            assert_same_bits(ops.matmul(va, vb), want, f"{isa} matmul {how_a} @ {how_b}")
            # The same product written with the transpose flags on the stored transposes.
            got = ops.matmul(stored_as(a.T, how_a, rng), stored_as(b.T, how_b, rng),
                             transpose_a=True, transpose_b=True)
            assert_same_bits(got, want, f"{isa} matmul transposed {how_a} @ {how_b}")
            assert_same_bits(ops.dense(va, vb, bias), ops.dense(a, b, bias), f"{isa} dense")
            # An output view (C updated in place) against a contiguous one.
            c0 = rng.standard_normal((m, n)).astype(dtype)
            c_view = stored_as(c0, how_b, rng)
            c_plain = c0.copy()
            ops.gemm(va, vb, c_view, alpha=0.5, beta=-1.25)
            ops.gemm(a, b, c_plain, alpha=0.5, beta=-1.25)
            assert_same_bits(np.ascontiguousarray(c_view), c_plain, f"{isa} gemm into {how_b}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_single_row_strided_views_many_shapes(dtype, isa):
    """The reported case: M = 1 with a strided row gave other bits than its copy (narrow widths)."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        k, n = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        row = rng.standard_normal((1, 2 * k + 1)).astype(dtype)[:, 1::2]
        b = rng.standard_normal((k, n)).astype(dtype)
        assert_same_bits(ops.matmul(row, b), ops.matmul(np.ascontiguousarray(row), b),
                         f"1x{k}x{n}")
