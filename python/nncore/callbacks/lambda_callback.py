"""LambdaCallback: a callback made of plain functions, for quick hooks."""

from __future__ import annotations

from ..serialization import register
from .base import Callback


def _is_hook(name: str) -> bool:
    return name.startswith("on_") and callable(getattr(Callback, name, None))


@register("callback")
class LambdaCallback(Callback):
    """Calls the given functions at those moments (Keras 3 signature and semantics):
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``. Any other hook of Callback can be given as a keyword
    too (``on_batch_end``, ``on_test_begin(logs)``, ``on_test_batch_end(batch, logs)``,
    ``on_predict_begin(logs)``, ...); as in Keras, other keywords become plain attributes of the
    callback. Hooks not given cost nothing per batch. ``get_config`` holds the functions
    themselves (an in-memory round trip, not JSON)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        extras = {}
        for name, value in kwargs.items():
            (given if _is_hook(name) else extras)[name] = value
        self._functions = {}
        for name, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            # Instance attributes shadow the base hooks; CallbackList sees them as overrides.
            setattr(self, name, fn)
            self._functions[name] = fn
        for name, value in extras.items():
            if hasattr(Callback, name) or name in ("model", "params", "_functions"):
                raise TypeError(f"LambdaCallback: {name!r} is not a hook and would replace "
                                "an attribute of the callback")
            setattr(self, name, value)
            self._functions[name] = value

    def get_config(self):
        return dict(self._functions)
