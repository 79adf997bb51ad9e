"""nncore: neural networks on the CPU with a Keras-like API over a readable C++ core."""

from . import activations, backend, callbacks, layers, models, ops
from . import initializers, losses, metrics, optimizers, regularizers
from .errors import DTypeError, GradcheckError, ShapeError
from .gradcheck import gradcheck
from .layers import Input
from .models import Model, Sequential
from .ops import get_num_threads, info, set_num_threads
from .random import set_seed
from .saving import load_model
from . import augmentation, datasets, utils
from .plotting import plot_filters, plot_history, plot_image_grid
from .utils import to_categorical

__version__ = info()["version"]

__all__ = [
    "DTypeError",
    "GradcheckError",
    "Input",
    "Model",
    "Sequential",
    "ShapeError",
    "activations",
    "backend",
    "callbacks",
    "get_num_threads",
    "gradcheck",
    "info",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "set_num_threads",
    "set_seed",
    "augmentation",
    "datasets",
    "plot_filters",
    "plot_history",
    "plot_image_grid",
    "to_categorical",
    "utils",
]
