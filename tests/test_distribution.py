"""nncore.distribution on real MPI jobs: the scripts in distribution_jobs/ run under
``mpirun -n 2 --oversubscribe`` and as one plain process, each process saving its results; the
tests compare them (the same training as one process, identical processes, reduced logs, gathered
predictions, checkpoints written once and resumable, failures that end the job, disagreeing
processes refused). The gradient bucket planner and the metric state packing are tested in this
process with stand-ins for MPI."""

from __future__ import annotations

import csv
import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import types
import warnings

import numpy as np
import pytest
from conftest import shared_data_dir

import nncore
from nncore import layers as L
from nncore.distribution.gradient_buckets import GradientBuckets
from nncore.distribution.metric_state import MetricState
from nncore.trainers.compile_utils import MeanTracker

JOBS = pathlib.Path(__file__).resolve().parent / "distribution_jobs"
# The folder holding the nncore package the tests import: the jobs must import the same one.
NNCORE_ROOT = pathlib.Path(nncore.__file__).resolve().parents[1]
TIMEOUT = 120          # seconds: a hung job fails its test instead of hanging the run
FAILURE_TIMEOUT = 60   # for the jobs that must end on their own after a process fails
PROMPT_END = 30        # seconds within which a job must end after one of its processes failed


def _find_mpirun() -> str | None:
    beside = pathlib.Path(sys.executable).parent / "mpirun"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpirun")


MPIRUN = _find_mpirun()
HAS_MPI4PY = importlib.util.find_spec("mpi4py") is not None
needs_mpirun = pytest.mark.skipif(
    not HAS_MPI4PY or MPIRUN is None,
    reason="mpi4py is not installed (pip install 'nncore[distributed]')" if not HAS_MPI4PY else
    "no mpirun beside the Python executable or on PATH (install Open MPI)")

SHARED = shared_data_dir()
MNIST_ROOT = SHARED if SHARED is not None and (SHARED / "mnist").is_dir() else None
needs_mnist = pytest.mark.skipif(
    MNIST_ROOT is None,
    reason="no real MNIST: set NNCORE_DATA_DIR to the folder holding mnist/")
# Checkpointing is about the mechanics, not the data: MNIST when it is here, else synthetic.
SUBSET_DATA = str(MNIST_ROOT) if MNIST_ROOT is not None else "synthetic"


# ----------------------------------------------------------------------------- running jobs
class Job:
    def __init__(self, returncode, output, ended_at):
        self.returncode = returncode
        self.output = output          # stdout and stderr of every process
        self.ended_at = ended_at      # time.time() when the launcher had exited


def child_env() -> dict:
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(NNCORE_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_job(script, out, *args, ranks=2, timeout=TIMEOUT, expect_ok=True) -> Job:
    """Runs distribution_jobs/<script> with ``--out out``: under mpirun with ``ranks`` processes,
    or as one plain process for ``ranks=1``."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(JOBS / script), "--out", str(out), *map(str, args)]
    if ranks > 1:
        cmd = [MPIRUN, "-n", str(ranks), "--oversubscribe", *cmd]
    # Its own session, so that a hung job can be ended with everything it started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", env=child_env(), start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(proc)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} was still running after {timeout} s (a hang)\n"
                    f"{stdout}\n{stderr}")
    job = Job(proc.returncode, stdout + stderr, time.time())
    if expect_ok and job.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited with {job.returncode}\n{job.output[-6000:]}")
    return job


def _end_group(proc) -> None:
    # SIGTERM first: the launcher then ends the processes it started.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def results(out, tag="run", ranks=2) -> list[dict]:
    """Every process's saved arrays, by rank."""
    found = []
    for r in range(ranks):
        with np.load(pathlib.Path(out) / f"{tag}.rank{r}.npz") as f:
            found.append({k: f[k] for k in f.files})
    return found


def weights_of(res) -> list[np.ndarray]:
    return [res[f"w{i}"] for i in range(int(res["num_weights"]))]


def assert_same_arrays(a: dict, b: dict, what: str) -> None:
    assert sorted(a) == sorted(b), what
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=f"{what}: {k}")


def relative_error(a, b, floor=0.0) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), floor))


def assert_weights_close(got: list, want: list, rtol: float) -> None:
    """Relative error over all weights concatenated, and per weight against at least an RMS of
    0.01 per element (so that a weight near zero, such as a bias, is not held to a relative
    error of its own rounding)."""
    assert len(got) == len(want)
    whole = relative_error(np.concatenate([w.ravel() for w in got]),
                           np.concatenate([w.ravel() for w in want]))
    assert whole < rtol, f"all weights: relative error {whole:.3g} >= {rtol}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, i
        err = relative_error(g, w, floor=0.01 * np.sqrt(w.size))
        assert err < rtol, f"weight {i} {w.shape}: relative error {err:.3g} >= {rtol}"


def assert_ran_with(res: dict, processes: int) -> None:
    # The job imported this nncore (PYTHONPATH reached every process) and ran data-parallel.
    assert pathlib.Path(str(res["nncore_file"])).resolve() == \
        pathlib.Path(nncore.__file__).resolve()
    assert int(res["process_count"]) == processes


def csv_rows(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


# ----------------------------------------------------------------------------- fit on MNIST
TOLERANCES = {"float32": (1e-5, 1e-6), "float64": (1e-10, 1e-12)}   # weights, logs


@needs_mpirun
@needs_mnist
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_epoch_on_mnist_with_two_processes_matches_one(tmp_path, dtype):
    args = ("--dtype", dtype, "--data", MNIST_ROOT, "--n", 60000, "--bn", "sync")
    run_job("train_mnist.py", tmp_path, "--tag", "two", *args)
    run_job("train_mnist.py", tmp_path, "--tag", "one", *args, ranks=1)
    rank0, rank1 = results(tmp_path, "two")
    (one,) = results(tmp_path, "one", ranks=1)
    assert_ran_with(rank0, 2)
    assert_ran_with(rank1, 2)
    assert_ran_with(one, 1)
    # Both processes hold the same model, bit for bit.
    assert_same_arrays(rank0, rank1, "process 0 against process 1")

    w_tol, log_tol = TOLERANCES[dtype]
    assert rank0["w0"].dtype == np.dtype(dtype)
    assert_weights_close(weights_of(rank0), weights_of(one), w_tol)
    for key in ("h_loss", "h_accuracy"):
        assert rank0[key].shape == one[key].shape == (1,), key
        np.testing.assert_allclose(rank0[key], one[key], rtol=log_tol, atol=0, err_msg=key)
    assert one["h_accuracy"][0] > 0.85        # it trained: a whole epoch of MNIST


@needs_mpirun
def test_three_processes_with_uneven_shares_match_one(tmp_path):
    """Every batch of 64 rows split over 3 processes as 21, 21 and 22: the shares are unequal,
    so the loss gradient's scaling by share and the 3-process sums (gradients, synchronized
    batch statistics) are what keep the run on the one-process path."""
    args = ("--dtype", "float64", "--data", "synthetic", "--n", 3200, "--bn", "sync",
            "--epochs", 2)
    run_job("train_mnist.py", tmp_path, "--tag", "three", *args, ranks=3)
    run_job("train_mnist.py", tmp_path, "--tag", "one", *args, ranks=1)
    ranks = results(tmp_path, "three", ranks=3)
    (one,) = results(tmp_path, "one", ranks=1)
    assert_ran_with(ranks[0], 3)
    assert_same_arrays(ranks[0], ranks[2], "process 0 against process 2")
    assert_weights_close(weights_of(ranks[0]), weights_of(one), 1e-10)
    for key in ("h_loss", "h_accuracy"):
        np.testing.assert_allclose(ranks[0][key], one[key], rtol=1e-12, err_msg=key)


# ----------------------------------------------------------------------------- plain batch norm
@pytest.fixture(scope="module")
def plain_batch_norm_job(tmp_path_factory):
    if not HAS_MPI4PY or MPIRUN is None:
        pytest.skip("needs mpi4py and mpirun (see needs_mpirun)")
    out = tmp_path_factory.mktemp("plain_bn")
    job = run_job("train_mnist.py", out, "--data", "synthetic", "--n", 3200, "--bn", "plain",
                  "--verbose", 1)
    return job, results(out)


@needs_mpirun
def test_plain_batch_norm_moving_statistics_agree_after_fit(plain_batch_norm_job):
    _, (rank0, rank1) = plain_batch_norm_job
    assert_ran_with(rank0, 2)
    # Each process normalized with its own half-batch statistics; the moving averages are
    # averaged at the epoch's end, so both processes end with the same model.
    assert_same_arrays(rank0, rank1, "process 0 against process 1")
    mean, var = rank0["moving_mean"], rank0["moving_variance"]
    assert mean.shape == var.shape == (64,)
    assert np.all(np.isfinite(mean)) and np.all(var > 0)
    assert np.abs(mean).max() > 1e-3 and np.abs(var - 1).max() > 1e-3    # they did move
    assert np.isfinite(rank0["h_loss"][0]) and rank0["h_accuracy"][0] > 0.3


@needs_mpirun
def test_only_process_0_prints_the_progress_bar(plain_batch_norm_job):
    job, _ = plain_batch_norm_job
    assert job.output.count("Epoch 1/1") == 1, job.output[-3000:]
    assert job.output.count("50/50") >= 1       # the bar ran to the end (3200 / 64 steps)


# ----------------------------------------------------------------------------- evaluate, predict
@needs_mpirun
def test_validation_evaluate_and_predict_match_one_process(tmp_path):
    run_job("evaluate_predict.py", tmp_path, "--tag", "two", "--dtype", "float64")
    run_job("evaluate_predict.py", tmp_path, "--tag", "one", "--dtype", "float64", ranks=1)
    rank0, rank1 = results(tmp_path, "two")
    (one,) = results(tmp_path, "one", ranks=1)
    assert_ran_with(rank0, 2)
    assert_same_arrays(rank0, rank1, "process 0 against process 1")
    assert_weights_close(weights_of(rank0), weights_of(one), 1e-10)
    for key in ("h_loss", "h_accuracy", "h_val_loss", "h_val_accuracy"):
        assert key in rank0, key
        np.testing.assert_allclose(rank0[key], one[key], rtol=1e-12, err_msg=key)
    for name, rows in (("train", 1001), ("val", 129)):
        got, want = rank0[f"evaluate_{name}"], one[f"evaluate_{name}"]
        assert got.shape == (2,)                # [loss, accuracy]
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=f"evaluate {name}")
        got, want = rank0[f"predict_{name}"], one[f"predict_{name}"]
        assert got.shape == want.shape == (rows, 10)
        # Every row in its place: rows swapped or dropped would be far off.
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13,
                                   err_msg=f"predict {name}")
    # fit's validation ran on the same 129 rows and the same final weights as evaluate.
    np.testing.assert_allclose(rank0["h_val_loss"][0], rank0["evaluate_val"][0], rtol=1e-12)


@needs_mpirun
def test_evaluate_with_fewer_rows_than_processes(tmp_path):
    run_job("evaluate_fewer_rows_than_processes.py", tmp_path, "--tag", "one", ranks=1)
    run_job("evaluate_fewer_rows_than_processes.py", tmp_path, "--tag", "two")
    (one,) = results(tmp_path, "one", ranks=1)
    for res in results(tmp_path, "two"):
        np.testing.assert_allclose(res["evaluate"], one["evaluate"], rtol=1e-6)


# ----------------------------------------------------------------------------- checkpoints
@needs_mpirun
def test_checkpoint_of_two_processes_resumes_with_one_and_with_two(tmp_path):
    data = ("--data", SUBSET_DATA, "--n", 6400)
    full, by_one, by_two = tmp_path / "full", tmp_path / "resume1", tmp_path / "resume2"
    run_job("checkpoint_resume.py", full, "--mode", "full", *data)
    ckpt = full / "ckpt-1.nncore"
    run_job("checkpoint_resume.py", by_one, "--mode", "resume", "--ckpt", ckpt, *data, ranks=1)
    run_job("checkpoint_resume.py", by_two, "--mode", "resume", "--ckpt", ckpt, *data)

    f0, f1 = results(full)
    assert_ran_with(f0, 2)
    assert_same_arrays(f0, f1, "process 0 against process 1")
    assert int(f0["iterations"]) == 2 * 6400 // 64
    (one,) = results(by_one, ranks=1)
    two0, two1 = results(by_two)
    assert_ran_with(one, 1)
    assert_same_arrays(two0, two1, "resumed: process 0 against process 1")
    for resumed in (one, two0):
        assert int(resumed["iterations"]) == int(f0["iterations"])
        assert_weights_close(weights_of(resumed), weights_of(f0), 1e-5)
        np.testing.assert_allclose(resumed["h_loss"], f0["h_loss"][1:], rtol=1e-6)

    # One writer: the shared log has one header and one row per epoch; the files each process
    # asked for under its own folder exist for process 0 only.
    rows = csv_rows(full / "log.csv")
    assert rows[0][0] == "epoch" and [r[0] for r in rows[1:]] == ["0", "1"], rows
    for run in (full, by_two):
        assert sorted(p.name for p in (run / "rank1").iterdir()) == [], run
    assert sorted(p.name for p in (full / "rank0").iterdir()) == \
        ["ckpt-1.nncore", "ckpt-2.nncore", "log.csv"]
    assert sorted(p.name for p in (by_two / "rank0").iterdir()) == ["ckpt-2.nncore", "log.csv"]
    assert [r[0] for r in csv_rows(by_two / "log.csv")] == ["epoch", "1"]
    # The shared checkpoint is whole: it loads and holds the final weights.
    saved = nncore.load_model(str(full / "ckpt-2.nncore")).get_weights()
    assert len(saved) == int(f0["num_weights"])
    for s, w in zip(saved, weights_of(f0)):
        np.testing.assert_array_equal(s, w)


# ----------------------------------------------------------------------------- failures
def _assert_ended_promptly(job: Job, out: pathlib.Path) -> None:
    failed_at = float((out / "failed_at").read_text())
    assert job.returncode != 0, job.output[-3000:]
    waited = job.ended_at - failed_at
    assert waited < PROMPT_END, f"the job ended {waited:.1f} s after process 1 failed"
    assert not list(out.glob("run.rank*.npz")), "a process finished fit despite the failure"


@needs_mpirun
def test_killed_process_ends_the_job(tmp_path):
    job = run_job("fail_on_rank1.py", tmp_path, "--how", "kill", timeout=FAILURE_TIMEOUT,
                  expect_ok=False)
    _assert_ended_promptly(job, tmp_path)
    text = job.output.lower()
    assert "rank 1" in text and ("signal 9" in text or "killed" in text), job.output[-3000:]


@needs_mpirun
def test_exception_on_one_process_ends_the_job(tmp_path):
    job = run_job("fail_on_rank1.py", tmp_path, "--how", "raise", timeout=FAILURE_TIMEOUT,
                  expect_ok=False)
    _assert_ended_promptly(job, tmp_path)
    assert "RuntimeError: process 1 fails on purpose at batch 3" in job.output, job.output[-3000:]


@needs_mpirun
@pytest.mark.parametrize("what,names", [("model", "disagree on weights"),
                                        ("data", "disagree on batches")])
def test_processes_that_disagree_are_refused(tmp_path, what, names):
    job = run_job("mismatched_ranks.py", tmp_path, "--what", what, timeout=FAILURE_TIMEOUT,
                  expect_ok=False)
    assert job.returncode != 0
    assert "ValueError: fit: the 2 processes " + names in job.output, job.output[-3000:]
    assert not list(tmp_path.glob("run.rank*.npz"))
    if what == "model":     # the message shows the differing shapes
        assert "[784, 32]" in job.output and "[784, 64]" in job.output
    else:
        assert "630" in job.output and "640" in job.output


@needs_mpirun
def test_evaluate_in_a_callback_with_the_progress_bar_on_process_0_only(tmp_path):
    run_job("evaluate_in_callback.py", tmp_path, "--tag", "one", ranks=1)
    job = run_job("evaluate_in_callback.py", tmp_path, "--tag", "two")
    assert job.output.count("Epoch 2/2") == 1
    (one,) = results(tmp_path, "one", ranks=1)
    two = results(tmp_path, "two")
    assert_same_arrays(two[0], two[1], "the two processes")
    np.testing.assert_allclose(two[0]["scores"], one["scores"], rtol=1e-5)
    np.testing.assert_allclose(two[0]["h_loss"], one["h_loss"], rtol=1e-5)


@needs_mpirun
@pytest.mark.parametrize("kind", ["guide", "super"])
def test_a_models_own_train_step_trains_as_one_process(tmp_path, kind):
    """Keras' guide's train_step (and one calling super().train_step) on 2 processes follows
    the one-process run: gradients summed once, logs over every process's rows."""
    run_job("custom_train_step.py", tmp_path, "--kind", kind, "--tag", "one", ranks=1)
    run_job("custom_train_step.py", tmp_path, "--kind", kind, "--tag", "two")
    (one,) = results(tmp_path, "one", ranks=1)
    two = results(tmp_path, "two")
    assert_same_arrays(two[0], two[1], "the two processes")
    weights = [f"w{i}" for i in range(int(one["num_weights"]))]
    moved = relative_error(np.concatenate([one[w].ravel() for w in weights]),
                           np.concatenate([two[0][w].ravel() for w in weights]))
    assert moved < 1e-5, moved
    for key in ("h_loss", "h_accuracy", "scores"):
        np.testing.assert_allclose(two[0][key], one[key], rtol=1e-5, err_msg=key)


@needs_mpirun
def test_set_distribution_without_initialize_joins_the_job(tmp_path):
    run_job("without_initialize.py", tmp_path)
    assert [int(r["process_count"]) for r in results(tmp_path)] == [2, 2]


@needs_mpirun
def test_generators_of_different_lengths_stop_every_process_with_the_reason(tmp_path):
    job = run_job("uneven_generator.py", tmp_path, "--what", "uneven", timeout=FAILURE_TIMEOUT,
                  expect_ok=False)
    assert job.returncode != 0
    message = "fit: the processes read different numbers of batches"
    assert job.output.count(message) == 2, job.output[-3000:]     # both say why, neither hangs
    assert "ran out after 9 batch(es)" in job.output
    assert not list(tmp_path.glob("run.rank*.npz"))


@needs_mpirun
def test_generator_data_trains_as_one_process(tmp_path):
    run_job("uneven_generator.py", tmp_path, "--what", "even", "--tag", "two")
    run_job("uneven_generator.py", tmp_path, "--what", "even", "--tag", "one", ranks=1)
    two, (one,) = results(tmp_path, "two"), results(tmp_path, "one", ranks=1)
    assert_same_arrays(two[0], two[1], "process 0 against process 1")
    assert_weights_close(weights_of(two[0]), weights_of(one), 1e-5)
    np.testing.assert_allclose(two[0]["h_loss"], one["h_loss"], rtol=1e-5)


@needs_mpirun
def test_a_last_batch_smaller_than_the_processes_is_refused_at_the_start(tmp_path):
    job = run_job("last_batch_too_small.py", tmp_path, timeout=FAILURE_TIMEOUT, expect_ok=False)
    assert job.returncode != 0
    message = "fit: 641 samples in batches of 64 end with a batch of 1, which 2 processes cannot share"
    assert job.output.count(message) == 2, job.output[-3000:]    # each process says why
    assert "aborting the job" not in job.output                  # nobody was left waiting
    assert not list(tmp_path.glob("run.rank*.npz"))


# ----------------------------------------------------------------------------- one process
def test_one_process_with_the_distribution_lines_is_plain_nncore(tmp_path):
    args = ("--data", "synthetic", "--n", 2000, "--bn", "sync", "--epochs", 2)
    run_job("train_mnist.py", tmp_path, "--tag", "plain", "--no-distribution", *args, ranks=1)
    run_job("train_mnist.py", tmp_path, "--tag", "dp", *args, ranks=1)
    (plain,), (dp,) = results(tmp_path, "plain", 1), results(tmp_path, "dp", 1)
    assert_ran_with(dp, 1)
    assert_same_arrays(plain, dp, "without against with initialize() and set_distribution()")


# ----------------------------------------------------------------------------- bucket planner
class RecordingWorld:
    """Stands in for the MPI world: records which slice of the gradient buffer each
    non-blocking sum starts on, in the order of the events of the backward pass."""

    def __init__(self, grads, events):
        self.grads, self.events = grads, events

    def iallreduce_(self, array):
        assert np.shares_memory(array, self.grads) and array.base is self.grads
        lo = (array.__array_interface__["data"][0]
              - self.grads.__array_interface__["data"][0]) // self.grads.itemsize
        self.events.append(("launch", lo, lo + array.size))
        return object()


@pytest.fixture
def fake_mpi(monkeypatch):
    """``from mpi4py import MPI`` (the planner's Testall/Waitall) without MPI."""
    calls = []
    request = types.SimpleNamespace(Testall=lambda reqs: calls.append(("test", len(reqs))),
                                    Waitall=lambda reqs: calls.append(("wait", len(reqs))))
    module = types.ModuleType("mpi4py")
    module.MPI = types.SimpleNamespace(Request=request)
    monkeypatch.setitem(sys.modules, "mpi4py", module)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", module.MPI)
    return calls


def _sequential():
    return nncore.Sequential([nncore.Input((12,)), L.Dense(16, use_bias=False),
                              L.BatchNormalization(synchronized=True), L.Activation("relu"),
                              L.Dense(8), L.Dense(5, activation="softmax")])


def _shared_layer_model():
    # A layer called twice: both calls write into its gradients.
    inp = nncore.Input((12,))
    shared = L.Dense(12, activation="tanh")
    h = shared(L.Dense(12)(inp))
    h = L.Dense(12)(h)
    out = L.Dense(4, activation="softmax")(shared(h))
    return nncore.Model(inp, out)


@pytest.mark.parametrize("build", [_sequential, _shared_layer_model], ids=["sequential", "shared"])
@pytest.mark.parametrize("cap_bytes", [1, 600, 2**30], ids=["per-weight", "600B", "one"])
def test_gradient_buckets_follow_the_backward_pass(monkeypatch, fake_mpi, build, cap_bytes):
    nncore.set_seed(0)
    model = build()
    model.compile("sgd", "sparse_categorical_crossentropy")
    graph, variables = model._graph, model.trainable_weights
    total = sum(v.size for v in variables)
    grads = np.zeros(total, np.float32)
    events = []
    buckets = GradientBuckets(RecordingWorld(grads, events), graph, variables, grads, cap_bytes)

    # Which graph steps write into which elements of the flat buffer.
    span, offset = {}, 0
    for v in variables:
        span[id(v)] = (offset, offset + v.size)
        offset += v.size
    writers = [[span[id(v)] for v in s.layer.trainable_weights] for s in graph.steps]

    # The real backward pass, with each step's backward logged.
    current = []
    for k, s in enumerate(graph.steps):
        def logged(g, _orig=s.layer.backward, _layer=s.layer):
            k = current[-1]
            assert graph.steps[k].layer is _layer
            events.append(("backward", k))
            return _orig(g)
        if not any(st.layer is s.layer for st in graph.steps[:k]):
            monkeypatch.setattr(s.layer, "backward", logged)

    def before_step(k):
        current.append(k)
        buckets.before_step(k)

    x = np.random.default_rng(0).standard_normal((6, 12)).astype(np.float32)
    for _ in range(2):          # a second step starts from scratch
        events.clear()
        buckets.begin()
        outs = graph.forward([x], True)
        graph.backward([np.ones_like(outs[0])], before_step)
        buckets.finish()
        events.append(("finished",))

        launches = [(i, e[1], e[2]) for i, e in enumerate(events) if e[0] == "launch"]
        done_at = {e[1]: i for i, e in enumerate(events) if e[0] == "backward"}
        assert sorted(done_at) == list(range(len(graph.steps)))
        # Launched once each, in the planned order, from the end of the buffer to its start.
        assert [(lo, hi) for _, lo, hi in launches] == [(lo, hi) for lo, hi, _ in buckets.buckets]
        assert sorted(launches, key=lambda t: -t[1]) == launches
        # Together they cover the buffer, contiguously and without overlap.
        cover = sorted((lo, hi) for _, lo, hi in launches)
        assert cover[0][0] == 0 and cover[-1][1] == total
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(cover, cover[1:]))
        assert sum(hi - lo for lo, hi in cover) == total
        for at, lo, hi in launches:
            users = [k for k, spans in enumerate(writers)
                     if any(s < hi and lo < e for s, e in spans)]
            assert users, (lo, hi)
            # Not before every step writing into it has run its backward ...
            for k in users:
                assert k in done_at and done_at[k] < at, (lo, hi, k)
            # ... and then at once: before the backward of the step before the first writer.
            first = min(users)
            if first > 0 and first - 1 in done_at:
                assert at < done_at[first - 1], (lo, hi, first)
    if cap_bytes == 1:
        assert buckets.sizes == [v.size for v in reversed(variables)]
    if cap_bytes == 2**30:
        assert buckets.sizes == [total]
    if cap_bytes == 600:
        assert 1 < len(buckets.sizes) < len(variables)
    # Every launched sum was waited for.
    assert fake_mpi[-1] == ("wait", len(buckets.buckets))


# ----------------------------------------------------------------------------- metric state
def _metrics():
    return [MeanTracker(), nncore.metrics.Mean(), nncore.metrics.SparseCategoricalAccuracy(),
            nncore.metrics.Sum(), nncore.metrics.R2Score()]


def _update(objs, y_true, y_pred, target, values):
    tracker, mean, acc, total, r2 = objs
    tracker.update(float(values.mean()), len(values))
    mean.update_state(values)
    acc.update_state(y_true, y_pred)
    total.update_state(values)
    r2.update_state(target, y_pred[:, :3])


def _results(objs):
    return [objs[0].result()] + [float(m.result()) for m in objs[1:]]


def test_metric_state_round_trip_and_sum_over_processes():
    rng = np.random.default_rng(4)
    n = 37
    y_pred = rng.random((n, 4))
    y_true = rng.integers(0, 4, n)
    target = rng.standard_normal((n, 3))
    values = rng.standard_normal(n)
    parts = [slice(0, 20), slice(20, n)]       # two processes' rows
    everything = _metrics()
    _update(everything, y_true, y_pred, target, values)
    per_process = []
    for p in parts:
        objs = _metrics()
        _update(objs, y_true[p], y_pred[p], target[p], values[p])
        per_process.append(objs)

    states = [MetricState(objs) for objs in per_process]
    vecs = [s.pack() for s in states]
    assert vecs[0].dtype == np.float64 and vecs[0].shape == vecs[1].shape
    # Round trip: unpacking a packed state changes nothing.
    before = _results(per_process[0])
    states[0].unpack(vecs[0].copy())
    np.testing.assert_array_equal(states[0].pack(), vecs[0])
    assert _results(per_process[0]) == before
    assert isinstance(per_process[0][0].count, int)     # the tracker's count stays an int
    # The sum of the processes' states is the state of one process that saw every row.
    states[0].unpack(vecs[0] + vecs[1])
    np.testing.assert_allclose(_results(per_process[0]), _results(everything), rtol=1e-12)
    np.testing.assert_allclose(states[0].pack(), MetricState(everything).pack(), rtol=1e-12)


def test_metric_state_warns_once_about_a_metric_it_cannot_sum():
    class Median(nncore.metrics.Metric):
        def __init__(self):
            super().__init__(name="median")
            self.values = []

        def update_state(self, v):
            self.values.extend(np.ravel(v))

        def result(self):
            return float(np.median(self.values))

        def reset_state(self):
            self.values = []

    mean = nncore.metrics.Mean()
    mean.update_state(np.array([1.0, 2.0]))
    state = MetricState([mean, Median()])
    with pytest.warns(UserWarning, match="'median'.*no _additive_state"):
        vec = state.pack()
    np.testing.assert_array_equal(vec, [3.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state.pack()
