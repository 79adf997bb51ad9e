"""Bias over the last axis (Dense ``(N, units)``, Conv2D NHWC ``(N, H, W, C)``) and its gradient."""

from __future__ import annotations

from .. import _core

__all__ = ["bias_add", "bias_grad"]


def bias_add(x, bias, *, out=None):
    """``x + bias`` with ``bias`` of shape ``(x.shape[-1],)`` broadcast over the other axes.

    ``x`` may have any rank >= 1; ``bias`` must have the dtype of ``x``. ``out=x`` adds in place.
    """
    return _core.bias_add(x, bias, out)


def bias_grad(grad_y, *, out=None, accumulate=False):
    """``grad_y`` summed over all axes but the last: shape ``(grad_y.shape[-1],)``.

    Groups of 8 rows are added in the input's precision and the group sums in float64, so the
    error stays within a few eps of ``sum(|grad_y|)`` (tighter than NumPy's pairwise float32 sum)
    however many rows there are. With ``accumulate=True`` the sum is added
    to ``out`` (which must be given) instead of overwriting it, as layers do for a weight's
    gradient.
    """
    return _core.bias_grad(grad_y, out, bool(accumulate))
