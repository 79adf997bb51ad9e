"""2-D upsampling of NHWC images by integer factors ``size = (sh, sw)``.

``"nearest"`` repeats each pixel over an ``sh x sw`` block (its gradient sums the block);
``"bilinear"`` interpolates between pixel centers: output ``o`` of an axis of ``n`` pixels reads
source coordinate ``max((o + 0.5) / s - 0.5, 0)`` (Keras' ``ops.image.resize`` without
antialiasing, torch's ``interpolate(align_corners=False)``), rows first, then columns, each as
``a + (b - a) * t``.
"""

from __future__ import annotations

from .. import _core

__all__ = ["upsample2d", "upsample2d_backward"]


def _size(size):
    try:
        sh, sw = size
    except (TypeError, ValueError):
        raise ValueError(f"upsample2d: size must be a pair of integers, got {size!r}") from None
    for v in (sh, sw):
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise ValueError(f"upsample2d: size must be a pair of integers, got {size!r}")
    return (int(sh), int(sw))


def upsample2d(x, size=(2, 2), interpolation="nearest"):
    """``x`` (N, H, W, C) enlarged to (N, H * sh, W * sw, C)."""
    return _core.upsample2d_forward(x, _size(size), str(interpolation))


def upsample2d_backward(grad_y, size=(2, 2), interpolation="nearest"):
    """The gradient of :func:`upsample2d` for its input, from ``grad_y`` (N, H * sh, W * sw, C)."""
    return _core.upsample2d_backward(grad_y, _size(size), str(interpolation))
