"""Task 3 of the seed: a model made to overfit, then the same model with L2 and Dropout.

A wide MLP (784-512-512-10, 670k parameters) learns 1,000 MNIST images by heart: its training
loss goes to zero while the loss on the test set (used as validation data, as the task suggests)
turns after a few epochs and rises. The same network regularized, with an L2 penalty on its
kernels (``L2(1e-4)`` adds ``1e-4 * sum(w^2)``, i.e. the seed's ``lambda/2 * ||w||^2`` with
lambda = 2e-4), Dropout(0.2) on its inputs and Dropout(0.5) after each hidden layer, learns the
training set more slowly and ends with a lower test cross-entropy and a higher test accuracy.
Both start from the same weights and see the same batches.

As in Keras, ``loss`` and ``val_loss`` of the regularized model include the L2 penalty, so the
runs are compared on the plain cross-entropy too (the metric ``sparse_categorical_crossentropy``).
"""

import _common
import nncore
from nncore import Sequential, plot_history
from nncore.layers import Dense, Dropout, Flatten, Input
from nncore.regularizers import L2

NAME = "03_overfitting"
CE = "sparse_categorical_crossentropy"
L2_FACTOR = 1e-4
DROPOUT = 0.5
INPUT_DROPOUT = 0.2


def build(regularized: bool):
    reg = L2(L2_FACTOR) if regularized else None
    layers = [Input((28, 28, 1)), Flatten()]
    if regularized:
        layers.append(Dropout(INPUT_DROPOUT))
    for _ in range(2):
        layers.append(Dense(512, activation="relu", kernel_regularizer=reg))
        if regularized:
            layers.append(Dropout(DROPOUT))
    layers.append(Dense(10, activation="softmax", kernel_regularizer=reg))
    return Sequential(layers, name="mlp_regularized" if regularized else "mlp_plain")


def gap(summary) -> float:
    """Train minus validation accuracy at the end: how much was learned by heart."""
    return summary["final"]["accuracy"] - summary["final"]["val_accuracy"]


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=40, argv=argv)
    n_train, n_test = (300, 500) if args.quick else (1000, 10000)
    (x_train, y_train), (x_test, y_test) = _common.load_mnist(args, n_train, n_test)
    n_epochs = _common.epochs(args, full=40, quick=3)
    print(f"{len(y_train)} training images, the {len(y_test)} test images as validation, {n_epochs} epochs")

    start = None
    histories, results = {}, {}
    for regularized, label in ((False, "plain"), (True, "L2 + Dropout")):
        model = build(regularized)
        model.build((None, 28, 28, 1))
        if start is None:
            start = model.get_weights()
        model.set_weights(start)  # Dropout adds no weights: the lists line up
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy", CE])
        nncore.set_seed(args.seed)
        timer = _common.EpochTimer()
        history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=32,
                            epochs=n_epochs, callbacks=[timer], verbose=0)
        histories[label] = history
        s = results[label] = _common.history_summary(history, timer)
        val_ce = history.history["val_" + CE]
        s["min_val_crossentropy"] = min(val_ce)
        s["min_val_crossentropy_epoch"] = val_ce.index(min(val_ce)) + 1
        f = s["final"]
        print(f"{label:<13} train accuracy {f['accuracy']:.4f}  test accuracy {f['val_accuracy']:.4f}  "
              f"(gap {gap(s):.4f}; best {s['best_val_accuracy']:.4f} at epoch {s['best_epoch']})\n"
              f"{'':<13} cross-entropy: train {f[CE]:.4f}  test {f['val_' + CE]:.4f} "
              f"(lowest {s['min_val_crossentropy']:.4f} at epoch {s['min_val_crossentropy_epoch']})  "
              f"{s['median_seconds_per_epoch']:.2f} s/epoch")
        if label == "plain":
            fig = plot_history(history, metrics=("loss", "accuracy"), title=f"Overfitting: {len(y_train)} training images, test as validation")
            _common.save_figure(fig, args.out / "overfitting.png")

    fig = plot_history(histories, metrics=("loss", CE, "accuracy"), figsize=(18, 4.5),
                       title="The same model without and with L2 + Dropout (loss includes the L2 penalty)")
    _common.save_figure(fig, args.out / "overfitting_vs_regularized.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "n_train": len(y_train),
                       "n_validation": len(y_test), "results": results}, args.out / "results.json")


if __name__ == "__main__":
    main()
