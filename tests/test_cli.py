"""The ``nncore`` command line: info, demo (with MNIST, with the offline fallback, with no data at
all) and bench (finding the checkout, passing arguments through). Every command runs in a child
process with its own environment; nothing here downloads anything."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, shared_data_dir

SHARED = shared_data_dir()
HAVE_MNIST = SHARED is not None and (SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def clean_env(tmp_path: Path, **extra) -> dict:
    """No dataset folder, an empty cache, downloads off, one thread (child processes on a loaded
    machine wait less on a team barrier), no GUI for matplotlib."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNCORE_")}
    env.update({
        "NNCORE_OFFLINE": "1",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path / "home"),
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def nncore_cli(args, env, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "nncore", *args], env=env, cwd=cwd or REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def accuracy_of(stdout: str) -> float:
    m = re.search(r"Test accuracy: ([0-9.]+) %", stdout)
    assert m, stdout
    return float(m.group(1)) / 100


# ----------------------------------------------------------------------------- info
def test_info(tmp_path):
    proc = nncore_cli(["info"], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    facts = dict(line.split(None, 1) for line in proc.stdout.strip().splitlines())
    for key in ("version", "compiler", "isa", "threads", "openmp", "openmp_runtime"):
        assert key in facts, proc.stdout
    assert facts["threads"] == "1"  # OMP_NUM_THREADS is honoured


def test_console_script(tmp_path):
    script = Path(sys.executable).with_name("nncore")
    if not script.is_file():
        pytest.skip("the nncore script is not installed next to this Python")
    proc = subprocess.run([str(script), "info"], env=clean_env(tmp_path), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("version")


def test_no_command_prints_help(tmp_path):
    proc = nncore_cli([], clean_env(tmp_path))
    assert proc.returncode == 2
    for command in ("info", "demo", "bench"):
        assert command in proc.stdout


# ----------------------------------------------------------------------------- demo
@pytest.mark.skipif(not HAVE_MNIST, reason="needs the shared MNIST files")
def test_demo_quick_on_mnist_from_env(tmp_path):
    proc = nncore_cli(["demo", "--quick"], clean_env(tmp_path, NNCORE_DATA_DIR=SHARED))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "MNIST: 2,000 training and 1,000 test images of 28x28" in out
    assert "Epoch 1/3" in out and "Epoch 3/3" in out
    assert re.search(r"32/32 \[=+\] - .*loss: [0-9.]+ - accuracy: [0-9.]+", out), out
    assert "Falling back" not in out
    # seeded: the quick run learns (about 0.87); chance is 0.1
    assert accuracy_of(out) > 0.6


def _mpirun():
    if not _have("mpi4py"):
        return None
    from nncore.distribution.launch import find_mpirun

    return find_mpirun()


@pytest.mark.skipif(not HAVE_MNIST, reason="needs the shared MNIST files")
@pytest.mark.skipif(_mpirun() is None, reason="needs mpi4py and mpirun (extra 'distributed')")
def test_demo_distributed_matches_one_process(tmp_path):
    """``nncore demo --distributed`` starts mpirun -n 2 itself; process 0 alone prints (the others
    train with verbose=0, and the processes still agree on reducing the batch logs), and the
    data-parallel run reaches the one-process run's test accuracy and loss."""
    env = clean_env(tmp_path, NNCORE_DATA_DIR=SHARED)
    one = nncore_cli(["demo", "--quick"], env)
    two = nncore_cli(["demo", "--quick", "--distributed"], env)
    assert two.returncode == 0, two.stdout[-2000:] + two.stderr[-3000:]
    out = two.stdout
    assert "running: " in out and " -n 2 " in out
    assert "in each of 2 processes, data-parallel" in out
    assert out.count("Epoch 1/3") == 1 and out.count("Test accuracy") == 1
    assert "images/s over 2 processes" in out
    loss = lambda text: float(re.search(r"\(loss ([0-9.]+)\)", text).group(1))  # noqa: E731
    # The two runs differ by rounding only (the gradient sums are split across processes), and
    # three epochs amplify it: with Winograd's rounding the test losses measured 0.3896 and 0.3918,
    # with the direct kernel 0.3916 for both.
    assert abs(accuracy_of(out) - accuracy_of(one.stdout)) <= 0.005
    assert abs(loss(out) - loss(one.stdout)) <= 0.005


@pytest.mark.skipif(not HAVE_MNIST, reason="needs the shared MNIST files")
def test_demo_data_dir_option_and_settings(tmp_path):
    proc = nncore_cli(["demo", "--quick", "--data-dir", str(SHARED / "mnist"), "--epochs", "1",
                       "--batch-size", "100", "--threads", "2"], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "1 epoch, batch size 100" in proc.stdout
    assert "2 threads" in proc.stdout
    assert "20/20 [" in proc.stdout


@pytest.mark.skipif(not _have("sklearn"), reason="the fallback needs scikit-learn (extra 'demo')")
def test_demo_offline_without_data_falls_back_to_digits(tmp_path):
    proc = nncore_cli(["demo", "--quick"], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "MNIST is not available" in out and "NNCORE_OFFLINE" in out
    assert "Falling back to the digits dataset bundled with scikit-learn" in out
    assert "Expect about 97 %" in out
    assert "digits: 1,437 training and 360 test images of 8x8" in out
    assert accuracy_of(out) > 0.3


def test_demo_without_data_or_sklearn_explains_how_to_get_data(tmp_path):
    # A package named sklearn that fails to import stands for a missing scikit-learn.
    fake = tmp_path / "fake" / "sklearn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('scikit-learn is not installed (simulated)')\n")
    # Prepended, so that a checkout run uninstalled (PYTHONPATH=python) still finds nncore.
    path = os.pathsep.join(p for p in (str(fake.parent), os.environ.get("PYTHONPATH", "")) if p)
    env = clean_env(tmp_path, PYTHONPATH=path)
    proc = nncore_cli(["demo", "--quick"], env)
    assert proc.returncode == 1
    err = proc.stderr
    assert "no data to train on" in err
    assert "downloading is disabled by $NNCORE_OFFLINE" in err
    assert "NNCORE_DATA_DIR" in err and "--data-dir" in err
    assert "pip install 'nncore[data]'" in err and "pip install 'nncore[demo]'" in err
    assert "Traceback" not in err


def test_demo_damaged_file_is_reported_not_hidden(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"\x00\x00\x08\x03 not an idx file")
    proc = nncore_cli(["demo", "--quick", "--data-dir", str(folder)], clean_env(tmp_path))
    assert proc.returncode == 1
    assert "damaged" in proc.stderr and "train-images-idx3-ubyte" in proc.stderr
    assert "Falling back" not in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "must be at least 1"),
    (["--batch-size", "x"], "expected a whole number"),
    (["--threads", "-2"], "must be at least 1"),
])
def test_demo_rejects_bad_options(tmp_path, args, message):
    proc = nncore_cli(["demo", *args], clean_env(tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr


# ----------------------------------------------------------------------------- bench
def fake_checkout(root: Path, scripts=("bench_fit.py",)) -> Path:
    (root / "bench").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'nncore'\n")
    (root / "bench" / "_harness.py").write_text("")
    for s in scripts:
        (root / "bench" / s).write_text(
            "import os, sys\nprint('ARGS', sys.argv[1:])\nprint('CWD', os.getcwd())\nsys.exit(3)\n")
    return root


def test_bench_lists_the_scripts_of_this_checkout(tmp_path):
    proc = nncore_cli(["bench"], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for name in ("gemm", "conv", "pool", "fit", "eltwise"):
        assert re.search(rf"^  {name}\s+bench/bench_", proc.stdout, re.M), proc.stdout
    assert f"checkout: {REPO_ROOT}" in proc.stdout


def test_bench_passes_arguments_through(tmp_path):
    root = fake_checkout(tmp_path / "src")
    env = clean_env(tmp_path, NNCORE_SOURCE_DIR=root)
    proc = nncore_cli(["bench", "fit", "--epochs", "3", "--frameworks", "nncore", "--help"], env)
    assert proc.returncode == 3  # the script's own exit status
    assert "ARGS ['--epochs', '3', '--frameworks', 'nncore', '--help']" in proc.stdout
    assert f"CWD {root}" in proc.stdout


def test_bench_real_script_help(tmp_path):
    if not (REPO_ROOT / "bench" / "bench_gemm.py").is_file():
        pytest.skip("no bench/bench_gemm.py in this checkout")
    proc = nncore_cli(["bench", "gemm", "--help"], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "usage: bench_gemm.py" in proc.stdout


def test_bench_missing_script_in_checkout(tmp_path):
    root = fake_checkout(tmp_path / "src", scripts=("bench_gemm.py",))
    proc = nncore_cli(["bench", "pool"], clean_env(tmp_path, NNCORE_SOURCE_DIR=root))
    assert proc.returncode == 1
    assert "bench_pool2d.py does not exist" in proc.stderr and "available here: gemm" in proc.stderr


def test_bench_listing_marks_scripts_missing_from_the_checkout(tmp_path):
    root = fake_checkout(tmp_path / "src", scripts=("bench_cnn.py",))
    proc = nncore_cli(["bench"], clean_env(tmp_path, NNCORE_SOURCE_DIR=root))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^  cnn\s+bench/bench_cnn\.py$", proc.stdout, re.M), proc.stdout
    for name in ("norm", "depthwise"):
        assert re.search(rf"^  {name}\s+bench/bench_{name}\.py\s+\(not in this checkout\)$",
                         proc.stdout, re.M), proc.stdout


def test_bench_cnn_script_help(tmp_path):
    if not (REPO_ROOT / "bench" / "bench_cnn.py").is_file():
        pytest.skip("no bench/bench_cnn.py in this checkout")
    proc = nncore_cli(["bench", "cnn", "--help"], clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout and "--isa" in proc.stdout and "--models" in proc.stdout


def test_bench_without_checkout(tmp_path):
    env = clean_env(tmp_path, NNCORE_SOURCE_DIR=tmp_path / "nowhere")
    proc = nncore_cli(["bench", "gemm"], env, cwd=tmp_path)
    assert proc.returncode == 1
    assert "not installed with the package" in proc.stderr
    assert "NNCORE_SOURCE_DIR" in proc.stderr
    listing = nncore_cli(["bench"], env, cwd=tmp_path)
    assert listing.returncode == 1 and "were not found" in listing.stdout


def test_bench_unknown_name(tmp_path):
    proc = nncore_cli(["bench", "nope"], clean_env(tmp_path))
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
