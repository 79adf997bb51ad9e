"""Python operators and NumPy protocols on ``nncore.Tensor`` and ``nncore.Variable``, and the
behaviour of ``nncore.GradientTape`` (TensorFlow's interface)."""

import gc
import weakref

import numpy as np
import pytest

import nncore
from nncore import ops


def _grad(fn, *xs):
    with nncore.GradientTape() as tape:
        tape.watch(list(xs))
        out = fn(*xs)
    return out, tape.gradient(out, list(xs))


def _fd(fn, x, eps=1e-6):
    """Finite-difference gradient of sum(fn(x)) (an independent reference)."""
    x = x.copy()
    g = np.zeros_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        o = flat[i]
        flat[i] = o + eps
        p = np.sum(np.asarray(fn(x)))
        flat[i] = o - eps
        m = np.sum(np.asarray(fn(x)))
        flat[i] = o
        gf[i] = (p - m) / (2 * eps)
    return g


X = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]])
Y = np.array([[1.5, 0.5, -2.0], [0.25, 1.0, 3.0]])

# Each expression is written with Python operators on a Tensor t (from ops.multiply(x, 1))
OPERATOR_CASES = {
    "add": lambda t: t + Y, "radd": lambda t: 2.0 + t, "sub": lambda t: t - Y,
    "rsub": lambda t: Y - t, "mul": lambda t: t * Y, "rmul": lambda t: 3 * t,
    "truediv": lambda t: t / (np.abs(Y) + 1), "rtruediv": lambda t: 1.0 / (t * t + 1),
    "pow": lambda t: (t * t + 1) ** 1.5, "rpow": lambda t: 2.0 ** t,
    "matmul": lambda t: t @ Y.T, "rmatmul": lambda t: Y.T @ t, "neg": lambda t: -t,
    "pos": lambda t: +t, "abs": lambda t: abs(t), "getitem": lambda t: t[1, ::-1],
    "getitem_advanced": lambda t: t[[0, 0, 1]], "T": lambda t: t.T @ Y,
    "reshape": lambda t: t.reshape(3, 2) * np.arange(6.0).reshape(3, 2),
    "transpose_method": lambda t: t.transpose(1, 0) * Y.T,
    "sum_method": lambda t: t.sum(axis=1) * np.array([1.0, 2.0]),
    "mean_method": lambda t: t.mean(axis=0, keepdims=True) * 3,
    "max_method": lambda t: t.max(axis=1), "min_method": lambda t: t.min(),
    "astype": lambda t: t.astype("float64") * Y,
    "iter": lambda t: sum(row * w for row, w in zip(t, [1.0, -2.0])),
}


@pytest.mark.parametrize("name", sorted(OPERATOR_CASES))
def test_tensor_operators_record_and_match_numpy(name):
    expr = OPERATOR_CASES[name]
    x = X.copy()
    out, (g,) = _grad(lambda v: expr(ops.multiply(v, 1.0)), x)
    assert isinstance(out, nncore.Tensor)
    np.testing.assert_allclose(np.asarray(out), expr(X.copy()), rtol=1e-12)
    np.testing.assert_allclose(g, _fd(lambda v: expr(v), x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(OPERATOR_CASES))
def test_variable_operators_record_inside_a_tape(name):
    expr = OPERATOR_CASES[name]
    v = nncore.Variable(X.copy(), name="v")
    with nncore.GradientTape() as tape:
        out = expr(v)
    assert isinstance(out, nncore.Tensor)     # +v too: its gradient is ones (TensorFlow)
    g = tape.gradient(out, v)
    np.testing.assert_allclose(g, _fd(lambda a: expr(a), X.copy()), rtol=1e-6, atol=1e-7)
    # Outside a tape the same expression is plain NumPy
    plain = expr(v)
    assert not isinstance(plain, nncore.Tensor)
    np.testing.assert_allclose(np.asarray(plain), expr(X.copy()), rtol=1e-12)


def test_non_differentiable_operators_give_plain_arrays():
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        t = ops.multiply(x, 1.0)
        for got, want in [(t > 0, X > 0), (t <= 0.5, X <= 0.5), (t == 2.0, X == 2.0),
                          (t != 2.0, X != 2.0), (t // 1, X // 1), (t % 1, X % 1),
                          (1 // t, 1 // X), (t >= Y, X >= Y), (t < Y, X < Y)]:
            assert type(got) is np.ndarray
            np.testing.assert_array_equal(got, want)
        assert float(t[0, 0]) == 0.5 and int(t[0, 2]) == 2 and bool(t[0, 2])
        assert len(t) == 2 and t.ndim == 2 and t.shape == (2, 3) and t.size == 6
        assert t.dtype == np.float64
        assert t.tolist() == X.tolist() and t[1, 1].item() == 0.75
        assert list(range(5))[ops.multiply(np.array(2), 1)] == 2      # __index__
        with pytest.raises(TypeError, match="0-d"):
            len(t[0, 0])
    assert "nncore.Tensor" in repr(t) and "float64" in repr(t)


def test_numpy_protocols():
    x = X.copy()
    with nncore.GradientTape(persistent=True) as tape:
        tape.watch(x)
        t = ops.multiply(x, 2.0)
        # ufuncs and functions with a differentiable op of the same name record
        recorded = {
            "exp": np.exp(t), "add": np.add(t, Y), "maximum": np.maximum(t, 0.0),
            "sum": np.sum(t, axis=1), "mean": np.mean(t), "concatenate": np.concatenate([t, Y]),
            "reshape": np.reshape(t, (6,)), "transpose": np.transpose(t), "where": np.where(
                X > 0, t, Y), "clip": np.clip(t, -1, 1), "stack": np.stack([t, t]),
            "matmul": np.matmul(t, Y.T), "tile": np.tile(t, 2), "take": np.take(t, [0, 2], 1),
        }
        # other NumPy functions see the value
        other = np.cumprod(t, axis=1)
        as_array = np.asarray(t)
    for name, r in recorded.items():
        assert isinstance(r, nncore.Tensor), name
        g = tape.gradient(r, x)
        assert g is not None and g.shape == x.shape, name
    assert type(other) is np.ndarray
    np.testing.assert_allclose(other, np.cumprod(2 * X, axis=1))
    assert type(as_array) is np.ndarray and as_array is t.value
    np.testing.assert_allclose(np.array(t, dtype=np.float32), (2 * X).astype(np.float32))
    copied = np.array(t, copy=True)
    copied[0, 0] = 99.0
    assert t.value[0, 0] == 1.0
    np.testing.assert_allclose(tape.gradient(recorded["exp"], x), 2 * np.exp(2 * X))
    # a ufunc's out= works on values (not recorded)
    buf = np.empty_like(X)
    np.add(t, 1.0, out=buf)
    np.testing.assert_allclose(buf, 2 * X + 1)


def test_operators_of_a_watched_ndarray_are_numpy_s():
    # A watched array stays an np.ndarray: ``x * 2`` is NumPy's product and is not recorded;
    # the ops (or a Tensor made from it) are.
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        assert type(x * 2) is np.ndarray
        out = ops.sum(ops.multiply(x, 2))
    np.testing.assert_allclose(tape.gradient(out, x), np.full_like(X, 2))


def test_watch_returns_tracked_values_for_operators():
    x, y = X.copy(), {"w": Y.copy()}
    with nncore.GradientTape() as tape:
        tx, ty = tape.watch([x, y])
        assert isinstance(tx, nncore.Tensor) and isinstance(ty["w"], nncore.Tensor)
        out = ((tx * ty["w"]) ** 2).sum()
    # the gradient is asked for with the arrays or with the returned Tensors alike
    gx, gw = tape.gradient(out, [x, y["w"]])
    np.testing.assert_allclose(gx, 2 * X * Y * Y)
    np.testing.assert_allclose(gw, 2 * X * X * Y)


def test_plain_arrays_outside_any_tape_are_plain():
    for out in (ops.add(X, Y), ops.exp(X), ops.sum(X, axis=0), ops.matmul(X, Y.T),
                ops.reshape(X, (3, 2)), ops.get_item(X, [0, 0]), ops.concatenate([X, Y]),
                ops.max(X, axis=1), ops.where(X > 0, X, Y), ops.stack([X, Y]),
                ops.take(X, [1], axis=1), ops.pad(X, 1), ops.tile(X, 2)):
        assert type(out) is np.ndarray
    for piece in ops.split(X, 3, axis=1):
        assert type(piece) is np.ndarray
    assert not isinstance(ops.sum(X), nncore.Tensor)
    # inside a tape, arrays that are not watched stay plain too
    with nncore.GradientTape():
        assert type(ops.exp(X)) is np.ndarray
        assert type(X * 2) is np.ndarray


# -- GradientTape ---------------------------------------------------------------------------------
def test_watch_and_nested_source_structures():
    a, b, c = X.copy(), Y.copy(), np.array([0.5, 2.0])
    with nncore.GradientTape() as tape:
        tape.watch({"a": a, "rest": [b, (c,)]})
        # a watched array is a plain ndarray: its own operators are NumPy's, so ops are used
        out = ops.sum(ops.multiply(a, b)) + ops.sum(ops.square(c))
    grads = tape.gradient(out, {"a": a, "rest": [b, (c,)]})
    assert set(grads) == {"a", "rest"} and isinstance(grads["rest"], list)
    assert isinstance(grads["rest"][1], tuple)
    np.testing.assert_allclose(grads["a"], Y)
    np.testing.assert_allclose(grads["rest"][0], X)
    np.testing.assert_allclose(grads["rest"][1][0], 2 * c)


def test_target_structure_and_output_gradients():
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        t1 = ops.sum(ops.multiply(x, 2))
        t2 = ops.square(x)
    w = np.arange(6.0).reshape(2, 3)
    g = tape.gradient([t1, t2], x, output_gradients=[np.float64(3.0), w])
    np.testing.assert_allclose(g, 6.0 + 2 * X * w)


def test_unconnected_gradients():
    x, unused = X.copy(), Y.copy()
    with nncore.GradientTape(persistent=True) as tape:
        tape.watch([x, unused])
        out = ops.sum(ops.exp(x))
    gx, gu = tape.gradient(out, [x, unused])
    assert gu is None
    np.testing.assert_allclose(gx, np.exp(X))
    _, gu = tape.gradient(out, [x, unused], unconnected_gradients="zero")
    assert gu.shape == unused.shape and gu.dtype == unused.dtype and not gu.any()
    # a source never watched at all is unconnected as well
    assert tape.gradient(out, Y.copy()) is None
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(out, x, unconnected_gradients="nan")


def test_second_gradient_call_on_a_non_persistent_tape_raises():
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        out = ops.sum(x * x)
    tape.gradient(out, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(out, x)


def test_persistent_tape_gives_gradients_several_times():
    x = X.copy()
    with nncore.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.exp(x)
        z = ops.sum(y * y)
    g1 = tape.gradient(z, x)
    g2 = tape.gradient(z, x)
    g3 = tape.gradient(y, x)
    np.testing.assert_allclose(g1, 2 * np.exp(2 * X))
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(g3, np.exp(X))


def test_memory_is_freed_after_gradient():
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.exp(x)            # its VJP keeps its output
        out = ops.sum(ops.log1p(y))
    saved = weakref.ref(y.value)
    del y
    gc.collect()
    assert saved() is not None    # held by the recording until the gradient is computed
    tape.gradient(out, x)
    gc.collect()
    assert saved() is None


def test_persistent_tape_keeps_what_it_recorded():
    x = X.copy()
    with nncore.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.exp(x)
        out = ops.sum(y)
    saved = weakref.ref(y.value)
    del y
    tape.gradient(out, x)
    gc.collect()
    assert saved() is not None


def test_variables_are_tracked_automatically():
    w = nncore.Variable(np.array([[1.0, -2.0], [0.5, 3.0]]), name="w")
    b = nncore.Variable(np.array([0.1, -0.2]), name="b")
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with nncore.GradientTape() as tape:
        out = ops.sum(ops.square(ops.matmul(x, w) + b))
    assert tape.watched_variables() == []  # tracked without watch
    gw, gb = tape.gradient(out, [w, b])
    h = x @ w.value + b.value
    np.testing.assert_allclose(gw, x.T @ (2 * h))
    np.testing.assert_allclose(gb, np.sum(2 * h, axis=0))
    # the gradient has the Variable's dtype
    v32 = nncore.Variable(np.ones(3, np.float32), name="v32")
    with nncore.GradientTape() as tape:
        out = ops.sum(v32 * np.float32(2.0))
    g = tape.gradient(out, v32)
    assert g.dtype == np.float32 and np.all(g == 2)


def test_watch_accessed_variables_false():
    v = nncore.Variable(np.array([1.0, 2.0]), name="v")
    u = nncore.Variable(np.array([3.0, 4.0]), name="u")
    with nncore.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(u)
        out = ops.sum(v * u)
    gv, gu = tape.gradient(out, [v, u])
    assert gv is None
    np.testing.assert_allclose(gu, [1.0, 2.0])
    assert tape.watched_variables() == [u]


def test_non_trainable_variables_are_not_tracked_automatically():
    # TensorFlow's tape watches trainable variables only.
    v = nncore.Variable(np.array([1.0, 2.0]), trainable=False, name="frozen")
    with nncore.GradientTape() as tape:
        out = ops.sum(v * v)
    assert tape.gradient(out, v) is None


def test_stop_recording():
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.exp(x)
        with tape.stop_recording():
            side = ops.exp(x)
            assert type(side) is np.ndarray
        out = ops.sum(y) + ops.sum(side)
    np.testing.assert_allclose(tape.gradient(out, x), np.exp(X))


def test_stop_gradient_cuts_the_recording():
    x = X.copy()
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.square(x)
        out = ops.sum(y * ops.stop_gradient(y))
    np.testing.assert_allclose(tape.gradient(out, x), 2 * X * X ** 2)


def test_watch_rejects_what_has_no_gradient():
    with nncore.GradientTape() as tape:
        with pytest.raises(TypeError, match="float"):
            tape.watch(np.array([1, 2, 3]))
        with pytest.raises(TypeError, match="arrays and Variables"):
            tape.watch("x")


def test_watch_outside_the_block_then_reenter():
    x = X.copy()
    tape = nncore.GradientTape()
    tape.watch(x)
    with tape:
        out = ops.sum(ops.multiply(x, 3))
    np.testing.assert_allclose(tape.gradient(out, x), np.full_like(X, 3))
    # after the block the array is no longer tracked
    assert type(ops.exp(x)) is np.ndarray


def test_nested_tapes_see_their_own_watches():
    x, y = X.copy(), Y.copy()
    with nncore.GradientTape() as outer:
        outer.watch(x)
        with nncore.GradientTape() as inner:
            inner.watch(y)
            out = ops.sum(ops.multiply(x, y))
        gy = inner.gradient(out, y)
    np.testing.assert_allclose(gy, X)
    np.testing.assert_allclose(outer.gradient(out, x), Y)


def test_two_tapes_over_one_computation():
    # TensorFlow's GAN pattern: two tapes record one forward pass, each differentiates its loss.
    g = nncore.Variable(np.array([1.0, 2.0]), name="g")
    d = nncore.Variable(np.array([3.0, 4.0]), name="d")
    with nncore.GradientTape() as g_tape, nncore.GradientTape() as d_tape:
        score = ops.multiply(ops.multiply(g, 2.0), d)
        g_loss = ops.sum(score)
        d_loss = ops.sum(ops.square(score)) + ops.sum(d)
    np.testing.assert_allclose(g_tape.gradient(g_loss, g), 2 * d.value)
    expected = 2 * (2 * g.value * d.value) * 2 * g.value + 1
    np.testing.assert_allclose(d_tape.gradient(d_loss, d), expected)


def test_gradient_accumulates_over_reused_values():
    x = np.array([1.0, 2.0, 3.0])
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.multiply(x, 2.0)
        out = ops.sum(y * y + y + ops.get_item(y, 0))
    # y[0] is broadcast to the 3 elements of the sum: 3 * 2 more for x[0]
    np.testing.assert_allclose(tape.gradient(out, x), 8 * x + 2 + np.array([6.0, 0, 0]))
