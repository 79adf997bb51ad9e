"""Make the Keras 3 fixture files that nncore's ``.keras`` / ``.weights.h5`` reader is tested on.

Why: the reader's tests must run without Keras installed, so the archives are produced once by
real Keras 3 (torch backend) and committed together with Keras' own predictions on fixed inputs.
The models are seeded and trained briefly on deterministic random data, so that weights and
BatchNormalization moving statistics are no longer their initial values (a reader that silently
skipped a variable would still pass on freshly initialised ones).

How::

    KERAS_BACKEND=torch /work/venv/bin/python tools/make_keras_fixtures.py [--out DIR]
    KERAS_BACKEND=torch /work/venv/bin/python tools/make_keras_fixtures.py --check-roundtrip DIR

The first form writes, into DIR (default ``tests/fixtures/keras``), for each model ``<name>``:

* ``<name>.keras``        ``model.save``
* ``<name>.weights.h5``   ``model.save_weights``
* ``<name>.expected.npz`` float32 arrays only (no object arrays, ``np.load`` without pickle):
  inputs ``x`` (or ``x0``, ``x1``, ... in the order of ``model.inputs``) with 64 rows, and
  ``y`` (or ``y0``, ``y1``, ... in the order of ``model.outputs``) = ``model.predict(x)``.
  The batch-size cases 1, 7 and 64 are the leading slices: the expected output of batch
  ``x[:n]`` is ``y[:n]`` (checked here against separate ``predict(x[:n])`` calls, to 1e-6).
  The files are written with ``np.savez_compressed`` because 64 CIFAR-sized float32 images
  alone are 786 KB uncompressed; image inputs are therefore random pixels on a few grey
  levels (0/1 for seed_cnn, eighths for residual), exact in float32 and compressible.

plus ``manifest.json``: Keras / backend / torch / numpy versions, per model the key names,
Keras' input and output names and shapes, its layers, and the sha256 of every fixture file.
``.keras`` archives record their save time, so regenerating changes their hashes.

Size: Keras' HDF5 files cost about 1 KB per layer and per variable before any weights, and
the folder is kept under ~400 KB, so the widths are small and only ``mlp_l2`` is saved with
the optimizer state that fit left (SGD momentum slots); the other models are re-compiled with
their own compile config before saving, so their files carry the compile config but no
optimizer variables (as a compiled, never-fitted model's would).

Models (all layer types nncore implements):

* ``seed_cnn``   the lectures' CIFAR-10 CNN, layer by layer (Conv2D 8 / MaxPooling2D /
  Conv2D 16 / MaxPooling2D / Flatten / Dense / Dense 10 softmax, linear activations, 'same'
  padding, no dropout, compiled with 'adam', 'categorical_crossentropy', ['accuracy']) except
  the hidden Dense: 4 units instead of the lecture's 128 (its 131k weights alone would be
  0.5 MB per file).
* ``residual``   functional, two inputs (image, vector) and two outputs; a residual Add of
  Conv2D -> BatchNormalization -> ReLU -> Conv2D to the identity shortcut (the image),
  GlobalAveragePooling2D, a Dense called twice (shared weights), Concatenate; one loss per
  output.
* ``bn_dropout`` Sequential MLP with BatchNormalization(momentum=0.9, epsilon=1e-3) and Dropout
  between Dense layers, Adam.
* ``mlp_l2``     MLP with L2(1e-3) kernel regularizers and one L1L2 bias regularizer,
  SGD(momentum=0.9, nesterov=True), 'sparse_categorical_crossentropy', ['accuracy'].

``--check-roundtrip DIR`` loads every ``*.keras`` in DIR with ``keras.saving.load_model``
(safe mode) and compares ``predict`` on the inputs of the ``<name>.expected.npz`` beside it
(same key convention; the batch sizes 1, 7 and all rows are predicted as separate calls) with
the outputs stored there, to 1e-5 max abs difference. It exits non-zero on any failure. Meant
for archives written by nncore; on this script's own fixtures it must pass too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import re
import sys
import warnings

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "fixtures" / "keras"
ROWS = 64
BATCH_SIZES = (1, 7, ROWS)
ROUNDTRIP_TOL = 1e-5
SLICE_TOL = 1e-6


def require_keras():
    backend = os.environ.get("KERAS_BACKEND")
    if backend != "torch":
        sys.exit(f"refusing to run: KERAS_BACKEND is {backend!r}, it must be 'torch' "
                 "(the fixtures record the backend; run with KERAS_BACKEND=torch)")
    try:
        import keras
    except ImportError as e:
        sys.exit(f"refusing to run: Keras 3 is not importable ({e}); use a Python with "
                 "keras>=3 and torch installed, e.g. /work/venv/bin/python")
    if not keras.__version__.startswith("3."):
        sys.exit(f"refusing to run: Keras {keras.__version__} found, Keras 3 is needed")
    return keras


def grey_images(rng, shape, levels):
    """Random images on `levels` evenly spaced grey levels in [0, 1]: exact in float32 and
    compressible, unlike full-precision noise."""
    return (rng.integers(0, levels, shape) / (levels - 1)).astype(np.float32)


def build_seed_cnn(keras, rng):
    L = keras.layers
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        L.Conv2D(filters=8, kernel_size=(3, 3), padding="same"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Conv2D(filters=16, kernel_size=(3, 3), padding="same"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Flatten(),
        L.Dense(units=4),
        L.Dense(units=10, activation="softmax"),
    ], name="seed_cnn")
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x = grey_images(rng, (96, 32, 32, 3), 2)
    y = keras.utils.to_categorical(rng.integers(0, 10, 96), num_classes=10)
    return model, [x], [y], [grey_images(rng, (ROWS, 32, 32, 3), 2)]


def build_residual(keras, rng):
    L = keras.layers
    # The identity shortcut needs the block's width on the image, and the shared Dense needs
    # the pooled image and the vector to have one size: both are 4.
    image = keras.Input((8, 8, 4), name="image")
    vector = keras.Input((4,), name="vector")
    h = L.Conv2D(4, 3, padding="same", name="res_conv1")(image)
    h = L.BatchNormalization(name="res_bn")(h)
    h = L.ReLU(name="res_relu")(h)
    h = L.Conv2D(4, 3, padding="same", name="res_conv2")(h)
    h = L.Add(name="res_add")([h, image])
    pooled = L.GlobalAveragePooling2D(name="gap")(h)
    shared = L.Dense(6, activation="tanh", name="shared_dense")
    merged = L.Concatenate(name="concat")([shared(pooled), shared(vector)])
    cls = L.Dense(3, activation="softmax", name="cls")(merged)
    reg = L.Dense(1, name="reg")(merged)
    model = keras.Model([image, vector], [cls, reg], name="residual")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss=["sparse_categorical_crossentropy", "mse"])
    x = [grey_images(rng, (96, 8, 8, 4), 8), rng.standard_normal((96, 4)).astype(np.float32)]
    y = [rng.integers(0, 3, 96), rng.standard_normal((96, 1)).astype(np.float32)]
    inputs = [grey_images(rng, (ROWS, 8, 8, 4), 8),
              rng.standard_normal((ROWS, 4)).astype(np.float32)]
    return model, x, y, inputs


def build_bn_dropout(keras, rng):
    L = keras.layers
    model = keras.Sequential([
        keras.Input((12,)),
        L.Dense(16),
        L.BatchNormalization(momentum=0.9, epsilon=1e-3),
        L.Activation("relu"),
        L.Dropout(0.3),
        L.Dense(16, activation="relu"),
        L.BatchNormalization(momentum=0.9, epsilon=1e-3),
        L.Dropout(0.2),
        L.Dense(3, activation="softmax"),
    ], name="bn_dropout")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # Off-centre, scaled data so the moving mean/variance settle far from 0/1.
    x = (3.0 * rng.standard_normal((96, 12)) + 1.5).astype(np.float32)
    y = rng.integers(0, 3, 96)
    return model, [x], [y], [(3.0 * rng.standard_normal((ROWS, 12)) + 1.5).astype(np.float32)]


def build_mlp_l2(keras, rng):
    L = keras.layers
    l2 = keras.regularizers.L2
    model = keras.Sequential([
        keras.Input((10,)),
        L.Dense(16, activation="relu", kernel_regularizer=l2(1e-3),
                bias_regularizer=keras.regularizers.L1L2(l1=1e-4, l2=1e-3)),
        L.Dense(16, activation="relu", kernel_regularizer=l2(1e-3)),
        L.Dense(5, activation="softmax", kernel_regularizer=l2(1e-3)),
    ], name="mlp_l2")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((96, 10)).astype(np.float32)
    y = rng.integers(0, 5, 96)
    return model, [x], [y], [rng.standard_normal((ROWS, 10)).astype(np.float32)]


# Every object in a Keras HDF5 file costs about 1 KB, and after fit each weight has one or two
# optimizer slots beside it. Only mlp_l2 is saved with the optimizer state that fit left (SGD's
# momentum slots, iteration count); the others are re-compiled with the same arguments before
# saving, so their files hold the compile config but no optimizer variables.
KEEPS_OPTIMIZER_STATE = {"mlp_l2"}

BUILDERS = {
    "seed_cnn": build_seed_cnn,
    "residual": build_residual,
    "bn_dropout": build_bn_dropout,
    "mlp_l2": build_mlp_l2,
}


def keys(prefix, n):
    return [prefix] if n == 1 else [f"{prefix}{i}" for i in range(n)]


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def model_arg(arrays):
    return arrays[0] if len(arrays) == 1 else list(arrays)


def build(keras, name, seed):
    """(model, training inputs, training targets, fixed inputs): every data item is a list."""
    keras.backend.clear_session()  # layer auto-names restart, so they do not depend on order
    keras.utils.set_random_seed(seed)
    return BUILDERS[name](keras, np.random.default_rng(seed))


def check_trained(name, model, before):
    for var, old in zip(model.variables, before):
        if "seed_generator" in var.path:  # a Dropout's RNG state, not a weight
            continue
        if np.array_equal(np.asarray(var.numpy()), old):
            raise SystemExit(f"{name}: variable {var.path} still has its initial value")


def make_one(keras, name, seed, out):
    model, x_train, y_train, inputs = build(keras, name, seed)
    before = [np.array(v.numpy()) for v in model.variables]
    model.fit(model_arg(x_train), model_arg(y_train), batch_size=16, epochs=2, shuffle=False,
              verbose=0)
    check_trained(name, model, before)

    outputs = [np.asarray(y, dtype=np.float32) for y in as_list(model.predict(model_arg(inputs),
                                                                            verbose=0))]
    slice_dev = 0.0
    for n in BATCH_SIZES[:-1]:
        part = as_list(model.predict(model_arg([a[:n] for a in inputs]), verbose=0))
        for got, want in zip(part, outputs):
            slice_dev = max(slice_dev, float(np.max(np.abs(np.asarray(got) - want[:n]))))
    if slice_dev > SLICE_TOL:
        raise SystemExit(f"{name}: predict(x[:n]) differs from predict(x)[:n] by {slice_dev}")

    if name not in KEEPS_OPTIMIZER_STATE:
        model.compile(**keras.saving.deserialize_keras_object(model.get_compile_config()))
    model.save(out / f"{name}.keras")
    model.save_weights(out / f"{name}.weights.h5")
    in_keys, out_keys = keys("x", len(inputs)), keys("y", len(outputs))
    arrays = dict(zip(in_keys, inputs)) | dict(zip(out_keys, outputs))
    assert all(a.dtype == np.float32 for a in arrays.values())
    np.savez_compressed(out / f"{name}.expected.npz", **arrays)

    # The .weights.h5 file alone, loaded into a differently initialised twin, must reproduce y.
    twin = build(keras, name, seed + 1000)[0]
    if name in KEEPS_OPTIMIZER_STATE:
        twin.optimizer.build(twin.trainable_variables)  # so the saved state is loaded too
    twin.load_weights(out / f"{name}.weights.h5")
    for got, want in zip(as_list(twin.predict(model_arg(inputs), verbose=0)), outputs):
        dev = float(np.max(np.abs(np.asarray(got) - want)))
        if dev > SLICE_TOL:
            raise SystemExit(f"{name}: reloaded .weights.h5 predicts {dev} away from y")

    print(f"{name}: {model.count_params()} parameters, predict(x[:n]) vs y[:n] max |diff| "
          f"{slice_dev:.3g}")
    sequential = isinstance(model, keras.Sequential)
    return {
        "inputs": in_keys,
        "outputs": out_keys,
        # Which Keras input / output each x_i / y_i is (a Sequential model has one of each).
        "keras_inputs": ["sequential input"] if sequential else [t.name for t in model.inputs],
        "keras_output_layers": [model.layers[-1].name] if sequential else model.output_names,
        "input_shapes": [list(a.shape) for a in inputs],
        "output_shapes": [list(a.shape) for a in outputs],
        "batch_sizes": list(BATCH_SIZES),
        "optimizer_state_saved": name in KEEPS_OPTIMIZER_STATE,
        "layers": [f"{layer.__class__.__name__}:{layer.name}" for layer in model.layers],
        "files": [f"{name}.keras", f"{name}.weights.h5", f"{name}.expected.npz"],
    }


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_all(keras, out):
    import torch

    out.mkdir(parents=True, exist_ok=True)
    models = {name: make_one(keras, name, seed, out)
              for seed, name in enumerate(BUILDERS, start=1)}
    files = sorted(f for m in models.values() for f in m["files"])
    manifest = {
        "generator": "tools/make_keras_fixtures.py",
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "key_convention": "x / x0.. inputs, y / y0.. outputs, 64 rows; batch n = leading "
                          "slice [:n] for n in batch_sizes",
        "models": models,
        "sha256": {f: sha256(out / f) for f in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return check_roundtrip(keras, out)


def numbered(data, prefix):
    if prefix in data:
        return [data[prefix]]
    found = sorted((int(m.group(1)), k) for k in data
                   if (m := re.fullmatch(rf"{prefix}(\d+)", k)))
    if [i for i, _ in found] != list(range(len(found))):
        raise ValueError(f"keys {[k for _, k in found]} are not {prefix}0..{prefix}N")
    return [data[k] for _, k in found]


def check_file(keras, path):
    """Failures of one archive, as messages; prints the deviations it measures."""
    npz = path.with_name(path.name[:-len(".keras")] + ".expected.npz")
    if not npz.exists():
        return [f"{path.name}: no {npz.name} beside it"]
    with np.load(npz, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    xs, ys = numbered(data, "x"), numbered(data, "y")
    with warnings.catch_warnings():
        # load_model builds a fresh optimizer from the compile config and warns when the
        # archive holds no optimizer state to fill it; predictions do not depend on it.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model = keras.saving.load_model(path)
    if len(xs) != len(model.inputs) or len(ys) != len(model.outputs):
        return [f"{path.name}: {len(xs)} inputs / {len(ys)} outputs in {npz.name}, the model "
                f"has {len(model.inputs)} / {len(model.outputs)}"]
    rows = len(xs[0])
    failures = []
    for n in sorted({b for b in BATCH_SIZES if b < rows} | {rows}):
        got = as_list(model.predict(model_arg([x[:n] for x in xs]), verbose=0))
        for i, (g, want) in enumerate(zip(got, ys)):
            g = np.asarray(g)
            if g.shape != want[:n].shape:
                failures.append(f"{path.name}: batch {n} output {i} shape {g.shape}, "
                                f"expected {want[:n].shape}")
                continue
            dev = float(np.max(np.abs(g - want[:n])))
            ok = np.isfinite(g).all() and dev <= ROUNDTRIP_TOL
            print(f"  {path.name}: batch {n:3d} output {i}: max |diff| {dev:.3g}"
                  f"{'' if ok else '  FAIL'}")
            if not ok:
                failures.append(f"{path.name}: batch {n} output {i} max |diff| {dev:.3g} "
                                f"> {ROUNDTRIP_TOL}")
    return failures


def check_roundtrip(keras, directory):
    paths = sorted(pathlib.Path(directory).glob("*.keras"))
    if not paths:
        print(f"FAIL: no *.keras files in {directory}")
        return 1
    failures = []
    for path in paths:
        try:
            failures += check_file(keras, path)
        except Exception as e:  # one broken archive must not hide the others' results
            failures.append(f"{path.name}: {type(e).__name__}: {e}")
    for message in failures:
        print("FAIL:", message)
    print(f"{len(paths)} archive(s) checked, {len(failures)} failure(s)")
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT,
                        help="fixture folder to write (default: tests/fixtures/keras)")
    parser.add_argument("--check-roundtrip", type=pathlib.Path, metavar="DIR",
                        help="only check every DIR/*.keras against its .expected.npz")
    args = parser.parse_args(argv)
    keras = require_keras()
    if args.check_roundtrip is not None:
        return check_roundtrip(keras, args.check_roundtrip)
    return make_all(keras, args.out)


if __name__ == "__main__":
    sys.exit(main())
