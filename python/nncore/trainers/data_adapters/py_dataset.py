"""``PyDataset`` (Keras 3's ``keras.utils.PyDataset``): a dataset written in Python that hands out
whole batches by index, and ``iterate_batches``, which fetches one epoch of them ahead of the
consumer with threads or worker processes."""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import pickle
import sys
import warnings

__all__ = ["PyDataset", "iterate_batches"]

_DEFAULTS = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}


class PyDataset:
    """Base class of datasets that produce batches in Python code.

    A subclass implements ``__getitem__(index)``, returning the complete batch number ``index``
    as ``(x, y)``, ``(x, y, sample_weight)`` or ``x`` alone, and ``__len__()``, the number of
    batches (or the ``num_batches`` property, which may be ``None`` for an endless dataset). It
    may override ``on_epoch_begin()`` / ``on_epoch_end()``, e.g. to reshuffle between epochs.

    Args:
        workers: how many threads (or processes) fetch batches ahead of training. With 0 or 1
            (and no multiprocessing) batches are fetched one by one when needed.
        use_multiprocessing: fetch in worker processes rather than threads, for ``__getitem__``
            code that holds the GIL. The dataset is pickled and sent to the workers, so it must
            be picklable and its class importable (defined at module level).
        max_queue_size: how many batches may be fetched ahead of the one being consumed (0:
            as many as there are workers).

    These settings are read by ``fit``/``evaluate``/``predict``; iterating over the dataset
    directly (``for batch in dataset``) fetches inline.

    A subclass's ``__init__`` should call ``super().__init__(**kwargs)``; without it the
    defaults apply and a warning says so.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = [k for k in _DEFAULTS if k not in self.__dict__]
        for key in missing:
            self.__dict__[key] = _DEFAULTS[key]
        if missing:
            warnings.warn(
                f"{type(self).__name__}.__init__ should call super().__init__(**kwargs), which "
                "takes workers, use_multiprocessing and max_queue_size (fit() ignores them); "
                "using the defaults workers=1, use_multiprocessing=False, max_queue_size=10",
                UserWarning, stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position ``index``: ``(x, y)``, ``(x, y, sample_weight)`` or ``x``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    @property
    def num_batches(self):
        """The number of batches, or ``None`` for a dataset without end. Defaults to ``len``."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ or the "
                                  "num_batches property")

    def __iter__(self):
        # Keras iterates a dataset whose size is unknown as an endless one.
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (itertools.count() if n is None else range(n)):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the beginning of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (after its last batch)."""


# ---------------------------------------------------------------------- settings
def _settings(dataset):
    """``(workers, use_multiprocessing, max_queue_size)``, checked. Duck-typed datasets (a
    wrapper around a PyDataset) without these attributes get Keras' defaults."""
    workers = getattr(dataset, "workers", 1)
    use_mp = getattr(dataset, "use_multiprocessing", False)
    queue_size = getattr(dataset, "max_queue_size", 10)
    name = type(dataset).__name__
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"{name}: workers must be an int >= 0, got {workers!r}")
    if not isinstance(use_mp, bool):
        raise ValueError(f"{name}: use_multiprocessing must be True or False, got {use_mp!r}")
    if isinstance(queue_size, bool) or not isinstance(queue_size, int):
        raise ValueError(f"{name}: max_queue_size must be an int, got {queue_size!r}")
    # Keras takes 0 (its tests' default) as an unbounded queue; an endless dataset would then be
    # fetched without end, so here it means as many batches ahead as there are workers.
    return workers, use_mp, queue_size if queue_size >= 1 else max(workers, 1)


def _num_batches(dataset):
    n = dataset.num_batches if hasattr(dataset, "num_batches") else len(dataset)
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{type(dataset).__name__}: num_batches must be an int >= 0 or None "
                         f"(endless), got {n!r}")
    return n


# ---------------------------------------------------------------------- worker processes
_worker_payload: bytes | None = None
_worker_dataset = None


def _init_worker(payload: bytes) -> None:
    global _worker_payload, _worker_dataset
    _worker_payload, _worker_dataset = payload, None


def _fetch_in_worker(index):
    global _worker_dataset
    if _worker_dataset is None:
        # Rebuilt in the first task rather than in the initializer, so that a failure reaches
        # the consumer as an error rather than as a broken pool.
        try:
            _worker_dataset = pickle.loads(_worker_payload)
        except Exception as exc:
            raise RuntimeError(
                f"a worker process cannot rebuild the dataset ({type(exc).__name__}: {exc}); "
                "with use_multiprocessing=True its class must be importable by the workers: "
                "define it at module level in a module or script, not in an interactive "
                "session") from None
    return _worker_dataset[index]


def _process_pool(dataset, workers):
    import multiprocessing

    try:
        payload = pickle.dumps(dataset, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(
            f"use_multiprocessing=True sends the dataset to worker processes, but "
            f"{type(dataset).__name__} cannot be pickled ({type(exc).__name__}: {exc}): define "
            "its class at module level and keep unpicklable members (open files, locks, "
            "lambdas, generators) out of it, or use threads (use_multiprocessing=False)") from exc
    main = sys.modules.get("__main__")
    if type(dataset).__module__ == "__main__" and not getattr(main, "__file__", None):
        raise TypeError(f"use_multiprocessing=True: {type(dataset).__name__} is defined in an "
                        "interactive session, where worker processes cannot import it; define "
                        "it in a module, or use threads (use_multiprocessing=False)")
    # Workers are started fresh ("spawn") on every platform: forking a process that runs
    # threads (the compute kernels', the consumer's) can deadlock the child.
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=(payload,))


# ---------------------------------------------------------------------- one epoch
def iterate_batches(dataset, epoch_begin=True, epoch_end=True):
    """Yields the batches of one epoch of ``dataset``, ``dataset[0]``, ``dataset[1]``, ... up to
    ``num_batches - 1`` (without end when ``num_batches`` is None), exactly as ``__getitem__``
    returns them.

    ``dataset`` is a ``PyDataset`` or any object with ``__getitem__`` and ``num_batches`` (or
    ``__len__``); its ``workers``, ``use_multiprocessing`` and ``max_queue_size`` (Keras'
    defaults 1, False, 10 when absent) choose how batches are fetched:

    - ``workers > 1``, or ``workers >= 1`` with ``use_multiprocessing``: a pool of that many
      threads (processes with ``use_multiprocessing``, started with "spawn" and sent the
      pickled dataset; ``TypeError`` if it cannot be pickled) fetches up to ``max_queue_size``
      batches ahead of the one handed out. Batches still come out in index order.
    - otherwise each batch is fetched when the consumer asks for it.

    An exception raised by ``__getitem__`` reaches the consumer with its type and message, the
    pool having been shut down. Closing the generator early (``close()``, or dropping it)
    cancels the fetches not started and waits for the running ones, so no thread or process
    outlives it. A consumer that may fail mid-epoch should close it explicitly
    (``contextlib.closing``) rather than leave that to garbage collection.

    ``on_epoch_begin()`` is called before the first batch is fetched (``epoch_begin=True``);
    ``on_epoch_end()`` once every batch of the epoch has been handed out (``epoch_end=True``),
    when the consumer asks past the last batch or closes the generator after taking it; never
    for an epoch left early or failed, nor for an endless dataset. Pass False for the callers
    that call these hooks themselves. A process pool sees the dataset as it was when the
    epoch began, so ``on_epoch_end`` changes (a reshuffle) reach the workers next epoch.
    """
    workers, use_mp, queue_size = _settings(dataset)
    n = _num_batches(dataset)
    indices = itertools.count() if n is None else iter(range(n))
    if epoch_begin:
        dataset.on_epoch_begin()
    if not (workers > 1 or (workers >= 1 and use_mp)):
        delivered = 0
        try:
            for index in indices:
                batch = dataset[index]
                delivered += 1
                yield batch
        finally:
            if epoch_end and n is not None and delivered == n:
                dataset.on_epoch_end()
        return

    if use_mp:
        pool = _process_pool(dataset, workers)
        fetch = _fetch_in_worker
    else:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                     thread_name_prefix="nncore-pydataset")
        fetch = dataset.__getitem__
    pending: collections.deque = collections.deque()
    delivered = 0
    try:
        def top_up():
            # Keeps max_queue_size fetches submitted and not yet handed out.
            while len(pending) < queue_size:
                index = next(indices, None)
                if index is None:
                    return
                pending.append(pool.submit(fetch, index))

        top_up()
        while pending:
            batch = pending.popleft().result()
            top_up()
            delivered += 1
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        if epoch_end and n is not None and delivered == n:
            dataset.on_epoch_end()
