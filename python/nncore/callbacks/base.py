"""Callback: hooks the training loop calls (Keras semantics), and CallbackList that fans them out."""

from __future__ import annotations

from typing import Iterable


class Callback:
    """Base class: override the hooks you need.

    ``self.model`` is the model being trained and ``self.params`` holds ``epochs``, ``steps``
    (batches per epoch), ``verbose``. ``logs`` are dicts of floats: per batch the running means
    of the epoch so far (``loss``, metrics); at epoch end also ``val_loss``, ``val_<metric>`` and
    ``learning_rate``. Setting ``self.model.stop_training = True`` ends ``fit`` after the epoch.
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    # As in Keras, the training batch hooks fall back to the generic batch hooks.
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # Exact resume: callbacks with state (best value so far, wait counters) return and take it.
    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]

# A training batch hook is live when the callback overrides it or the generic hook behind it.
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _overrides(cb: Callback, hook: str) -> bool:
    """Whether ``cb`` does something in ``hook``: a method of its class other than the base
    one, or a function set on the instance (as LambdaCallback does)."""
    names = (hook, _ALIASES[hook]) if hook in _ALIASES else (hook,)
    for name in names:
        if name in vars(cb) or getattr(type(cb), name, None) is not getattr(Callback, name):
            return True
    return False


class CallbackList(Callback):
    """Calls each hook on every callback, in order. Batch hooks that no callback overrides are
    skipped entirely, so that an idle callback costs nothing per batch."""

    def __init__(self, callbacks: Iterable[Callback] = (), model=None, params: dict | None = None):
        super().__init__()
        self.callbacks = list(callbacks)
        for hook in _HOOKS:
            ordered = self.callbacks
            if hook == "on_epoch_end":
                # A callback that saves the training state (ModelCheckpoint) must see the
                # other callbacks after their end-of-epoch step, wherever it sits in the list.
                ordered = ([cb for cb in ordered if not getattr(cb, "saves_training_state", False)]
                           + [cb for cb in ordered if getattr(cb, "saves_training_state", False)])
            active = [getattr(cb, hook) for cb in ordered if _overrides(cb, hook)]
            setattr(self, hook, self._fan_out(active, "epoch" in hook or "batch" in hook))
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    @staticmethod
    def _fan_out(methods, indexed: bool):
        # Every hook receives a logs dict (as in Keras), so two-argument functions such as
        # LambdaCallback(on_epoch_begin=lambda epoch, logs: ...) always work.
        if not methods:
            return lambda *args, **kwargs: None
        if indexed:
            def call_indexed(index, logs=None):
                logs = {} if logs is None else logs
                for m in methods:
                    m(index, logs)

            return call_indexed

        def call(logs=None):
            logs = {} if logs is None else logs
            for m in methods:
                m(logs)

        return call

    def set_model(self, model) -> None:
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict) -> None:
        self.params = dict(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def has_batch_hooks(self, mode: str = "train") -> bool:
        """Whether any callback acts on the batches of ``mode`` ("train", "test", "predict")."""
        return any(_overrides(cb, h) for cb in self.callbacks
                   for h in (f"on_{mode}_batch_begin", f"on_{mode}_batch_end"))

    def __iter__(self):
        return iter(self.callbacks)

    def append(self, cb: Callback) -> None:
        raise TypeError("CallbackList is fixed once built; pass all callbacks to fit()")
