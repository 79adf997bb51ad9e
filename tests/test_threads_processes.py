"""Threads and processes: OMP_NUM_THREADS, set_num_threads and threadpoolctl control the core's
pool; results do not depend on the thread count; a forked child trains without hanging; PyTorch
in the same process (imported before or after) does not clash."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nncore
from nncore import ops


def run_python(code, env=None, timeout=120):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("n", ["1", "3"])
def test_omp_num_threads_is_the_default(n):
    out = run_python("import nncore; print(nncore.get_num_threads())", {"OMP_NUM_THREADS": n})
    assert out.strip() == n


def test_set_num_threads_and_threadpoolctl_limit_the_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = nncore.get_num_threads()
    try:
        nncore.set_num_threads(2)
        apis = {i["internal_api"] for i in threadpoolctl.threadpool_info()}
        assert "openmp" in apis            # our OpenMP runtime is visible to threadpoolctl
        with threadpoolctl.threadpool_limits(1):
            assert nncore.get_num_threads() == 1
        assert nncore.get_num_threads() == 2
        with pytest.raises((TypeError, ValueError)):
            nncore.set_num_threads("two")
    finally:
        nncore.set_num_threads(before)


def test_set_num_threads_holds_in_threads_started_later():
    """OpenMP keeps thread counts per thread; set_num_threads is for the whole process, so a
    thread started afterwards (a data loader, a server worker) runs with the count set."""
    code = """
        import threading
        import nncore
        nncore.set_num_threads(1)
        seen = []
        t = threading.Thread(target=lambda: seen.append(nncore.get_num_threads()))
        t.start(); t.join()
        nncore.set_num_threads(3)
        t = threading.Thread(target=lambda: seen.append(nncore.get_num_threads()))
        t.start(); t.join()
        print(seen, nncore.get_num_threads())
    """
    out = run_python(code, {"OMP_NUM_THREADS": "2"})
    assert out.strip() == "[1, 3] 3"


def results(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((300, 200)).astype(np.float32)
    b = rng.standard_normal((200, 150)).astype(np.float32)
    x = rng.standard_normal((8, 20, 20, 5)).astype(np.float32)
    w = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    p, g = rng.standard_normal(5000).astype(np.float32), rng.standard_normal(5000).astype(np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    ops.adam_step(p, g, m, v, lr=0.01, step=1)
    y = ops.conv2d(x, w, padding="same")
    return {"matmul": ops.matmul(a, b), "conv": y, "relu": ops.relu(y),
            "softmax": ops.softmax(a), "pool": ops.max_pool2d(x, 2), "adam": p,
            "wgrad": ops.conv2d_backward_weight(x, y, w.shape, padding="same")}


def test_results_do_not_depend_on_the_thread_count():
    before = nncore.get_num_threads()
    try:
        nncore.set_num_threads(1)
        one = results()
        nncore.set_num_threads(2)
        two = results()
    finally:
        nncore.set_num_threads(before)
    for name in ("relu", "softmax", "pool", "adam"):      # elementwise / per-row: bitwise
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)
    for name in ("matmul", "conv", "wgrad"):              # split reductions: rounding only
        scale = float(np.abs(one[name]).max())
        np.testing.assert_allclose(one[name], two[name], rtol=1e-5, atol=1e-6 * scale, err_msg=name)


def _train_in_child(queue):
    model = small_model()
    x, y = small_data()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    queue.put(float(model.evaluate(x, y, verbose=0)))


def small_model():
    nncore.set_seed(0)
    inp = nncore.Input(shape=(6, 6, 2))
    h = nncore.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    h = nncore.layers.Flatten()(nncore.layers.MaxPool2D(2)(h))
    model = nncore.Model(inp, nncore.layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def small_data():
    rng = np.random.default_rng(1)
    return (rng.standard_normal((32, 6, 6, 2)).astype(np.float32),
            np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)])


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_training_in_a_forked_child_after_the_parent_used_threads():
    before = nncore.get_num_threads()
    nncore.set_num_threads(2)
    try:
        model = small_model()
        x, y = small_data()
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)     # the parent's pool is running
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_train_in_child, args=(queue,))
        child.start()
        child.join(timeout=120)
        if child.is_alive():
            child.kill()
            pytest.fail("forked child hung")
        assert child.exitcode == 0
        assert np.isfinite(queue.get(timeout=5))
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)     # and the parent still works
    finally:
        nncore.set_num_threads(before)


TORCH_AND_NNCORE = """
    import numpy as np
    {first}
    {second}
    torch.set_num_threads(2)
    nncore.set_num_threads(2)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 128)).astype(np.float32)
    b = rng.standard_normal((128, 64)).astype(np.float32)
    x = rng.standard_normal((4, 16, 16, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 8)).astype(np.float32)
    for _ in range(3):
        mine = nncore.ops.matmul(a, b)
        theirs = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4)
        y = nncore.ops.conv2d(x, w, padding="same")
        yt = torch.nn.functional.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2),
                                        torch.from_numpy(w).permute(3, 2, 0, 1), padding=1)
        np.testing.assert_allclose(y, yt.permute(0, 2, 3, 1).numpy(), rtol=1e-4, atol=1e-4)
    print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
@pytest.mark.parametrize("torch_first", [True, False])
def test_torch_in_the_same_process(torch_first):
    imports = ["import torch", "import nncore"]
    if not torch_first:
        imports.reverse()
    out = run_python(TORCH_AND_NNCORE.format(first=imports[0], second=imports[1]), timeout=180)
    assert out.strip().endswith("ok")
