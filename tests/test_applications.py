"""nncore.applications: Keras 3's constructors, parameter counts, layer names and order
(pinned from keras.applications 3.15.1, torch backend, weights=None), output shapes, forward
passes, a short ResNet-20 fit, argument errors, and -- where Keras is installed -- Keras-saved
weights loading into the nncore models and giving Keras' predictions."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

import nncore
from nncore import layers
from nncore.applications import MobileNetV2, ResNet20, ResNet50, UNet, VGG16
from nncore.applications.resnet_cifar import _shortcut_a


def _n_trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _names(model):
    return [layer.name for layer in model.layers]


def _types(model):
    return Counter(type(layer).__name__ for layer in model.layers)


# ------------------------------------------------------------------------------------- VGG16
@pytest.fixture(scope="module")
def vgg16():
    return VGG16()


def test_vgg16_defaults_match_keras(vgg16):
    assert vgg16.count_params() == 138_357_544
    assert vgg16.name == "vgg16"
    assert vgg16.input_shape == (None, 224, 224, 3) and vgg16.output_shape == (None, 1000)
    # keras.applications.VGG16(weights=None): every layer after the input, in order.
    assert isinstance(vgg16.layers[0], layers.InputLayer)
    assert _names(vgg16)[1:] == [
        "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2",
        "block2_pool", "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool",
        "block4_conv1", "block4_conv2", "block4_conv3", "block4_pool", "block5_conv1",
        "block5_conv2", "block5_conv3", "block5_pool", "flatten", "fc1", "fc2", "predictions"]
    assert _types(vgg16) == {"InputLayer": 1, "Conv2D": 13, "MaxPooling2D": 5, "Flatten": 1,
                             "Dense": 3}
    top = vgg16.get_layer("predictions")
    assert top.get_config()["activation"] == "softmax"


@pytest.mark.parametrize("kwargs, params, out_shape", [
    # counts from keras.applications.VGG16(weights=None, **kwargs)
    (dict(include_top=False), 14_714_688, (None, None, None, 512)),
    (dict(include_top=False, pooling="avg"), 14_714_688, (None, 512)),
    (dict(include_top=False, input_shape=(32, 32, 3)), 14_714_688, (None, 1, 1, 512)),
    (dict(input_shape=(32, 32, 3), classes=10), 33_638_218, (None, 10)),
])
def test_vgg16_variants_match_keras(kwargs, params, out_shape):
    model = VGG16(**kwargs)
    assert model.count_params() == params
    assert model.output_shape == out_shape


def test_vgg16_small_input_forward():
    model = VGG16(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (2, 512) and np.isfinite(y).all() and (y >= 0).all()  # after ReLUs
    # The same weights without pooling: the 1x1 map of block5_pool is what "avg" averages.
    plain = VGG16(include_top=False, input_shape=(32, 32, 3))
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(plain.predict(x, verbose=0)[:, 0, 0, :], y, rtol=1e-6)


def test_vgg16_on_an_input_tensor_and_logits():
    inp = nncore.Input(shape=(48, 48, 3))
    model = VGG16(input_tensor=inp, input_shape=(48, 48, 3), classes=4,
                  classifier_activation=None)
    assert model.inputs[0] is inp and model.output_shape == (None, 4)
    y = model.predict(np.random.default_rng(1).random((2, 48, 48, 3)).astype(np.float32),
                      verbose=0)
    assert not np.allclose(y.sum(axis=1), 1.0)  # logits, not probabilities


# ------------------------------------------------------------------------------------ ResNet50
def test_resnet50_defaults_match_keras():
    model = ResNet50()
    assert model.count_params() == 25_636_712
    assert model.name == "resnet50" and model.output_shape == (None, 1000)
    names = _names(model)
    assert len(names) == 177
    # First and last layers of keras.applications.ResNet50(weights=None), and Keras' order inside
    # a projection block (the shortcut's layers between the main path's, by depth).
    assert names[1:11] == ["conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad",
                           "pool1_pool", "conv2_block1_1_conv", "conv2_block1_1_bn",
                           "conv2_block1_1_relu", "conv2_block1_2_conv"]
    assert names[12:19] == ["conv2_block1_2_relu", "conv2_block1_0_conv", "conv2_block1_3_conv",
                            "conv2_block1_0_bn", "conv2_block1_3_bn", "conv2_block1_add",
                            "conv2_block1_out"]
    assert names[-10:] == ["conv5_block3_1_relu", "conv5_block3_2_conv", "conv5_block3_2_bn",
                           "conv5_block3_2_relu", "conv5_block3_3_conv", "conv5_block3_3_bn",
                           "conv5_block3_add", "conv5_block3_out", "avg_pool", "predictions"]
    assert _types(model) == {"InputLayer": 1, "ZeroPadding2D": 2, "Conv2D": 53,
                             "BatchNormalization": 53, "Activation": 49, "MaxPooling2D": 1,
                             "Add": 16, "GlobalAveragePooling2D": 1, "Dense": 1}
    bn = model.get_layer("conv1_bn")
    assert bn.epsilon == pytest.approx(1.001e-5)
    assert model.get_layer("conv1_pad").get_config()["padding"] == [[3, 3], [3, 3]] or \
        tuple(map(tuple, model.get_layer("conv1_pad").padding)) == ((3, 3), (3, 3))


@pytest.mark.parametrize("kwargs, params, out_shape", [
    (dict(include_top=False), 23_587_712, (None, None, None, 2048)),
    (dict(include_top=False, pooling="avg"), 23_587_712, (None, 2048)),
    (dict(input_shape=(64, 64, 3), classes=10), 23_608_202, (None, 10)),
    (dict(include_top=False, input_shape=(64, 64, 3)), 23_587_712, (None, 2, 2, 2048)),
])
def test_resnet50_variants_match_keras(kwargs, params, out_shape):
    model = ResNet50(**kwargs)
    assert model.count_params() == params
    assert model.output_shape == out_shape


def test_resnet50_forward_small_input():
    model = ResNet50(input_shape=(32, 32, 3), classes=5)
    y = model.predict(np.random.default_rng(2).random((2, 32, 32, 3)).astype(np.float32),
                      verbose=0)
    assert y.shape == (2, 5)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_global_max_pooling_heads():
    vgg = VGG16(include_top=False, input_shape=(32, 32, 3), pooling="max")
    assert vgg.output_shape == (None, 512) and vgg.count_params() == 14_714_688
    assert type(vgg.layers[-1]).__name__ == "GlobalMaxPooling2D"
    resnet = ResNet50(include_top=False, pooling="max")
    assert resnet.count_params() == 23_587_712 and resnet.output_shape == (None, 2048)
    assert _names(resnet)[-1] == "max_pool" and len(resnet.layers) == 176
    # The max head is the maximum over the map of the same weights without pooling.
    small = ResNet20(include_top=False, pooling="max")
    plain = ResNet20(include_top=False)
    plain.set_weights(small.get_weights())
    x = np.random.default_rng(12).random((2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(small.predict(x, verbose=0),
                               plain.predict(x, verbose=0).max(axis=(1, 2)), rtol=1e-6)


# --------------------------------------------------------------------------------- MobileNetV2
def test_mobilenet_v2_defaults_match_keras():
    model = MobileNetV2()
    assert model.count_params() == 3_538_984
    assert model.name == "mobilenetv2_1.00_224" and model.output_shape == (None, 1000)
    names = _names(model)
    assert len(names) == 156
    assert names[1:11] == ["Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise",
                           "expanded_conv_depthwise_BN", "expanded_conv_depthwise_relu",
                           "expanded_conv_project", "expanded_conv_project_BN", "block_1_expand",
                           "block_1_expand_BN"]
    assert names[-10:-2] == ["block_16_depthwise", "block_16_depthwise_BN",
                             "block_16_depthwise_relu", "block_16_project", "block_16_project_BN",
                             "Conv_1", "Conv_1_bn", "out_relu"]
    assert names[-1] == "predictions"
    assert [n for n in names if n.endswith("_pad")] == ["block_1_pad", "block_3_pad",
                                                         "block_6_pad", "block_13_pad"]
    assert _types(model) == {"InputLayer": 1, "Conv2D": 35, "BatchNormalization": 52, "ReLU": 35,
                             "DepthwiseConv2D": 17, "ZeroPadding2D": 4, "Add": 10,
                             "GlobalAveragePooling2D": 1, "Dense": 1}
    bn = model.get_layer("block_5_project_BN")
    assert bn.momentum == pytest.approx(0.999) and bn.epsilon == pytest.approx(1e-3)
    assert model.get_layer("block_5_expand_relu").get_config()["max_value"] == 6.0
    # 224 is even: one pixel at the bottom/right only (Keras' correct_pad)
    assert tuple(map(tuple, model.get_layer("block_1_pad").padding)) == ((0, 1), (0, 1))


@pytest.mark.parametrize("kwargs, params, out_shape, name", [
    # from keras.applications.MobileNetV2(weights=None, **kwargs)
    (dict(include_top=False), 2_257_984, (None, None, None, 1280), "mobilenetv2_1.00_None"),
    (dict(alpha=0.5, input_shape=(96, 96, 3)), 1_987_224, (None, 1000), "mobilenetv2_0.50_96"),
    (dict(alpha=0.35, include_top=False, input_shape=(96, 96, 3)), 410_208, (None, 3, 3, 1280),
     "mobilenetv2_0.35_96"),
    (dict(alpha=1.4, classes=10, input_shape=(96, 96, 3)), 4_381_642, (None, 10),
     "mobilenetv2_1.40_96"),
    (dict(alpha=1.3, input_shape=(64, 64, 3)), 5_431_048, (None, 1000), "mobilenetv2_1.30_64"),
    (dict(alpha=0.75, input_shape=(32, 32, 3)), 2_663_064, (None, 1000), "mobilenetv2_0.75_32"),
])
def test_mobilenet_v2_variants_match_keras(kwargs, params, out_shape, name):
    model = MobileNetV2(**kwargs)
    assert model.count_params() == params
    assert model.output_shape == out_shape and model.name == name


def test_mobilenet_v2_forward_and_odd_sizes():
    model = MobileNetV2(input_shape=(33, 35, 3), alpha=0.35, classes=3)
    # Conv1 makes 17x18: the odd height is padded on both sides, the even width on one (as
    # keras.applications.MobileNetV2 with these arguments, 414,051 parameters)
    assert model.count_params() == 414_051 and model.name == "mobilenetv2_0.35_33"
    assert [tuple(map(tuple, model.get_layer(f"block_{i}_pad").padding)) for i in (1, 3, 6, 13)] \
        == [((1, 1), (0, 1)), ((1, 1), (1, 1)), ((1, 1), (1, 1)), ((1, 1), (1, 1))]
    y = model.predict(np.random.default_rng(13).random((2, 33, 35, 3)).astype(np.float32),
                      verbose=0)
    assert y.shape == (2, 3)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    free = MobileNetV2(include_top=False, alpha=0.35, pooling="avg")
    assert free.predict(np.zeros((1, 40, 48, 3), np.float32), verbose=0).shape == (1, 1280)


# ------------------------------------------------------------------------------------ ResNet20
def test_resnet20_parameter_count_and_structure():
    model = ResNet20()
    assert model.count_params() == 271_098  # He et al. 2016, table 6: 0.27M
    assert _n_trainable(model) == 269_722
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    types = _types(model)
    # 19 convolutions + the classifier = 20 weighted layers; parameter-free option-A shortcuts
    assert types["Conv2D"] == 19 and types["Dense"] == 1 and types["BatchNormalization"] == 19
    assert types["Add"] == 9 and types["Concatenate"] == 2
    assert ResNet20(include_top=False).count_params() == 270_448
    assert ResNet20(include_top=False).output_shape == (None, 8, 8, 64)
    assert ResNet20(include_top=False, pooling="avg").output_shape == (None, 64)
    assert ResNet20(classes=100).output_shape == (None, 100)


def test_resnet20_option_a_shortcut_is_strided_identity_with_zero_channels():
    inp = nncore.Input(shape=(6, 6, 3))
    model = nncore.Model(inp, _shortcut_a(inp, "s"))
    x = np.random.default_rng(3).standard_normal((2, 6, 6, 3)).astype(np.float32)
    want = np.concatenate([x[:, ::2, ::2, :], np.zeros((2, 3, 3, 3), np.float32)], axis=-1)
    np.testing.assert_array_equal(model.predict(x, verbose=0), want)
    assert model.count_params() == 0


def test_resnet20_forward_on_random_data():
    model = ResNet20()
    x = np.random.default_rng(4).random((8, 32, 32, 3)).astype(np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (8, 10) and np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_resnet20_short_fit_decreases_the_loss():
    nncore.set_seed(0)
    rng = np.random.default_rng(5)
    x = rng.random((32, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=32)
    model = ResNet20()
    model.compile(optimizer=nncore.optimizers.SGD(0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]


# ---------------------------------------------------------------------------------------- UNet
def test_unet_defaults_and_variants():
    model = UNet()
    assert model.count_params() == 1_966_753  # the same graph built from keras.layers
    assert _n_trainable(model) == 1_963_809
    assert model.input_shape == (None, 64, 64, 1) and model.output_shape == (None, 64, 64, 1)
    assert model.get_layer("segmentation").get_config()["activation"] == "sigmoid"
    types = _types(model)
    assert types["MaxPooling2D"] == 4 and types["UpSampling2D"] == 4 and types["Concatenate"] == 4
    small = UNet(classes=3, depth=3)
    assert small.count_params() == 489_155
    assert small.get_layer("segmentation").get_config()["activation"] == "softmax"
    x = np.random.default_rng(6).random((2, 64, 64, 1)).astype(np.float32)
    y = small.predict(x, verbose=0)
    assert y.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)
    free = UNet(input_shape=(None, None, 1), depth=2, filters=4)
    assert free.predict(x[:, :32, :48], verbose=0).shape == (2, 32, 48, 1)


def test_unet_with_transposed_convolutions():
    # counts of the same graphs built from keras.layers (Conv2DTranspose(f, 2, strides=2))
    model = UNet(upsampling="transpose")
    assert model.count_params() == 1_945_233 and _n_trainable(model) == 1_942_289
    assert _types(model)["Conv2DTranspose"] == 4 and "UpSampling2D" not in _types(model)
    small = UNet(depth=3, classes=2, upsampling="transpose")
    assert small.count_params() == 483_874
    y = small.predict(np.random.default_rng(18).random((2, 64, 64, 1)).astype(np.float32),
                      verbose=0)
    assert y.shape == (2, 64, 64, 2)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)
    bilinear = UNet(depth=2, filters=4, upsampling="bilinear")
    assert bilinear.get_layer("dec1_up").get_config()["interpolation"] == "bilinear"


def test_unet_trains():
    nncore.set_seed(1)
    rng = np.random.default_rng(7)
    x = rng.random((16, 32, 32, 1)).astype(np.float32)
    y = (x > 0.5).astype(np.float32)  # a mask the network can learn pixel by pixel
    model = UNet(input_shape=(32, 32, 1), filters=4, depth=2)
    model.compile(optimizer=nncore.optimizers.Adam(1e-2), loss="binary_crossentropy")
    losses = model.fit(x, y, batch_size=8, epochs=5, verbose=0).history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_unet_argument_errors():
    with pytest.raises(ValueError, match="divisible by 16"):
        UNet(input_shape=(40, 40, 1))
    with pytest.raises(ValueError, match="depth"):
        UNet(depth=0)
    with pytest.raises(ValueError, match="upsampling"):
        UNet(upsampling="bicubic")
    with pytest.raises(ValueError, match="downloads no pretrained weights"):
        UNet(weights="imagenet")


# -------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("constructor", [VGG16, ResNet50, MobileNetV2, ResNet20])
def test_pretrained_weights_are_refused_with_the_way_to_load_them(constructor):
    for weights in ["imagenet", "x.weights.h5"]:
        with pytest.raises(ValueError, match="downloads no pretrained weights") as info:
            constructor(weights=weights)
        assert 'load_weights("x.weights.h5")' in str(info.value)


@pytest.mark.parametrize("constructor", [VGG16, ResNet50, MobileNetV2])
def test_input_shape_checks_as_keras(constructor):
    # keras.applications.imagenet_utils.obtain_input_shape's rules
    with pytest.raises(ValueError, match="at least 32x32"):
        constructor(include_top=False, input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match="three integers"):
        constructor(include_top=False, input_shape=(64, 64))
    with pytest.raises(ValueError, match="static `input_shape`"):
        constructor(input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="pooling"):
        constructor(include_top=False, pooling="sum")
    with pytest.raises(ValueError, match="classes"):
        constructor(input_shape=(32, 32, 3), classes=0)
    # Without the classifier the spatial sizes may be left free, and classes is ignored.
    model = constructor(include_top=False, input_shape=(None, None, 1), classes=0)
    assert model.input_shape == (None, None, None, 1)


def test_mobilenet_v2_alpha_must_be_positive():
    with pytest.raises(ValueError, match="alpha"):
        MobileNetV2(alpha=0)


def test_resnet20_input_shape_minimum():
    with pytest.raises(ValueError, match="at least 8x8"):
        ResNet20(input_shape=(4, 4, 3))


# ------------------------------------------------------------------- Keras weights, where present
_KERAS_WARNINGS = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' own, on NumPy 2


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 is not installed")
    pytest.importorskip("h5py", reason="reading .weights.h5 needs h5py")
    if keras.backend.backend() != "torch":
        pytest.skip("compared with Keras' torch backend only")
    return keras


def _randomize_batchnorm_statistics(keras, model, rng):
    """Fresh BatchNormalization layers hold mean 0 / variance 1, which would let a swapped pair
    of statistics go unnoticed."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                               rng.normal(0, 0.1, beta.shape).astype(np.float32),
                               rng.normal(0, 0.1, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])


def _check_keras_weights_load(keras, tmp_path, keras_model, ours, x):
    path = str(tmp_path / "keras.weights.h5")
    keras_model.save_weights(path)
    ours.load_weights(path)
    want = keras.ops.convert_to_numpy(keras_model(x, training=False))
    got = ours.predict(x, verbose=0)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


@_KERAS_WARNINGS
def test_keras_vgg16_weights_load_and_predict_the_same(tmp_path):
    keras = _keras()
    kwargs = dict(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    keras_model = keras.applications.VGG16(weights=None, **kwargs)
    x = np.random.default_rng(8).random((2, 32, 32, 3)).astype(np.float32)
    _check_keras_weights_load(keras, tmp_path, keras_model, VGG16(**kwargs), x)


@_KERAS_WARNINGS
def test_keras_vgg16_with_classifier_weights_load_and_predict_the_same(tmp_path):
    keras = _keras()
    kwargs = dict(input_shape=(32, 32, 3), classes=10, classifier_activation=None)
    keras_model = keras.applications.VGG16(weights=None, **kwargs)
    x = np.random.default_rng(9).random((2, 32, 32, 3)).astype(np.float32)
    _check_keras_weights_load(keras, tmp_path, keras_model, VGG16(**kwargs), x)


@_KERAS_WARNINGS
def test_keras_resnet50_weights_load_and_predict_the_same(tmp_path):
    keras = _keras()
    kwargs = dict(input_shape=(64, 64, 3), classes=10, classifier_activation=None)
    keras_model = keras.applications.ResNet50(weights=None, **kwargs)
    _randomize_batchnorm_statistics(keras, keras_model, np.random.default_rng(10))
    x = np.random.default_rng(11).random((2, 64, 64, 3)).astype(np.float32)
    _check_keras_weights_load(keras, tmp_path, keras_model, ResNet50(**kwargs), x)


@_KERAS_WARNINGS
def test_keras_mobilenet_v2_weights_load_and_predict_the_same(tmp_path):
    keras = _keras()
    kwargs = dict(input_shape=(64, 64, 3), alpha=0.5, classes=10, classifier_activation=None)
    keras_model = keras.applications.MobileNetV2(weights=None, **kwargs)
    _randomize_batchnorm_statistics(keras, keras_model, np.random.default_rng(14))
    x = np.random.default_rng(15).random((2, 64, 64, 3)).astype(np.float32)
    _check_keras_weights_load(keras, tmp_path, keras_model, MobileNetV2(**kwargs), x)


@_KERAS_WARNINGS
def test_resnet20_and_unet_archives_load_in_keras_and_predict_the_same(tmp_path):
    # The option-A shortcut and the U-Net are made of layers Keras has, so both export.
    keras = _keras()
    for model, shape in [(ResNet20(), (2, 32, 32, 3)), (UNet(depth=3), (1, 64, 64, 1))]:
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        theirs = keras.saving.load_model(path)
        x = np.random.default_rng(16).random(shape).astype(np.float32)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs(x, training=False)),
                                   model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_resnet20_exports_to_onnx(tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs the onnx package")
    ort = pytest.importorskip("onnxruntime", reason="running the export needs onnxruntime")
    model = ResNet20()
    model.export(tmp_path / "r20.onnx")
    session = ort.InferenceSession(str(tmp_path / "r20.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(17).random((2, 32, 32, 3)).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


@_KERAS_WARNINGS
def test_keras_archives_of_the_applications_read_as_the_same_models(tmp_path):
    # Keras' whole-model archives (config and weights) of ResNet50 and MobileNetV2 read into
    # nncore give the layer list nncore's constructors build, and Keras' predictions (names
    # compared between the input and the pooling layer, whose names are generated).
    keras = _keras()
    x = np.random.default_rng(19).random((2, 64, 64, 3)).astype(np.float32)
    for theirs_fn, ours_fn, kwargs in [
            (keras.applications.ResNet50, ResNet50, dict(input_shape=(64, 64, 3), classes=10)),
            (keras.applications.MobileNetV2, MobileNetV2,
             dict(input_shape=(64, 64, 3), alpha=0.35, classes=10))]:
        theirs = theirs_fn(weights=None, **kwargs)
        theirs.save(tmp_path / "m.keras")
        loaded = nncore.load_model(tmp_path / "m.keras")
        ours = ours_fn(**kwargs)
        assert [(type(a).__name__, a.name) for a in loaded.layers[1:-2]] == \
            [(type(b).__name__, b.name) for b in ours.layers[1:-2]]
        np.testing.assert_allclose(loaded.predict(x, verbose=0),
                                   keras.ops.convert_to_numpy(theirs(x, training=False)),
                                   rtol=1e-4, atol=1e-6)
