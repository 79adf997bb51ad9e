"""Data-parallel training over processes and machines on MPI (Keras 3's ``keras.distribution``
names). Launch the unchanged script with ``mpirun -n N python train.py`` and add two lines
before the model is built::

    nncore.distribution.initialize()
    nncore.distribution.set_distribution(nncore.distribution.DataParallel())

``fit`` then trains as one process would on the same global batches; ``evaluate`` and
``predict`` share the batches and combine the results. Without a launcher both calls change
nothing. Needs the ``distributed`` extra (mpi4py and Open MPI).
"""

from __future__ import annotations

import os

from . import context
from .data_parallel import DataParallel
from .world import connect, launched_size


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Joins the MPI world the launcher started (a no-op in a single process).

    Keras' arguments are checked against what the launcher says: ``num_processes`` and
    ``process_id`` must match it; ``job_addresses`` (hosts) belong to ``mpirun --host`` or a
    hostfile. Unless ``OMP_NUM_THREADS`` says otherwise, each process takes its share of the
    cores it may run on (all of them divided by the processes on this host, or the core a
    ``--bind-to core`` gave it). An uncaught exception on any process ends the whole job.
    """
    if job_addresses is not None:
        raise ValueError("initialize: job_addresses are given to the launcher (mpirun --host, "
                         "--hostfile, or Slurm), not here")
    world = context._world if context._world is not None else connect()
    if num_processes is not None and int(num_processes) != world.size:
        raise ValueError(f"initialize: num_processes={num_processes}, but the launcher started "
                         f"{world.size} process(es)")
    if process_id is not None and int(process_id) != world.rank:
        raise ValueError(f"initialize: process_id={process_id}, but this is process {world.rank}")
    context.set_world(world)
    if world.size > 1 and "OMP_NUM_THREADS" not in os.environ:
        from ..ops import set_num_threads

        set_num_threads(_threads_per_process(world.local_size))


def _threads_per_process(local_size: int) -> int:
    mine = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    total = os.cpu_count() or mine
    if mine < total:           # bound by the launcher: use what it gave
        return max(1, mine)
    return max(1, total // max(1, local_size))


def set_distribution(value) -> None:
    """Makes ``value`` (a ``DataParallel`` or None) the distribution of the models trained from
    now on."""
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution: expected a DataParallel or None, got {value!r}")
    if value is not None and context._world is None and launched_size() > 1:
        initialize()        # started by a launcher: join its job rather than train alone
    context.set_distribution(value)


def distribution():
    """The distribution set by ``set_distribution`` (None if none)."""
    return context.get_distribution()


def process_index() -> int:
    """This process's rank (0 without a launcher)."""
    return context.world().rank


def process_count() -> int:
    """How many processes train together (1 without a launcher)."""
    return context.world().size


def fit_stats() -> dict:
    """Figures of the last data-parallel ``fit`` on this process: ``steps``, ``wait_seconds``
    (time spent waiting for gradient sums after backward: communication not hidden behind
    backward, and the wait for slower processes), ``progress_seconds`` (time backward spent
    starting the sums and moving their data between layers), ``bucket_sizes`` (gradients per
    bucket) and ``gradient_bytes``."""
    return dict(context.last_fit_stats)


def list_devices(device_type=None) -> list[str]:
    """One CPU device per process (Keras' call)."""
    if device_type not in (None, "cpu", "CPU"):
        return []
    return [f"cpu:{i}" for i in range(process_count())]


__all__ = ["DataParallel", "distribution", "fit_stats", "initialize", "list_devices", "process_count",
           "process_index", "set_distribution"]
