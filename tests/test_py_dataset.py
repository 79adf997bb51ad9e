"""PyDataset (Keras 3's keras.utils.PyDataset) and iterate_batches, which fetches one epoch of
its batches ahead of the consumer with threads or worker processes, in index order."""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import nncore.utils
from nncore.trainers.data_adapters.py_dataset import PyDataset, iterate_batches

THREAD_PREFIX = "nncore-pydataset"


# ---------------------------------------------------------------------- datasets (module level:
# worker processes import them)
class ExamplePyDataset(PyDataset):
    """Keras' ExamplePyDataset (py_dataset_adapter_test.py)."""

    def __init__(self, x_set, y_set, sample_weight=None, batch_size=32, delay=0, infinite=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x_set, y_set
        self.batch_size = batch_size
        self.sample_weight = sample_weight
        self.delay = delay
        self.infinite = infinite

    @property
    def num_batches(self):
        if self.infinite:
            return None
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        time.sleep(self.delay)
        if self.infinite:
            idx = idx % math.ceil(len(self.x) / self.batch_size)
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.x))
        if self.sample_weight is not None:
            return self.x[low:high], self.y[low:high], self.sample_weight[low:high]
        return self.x[low:high], self.y[low:high]


class ExceptionPyDataset(PyDataset):
    """Keras' ExceptionPyDataset: batches 0 and 1, then a ValueError."""

    @property
    def num_batches(self):
        return 4

    def __getitem__(self, index):
        if index < 2:
            return (np.random.random((8, 4)).astype("float32"),
                    np.random.random((8, 2)).astype("float32"))
        raise ValueError("Expected exception")


class BatchBroken(Exception):
    """An exception type of the user's own, which must reach the consumer as itself."""


class Indexed(PyDataset):
    """Batch i is ``(i, pid)``; the items listed in ``fail`` raise BatchBroken. ``slow_first``
    makes early items take longest, so later ones finish first."""

    def __init__(self, n=8, slow_first=0.0, fail=(), delay=0.0, **kwargs):
        super().__init__(**kwargs)
        self.n, self.slow_first, self.fail, self.delay = n, slow_first, set(fail), delay

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if index in self.fail:
            raise BatchBroken(f"batch {index} is broken")
        time.sleep(self.slow_first * (self.n - index) + self.delay)
        return index, os.getpid()


class Recording(PyDataset):
    """Records fetches, completions and hook calls (thread-safe)."""

    def __init__(self, n=6, delays=None, **kwargs):
        super().__init__(**kwargs)
        self.n, self.delays = n, delays or {}
        self.lock = threading.Lock()
        self.events = []

    def _log(self, event):
        with self.lock:
            self.events.append(event)

    @property
    def num_batches(self):
        return self.n

    def __getitem__(self, index):
        self._log(("get", index))
        time.sleep(self.delays.get(index, 0.0))
        self._log(("done", index))
        return index

    def on_epoch_begin(self):
        self._log(("begin",))

    def on_epoch_end(self):
        self._log(("end",))

    def count(self, kind):
        with self.lock:
            return sum(e[0] == kind for e in self.events)


def pool_threads():
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def keras_data():
    rng = np.random.default_rng(1337)
    x = rng.random((64, 4)).astype("float32")
    y = np.array([[i, i] for i in range(64)], dtype="float32")
    return x, y


# ---------------------------------------------------------------------- ported Keras cases
BASIC_FLOW = {
    "multiprocessing": dict(workers=2, use_multiprocessing=True, max_queue_size=10),
    "multithreading": dict(workers=2, use_multiprocessing=False, max_queue_size=10),
    "single_np": dict(workers=0, use_multiprocessing=False, max_queue_size=0),
}


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_basic_flow
# (the shuffle=False variants with NumPy data; shuffling is the adapter's)
@pytest.mark.parametrize("infinite", [False, True])
@pytest.mark.parametrize("mode", list(BASIC_FLOW))
def test_basic_flow(mode, infinite):
    x, y = keras_data()
    dataset = ExamplePyDataset(x, y, batch_size=16, infinite=infinite, **BASIC_FLOW[mode])
    sample_order = []
    gen = iterate_batches(dataset)
    for batch in gen:
        assert len(batch) == 2
        bx, by = batch
        assert isinstance(bx, np.ndarray) and isinstance(by, np.ndarray)
        assert bx.dtype == by.dtype == np.float32
        assert bx.shape == (16, 4) and by.shape == (16, 2)
        sample_order.extend(by[:, 0].tolist())
        if infinite and len(sample_order) >= 128:
            break
    gen.close()
    expected_order = list(range(64))
    np.testing.assert_allclose(sample_order, expected_order + expected_order if infinite
                               else expected_order)
    assert not pool_threads()


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_speedup
def test_speedup():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4)), rng.random((40, 2))
    t0 = time.time()
    for _ in iterate_batches(ExamplePyDataset(x, y, batch_size=4, delay=0.2)):
        pass
    no_speedup_time = time.time() - t0
    t0 = time.time()
    for _ in iterate_batches(ExamplePyDataset(x, y, batch_size=4, workers=4, max_queue_size=8,
                                              delay=0.2)):
        pass
    speedup_time = time.time() - t0
    assert speedup_time < no_speedup_time


class DictPyDataset(PyDataset):
    def __init__(self, inputs, batch_size=32, **kwargs):
        super().__init__(**kwargs)
        self.inputs = inputs
        self.batch_size = batch_size

    @property
    def num_batches(self):
        return math.ceil(len(self.inputs["x"]) / self.batch_size)

    def __getitem__(self, idx):
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.inputs["x"]))
        return {"x": self.inputs["x"][low:high], "y": self.inputs["y"][low:high]}


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_dict_inputs
def test_dict_inputs():
    rng = np.random.default_rng(0)
    inputs = {"x": rng.random((40, 4)), "y": rng.random((40, 2))}
    batches = list(iterate_batches(DictPyDataset(inputs, batch_size=4, workers=2)))
    assert len(batches) == 10
    for batch in batches:
        assert len(batch) == 2
        bx, by = batch["x"], batch["y"]
        assert isinstance(bx, np.ndarray) and isinstance(by, np.ndarray)
        assert bx.dtype == by.dtype
        assert bx.shape == (4, 4) and by.shape == (4, 2)


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_with_different_shapes
def test_with_different_shapes():
    class TestPyDataset(PyDataset):
        @property
        def num_batches(self):
            return 3

        def __getitem__(self, idx):
            if idx == 0:
                return np.ones([16, 4], "float32"), np.ones([16, 2], "float32")
            if idx == 1:
                return np.ones([16, 5], "float32"), np.ones([16, 2], "float32")
            return np.ones([2, 6], "float32"), np.ones([2, 2], "float32")

    shapes = [(bx.shape, by.shape) for bx, by in iterate_batches(TestPyDataset())]
    assert shapes == [((16, 4), (16, 2)), ((16, 5), (16, 2)), ((2, 6), (2, 2))]


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_exception_reported
@pytest.mark.parametrize("settings", [
    dict(workers=2, use_multiprocessing=True, max_queue_size=10),   # multiprocessing
    dict(workers=2, max_queue_size=10),                             # multithreading
    dict(workers=0, use_multiprocessing=False, max_queue_size=0),   # single
], ids=["multiprocessing", "multithreading", "single"])
def test_exception_reported(settings):
    it = iterate_batches(ExceptionPyDataset(**settings))
    next(it)
    next(it)
    with pytest.raises(ValueError, match="Expected exception"):
        next(it)
    assert not pool_threads()


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_iterate_finite
def test_iterate_finite():
    py_dataset = ExamplePyDataset(np.ones((6, 11), dtype="int32"), np.zeros((6, 11), dtype="int32"),
                                  batch_size=2)
    assert len([batch for batch in py_dataset]) == 3
    assert len(list(iterate_batches(py_dataset))) == 3


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_iterate_infinite_with_none_num_batches
def test_iterate_infinite_with_none_num_batches():
    py_dataset = ExamplePyDataset(np.ones((6, 11), dtype="int32"), np.zeros((6, 11), dtype="int32"),
                                  batch_size=2, infinite=True)
    for index, _ in enumerate(py_dataset):
        if index >= 10:
            break
    assert index == 10
    assert len(list(itertools.islice(iterate_batches(py_dataset), 11))) == 11


# keras/src/trainers/data_adapters/py_dataset_adapter_test.py::PyDatasetAdapterTest::test_iterate_infinite_with_no_len
def test_iterate_infinite_with_no_len():
    class NoLenDataset(PyDataset):
        def __getitem__(self, idx):
            yield np.ones((2, 11), dtype="int32")

    for index, _ in enumerate(NoLenDataset()):
        if index >= 10:
            break
    assert index == 10
    # Fed to training, a dataset that says nothing of its size is a mistake, named as such.
    with pytest.raises(NotImplementedError, match="NoLenDataset must implement __len__ or the "
                                                  "num_batches property"):
        next(iterate_batches(NoLenDataset()))


# ---------------------------------------------------------------------- order, workers
def test_thread_workers_keep_index_order_when_later_items_finish_first():
    dataset = Recording(n=6, delays={0: 0.4, 1: 0.1, 4: 0.05}, workers=2, max_queue_size=6)
    assert list(iterate_batches(dataset)) == list(range(6))
    done = [e[1] for e in dataset.events if e[0] == "done"]
    assert done[-1] == 0  # the test's premise: every later item finished before the first
    assert not pool_threads()


def test_thread_workers_run_concurrently():
    dataset = Indexed(n=8, slow_first=0.03, workers=4)
    t0 = time.monotonic()
    got = [i for i, _ in iterate_batches(dataset)]
    elapsed = time.monotonic() - t0
    assert got == list(range(8))
    assert elapsed < 0.03 * sum(range(1, 9)) * 0.8  # one by one would take 1.08 s


def test_worker_processes_fetch_in_order_in_other_processes():
    dataset = Indexed(n=6, slow_first=0.05, workers=2, use_multiprocessing=True, max_queue_size=6)
    batches = list(iterate_batches(dataset))
    assert [i for i, _ in batches] == list(range(6))
    pids = {pid for _, pid in batches}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert not multiprocessing.active_children()


def test_one_worker_with_multiprocessing_uses_a_process_and_one_thread_worker_is_inline():
    # Keras' rule: a pool when workers > 1, or workers >= 1 with multiprocessing.
    (_, pid), = list(iterate_batches(Indexed(n=1, workers=1, use_multiprocessing=True)))
    assert pid != os.getpid()
    before = threading.active_count()
    gen = iterate_batches(Indexed(n=3, workers=1))
    assert next(gen) == (0, os.getpid())
    assert not pool_threads() and threading.active_count() == before
    gen.close()


def test_unpicklable_dataset_with_multiprocessing_is_a_clear_error():
    dataset = Indexed(n=3, workers=2, use_multiprocessing=True)
    dataset.lock = threading.Lock()
    with pytest.raises(TypeError, match=r"use_multiprocessing=True sends the dataset to worker "
                                        r"processes, but Indexed cannot be pickled.*lock"):
        next(iterate_batches(dataset))
    assert not multiprocessing.active_children()


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("settings", [dict(workers=0), dict(workers=3),
                                      dict(workers=2, use_multiprocessing=True)],
                         ids=["inline", "threads", "processes"])
def test_getitem_exception_reaches_the_consumer_with_its_type_and_message(settings):
    gen = iterate_batches(Indexed(n=10, fail={3}, **settings))
    assert [next(gen)[0] for _ in range(3)] == [0, 1, 2]
    with pytest.raises(BatchBroken, match="^batch 3 is broken$"):
        next(gen)
    with pytest.raises(StopIteration):
        next(gen)
    assert not pool_threads()
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("field,value,message", [
    ("_workers", -1, "workers must be an int >= 0, got -1"),
    ("_workers", 2.5, "workers must be an int >= 0, got 2.5"),
    ("_use_multiprocessing", "yes", "use_multiprocessing must be True or False, got 'yes'"),
    ("_max_queue_size", None, "max_queue_size must be an int, got None"),
])
def test_bad_settings_are_named(field, value, message):
    dataset = Indexed(n=2)
    setattr(dataset, field, value)
    with pytest.raises(ValueError, match=rf"Indexed: {message}"):
        next(iterate_batches(dataset))


def test_bad_num_batches_is_named():
    class Bad(PyDataset):
        def __len__(self):
            return 0

        @property
        def num_batches(self):
            return 2.0

        def __getitem__(self, index):
            return index

    with pytest.raises(ValueError, match=r"Bad: num_batches must be an int >= 0 or None .*2\.0"):
        next(iterate_batches(Bad()))


# ---------------------------------------------------------------------- epochs
@pytest.mark.parametrize("settings", [dict(workers=1), dict(workers=3, max_queue_size=2)],
                         ids=["inline", "threads"])
def test_epoch_hooks_are_called_once_per_epoch_around_the_batches(settings):
    dataset = Recording(n=4, **settings)
    for epoch in range(3):
        assert list(iterate_batches(dataset)) == [0, 1, 2, 3]
        assert dataset.count("begin") == dataset.count("end") == epoch + 1
    epoch_events = dataset.events[:len(dataset.events) // 3]
    assert epoch_events[0] == ("begin",) and epoch_events[-1] == ("end",)
    assert dataset.count("get") == 12


def test_on_epoch_end_after_the_last_batch_even_when_the_consumer_closes_then():
    dataset = Recording(n=3, workers=2)
    gen = iterate_batches(dataset)
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    assert dataset.count("end") == 0
    gen.close()
    assert dataset.count("end") == 1


def test_epoch_hooks_can_be_left_to_the_caller():
    dataset = Recording(n=3, workers=2)
    assert list(iterate_batches(dataset, epoch_begin=False, epoch_end=False)) == [0, 1, 2]
    assert dataset.count("begin") == dataset.count("end") == 0


@pytest.mark.parametrize("settings", [dict(workers=1), dict(workers=2)], ids=["inline", "threads"])
def test_no_on_epoch_end_for_an_epoch_left_early_or_failed(settings):
    dataset = Recording(n=5, **settings)
    gen = iterate_batches(dataset)
    next(gen)
    gen.close()
    failing = Indexed(n=4, fail={2}, **settings)
    ends = []
    failing.on_epoch_end = lambda: ends.append(1)
    with pytest.raises(BatchBroken):
        list(iterate_batches(failing))
    assert dataset.count("end") == 0 and not ends


def test_reshuffle_in_on_epoch_end_changes_the_next_epoch():
    class Shuffled(PyDataset):
        def __init__(self):
            super().__init__(workers=2)
            self.order = list(range(5))
            self.epochs = 0

        def __len__(self):
            return 5

        def __getitem__(self, index):
            return self.order[index]

        def on_epoch_end(self):
            self.epochs += 1
            self.order = self.order[1:] + self.order[:1]

    dataset = Shuffled()
    assert list(iterate_batches(dataset)) == [0, 1, 2, 3, 4]
    assert list(iterate_batches(dataset)) == [1, 2, 3, 4, 0]
    assert dataset.epochs == 2


def test_endless_dataset_yields_until_the_consumer_stops():
    class Endless(PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.ends = 0

        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return index

        def on_epoch_end(self):
            self.ends += 1

    for settings in (dict(workers=1), dict(workers=3, max_queue_size=4)):
        dataset = Endless(**settings)
        gen = iterate_batches(dataset)
        assert list(itertools.islice(gen, 500)) == list(range(500))
        gen.close()
        assert dataset.ends == 0
    assert not pool_threads()


# ---------------------------------------------------------------------- shutdown, queue bound
def test_early_close_leaves_no_worker_threads():
    before = set(threading.enumerate())
    dataset = Indexed(n=40, delay=0.05, workers=3, max_queue_size=5)
    gen = iterate_batches(dataset)
    assert next(gen)[0] == 0 and next(gen)[0] == 1
    assert pool_threads()  # the pool is running
    gen.close()
    assert not pool_threads()
    assert set(threading.enumerate()) <= before


def test_dropping_the_generator_shuts_the_pool_down():
    gen = iterate_batches(Indexed(n=40, delay=0.02, workers=3))
    next(gen)
    del gen  # CPython closes a dropped generator at once
    assert not pool_threads()


def test_early_close_stops_worker_processes():
    gen = iterate_batches(Indexed(n=40, delay=0.05, workers=2, use_multiprocessing=True))
    next(gen)
    assert multiprocessing.active_children()
    gen.close()
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("queue_size", [1, 3, 7])
def test_max_queue_size_bounds_the_batches_fetched_ahead(queue_size):
    dataset = Recording(n=50, workers=2, max_queue_size=queue_size)
    gen = iterate_batches(dataset)
    for taken in range(1, 4):
        next(gen)
        deadline = time.monotonic() + 5
        while dataset.count("get") < taken + queue_size and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # time for the workers to fetch more, were they allowed to
        assert dataset.count("get") == taken + queue_size
    gen.close()


# ---------------------------------------------------------------------- the class itself
def test_settings_are_properties_with_keras_defaults():
    dataset = Indexed(n=2)
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (1, False, 10)
    dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size = 3, True, 4
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (3, True, 4)
    assert dataset.num_batches == len(dataset) == 2
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        PyDataset()[0]


def test_subclass_without_super_init_warns_and_uses_the_defaults():
    class Forgetful(PyDataset):
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            return index * 10

    dataset = Forgetful(3)
    with pytest.warns(UserWarning, match=r"Forgetful.__init__ should call super\(\).__init__"):
        assert dataset.workers == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, then the defaults are in place
        assert (dataset.use_multiprocessing, dataset.max_queue_size) == (False, 10)
    with pytest.warns(UserWarning, match="super"):
        assert list(iterate_batches(Forgetful(3))) == [0, 10, 20]


def test_pickles_for_worker_processes():
    dataset = Indexed(n=3, workers=2, use_multiprocessing=True)
    back = pickle.loads(pickle.dumps(dataset))
    assert (back.workers, back.use_multiprocessing, back[1][0]) == (2, True, 1)


def test_reexported_as_nncore_utils_pydataset():
    assert nncore.utils.PyDataset is PyDataset
    assert "PyDataset" in nncore.utils.__all__


_SCRIPT = '''
import os
from nncore.utils import PyDataset
from nncore.trainers.data_adapters.py_dataset import iterate_batches


class Squares(PyDataset):
    def __len__(self):
        return 5

    def __getitem__(self, index):
        return index * index, os.getpid()


if __name__ == "__main__":
    batches = list(iterate_batches(Squares(workers=2, use_multiprocessing=True)))
    assert [b for b, _ in batches] == [0, 1, 4, 9, 16]
    assert os.getpid() not in {pid for _, pid in batches}
    print("ok")
'''


def test_multiprocessing_with_a_dataset_class_of_a_script_and_of_an_interactive_session(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    # `python -c` (like a notebook) has no file the workers could import the class from.
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode != 0
    assert "TypeError: use_multiprocessing=True: Squares is defined in an interactive session" \
        in proc.stderr
