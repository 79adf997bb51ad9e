"""Task 4 of the seed: training with and without data augmentation, the curves compared.

A small CNN learns 10,000 CIFAR-10 training images; the 10,000 test images are the validation
data. Without augmentation it soon fits the training set better and better while the validation
accuracy stalls and its loss rises. With random horizontal flips and random crops of the image
padded by 4 pixels (shifts of up to 4 pixels) it sees a new variant of each image every epoch:
training accuracy stays close to the validation accuracy and the validation accuracy keeps
climbing. The augmentation layers are part of the model and only act while training. Both runs
start from the same weights.
"""

import _common
import nncore
import numpy as np
from nncore import Sequential, plot_history, plot_image_grid
from nncore.layers import Conv2D, Dense, Flatten, Input, MaxPool2D, RandomCrop, RandomFlip

NAME = "04_augmentation"


def augmentation(seed):
    return [RandomFlip("horizontal", seed=seed), RandomCrop(32, 32, padding=4, fill_mode="reflect", seed=seed + 1)]


def build(augment: bool, seed: int):
    return Sequential([
        Input((32, 32, 3)),
        *(augmentation(seed) if augment else []),
        Conv2D(16, 3, padding="same", activation="relu"), MaxPool2D(2),
        Conv2D(32, 3, padding="same", activation="relu"), MaxPool2D(2),
        Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax"),
    ], name="cnn_augmented" if augment else "cnn_plain")


def show_augmentation(x, out, seed):
    """The same eight images as the augmented model sees them in three training steps."""
    layers = augmentation(seed)
    rows = [x]
    for _ in range(3):
        y = x
        for layer in layers:
            y = layer.forward(y, training=True)
        rows.append(y)
    grid = np.concatenate(rows)
    fig = plot_image_grid(grid, ncols=len(x), title="first row: originals; below: three augmented draws")
    _common.save_figure(fig, out / "augmented_samples.png")


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=30, argv=argv)
    n_train, n_test = (1000, 500) if args.quick else (10000, 10000)
    (x_train, y_train), (x_test, y_test) = _common.load_cifar10(args, n_train, n_test)
    x_train = x_train.astype(np.float32) / np.float32(255.0)
    x_test = x_test.astype(np.float32) / np.float32(255.0)
    n_epochs = _common.epochs(args, full=30, quick=2)
    print(f"CIFAR-10: {len(y_train)} training images, {len(y_test)} test images as validation, "
          f"{n_epochs} epochs")
    show_augmentation(x_train[:8], args.out, args.seed)

    start = None
    histories, results = {}, {}
    for augment, label in ((False, "no augmentation"), (True, "flip + crop")):
        model = build(augment, args.seed)
        model.build((None, 32, 32, 3))
        if start is None:
            start = model.get_weights()
        model.set_weights(start)  # augmentation layers have no weights: the lists line up
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        nncore.set_seed(args.seed)
        timer = _common.EpochTimer()
        history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=32,
                            epochs=n_epochs, callbacks=[timer], verbose=2)
        histories[label] = history
        s = results[label] = _common.history_summary(history, timer)
        f = s["final"]
        print(f"{label}: final train accuracy {f['accuracy']:.4f}, val_accuracy {f['val_accuracy']:.4f} "
              f"(best {s['best_val_accuracy']:.4f} at epoch {s['best_epoch']}), "
              f"{s['median_seconds_per_epoch']:.2f} s/epoch\n")

    fig = plot_history(histories, title=f"CIFAR-10, {len(y_train)} training images: with and without augmentation",
                       figsize=(13, 4.5))
    _common.save_figure(fig, args.out / "augmentation.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "n_train": len(y_train),
                       "n_validation": len(y_test), "results": results}, args.out / "results.json")


if __name__ == "__main__":
    main()
