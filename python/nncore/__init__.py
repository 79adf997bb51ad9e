"""nncore: neural networks on the CPU with a Keras-like API over a readable C++ core."""

from . import ops
from . import initializers, losses, metrics, optimizers, regularizers
from .errors import DTypeError, ShapeError
from .ops import get_num_threads, info, set_num_threads
from . import augmentation, datasets, utils
from .plotting import plot_filters, plot_history, plot_image_grid
from .utils import to_categorical

__version__ = info()["version"]

__all__ = [
    "DTypeError",
    "ShapeError",
    "get_num_threads",
    "info",
    "ops",
    "set_num_threads",
    "augmentation",
    "datasets",
    "plot_filters",
    "plot_history",
    "plot_image_grid",
    "to_categorical",
    "utils",
    "initializers",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
]
