"""nncore: neural networks on the CPU with a Keras-like API over a readable C++ core."""

from . import ops  # first: loads the extension
from . import (
    activations,
    applications,
    augmentation,
    backend,
    callbacks,
    constraints,
    datasets,
    distribution,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from .autodiff import GradientTape, Tensor
from .errors import DTypeError, GradcheckError, ShapeError
from .gradcheck import gradcheck
from .layers import Input
from .models import Model, Sequential
from .ops import get_num_threads, get_winograd, info, set_num_threads, set_winograd
from .saving import load_model
from .plotting import plot_filters, plot_history, plot_image_grid
from .random import set_seed
from .utils import to_categorical
from .variables import Variable

__version__ = info()["version"]

__all__ = [
    "DTypeError",
    "GradcheckError",
    "GradientTape",
    "Input",
    "Model",
    "Sequential",
    "ShapeError",
    "Tensor",
    "Variable",
    "activations",
    "applications",
    "augmentation",
    "backend",
    "callbacks",
    "constraints",
    "datasets",
    "distribution",
    "get_num_threads",
    "get_winograd",
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
    "plot_filters",
    "plot_history",
    "plot_image_grid",
    "regularizers",
    "set_num_threads",
    "set_winograd",
    "set_seed",
    "to_categorical",
    "utils",
]
