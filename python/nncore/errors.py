"""Exception types raised by nncore (the C++ core raises these same classes)."""

__all__ = ["ShapeError", "DTypeError"]


class ShapeError(ValueError):
    """An array has the wrong shape, rank or layout for the operation; the message names it."""


class DTypeError(TypeError):
    """An array has a dtype the operation does not accept (nncore computes in float32/float64)."""
