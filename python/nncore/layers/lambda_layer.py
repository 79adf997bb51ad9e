"""Lambda: a function of the input used as a layer (Keras 3 ``keras.layers.Lambda``).

Its config names the function (module and name) and never holds code: a saved Lambda loads back
through ``custom_objects`` or a name registered with ``register_function``, so loading a file
cannot run code the file brings. A lambda or a closure cannot be named that way, so such a Lambda
refuses to be serialized.
"""

from __future__ import annotations

import inspect
import sys
from typing import Callable

import numpy as np

from ..errors import ShapeError
from ..serialization import register
from .base import Layer

# Modules whose functions a Lambda config may name without registering them.
_BUILTIN_MODULES = ("nncore.ops", "nncore.activations")

# The functions a Lambda config may name, by the name it uses.
_FUNCTIONS: dict[str, Callable] = {}


def register_function(fn: Callable | None = None, *, name: str | None = None):
    """Makes ``fn`` loadable by name in Lambda configs (decorator, as Keras'
    ``register_keras_serializable``): ``@register_function`` or
    ``register_function(fn, name="my_fn")``."""

    def deco(f):
        if not callable(f):
            raise TypeError(f"register_function: {f!r} is not callable")
        key = name or getattr(f, "__name__", None)
        if not key or key == "<lambda>":
            raise ValueError("register_function: a lambda needs name='...' to be registered")
        _FUNCTIONS[key] = f
        return f

    return deco(fn) if fn is not None else deco


def _registered_name(fn) -> str | None:
    for key, f in _FUNCTIONS.items():
        if f is fn:
            return key
    return None


def _module_level(fn, name) -> bool:
    """Whether ``fn`` is what its module calls ``name`` (a function a factory made and the
    module bound, as nncore's element-wise ops, loads back by name like any other)."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    return module is not None and getattr(module, name or "", None) is fn


def _function_config(fn, what: str) -> dict:
    """Keras' config of a function: ``{"module", "class_name": "function", "config": name,
    "registered_name"}``."""
    registered = _registered_name(fn)
    if registered is not None:
        return {"module": getattr(fn, "__module__", None), "class_name": "function",
                "config": registered, "registered_name": registered}
    name = getattr(fn, "__name__", None)
    if name == "<lambda>" or (getattr(fn, "__closure__", None) and not _module_level(fn, name)):
        kind = "lambda" if name == "<lambda>" else f"closure '{name}'"
        raise ValueError(
            f"Lambda {what}: a {kind} cannot be serialized safely (its code would have to be "
            "saved and run at load time). Use a named module-level function, or register it "
            "with nncore.layers.lambda_layer.register_function and load with its name")
    if not name or not callable(fn):
        raise ValueError(f"Lambda {what}: {fn!r} has no name to be saved by; use a named "
                         "module-level function or register_function")
    return {"module": getattr(fn, "__module__", None), "class_name": "function",
            "config": name, "registered_name": name}


def _resolve_function(config, what: str, custom_objects: dict | None):
    """The function a config names, from ``custom_objects``, the registered functions, or
    nncore's own modules; serialized code (Keras' ``__lambda__`` entries) is refused."""
    if callable(config) and not isinstance(config, dict):
        return config
    if not isinstance(config, dict):
        raise ValueError(f"Lambda {what}: cannot read a function from {config!r}")
    if config.get("class_name") == "__lambda__":
        raise ValueError(
            f"Lambda {what}: the config holds Python bytecode of a lambda; nncore never runs "
            "serialized code. Rebuild the layer with a named function (pass it in "
            "custom_objects or register it with register_function)")
    if config.get("class_name") != "function" or not isinstance(config.get("config"), str):
        raise ValueError(f"Lambda {what}: expected a function reference "
                         f"{{'class_name': 'function', 'config': name}}, got {config!r}")
    name = config["config"]
    registered = config.get("registered_name") or name
    custom = custom_objects or {}
    for key in (registered, name):
        if key in custom:
            return custom[key]
    for key in (registered, name):
        if key in _FUNCTIONS:
            return _FUNCTIONS[key]
    module = config.get("module") or ""
    # nncore's array functions, as Keras resolves its own ops: only modules of array math,
    # never one that could act beyond its arguments.
    if any(module == m or module.startswith(m + ".") for m in _BUILTIN_MODULES):
        import importlib

        obj = getattr(importlib.import_module(module), name, None)
        if inspect.isfunction(obj):
            return obj
    raise ValueError(
        f"Lambda {what}: function '{registered}' (module {module or '?'}) is unknown here; pass "
        f"custom_objects={{'{registered}': fn}} or register it with register_function before "
        "loading")


def _serialize_value(value):
    """``arguments`` and ``mask`` in config form: plain values as they are, NumPy arrays as
    Keras writes them."""
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(),
                                                      "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _serialize_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_value(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"Lambda arguments: {value!r} cannot be saved in a config; give plain "
                     "values (numbers, strings, lists, dicts, NumPy arrays)")


def _deserialize_value(value):
    if isinstance(value, dict):
        if value.get("class_name") == "__numpy__":
            cfg = value["config"]
            return np.asarray(cfg["value"], dtype=cfg["dtype"])
        return {k: _deserialize_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deserialize_value(v) for v in value]
    return value


def _shape_structure(out, batch):
    """The shape(s) of a function's output computed on a batch of one, with the input's batch
    dimension put back where the output kept a leading axis of 1."""
    if isinstance(out, dict):
        return {k: _shape_structure(v, batch) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return [_shape_structure(v, batch) for v in out]
    shape = tuple(int(d) for d in np.shape(out))
    if shape and shape[0] == 1:
        return (batch, *shape[1:])
    return shape


@register("layer")
class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``: a layer whose output
    is ``function(inputs, **arguments)``.

    ``output_shape`` is the output shape without the batch dimension (a tuple), or a function of
    the whole input shape; without it, the shape is found by running the function on a batch of
    one zero sample. ``function`` also gets ``mask=`` and ``training=`` when it takes them.

    A Lambda has no weights. Prefer a ``Layer`` subclass for anything that must be saved
    portably: a Lambda's config names its function, which must be a named module-level function
    (or a registered one) and be available where the model is loaded.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, got {function!r}")
        if output_shape is not None and not callable(output_shape):
            try:
                if isinstance(output_shape, str):
                    raise TypeError
                output_shape = tuple(None if d is None else int(d) for d in output_shape)
            except (TypeError, ValueError):
                raise ValueError("Lambda: `output_shape` must be a tuple (without the batch "
                                 f"dimension) or a function, got {output_shape!r}") from None
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda: `arguments` must be a dict, got {arguments!r}")
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._lambda_output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # builtins and ufuncs without a readable signature
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        given = self._lambda_output_shape
        if callable(given):
            return given(input_shape)
        multi = isinstance(input_shape, list) or (
            isinstance(input_shape, tuple) and input_shape and isinstance(input_shape[0], (tuple, list)))
        shapes = list(input_shape) if multi else [input_shape]
        batch = shapes[0][0] if shapes and len(shapes[0]) else None
        if given is not None:
            return (batch, *given)
        if any(d is None for s in shapes for d in tuple(s)[1:]):
            raise ShapeError(f"Lambda '{self.name}': cannot infer the output shape for input "
                             f"shape {input_shape} (unknown dimensions); pass output_shape=")
        zeros = [np.zeros((1, *tuple(s)[1:]), dtype=self.dtype) for s in shapes]
        try:
            out = self.call(zeros if multi else zeros[0])
        except Exception as err:
            raise ShapeError(f"Lambda '{self.name}': could not infer the output shape by running "
                             f"the function on a zero batch of shape {input_shape} ({err}); pass "
                             "output_shape=") from err
        return _shape_structure(out, batch)

    def get_config(self) -> dict:
        config = super().get_config()
        config["function"] = _function_config(self.function, "function")
        given = self._lambda_output_shape
        if given is not None:
            config["output_shape"] = (_function_config(given, "output_shape") if callable(given)
                                      else list(given))
        if self.mask is not None:
            config["mask"] = (_function_config(self.mask, "mask") if callable(self.mask)
                              else _serialize_value(np.asarray(self.mask)))
        config["arguments"] = _serialize_value(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None, safe_mode=None):
        """Resolves the functions the config names (``custom_objects`` first, then registered
        names, then nncore's modules). Serialized code is refused whatever ``safe_mode`` says."""
        del safe_mode  # nncore never loads code, so there is no unsafe mode to turn on
        config = dict(config)
        config["function"] = _resolve_function(config["function"], "function", custom_objects)
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _resolve_function(shape, "output_shape", custom_objects)
        elif isinstance(shape, list):
            config["output_shape"] = tuple(shape)
        mask = config.get("mask")
        if isinstance(mask, dict) and mask.get("class_name") != "__numpy__":
            config["mask"] = _resolve_function(mask, "mask", custom_objects)
        elif mask is not None:
            config["mask"] = _deserialize_value(mask)
        if "arguments" in config:
            config["arguments"] = _deserialize_value(config["arguments"])
        return super().from_config(config)
