"""Keras 3's tests of Dense, Dropout, the activation layers, Flatten/Reshape and the merging
layers, ported case by case (each cites its origin). ``run_layer_test`` below makes the checks of
Keras' ``testing.TestCase.run_layer_test`` as plain asserts; the other Keras layer test files of
this suite import it from here."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nncore
from nncore import constraints, layers


def run_layer_test(layer_cls, init_kwargs, *, input_shape=None, input_data=None, call_kwargs=None,
                   expected_output_shape=None, expected_output=None, expected_output_dtype=None,
                   expected_num_trainable_weights=None, expected_num_non_trainable_weights=None,
                   expected_num_losses=None, run_training_check=True, atol=1e-6, rtol=1e-6):
    """The checks of Keras' ``run_layer_test``: config round trip, build, symbolic call, eager call
    and one training step. Keras' ``layer.losses`` after a call are the penalties of the layer's
    regularized weights, counted here as the regularized trainable weights."""
    call_kwargs = dict(call_kwargs or {})
    multi = input_shape is not None and isinstance(input_shape[0], (tuple, list))
    if input_data is None and input_shape is not None:
        rng = np.random.default_rng(0)
        make = lambda s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
        input_data = [make(s) for s in input_shape] if multi else make(input_shape)
    if input_shape is None:
        input_shape = [np.shape(x) for x in input_data] if multi else np.shape(input_data)

    # Serialization: get_config -> JSON -> from_config gives the same config, also by class name.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config
    by_name = layers.get({"class_name": layer_cls.__name__, "config": config})
    assert type(by_name) is layer_cls and by_name.get_config() == config

    def build_asserts(layer):
        assert layer.built
        if expected_num_trainable_weights is not None:
            assert len(layer.trainable_weights) == expected_num_trainable_weights
        if expected_num_non_trainable_weights is not None:
            assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    def shape_matches(shape):
        return len(shape) == len(expected_output_shape) and all(
            e is None or e == d for e, d in zip(expected_output_shape, shape))

    # Build.
    batchless = [(None, *s[1:]) for s in input_shape] if multi else (None, *input_shape[1:])
    layer = layer_cls(**init_kwargs)
    layer.build(batchless)
    build_asserts(layer)

    # Symbolic call.
    layer = layer_cls(**init_kwargs)
    sym = ([nncore.Input(batch_shape=s) for s in input_shape] if multi
           else nncore.Input(batch_shape=input_shape))
    out = layer(sym, **call_kwargs)
    build_asserts(layer)
    if expected_output_shape is not None:
        assert shape_matches(out.shape), (out.shape, expected_output_shape)

    # Eager call.
    layer = layer_cls(**init_kwargs)
    output = layer(input_data, **call_kwargs)
    build_asserts(layer)
    if expected_output_shape is not None:
        assert shape_matches(output.shape), (output.shape, expected_output_shape)
    if expected_output_dtype is not None:
        assert output.dtype == np.dtype(expected_output_dtype)
    if expected_output is not None:
        np.testing.assert_allclose(output, expected_output, atol=atol, rtol=rtol)
    if expected_num_losses is not None:
        assert sum(v.regularizer is not None for v in layer.trainable_weights) == expected_num_losses
        assert np.isfinite(layer.regularization_loss())

    # One training step of a model around the layer.
    if run_training_check:
        inputs = ([nncore.Input(shape=s[1:]) for s in input_shape] if multi
                  else nncore.Input(shape=input_shape[1:]))
        model = nncore.Model(inputs, layer(inputs))
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(input_data, np.zeros_like(output) + 1, epochs=1, verbose=0,
                            batch_size=len(output))
        assert np.isfinite(history.history["loss"][0])
    return layer, output
