"""EpochIterator: the batches of each epoch for fit, evaluate and predict (Keras 3's semantics
for ``steps_per_epoch`` and for data that runs out)."""

from __future__ import annotations

import warnings

from .prefetch import Prefetcher


class EpochIterator:
    """Walks a data adapter epoch by epoch.

    Without ``steps``, an epoch is one pass over the data. With ``steps``, an epoch is that many
    batches: the same pass continues into the next epoch and a new pass starts only when the
    data is exhausted, so a generator is read once, ``steps * epochs`` batches in all. Data that
    runs out before ``steps`` ends the epoch early with a warning and sets ``exhausted``.
    Adapters that prepare batches in Python (generators, datasets) are read on a background
    thread.
    """

    def __init__(self, adapter, steps=None, what="fit"):
        if steps is not None:
            if isinstance(steps, bool) or int(steps) != steps or steps < 1:
                raise ValueError(f"{what}: steps must be a positive int, got {steps!r}")
            steps = int(steps)
        self.adapter = adapter
        self.steps = steps
        self._what = what
        self._current = None
        self.exhausted = False
        self.steps_seen = 0
        self._pass_steps = 0

    @property
    def num_batches(self):
        """Batches per epoch, or None while unknown (a generator before its end)."""
        return self.steps or self.adapter.num_batches

    def _new_pass(self):
        it = self.adapter.iterator()
        return Prefetcher(it) if self.adapter.prefetch else it

    def epoch(self):
        """Yields ``(step, batch)`` for one epoch."""
        self.exhausted = False
        self.adapter.on_epoch_begin()
        known = self.adapter.num_batches
        if self._current is None or self.steps is None or (
                known is not None and self._pass_steps >= known):
            self._close_current()
            self._current = self._new_pass()
            self._pass_steps = 0
        step = 0
        try:
            while self.steps is None or step < self.steps:
                try:
                    batch = next(self._current)
                except StopIteration:
                    # The pass is over: the next epoch starts a new one (a generator's is empty).
                    self._close_current()
                    self.exhausted = step == 0
                    if self.steps is not None:
                        warnings.warn(
                            f"{self._what}: the input ran out of data after {step} of "
                            f"{self.steps} steps of an epoch; make sure it yields at least "
                            "steps_per_epoch * epochs batches", stacklevel=3)
                    break
                self._pass_steps += 1
                yield step, batch
                step += 1
        finally:
            self.steps_seen = step
        self.adapter.on_epoch_end()

    def reset(self) -> None:
        """Makes the next epoch start a new pass over the data, as Keras does for each
        validation run; a generator, read once, continues where it stopped."""
        if not self.adapter.single_pass:
            self._close_current()

    def _close_current(self):
        if self._current is not None:
            close = getattr(self._current, "close", None)
            if close is not None:
                close()
            self._current = None

    def close(self) -> None:
        self._close_current()
        self.adapter.close()
