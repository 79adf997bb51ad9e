"""VJPs of the NumPy-category ops of ``nncore.ops`` against central finite differences (float64),
on random shapes, broadcasts, axes and keys."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import nncore
from nncore import ops
from vjp_check import check_vjp

# The example counts come from the hypothesis profile (tests/conftest.py).
SETTINGS = settings(deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
shapes_nd = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def _arr(seed, shape, low=-2.0, high=2.0):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, shape))


def _distinct(seed, shape):
    """Values far apart (no ties, so max/min/clip/abs are differentiable at every element)."""
    n = int(np.prod(shape))
    v = np.random.default_rng(seed).permutation(n).astype(np.float64) * 0.5 - n / 4 + 0.125
    return v.reshape(shape)


# -- element-wise, two operands with broadcasting ---------------------------------------------
BINARY = {
    "add": (ops.add, None), "subtract": (ops.subtract, None), "multiply": (ops.multiply, None),
    "divide": (ops.divide, "nonzero"), "power": (ops.power, "positive_base"),
    "maximum": (ops.maximum, "distinct"), "minimum": (ops.minimum, "distinct"),
    "logaddexp": (ops.logaddexp, None), "divide_no_nan": (ops.divide_no_nan, "nonzero"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       seed=st.integers(0, 2**31))
def test_binary_vjp(name, shapes, seed):
    fn, domain = BINARY[name]
    sa, sb = shapes.input_shapes
    a, b = _arr(seed, sa), _arr(seed + 1, sb)
    if domain == "nonzero":
        b = np.where(b < 0, b - 0.5, b + 0.5)
    elif domain == "positive_base":
        a = np.abs(a) + 0.5
    elif domain == "distinct":
        both = _distinct(seed, (a.size + b.size,))
        a, b = both[:a.size].reshape(sa), both[a.size:].reshape(sb)
    check_vjp(fn, a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_one_operand_tracked(name):
    # A Python scalar or an untracked array on either side: only the tracked one gets a gradient.
    fn, _ = BINARY[name]
    a = _arr(3, (2, 3)) + 3.0
    check_vjp(lambda x: fn(x, 1.5), a)
    check_vjp(lambda x: fn(2.5, x), a)


UNARY = {
    "negative": (ops.negative, None), "square": (ops.square, None),
    "sqrt": (ops.sqrt, "positive"), "exp": (ops.exp, None), "log": (ops.log, "positive"),
    "log1p": (ops.log1p, "positive"), "abs": (ops.abs, "distinct"), "expm1": (ops.expm1, None),
    "sin": (ops.sin, None), "cos": (ops.cos, None), "tan": (ops.tan, None),
    "sinh": (ops.sinh, None), "cosh": (ops.cosh, None), "reciprocal": (ops.reciprocal, "positive"),
    "rsqrt": (ops.rsqrt, "positive"), "exp2": (ops.exp2, None), "log2": (ops.log2, "positive"),
    "log10": (ops.log10, "positive"), "positive": (ops.positive, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**31))
def test_unary_vjp(name, shape, seed):
    fn, domain = UNARY[name]
    x = _distinct(seed, shape) if domain == "distinct" else _arr(seed, shape, -1.2, 1.2)
    if domain == "positive":
        x = np.abs(x) + 0.3
    check_vjp(fn, x)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       seed=st.integers(0, 2**31), swap=st.booleans())
def test_clip_vjp(shapes, seed, swap):
    sx, slo, shi = shapes.input_shapes
    vals = _distinct(seed, (int(np.prod(sx)) + int(np.prod(slo)) + int(np.prod(shi)),))
    x = vals[:int(np.prod(sx))].reshape(sx)
    lo = vals[int(np.prod(sx)):int(np.prod(sx)) + int(np.prod(slo))].reshape(slo)
    hi = vals[int(np.prod(sx)) + int(np.prod(slo)):].reshape(shi)
    # swap: bounds in the wrong order, where NumPy returns x_max
    # x is on a grid of step 0.5: shifts of -0.2 and +0.1 keep x, x_min and x_max pairwise apart
    lo, hi = (lo - 0.2, hi + 0.1) if not swap else (hi - 0.2, lo + 0.1)
    check_vjp(ops.clip, x, lo, hi)


def test_clip_scalar_bounds():
    x = _distinct(1, (4, 5))
    g = check_vjp(lambda v: ops.clip(v, -1.0, 1.0), x)[0]
    np.testing.assert_array_equal(g != 0, (x > -1) & (x < 1))


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       seed=st.integers(0, 2**31))
def test_where_vjp(shapes, seed):
    sc, sa, sb = shapes.input_shapes
    cond = np.random.default_rng(seed).random(sc) > 0.5
    check_vjp(lambda a, b: ops.where(cond, a, b), _arr(seed, sa), _arr(seed + 1, sb))


def test_maximum_tie_goes_to_first_operand():
    # TensorFlow's rule (x >= y selects x); documented in math_elementwise._select.
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 5.0, 0.0])
    with nncore.GradientTape() as tape:
        tape.watch([x, y])
        out = ops.maximum(x, y)
    gx, gy = tape.gradient(out, [x, y])
    np.testing.assert_array_equal(gx, [1, 0, 1])
    np.testing.assert_array_equal(gy, [0, 1, 0])


# -- matrix products ------------------------------------------------------------------------------
@SETTINGS
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
       m=st.integers(1, 3), k=st.integers(1, 3), n=st.integers(1, 3),
       vec=st.sampled_from(["none", "a", "b", "both"]), ta=st.booleans(), tb=st.booleans(),
       seed=st.integers(0, 2**31))
def test_matmul_vjp(batch, m, k, n, vec, ta, tb, seed):
    ba, bb = batch.input_shapes
    sa = (k,) if vec in ("a", "both") else ba + ((k, m) if ta else (m, k))
    sb = (k,) if vec in ("b", "both") else bb + ((n, k) if tb else (k, n))
    ta = ta and len(sa) > 1
    tb = tb and len(sb) > 1
    check_vjp(lambda a, b: ops.matmul(a, b, transpose_a=ta, transpose_b=tb),
              _arr(seed, sa), _arr(seed + 1, sb))


def test_matmul_2d_kernel_path_vjp():
    check_vjp(ops.matmul, _arr(0, (4, 3)), _arr(1, (3, 5)))
    check_vjp(lambda a, b: ops.matmul(a, b, transpose_b=True), _arr(0, (4, 3)), _arr(1, (5, 3)))


@SETTINGS
@given(sa=shapes, nb=st.integers(0, 3), n=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_dot_vjp(sa, nb, n, seed):
    if len(sa) == 0:
        sb = (2,) * nb
    else:
        k = sa[-1]
        sb = {0: (), 1: (k,), 2: (k, n), 3: (2, k, n)}[nb]
    check_vjp(ops.dot, _arr(seed, sa), _arr(seed + 1, sb))


@SETTINGS
@given(sa=shapes_nd, extra=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       n=st.integers(0, 3), data=st.data(), seed=st.integers(0, 2**31))
def test_tensordot_vjp(sa, extra, n, data, seed):
    n = min(n, len(sa))
    ax_a = data.draw(st.permutations(range(len(sa))))[:n]
    ax_b = data.draw(st.permutations(range(n + len(extra))))[:n]
    sb = [None] * (n + len(extra))
    for i, j in zip(ax_a, ax_b):
        sb[j] = sa[i]
    free = iter(extra)
    sb = tuple(next(free) if v is None else v for v in sb)
    neg = data.draw(st.booleans())
    axes = ([i - len(sa) if neg else i for i in ax_a], list(ax_b))
    check_vjp(lambda a, b: ops.tensordot(a, b, axes), _arr(seed, sa), _arr(seed + 1, sb))


def test_tensordot_int_axes_outer_inner_vdot_vjp():
    check_vjp(lambda a, b: ops.tensordot(a, b, 2), _arr(0, (2, 3, 4)), _arr(1, (3, 4, 2)))
    check_vjp(ops.outer, _arr(0, (2, 3)), _arr(1, (4,)))
    check_vjp(ops.inner, _arr(0, (2, 3)), _arr(1, (4, 3)))
    check_vjp(ops.vdot, _arr(0, (2, 3)), _arr(1, (3, 2)))


@pytest.mark.parametrize("spec,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3),
                                                                                  (2, 3, 2)]),
    ("ij->", [(3, 4)]), ("ij->ji", [(3, 4)]), ("i,j->ij", [(3,), (2,)]),
    ("ijk,k->i", [(2, 3, 4), (4,)]), ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 4)]),
    ("ij,kl->", [(2, 2), (3, 1)]), ("i,i", [(4,), (4,)]), (",ijk", [(), (2, 3, 2)]),
    ("ijk,ikj->i", [(2, 3, 4), (2, 4, 3)]), ("ijk, lkj -> il", [(2, 3, 2), (2, 2, 3)])])
def test_einsum_vjp(spec, shapes):
    check_vjp(lambda *xs: ops.einsum(spec, *xs), *[_arr(i, s) for i, s in enumerate(shapes)])


def test_einsum_unsupported_gradient_raises():
    x = _arr(0, (3, 3))
    assert np.allclose(ops.einsum("ii->i", x), np.einsum("ii->i", x))
    with nncore.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(NotImplementedError, match="ii->i"):
            ops.einsum("ii->i", x)


# -- reductions -----------------------------------------------------------------------------------
@st.composite
def axis_args(draw, shape_strategy=shapes):
    shape = draw(shape_strategy)
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or nd == 0:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        picked = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in picked)
    return shape, axis, draw(st.booleans())


REDUCTIONS = {"sum": ops.sum, "mean": ops.mean, "max": ops.max, "min": ops.min,
              "prod": ops.prod, "var": ops.var, "std": ops.std, "logsumexp": ops.logsumexp,
              "amax": ops.amax, "amin": ops.amin}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(args=axis_args(), seed=st.integers(0, 2**31))
def test_reduction_vjp(name, args, seed):
    shape, axis, keepdims = args
    fn = REDUCTIONS[name]
    x = _distinct(seed, shape) if name in ("max", "min", "amax", "amin", "std") \
        else _arr(seed, shape)
    group = int(np.prod([shape[a] for a in (range(len(shape)) if axis is None else
                                            np.atleast_1d(axis))]))
    if name == "std" and group == 1:
        return          # the deviation of a single element is 0: not differentiable
    check_vjp(lambda v: fn(v, axis=axis, keepdims=keepdims), x)


def test_prod_vjp_with_zeros():
    # The gradient is the product of the other elements, also where an element is 0.
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]])
    g = check_vjp(lambda v: ops.prod(v, axis=1), x)[0]
    np.testing.assert_allclose(g[0] / np.random.default_rng(0).standard_normal(2)[0],
                               [0.0, 6.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("fn", [ops.max, ops.min])
def test_max_min_ties_share_the_gradient(fn):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [-1.0, 2.0, -1.0, -1.0]])
    with nncore.GradientTape() as tape:
        tape.watch(x)
        out = fn(x, axis=1)
    g = tape.gradient(out, x)
    if fn is ops.max:
        np.testing.assert_allclose(g, [[0, 0.5, 0.5, 0], [0, 1, 0, 0]])
    else:
        np.testing.assert_allclose(g, [[0, 0, 0, 1], [1 / 3, 0, 1 / 3, 1 / 3]])


def test_max_initial_beyond_all_elements_gives_zero_gradient():
    x = np.array([1.0, 2.0])
    with nncore.GradientTape() as tape:
        tape.watch(x)
        out = ops.max(x, initial=5.0)
    np.testing.assert_array_equal(tape.gradient(out, x), [0.0, 0.0])


@SETTINGS
@given(shape=shapes_nd, data=st.data(), seed=st.integers(0, 2**31))
def test_cumsum_vjp(shape, data, seed):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    check_vjp(lambda v: ops.cumsum(v, axis=axis), _arr(seed, shape))


# -- shapes ---------------------------------------------------------------------------------------
@SETTINGS
@given(shape=shapes, data=st.data(), seed=st.integers(0, 2**31))
def test_reshape_transpose_ravel_vjp(shape, data, seed):
    x = _arr(seed, shape)
    check_vjp(lambda v: ops.reshape(v, (-1,)), x)
    check_vjp(lambda v: ops.reshape(v, (1,) + shape + (1,)), x)
    check_vjp(ops.ravel, x)
    perm = data.draw(st.permutations(range(len(shape))))
    perm = [p - len(shape) if data.draw(st.booleans()) else p for p in perm]
    check_vjp(lambda v: ops.transpose(v, perm), x)
    check_vjp(ops.transpose, x)


@SETTINGS
@given(shape=shapes_nd, data=st.data(), seed=st.integers(0, 2**31))
def test_axis_moves_vjp(shape, data, seed):
    nd = len(shape)
    x = _arr(seed, shape)
    ax = st.integers(-nd, nd - 1)
    a1, a2 = data.draw(ax), data.draw(ax)
    check_vjp(lambda v: ops.swapaxes(v, a1, a2), x)
    check_vjp(lambda v: ops.moveaxis(v, a1, a2), x)
    check_vjp(lambda v: ops.flip(v, a1), x)
    check_vjp(ops.flip, x)
    shift = data.draw(st.integers(-4, 4))
    check_vjp(lambda v: ops.roll(v, shift, a1), x)
    check_vjp(lambda v: ops.roll(v, shift), x)
    e = data.draw(st.integers(-nd - 1, nd))
    check_vjp(lambda v: ops.expand_dims(v, e), x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2),
       seed=st.integers(0, 2**31), data=st.data())
def test_squeeze_vjp(shape, seed, data):
    x = _arr(seed, shape)
    check_vjp(ops.squeeze, x)
    ones = [i for i, d in enumerate(shape) if d == 1]
    if ones:
        axis = data.draw(st.sampled_from(ones))
        check_vjp(lambda v: ops.squeeze(v, axis - len(shape)), x)


@SETTINGS
@given(shape=shapes_nd, sizes=st.lists(st.integers(0, 3), min_size=1, max_size=4),
       data=st.data(), seed=st.integers(0, 2**31))
def test_concatenate_vjp(shape, sizes, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for i, s in enumerate(sizes):
        sh = list(shape)
        sh[axis] = s
        parts.append(_arr(seed + i, tuple(sh)))
    check_vjp(lambda *xs: ops.concatenate(list(xs), axis=axis), *parts)
    check_vjp(lambda *xs: ops.concatenate(xs, axis=None), *parts)


@SETTINGS
@given(shape=shapes, count=st.integers(1, 3), data=st.data(), seed=st.integers(0, 2**31))
def test_stack_vjp(shape, count, data, seed):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [_arr(seed + i, shape) for i in range(count)]
    check_vjp(lambda *xs: ops.stack(list(xs), axis=axis), *parts)


@SETTINGS
@given(shape=shapes_nd, data=st.data(), seed=st.integers(0, 2**31))
def test_split_vjp(shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    if data.draw(st.booleans()):
        sections = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    else:
        sections = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    x = _arr(seed, shape)
    weights = [float(i + 1) for i in range(5)]
    # the pieces weighted differently, so that a piece's gradient landing elsewhere is caught
    check_vjp(lambda v: ops.stack([ops.sum(p) * w for p, w in
                                   zip(ops.split(v, sections, axis=axis), weights)]), x)
    check_vjp(lambda v: ops.concatenate(ops.array_split(v, 2, axis=axis)[:1], axis=axis), x)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=1, max_dims=3, max_side=3),
       seed=st.integers(0, 2**31))
def test_broadcast_to_vjp(shapes, seed):
    src = shapes.input_shapes[0]
    check_vjp(lambda v: ops.broadcast_to(v, (2,) + shapes.result_shape), _arr(seed, src))


@SETTINGS
@given(shape=shapes, reps=st.one_of(st.integers(1, 3),
                                    st.lists(st.integers(1, 3), min_size=0, max_size=4)),
       seed=st.integers(0, 2**31))
def test_tile_vjp(shape, reps, seed):
    check_vjp(lambda v: ops.tile(v, reps), _arr(seed, shape))


@SETTINGS
@given(shape=shapes_nd, data=st.data(), seed=st.integers(0, 2**31))
def test_repeat_vjp(shape, data, seed):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    repeats = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n,
                                                              max_size=n)))
    check_vjp(lambda v: ops.repeat(v, repeats, axis=axis), _arr(seed, shape))


@SETTINGS
@given(shape=shapes_nd, data=st.data(), seed=st.integers(0, 2**31),
       mode=st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
def test_pad_vjp(shape, data, seed, mode):
    limit = 2 if mode != "reflect" else 1
    width = data.draw(st.one_of(
        st.integers(0, limit),
        st.tuples(st.integers(0, limit), st.integers(0, limit)),
        st.lists(st.tuples(st.integers(0, limit), st.integers(0, limit)),
                 min_size=len(shape), max_size=len(shape))))
    if mode == "reflect" and min(shape) == 1:
        mode = "symmetric"
    kwargs = {"constant_values": 1.5} if mode == "constant" else {}
    check_vjp(lambda v: ops.pad(v, width, mode=mode, **kwargs), _arr(seed, shape))


# -- indexing -------------------------------------------------------------------------------------
@st.composite
def index_keys(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    key = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return shape, key


@SETTINGS
@given(args=index_keys(), seed=st.integers(0, 2**31))
def test_get_item_basic_vjp(args, seed):
    shape, key = args
    check_vjp(lambda v: ops.get_item(v, key), _arr(seed, shape))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data(),
       seed=st.integers(0, 2**31))
def test_get_item_advanced_vjp(shape, data, seed):
    # integer arrays with repeats (the gradient adds up), mixed with a slice, and boolean masks
    n = shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    x = _arr(seed, shape)
    check_vjp(lambda v: ops.get_item(v, idx), x)
    if len(shape) > 1:
        m = shape[1]
        idx2 = np.array(data.draw(st.lists(st.integers(0, m - 1), min_size=len(idx),
                                           max_size=len(idx))))
        check_vjp(lambda v: ops.get_item(v, (idx, idx2)), x)
        check_vjp(lambda v: ops.get_item(v, (slice(None, None, -1), idx2)), x)
        check_vjp(lambda v: ops.get_item(v, (slice(None), list(idx2), Ellipsis)), x)
    mask = np.random.default_rng(seed).random(shape) > 0.5
    check_vjp(lambda v: ops.get_item(v, mask), x)


def test_get_item_repeated_index_adds():
    x = np.arange(4.0)
    with nncore.GradientTape() as tape:
        tape.watch(x)
        out = ops.sum(ops.get_item(x, np.array([1, 1, 3, 1])))
    np.testing.assert_array_equal(tape.gradient(out, x), [0, 3, 0, 1])


@SETTINGS
@given(shape=shapes_nd, ishape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
       data=st.data(), seed=st.integers(0, 2**31))
def test_take_vjp(shape, ishape, data, seed):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    idx = np.random.default_rng(seed).integers(-n, n, ishape)
    check_vjp(lambda v: ops.take(v, idx, axis=axis), _arr(seed, shape))


@SETTINGS
@given(shape=shapes_nd, data=st.data(), seed=st.integers(0, 2**31))
def test_take_along_axis_vjp(shape, data, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    if axis is None:
        idx = rng.integers(0, int(np.prod(shape)), (data.draw(st.integers(1, 5)),))
    else:
        ishape = list(shape)
        ishape[axis] = data.draw(st.integers(1, 4))
        # broadcasting on the other axes: extent 1 in the indices or in x
        for d in range(len(shape)):
            if d != axis % len(shape) and data.draw(st.booleans()):
                ishape[d] = 1
        idx = rng.integers(0, shape[axis], ishape)
    check_vjp(lambda v: ops.take_along_axis(v, idx, axis=axis), _arr(seed, shape))


def test_take_along_axis_broadcast_x_vjp():
    x = _arr(0, (1, 4))
    idx = np.array([[0, 3, 3], [1, 1, 2]])
    check_vjp(lambda v: ops.take_along_axis(v, idx, axis=1), x)


# -- core: slices, scatters, unstack, cast --------------------------------------------------------
def test_slice_and_slice_update_vjp():
    x = _arr(0, (4, 5, 3))
    check_vjp(lambda v: ops.slice(v, (1, 2, 0), (2, 3, 3)), x)
    u = _arr(1, (2, 2, 3))
    check_vjp(lambda v, w: ops.slice_update(v, (2, 1, 0), w), x, u)


def test_scatter_vjp():
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    check_vjp(lambda v: ops.scatter(idx, v, (3, 2, 4)), _arr(0, (3, 4)))
    check_vjp(lambda v, w: ops.scatter_update(v, idx, w), _arr(0, (3, 2, 4)), _arr(1, (3, 4)))
    check_vjp(lambda v, w: ops.scatter_update(v, idx, w, reduction="add"),
              _arr(0, (3, 2, 4)), _arr(1, (3, 4)))


def test_unstack_and_cast_vjp():
    x = _arr(0, (3, 2))
    w = np.array([1.0, -2.0, 0.5])
    check_vjp(lambda v: ops.stack([p * c for p, c in zip(ops.unstack(v, axis=1), w)]), x)

    # a float round trip passes the gradient through, cast back to the source dtype
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.cast(x, "float32")
        out = ops.sum(y * np.float32(3))
    assert y.dtype == np.float32
    g = tape.gradient(out, x)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, np.full(x.shape, 3.0))
    # an integer cast cuts the recording
    with nncore.GradientTape() as tape:
        tape.watch(x)
        out = ops.cast(x, "int32")
    assert type(out) is np.ndarray and out.dtype == np.int32


def test_composition_vjp():
    # a small model: the sum of the engine's gradients through several ops at once
    def f(x, w, b):
        # ops.add, not +: with only b watched, matmul gives a plain ndarray
        h = ops.maximum(ops.add(ops.matmul(x, w), b), 0.0)
        return ops.logsumexp(h, axis=-1) - ops.mean(ops.square(h)) + ops.max(h[:, ::2])
    check_vjp(f, _distinct(0, (4, 3)) / 8, _arr(1, (3, 5)), _arr(2, (5,)))
