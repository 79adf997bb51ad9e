"""Learning-rate schedules against Keras 3's formulas, written out here, and config round trips."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nncore.optimizers import schedules

steps = st.integers(0, 5000)


@given(step=steps, staircase=st.booleans())
@settings(max_examples=60)
def test_exponential_decay(step, staircase):
    s = schedules.ExponentialDecay(0.1, decay_steps=300, decay_rate=0.96, staircase=staircase)
    p = step // 300 if staircase else step / 300
    assert s(step) == pytest.approx(0.1 * 0.96 ** p, rel=1e-12)


@given(step=steps, staircase=st.booleans())
@settings(max_examples=60)
def test_inverse_time_decay(step, staircase):
    s = schedules.InverseTimeDecay(0.5, decay_steps=100, decay_rate=0.3, staircase=staircase)
    p = step // 100 if staircase else step / 100
    assert s(step) == pytest.approx(0.5 / (1 + 0.3 * p), rel=1e-12)


def test_piecewise_constant_boundaries_are_inclusive_on_the_left_interval():
    s = schedules.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    assert [s(x) for x in (0, 100, 101, 110, 111, 10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="one entry fewer"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="increase"):
        schedules.PiecewiseConstantDecay([2, 1], [1.0, 2.0, 3.0])


@given(step=steps, power=st.sampled_from([0.5, 1.0, 2.0]), cycle=st.booleans())
@settings(max_examples=60)
def test_polynomial_decay(step, power, cycle):
    s = schedules.PolynomialDecay(0.1, decay_steps=1000, end_learning_rate=0.01, power=power, cycle=cycle)
    if cycle:
        horizon = 1000 * (1 if step == 0 else math.ceil(step / 1000))
        x = step
    else:
        horizon, x = 1000, min(step, 1000)
    assert s(step) == pytest.approx((0.1 - 0.01) * (1 - x / horizon) ** power + 0.01, rel=1e-12)


@given(step=steps, alpha=st.sampled_from([0.0, 0.1]))
@settings(max_examples=60)
def test_cosine_decay_without_warmup(step, alpha):
    s = schedules.CosineDecay(0.2, decay_steps=1000, alpha=alpha)
    x = min(step, 1000)
    want = 0.2 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * x / 1000)) + alpha)
    assert s(step) == pytest.approx(want, rel=1e-12, abs=1e-15)


@given(step=steps)
@settings(max_examples=60)
def test_cosine_decay_with_warmup(step):
    s = schedules.CosineDecay(0.0, decay_steps=1000, alpha=0.05, warmup_target=0.1, warmup_steps=200)
    x = min(step, 1200)
    if x < 200:
        want = 0.1 * x / 200
    else:
        want = 0.1 * (0.95 * 0.5 * (1 + math.cos(math.pi * (x - 200) / 1000)) + 0.05)
    assert s(step) == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert s(0) == 0.0 and s(200) == pytest.approx(0.1)


def test_cosine_decay_restarts():
    s = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.5)
    assert s(10) == pytest.approx(0.5)          # restart: second period starts at m_mul
    assert s(20) == pytest.approx(0.25)         # halfway through the 20-step second period
    assert s(30) == pytest.approx(0.25)         # third period starts at m_mul²
    s1 = schedules.CosineDecayRestarts(1.0, first_decay_steps=4, t_mul=1.0)
    assert s1(4) == pytest.approx(1.0) and s1(2) == pytest.approx(0.5)


@pytest.mark.parametrize("sched", [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
    schedules.PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001]),
    schedules.PolynomialDecay(0.1, 100, power=2.0, cycle=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.3, warmup_steps=10),
    schedules.CosineDecayRestarts(0.1, 20, t_mul=1.5, m_mul=0.9, alpha=0.01),
], ids=lambda s: type(s).__name__)
def test_config_round_trip(sched):
    config = sched.get_config()
    again = schedules.deserialize(schedules.serialize(sched))
    assert type(again) is type(sched) and again.get_config() == config
    assert [again(i) for i in range(0, 200, 7)] == [sched(i) for i in range(0, 200, 7)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(0)
