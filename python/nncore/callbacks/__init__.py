"""Callbacks for fit / evaluate / predict (Keras names and semantics)."""

from .base import Callback, CallbackList
from .history import History
from .progbar import ProgbarLogger
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "TensorBoard"]
