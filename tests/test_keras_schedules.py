"""Cases ported from keras/src/optimizers/schedules/learning_rate_schedule_test.py (same steps,
expected values and tolerances; Keras' assertAllClose(x, y, 1e-6) is an absolute tolerance).
Steps given as Keras Variables are nncore Variables here."""

import json
import math

import numpy as np
import pytest

import nncore
from nncore import optimizers
from nncore.optimizers import schedules
from nncore.variables import Variable


def close(got, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol)


def step_var(value):
    return Variable(np.array(value, dtype=np.float32), name="step")


def run_class_serialization_test(schedule):
    config = schedule.get_config()
    assert type(schedule).from_config(config).get_config() == config
    revived = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
    assert type(revived) is type(schedule) and revived.get_config() == config
    for step in (0, 3, 17):
        assert revived(step) == schedule(step)


def test_fit_lr_correctness():
    # keras/src/optimizers/schedules/learning_rate_schedule_test.py::TestFitLRSchedulesFlow::test_fit_lr_correctness
    model = nncore.Sequential([nncore.layers.Dense(2, kernel_initializer="ones",
                                                   bias_initializer="ones")])
    optimizer = optimizers.Adam(learning_rate=schedules.ExponentialDecay(
        initial_learning_rate=0.05, decay_steps=1, decay_rate=0.9))
    assert len(optimizer.variables) == 1
    assert optimizer.variables[0] == 0
    model.compile(optimizer=optimizer, loss="mse")
    x = np.arange(32).reshape((16, 2))
    y = np.arange(32).reshape((16, 2))
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert optimizer.variables[0] == 4 * 3
    close(history.history["loss"], [230.79457092285156, 128.30319213867188, 79.33648681640625],
          atol=1e-6, rtol=5e-5)


# ---------------------------------------------------------------- ExponentialDecay
def test_exponential_decay_config():
    # ...::ExponentialDecayTest::test_config
    run_class_serialization_test(schedules.ExponentialDecay(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True, name="my_ed"))


def test_exponential_decay_continuous():
    # ...::ExponentialDecayTest::test_continuous
    close(schedules.ExponentialDecay(0.05, 10, 0.96)(5), 0.05 * 0.96 ** (5.0 / 10.0))


@pytest.mark.parametrize("case", ["test_staircase", "test_variables"])
def test_exponential_decay_staircase_with_a_variable_step(case):
    # ...::ExponentialDecayTest::test_staircase, ::test_variables
    step = step_var(1.0)
    decayed_lr = schedules.ExponentialDecay(0.1, 3, 0.96, staircase=True)
    close(decayed_lr(step), 0.1)
    step.assign(2)
    close(decayed_lr(step), 0.1)
    step.assign(100)
    close(decayed_lr(step), 0.1 * 0.96 ** (100 // 3))


# ---------------------------------------------------------------- PiecewiseConstantDecay
def test_piecewise_constant_config():
    # ...::PiecewiseConstantDecayTest::test_config
    run_class_serialization_test(schedules.PiecewiseConstantDecay(
        boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"))


def test_piecewise_values():
    # ...::PiecewiseConstantDecayTest::test_piecewise_values
    x = step_var(-999.0)
    decayed_lr = schedules.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    for step, expected in ((-999, 1.0), (100, 1.0), (105, 0.1), (110, 0.1), (120, 0.01),
                           (999, 0.001)):
        x.assign(step)
        close(decayed_lr(x), expected)


def test_piecewise_boundary_values():
    # ...::PiecewiseConstantDecayTest::test_boundary_values (an int64 step)
    decayed_lr = schedules.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    for step, expected in ((0, 0.4), (1, 0.4), (2, 0.5), (3, 0.6), (4, 0.7)):
        close(decayed_lr(np.int64(step)), expected)
        close(decayed_lr(np.array(step, dtype=np.int64)), expected)


# ---------------------------------------------------------------- PolynomialDecay
def test_linear_decay_config():
    # ...::LinearDecayTest::test_config
    run_class_serialization_test(schedules.PolynomialDecay(
        initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.005, power=1.0,
        cycle=False, name="my_ld"))


@pytest.mark.parametrize("step,end_lr,cycle,expected", [
    (5, 0.0, False, 0.05 * 0.5),                          # ...::LinearDecayTest::test_halfway
    (10, 0.001, False, 0.001),                            # ...::LinearDecayTest::test_end
    (5, 0.001, False, (0.05 + 0.001) * 0.5),              # ...::LinearDecayTest::test_halfway_with_end
    (15, 0.001, False, 0.001),                            # ...::LinearDecayTest::test_beyond_end
    (15, 0.001, True, (0.05 - 0.001) * 0.25 + 0.001),     # ...::LinearDecayTest::test_beyond_end_with_cycle
])
def test_linear_decay(step, end_lr, cycle, expected):
    close(schedules.PolynomialDecay(0.05, 10, end_lr, cycle=cycle)(step), expected)


@pytest.mark.parametrize("step,end_lr,cycle,expected", [
    (5, 0.0, False, 0.05 * 0.5 ** 0.5),                             # ...::SqrtDecayTest::test_halfway
    (10, 0.001, False, 0.001),                                      # ...::SqrtDecayTest::test_end
    (5, 0.001, False, (0.05 - 0.001) * 0.5 ** 0.5 + 0.001),         # ...::SqrtDecayTest::test_halfway_with_end
    (15, 0.001, False, 0.001),                                      # ...::SqrtDecayTest::test_beyond_end
    (15, 0.001, True, (0.05 - 0.001) * 0.25 ** 0.5 + 0.001),        # ...::SqrtDecayTest::test_beyond_end_with_cycle
])
def test_sqrt_decay(step, end_lr, cycle, expected):
    close(schedules.PolynomialDecay(0.05, 10, end_lr, power=0.5, cycle=cycle)(step), expected)


def test_sqrt_decay_begin_with_cycle():
    # ...::SqrtDecayTest::test_begin_with_cycle
    close(schedules.PolynomialDecay(0.001, 10, cycle=True)(0), 0.001)


# ---------------------------------------------------------------- InverseTimeDecay
def test_inverse_time_decay_config():
    # ...::InverseTimeDecayTest::test_config
    run_class_serialization_test(schedules.InverseTimeDecay(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True, name="my_itd"))


def test_inverse_time_decay():
    # ...::InverseTimeDecayTest::test_decay
    step = step_var(0.0)
    decayed_lr = schedules.InverseTimeDecay(0.1, 10, 0.96)
    for i in range(11):
        close(decayed_lr(step), 0.1 / (1 + i / 10 * 0.96))
        step.assign(step.value + 1)


def test_inverse_time_decay_staircase():
    # ...::InverseTimeDecayTest::test_staircase
    step = step_var(0.0)
    decayed_lr = schedules.InverseTimeDecay(0.1, 10, 0.96, staircase=True)
    for i in range(11):
        close(decayed_lr(step), 0.1 / (1 + 0.96 * (i // 10)))
        step.assign(step.value + 1)


# ---------------------------------------------------------------- CosineDecay
def np_cosine_decay(step, decay_steps, alpha=0.0):
    step = min(step, decay_steps)
    decay = 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
    return (1.0 - alpha) * decay + alpha


def linear_warmup(step, warmup_steps, initial_lr, target_lr):
    return step / warmup_steps * (target_lr - initial_lr)


def test_cosine_decay_config():
    # ...::CosineDecayTest::test_config
    run_class_serialization_test(schedules.CosineDecay(
        initial_learning_rate=0.05, decay_steps=10, alpha=0.1, warmup_target=0.2, warmup_steps=2,
        name="my_cd"))


@pytest.mark.parametrize("initial_lr", [1.0, np.float64(1.0)], ids=["test_decay", "test_float64"])
def test_cosine_decay(initial_lr):
    # ...::CosineDecayTest::test_decay, ::test_float64
    for step in range(0, 1500, 250):
        close(schedules.CosineDecay(initial_lr, 1000)(step), np_cosine_decay(step, 1000))


def test_cosine_decay_warmup():
    # ...::CosineDecayTest::test_warmup
    for step in range(0, 1500, 250):
        lr = schedules.CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)
        close(lr(step), linear_warmup(step, 1500, 0.0, 10.0))


def test_cosine_decay_alpha():
    # ...::CosineDecayTest::test_alpha
    for step in range(0, 1500, 250):
        close(schedules.CosineDecay(1.0, 1000, 0.1)(step), np_cosine_decay(step, 1000, 0.1))


def test_cosine_decay_warmup_decay():
    # ...::CosineDecayTest::test_warmup_decay
    for step in range(0, 3000, 250):
        lr = schedules.CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
        if step < 2000 + 1:
            expected = linear_warmup(step, 2000, 0.0, 10.0)
        else:
            expected = 10.0 * np_cosine_decay(step - 2000, 1000)
        close(lr(step), expected)


# ---------------------------------------------------------------- CosineDecayRestarts
def np_cosine_decay_restarts(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    fac = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        fac *= m_mul
    decay = fac * 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
    return (1.0 - alpha) * decay + alpha


def test_cosine_decay_restarts_config():
    # ...::CosineDecayRestartsTest::test_config
    run_class_serialization_test(schedules.CosineDecayRestarts(
        initial_learning_rate=0.05, first_decay_steps=10, alpha=0.1, t_mul=3.0, m_mul=4.0,
        name="my_cdr"))


@pytest.mark.parametrize("initial_lr,kwargs", [
    (1.0, {}),                    # ...::CosineDecayRestartsTest::test_decay
    (np.float64(1.0), {}),        # ...::CosineDecayRestartsTest::test_float64
    (1.0, {"alpha": 0.1}),        # ...::CosineDecayRestartsTest::test_alpha
    (1.0, {"m_mul": 0.9}),        # ...::CosineDecayRestartsTest::test_mmul
    (1.0, {"t_mul": 1.0}),        # ...::CosineDecayRestartsTest::test_tmul
], ids=["decay", "float64", "alpha", "mmul", "tmul"])
def test_cosine_decay_restarts(initial_lr, kwargs):
    for step in range(0, 1500, 250):
        close(schedules.CosineDecayRestarts(initial_lr, 1000, **kwargs)(step),
              np_cosine_decay_restarts(step, 1000, **kwargs))


def test_a_non_scalar_step_is_an_error():
    with pytest.raises(TypeError, match="scalar step"):
        schedules.ExponentialDecay(0.1, 3, 0.96)(np.ones(2))
    with pytest.raises(TypeError, match="scalar step"):
        schedules.PiecewiseConstantDecay([1], [0.1, 0.2])("3")
