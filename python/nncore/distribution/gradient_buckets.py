"""Gradient sums overlapped with backward: the model's flat gradient buffer cut into
contiguous buckets, each summed over the processes (a non-blocking ``Iallreduce``) as soon as the
backward pass has finished every layer that writes into it, while backward goes on with the
earlier layers.

A bucket is ready after the backward of the first graph step (in forward order) that uses any of
its weights: backward runs the steps last to first, so every later use is done by then. Buckets
are launched in one fixed order on every process, as MPI requires of collectives.
"""

from __future__ import annotations

import time

import numpy as np


class GradientBuckets:
    """Buckets over ``grads`` (the flat buffer) for the steps of ``graph``."""

    def __init__(self, world, graph, variables, grads: np.ndarray, cap_bytes: int):
        self.world = world
        self.grads = grads
        first_use = {}
        for k, step in enumerate(graph.steps):
            for v in step.layer.trainable_weights:
                first_use.setdefault(id(v), k)
        never = len(graph.steps)      # a weight no step uses is final before backward starts
        spans, offset = [], 0
        for v in variables:
            spans.append((offset, offset + v.size, first_use.get(id(v), never)))
            offset += v.size
        cap = max(1, cap_bytes // grads.itemsize)
        self.buckets = []             # (lo, hi, ready): launch before step `ready - 1` runs
        hi, lo, ready = offset, offset, never
        for start, end, use in reversed(spans):
            lo, ready = start, min(ready, use)
            if hi - lo >= cap:
                self.buckets.append((lo, hi, ready))
                hi, ready = lo, never
        if hi > lo or not self.buckets:
            self.buckets.append((lo, hi, ready))
        self._next = 0
        self._requests = []
        self.wait_seconds = 0.0       # time the step spent waiting for communication
        self.progress_seconds = 0.0   # time spent inside backward starting and moving the sums

    def begin(self) -> None:
        self._next = 0
        self._requests = []

    def _launch_ready(self, step_index: int) -> None:
        buckets = self.buckets
        while self._next < len(buckets) and buckets[self._next][2] > step_index:
            lo, hi, _ = buckets[self._next]
            self._requests.append(self.world.iallreduce_(self.grads[lo:hi]))
            self._next += 1

    def before_step(self, step_index: int) -> None:
        """Called by the graph's backward before step ``step_index``'s backward runs."""
        if self._next == len(self.buckets) and not self._requests:
            return
        t0 = time.perf_counter()
        self._launch_ready(step_index)
        if self._requests:
            from mpi4py import MPI

            # Open MPI moves a non-blocking sum's data only inside MPI calls: this one does
            # it between layers, on this thread.
            if MPI.Request.Testall(self._requests):
                self._requests = []
        self.progress_seconds += time.perf_counter() - t0

    def finish(self) -> None:
        """Launches what is left and waits for every bucket's sum."""
        self._launch_ready(-1)
        t0 = time.perf_counter()
        if self._requests:
            from mpi4py import MPI

            MPI.Request.Waitall(self._requests)
        self.wait_seconds += time.perf_counter() - t0
        self._requests = []

    @property
    def sizes(self) -> list[int]:
        return [hi - lo for lo, hi, _ in self.buckets]


def allreduce_each(world, variables) -> None:
    """Sums every weight's gradient over the processes (weights not in one flat buffer)."""
    for v in variables:
        g = v.grad
        if g.flags.c_contiguous:
            world.allreduce_(g)
        else:
            tmp = np.ascontiguousarray(g)
            world.allreduce_(tmp)
            g[...] = tmp
