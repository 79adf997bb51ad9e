"""ONNX export (model.export(path, format="onnx")) checked against model.predict with ONNX
Runtime: every exported layer, Sequential and functional graphs, layouts, dtypes, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX export tests need the onnx package")
ort = pytest.importorskip("onnxruntime", reason="ONNX export tests run the model with onnxruntime")

import nncore  # noqa: E402
from nncore import layers as L  # noqa: E402

from _seeded import randomize_weights as _randomize  # noqa: E402

BATCHES = (1, 7, 64)


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _inputs(model, batch, rng, scale=2.0):
    return [(rng.standard_normal((batch, *t.shape[1:])) * scale).astype(t.dtype) for t in model.inputs]


def _export_and_compare(model, tmp_path, tol=1e-5, scale=2.0, name="m.onnx"):
    path = tmp_path / name
    model.export(str(path), format="onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == 17
    sess = _session(path)
    assert [i.shape[0] for i in sess.get_inputs()] == ["batch"] * len(model.inputs)
    rng = np.random.default_rng(1)
    for batch in BATCHES:
        xs = _inputs(model, batch, rng, scale)
        want = model.predict(xs if len(xs) > 1 else xs[0], batch_size=batch, verbose=0)
        want = list(want) if isinstance(want, (list, tuple)) else [want]
        got = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), xs)})
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    return proto


def _ops(proto):
    return [n.op_type for n in proto.graph.node]


def seed_cnn():
    return nncore.Sequential([
        nncore.Input(shape=(32, 32, 3)),
        L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")])


def test_seed_cnn_matches_predict_with_two_transposes(tmp_path):
    proto = _export_and_compare(_randomize(seed_cnn()), tmp_path)
    ops = _ops(proto)
    # Into NCHW before the first Conv, back to NHWC before Flatten; none in between.
    assert ops.count("Transpose") == 2
    assert ops.index("Transpose", 1) == ops.index("Flatten") - 1


ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu",
               "softplus", "softsign", "gelu", "leaky_relu", "linear", "exponential", "swish",
               "silu", "hard_sigmoid", {"name": "gelu", "approximate": True},
               {"name": "relu", "max_value": 1.5}, {"name": "relu", "negative_slope": 0.1}]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=str)
def test_dense_activation(act, tmp_path):
    model = _randomize(nncore.Sequential([nncore.Input(shape=(6,)), L.Dense(5, activation=act)]))
    _export_and_compare(model, tmp_path, scale=2.0 if act != "exponential" else 1.0)


@pytest.mark.parametrize("act", ["relu", "elu", "gelu", "softmax", "hard_sigmoid", "swish"])
def test_conv_activation_stays_channels_first(act, tmp_path):
    model = _randomize(nncore.Sequential([
        nncore.Input(shape=(6, 5, 3)), L.Conv2D(4, 3, padding="same", activation=act),
        L.Activation(act)]))
    proto = _export_and_compare(model, tmp_path)
    assert _ops(proto).count("Transpose") == 2


def test_conv_pool_and_elementwise_layers(tmp_path):
    model = _randomize(nncore.Sequential([
        nncore.Input(shape=(9, 9, 4)),
        L.Conv2D(6, 3, strides=2, padding="same", activation="elu"),
        L.BatchNormalization(),
        L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2),
        L.AveragePooling2D(2, strides=1, padding="same"),
        L.Conv2D(6, 3, dilation_rate=2, padding="same", groups=2, activation="tanh"),
        L.MaxPooling2D(3, strides=2, padding="same"),
        L.LeakyReLU(0.2), L.ELU(0.5), L.ThresholdedReLU(0.1), L.ReLU(),
        L.Softmax(), L.Dropout(0.5), L.GaussianNoise(0.1), L.RandomFlip(),
        L.PReLU(shared_axes=[1, 2]),
        L.GlobalAveragePooling2D(keepdims=True), L.Reshape((6,)), L.Dense(3)]))
    proto = _export_and_compare(model, tmp_path)
    ops = _ops(proto)
    assert "Dropout" not in ops and "BatchNormalization" in ops
    # To NCHW for the first Conv, back to NHWC for PReLU (its weights are NHWC).
    assert ops.count("Transpose") == 2


def test_valid_pooling_strides_and_flatten(tmp_path):
    model = _randomize(nncore.Sequential([
        nncore.Input(shape=(15, 21, 3)),
        L.AveragePooling2D(3, strides=2), L.MaxPooling2D((2, 3), strides=(1, 2)),
        L.Conv2D(5, (2, 3), strides=(2, 1)), L.AveragePooling2D(3, strides=2, padding="same"),
        L.Flatten()]))
    _export_and_compare(model, tmp_path)


def test_global_pooling_and_batchnorm_axes(tmp_path):
    image = nncore.Input(shape=(5, 6, 4))
    seq = nncore.Input(shape=(5, 3))
    a = L.GlobalAveragePooling2D()(L.Conv2D(4, 1)(image))       # reduced in NCHW
    b = L.GlobalAveragePooling2D()(image)                        # reduced in NHWC
    c = L.BatchNormalization(axis=1)(seq)                        # rank 3, axis 1
    d = L.BatchNormalization()(L.Flatten()(c))                   # rank 2: ONNX BatchNormalization
    e = L.BatchNormalization(axis=1)(L.Conv2D(3, 1)(image))      # NCHW, not the channel axis
    model = _randomize(nncore.Model([image, seq],
                                    [L.Concatenate()([a, b]), d, L.Flatten()(e)]))
    _export_and_compare(model, tmp_path)


def test_functional_two_inputs_two_outputs_residual_and_merges(tmp_path):
    image = nncore.Input(shape=(8, 8, 3), name="image")
    vec = nncore.Input(shape=(5,), name="vec")
    c1 = L.Conv2D(4, 3, padding="same", activation="relu")(image)
    c2 = L.Conv2D(4, 3, padding="same")(c1)
    res = L.Activation("relu")(L.Add()([c1, c2]))                # residual in NCHW
    cat = L.Concatenate()([res, c1, L.Conv2D(2, 1)(image)])      # channel axis in NCHW
    nhwc = L.Dense(4)(image)                                     # an NHWC branch
    mixed = L.Multiply()([cat[..., :4] if False else L.Conv2D(4, 1)(cat), nhwc])
    pooled = L.GlobalAveragePooling2D()(L.MaxPooling2D(2)(mixed))
    v = L.Dense(4, activation="tanh")(vec)
    merged = [L.Subtract()([pooled, v]), L.Average()([pooled, v, v]),
              L.Maximum()([pooled, v]), L.Minimum()([pooled, v]), L.Add()([pooled, v, v])]
    out1 = L.Dense(3, activation="softmax", name="probs")(L.Concatenate()(merged))
    out2 = L.Flatten(name="flat")(L.Concatenate(axis=1)([res, c1]))  # along height
    model = _randomize(nncore.Model([image, vec], [out1, out2]))
    proto = _export_and_compare(model, tmp_path)
    assert [o.name for o in proto.graph.output] == ["probs", "flat"]
    assert [i.name for i in proto.graph.input] == ["image", "vec"]


def test_nested_sequential_is_inlined(tmp_path):
    block = nncore.Sequential([nncore.Input(shape=(6, 6, 2)),
                               L.Conv2D(3, 3, padding="same", activation="relu"),
                               L.BatchNormalization()])
    x = nncore.Input(shape=(6, 6, 2))
    y = L.Dense(2)(L.Flatten()(block(x)))
    _export_and_compare(_randomize(nncore.Model(x, y)), tmp_path)


def test_trained_model_inference_mode_dropout_and_batchnorm(tmp_path):
    nncore.random.set_seed(3)
    model = nncore.Sequential([
        nncore.Input(shape=(8, 8, 2)), L.Conv2D(4, 3), L.BatchNormalization(momentum=0.5),
        L.Activation("relu"), L.Dropout(0.5), L.Flatten(), L.Dense(8),
        L.BatchNormalization(momentum=0.5), L.Dropout(0.3), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 8, 8, 2)) * 3 + 1).astype(np.float32)
    model.fit(x, rng.standard_normal((64, 2)).astype(np.float32), epochs=2, batch_size=16, verbose=0)
    bn = [layer for layer in model.layers if isinstance(layer, L.BatchNormalization)][0]
    assert np.abs(bn.moving_mean.value).max() > 0.05    # the statistics moved
    proto = _export_and_compare(model, tmp_path)
    assert "Dropout" not in _ops(proto)


def test_float64_dense_model(tmp_path):
    x = nncore.Input(shape=(4, 4, 3), dtype="float64")
    h = L.MaxPooling2D(2, dtype="float64")(x)
    h = L.BatchNormalization(dtype="float64")(h)
    h = L.Flatten(dtype="float64")(h)
    h = L.Dense(6, activation="tanh", dtype="float64")(h)
    r = L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.1, dtype="float64")(h)
    m = [L.Multiply(dtype="float64")([h, r]), L.Average(dtype="float64")([h, r]),
         L.Subtract(dtype="float64")([h, r]), L.LeakyReLU(dtype="float64")(h)]
    y = L.Dense(3, activation="softmax", dtype="float64")(L.Concatenate(dtype="float64")(m))
    model = _randomize(nncore.Model(x, y))
    proto = _export_and_compare(model, tmp_path, tol=1e-12)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_float64_conv_is_refused_with_reason(tmp_path):
    model = nncore.Sequential([nncore.Input(shape=(4, 4, 1), dtype="float64"),
                               L.Conv2D(2, 3, dtype="float64", name="c64")])
    with pytest.raises(ValueError, match=r"'c64'.*Conv.*float64"):
        model.export(str(tmp_path / "m.onnx"))
    assert not os.listdir(tmp_path)


def test_unsupported_layer_names_layer_and_class(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    model = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(4),
                               L.Lambda(lambda t: t * 2, name="doubler")])
    with pytest.raises(ValueError, match=r"'doubler'.*Lambda"):
        model.export(str(path))
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.onnx"]


def test_unsupported_layer_option_names_layer_and_class(tmp_path):
    model = nncore.Sequential([nncore.Input(shape=(2, 4, 4)),
                               L.Conv2D(2, 3, data_format="channels_first", name="cf")])
    with pytest.raises(ValueError, match=r"'cf' \(Conv2D\).*channels_first"):
        model.export(str(tmp_path / "m.onnx"))


def test_bad_format_names_onnx(tmp_path):
    model = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(2)])
    with pytest.raises(ValueError, match="onnx"):
        model.export(str(tmp_path / "m"), format="tf_saved_model")
    assert not os.listdir(tmp_path)


def test_export_replaces_file_and_prints_when_verbose(tmp_path, capsys):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    model = _randomize(nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(2)]))
    model.export(str(path), verbose=True)
    assert "m.onnx" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert os.listdir(tmp_path) == ["m.onnx"]


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    model = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(2)])
    with pytest.raises(ImportError, match=r"nncore\[onnx\]"):
        model.export(str(tmp_path / "m.onnx"))


def test_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        nncore.Sequential([L.Dense(2)]).export(str(tmp_path / "m.onnx"))


def test_importing_nncore_does_not_import_onnx():
    import subprocess
    import sys

    code = "import sys, nncore; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_shared_layer_and_input_as_output(tmp_path):
    x = nncore.Input(shape=(4,), name="x")
    shared = L.Dense(4, activation="tanh")
    y = shared(shared(x))
    _export_and_compare(_randomize(nncore.Model(x, [y, x])), tmp_path)


def test_global_max_pooling_rescaling_and_spatial_dropout(tmp_path):
    image = nncore.Input(shape=(5, 6, 4))
    r = L.Rescaling(0.5, offset=-0.25)(image)
    a = L.GlobalMaxPooling2D()(L.SpatialDropout2D(0.5)(L.Conv2D(4, 1)(r)))   # reduced in NCHW
    b = L.GlobalMaxPooling2D(keepdims=True)(r)                               # reduced in NHWC
    c = L.GlobalMaxPooling2D(data_format="channels_first")(image)
    model = _randomize(nncore.Model(image, [a, L.Flatten()(b), c]))
    _export_and_compare(model, tmp_path)


def test_padding_cropping_and_upsampling_in_either_layout(tmp_path):
    image = nncore.Input(shape=(6, 7, 3))
    nchw = L.Conv2D(4, 3, padding="same")(image)                 # made channels-first
    a = L.Cropping2D(((1, 0), (2, 1)))(L.ZeroPadding2D(((1, 2), (0, 1)))(nchw))
    a = L.UpSampling2D((2, 3))(a)
    b = L.UpSampling2D(2, interpolation="bilinear")(L.Cropping2D(1)(image))   # channels-last
    c = L.ZeroPadding2D(1, data_format="channels_first")(image)
    d = L.UpSampling2D((1, 2), interpolation="bilinear")(L.Conv2D(2, 1)(a))
    model = _randomize(nncore.Model(image, [L.Flatten()(t) for t in (a, b, c, d)]))
    proto = _export_and_compare(model, tmp_path)
    assert _ops(proto).count("Transpose") <= 4  # one in, at most one out per branch


def test_layer_and_group_normalization(tmp_path):
    image = nncore.Input(shape=(4, 5, 8))
    vec = nncore.Input(shape=(3, 6))
    a = L.GroupNormalization(4, epsilon=1e-3)(image)
    b = L.GroupNormalization(-1, center=False)(L.Conv2D(4, 1)(image))
    c = L.LayerNormalization(axis=[1, 2, 3])(image)
    d = L.LayerNormalization(scale=False)(vec)
    e = L.LayerNormalization(axis=1, epsilon=1e-5)(vec)
    model = _randomize(nncore.Model([image, vec], [a, b, c, d, e]))
    _export_and_compare(model, tmp_path)


def test_float64_normalization_and_padding(tmp_path):
    x = nncore.Input(shape=(4, 4, 4), dtype="float64")
    y = L.ZeroPadding2D(1, dtype="float64")(x)
    y = L.Cropping2D(1, dtype="float64")(y)
    y = L.LayerNormalization(dtype="float64")(L.GroupNormalization(2, dtype="float64")(y))
    _export_and_compare(_randomize(nncore.Model(x, y)), tmp_path, tol=1e-12)


def test_float64_upsampling_is_refused_with_reason(tmp_path):
    x = nncore.Input(shape=(4, 4, 3), dtype="float64")
    model = nncore.Model(x, L.UpSampling2D(dtype="float64")(x))
    with pytest.raises(ValueError, match="up_sampling2d.*Resize.*float64"):
        model.export(str(tmp_path / "m.onnx"))


@pytest.mark.parametrize("layer", [L.Rescaling([1.0, 2.0, 3.0, 4.0]),
                                   L.GroupNormalization(2, axis=1)])
def test_layers_without_a_converter_are_refused_by_name(layer, tmp_path):
    model = nncore.Sequential([nncore.Input(shape=(4, 4, 4)), layer])
    with pytest.raises(ValueError, match=type(layer).__name__):
        model.export(str(tmp_path / "m.onnx"))
