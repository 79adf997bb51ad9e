"""Values of the NumPy-category ops of ``nncore.ops``: plain inputs give NumPy's results (values
and dtypes, and plain ``np.ndarray``s), and the cases of Keras' own tests."""

import numpy as np
import pytest

import nncore
from nncore import ops

F32 = np.array([[1.5, -2.0, 3.25], [0.5, 2.0, -1.0]], np.float32)
F64 = F32.astype(np.float64)
I32 = np.array([[1, 2, 3], [3, 2, 1]], np.int32)
I64 = I32.astype(np.int64)
POS = np.array([[1.5, 2.0, 3.25], [0.5, 2.0, 1.0]], np.float32)

# (ops name, NumPy reference, argument builder): each run on float32, float64, int32, int64.
UNARY = [
    ("negative", np.negative), ("square", np.square), ("exp", np.exp), ("abs", np.abs),
    ("absolute", np.abs), ("sign", np.sign), ("sin", np.sin), ("cos", np.cos),
    ("expm1", np.expm1), ("positive", np.positive), ("floor", np.floor), ("ceil", np.ceil),
    ("exp2", np.exp2), ("tan", np.tan), ("sinh", np.sinh), ("cosh", np.cosh),
]
UNARY_POSITIVE = [("sqrt", np.sqrt), ("log", np.log), ("log1p", np.log1p), ("log2", np.log2),
                  ("log10", np.log10), ("reciprocal", np.reciprocal)]
BINARY = [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
    ("divide", np.true_divide), ("true_divide", np.true_divide), ("maximum", np.maximum),
    ("minimum", np.minimum), ("power", np.power), ("equal", np.equal),
    ("not_equal", np.not_equal), ("greater", np.greater), ("greater_equal", np.greater_equal),
    ("less", np.less), ("less_equal", np.less_equal), ("logaddexp", np.logaddexp),
    ("floor_divide", np.floor_divide), ("mod", np.mod),
]
DTYPES = [np.float32, np.float64, np.int32, np.int64]


def _same(got, want):
    assert type(got) is type(want) or (isinstance(got, np.ndarray) and isinstance(want,
                                                                                   np.ndarray)), \
        f"got {type(got).__name__}, NumPy gives {type(want).__name__}"
    assert not isinstance(got, nncore.Tensor)
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, NumPy gives {want.dtype}"
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ref", UNARY)
def test_unary_matches_numpy(name, ref, dtype):
    x = F64.astype(dtype) if np.dtype(dtype).kind == "f" else I32.astype(dtype)
    _same(getattr(ops, name)(x), ref(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ref", UNARY_POSITIVE)
def test_unary_positive_matches_numpy(name, ref, dtype):
    x = POS.astype(dtype) if np.dtype(dtype).kind == "f" else I32.astype(dtype)
    if name == "reciprocal" and np.dtype(dtype).kind != "f":
        x = x.astype(np.float32)
    _same(getattr(ops, name)(x), ref(x))


@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float32, np.float64),
                                    (np.int32, np.float32), (np.int64, np.int32),
                                    (np.int32, np.int32), (np.float64, np.int64)])
@pytest.mark.parametrize("name,ref", BINARY)
def test_binary_matches_numpy(name, ref, dtypes):
    x = (F64 if np.dtype(dtypes[0]).kind == "f" else I32).astype(dtypes[0])
    y = (POS if np.dtype(dtypes[1]).kind == "f" else I32[::-1]).astype(dtypes[1])
    if name == "power" and np.dtype(dtypes[1]).kind != "f":
        x = np.abs(x)
    _same(getattr(ops, name)(x, y), ref(x, y))
    # Python scalars keep the array's dtype (NumPy 2's weak scalars)
    if name not in ("power", "floor_divide", "mod"):
        _same(getattr(ops, name)(x, 2), ref(x, 2))
        _same(getattr(ops, name)(1.5, x), ref(1.5, x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), ()])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std", "amax",
                                  "amin", "all", "any"])
def test_reductions_match_numpy(name, dtype, axis, keepdims):
    x = F64.astype(dtype) if np.dtype(dtype).kind == "f" else I32.astype(dtype)
    ref = {"amax": np.max, "amin": np.min}.get(name, getattr(np, name))
    got = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    want = ref(x, axis=axis, keepdims=keepdims)
    if name in ("mean", "var", "std"):
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert np.asarray(got).dtype == np.asarray(want).dtype
    else:
        _same(got, want)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_and_logsumexp(axis, keepdims):
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_argmax / test_argmin
    x = np.array([[1, 2, 3], [3, 2, 1], [4, 5, 6]])
    _same(ops.argmax(x, axis=axis, keepdims=keepdims), np.argmax(x, axis=axis, keepdims=keepdims))
    _same(ops.argmin(x, axis=axis, keepdims=keepdims), np.argmin(x, axis=axis, keepdims=keepdims))
    y = F32 * 100
    want = np.log(np.sum(np.exp(y.astype(np.float64) - 400), axis=axis, keepdims=keepdims)) + 400
    got = ops.logsumexp(y, axis=axis, keepdims=keepdims)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_logsumexp_extremes():
    big = np.array([1000.0, 1000.0])
    np.testing.assert_allclose(ops.logsumexp(big), 1000 + np.log(2))
    assert ops.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


def test_cumsum_matches_numpy():
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_cumsum
    x = np.array([[1, 2, 3], [3, 2, 1]])
    for axis in (None, 0, 1, -1):
        _same(ops.cumsum(x, axis=axis), np.cumsum(x, axis=axis))
        _same(ops.cumsum(x.astype(np.float32), axis=axis, dtype="float64"),
              np.cumsum(x.astype(np.float32), axis=axis, dtype="float64"))


def test_clip_where_match_numpy():
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_clip
    x = np.array([[1.2, 2.1, 0.5], [2.4, 11.9, 0.5]])
    _same(ops.clip(x, 1, 2), np.clip(x, 1, 2))
    _same(ops.clip(x, 0, 1), np.clip(x, 0, 1))
    _same(ops.clip(x.astype(np.float32), 0.5, 1.5), np.clip(x.astype(np.float32), 0.5, 1.5))
    _same(ops.clip(I32, 1, 2), np.clip(I32, 1, 2))
    # keras/src/ops/numpy_test.py::NumpyTwoInputOpsCorrectnessTest::test_where
    a = np.array([1, 2, 3])
    b = np.array([4, 5, 6])
    _same(ops.where(a > 1, a, b), np.where(a > 1, a, b))
    got = ops.where(a > 1)
    assert len(got) == 1
    _same(got[0], np.where(a > 1)[0])
    with pytest.raises(ValueError, match="both"):
        ops.where(a > 1, a)


def test_divide_no_nan():
    # keras/src/ops/numpy_test.py::NumpyTwoInputOpsCorrectnessTest::test_divide_no_nan
    x = np.array([[2, 1, 0], [np.inf, -np.inf, np.nan], [np.inf, -np.inf, np.nan]])
    y = np.array([[2, 0, 0], [0, 0, 0], [3, 2, 1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.where(y == 0, 0, x / y)
    np.testing.assert_allclose(ops.divide_no_nan(x, y), want)


def test_two_input_cases_from_keras():
    # keras/src/ops/numpy_test.py::NumpyTwoInputOpsCorrectnessTest::test_add/subtract/multiply/
    # divide/power
    x = np.array([[1, 2, 3], [3, 2, 1]])
    y = np.array([[4, 5, 6], [3, 2, 1]])
    z = np.array([[[1, 2, 3], [3, 2, 1]]])
    for name, ref in [("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
                      ("divide", np.divide), ("power", np.power)]:
        _same(getattr(ops, name)(x, y), ref(x, y))
        _same(getattr(ops, name)(x, z), ref(x, z))
    # ::test_maximum / ::test_minimum
    x = np.array([[1, 2], [3, 4]])
    y = np.array([[5, 6], [7, 8]])
    for name, ref in [("maximum", np.maximum), ("minimum", np.minimum)]:
        _same(getattr(ops, name)(x, y), ref(x, y))
        _same(getattr(ops, name)(x, 1), ref(x, 1))
        _same(getattr(ops, name)(1, x), ref(1, x))


def test_matmul_cases_from_keras():
    # keras/src/ops/numpy_test.py::NumpyTwoInputOpsCorrectnessTest::test_matmul
    x = np.ones([2, 3, 4, 5])
    y = np.ones([2, 3, 5, 6])
    z = np.ones([5, 6])
    p = np.ones([4])
    _same(ops.matmul(x, y), np.matmul(x, y))
    _same(ops.matmul(x, z), np.matmul(x, z))
    _same(ops.matmul(p, x), np.matmul(p, x))
    rng = np.random.default_rng(0)
    a32 = rng.standard_normal((5, 7)).astype(np.float32)
    b32 = rng.standard_normal((7, 3)).astype(np.float32)
    got = ops.matmul(a32, b32)
    assert type(got) is np.ndarray and got.dtype == np.float32
    np.testing.assert_allclose(got, a32 @ b32, rtol=1e-5, atol=1e-5)
    _same(ops.matmul(I32, I32.T), I32 @ I32.T)


def test_dot_tensordot_outer_inner_vdot_cases_from_keras():
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_dot
    x = np.arange(24).reshape([2, 3, 4]).astype("float32")
    y = np.arange(12).reshape([4, 3]).astype("float32")
    z = np.arange(4).astype("float32")
    _same(ops.dot(x, y), np.dot(x, y))
    _same(ops.dot(x, z), np.dot(x, z))
    _same(ops.dot(x, 2), np.dot(x, 2))
    x_hr = np.ones((2, 3, 4), dtype="float32")
    y_hr = np.ones((2, 4, 5), dtype="float32")
    _same(ops.dot(x_hr, y_hr), np.dot(x_hr, y_hr))
    _same(ops.dot(np.ones((4,), dtype="float32"), y_hr), np.dot(np.ones((4,), "float32"), y_hr))
    # ::NumpyTwoInputOpsCorrectnessTest::test_tensordot
    x = np.arange(24).reshape([1, 2, 3, 4]).astype("float32")
    y = np.arange(24).reshape([3, 4, 1, 2]).astype("float32")
    for axes in (2, ([0, 1], [2, 3]), [0, 2]):
        _same(ops.tensordot(x, y, axes=axes), np.tensordot(x, y, axes=axes))
    # ::test_outer, ::test_vdot, ::test_inner
    _same(ops.outer(np.array([1, 2, 3]), np.array([4, 5, 6])),
          np.outer(np.array([1, 2, 3]), np.array([4, 5, 6])))
    _same(ops.outer(np.ones([2, 3, 4]), np.ones([2, 3, 4, 5, 6])),
          np.outer(np.ones([2, 3, 4]), np.ones([2, 3, 4, 5, 6])))
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    _same(ops.vdot(a, b), np.vdot(a, b))
    _same(ops.inner(a, b), np.inner(a, b))
    x, y = np.arange(12.0).reshape(3, 4), np.arange(20.0).reshape(5, 4)
    _same(ops.inner(x, y), np.inner(x, y))


def test_einsum_cases_from_keras():
    # keras/src/ops/numpy_test.py::NumpyTwoInputOpsCorrectnessTest::test_einsum
    x = np.arange(24).reshape([2, 3, 4]).astype("float32")
    y = np.arange(24).reshape([2, 4, 3]).astype("float32")
    for spec in ("ijk,lkj->il", "ijk,ikj->i", "i...,j...k->...ijk"):
        _same(ops.einsum(spec, x, y), np.einsum(spec, x, y))
    _same(ops.einsum(",ijk", 5, y), np.einsum(",ijk", 5, y))


def test_shape_cases_from_keras():
    x = np.array([[1, 2, 3], [3, 2, 1]])
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_reshape
    _same(ops.reshape(x, [3, 2]), np.reshape(x, [3, 2]))
    _same(ops.reshape(x, -1), np.reshape(x, -1))
    _same(ops.reshape(x, 6), np.reshape(x, 6))
    # ::test_reshape_rejects_invalid_newshape
    with pytest.raises(ValueError, match=r"non-negative integer.*-1.*newshape=\(-2, 5\)"):
        ops.reshape(np.zeros(20, "float32"), (-2, 5))
    with pytest.raises(ValueError, match=r"at most one unknown dimension.*newshape=\(-1, -1, 5\)"):
        ops.reshape(np.zeros(20, "float32"), (-1, -1, 5))
    with pytest.raises(ValueError):
        ops.reshape(np.zeros(20), (3, 7))
    # ::test_transpose
    y = np.ones([1, 2, 3, 4, 5])
    _same(ops.transpose(y), np.transpose(y))
    _same(ops.transpose(y, axes=(1, 0, 3, 2, 4)), np.transpose(y, axes=(1, 0, 3, 2, 4)))
    _same(ops.transpose(y, axes=(-4, -5, -2, -3, -1)), np.transpose(y, (-4, -5, -2, -3, -1)))
    # ::test_expand_dims
    y = np.ones([2, 3, 4])
    for axis in (0, 1, -2, (1, 2), (-1, -2), (-1, 1)):
        _same(ops.expand_dims(y, axis), np.expand_dims(y, axis))
    # ::test_squeeze
    y = np.ones([1, 3, 1, 5])
    _same(ops.squeeze(y), np.squeeze(y))
    _same(ops.squeeze(y, axis=0), np.squeeze(y, axis=0))
    y = np.ones([2, 1, 1, 1])
    for axis in ((1, 2), (-1, -2), (1, 2, 3), (-1, 1)):
        _same(ops.squeeze(y, axis), np.squeeze(y, axis))
    # ::test_concatenate, ::test_stack
    y = np.array([[4, 5, 6], [6, 5, 4]])
    z = np.array([[7, 8, 9], [9, 8, 7]])
    _same(ops.concatenate([x, y], axis=0), np.concatenate([x, y], axis=0))
    _same(ops.concatenate([x, y, z], axis=0), np.concatenate([x, y, z], axis=0))
    _same(ops.concatenate([x, y], axis=1), np.concatenate([x, y], axis=1))
    _same(ops.stack([x, y]), np.stack([x, y]))
    _same(ops.stack([x, y], axis=1), np.stack([x, y], axis=1))
    # ::test_broadcast_to
    _same(ops.broadcast_to(x, [2, 2, 3]), np.broadcast_to(x, [2, 2, 3]))
    # ::test_tile (and repeats longer and shorter than the rank)
    for reps in (2, [2, 3], [2, 3, 4], [2]):
        _same(ops.tile(x, reps), np.tile(x, reps))
    # ::test_repeat
    x2 = np.array([[1, 2], [3, 4]])
    _same(ops.repeat(x2, 2), np.repeat(x2, 2))
    _same(ops.repeat(x2, 3, axis=1), np.repeat(x2, 3, axis=1))
    _same(ops.repeat(x2, np.array([1, 2]), axis=-1), np.repeat(x2, np.array([1, 2]), axis=-1))
    # ::test_roll, ::test_flip, ::test_swapaxes
    _same(ops.roll(x, 1), np.roll(x, 1))
    _same(ops.roll(x, (1, 2), axis=(0, 1)), np.roll(x, (1, 2), axis=(0, 1)))
    _same(ops.flip(x, axis=[0, 1]), np.flip(x, axis=(0, 1)))
    w = np.arange(24).reshape([1, 2, 3, 4])
    _same(ops.swapaxes(w, 0, 1), np.swapaxes(w, 0, 1))
    _same(ops.moveaxis(w, 0, -1), np.moveaxis(w, 0, -1))
    _same(ops.ravel(w), np.ravel(w))
    _same(ops.hstack([x, y]), np.hstack([x, y]))
    _same(ops.vstack([x[0], y[0]]), np.vstack([x[0], y[0]]))


def test_split_cases_from_keras():
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_split
    x = np.array([[1, 2, 3], [3, 2, 1]])
    assert isinstance(ops.split(x, 2), list)
    for got, want in zip(ops.split(x, 2), np.split(x, 2)):
        _same(got, want)
    for got, want in zip(ops.split(x, [1, 2], axis=1), np.split(x, [1, 2], axis=1)):
        _same(got, want)
    with pytest.raises(ValueError):
        ops.split(x, 3)
    assert len(ops.split(np.ones((0,)), 2)) == 2
    # ::test_array_split
    for got, want in zip(ops.array_split(x, 3, axis=1), np.array_split(x, 3, axis=1)):
        _same(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "edge", "wrap"])
@pytest.mark.parametrize("constant_values", [None, 0, 2])
def test_pad_cases_from_keras(dtype, mode, constant_values):
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_pad
    x = (np.arange(6).reshape([2, 3]) % 5).astype(dtype)
    if mode != "constant":
        if constant_values is not None:
            with pytest.raises(ValueError, match="Argument `constant_values` can only be "
                                                 "provided when `mode == 'constant'`"):
                ops.pad(x, ((1, 1), (2, 2)), mode=mode, constant_values=constant_values)
            return
        kwargs = {}
    else:
        kwargs = {"constant_values": constant_values or 0}
    _same(ops.pad(x, ((1, 1), (2, 2)), mode=mode, constant_values=constant_values),
          np.pad(x, ((1, 1), (2, 2)), mode=mode, **kwargs))
    y = np.ones([2, 3, 4, 5, 6], dtype=dtype)
    for width in (((0, 0), (0, 0), (2, 3), (1, 1), (1, 1)), ((1, 1), (2, 1), (3, 2), (4, 3),
                                                             (5, 4))):
        _same(ops.pad(y, width, mode=mode, constant_values=constant_values),
              np.pad(y, width, mode=mode, **kwargs))


def test_max_min_prod_cases_from_keras():
    x = np.array([[1, 2, 3], [3, 2, 1]])
    # keras/src/ops/numpy_test.py::NumpyOneInputOpsCorrectnessTest::test_max / test_min
    _same(ops.max(x, initial=4), np.max(x, initial=4))
    _same(ops.min(x, initial=0), np.min(x, initial=0))
    e = np.array([[]])
    _same(ops.max(e, initial=1), np.max(e, initial=1))
    _same(ops.max(e, initial=1, keepdims=True), np.max(e, initial=1, keepdims=True))
    # ::test_prod (several axes)
    y = np.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    for axis in ((0, 1), (0, 2), (1, 2)):
        _same(ops.prod(y, axis=axis), np.prod(y, axis=axis))
    _same(ops.prod(y, dtype="float32"), np.prod(y, dtype="float32"))
    # ::test_mean (float16 overflow in the sum)
    h = np.array([65504, 65504, 65504], dtype="float16")
    _same(ops.mean(h), np.mean(h))


def test_indexing_cases_from_keras():
    # keras/src/ops/numpy_test.py::NumpyTwoInputOpsCorrectnessTest::test_take
    x = np.arange(24).reshape([1, 2, 3, 4])
    _same(ops.take(x, np.array([0, 1])), np.take(x, np.array([0, 1])))
    _same(ops.take(x, 0), np.take(x, 0))
    _same(ops.take(x, 0, axis=1), np.take(x, 0, axis=1))
    rng = np.random.default_rng(0)
    y = rng.standard_normal((2, 3, 4, 5))
    idx = rng.integers(0, 4, (6, 7))
    _same(ops.take(y, idx, axis=2), np.take(y, idx, axis=2))
    _same(ops.take(y, idx, axis=-2), np.take(y, idx, axis=-2))
    neg = rng.integers(-3, 0, (6, 7))
    _same(ops.take(y, neg, axis=2), np.take(y, neg, axis=2))
    with pytest.raises(TypeError, match="integers"):
        ops.take(y, np.array([0.5]))
    # ::test_take_along_axis
    idx = np.ones([1, 4, 1, 1], dtype=np.int32)
    _same(ops.take_along_axis(x, idx, axis=1), np.take_along_axis(x, idx, axis=1))
    z = np.arange(12).reshape([1, 1, 3, 4])
    _same(ops.take_along_axis(z, idx, axis=2), np.take_along_axis(z, idx, axis=2))
    flat = np.array([1, 2, 3], dtype=np.int32)
    _same(ops.take_along_axis(z, flat, axis=None), np.take_along_axis(z, flat, axis=None))
    neg = np.full([1, 4, 1, 1], -1, dtype=np.int32)
    _same(ops.take_along_axis(z, neg, axis=2), np.take_along_axis(z, neg, axis=2))
    # get_item: basic, advanced and boolean keys
    w = np.arange(60.0).reshape(3, 4, 5)
    for key in (1, np.s_[..., -1], np.s_[:, None, ...], np.s_[:2, 3:, 3:12:2],
                np.array([0, 0, 2]), (np.array([0, 2]), slice(None), [1, 1]), w > 30,
                np.s_[::-1, 1]):
        _same(ops.get_item(w, key), w[key])
    with pytest.raises(IndexError):
        ops.get_item(w, np.s_[:, 17, :])


def test_core_slices_and_scatters():
    x = np.arange(24.0).reshape(2, 3, 4)
    _same(ops.slice(x, (0, 1, 1), (2, 2, 3)), x[0:2, 1:3, 1:4].copy())
    with pytest.raises(ValueError, match="start"):
        ops.slice(x, (0, 1), (2, 2, 3))
    with pytest.raises(ValueError, match="does not fit"):
        ops.slice(x, (1, 1, 1), (2, 2, 3))
    u = -np.ones((1, 2, 2))
    got = ops.slice_update(x, (1, 0, 2), u)
    want = x.copy()
    want[1:2, 0:2, 2:4] = u
    _same(got, want)
    assert x[1, 0, 2] == 14.0           # the input is not modified
    # keras/src/ops/core_test.py::CoreOpsCorrectnessTest::test_scatter
    indices = np.array([[1, 0], [0, 1]])
    values = np.array([10.0, 20.0])
    _same(ops.scatter(indices, values, (2, 2)), np.array([[0.0, 20.0], [10.0, 0.0]]))
    # repeated indices add up
    _same(ops.scatter(np.array([[1], [1]]), np.array([1.0, 2.0]), (3,)), np.array([0, 3.0, 0]))
    base = np.zeros((2, 3))
    got = ops.scatter_update(base, np.array([[0, 1], [1, 2]]), np.array([5.0, 6.0]))
    _same(got, np.array([[0, 5.0, 0], [0, 0, 6.0]]))
    assert not base.any()
    parts = ops.unstack(x, axis=1)
    assert len(parts) == 3
    for i, p in enumerate(parts):
        _same(p, x[:, i])
    with pytest.raises(ValueError, match="num"):
        ops.unstack(x, num=2, axis=1)


def test_creation_ops():
    # Keras' defaults: zeros/ones/full/eye are floatx without a dtype
    for fn, ref in [(ops.zeros, np.zeros), (ops.ones, np.ones)]:
        _same(fn((2, 3)), ref((2, 3), np.float32))
        _same(fn((2,), dtype="int32"), ref((2,), np.int32))
    _same(ops.full((2, 2), 3), np.full((2, 2), 3, np.float32))
    _same(ops.full((2,), 7, dtype="int64"), np.full((2,), 7, np.int64))
    _same(ops.zeros_like(I32), np.zeros_like(I32))
    _same(ops.ones_like(F64, dtype="float32"), np.ones_like(F64, np.float32))
    _same(ops.full_like(I32, 4), np.full_like(I32, 4))
    _same(ops.eye(3), np.eye(3, dtype=np.float32))
    _same(ops.eye(3, 4, k=1, dtype="float64"), np.eye(3, 4, 1))
    _same(ops.identity(2), np.identity(2, np.float32))
    _same(ops.arange(5), np.arange(5))
    _same(ops.arange(1, 7, 2), np.arange(1, 7, 2))
    _same(ops.arange(0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25))
    _same(ops.arange(3, dtype="float32"), np.arange(3, dtype=np.float32))
    _same(ops.cast(F32, "int32"), F32.astype(np.int32))
    _same(ops.cast(I32, "float64"), I32.astype(np.float64))
    with pytest.raises(TypeError, match="dtype"):
        ops.cast(F32, "not_a_dtype")


def test_tracked_results_have_the_plain_value():
    # The recorded path computes what the plain path computes (values and dtype).
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    plain = ops.sum(ops.square(ops.transpose(x)) * 2, axis=0)
    with nncore.GradientTape() as tape:
        tape.watch(x)
        tracked = ops.sum(ops.square(ops.transpose(x)) * 2, axis=0)
    assert isinstance(tracked, nncore.Tensor)
    assert tracked.dtype == np.float32
    _same(np.asarray(tracked), plain)
    g = tape.gradient(tracked, x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 4 * x, rtol=1e-6)
