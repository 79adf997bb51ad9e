"""Runs an iterator on a background thread, a few items ahead of its consumer, so that loading
and preparing the next batch overlaps the current step (the kernels release the GIL)."""

from __future__ import annotations

import queue
import threading

_DONE = object()


class Prefetcher:
    """An iterator over ``source``'s items, produced ``depth`` ahead on a daemon thread.

    An exception raised by ``source`` reaches the consumer at the item where it happened, with
    its own type and traceback. ``close()`` stops the thread (also when ``source`` blocks no
    longer than its next item) and closes ``source``.
    """

    def __init__(self, source, depth: int = 2):
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="nncore-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self):
        try:
            for item in self._source:
                if not self._put((True, item)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((False, exc))
            return
        self._put((True, _DONE))

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        ok, item = self._queue.get()
        if not ok:
            self._finished = True
            self._join()
            raise item
        if item is _DONE:
            self._finished = True
            self._join()
            raise StopIteration
        return item

    def _join(self):
        self._thread.join()
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            while self._thread.is_alive():
                try:                     # unblock a producer waiting on a full queue
                    self._queue.get_nowait()
                except queue.Empty:
                    self._thread.join(0.05)
        self._finished = True
        close = getattr(self._source, "close", None)
        if close is not None:
            close()
