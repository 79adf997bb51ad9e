"""nncore.ops: the numerical kernels of the C++ core, with argument checks.

This package is the only importer of ``nncore._core``. Every function takes float32 or float64
NumPy arrays (one dtype per call), returns arrays of the input's dtype, and raises
``nncore.ShapeError`` / ``nncore.DTypeError`` naming the offending argument.
"""

from ._conv import conv2d, conv2d_backward_bias, conv2d_backward_input, conv2d_backward_weight
from ._gemm import gemm, matmul
from ._pool import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    global_avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_argmax,
    max_pool2d_with_argmax,
)
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
    "avg_pool2d",
    "avg_pool2d_backward",
    "conv2d",
    "conv2d_backward_bias",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "gemm",
    "get_num_threads",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "info",
    "matmul",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_argmax",
    "max_pool2d_with_argmax",
    "set_num_threads",
    "use_isa",
]
