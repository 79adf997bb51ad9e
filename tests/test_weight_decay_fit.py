"""Weight decay exclusion, per-weight clipnorm and constraints when a model packs its weights
into one flat buffer: the optimizer is told the packed Variables with
``set_variable_segments(flat, variables)`` and must treat each segment as that variable."""

import numpy as np
import pytest

import nncore
from nncore import optimizers
from nncore.errors import ShapeError
from nncore.variables import Variable


def make_weights(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    kernel = Variable(rng.normal(size=(3, 2)).astype(dtype), name="dense/kernel")
    bias = Variable(rng.normal(size=(2,)).astype(dtype), name="dense/bias")
    kernel2 = Variable(rng.normal(size=(2, 1)).astype(dtype), name="dense_1/kernel")
    bias2 = Variable(rng.normal(size=(1,)).astype(dtype), name="dense_1/bias")
    return [kernel, bias, kernel2, bias2]


def pack(vars_):
    """What the trainer does: every weight becomes a view of one flat value and grad buffer."""
    total = sum(v.size for v in vars_)
    params = np.empty(total, vars_[0].dtype)
    grads = np.zeros(total, vars_[0].dtype)
    offset = 0
    for v in vars_:
        n = v.size
        v._reseat(params[offset:offset + n].reshape(v.shape),
                  grads[offset:offset + n].reshape(v.shape))
        offset += n
    return Variable.wrap(params, grads, name="model/weights")


@pytest.mark.parametrize("make_opt", [
    lambda: optimizers.AdamW(learning_rate=0.1, weight_decay=0.2),
    lambda: optimizers.SGD(learning_rate=0.1, weight_decay=0.2),
    lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.2),
], ids=["adamw", "sgd", "sgd_momentum"])
@pytest.mark.parametrize("exclude", ["names", "list"])
def test_excluded_bias_keeps_its_value_and_kernels_decay_exactly(make_opt, exclude):
    vars_ = make_weights()
    kernel, bias, kernel2, bias2 = vars_
    start = [v.numpy() for v in vars_]
    flat = pack(vars_)
    opt = make_opt()
    if exclude == "names":
        opt.exclude_from_weight_decay(var_names=["bias"])
    else:
        opt.exclude_from_weight_decay(var_list=[bias, bias2])
    opt.set_variable_segments(flat, vars_)
    ref_kernel, ref_kernel2 = start[0].copy(), start[2].copy()
    keep = 1.0 - 0.1 * 0.2
    for _ in range(4):
        flat.grad.fill(0)                     # only the decay moves the weights
        opt.apply([flat])
        ref_kernel = ref_kernel * keep
        ref_kernel2 = ref_kernel2 * keep
        np.testing.assert_array_equal(kernel.value, ref_kernel)
        np.testing.assert_array_equal(kernel2.value, ref_kernel2)
        np.testing.assert_array_equal(bias.value, start[1])
        np.testing.assert_array_equal(bias2.value, start[3])
    assert opt.iterations == 4


def test_packed_adamw_matches_a_numpy_reference_per_weight():
    vars_ = make_weights(seed=1)
    refs = [v.numpy() for v in vars_]
    flat = pack(vars_)
    lr, wd, b1, b2, eps = 0.05, 0.1, 0.9, 0.999, 1e-7
    opt = optimizers.AdamW(learning_rate=lr, weight_decay=wd)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.set_variable_segments(flat, vars_)
    m = [np.zeros_like(r) for r in refs]
    v = [np.zeros_like(r) for r in refs]
    rng = np.random.default_rng(2)
    for t in range(1, 6):
        grads = [rng.normal(size=r.shape) for r in refs]
        for var, g in zip(vars_, grads):
            var.grad[...] = g
        opt.apply([flat])
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for i, (var, g) in enumerate(zip(vars_, grads)):
            if "bias" not in var.name:
                refs[i] = refs[i] - refs[i] * wd * lr
            m[i] = m[i] + (g - m[i]) * (1 - b1)
            v[i] = v[i] + (g * g - v[i]) * (1 - b2)
            refs[i] = refs[i] - alpha * m[i] / (np.sqrt(v[i]) + eps)
            np.testing.assert_allclose(var.value, refs[i], rtol=1e-12, atol=1e-14)


def test_clipnorm_is_per_segment_with_variables_or_sizes():
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=s) * k for s, k in (((3, 2), 10.0), ((2,), 0.01), ((2, 1), 3.0),
                                                 ((1,), 0.5))]
    results = []
    for form in ("variables", "sizes", "unpacked"):
        vars_ = make_weights(seed=4)
        opt = optimizers.SGD(learning_rate=1.0, clipnorm=1.0)
        if form == "unpacked":
            for _ in range(2):
                opt.apply_gradients(zip(grads, vars_))
        else:
            flat = pack(vars_)
            opt.set_variable_segments(flat, vars_ if form == "variables" else [v.size for v in vars_])
            for _ in range(2):
                for var, g in zip(vars_, grads):
                    var.grad[...] = g
                opt.apply([flat])
        results.append([var.numpy() for var in vars_])
    start = [v.numpy() for v in make_weights(seed=4)]
    for i, g in enumerate(grads):
        norm = np.sqrt(np.sum(g * g))
        expected = start[i] - 2 * (g * min(1.0, 1.0 / norm))
        for got in results:
            np.testing.assert_allclose(got[i], expected, rtol=1e-12)


def test_segment_constraint_is_applied_once_per_step_after_the_update():
    calls = []

    def halve(w):
        # Not idempotent: applying it twice in a step would show.
        calls.append(w.shape)
        return w * 0.5

    packed = make_weights(seed=5)
    plain = make_weights(seed=5)
    for vs in (packed, plain):
        vs[0].constraint = halve
        vs[3].constraint = nncore.constraints.NonNeg()
    flat = pack(packed)
    opt = optimizers.Adam(learning_rate=0.1)
    opt.set_variable_segments(flat, packed)
    ref_opt = optimizers.Adam(learning_rate=0.1)
    rng = np.random.default_rng(6)
    for step in range(3):
        grads = [rng.normal(size=v.shape) for v in packed]
        for var, g in zip(packed, grads):
            var.grad[...] = g
        opt.apply([flat])
        ref_opt.apply_gradients(zip(grads, plain))
        for a, b in zip(packed, plain):
            np.testing.assert_allclose(a.value, b.value, rtol=1e-12, atol=1e-15)
    # Once per step for each optimizer, always with the kernel's own shape.
    assert calls == [(3, 2)] * 6
    assert packed[3].value.min() >= 0


def test_segment_arguments_are_checked():
    vars_ = make_weights()
    flat = pack(vars_)
    opt = optimizers.SGD()
    with pytest.raises(ShapeError, match="segment sizes sum to 10"):
        opt.set_variable_segments(flat, vars_[:3])
    with pytest.raises(TypeError, match="mix"):
        opt.set_variable_segments(flat, [vars_[0], 2, 2, 1])
    with pytest.raises(TypeError, match="integers or Variables"):
        opt.set_variable_segments(flat, ["6", 2, 2, 1])
    opt.set_variable_segments(flat, vars_)
    opt.set_variable_segments(flat, [6, 2, 2, 1])       # sizes replace the Variables
    assert id(flat) not in opt._segment_vars


def test_constraint_returning_another_shape_is_an_error():
    vars_ = make_weights()
    vars_[1].constraint = lambda w: w.reshape(-1)[:1]
    flat = pack(vars_)
    opt = optimizers.SGD()
    opt.set_variable_segments(flat, vars_)
    with pytest.raises(ShapeError, match="dense/bias"):
        opt.apply([flat])


def test_train_on_batch_keeps_excluded_biases():
    # Under model.fit the trainer packs the weights; an excluded bias must not decay. A zero loss
    # gradient (the model already hits its constant target) leaves only the decay to move it.
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    model = nncore.Sequential([nncore.layers.Input((3,)), nncore.layers.Dense(1)])
    opt.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer=opt, loss="mse")
    kernel, bias = model.trainable_weights
    if model._flat is not None and id(model._flat) not in opt._segment_vars:
        # A trainer that gives sizes only: tell the optimizer the packed Variables ourselves.
        opt.set_variable_segments(model._flat, model.trainable_weights)
    kernel.assign(np.ones((3, 1)))
    bias.assign(np.full((1,), 0.5))
    x = np.ones((4, 3), np.float32)
    for step in range(1, 4):
        # Target = current prediction, so the loss gradient is zero.
        y = np.full((4, 1), 3 * 0.95 ** (step - 1) + 0.5, np.float32)
        model.train_on_batch(x, y)
        np.testing.assert_allclose(kernel.value, np.full((3, 1), 0.95 ** step), rtol=1e-6)
        np.testing.assert_allclose(bias.value, [0.5], rtol=0, atol=1e-6)   # decayed: 0.475


def test_fit_applies_each_constraint_once_per_step_and_clips_per_weight():
    # Through model.fit: the trainer hands the optimizer the packed Variables, and the optimizer
    # alone applies the constraints, once per step, after the update.
    calls = []

    def shrink(w):
        calls.append(w.shape)
        return w * 0.5

    model = nncore.Sequential([nncore.layers.Input((3,)),
                               nncore.layers.Dense(2, kernel_constraint=shrink),
                               nncore.layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01, clipnorm=1.0), loss="mse")
    kernel = model.trainable_weights[0]
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert calls == [(3, 2)] * 4
    # With a zero learning rate the step leaves the kernel as it was, so one application of the
    # constraint halves it exactly (two would leave a quarter).
    model.optimizer.learning_rate = 0.0
    before = kernel.numpy()
    model.train_on_batch(x[:4], y[:4])
    assert len(calls) == 5
    np.testing.assert_array_equal(kernel.value, before * 0.5)
