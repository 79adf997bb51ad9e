"""Reverse-mode automatic differentiation over ``nncore.ops``.

Ops record themselves only when an operand is tracked: inside a ``GradientTape`` (which tracks
Variables and watched arrays), or when a layer that defines ``call`` runs in training. The heavy
ops keep running on the C++ kernels; the recording keeps each op's vector-Jacobian product.
"""

from .gradient_tape import GradientTape
from .tensor import Tensor

__all__ = ["GradientTape", "Tensor"]
