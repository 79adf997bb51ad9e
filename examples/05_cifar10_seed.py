"""The CIFAR-10 model of the seed lecture, exactly: same layers, recipe and output.

Conv2D(8, 3x3, same) -> MaxPool(2) -> Conv2D(16, 3x3, same) -> MaxPool(2) -> Flatten ->
Dense(128) -> Dense(10, softmax); adam, categorical cross-entropy, batch 32, 10 epochs, inputs
x / 255., one-hot labels, the test set as validation data, a TensorBoard callback. The lecture's
Keras run reached val_acc 0.6138 (43 s per epoch); on the shared CIFAR-10 copy, whose images are
partly decoded from JPEG, Keras 3 reaches 0.607 with this recipe.
"""

import _common
from nncore import Input, Model, plot_history, plot_image_grid, to_categorical
from nncore.callbacks import TensorBoard
from nncore.layers import Conv2D, Dense, Flatten, MaxPool2D

NAME = "05_cifar10_seed"


def seed_model():
    inp = Input(shape=(32, 32, 3))
    layer = Conv2D(filters=8, kernel_size=(3, 3), padding="same")(inp)
    layer = MaxPool2D(pool_size=(2, 2))(layer)
    layer = Conv2D(filters=16, kernel_size=(3, 3), padding="same")(layer)
    layer = MaxPool2D(pool_size=(2, 2))(layer)
    layer = Flatten()(layer)
    layer = Dense(units=128)(layer)
    out = Dense(units=10, activation="softmax")(layer)
    return Model(inp, out)


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=10, argv=argv)
    n_train, n_test = (2000, 1000) if args.quick else (None, None)
    (x_train, y_train), (x_test, y_test) = _common.load_cifar10(args, n_train, n_test)
    labels = _common.CIFAR10_LABELS
    print("Train:", x_train.shape, y_train.shape)
    print("Test:", x_test.shape, y_test.shape)
    fig = plot_image_grid(x_train[:10], titles=[labels[y_train[i, 0]] for i in range(10)], ncols=10,
                          figsize=(15, 1.8))
    _common.save_figure(fig, args.out / "samples.png")

    model = seed_model()
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    # Data preparation: one-hot classes and scaling, as in the lecture.
    y_train_cl = to_categorical(y_train, num_classes=10)
    y_test_cl = to_categorical(y_test, num_classes=10)
    x_train_scaled = x_train / 255.
    x_test_scaled = x_test / 255.

    tensorboard_callback = TensorBoard(log_dir=str(args.out / "logs" / "example1"))
    timer = _common.EpochTimer()
    n_epochs = _common.epochs(args, full=10, quick=2)
    print(f"Train on {len(x_train)} samples, validate on {len(x_test)} samples")
    history = model.fit(x_train_scaled, y_train_cl, validation_data=(x_test_scaled, y_test_cl),
                        batch_size=32, epochs=n_epochs, callbacks=[tensorboard_callback, timer])

    s = _common.history_summary(history, timer)
    print(f"\nval_accuracy after {n_epochs} epochs: {s['final']['val_accuracy']:.4f} "
          f"(best {s['best_val_accuracy']:.4f} at epoch {s['best_epoch']}; lecture: 0.6138, "
          f"Keras 3 on these files: 0.607)")
    print(f"time per epoch (training and validation): median {s['median_seconds_per_epoch']:.2f} s, "
          f"each: {', '.join(f'{t:.2f}' for t in s['seconds_per_epoch'])} s (lecture: 43 s)")
    fig = plot_history(history, title="Seed CIFAR-10 model")
    _common.save_figure(fig, args.out / "history.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "n_train": len(x_train),
                       "n_validation": len(x_test), "results": s}, args.out / "results.json")
    print(f"TensorBoard: tensorboard --logdir {args.out / 'logs'}")


if __name__ == "__main__":
    main()
