"""Layer normalization over the last axis and group normalization of channels-last arrays.

``layer_norm`` (Ba et al., 2016), per row of the last axis::

    mean  = mean(x)          inv_std = 1 / sqrt(mean((x - mean)^2) + epsilon)
    y     = (x - mean) * inv_std * gamma + beta          (center=True)
    y     = x * inv_std * gamma                          (center=False: Keras' rms_scaling)

``group_norm`` (Wu & He, 2018) on ``(N, ..., C)``: the channels split into ``groups`` groups of
consecutive channels, statistics per (sample, group) over the group's channels and all other
non-batch axes, then a per-channel ``gamma`` and ``beta``.

``gamma`` / ``beta`` may be ``None`` (scale 1 / offset 0). The forward passes return the
statistics the backward passes take; the backward passes return ``(grad_x, grad_gamma,
grad_beta)``, the parameter gradients summed in a fixed order (bitwise the same at any thread
count).
"""

from __future__ import annotations

from .. import _core

__all__ = ["group_norm", "group_norm_backward", "layer_norm", "layer_norm_backward"]


def layer_norm(x, gamma=None, beta=None, epsilon=1e-3, *, center=True):
    """Returns ``(y, mean, inv_std)``, the statistics of shape ``x.shape[:-1]``."""
    return _core.layer_norm_forward(x, gamma, beta, float(epsilon), bool(center))


def layer_norm_backward(grad_y, x, gamma, mean, inv_std, *, center=True):
    """Gradients of :func:`layer_norm`: ``(grad_x, grad_gamma, grad_beta)``."""
    return _core.layer_norm_backward(grad_y, x, gamma, mean, inv_std, bool(center))


def group_norm(x, gamma=None, beta=None, groups=32, epsilon=1e-3):
    """Returns ``(y, mean, inv_std)``, the statistics of shape ``(N, groups)``."""
    return _core.group_norm_forward(x, gamma, beta, _groups(groups), float(epsilon))


def group_norm_backward(grad_y, x, gamma, mean, inv_std, groups):
    """Gradients of :func:`group_norm`: ``(grad_x, grad_gamma, grad_beta)``."""
    return _core.group_norm_backward(grad_y, x, gamma, mean, inv_std, _groups(groups))


def _groups(groups):
    if isinstance(groups, bool) or not hasattr(groups, "__index__"):
        raise TypeError(f"group_norm: groups must be an integer, got {groups!r}")
    return int(groups)
