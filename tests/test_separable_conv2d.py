"""SeparableConv2D: a NumPy reference (depthwise loops then an einsum), gradients against finite
differences in float64, Keras' weight order, names and parameter counts, config, saving, fit."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L

from test_depthwise_conv2d import ref_depthwise


def ref_separable(x, dw, pw, b, strides, padding, dilation):
    h = ref_depthwise(x, dw, None, strides, padding, dilation)
    y = np.einsum("nhwc,cf->nhwf", h, pw[0, 0].astype(np.float64))
    return y if b is None else y + b


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=(2, 3), strides=(2, 1), depth_multiplier=3),
    dict(kernel_size=3, dilation_rate=(2, 1), padding="same", use_bias=False),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_reference_on_every_isa(kw, dtype):
    layer = L.SeparableConv2D(5, bias_initializer="random_normal", dtype=dtype, **kw)
    x = np.random.default_rng(0).standard_normal((2, 7, 6, 4)).astype(dtype)
    layer.build((None, 7, 6, 4))
    weights = layer.get_weights()
    b = weights[2] if len(weights) == 3 else None
    want = ref_separable(x, weights[0], weights[1], b, layer.strides, layer.padding,
                         layer.dilation_rate)
    for isa in nncore.ops.available_isas():
        with nncore.ops.use_isa(isa):
            np.testing.assert_allclose(layer(x), want, atol=1e-4 if dtype == "float32" else 1e-11,
                                       err_msg=isa)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, padding="same", activation="tanh"),
    dict(kernel_size=2, strides=2, depth_multiplier=2),
    dict(kernel_size=3, padding="same", data_format="channels_first"),
])
def test_gradients_against_finite_differences(kw, isa):
    layer = L.SeparableConv2D(3, dtype="float64", bias_initializer="random_normal", **kw)
    shape = (2, 3, 5, 6) if kw.get("data_format") == "channels_first" else (2, 5, 6, 3)
    assert nncore.gradcheck(layer, np.random.default_rng(4).standard_normal(shape))


def test_weights_config_and_parameter_counts():
    # Keras 3: SeparableConv2D(64, 3, padding="same") on 56x56x128 has 9408 parameters;
    # depth_multiplier=3 without bias on 56x56x32: 7008 and a 54x54 output.
    layer = L.SeparableConv2D(64, 3, padding="same")
    layer.build((None, 56, 56, 128))
    assert layer.count_params() == 9408
    assert [v.name.split("/")[-1] for v in layer.weights] == [
        "depthwise_kernel", "pointwise_kernel", "bias"]
    assert [v.shape for v in layer.weights] == [(3, 3, 128, 1), (1, 1, 128, 64), (64,)]
    other = L.SeparableConv2D(64, 3, depth_multiplier=3, use_bias=False)
    other.build((None, 56, 56, 32))
    assert other.count_params() == 7008
    assert other.compute_output_shape((None, 56, 56, 32)) == (None, 54, 54, 64)
    config = L.SeparableConv2D(8, (3, 1), strides=2, padding="same", depth_multiplier=2,
                               pointwise_regularizer="l2", name="sep").get_config()
    for key in ("filters", "depth_multiplier", "depthwise_initializer", "pointwise_initializer",
                "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
                "pointwise_constraint", "bias_constraint", "activity_regularizer"):
        assert key in config, key
    assert L.SeparableConv2D.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="filters"):
        L.SeparableConv2D(0, 3)


def test_save_load_and_fit(tmp_path):
    model = nncore.Sequential([
        L.Input((8, 8, 3)),
        L.SeparableConv2D(6, 3, padding="same", activation="relu", depth_multiplier=2),
        L.SeparableConv2D(4, 3, strides=2),
        L.Flatten(),
        L.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 3)).astype(np.float32)
    y = x.mean((1, 2, 3))[:, None]
    hist = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "m.keras")
    back = nncore.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
