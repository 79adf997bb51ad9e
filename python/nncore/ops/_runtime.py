"""Run-time facts and settings of the C++ core: version, ISA path, threads."""

from __future__ import annotations

import contextlib
import platform
import sys

import numpy as np

from .. import _core


def _cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def info() -> dict:
    """What nncore runs with: version, compiler, ISA path (chosen and available), threads, OpenMP.

    ``isa`` is the instruction-set path the kernels use (``NNCORE_ISA`` can force a lower one);
    ``threads`` is what a parallel region uses now (``OMP_NUM_THREADS``, ``set_num_threads`` and
    threadpoolctl all change it).
    """
    return {
        "version": _core.__version__,
        "compiler": _core.compiler,
        "cpu": _cpu_model(),
        "isa": _core.active_isa(),
        "isa_detected": _core.detected_isa(),
        "isa_available": list(_core.supported_isas()),
        "threads": _core.get_num_threads(),
        "openmp": bool(_core.have_openmp),
        "openmp_runtime": _core.openmp_runtime(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def get_num_threads() -> int:
    """Threads the core's parallel regions use (honours OMP_NUM_THREADS by default)."""
    return int(_core.get_num_threads())


def set_num_threads(n: int) -> None:
    """Sets the number of threads of the core's parallel regions (n >= 1)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"set_num_threads: n must be an int, got {n!r}")
    _core.set_num_threads(int(n))


def get_winograd() -> bool:
    """Whether 3x3 stride-1 convolutions may take the Winograd paths: F(4x4, 3x3) for the
    forward and input gradient (>= 32 input and output channels), F(2x2, 3x3) for the float32
    weight gradient (>= 64 input and >= 32 output channels). On unless ``NNCORE_WINOGRAD=0``."""
    return bool(_core.get_winograd())


def set_winograd(enabled: bool | str | None) -> None:
    """Turns the Winograd convolution path on or off for the whole process; ``None`` follows the
    ``NNCORE_WINOGRAD`` environment variable again (``0`` turns it off). ``"always"`` (for tests)
    takes it for every 3x3 stride-1 layer with enough channels, even where the direct kernel is
    faster (maps so small that most of a 4x4 tile is wasted, or too few tiles)."""
    if enabled is None:
        mode = -1
    elif isinstance(enabled, (bool, np.bool_)):
        mode = int(bool(enabled))
    elif enabled == "always":
        mode = 2
    else:
        raise TypeError(f"set_winograd: enabled must be a bool, None or 'always', got {enabled!r}")
    _core.set_winograd(mode)


def available_isas() -> list[str]:
    """ISA paths this CPU can run, lowest first (``generic`` always)."""
    return list(_core.supported_isas())


def active_isa() -> str:
    return str(_core.active_isa())


@contextlib.contextmanager
def use_isa(name: str):
    """Runs the enclosed code on another ISA path (tests compare every path with ``generic``).

    The switch is process-wide; do not use it while other threads run nncore ops.
    """
    previous = _core.active_isa()
    _core.set_isa(name)
    try:
        yield
    finally:
        _core.set_isa(previous)
