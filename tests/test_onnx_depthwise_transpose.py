"""ONNX export of DepthwiseConv2D and SeparableConv2D (grouped Conv) and Conv2DTranspose
(ConvTranspose), run with onnxruntime against predict."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="ONNX export tests run the model with onnxruntime")
onnx = pytest.importorskip("onnx")

import nncore  # noqa: E402
from nncore import layers as L  # noqa: E402


def _export_and_compare(model, tmp_path, tol=1e-5):
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign((rng.standard_normal(w.value.shape) * 0.5).astype(w.value.dtype))
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = rng.standard_normal((3, *model.inputs[0].shape[1:])).astype(np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    want = model.predict(x, verbose=0)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def test_depthwise_and_separable(tmp_path):
    model = nncore.Sequential([
        nncore.Input(shape=(9, 8, 4)),
        L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu"),
        L.DepthwiseConv2D((3, 2), strides=2, padding="same", use_bias=False),
        L.SeparableConv2D(5, 3, padding="same", depth_multiplier=2, activation="tanh"),
        L.DepthwiseConv2D(2, dilation_rate=2),
    ])
    ops = _export_and_compare(model, tmp_path)
    assert ops.count("Conv") == 5


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, strides=2, padding="same"),
    dict(kernel_size=3, strides=2, padding="same", output_padding=1),
    dict(kernel_size=(2, 4), strides=(3, 2), padding="valid", output_padding=(2, 1)),
    dict(kernel_size=(4, 3), strides=(1, 3), padding="valid"),
    dict(kernel_size=3, dilation_rate=2, padding="same", activation="relu"),
    dict(kernel_size=2, strides=3, padding="same"),
])
def test_conv2d_transpose(kw, tmp_path):
    model = nncore.Sequential([nncore.Input(shape=(5, 6, 3)), L.Conv2DTranspose(4, **kw)])
    assert "ConvTranspose" in _export_and_compare(model, tmp_path)


def test_float64_conv_transpose_is_refused_with_reason(tmp_path):
    model = nncore.Sequential([nncore.Input(shape=(4, 4, 1), dtype="float64"),
                               L.Conv2DTranspose(2, 3, dtype="float64", name="t64")])
    with pytest.raises(ValueError, match=r"'t64'.*ConvTranspose.*float64"):
        model.export(str(tmp_path / "m.onnx"))
