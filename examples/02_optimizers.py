"""Task 2 of the seed: one model trained with several optimizers, the histories on one plot.

Every optimizer starts from the same initial weights and sees the same batches, so the curves
differ only by the update rule. Keras' default learning rates are used, so that plain SGD and
Adadelta look as slow as they are with those defaults (Adadelta's 0.001 in Keras 3; the original
paper's 1.0 is what made it popular).
"""

import time

import _common
import nncore
from nncore import Sequential, optimizers, plot_history
from nncore.layers import Dense, Flatten, Input

NAME = "02_optimizers"

OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(),
    "momentum": lambda: optimizers.SGD(momentum=0.9),
    "nesterov": lambda: optimizers.SGD(momentum=0.9, nesterov=True),
    "adagrad": lambda: optimizers.Adagrad(),
    "adadelta": lambda: optimizers.Adadelta(),
    "rmsprop": lambda: optimizers.RMSprop(),
    "adam": lambda: optimizers.Adam(),
    "adamax": lambda: optimizers.Adamax(),
    "nadam": lambda: optimizers.Nadam(),
}


def build():
    return Sequential([Input((28, 28, 1)), Flatten(), Dense(128, activation="relu"),
                       Dense(10, activation="softmax")], name="mlp")


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=10, argv=argv)
    n_train, n_test = (2000, 500) if args.quick else (20000, 10000)
    (x_train, y_train), (x_test, y_test) = _common.load_mnist(args, n_train, n_test)
    n_epochs = _common.epochs(args, full=10, quick=2)

    initial = build()
    initial.build((None, 28, 28, 1))
    start_weights = initial.get_weights()

    histories, results = {}, {}
    for name, make in OPTIMIZERS.items():
        model = build()
        model.build((None, 28, 28, 1))
        model.set_weights(start_weights)
        model.compile(optimizer=make(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        nncore.set_seed(args.seed)  # the same shuffling for every optimizer
        t0 = time.perf_counter()
        history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=64,
                            epochs=n_epochs, verbose=0)
        seconds = time.perf_counter() - t0
        histories[name] = history
        results[name] = _common.history_summary(history)
        final = results[name]["final"]
        print(f"{name:<9} loss {final['loss']:.4f}  accuracy {final['accuracy']:.4f}  "
              f"val_accuracy {final['val_accuracy']:.4f}  ({seconds:.1f} s)")

    fig = plot_history(histories, title=f"MNIST MLP, {len(y_train)} training images: optimizers compared",
                       figsize=(14, 5))
    _common.save_figure(fig, args.out / "optimizers.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "results": results},
                      args.out / "results.json")


if __name__ == "__main__":
    main()
