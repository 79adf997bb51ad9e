"""Starting a job of N processes from a command (``nncore demo --distributed``): Open MPI's
``mpirun`` from the ``distributed`` extra (next to the interpreter), else the one on PATH."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def find_mpirun() -> str | None:
    here = Path(sys.executable).parent
    for name in ("mpirun", "mpiexec"):
        if (here / name).is_file():
            return str(here / name)
    return shutil.which("mpirun") or shutil.which("mpiexec")


def launcher_env(threads_per_process: int | None = None) -> dict:
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Open MPI refuses to run as root unless told twice that it is meant.
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    if threads_per_process is not None:
        env["OMP_NUM_THREADS"] = str(threads_per_process)
    return env


def mpirun_command(processes: int, argv: list[str], mpirun: str) -> list[str]:
    """``mpirun -n N`` around ``argv``; more processes than cores get ``--oversubscribe``, and
    each process one core otherwise (``--bind-to core``)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    placement = ["--oversubscribe"] if processes > (cores or 1) else ["--bind-to", "core"]
    return [mpirun, "-n", str(processes), *placement, *argv]
