"""nncore.ops: the numerical kernels of the C++ core, and Keras 3's ``keras.ops`` on top of them.

This package is the only importer of ``nncore._core``. The kernel functions (``conv2d``,
``gemm``, ``dense``, ``*_backward``, optimizer steps, ...) take float32 or float64 NumPy arrays
(one dtype per call), return arrays of the input's dtype, and raise ``nncore.ShapeError`` /
``nncore.DTypeError`` naming the offending argument. The ``keras.ops`` names (``matmul``, ``exp``,
``sum``, ``relu``, ``conv``, ...) follow Keras' signatures and NumPy's rules; on plain arrays they
return plain arrays, on recorded values (``nncore.GradientTape``, a layer's ``call`` in training)
they record their vector-Jacobian products (``nncore.autodiff``). Where a name is both, the plain
path is the kernel's, with its ``out=`` and its errors.
"""

from ._conv import conv2d, conv2d_backward_bias, conv2d_backward_input, conv2d_backward_weight
from ._conv_backward import conv2d_backward_weight_fused
from ._depthwise import (
    depthwise_conv2d,
    depthwise_conv2d_backward_input,
    depthwise_conv2d_backward_weight,
)
from ._gemm import dense, gemm, matmul
from ._add import add_act
from ._activations import *  # noqa: F401,F403  (names listed in _activations.__all__)
from ._activations import __all__ as _activation_names
from ._batchnorm import batch_norm_backward, batch_norm_inference, batch_norm_train
from ._bias import bias_add, bias_grad
from ._norm import group_norm, group_norm_backward, layer_norm, layer_norm_backward
from ._upsample import upsample2d, upsample2d_backward
from ._dropout import dropout, dropout_backward
from ._losses import (
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
    sparse_softmax_cross_entropy,
)
from ._optim import adam_step, rmsprop_step, sgd_step
from ._softmax import log_softmax, log_softmax_backward, softmax, softmax_backward
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
# Keras 3's differentiable ops (``keras.ops`` names); ``matmul`` keeps the kernel's extra
# arguments (transpose_a, transpose_b, out) and runs on it for 2-D float operands.
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_names
from .math_elementwise import *  # noqa: F401,F403
from .math_elementwise import __all__ as _elementwise_names
from .math_linalg import *  # noqa: F401,F403
from .math_linalg import __all__ as _linalg_names
from .math_reductions import *  # noqa: F401,F403
from .math_reductions import __all__ as _reduction_names
from .array_shape import *  # noqa: F401,F403
from .array_shape import __all__ as _shape_names
from .array_indexing import *  # noqa: F401,F403
from .array_indexing import __all__ as _indexing_names
from .nn import *  # noqa: F401,F403
from .nn import __all__ as _nn_names
from ._runtime import (
    active_isa,
    available_isas,
    get_num_threads,
    get_winograd,
    info,
    set_num_threads,
    set_winograd,
    use_isa,
)

__all__ = [
    "active_isa",
    "add_act",
    "available_isas",
    "avg_pool2d",
    "avg_pool2d_backward",
    "conv2d",
    "conv2d_backward_bias",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "conv2d_backward_weight_fused",
    "depthwise_conv2d",
    "depthwise_conv2d_backward_input",
    "depthwise_conv2d_backward_weight",
    "dense",
    "gemm",
    "get_num_threads",
    "get_winograd",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "group_norm",
    "group_norm_backward",
    "layer_norm",
    "layer_norm_backward",
    "upsample2d",
    "upsample2d_backward",
    "info",
    "matmul",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_argmax",
    "max_pool2d_with_argmax",
    "set_num_threads",
    "set_winograd",
    "use_isa",
    "adam_step",
    "batch_norm_backward",
    "batch_norm_inference",
    "batch_norm_train",
    "bias_add",
    "bias_grad",
    "dropout",
    "dropout_backward",
    "log_softmax",
    "log_softmax_backward",
    "rmsprop_step",
    "sgd_step",
    "sigmoid_binary_cross_entropy",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]
__all__ += _activation_names
__all__ = sorted(set(__all__) | set(_core_names) | set(_elementwise_names) | set(_linalg_names)
                 | set(_reduction_names) | set(_shape_names) | set(_indexing_names)
                 | set(_nn_names))
