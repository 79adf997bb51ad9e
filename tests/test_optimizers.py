"""Optimizers: the first steps of each against its formula written out here, per variable and on
one flat buffer; clipping, weight decay, schedules, state for exact resume, L-BFGS, configs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import optimizers
from nncore.optimizers import schedules
from nncore.variables import Variable


# ----------------------------------------------------------------------------- reference steps
# Each takes (w, g, state dict, t = 1-based step, lr, hyper-parameters) and returns the new w.
def ref_sgd(w, g, s, t, lr, momentum=0.0, nesterov=False):
    if momentum == 0:
        return w - lr * g
    s["m"] = momentum * s.get("m", 0.0) - lr * g
    return w + (momentum * s["m"] - lr * g if nesterov else s["m"])


def ref_adagrad(w, g, s, t, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    s["a"] = s.get("a", initial_accumulator_value) + g * g
    return w - lr * g / np.sqrt(s["a"] + epsilon)


def ref_adadelta(w, g, s, t, lr, rho=0.95, epsilon=1e-7):
    s["eg"] = rho * s.get("eg", 0.0) + (1 - rho) * g * g
    dx = -np.sqrt(s.get("ex", 0.0) + epsilon) / np.sqrt(s["eg"] + epsilon) * g
    s["ex"] = rho * s.get("ex", 0.0) + (1 - rho) * dx * dx
    return w + lr * dx


def ref_rmsprop(w, g, s, t, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    denom = s["v"] + epsilon
    if centered:
        s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
        denom = s["v"] - s["a"] ** 2 + epsilon
    inc = lr * g / np.sqrt(denom)
    if momentum > 0:
        s["m"] = momentum * s.get("m", 0.0) + inc
        return w - s["m"]
    return w - inc


def ref_adam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g * g
    v = s["v"]
    if amsgrad:
        s["vh"] = np.maximum(s.get("vh", 0.0), s["v"])
        v = s["vh"]
    alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * s["m"] / (np.sqrt(v) + epsilon)


def ref_adamax(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["u"] = np.maximum(beta_2 * s.get("u", 0.0), np.abs(g))
    return w - lr / (1 - beta_1 ** t) * s["m"] / (s["u"] + epsilon)


def ref_nadam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    u = [beta_1 * (1 - 0.5 * 0.96 ** i) for i in range(1, t + 2)]
    prod_t = math.prod(u[:t])
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g * g
    m_hat = u[t] * s["m"] / (1 - prod_t * u[t]) + (1 - u[t - 1]) * g / (1 - prod_t)
    v_hat = s["v"] / (1 - beta_2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon)


def ref_radam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, sma_threshold=5.0):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g * g
    m_hat = s["m"] / (1 - beta_1 ** t)
    rho_inf = 2 / (1 - beta_2) - 1
    rho_t = rho_inf - 2 * t * beta_2 ** t / (1 - beta_2 ** t)
    if rho_t >= sma_threshold:
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return w - lr * r * m_hat / (np.sqrt(s["v"] / (1 - beta_2 ** t)) + epsilon)
    return w - lr * m_hat


def ref_adabelief(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-16):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["s"] = beta_2 * s.get("s", 0.0) + (1 - beta_2) * (g - s["m"]) ** 2 + epsilon
    m_hat = s["m"] / (1 - beta_1 ** t)
    s_hat = s["s"] / (1 - beta_2 ** t)
    return w - lr * m_hat / (np.sqrt(s_hat) + epsilon)


CASES = [
    # (optimizer class, reference, hyper-parameters, weight decay)
    (optimizers.SGD, ref_sgd, {}, None),
    (optimizers.SGD, ref_sgd, {"momentum": 0.9}, None),
    (optimizers.SGD, ref_sgd, {"momentum": 0.8, "nesterov": True}, None),
    (optimizers.Adagrad, ref_adagrad, {}, None),
    (optimizers.Adagrad, ref_adagrad, {"initial_accumulator_value": 0.5, "epsilon": 1e-3}, None),
    (optimizers.Adadelta, ref_adadelta, {"rho": 0.9}, None),
    (optimizers.RMSprop, ref_rmsprop, {}, None),
    (optimizers.RMSprop, ref_rmsprop, {"momentum": 0.5, "centered": True, "rho": 0.8}, None),
    (optimizers.Adam, ref_adam, {}, None),
    (optimizers.Adam, ref_adam, {"amsgrad": True, "beta_1": 0.8, "beta_2": 0.9}, None),
    (optimizers.Adam, ref_adam, {}, 0.1),
    (optimizers.Adamax, ref_adamax, {}, None),
    (optimizers.Nadam, ref_nadam, {}, None),
    (optimizers.RAdam, ref_radam, {"beta_2": 0.6}, None),
    (optimizers.RAdam, ref_radam, {}, None),
    (optimizers.AdaBelief, ref_adabelief, {}, None),
    (optimizers.AdaBelief, ref_adabelief, {"epsilon": 1e-8}, 0.01),
]


def case_id(case):
    cls, _, hp, wd = case
    return cls.__name__ + "".join(f"-{k}={v}" for k, v in hp.items()) + (f"-wd={wd}" if wd else "")


def run_reference(ref, hp, weights, grads_per_step, lrs, wd=None):
    ws = [w.copy() for w in weights]
    states = [{} for _ in ws]
    for t, (grads, lr) in enumerate(zip(grads_per_step, lrs), start=1):
        for i, g in enumerate(grads):
            if wd:
                ws[i] = ws[i] - ws[i] * wd * lr
            ws[i] = ref(ws[i], g, states[i], t, lr, **hp)
    return ws


SHAPES = [(3, 4), (4,), (2, 3, 2), (1,)]


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("flat", [False, True], ids=["per_variable", "flat_buffer"])
def test_first_steps_match_formula(case, flat):
    cls, ref, hp, wd = case
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=s) for s in SHAPES]
    steps = 6
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(steps)]
    lr = 0.05
    kwargs = dict(hp)
    if wd is not None:
        kwargs["weight_decay"] = wd
    opt = cls(learning_rate=lr, **kwargs)
    if flat:
        buf = Variable(np.concatenate([w.ravel() for w in weights]), name="flat")
        for gs in grads:
            opt.apply_gradients([(np.concatenate([g.ravel() for g in gs]), buf)])
        got = np.split(buf.value, np.cumsum([w.size for w in weights])[:-1])
        got = [x.reshape(s) for x, s in zip(got, SHAPES)]
    else:
        vs = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(weights)]
        for gs in grads:
            for v, g in zip(vs, gs):
                v.grad[...] = g
            opt.apply(vs)
        got = [v.value for v in vs]
    want = run_reference(ref, hp, weights, grads, [lr] * steps, wd)
    assert opt.iterations == steps
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# Which entry of the reference's state each slot of the optimizer holds.
SLOT_TO_REF = {
    "SGD": {"momentum": "m"}, "Adagrad": {"accumulator": "a"},
    "Adadelta": {"accumulated_grad": "eg", "accumulated_delta_var": "ex"},
    "RMSprop": {"velocity": "v", "momentum": "m", "average_gradient": "a"},
    "Adam": {"momentum": "m", "velocity": "v", "velocity_hat": "vh"},
    "Adamax": {"momentum": "m", "norm": "u"}, "Nadam": {"momentum": "m", "velocity": "v"},
    "RAdam": {"momentum": "m", "velocity": "v"}, "AdaBelief": {"momentum": "m", "belief": "s"},
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_slot_matches_the_reference_state(case):
    # Not only the weights: each state array the optimizer keeps (and its iteration count)
    # equals the reference's after every step, and get_state exposes exactly those.
    cls, ref, hp, wd = case
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=s) for s in SHAPES]
    opt = cls(learning_rate=0.05, weight_decay=wd, **hp)
    vs = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(weights)]
    ref_w = [w.copy() for w in weights]
    ref_states = [{} for _ in weights]
    mapping = SLOT_TO_REF[cls.__name__]
    for t in range(1, 6):
        grads = [rng.normal(size=s) for s in SHAPES]
        opt.apply_gradients(zip(grads, vs))
        for i, g in enumerate(grads):
            if wd:
                ref_w[i] = ref_w[i] - ref_w[i] * wd * 0.05
            ref_w[i] = ref(ref_w[i], g, ref_states[i], t, 0.05, **hp)
        assert opt.iterations == t
        state = opt.get_state()
        assert int(state["iterations"]) == t
        slot_keys = {k for k in state if k.startswith("slot/")}
        expected_keys = {f"slot/{i}/{name}" for i in range(len(vs)) for name in mapping
                         if mapping[name] in ref_states[i]}
        assert slot_keys == expected_keys
        for i, v in enumerate(vs):
            np.testing.assert_allclose(v.value, ref_w[i], rtol=1e-12, atol=1e-14)
            for name, key in mapping.items():
                if key in ref_states[i]:
                    np.testing.assert_allclose(opt.slot(v, name), ref_states[i][key],
                                               rtol=1e-12, atol=1e-14)
                    np.testing.assert_array_equal(state[f"slot/{i}/{name}"], opt.slot(v, name))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float32_stays_float32_and_tracks_float64(case):
    cls, ref, hp, wd = case
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=50)
    grads = [rng.normal(size=50) for _ in range(4)]
    v32 = Variable(w0.astype(np.float32), name="w")
    value_before = v32.value
    opt = cls(learning_rate=0.01, weight_decay=wd, **hp)
    for g in grads:
        opt.apply_gradients([(g.astype(np.float32), v32)])
    assert v32.value is value_before and v32.value.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt._ordered_slots())
    want = run_reference(ref, hp, [w0], [[g] for g in grads], [0.01] * 4, wd)[0]
    np.testing.assert_allclose(v32.value, want, rtol=1e-4, atol=1e-5)


def test_keras_documented_rmsprop_step():
    # keras.optimizers.RMSprop docstring: var 10, loss var²/2, one step at lr 0.1 -> 9.683772
    v = Variable(np.array([10.0], dtype=np.float32), name="v")
    optimizers.RMSprop(learning_rate=0.1).apply_gradients([(v.value.copy(), v)])
    assert v.value[0] == pytest.approx(9.683772, abs=1e-6)


# ----------------------------------------------------------------------------- clipping
def ref_clip_norm(g, c):
    n = math.sqrt((g * g).sum())
    return g * c / max(n, c)


@pytest.mark.parametrize("clip", ["clipnorm", "clipvalue", "global_clipnorm"])
@given(seed=st.integers(0, 2**32 - 1), c=st.floats(0.05, 3.0))
@settings(max_examples=20)
def test_clipping(clip, seed, c):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s) for s in SHAPES]
    grads = [rng.normal(scale=rng.uniform(0.1, 3), size=s) for s in SHAPES]
    given_grads = [g.copy() for g in grads]
    vs = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(weights)]
    optimizers.SGD(learning_rate=1.0, **{clip: c}).apply_gradients(zip(grads, vs))
    if clip == "clipnorm":
        clipped = [ref_clip_norm(g, c) for g in grads]
    elif clip == "clipvalue":
        clipped = [np.minimum(np.maximum(g, -c), c) for g in grads]
    else:
        total = math.sqrt(sum((g * g).sum() for g in grads))
        clipped = [g * c / max(total, c) for g in grads]
    for v, w, g in zip(vs, weights, clipped):
        np.testing.assert_allclose(v.value, w - g, rtol=1e-12, atol=1e-14)
    for g, g0 in zip(grads, given_grads):
        assert np.array_equal(g, g0)  # the caller's gradients are not modified


def test_clipnorm_with_segments_on_a_flat_buffer_matches_per_variable():
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=s) for s in SHAPES]
    grads = [rng.normal(scale=2, size=s) for s in SHAPES]
    flat = Variable(np.concatenate([w.ravel() for w in weights]), name="flat")
    opt = optimizers.SGD(learning_rate=1.0, clipnorm=0.7)
    opt.set_variable_segments(flat, [w.size for w in weights])
    opt.apply_gradients([(np.concatenate([g.ravel() for g in grads]), flat)])
    want = np.concatenate([(w - ref_clip_norm(g, 0.7)).ravel() for w, g in zip(weights, grads)])
    np.testing.assert_allclose(flat.value, want, rtol=1e-12)
    with pytest.raises(nncore.ShapeError):
        opt.set_variable_segments(flat, [1, 2])


def test_only_one_clipping_argument():
    with pytest.raises(ValueError, match="only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


# ----------------------------------------------------------------------------- learning rate
def test_schedule_is_evaluated_at_the_step_count():
    sched = schedules.PiecewiseConstantDecay([1, 3], [0.5, 0.1, 0.01])
    opt = optimizers.SGD(learning_rate=sched)
    v = Variable(np.zeros(2), name="v")
    lrs = []
    for _ in range(6):
        lrs.append(opt.learning_rate)
        opt.apply_gradients([(np.ones(2), v)])
    # step 0 uses sched(0), ..., as Keras (iterations before the increment)
    assert lrs == [sched(i) for i in range(6)] == [0.5, 0.5, 0.1, 0.1, 0.01, 0.01]
    np.testing.assert_allclose(v.value, -sum(lrs))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1


def test_adam_with_schedule_and_weight_decay():
    rng = np.random.default_rng(5)
    sched = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    w0 = rng.normal(size=7)
    grads = [rng.normal(size=7) for _ in range(5)]
    v = Variable(w0.copy(), name="w")
    opt = optimizers.AdamW(learning_rate=sched, weight_decay=0.2)
    for g in grads:
        opt.apply_gradients([(g, v)])
    want = run_reference(ref_adam, {}, [w0], [[g] for g in grads], [sched(i) for i in range(5)], 0.2)[0]
    np.testing.assert_allclose(v.value, want, rtol=1e-12)


def test_learning_rate_is_settable_and_callable():
    opt = optimizers.SGD(learning_rate=0.1)
    assert opt.learning_rate == 0.1
    opt.learning_rate = 0.02
    assert opt.learning_rate == 0.02 and opt.get_config()["learning_rate"] == 0.02
    opt = optimizers.SGD(learning_rate=lambda: 0.3)
    assert opt.learning_rate == 0.3
    with pytest.raises(ValueError):
        optimizers.SGD(learning_rate="fast")


def test_weight_decay_exclusion():
    a, b = Variable(np.ones(3), name="dense/kernel"), Variable(np.ones(3), name="dense/bias")
    opt = optimizers.SGD(learning_rate=0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(np.zeros(3), a), (np.zeros(3), b)])
    np.testing.assert_allclose(a.value, 1 - 0.5 * 0.1)
    np.testing.assert_allclose(b.value, 1.0)


# ----------------------------------------------------------------------------- state and errors
@pytest.mark.parametrize("case", CASES + [(optimizers.LBFGS, None, {"history_size": 3}, None)], ids=case_id)
def test_state_round_trip_resumes_exactly(case):
    cls, _, hp, wd = case
    rng = np.random.default_rng(8)
    w0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) for _ in range(7)]

    def make():
        return cls(learning_rate=0.05, weight_decay=wd, **hp)

    v = Variable(w0.copy(), name="w")
    opt = make()
    for g in grads[:4]:
        opt.apply_gradients([(g, v)])
    state = opt.get_state()
    saved_w = v.numpy()
    for g in grads[4:]:
        opt.apply_gradients([(g, v)])
    v2 = Variable(saved_w, name="w")
    opt2 = make()
    opt2.set_state({k: np.array(x) for k, x in state.items()})
    assert opt2.iterations == 4
    for g in grads[4:]:
        opt2.apply_gradients([(g, v2)])
    assert np.array_equal(v.value, v2.value)
    assert opt2.iterations == 7
    # Every piece of state agrees after the resume, not only the weights.
    resumed, straight = opt2.get_state(), opt.get_state()
    assert resumed.keys() == straight.keys()
    for key in straight:
        np.testing.assert_array_equal(resumed[key], straight[key])
    if cls is not optimizers.LBFGS:
        for a, b in zip(opt2.variables, opt.variables):
            np.testing.assert_array_equal(a, b)


def test_state_errors():
    v = Variable(np.zeros(3), name="w")
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones(3), v)])
    with pytest.raises(ValueError, match="missing"):
        opt.set_state({"iterations": 1})
    state = opt.get_state()
    state["slot/0/momentum"] = np.zeros(4)
    with pytest.raises(nncore.ShapeError, match=r"\(4,\)"):
        opt.set_state(state)
    sgd_state = optimizers.SGD(momentum=0.9)
    sgd_state.apply_gradients([(np.ones(3), Variable(np.zeros(3), name="x"))])
    with pytest.raises(ValueError, match="do not match"):
        opt.set_state(sgd_state.get_state())


def test_bad_gradients_and_variables():
    v = Variable(np.zeros((2, 3)), name="dense/kernel")
    opt = optimizers.Adam()
    with pytest.raises(nncore.ShapeError, match=r"\(3, 2\).*dense/kernel.*\(2, 3\)"):
        opt.apply_gradients([(np.zeros((3, 2)), v)])
    opt.apply_gradients([(np.zeros((2, 3)), v)])
    with pytest.raises(ValueError, match="unknown variable"):
        opt.apply_gradients([(np.zeros(2), Variable(np.zeros(2), name="other"))])
    with pytest.raises(TypeError, match="unexpected"):
        optimizers.Adam(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_keras_apply_forms():
    a, b = Variable(np.ones(2), name="a"), Variable(np.ones(3), name="b")
    opt = optimizers.SGD(learning_rate=0.5)
    opt.apply([np.ones(2), np.ones(3)], [a, b])
    opt.apply([np.ones(2), np.ones(3)])          # built: gradients in build order
    np.testing.assert_allclose(a.value, 0.0)
    np.testing.assert_allclose(b.value, 0.0)
    with pytest.raises(ValueError, match="gradients for 2 variables"):
        opt.apply([np.ones(2)])


def test_constraints_are_applied_after_the_step():
    v = Variable(np.array([1.0, -1.0]), name="w", constraint=lambda w: np.clip(w, 0, None))
    optimizers.SGD(learning_rate=0.5).apply_gradients([(np.array([-1.0, 1.0]), v)])
    np.testing.assert_allclose(v.value, [1.5, 0.0])


# ----------------------------------------------------------------------------- L-BFGS
def ref_lbfgs_direction(g, pairs, gamma):
    """H·g by the two-loop recursion over [(s, y), ...] oldest first."""
    q = g.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        alphas.append(a)
        q = q - a * y
    q = gamma * q
    for (s, y), a in zip(pairs, reversed(alphas)):
        b = (y @ q) / (s @ y)
        q = q + (a - b) * s
    return q


def test_lbfgs_steps_match_two_loop_recursion():
    rng = np.random.default_rng(2)
    n, m = 6, 3
    a = rng.normal(size=(n, n))
    hess = a @ a.T + n * np.eye(n)        # convex quadratic: every pair has s·y > 0
    x = rng.normal(size=n)
    v = Variable(x.copy(), name="x")
    opt = optimizers.LBFGS(learning_rate=0.5, history_size=m)
    pairs, prev = [], None
    for step in range(7):
        g = hess @ x
        if prev is not None:
            pairs = (pairs + [(x - prev[0], g - prev[1])])[-m:]
        if pairs:
            s, y = pairs[-1]
            d = ref_lbfgs_direction(g, pairs, (s @ y) / (y @ y))
        else:
            d = g * min(1.0, 1.0 / np.abs(g).sum())
        prev = (x.copy(), g)
        x = x - 0.5 * d
        opt.apply_gradients([(hess @ v.value, v)])
        np.testing.assert_allclose(v.value, x, rtol=1e-10, atol=1e-12)


def test_lbfgs_converges_on_a_quadratic_and_skips_bad_pairs():
    rng = np.random.default_rng(4)
    n = 20
    a = rng.normal(size=(n, n))
    hess = a @ a.T / n + 0.1 * np.eye(n)
    target = rng.normal(size=n)
    v = Variable(np.zeros(n), name="x")
    opt = optimizers.LBFGS()
    for _ in range(150):   # unit steps without line search: linear, then superlinear convergence
        opt.apply_gradients([(hess @ (v.value - target), v)])
    np.testing.assert_allclose(v.value, target, atol=1e-6)
    # A pair with s·y <= 0 (negative curvature) is not stored.
    w = Variable(np.zeros(2), name="w")
    opt = optimizers.LBFGS(learning_rate=0.1)
    opt.apply_gradients([(np.array([1.0, 0.0]), w)])
    opt.apply_gradients([(np.array([2.0, 0.0]), w)])   # moved -x, gradient grew: s·y < 0
    assert opt.get_state()["slot/0/meta"][0] == 0


def test_lbfgs_with_several_variables_keeps_a_history_each():
    opt = optimizers.LBFGS()
    vs = [Variable(np.ones(3), name="a"), Variable(np.ones((2, 2)), name="b")]
    for _ in range(30):
        opt.apply_gradients([(2 * v.value, v) for v in vs])
    for v in vs:
        np.testing.assert_allclose(v.value, 0, atol=1e-8)


# ----------------------------------------------------------------------------- names and configs
@pytest.mark.parametrize("name, cls, extra", [
    ("sgd", optimizers.SGD, {"momentum": 0.0}), ("SGD", optimizers.SGD, {}),
    ("momentum", optimizers.SGD, {"momentum": 0.9, "nesterov": False}),
    ("nesterov", optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    ("adam", optimizers.Adam, {"learning_rate": 0.001, "epsilon": 1e-7}),
    ("Adam", optimizers.Adam, {}), ("adamw", optimizers.AdamW, {"weight_decay": 0.004}),
    ("rmsprop", optimizers.RMSprop, {"rho": 0.9}), ("adagrad", optimizers.Adagrad, {}),
    ("adadelta", optimizers.Adadelta, {"rho": 0.95}), ("adamax", optimizers.Adamax, {}),
    ("nadam", optimizers.Nadam, {}), ("radam", optimizers.RAdam, {}),
    ("adabelief", optimizers.AdaBelief, {}), ("lbfgs", optimizers.LBFGS, {"learning_rate": 1.0}),
    ("l_bfgs", optimizers.LBFGS, {}),
])
def test_string_names(name, cls, extra):
    opt = optimizers.get(name)
    assert type(opt) is cls
    config = opt.get_config()
    for k, val in extra.items():
        assert config[k] == val


def test_keras_default_names():
    # Keras' auto_name: the snake-cased class name, made unique within the session.
    from nncore import backend
    backend.clear_session()
    names = [optimizers.get(n).name for n in ("sgd", "adam", "rmsprop", "adagrad", "adamw",
                                                 "adadelta", "adamax", "nadam", "adam")]
    assert names == ["sgd", "adam", "rm_sprop", "adagrad", "adam_w", "adadelta", "adamax",
                     "nadam", "adam_1"]
    assert optimizers.Adam(name="mine").name == "mine"
    assert optimizers.SGD().name == "sgd_1"


@pytest.mark.parametrize("opt", [
    optimizers.SGD(0.1, momentum=0.5, nesterov=True, clipnorm=1.0, name="s"),
    optimizers.Adam(learning_rate=schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5),
                    amsgrad=True, global_clipnorm=2.0),
    optimizers.AdamW(weight_decay=0.01, clipvalue=0.5), optimizers.RMSprop(centered=True, momentum=0.1),
    optimizers.Adagrad(initial_accumulator_value=0.2), optimizers.Adadelta(rho=0.9),
    optimizers.Adamax(beta_2=0.99), optimizers.Nadam(epsilon=1e-6), optimizers.RAdam(sma_threshold=4.0),
    optimizers.AdaBelief(weight_decay=1e-3), optimizers.LBFGS(history_size=4),
], ids=lambda o: type(o).__name__)
def test_config_round_trip(opt):
    config = opt.get_config()
    again = type(opt).from_config(config)
    assert again.get_config() == config
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is type(opt) and restored.get_config() == config
    assert optimizers.get(opt) is opt


def test_keras_config_keys_are_accepted():
    opt = optimizers.Adam.from_config({"name": "adam", "learning_rate": 0.001, "use_ema": False,
                                       "ema_momentum": 0.99, "loss_scale_factor": None,
                                       "gradient_accumulation_steps": None})
    assert opt.learning_rate == 0.001
    with pytest.raises(NotImplementedError, match="gradient_accumulation_steps"):
        optimizers.Adam(gradient_accumulation_steps=2)
    with pytest.raises(NotImplementedError, match="loss_scale_factor"):
        optimizers.Adam(loss_scale_factor=1024.0)


# ----------------------------------------------------------------------------- end to end
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad",
                                  "adamax", "nadam", "radam", "adabelief", "lbfgs"])
def test_softmax_regression_trains_on_one_flat_buffer(name):
    """As the model will use them: one flat weight buffer, the fused softmax cross-entropy,
    one optimizer step per batch; the loss must fall well below its starting value."""
    rng = np.random.default_rng(0)
    k, d, n = 3, 5, 300
    centers = rng.normal(scale=3, size=(k, d))
    labels = rng.integers(0, k, size=n)
    x = centers[labels] + rng.normal(size=(n, d))
    flat = Variable(np.zeros(d * k + k, dtype=np.float32), name="flat")
    kernel, bias = flat.value[: d * k].reshape(d, k), flat.value[d * k:]
    gk, gb = flat.grad[: d * k].reshape(d, k), flat.grad[d * k:]
    loss = nncore.losses.get("sparse_categorical_crossentropy")
    opt = optimizers.get(name)
    if name in ("sgd", "momentum", "nesterov", "adagrad"):
        opt.learning_rate = 0.05
    elif name == "lbfgs":
        opt.learning_rate = 0.5
    else:
        opt.learning_rate = 0.02
    first = None
    for epoch in range(15):
        for b in np.array_split(np.arange(n), 5):
            xb = x[b].astype(np.float32)
            value, g_logits, _ = loss.forward_backward_from_logits(labels[b], xb @ kernel + bias)
            first = value if first is None else first
            gk[...] = xb.T @ g_logits
            gb[...] = g_logits.sum(0)
            opt.apply([flat])
    final = loss(labels, ref_softmax(x @ kernel.astype(np.float64) + bias))
    assert final < 0.3 * first


def ref_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
