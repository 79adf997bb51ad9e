"""Exception types raised by nncore (the C++ core raises these same classes)."""

__all__ = ["ShapeError", "DTypeError", "GradcheckError"]


class ShapeError(ValueError):
    """An array has the wrong shape, rank or layout for the operation; the message names it."""


class DTypeError(TypeError):
    """An array has a dtype the operation does not accept (nncore computes in float32/float64)."""


class GradcheckError(AssertionError):
    """``nncore.gradcheck`` found an analytic gradient that disagrees with finite differences;
    the message names the worst element (which input or weight, index, both values, errors)."""
