"""The ``nncore`` command line."""

from __future__ import annotations

import argparse
import sys


def _cmd_info(args: argparse.Namespace) -> int:
    from . import info

    facts = info()
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:<{width}}  {value}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import _demo

    return _demo.main(args)


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import _bench

    return _bench.main(args)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_demo(sub) -> None:
    from . import _demo

    p = sub.add_parser(
        "demo", help="train a small CNN on MNIST and print its test accuracy",
        description="Trains a small CNN on MNIST (3 epochs of a few seconds each on two idle cores) "
                    "and prints its test accuracy (98 % or more). MNIST is read from --data-dir, "
                    "$NNCORE_DATA_DIR or the user cache, or downloaded (pip install 'nncore[data]'); "
                    "offline without the files it falls back to scikit-learn's bundled 8x8 digits "
                    "(pip install 'nncore[demo]').")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help=f"training epochs (default {_demo.DEFAULT_EPOCHS} on MNIST, "
                        f"{_demo.DIGITS_EPOCHS} on the digits fallback, {_demo.QUICK_EPOCHS} with --quick)")
    p.add_argument("--batch-size", type=_positive_int, default=_demo.DEFAULT_BATCH_SIZE,
                   help=f"samples per step (default {_demo.DEFAULT_BATCH_SIZE})")
    p.add_argument("--data-dir", default=None,
                   help="folder with the four MNIST files (or a folder holding them as mnist/)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="threads for the kernels (default: $OMP_NUM_THREADS, else all cores)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: {_demo.QUICK_TRAIN} training and {_demo.QUICK_TEST} test "
                        "images, a few seconds")
    p.add_argument("--seed", type=int, default=_demo.DEFAULT_SEED, help="random seed (default 0)")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI processes (pip install 'nncore[distributed]'): "
                        "starts mpirun -n PROCESSES on the demo, or joins the job when already "
                        "started by mpirun/srun")
    p.add_argument("--processes", type=_positive_int, default=2,
                   help="processes of --distributed when the demo starts mpirun (default 2)")
    p.set_defaults(func=_cmd_demo)


def _add_bench(sub) -> None:
    from . import _bench

    p = sub.add_parser(
        "bench", help="run a benchmark script of a source checkout (bench/)",
        description="Runs bench/bench_NAME.py of an nncore source checkout with the remaining "
                    "arguments (try: nncore bench gemm --help). The scripts are not installed with "
                    "the package: run this inside the checkout or set $NNCORE_SOURCE_DIR. "
                    "Without NAME, lists the benchmarks.")
    p.add_argument("name", nargs="?", choices=list(_bench.SCRIPTS), metavar="NAME",
                   help="one of: " + ", ".join(_bench.SCRIPTS))
    p.add_argument("script_args", nargs=argparse.REMAINDER,
                   help="passed on to the script unchanged")
    p.set_defaults(func=_cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nncore", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="command")
    p_info = sub.add_parser("info", help="version, compiler, ISA path, threads, OpenMP runtime")
    p_info.set_defaults(func=_cmd_info)
    _add_demo(sub)
    _add_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
