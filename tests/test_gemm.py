"""GEMM and the fused Dense forward against float64 references, on every ISA path and every route
through the driver (packed or in-place operands, narrow blocks, depth blocks, thread splits)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from conftest import gemm_tuning, threads
from nncore import _core, ops

ISAS = ops.available_isas()
DTYPES = [np.float32, np.float64]


# --- references and helpers -----------------------------------------------------------------


def reference(a, b, c=None, alpha=1.0, beta=0.0, ta=False, tb=False, bias=None, relu=False):
    """alpha * op(a) @ op(b) + beta * c (+ bias) (then ReLU keeping NaN), in float64."""
    a64 = np.asarray(a, np.float64)
    b64 = np.asarray(b, np.float64)
    out = alpha * ((a64.T if ta else a64) @ (b64.T if tb else b64))
    if c is not None and beta != 0:
        out = out + beta * np.asarray(c, np.float64)
    if bias is not None:
        out = out + np.asarray(bias, np.float64)
    if relu:
        out = np.where(out < 0, 0.0, out)  # NaN < 0 is False: NaN stays
    return out


def assert_close(got, want, dtype, k, scale=1.0, msg=""):
    eps = np.finfo(dtype).eps
    atol = 16 * eps * max(k, 1) ** 0.5 * scale + 16 * eps
    np.testing.assert_allclose(got, want, rtol=8 * eps * max(k, 1) ** 0.5, atol=atol, err_msg=msg)


def magnitude(a, b, k):
    """A bound on the size of the entries of a product, for absolute tolerances."""
    return (np.abs(a).max(initial=0) * np.abs(b).max(initial=0)) * max(k, 1) ** 0.5 + 1


def layout(x, how, rng):
    """The same matrix stored differently: C order, Fortran order, a column slice of a wider
    array (rows contiguous, row stride larger than the row), or strided both ways."""
    if how == "C":
        return np.ascontiguousarray(x)
    if how == "F":
        return np.asfortranarray(x)
    if how == "wide":
        big = rng.standard_normal((x.shape[0], x.shape[1] + 3)).astype(x.dtype)
        big[:, 1 : 1 + x.shape[1]] = x
        return big[:, 1 : 1 + x.shape[1]]
    big = rng.standard_normal((2 * x.shape[0] + 1, 2 * x.shape[1] + 1)).astype(x.dtype)
    big[1::2, 1::2] = x
    return big[1::2, 1::2]


# Driver routes, reached on small shapes by shrinking the blocks and forcing the choices.
ROUTES = {
    "auto": ({}, 1),
    "packed, tiny blocks": ({"pack": 3, "kc": 16, "nc": 40, "mc": 25}, 1),
    "in place, tiny depth blocks": ({"pack": 0, "kc": 8}, 1),
    "pack A only": ({"pack": 1, "kc": 24}, 1),
    "pack B only": ({"pack": 2, "nc": 24}, 1),
    "2 threads, rectangles": ({"split": 0, "min_thread_flops": 1.0}, 2),
    "2 threads, depth ranges": ({"split": 1, "min_thread_flops": 1.0, "kc": 16}, 2),
}

dims = st.one_of(st.integers(0, 3), st.integers(4, 40), st.integers(41, 75))


# --- GEMM against the reference, every ISA and route -----------------------------------------


@pytest.mark.parametrize("route", list(ROUTES))
@given(
    m=dims,
    n=dims,
    k=dims,
    ta=st.booleans(),
    tb=st.booleans(),
    use_c=st.booleans(),
    coefs=st.sampled_from([(1.0, 0.0), (0.75, -1.5), (-2.0, 1.0), (1.0, 0.0)]),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_gemm_matches_reference(route, m, n, k, ta, tb, use_c, coefs, dtype, seed):
    overrides, nthreads = ROUTES[route]
    rng = np.random.default_rng(seed)
    alpha, beta = coefs
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype) if use_c else None
    if use_c and beta == 0:
        c0[...] = np.nan  # beta == 0 must not read C
    want = reference(a, b, c0, alpha, beta, ta, tb)
    scale = magnitude(a, b, k) * max(abs(alpha), 1) + (abs(beta) * 4 if use_c else 0)
    with gemm_tuning(**overrides), threads(nthreads):
        for isa in ISAS:
            with ops.use_isa(isa):
                c = None if c0 is None else c0.copy()
                got = ops.gemm(a, b, c, alpha=alpha, beta=beta, transpose_a=ta, transpose_b=tb)
            assert got.dtype == dtype and got.shape == (m, n)
            assert_close(got, want, dtype, k, scale, msg=f"{isa} {route}")


@given(
    m=st.integers(1, 30),
    n=st.integers(1, 30),
    k=st.integers(1, 30),
    how_a=st.sampled_from(["C", "F", "wide", "strided"]),
    how_b=st.sampled_from(["C", "F", "wide", "strided"]),
    how_c=st.sampled_from(["C", "F", "wide", "strided"]),
    ta=st.booleans(),
    tb=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_memory_layout(m, n, k, how_a, how_b, how_c, ta, tb, dtype, seed):
    """Row- and column-major operands are read in place, other layouts copied: same results."""
    rng = np.random.default_rng(seed)
    a = layout(rng.standard_normal((k, m) if ta else (m, k)).astype(dtype), how_a, rng)
    b = layout(rng.standard_normal((n, k) if tb else (k, n)).astype(dtype), how_b, rng)
    c = layout(rng.standard_normal((m, n)).astype(dtype), how_c, rng)
    want = reference(a, b, c, 0.5, 2.0, ta, tb)
    out = ops.gemm(a, b, c, alpha=0.5, beta=2.0, transpose_a=ta, transpose_b=tb)
    assert out is c
    assert_close(c, want, dtype, k, magnitude(a, b, k) + 8)
    assert_close(ops.matmul(a, b, transpose_a=ta, transpose_b=tb), reference(a, b, ta=ta, tb=tb),
                 dtype, k, magnitude(a, b, k))


def block_crossing_shapes(dtype):
    """Shapes one below, at and one above every block size and packing threshold of the active
    path (read from the core, so they follow the machine's caches)."""
    cfg = _core.gemm_config(np.dtype(dtype).name)
    mr, nr, vec, kc, nc = cfg["mr"], cfg["nr"], cfg["vec"], cfg["kc"], cfg["nc"]
    item = np.dtype(dtype).itemsize
    k_pack = (64 << 10) // (40 * item)  # depth at which a 40-column B reaches 64 KiB
    return [
        (2 * mr + 1, kc - 1, nr + 1),
        (2 * mr - 1, kc + 1, 3 * nr - 1),
        (mr + 1, 2 * kc + 3, nc + 1),
        (4 * mr, k_pack + 1, 40),  # B read in place: only 4 row panels
        (4 * mr + 1, k_pack + 1, 40),  # B packed
        (5 * mr, 3, 4 * nr + 1),
        (vec // 2, kc + 5, vec // 2),  # narrow block over two depth blocks
        (3 * mr + 2, 2 * kc + 1, vec // 2 + 1),
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_shapes_crossing_block_boundaries(dtype, ta, tb, isa, rng):
    for m, k, n in block_crossing_shapes(dtype):
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
        c = rng.standard_normal((m, n)).astype(dtype)
        want = reference(a, b, c, 1.25, -0.5, ta, tb)
        ops.gemm(a, b, c, alpha=1.25, beta=-0.5, transpose_a=ta, transpose_b=tb)
        assert_close(c, want, dtype, k, magnitude(a, b, k) * 2 + 2, msg=f"{(m, k, n)}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta", [False, True], ids=["A", "At"])
def test_narrow_products_every_width(dtype, ta, isa, rng):
    """n up to half a vector: two depth steps (row-major A) or two rows (column-major A) share a
    vector; plain products of exactly half a vector store two rows at once. Both layouts of A sum
    in the same order (even and odd depth steps apart), so they agree bit for bit."""
    vec = _core.gemm_config(np.dtype(dtype).name)["vec"]
    for n in range(1, max(vec // 2, 1) + 1):
        for m in (1, 2, 7, 27, 50):
            for k in (1, 2, 27):
                a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
                b = rng.standard_normal((k, n)).astype(dtype)
                want = reference(a, b, ta=ta)
                got = ops.matmul(a, b, transpose_a=ta)
                assert_close(got, want, dtype, k, magnitude(a, b, k))
                other = np.ascontiguousarray(a.T)
                np.testing.assert_array_equal(ops.matmul(other, b, transpose_a=not ta), got)
                bias = rng.standard_normal(n).astype(dtype)
                got = ops.dense(a.T if ta else a, b, bias, activation="relu")
                assert_close(got, reference(a, b, ta=ta, bias=bias, relu=True), dtype, k,
                             magnitude(a, b, k) + 4)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_large_packed_row_blocks(dtype, rng):
    """More rows than one packed A block holds (mc), with B read in place and packed."""
    mc = _core.gemm_config(np.dtype(dtype).name)["mc"]
    for m, k, n in [(mc + 5, 9, 140), (mc + 1, 130, 300)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        assert_close(ops.matmul(a, b), reference(a, b), dtype, k, magnitude(a, b, k))


@pytest.mark.parametrize("shape", [(300, 517, 301), (1, 2000, 1), (1000, 3, 1), (5, 1, 700),
                                   (32768 // 8, 27, 8), (8, 27, 4096), (27, 4096, 8)])
def test_large_and_skinny(shape, dtype, isa, rng):
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    assert_close(ops.matmul(a, b), reference(a, b), dtype, k, magnitude(a, b, k))
    # The conv weight-gradient form: op(A) = A.T with A stored (k, m).
    at = np.ascontiguousarray(a.T)
    assert_close(ops.matmul(at, b, transpose_a=True), reference(a, b), dtype, k, magnitude(a, b, k))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(66, 66, 66), (68, 68, 68), (20, 511, 9), (20, 513, 9),
                                   (8, 3000, 27), (27, 3000, 8), (200, 40, 150)])
def test_one_and_two_threads_agree(dtype, shape, rng):
    """Around the thread thresholds and for both splits the answer does not depend on threads."""
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    results = []
    for nt, overrides in [(1, {}), (2, {}), (2, {"split": 1, "min_thread_flops": 1.0}),
                          (2, {"split": 0, "min_thread_flops": 1.0})]:
        with threads(nt), gemm_tuning(**overrides):
            results.append(ops.dense(a, b, bias, activation="relu"))
    want = reference(a, b, bias=bias, relu=True)
    for got in results:
        assert_close(got, want, dtype, k, magnitude(a, b, k))
        # Bit for bit (tests/test_gemm_determinism.py covers every route and layout).
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"),
                                      results[0].view(f"u{got.itemsize}"))


# --- fused epilogue: dense, and gemm with bias / ReLU ------------------------------------------


@pytest.mark.parametrize("route", list(ROUTES))
@given(
    m=dims,
    n=dims,
    k=dims,
    with_bias=st.booleans(),
    activation=st.sampled_from([None, "relu", "linear"]),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_dense_matches_reference(route, m, n, k, with_bias, activation, dtype, seed):
    overrides, nthreads = ROUTES[route]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype) if with_bias else None
    want = reference(x, w, bias=bias, relu=activation == "relu")
    with gemm_tuning(**overrides), threads(nthreads):
        for isa in ISAS:
            with ops.use_isa(isa):
                got = ops.dense(x, w, bias, activation=activation)
                out = np.full((m, n), np.nan, dtype)
                same = ops.dense(x, w, bias, activation=activation, out=out)
            assert same is out and got.dtype == dtype and got.shape == (m, n)
            assert_close(got, want, dtype, k, magnitude(x, w, k) + 4, msg=f"{isa} {route}")
            np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("route", list(ROUTES))
@given(
    m=dims,
    n=dims,
    k=dims,
    ta=st.booleans(),
    tb=st.booleans(),
    relu=st.booleans(),
    coefs=st.sampled_from([(1.0, 0.0), (0.5, 1.0), (-1.0, -2.0)]),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_core_gemm_epilogue_with_beta(route, m, n, k, ta, tb, relu, coefs, dtype, seed):
    """bias and ReLU are applied once, after alpha/beta, whatever the depth blocking or split."""
    overrides, nthreads = ROUTES[route]
    rng = np.random.default_rng(seed)
    alpha, beta = coefs
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    want = reference(a, b, c0, alpha, beta, ta, tb, bias=bias, relu=relu)
    with gemm_tuning(**overrides), threads(nthreads):
        for isa in ISAS:
            c = c0.copy()
            with ops.use_isa(isa):
                _core.gemm(a, b, c, alpha, beta, ta, tb, bias=bias, relu=relu)
            assert_close(c, want, dtype, k, magnitude(a, b, k) * 2 + 8, msg=f"{isa} {route}")


def test_dense_relu_keeps_nan_and_zero_depth(dtype, isa):
    x = np.ones((3, 4), dtype)
    x[1, 2] = np.nan
    w = -np.ones((4, 5), dtype)
    got = ops.dense(x, w, np.zeros(5, dtype), activation="relu")
    assert np.isnan(got[1]).all()
    assert (got[[0, 2]] == 0).all()
    # k == 0: the product is empty, the output is relu(bias).
    bias = np.array([-1, 2, -3], dtype)
    got = ops.dense(np.ones((2, 0), dtype), np.ones((0, 3), dtype), bias, activation="relu")
    np.testing.assert_array_equal(got, [[0, 2, 0], [0, 2, 0]])


def test_dense_bias_as_list_and_views(rng):
    x = rng.standard_normal((6, 5))
    w = rng.standard_normal((5, 4))
    got = ops.dense(x[::-1], np.asfortranarray(w), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(got, x[::-1] @ w + [1, 2, 3, 4], rtol=1e-12)


# --- out=, in-place C, aliasing ----------------------------------------------------------------


def test_matmul_out_is_filled_and_returned(dtype, rng):
    a = rng.standard_normal((7, 5)).astype(dtype)
    b = rng.standard_normal((5, 9)).astype(dtype)
    out = np.full((7, 9), np.nan, dtype)
    assert ops.matmul(a, b, out=out) is out
    assert_close(out, reference(a, b), dtype, 5, magnitude(a, b, 5))
    wide = np.zeros((7, 12), dtype)
    view = wide[:, 2:11]  # contiguous rows, longer row stride
    assert ops.matmul(a, b, out=view) is view
    assert_close(wide[:, 2:11], reference(a, b), dtype, 5, magnitude(a, b, 5))
    assert (wide[:, :2] == 0).all() and (wide[:, 11:] == 0).all()


def test_out_overlapping_an_input_is_still_right(dtype, rng):
    a = rng.standard_normal((6, 6)).astype(dtype)
    want = reference(a, a)
    got = ops.matmul(a, a, out=a)
    assert got is a
    assert_close(a, want, dtype, 6, 10)
    x = rng.standard_normal((4, 4)).astype(dtype)
    want = reference(x, x, bias=x[0], relu=True)
    ops.dense(x, x, x[0], activation="relu", out=x)
    assert_close(x, want, dtype, 4, 10)


def test_beta_zero_ignores_nan_in_c(dtype, rng, isa):
    a = rng.standard_normal((5, 4)).astype(dtype)
    b = rng.standard_normal((4, 6)).astype(dtype)
    c = np.full((5, 6), np.nan, dtype=dtype)
    ops.gemm(a, b, c, beta=0.0)
    assert np.isfinite(c).all()
    c[...] = np.nan
    ops.gemm(a, b, c, alpha=0.0, beta=0.0)
    assert (c == 0).all()
    c[...] = 2
    ops.gemm(np.ones((5, 0), dtype), np.ones((0, 6), dtype), c, beta=3.0)
    assert (c == 6).all()


def test_c_in_place_non_contiguous(dtype, rng):
    a = rng.standard_normal((6, 4)).astype(dtype)
    b = rng.standard_normal((4, 5)).astype(dtype)
    big = rng.standard_normal((6, 10)).astype(dtype)
    c = big[:, ::2]
    want = reference(a, b, c, 2.0, 0.5)
    out = ops.gemm(a, b, c, alpha=2.0, beta=0.5)
    assert out is c
    np.testing.assert_allclose(big[:, ::2], want, rtol=1e-5, atol=1e-5)


def test_c_aliasing_an_input(dtype, rng):
    a = rng.standard_normal((4, 4)).astype(dtype)
    want = reference(a, a, a, 1.0, 1.0)
    ops.gemm(a, a, a, beta=1.0)
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-5)


def test_zero_sized_results(dtype):
    for m, k, n in [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)]:
        got = ops.matmul(np.ones((m, k), dtype), np.ones((k, n), dtype))
        assert got.shape == (m, n) and got.dtype == dtype
        assert (got == 0).all()


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a_shape,b_shape,kwargs",
    [((3, 4), (5, 6), {}), ((3, 4), (3, 6), {}), ((4, 3), (5, 4), {"transpose_b": True})],
)
def test_mismatched_shapes_raise_shape_error(a_shape, b_shape, kwargs):
    with pytest.raises(nncore.ShapeError, match=r"inner dimensions"):
        ops.matmul(np.ones(a_shape, np.float32), np.ones(b_shape, np.float32), **kwargs)


@pytest.mark.parametrize("bad", [np.int64, np.int32, np.float16, np.complex64, bool, object, ">f4"])
def test_non_float_dtypes_raise_dtype_error(bad):
    a = np.ones((3, 3), dtype=bad)
    with pytest.raises(nncore.DTypeError, match="'a'"):
        ops.gemm(a, np.ones((3, 3), np.float32))
    with pytest.raises(nncore.DTypeError, match="'x'"):
        ops.dense(a, np.ones((3, 3), np.float32))


@pytest.mark.parametrize("other", [np.int64, np.int32, np.float16, bool])
def test_matmul_takes_numpy_operands_as_keras_ops_does(other):
    # keras.ops.matmul follows np.matmul: integers, half floats, vectors and batches; the C++
    # GEMM runs for 2-D float32/float64 pairs (ops.gemm is the kernel with its strict checks).
    a = np.arange(9).reshape(3, 3).astype(other)
    b = np.ones((3, 3), np.float32)
    got = ops.matmul(a, b)
    np.testing.assert_array_equal(got, np.matmul(a, b))
    assert got.dtype == np.matmul(a, b).dtype


def test_mixed_dtypes_raise_dtype_error():
    with pytest.raises(nncore.DTypeError, match="'b'.*float64"):
        ops.matmul(np.ones((3, 3), np.float32), np.ones((3, 3), np.float64))
    with pytest.raises(nncore.DTypeError, match="'bias'"):
        ops.dense(np.ones((3, 3), np.float32), np.ones((3, 2), np.float32), np.ones(2, np.float64))


def test_wrong_rank_raises_shape_error():
    with pytest.raises(nncore.ShapeError, match="2-D"):
        ops.gemm(np.ones((3,), np.float32), np.ones((3, 3), np.float32))
    # matmul takes vectors and batches as NumPy does.
    v = np.arange(3, dtype=np.float32)
    np.testing.assert_array_equal(ops.matmul(v, np.eye(3, dtype=np.float32)), v)
    batch = np.ones((2, 3, 4), np.float32)
    assert ops.matmul(batch, np.ones((4, 5), np.float32)).shape == (2, 3, 5)
    with pytest.raises(nncore.ShapeError, match="'x'.*2-D"):
        ops.dense(np.ones((2, 3, 3), np.float32), np.ones((3, 3), np.float32))


def test_bad_out_arguments():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    with pytest.raises(nncore.ShapeError, match=r"'out'.*\(3, 5\)"):
        ops.matmul(a, b, out=np.empty((5, 3), np.float32))
    with pytest.raises(nncore.DTypeError, match="'out'"):
        ops.matmul(a, b, out=np.empty((3, 5), np.float64))
    with pytest.raises(nncore.ShapeError, match="'out'.*C-contiguous"):
        ops.matmul(a, b, out=np.empty((5, 3), np.float32).T)
    ro = np.empty((3, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.dense(a, b, out=ro)
    with pytest.raises(TypeError, match="'out'"):
        ops.matmul(a, b, out=[[0.0] * 5] * 3)


def test_bad_dense_arguments():
    x = np.ones((3, 4), np.float32)
    w = np.ones((4, 5), np.float32)
    with pytest.raises(nncore.ShapeError, match=r"'bias'.*\(5,\)"):
        ops.dense(x, w, np.ones(4, np.float32))
    with pytest.raises(nncore.ShapeError, match="inner dimensions"):
        ops.dense(x, np.ones((5, 5), np.float32))
    with pytest.raises(ValueError, match="activation"):
        ops.dense(x, w, activation="tanh")


def test_core_binding_rechecks_arguments():
    """The binding refuses what the Python layer would have fixed, instead of reading wild memory."""
    a = np.ones((4, 4), np.float32)
    c = np.empty((4, 4), np.float32)
    with pytest.raises(nncore.ShapeError, match="inner dimensions"):
        _core.gemm(a, np.ones((5, 4), np.float32), c, 1.0, 0.0, False, False)
    with pytest.raises(nncore.ShapeError, match="contiguous rows"):
        _core.gemm(a[:, ::2], a[::2], c, 1.0, 0.0, False, False)
    with pytest.raises(nncore.ShapeError, match="'c'"):
        _core.gemm(a, a, np.empty((4, 4), np.float32).T, 1.0, 0.0, False, False)
    with pytest.raises(nncore.DTypeError):
        _core.gemm(a, a, np.empty((4, 4), np.float64), 1.0, 0.0, False, False)
    with pytest.raises(nncore.DTypeError, match="byte order"):
        _core.gemm(a.astype(">f4"), a, c, 1.0, 0.0, False, False)
    with pytest.raises(ValueError, match="overlaps"):
        _core.gemm(a, a, a, 1.0, 0.0, False, False)
    ro = np.empty((4, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _core.gemm(a, a, ro, 1.0, 0.0, False, False)
    with pytest.raises(nncore.ShapeError, match="'bias'"):
        _core.gemm(a, a, c, 1.0, 0.0, False, False, bias=np.ones(3, np.float32))
    with pytest.raises(nncore.ShapeError, match="'bias'"):
        _core.dense(a, a, np.ones(8, np.float32)[::2], False, c)
    with pytest.raises(nncore.DTypeError, match="'bias'"):
        _core.dense(a, a, [1.0, 2.0, 3.0, 4.0], False, c)
    with pytest.raises(ValueError, match="overlaps"):
        _core.dense(a, a, c[0], False, c)


def test_gemm_config_reports_the_active_path():
    for dtype in ("float32", "float64"):
        cfg = _core.gemm_config(dtype)
        assert cfg["mr"] >= 1 and cfg["nr"] % cfg["vec"] == 0
        assert cfg["kc"] >= 8 and cfg["nc"] >= cfg["nr"] and cfg["mc"] >= cfg["mr"]
    with pytest.raises(nncore.DTypeError):
        _core.gemm_config("int8")


# --- threads and processes ---------------------------------------------------------------------


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
