"""Saving and loading: weights alone (``.weights.npz`` / ``.safetensors``) and whole models
(``.nncore`` archives), and Keras 3's formats (``.keras`` archives, ``.weights.h5``). Writes are
atomic; reads never unpickle and check every size."""

from ._npy import FormatError
from .archive import load_model, save_model
from .keras_format.archive import load_keras_model
from .weights import load_weights, save_weights

__all__ = ["FormatError", "load_keras_model", "load_model", "load_weights", "save_model", "save_weights"]
