"""Models: functional ``Model(inputs, outputs)`` and ``Sequential([...])``."""

from .model import Model
from .sequential import Sequential



def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """``keras.models.load_model``: see ``nncore.saving.load_model``."""
    from ..saving import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """``keras.models.save_model``: ``model.save(filepath)``."""
    model.save(filepath, overwrite=overwrite, **kwargs)


__all__ = ["Model", "Sequential", "load_model", "save_model"]
