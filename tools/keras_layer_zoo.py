"""Keras 3 models covering every layer type nncore shares with Keras, saved by Keras itself.

    KERAS_BACKEND=torch python tools/keras_layer_zoo.py DIR

writes, for each model, ``DIR/<name>.keras`` (``model.save``) and ``DIR/<name>.expected.npz``
(inputs ``x``/``x0``, ``x1``... and Keras' ``predict`` outputs ``y``/``y0``...; 64 rows, batch n
is the leading slice). tests/test_keras_fixtures.py runs it where Keras is installed and loads
every file into nncore, which must predict the same to 1e-5. Weights are seeded random values
(BatchNormalization variances kept positive), so no training is needed for non-trivial
outputs."""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np


def _keras():
    if os.environ.get("KERAS_BACKEND") != "torch":
        sys.exit("set KERAS_BACKEND=torch (Keras 3 runs on the PyTorch CPU wheel here)")
    import keras

    return keras


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    values = []
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.path:
            values.append(rng.uniform(0.3, 2.0, shape).astype(w.dtype))
        else:
            values.append((rng.standard_normal(shape) * 0.5).astype(w.dtype))
    model.set_weights(values)


def image_layers(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((9, 9, 4)),
        L.RandomFlip(), L.RandomRotation(0.1), L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1),
        L.RandomCrop(8, 8),
        L.Conv2D(6, 3, strides=2, padding="same", activation="elu",
                 kernel_regularizer=keras.regularizers.L2(1e-3),
                 kernel_constraint=keras.constraints.MaxNorm(3.0)),
        L.BatchNormalization(momentum=0.9, epsilon=1e-3),
        L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2),
        L.AveragePooling2D(2, strides=1, padding="same"),
        L.Conv2D(6, 3, dilation_rate=2, padding="same", groups=2, activation="tanh",
                 use_bias=False, kernel_initializer="he_normal"),
        L.MaxPooling2D(3, strides=2, padding="same"),
        L.LeakyReLU(0.2), L.ELU(0.5), L.Softmax(), L.Dropout(0.5), L.GaussianNoise(0.1),
        L.PReLU(shared_axes=[1, 2]), L.Activation("swish"),
        L.GlobalAveragePooling2D(keepdims=True), L.Reshape((6,)), L.Flatten(),
        L.Dense(3, activation="softmax", bias_regularizer=keras.regularizers.L1L2(1e-4, 1e-3))],
        name="image_layers")


def shape_and_norm_layers(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((6, 6, 4)), L.Rescaling(1 / 2.0, offset=-0.5), L.ZeroPadding2D(((1, 2), (0, 1))),
        L.Cropping2D(((0, 1), (1, 0))), L.UpSampling2D(2), L.Conv2D(8, 3, padding="same"),
        L.GroupNormalization(groups=4), L.UpSampling2D((1, 2), interpolation="bilinear"),
        L.SpatialDropout2D(0.3), L.LayerNormalization(), L.GlobalMaxPooling2D(),
        L.Dense(3)], name="shape_and_norm_layers")


def merging_layers(keras):
    L = keras.layers
    image = keras.Input((8, 8, 3), name="image")
    vec = keras.Input((5,), name="vec")
    block = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same",
                                                               activation="relu"),
                              L.BatchNormalization(axis=-1)], name="block")
    c1 = block(image)
    c2 = L.Conv2D(4, 3, padding="same")(c1)
    res = L.Activation("relu")(L.Add()([c1, c2]))
    pooled = L.GlobalAveragePooling2D()(L.Concatenate()([res, c1]))
    shared = L.Dense(4, activation="tanh", name="shared")
    p, v = shared(L.Dense(5)(pooled)), shared(vec)
    merged = [L.Subtract()([p, v]), L.Average()([p, v, v]), L.Maximum()([p, v]),
              L.Minimum()([p, v]), L.Multiply()([p, v]), L.Add()([p, v, v])]
    out1 = L.Dense(3, activation="softmax", name="probs")(L.Concatenate()(merged))
    out2 = L.Flatten(name="flat")(L.MaxPooling2D((2, 3), strides=(1, 2))(res))
    return keras.Model([image, vec], [out1, out2], name="merging_layers")


def float64_mlp(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((6,), dtype="float64"),
                             L.Dense(8, activation="gelu", dtype="float64"),
                             L.BatchNormalization(dtype="float64"),
                             L.Dense(2, activation="sigmoid", dtype="float64")],
                            name="float64_mlp")


def no_input_layer(keras):
    """A Sequential built by build() instead of an Input: its config has no InputLayer."""
    L = keras.layers
    model = keras.Sequential([L.Dense(5, activation="relu"), L.Dense(2)], name="no_input_layer")
    model.build((None, 3))
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule, clipnorm=1.0),
                  loss="mse", metrics=["mae"])
    return model


MODELS = {"image_layers": image_layers, "shape_and_norm_layers": shape_and_norm_layers,
          "merging_layers": merging_layers,
          "float64_mlp": float64_mlp, "no_input_layer": no_input_layer}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.exit(__doc__)
    keras = _keras()
    out = pathlib.Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k, (name, make) in enumerate(MODELS.items()):
        keras.utils.set_random_seed(k)
        model = make(keras)
        _randomize(model, k)
        xs = [rng.standard_normal((64, *t.shape[1:])).astype(t.dtype) for t in model.inputs]
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        arrays = {("x" if len(xs) == 1 else f"x{i}"): x for i, x in enumerate(xs)}
        arrays.update({("y" if len(ys) == 1 else f"y{i}"): np.asarray(y) for i, y in enumerate(ys)})
        model.save(out / f"{name}.keras")
        np.savez(out / f"{name}.expected.npz", **arrays)
        print(name)


if __name__ == "__main__":
    main()
