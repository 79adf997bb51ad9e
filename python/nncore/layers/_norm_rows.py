"""Normalization of the rows of a 2-D array, and its gradient: what LayerNormalization and
GroupNormalization share once their inputs are arranged so that each row is one group of values
normalized together. float32 and float64 inputs run on the C++ kernels (nncore.ops.layer_norm,
group_norm); these NumPy forms serve the other dtypes."""

from __future__ import annotations

import numpy as np


def core_dtype(x) -> bool:
    """Whether the C++ normalization kernels take x's dtype."""
    return x.dtype in (np.float32, np.float64)


def normalize_rows(x, epsilon, center=True):
    """``(x - mean) / sqrt(var + epsilon)`` per row (biased variance), with ``1 / sqrt(var +
    epsilon)`` per row; without ``center`` the mean is still taken out of the variance but not
    out of x (Keras' deprecated ``rms_scaling``)."""
    mean = x.mean(axis=1, keepdims=True)
    dev = x - mean
    var = np.mean(dev * dev, axis=1, keepdims=True)
    inv = (1.0 / np.sqrt(var + epsilon)).astype(x.dtype, copy=False)
    return (dev if center else x) * inv, inv, dev


def normalize_rows_backward(g_hat, x_hat, inv, dev=None):
    """The input gradient of ``normalize_rows`` given the gradient ``g_hat`` of its output
    ``x_hat``. With ``dev`` (the uncentered form) ``x_hat = x * inv``: the mean is not
    subtracted, and the variance term uses the deviations."""
    if dev is None:
        return inv * (g_hat - g_hat.mean(axis=1, keepdims=True)
                      - x_hat * np.mean(g_hat * x_hat, axis=1, keepdims=True))
    # d(x_i * inv)/dx_j = inv * delta_ij - x_i * inv^3 * dev_j / n
    return inv * (g_hat - dev * (inv * inv) * np.mean(g_hat * x_hat / inv, axis=1, keepdims=True))
