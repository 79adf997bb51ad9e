"""Checks a differentiable op's vector-Jacobian product against central finite differences in
float64: ``<cot, f(x)>`` is differentiated by the tape and numerically, for a random cotangent."""

from __future__ import annotations

import numpy as np

import nncore


def check_vjp(fn, *args, wrt=None, seed=0, eps=1e-6, atol=1e-7, rtol=1e-5):
    """``fn(*args)`` with the float args (copied to float64) watched; ``wrt`` lists the indices
    of the args to differentiate (default: every float array). Also checks that the recorded
    value equals the plain (unrecorded) value and that each operand's gradient is the same when
    it is the only one tracked. Returns the analytic gradients."""
    xs = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else a for a in args]
    if wrt is None:
        wrt = [i for i, a in enumerate(xs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    plain = np.asarray(fn(*xs))
    with nncore.GradientTape() as tape:
        for i in wrt:
            tape.watch(xs[i])
        out = fn(*xs)
    np.testing.assert_allclose(np.asarray(out), plain, rtol=1e-12, atol=1e-12,
                               err_msg="recorded value differs from the plain value")
    rng = np.random.default_rng(seed)
    cot = rng.standard_normal(np.shape(plain))
    grads = tape.gradient(out, [xs[i] for i in wrt], output_gradients=cot,
                          unconnected_gradients="zero")
    if len(wrt) > 1:
        # Each operand alone (the VJP then computes only that gradient: its `need` flags).
        for i, g in zip(wrt, grads):
            with nncore.GradientTape() as tape:
                tape.watch(xs[i])
                alone = fn(*xs)
            g_alone = tape.gradient(alone, xs[i], output_gradients=cot,
                                    unconnected_gradients="zero")
            np.testing.assert_allclose(g_alone, g, rtol=1e-12, atol=1e-12,
                                       err_msg=f"gradient of arg {i} alone differs")
    for i, g in zip(wrt, grads):
        x = xs[i]
        assert g.shape == x.shape, f"gradient of arg {i} has shape {g.shape}, expected {x.shape}"
        flat = x.reshape(-1)
        numeric = np.empty(flat.size)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = float(np.sum(cot * np.asarray(fn(*xs))))
            flat[k] = orig - eps
            minus = float(np.sum(cot * np.asarray(fn(*xs))))
            flat[k] = orig
            numeric[k] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g.reshape(-1), numeric, atol=atol, rtol=rtol,
                                   err_msg=f"VJP of arg {i} differs from finite differences")
    return grads
