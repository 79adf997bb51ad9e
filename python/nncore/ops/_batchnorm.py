"""Batch normalization over the last axis (channels-last: ``(N, C)`` or NHWC), the seeds'
algorithm 1 (Ioffe & Szegedy, 2015)::

    mu    = mean(x)                         over all axes but the last
    var   = mean((x - mu)^2)                biased, as Keras uses for normalizing
    x_hat = (x - mu) / sqrt(var + epsilon)
    y     = gamma * x_hat + beta

``gamma`` and/or ``beta`` may be ``None`` (Keras ``scale=False`` / ``center=False``): they then
act as 1 and 0. The backward pass always returns ``grad_gamma`` and ``grad_beta`` (their sums are
needed for ``grad_x`` anyway); a layer without the parameter ignores them. Statistics are summed
in float64. Moving averages are the layer's business: ``batch_norm_train`` returns the batch
statistics and leaves the moving ones alone.
"""

from __future__ import annotations

from .. import _core

__all__ = ["batch_norm_backward", "batch_norm_inference", "batch_norm_train"]


def batch_norm_train(x, gamma, beta, epsilon=1e-3, *, out=None, activation=None):
    """Normalizes with the batch statistics. Returns ``(y, batch_mean, batch_var, inv_std)``.

    ``batch_var`` is the biased variance (divided by the number of rows) and
    ``inv_std = 1 / sqrt(batch_var + epsilon)``; ``batch_mean`` and ``inv_std`` are what
    :func:`batch_norm_backward` needs. ``epsilon`` must be > 0 (Keras default 1e-3). ``out`` may
    be a 4-tuple ``(y, mean, var, inv_std)`` of preallocated arrays (entries may be None);
    ``y`` may be ``x`` (in place). An empty batch gives NaN statistics. ``activation`` ``"relu"``
    or ``"relu6"`` returns that activation of the normalized values instead (one pass, as a
    BatchNormalization layer followed by ReLU); the backward pass then needs the same
    ``activation`` and ``beta``.
    """
    return _core.batch_norm_train(x, gamma, beta, epsilon, out, activation)


def batch_norm_inference(x, gamma, beta, moving_mean, moving_var, epsilon=1e-3, *, out=None):
    """``gamma * (x - moving_mean) / sqrt(moving_var + epsilon) + beta`` (inference mode)."""
    return _core.batch_norm_inference(x, gamma, beta, moving_mean, moving_var, epsilon, out)


def batch_norm_backward(grad_y, x, gamma, batch_mean, inv_std, *, out=None, accumulate=False,
                        activation=None, beta=None):
    """Gradients of :func:`batch_norm_train`. Returns ``(grad_x, grad_gamma, grad_beta)``::

        grad_beta  = sum(grad_y)            grad_gamma = sum(grad_y * x_hat)
        grad_x     = gamma * inv_std / m * (m * grad_y - grad_beta - x_hat * grad_gamma)

    with ``m`` the number of rows (all axes but the last). ``out`` may be a 3-tuple of
    preallocated arrays (entries may be None); ``grad_x`` may be ``grad_y`` or ``x``. With
    ``accumulate=True`` grad_gamma and grad_beta are added into ``out[1]`` and ``out[2]`` (which
    must be given) instead of overwriting them. With ``activation`` (as given to the forward pass,
    with its ``beta``) ``grad_y`` is the gradient of the activation's output: it is masked by the
    activation's derivative, recomputed from ``x``, before the sums.
    """
    return _core.batch_norm_backward(grad_y, x, gamma, batch_mean, inv_std, out, bool(accumulate),
                                     activation, beta)
