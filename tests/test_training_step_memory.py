"""What a training step keeps alive: values dropped after their last reader, gradients after their
step, layer caches after their backward; ReLU and ReLU(6.) keep only their output. None of it may
change a single number of the step."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncore
from nncore import layers as L
from nncore import optimizers


def residual_model(seed=0, act=lambda: L.ReLU(6.0)):
    """Conv, BN, ReLU6 twice with a residual Add, a shared Dense read by two branches and an
    intermediate tensor that is also a model output."""
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(6, 6, 3))
    h = L.Conv2D(4, 3, padding="same", use_bias=False)(inp)
    h = L.BatchNormalization()(h)
    h = act()(h)
    g = L.Conv2D(4, 3, padding="same")(h)
    g = L.BatchNormalization()(g)
    h = L.Activation("relu")(L.Add()([h, g]))
    pooled = L.GlobalAveragePooling2D()(h)
    shared = L.Dense(4, activation="relu", name="shared")
    z = L.Add()([shared(pooled), shared(L.Dense(4)(pooled))])
    out = L.Dense(3, activation="softmax", name="probs")(z)
    return nncore.Model(inp, [out, pooled])


def compiled(model):
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss=["sparse_categorical_crossentropy", "mse"])
    return model


def data(seed=0, n=8):
    r = np.random.default_rng(seed)
    x = (3 * r.standard_normal((n, 6, 6, 3))).astype(np.float32)
    return x, [r.integers(0, 3, n), r.standard_normal((n, 4)).astype(np.float32)]


def reference_grads(model, x, ys):
    """Gradients of one step through the graph without any release (the way before)."""
    for w in model.trainable_weights:
        w.grad = np.zeros_like(w.value)
    outs = model._graph.forward([x], True, model._fused_outputs)
    _, grads = model._loss_step(outs, ys, training=True)
    model._graph.backward(grads)
    return [w.grad.copy() for w in model.trainable_weights]


def test_train_steps_match_steps_that_release_nothing():
    x, ys = data()
    a, b = compiled(residual_model()), compiled(residual_model())
    for _ in range(3):
        a.train_on_batch(x, ys)
        # The same SGD-with-momentum step written out from gradients that keep every array.
        g = reference_grads(b, x, ys)
        opt = b.optimizer
        for w, gw in zip(b.trainable_weights, g):
            w.grad = gw
        opt.apply(b._opt_vars)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_a_training_step_leaves_no_layer_cache_behind():
    x, ys = data()
    model = compiled(residual_model())
    model.train_on_batch(x, ys)
    kept = [layer.name for layer in model.layers if getattr(layer, "_cache", None) is not None]
    assert kept == []
    # ...and the next step still trains (nothing read a released cache).
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, ys)
    assert any(not np.array_equal(p, q) for p, q in zip(before, model.get_weights()))


def test_forward_keeps_intermediate_outputs_and_backward_can_run_twice():
    x, ys = data()
    model = compiled(residual_model())
    probs, pooled = model._graph.forward([x], True)
    assert probs.shape == (8, 3) and pooled.shape == (8, 4)
    first = reference_grads(model, x, ys)
    again = reference_grads(model, x, ys)  # no release: a second backward of the same forward
    for p, q in zip(first, again):
        np.testing.assert_array_equal(p, q)


def test_relu_layers_keep_only_their_output():
    x = np.linspace(-8, 8, 48, dtype=np.float32).reshape(2, 24)
    for layer in (L.ReLU(), L.ReLU(6.0), L.Activation("relu"), L.ReLU(max_value=6)):
        layer.forward(x, training=True)
        kept_input, y, _ = layer._cache
        assert kept_input is None and y is not None
    for layer in (L.ReLU(5.0), L.ReLU(negative_slope=0.1), L.ReLU(threshold=1.0),
                  L.Activation("tanh")):
        layer.forward(x, training=True)
        assert layer._cache[0] is not None or layer._cache[1] is not None


def numpy_relu6(x):
    return np.minimum(np.where(x > 0, x, 0), 6).astype(x.dtype)


def numpy_relu6_grad(g, x):
    return (g * ((x > 0) & (x < 6))).astype(g.dtype)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([np.float32, np.float64]), st.integers(1, 5), st.integers(1, 40),
       st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_relu6_layer_against_numpy(isa, dtype_, rows, cols, threads, seed):
    r = np.random.default_rng(seed)
    x = (5 * r.standard_normal((rows, cols))).astype(dtype_)
    x.flat[::7] = 6.0  # the kinks: the derivative is 0 at x == 0 and x == 6, as Keras'
    x.flat[3::11] = 0.0
    g = r.standard_normal((rows, cols)).astype(dtype_)
    nncore.set_num_threads(threads)
    try:
        layer = L.ReLU(6.0)
        y = layer.forward(x, training=True)
        dx = layer.backward(g)
    finally:
        nncore.set_num_threads(2)
    assert y.dtype == dtype_ and dx.dtype == dtype_
    np.testing.assert_array_equal(y, numpy_relu6(x))
    np.testing.assert_array_equal(dx, numpy_relu6_grad(g, x))


def test_relu6_layer_gradcheck_float64():
    r = np.random.default_rng(1)
    inp = nncore.Input(shape=(5,))
    out = L.Dense(2)(L.ReLU(6.0)(L.Dense(7)(inp)))
    model = nncore.Model(inp, out)
    model.compile(optimizer="sgd", loss="mse")
    x = 4 * r.standard_normal((6, 5))
    assert nncore.gradcheck(model, (x, r.standard_normal((6, 2))))


def test_relu6_config_round_trip_is_unchanged():
    layer = L.ReLU(6.0, name="r6")
    cfg = layer.get_config()
    assert cfg["max_value"] == 6.0 and cfg["negative_slope"] == 0.0 and cfg["threshold"] == 0.0
    again = L.ReLU.from_config(copy.deepcopy(cfg))
    x = np.linspace(-9, 9, 10, dtype=np.float32)
    np.testing.assert_array_equal(again.forward(x), layer.forward(x))


def _rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def test_gradients_of_a_model_that_only_predicts_take_no_memory():
    if _rss_bytes() is None:
        import pytest

        pytest.skip("needs /proc/self/status (Linux)")
    before = _rss_bytes()
    inp = nncore.Input(shape=(8192,))
    dense = L.Dense(2048)
    model = nncore.Model(inp, dense(inp))
    grown = _rss_bytes() - before
    kernel = dense.kernel
    assert kernel.grad.shape == kernel.value.shape and kernel.grad.dtype == kernel.value.dtype
    assert kernel.grad.flags.c_contiguous and not kernel.grad.any()
    # The 64 MiB kernel is resident; its gradient is not until something writes it.
    assert grown < 1.5 * kernel.value.nbytes, grown
    model.predict(np.ones((1, 8192), np.float32), verbose=0)
