"""nncore.ops: the numerical kernels of the C++ core, with argument checks.

This package is the only importer of ``nncore._core``. Every function takes float32 or float64
NumPy arrays (one dtype per call), returns arrays of the input's dtype, and raises
``nncore.ShapeError`` / ``nncore.DTypeError`` naming the offending argument.
"""

from ._gemm import dense, gemm, matmul
from ._runtime import (
    active_isa,
    available_isas,
    get_num_threads,
    info,
    set_num_threads,
    use_isa,
)

__all__ = [
    "active_isa",
    "available_isas",
    "dense",
    "gemm",
    "get_num_threads",
    "info",
    "matmul",
    "set_num_threads",
    "use_isa",
]
