"""nncore.gradcheck itself: it accepts correct gradients, catches wrong ones (naming the worst
element), leaves the checked objects as they were, and covers every form it takes."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L


def rng():
    return np.random.default_rng(7)


# ---------------------------------------------------------------------- functions
def test_value_and_grads_function_passes_and_fails():
    def good(a, b):
        return float(np.sum(a * b) + np.sum(np.sin(a))), (b + np.cos(a), a)

    def bad(a, b):
        value, (ga, gb) = good(a, b)
        gb = gb.copy()
        gb[1, 2] += 0.01
        return value, (ga, gb)

    a, b = rng().standard_normal((2, 3, 4))
    assert nncore.gradcheck(good, (a, b)) is True
    with pytest.raises(nncore.GradcheckError, match=r"input 1\[1, 2\] analytic .* numeric") as info:
        nncore.gradcheck(bad, (a, b))
    assert isinstance(info.value, AssertionError)
    assert "1 of 24" in str(info.value)


def test_forward_backward_pair():
    def forward(x):
        return np.tanh(x) * 2.0

    def backward(g, x):
        return (g * 2.0 * (1 - np.tanh(x) ** 2),)

    def wrong_backward(g, x):
        return (g * (1 - np.tanh(x) ** 2),)

    x = rng().standard_normal((3, 5))
    assert nncore.gradcheck((forward, backward), x)
    with pytest.raises(nncore.GradcheckError, match="function 'forward'"):
        nncore.gradcheck((forward, wrong_backward), x)


def test_seed_001_hand_worked_example():
    # f(x, w) = 1 + exp(w1 * x + w0), the backprop example of the lecture.
    def f(x, w):
        e = np.exp(w[1] * x + w[0])
        return float(np.sum(1 + e)), (w[1] * e, np.array([np.sum(e), np.sum(x * e)]))

    assert nncore.gradcheck(f, (np.array([-1.0, 2.0]), np.array([-3.0, 2.0])))


def test_tolerances_are_respected():
    def slightly_off(x):
        return float(np.sum(x ** 2)), 2 * x * (1 + 1e-4)

    x = np.linspace(0.5, 1.5, 6)
    assert nncore.gradcheck(slightly_off, x, rtol=1e-3)
    with pytest.raises(nncore.GradcheckError, match=r"rtol=1e-05"):
        nncore.gradcheck(slightly_off, x, rtol=1e-5, atol=1e-9)


def test_inputs_are_checked_in_float64_and_not_modified():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return float(np.sum(x ** 3)), 3 * x ** 2

    x = np.arange(4, dtype=np.float32).reshape(2, 2)
    copy = x.copy()
    assert nncore.gradcheck(f, x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x, copy)


def test_bad_arguments():
    with pytest.raises(TypeError, match="gradcheck"):
        nncore.gradcheck(42, np.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        nncore.gradcheck(lambda x: (x, x), np.ones(2))
    with pytest.raises(ValueError, match="2 inputs but 1 gradients"):
        nncore.gradcheck(lambda a, b: (float(np.sum(a * b)), b), (np.ones(2), np.ones(2)))
    with pytest.raises(TypeError, match="numeric"):
        nncore.gradcheck(lambda x: (0.0, x), np.array(["a"]))


# ---------------------------------------------------------------------- layers
class Square(L.Layer):
    """y = w * x**2 (elementwise weight); ``bug`` breaks one of its gradients."""

    def __init__(self, bug=None, **kwargs):
        super().__init__(**kwargs)
        self.bug = bug

    def build(self, input_shape):
        self.w = self.add_weight("w", input_shape[1:], initializer="ones")
        super().build(input_shape)

    def forward(self, x, training=False):
        self._cache = x
        return self.w.value * x * x

    def backward(self, grad_out):
        x = self._cache
        gw = (grad_out * x * x).sum(axis=0)
        if self.bug == "weight":
            gw = gw * 1.5
        self.w.grad += gw
        gx = grad_out * 2 * self.w.value * x
        if self.bug == "input":
            gx = gx + 0.1
        return gx

    def get_config(self):
        return {**super().get_config(), "bug": self.bug}


def test_custom_layer_correct_and_buggy():
    x = rng().standard_normal((3, 4))
    layer = Square(dtype="float64")
    layer.build((None, 4))
    layer.w.assign(rng().uniform(0.5, 2.0, 4))
    assert nncore.gradcheck(layer, x)
    bad_w = Square(bug="weight", name="bad", dtype="float64")
    with pytest.raises(nncore.GradcheckError, match=r"worst: bad/w\["):
        nncore.gradcheck(bad_w, x)
    bad_x = Square(bug="input", dtype="float64")
    with pytest.raises(nncore.GradcheckError, match=r"worst: input\["):
        nncore.gradcheck(bad_x, x)


def test_float32_layer_is_checked_through_a_float64_clone():
    layer = L.Dense(3, name="d32")
    x = rng().standard_normal((4, 5)).astype(np.float32)
    layer(x)
    before = [w.copy() for w in layer.get_weights()]
    layer.kernel.grad[...] = 7.0
    assert nncore.gradcheck(layer, x)
    assert layer.dtype == np.float32
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.all(layer.kernel.grad == 7.0)


def test_float32_buggy_layer_fails_through_the_clone():
    layer = Square(bug="weight", name="sq32")
    x = rng().standard_normal((2, 3)).astype(np.float32)
    layer(x)
    with pytest.raises(nncore.GradcheckError, match=r"sq32.*float64 clone.*sq32/w"):
        nncore.gradcheck(layer, x)


def test_unbuilt_layer_is_built_from_the_inputs():
    assert nncore.gradcheck(L.Dense(2, dtype="float64"), rng().standard_normal((3, 4)))


def test_batch_norm_training_mode_and_state_is_restored():
    bn = L.BatchNormalization(dtype="float64")
    x = rng().standard_normal((6, 3)) * 2 + 1
    bn(x)
    bn.gamma.assign([0.5, 1.0, 2.0])
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    assert nncore.gradcheck(bn, x, training=True)
    assert nncore.gradcheck(bn, x, training=False)
    np.testing.assert_array_equal(bn.moving_mean.value, mm)
    np.testing.assert_array_equal(bn.moving_variance.value, mv)


def test_dropout_training_mode_keeps_one_mask():
    drop = L.Dropout(0.4, seed=3, dtype="float64")
    x = rng().standard_normal((5, 6))
    drop(x)
    state = drop.get_rng_state()
    assert nncore.gradcheck(drop, x, training=True)
    assert drop.get_rng_state() == state


def test_multi_input_layer_names_each_input():
    a, b = rng().standard_normal((2, 3, 4))
    assert nncore.gradcheck(L.Add(dtype="float64"), [a, b])
    assert nncore.gradcheck(L.Concatenate(dtype="float64"), [a, b[:, :2]])


# ---------------------------------------------------------------------- models
def small_model(bug=None):
    nncore.set_seed(3)
    inp = nncore.Input(shape=(4,))
    h = L.Dense(5, activation="tanh")(inp)
    h = Square(bug=bug, name="sq")(h)
    out = L.Dense(3, activation="softmax")(h)
    return nncore.Model(inp, out)


def test_model_forward_backward_and_compiled_loss():
    x = rng().standard_normal((6, 4))
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    model = small_model()
    assert nncore.gradcheck(model, x)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert nncore.gradcheck(model, (x, y))
    assert nncore.gradcheck(model, (x, y), training=True)
    with pytest.raises(nncore.GradcheckError, match=r"compiled loss.*sq/w"):
        buggy = small_model(bug="weight")
        buggy.compile(optimizer="sgd", loss="categorical_crossentropy")
        nncore.gradcheck(buggy, (x, y))


def test_model_loss_mode_needs_compile():
    model = small_model()
    with pytest.raises(ValueError, match="compiled"):
        nncore.gradcheck(model, (np.ones((2, 4)), np.ones((2, 3))), loss=True)


def test_multi_input_model_forward_backward():
    a = nncore.Input(shape=(3,))
    b = nncore.Input(shape=(3,))
    shared = L.Dense(3, activation="tanh", dtype=None)
    out = L.Add()([shared(a), shared(b)])
    model = nncore.Model([a, b], out)
    xa, xb = rng().standard_normal((2, 4, 3))
    assert nncore.gradcheck(model, [xa, xb])


def test_sequential_compiled_before_it_was_built():
    nncore.set_seed(0)
    model = nncore.Sequential([L.Dense(4, activation="tanh"), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng().standard_normal((5, 3)).astype(np.float32)
    assert nncore.gradcheck(model, (x, np.zeros((5, 2))))


def test_float32_layer_built_for_unknown_dimensions_is_cloned():
    layer = L.Dense(3)
    layer(nncore.Input(shape=(None, 4)))  # built for (None, None, 4)
    assert nncore.gradcheck(layer, rng().standard_normal((2, 5, 4)).astype(np.float32))
