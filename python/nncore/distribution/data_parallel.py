"""``DataParallel``: every process holds the whole model and trains on its share of each batch
(Keras 3's name and constructor; the processes are MPI ranks rather than devices)."""

from __future__ import annotations

from . import context
from .world import launched_size


class DataParallel:
    """Data-parallel training over the processes of ``mpirun -n N`` (or ``srun``).

    ``fit``'s ``batch_size`` stays the global batch: each process takes its contiguous share of
    every batch of one shuffled order, gradients are summed over the processes in buckets of
    ``bucket_cap_mb`` megabytes while backward still runs, and logs, validation and ``evaluate``
    are reduced over the processes, so N processes train as one process would.

    ``device_mesh`` and ``devices`` (Keras' arguments) must be None or list the processes:
    there is one CPU device per process. ``auto_shard_dataset=False`` makes every process train
    on the whole batch it reads (for data a script already splits by ``process_index()``).
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True,
                 bucket_cap_mb=0.25):
        if context._world is None and launched_size() > 1:
            from . import initialize

            initialize()    # the processes are those of the launcher's job
        size = context.world().size
        if device_mesh is not None:
            shape = tuple(getattr(device_mesh, "shape", device_mesh))
            if shape != (size,):
                raise ValueError(f"DataParallel: device_mesh of shape {shape} does not match the "
                                 f"{size} processes (one CPU device per process)")
        if devices is not None and len(devices) != size:
            raise ValueError(f"DataParallel: {len(devices)} devices given for {size} processes "
                             "(one CPU device per process)")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        self.auto_shard_dataset = bool(auto_shard_dataset)
        self.bucket_cap_mb = float(bucket_cap_mb)

    @property
    def batch_dim_name(self) -> str:
        return "batch"

    def __repr__(self) -> str:
        return (f"DataParallel(processes={context.world().size}, "
                f"auto_shard_dataset={self.auto_shard_dataset}, "
                f"bucket_cap_mb={self.bucket_cap_mb})")
