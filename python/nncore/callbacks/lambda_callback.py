"""LambdaCallback: a callback made of plain functions, for quick hooks."""

from __future__ import annotations

from ..serialization import register
from .base import Callback

_ARGUMENTS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
              "on_train_begin", "on_train_end", "on_train_batch_begin", "on_train_batch_end")


@register("callback")
class LambdaCallback(Callback):
    """Calls the given functions at those moments (Keras semantics):
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_batch_begin(batch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``; any other
    hook of Callback can be given as a keyword too. Hooks not given cost nothing per batch.
    ``get_config`` holds the functions themselves (an in-memory round trip, not JSON)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end)
        for name, fn in kwargs.items():
            if not (name.startswith("on_") and callable(getattr(Callback, name, None))):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            given[name] = fn
        self._functions = {}
        for name, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            # Instance attributes shadow the base hooks; CallbackList sees them as overrides.
            setattr(self, name, fn)
            self._functions[name] = fn

    def get_config(self):
        return dict(self._functions)
