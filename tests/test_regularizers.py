"""Regularizers: penalties against their formulas, gradients against finite differences,
names and configs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import regularizers


def fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        fp = f(x)
        x[i] = old - eps
        fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def ref_orthogonal(x, factor, mode):
    rows = x if mode == "rows" else x.T
    n = rows / np.maximum(np.sqrt((rows ** 2).sum(1, keepdims=True)), 1e-7)
    p = n @ n.T
    k = rows.shape[0]
    off = np.abs(p[~np.eye(k, dtype=bool)]).sum()
    return factor * 0.5 * off / (k * (k - 1) / 2)


def away_from_zero(x):
    return np.where(np.abs(x) < 1e-3, 0.01, x)


@given(shape=st.sampled_from([(3,), (4, 5), (2, 3, 2)]), seed=st.integers(0, 2**32 - 1),
       l1=st.floats(0, 0.5), l2=st.floats(0, 0.5))
@settings(max_examples=30)
def test_l1_l2_values_and_gradients(shape, seed, l1, l2):
    x = away_from_zero(np.random.default_rng(seed).normal(size=shape))
    cases = [(regularizers.L1(l1), l1 * np.abs(x).sum()), (regularizers.L2(l2), l2 * (x ** 2).sum()),
             (regularizers.L1L2(l1, l2), l1 * np.abs(x).sum() + l2 * (x ** 2).sum())]
    for reg, want in cases:
        assert reg(x) == pytest.approx(want, rel=1e-12, abs=1e-15)
        g = reg.gradient(x)
        assert g.shape == x.shape and g.dtype == x.dtype
        np.testing.assert_allclose(g, fd_grad(reg, x.copy()), rtol=1e-6, atol=1e-9)


def test_l2_and_the_seed_lambda():
    # The seed's L = L_CE + λ/2 ‖w‖²: its penalty gradient λ w is L2(l2=λ/2).
    lam = 0.2
    w = np.array([1.0, -2.0, 3.0])
    reg = regularizers.L2(lam / 2)
    assert reg(w) == pytest.approx(lam / 2 * (w @ w))
    np.testing.assert_allclose(reg.gradient(w), lam * w)


def test_float32_gradients_stay_float32():
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    for reg in (regularizers.L1(), regularizers.L2(), regularizers.L1L2(0.1, 0.1), regularizers.OrthogonalRegularizer()):
        assert reg.gradient(x if not isinstance(reg, regularizers.OrthogonalRegularizer) else
                            np.ones((2, 2), np.float32)).dtype == np.float32
    assert regularizers.L1(0.5).gradient(np.zeros(2))[0] == 0.0


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_orthogonal_regularizer(mode, shape):
    x = np.random.default_rng(0).normal(size=shape)
    reg = regularizers.OrthogonalRegularizer(factor=0.3, mode=mode)
    assert reg(x) == pytest.approx(ref_orthogonal(x, 0.3, mode), rel=1e-12)
    np.testing.assert_allclose(reg.gradient(x), fd_grad(reg, x.copy()), rtol=1e-5, atol=1e-9)
    q = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))[0]
    assert reg(q) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(nncore.ShapeError, match="must have rank 2"):
        reg(np.ones(3))
    assert regularizers.OrthogonalRegularizer()(np.ones((1, 4))) == 0.0


@pytest.mark.parametrize("name, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.01}), ("L1", regularizers.L1, {"l1": 0.01}),
    ("l2", regularizers.L2, {"l2": 0.01}), ("l1_l2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
    ("orthogonal_regularizer", regularizers.OrthogonalRegularizer, {"factor": 0.01, "mode": "rows"}),
])
def test_string_names_and_keras_defaults(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.02), regularizers.L1L2(0.1, 0.2),
                                 regularizers.OrthogonalRegularizer(0.5, "columns")], ids=lambda r: type(r).__name__)
def test_config_round_trip(reg):
    again = regularizers.deserialize(regularizers.serialize(reg))
    assert type(again) is type(reg) and again.get_config() == reg.get_config()
    assert regularizers.get(reg) is reg


def test_get_none_and_bad_values():
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L1(float("nan"))
    fn = regularizers.get(lambda w: float((w ** 2).sum()))
    assert fn(np.ones(3)) == 3.0
    with pytest.raises(NotImplementedError, match="gradient"):
        fn.gradient(np.ones(3))
