"""Task 1 of the seed: an MNIST network whose training is logged for TensorBoard.

Trains an MLP (784-128-10) and a small CNN with the TensorBoard callback, each into its own run
under ``<out>/logs/``, and plots both histories. Watch the logs live while it trains:

    tensorboard --logdir examples/output/01_mnist_tensorboard/logs
"""

import shutil

import _common
from nncore import Sequential, plot_history
from nncore.callbacks import TensorBoard
from nncore.layers import Conv2D, Dense, Flatten, Input, MaxPool2D

NAME = "01_mnist_tensorboard"


def mlp():
    return Sequential([Input((28, 28, 1)), Flatten(), Dense(128, activation="relu"),
                       Dense(10, activation="softmax")], name="mlp")


def cnn():
    return Sequential([
        Input((28, 28, 1)),
        Conv2D(16, 3, activation="relu"), MaxPool2D(2),
        Conv2D(32, 3, activation="relu"), MaxPool2D(2),
        Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax"),
    ], name="cnn")


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=5, argv=argv)
    n_train, n_test = (2000, 500) if args.quick else (None, None)
    (x_train, y_train), (x_test, y_test) = _common.load_mnist(args, n_train, n_test)
    n_epochs = _common.epochs(args, full=5, quick=2)

    histories, results = {}, {}
    for build in (mlp, cnn):
        model = build()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        log_dir = args.out / "logs" / model.name
        shutil.rmtree(log_dir, ignore_errors=True)  # one run per model, not one per invocation
        print(f"\n== {model.name}: TensorBoard logs in {log_dir}")
        timer = _common.EpochTimer()
        history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=64,
                            epochs=n_epochs, callbacks=[TensorBoard(log_dir=log_dir, histogram_freq=1),
                                                        timer], verbose=2)
        histories[model.name] = history
        results[model.name] = _common.history_summary(history, timer)
        print(f"{model.name}: test accuracy {results[model.name]['final']['val_accuracy']:.4f}")

    fig = plot_history(histories, title="MNIST: MLP vs CNN")
    _common.save_figure(fig, args.out / "history.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "results": results},
                      args.out / "results.json")
    print(f"\nView the logs: tensorboard --logdir {args.out / 'logs'}")


if __name__ == "__main__":
    main()
