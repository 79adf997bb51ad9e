"""GEMM against a float64 NumPy reference, on every ISA path, with transposes and strided views."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops


def reference(a, b, c, alpha, beta, ta, tb):
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    out = alpha * ((a64.T if ta else a64) @ (b64.T if tb else b64))
    if c is not None:
        out = out + beta * c.astype(np.float64)
    return out


def tolerance(dtype, k):
    eps = np.finfo(dtype).eps
    return 8 * eps * max(k, 1) ** 0.5 * 4


@given(
    m=st.integers(0, 70),
    n=st.integers(0, 70),
    k=st.integers(0, 90),
    ta=st.booleans(),
    tb=st.booleans(),
    use_c=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_gemm_matches_reference_on_every_isa(m, n, k, ta, tb, use_c, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype) if use_c else None
    alpha, beta = 0.75, -1.5
    want = reference(a, b, c0, alpha, beta, ta, tb)
    scale = np.abs(a).max(initial=0) * np.abs(b).max(initial=0) * max(k, 1) + 1
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            c = None if c0 is None else c0.copy()
            got = ops.gemm(a, b, c, alpha=alpha, beta=beta, transpose_a=ta, transpose_b=tb)
        assert got.dtype == dtype and got.shape == (m, n)
        np.testing.assert_allclose(got, want, atol=tolerance(dtype, k) * scale, rtol=0, err_msg=isa)


@pytest.mark.parametrize("shape", [(300, 517, 301), (1, 2000, 1), (1000, 3, 1), (5, 1, 700)])
def test_gemm_large_and_skinny(shape, dtype, isa, rng):
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    got = ops.matmul(a, b)
    want = reference(a, b, None, 1.0, 0.0, False, False)
    scale = np.abs(a).max() * np.abs(b).max() * k
    np.testing.assert_allclose(got, want, atol=tolerance(dtype, k) * scale, rtol=0)


def test_strided_and_non_contiguous_views(dtype, rng):
    base = rng.standard_normal((40, 60)).astype(dtype)
    a = base[::2, 1:50:3]  # non-contiguous both ways
    b = base[3:20, ::-2][:, :7]  # negative strides
    b = b[: a.shape[1]]
    got = ops.matmul(a, b)
    np.testing.assert_allclose(got, reference(a, b, None, 1, 0, False, False), rtol=1e-5, atol=1e-5)
    rows = base[:, :30]  # row stride larger than the row: used in place
    got = ops.matmul(rows, rows, transpose_a=True)
    np.testing.assert_allclose(got, reference(rows, rows, None, 1, 0, True, False), rtol=1e-4, atol=1e-3)


def test_beta_zero_ignores_nan_in_c(dtype, rng):
    a = rng.standard_normal((5, 4)).astype(dtype)
    b = rng.standard_normal((4, 6)).astype(dtype)
    c = np.full((5, 6), np.nan, dtype=dtype)
    ops.gemm(a, b, c, beta=0.0)
    assert np.isfinite(c).all()


def test_c_in_place_non_contiguous(dtype, rng):
    a = rng.standard_normal((6, 4)).astype(dtype)
    b = rng.standard_normal((4, 5)).astype(dtype)
    big = rng.standard_normal((6, 10)).astype(dtype)
    c = big[:, ::2]
    want = reference(a, b, c, 2.0, 0.5, False, False)
    out = ops.gemm(a, b, c, alpha=2.0, beta=0.5)
    assert out is c
    np.testing.assert_allclose(big[:, ::2], want, rtol=1e-5, atol=1e-5)


def test_c_aliasing_an_input(dtype, rng):
    a = rng.standard_normal((4, 4)).astype(dtype)
    want = reference(a, a, a, 1.0, 1.0, False, False)
    ops.gemm(a, a, a, beta=1.0)
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "a_shape,b_shape,kwargs",
    [((3, 4), (5, 6), {}), ((3, 4), (3, 6), {}), ((4, 3), (5, 4), {"transpose_b": True})],
)
def test_mismatched_shapes_raise_shape_error(a_shape, b_shape, kwargs):
    with pytest.raises(nncore.ShapeError, match=r"inner dimensions"):
        ops.matmul(np.ones(a_shape, np.float32), np.ones(b_shape, np.float32), **kwargs)


@pytest.mark.parametrize("bad", [np.int64, np.int32, np.float16, np.complex64, bool, object])
def test_non_float_dtypes_raise_dtype_error(bad):
    a = np.ones((3, 3), dtype=bad)
    with pytest.raises(nncore.DTypeError, match="'a'"):
        ops.matmul(a, np.ones((3, 3), np.float32))


def test_mixed_dtypes_raise_dtype_error():
    with pytest.raises(nncore.DTypeError, match="'b'.*float64"):
        ops.matmul(np.ones((3, 3), np.float32), np.ones((3, 3), np.float64))


def test_wrong_rank_raises_shape_error():
    with pytest.raises(nncore.ShapeError, match="2-D"):
        ops.matmul(np.ones((3,), np.float32), np.ones((3, 3), np.float32))


def test_core_binding_rechecks_arguments():
    """The binding refuses what the Python layer would have fixed, instead of reading wild memory."""
    from nncore import _core

    a = np.ones((4, 4), np.float32)
    with pytest.raises(nncore.ShapeError):
        _core.gemm(a, np.ones((5, 4), np.float32), np.empty((4, 4), np.float32), 1.0, 0.0, False, False)
    with pytest.raises(nncore.ShapeError):
        _core.gemm(a[:, ::2], a[::2], np.empty((4, 4), np.float32), 1.0, 0.0, False, False)
    with pytest.raises(nncore.DTypeError):
        _core.gemm(a, a, np.empty((4, 4), np.float64), 1.0, 0.0, False, False)


def test_forked_child_computes_without_hanging():
    """libgomp's pool is not usable after fork(); the child must fall back to one thread."""
    import multiprocessing as mp

    a = np.arange(256 * 256, dtype=np.float32).reshape(256, 256) / 65536
    want = ops.matmul(a, a)  # the parent uses its thread pool first
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(_matmul_and_threads, (a,)).get(timeout=60)
    np.testing.assert_allclose(got[0], want, rtol=1e-5)
    assert got[1] == 1
    np.testing.assert_allclose(ops.matmul(a, a), want, rtol=1e-6)


def _matmul_and_threads(a):
    return ops.matmul(a, a), ops.get_num_threads()
