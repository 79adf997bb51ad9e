"""The seed CIFAR-10 model trained data-parallel over MPI processes: ``mpirun -n 2 python
examples/10_distributed_cifar10.py``.

The script is example 5's with two more lines (``initialize`` and ``set_distribution``): every
process reads the data, takes its share of each global batch of 32, and the gradients are summed
over the processes, so the run follows the one-process run (same seed, same batches) while each
process computes half of every batch. Only process 0 prints, writes TensorBoard logs and figures.
Started without ``mpirun`` it trains in one process.
"""

import importlib
import time

import _common
import nncore
from nncore import plot_history, to_categorical
from nncore.callbacks import TensorBoard

NAME = "10_distributed_cifar10"
# The very model of example 5 (its file name is not an identifier, hence importlib).
seed_model = importlib.import_module("05_cifar10_seed").seed_model


def main(argv=None):
    # The two lines that make the script data-parallel (no-ops without a launcher).
    nncore.distribution.initialize()
    nncore.distribution.set_distribution(nncore.distribution.DataParallel())
    rank, size = nncore.distribution.process_index(), nncore.distribution.process_count()

    def extra(p):
        p.add_argument("--batch-size", type=int, default=32,
                       help="global batch, shared by the processes (default 32, the seed's)")

    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=10, argv=argv,
                              extra=extra)
    say = print if rank == 0 else (lambda *a, **k: None)
    n_train, n_test = (2000, 1000) if args.quick else (None, None)
    (x_train, y_train), (x_test, y_test) = _common.load_cifar10(args, n_train, n_test)
    say(f"{size} process(es) x {nncore.get_num_threads()} thread(s); global batch "
        f"{args.batch_size} ({args.batch_size // size} or so per process)")

    model = seed_model()
    if rank == 0:
        model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    y_train_cl, y_test_cl = to_categorical(y_train, 10), to_categorical(y_test, 10)
    timer = _common.EpochTimer()
    n_epochs = _common.epochs(args, full=10, quick=2)
    start = time.perf_counter()
    history = model.fit(x_train / 255., y_train_cl, validation_data=(x_test / 255., y_test_cl),
                        batch_size=args.batch_size, epochs=n_epochs, verbose=1 if rank == 0 else 0,
                        callbacks=[TensorBoard(log_dir=str(args.out / "logs")), timer])
    seconds = time.perf_counter() - start
    s = _common.history_summary(history, timer)
    say(f"\nval_accuracy after {n_epochs} epochs: {s['final']['val_accuracy']:.4f} "
        f"(best {s['best_val_accuracy']:.4f} at epoch {s['best_epoch']}; one process: example 5)")
    say(f"{n_epochs * len(x_train) / seconds:,.0f} training images/s over {size} process(es) "
        f"(validation included in the time)")
    if rank == 0:
        _common.save_figure(plot_history(history, title=f"Seed CIFAR-10 model, {size} processes"),
                            args.out / "history.png")
        _common.save_json({"run": _common.run_info(), "processes": size, "epochs": n_epochs,
                           "batch_size": args.batch_size, "n_train": len(x_train),
                           "results": s}, args.out / "results.json")


if __name__ == "__main__":
    main()
