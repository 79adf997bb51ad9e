"""nncore: neural networks on the CPU with a Keras-like API over a readable C++ core."""

from . import ops
from . import initializers, losses, metrics, optimizers, regularizers
from .errors import DTypeError, ShapeError
from .ops import get_num_threads, info, set_num_threads

__version__ = info()["version"]

__all__ = [
    "DTypeError",
    "ShapeError",
    "get_num_threads",
    "info",
    "ops",
    "set_num_threads",
]
