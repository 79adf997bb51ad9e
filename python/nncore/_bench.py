"""``nncore bench``: runs the benchmark scripts of a source checkout's ``bench/`` folder.

The scripts are not part of the installed package (they need the comparison frameworks and
write results next to themselves), so the checkout is looked for in ``$NNCORE_SOURCE_DIR``,
then the current folder and its parents, then the folders above the imported package (an
in-tree or editable install).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ENV_SOURCE_DIR = "NNCORE_SOURCE_DIR"

SCRIPTS = {
    "gemm": "bench_gemm.py",
    "conv": "bench_conv2d.py",
    "pool": "bench_pool2d.py",
    "fit": "bench_fit.py",
    "eltwise": "bench_eltwise.py",
    "pipeline": "bench_pipeline.py",
    "autodiff": "bench_autodiff.py",
    "distributed": "bench_distributed.py",
    "inference": "bench_inference.py",
    "cnn": "bench_cnn.py",
    "depthwise": "bench_depthwise.py",
    "norm": "bench_norm.py",
}


def _is_checkout(folder: Path) -> bool:
    return (folder / "bench" / "_harness.py").is_file() and (folder / "pyproject.toml").is_file()


def _candidates():
    env = os.environ.get(ENV_SOURCE_DIR)
    if env:
        # An explicit choice is not second-guessed: a wrong one is reported, not searched past.
        yield Path(env).expanduser(), f"${ENV_SOURCE_DIR}"
        return
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        yield folder, "current folder"
    here = Path(__file__).resolve().parent
    for folder in here.parents:
        yield folder, "package location"


def find_bench_dir() -> Path | None:
    """The ``bench/`` folder of the first checkout found (see the module docstring)."""
    for folder, _how in _candidates():
        if _is_checkout(folder):
            return folder / "bench"
    return None


def _not_found_message() -> str:
    env = os.environ.get(ENV_SOURCE_DIR)
    hint = (f"${ENV_SOURCE_DIR} is set to {env!r} but that folder has no bench/_harness.py.\n"
            if env else "")
    return (
        "nncore bench: the benchmark scripts were not found.\n"
        "They live in bench/ of an nncore source checkout and are not installed with the package.\n"
        f"{hint}"
        "Run this command inside the checkout, or point to it:\n"
        f"    {ENV_SOURCE_DIR}=/path/to/nncore nncore bench gemm\n"
        "or run a script directly:  python bench/bench_gemm.py --help"
    )


def list_message(bench_dir: Path | None) -> str:
    lines = ["Benchmarks (nncore bench NAME [script options]; NAME --help lists them):"]
    width = max(len(name) for name in SCRIPTS)
    for name, script in SCRIPTS.items():
        state = ""
        if bench_dir is not None and not (bench_dir / script).is_file():
            state = "   (not in this checkout)"
        lines.append(f"  {name:<{width}} bench/{script}{state}")
    lines.append(f"checkout: {bench_dir.parent}" if bench_dir is not None else _not_found_message())
    return "\n".join(lines)


def main(args) -> int:
    bench_dir = find_bench_dir()
    if args.name is None:
        print(list_message(bench_dir))
        return 0 if bench_dir is not None else 1
    if bench_dir is None:
        print(_not_found_message(), file=sys.stderr)
        return 1
    script = bench_dir / SCRIPTS[args.name]
    if not script.is_file():
        have = ", ".join(n for n, s in SCRIPTS.items() if (bench_dir / s).is_file()) or "none"
        print(f"nncore bench: {script} does not exist in this checkout (available here: {have})",
              file=sys.stderr)
        return 1
    cmd = [sys.executable, str(script), *args.script_args]
    print("running: " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        return subprocess.call(cmd, cwd=str(bench_dir.parent))
    except KeyboardInterrupt:
        return 130
