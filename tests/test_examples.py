"""Every example of examples/ in --quick mode, in a child process: it exits 0 and writes its
figures and logs; the backprop example's numbers are the lecture's."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, shared_data_dir

EXAMPLES = REPO_ROOT / "examples"
SHARED = shared_data_dir()

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ is not in this checkout")


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _have_dataset(name: str, probe: str) -> bool:
    return SHARED is not None and (SHARED / name / probe).is_file()


NEEDS = {
    "mnist": pytest.mark.skipif(not _have_dataset("mnist", "t10k-labels-idx1-ubyte.gz"),
                                reason="needs the shared MNIST files"),
    "cifar10": pytest.mark.skipif(not _have_dataset("cifar10", "test_batch.bin.gz"),
                                  reason="needs the shared CIFAR-10 files"),
    "matplotlib": pytest.mark.skipif(not _have("matplotlib"), reason="needs matplotlib (extra 'viz')"),
    "tensorboardX": pytest.mark.skipif(not _have("tensorboardX"), reason="needs tensorboardX"),
}


def run_example(script: str, out, *args, data=True, timeout=600):
    """Runs one example offline; one thread, so that the child never waits on a team barrier
    behind other processes of a loaded machine (the examples' speed is not tested here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNCORE_")}
    env.update({"NNCORE_OFFLINE": "1", "XDG_CACHE_HOME": str(out / "cache"), "OMP_NUM_THREADS": "1",
                "MPLBACKEND": "Agg"})
    if data and SHARED is not None:
        env["NNCORE_DATA_DIR"] = str(SHARED)
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out), *args],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def assert_pngs(out, *names):
    for name in names:
        path = out / name
        assert path.is_file(), f"{name} was not written; {sorted(p.name for p in out.iterdir())}"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"


def results(out) -> dict:
    return json.loads((out / "results.json").read_text())


def event_files(folder):
    return sorted(folder.rglob("events.out.tfevents.*"))


@NEEDS["mnist"]
@NEEDS["matplotlib"]
@NEEDS["tensorboardX"]
def test_01_mnist_tensorboard(tmp_path):
    proc = run_example("01_mnist_tensorboard.py", tmp_path)
    assert_pngs(tmp_path, "history.png")
    for model in ("mlp", "cnn"):
        for run in ("train", "validation"):
            assert event_files(tmp_path / "logs" / model / run), f"no event file for {model}/{run}"
        assert "val_accuracy" in results(tmp_path)["results"][model]["final"]
    assert "tensorboard --logdir" in proc.stdout


@NEEDS["mnist"]
@NEEDS["matplotlib"]
def test_02_optimizers(tmp_path):
    run_example("02_optimizers.py", tmp_path)
    assert_pngs(tmp_path, "optimizers.png")
    r = results(tmp_path)["results"]
    assert {"sgd", "momentum", "rmsprop", "adam", "adagrad"} <= set(r)
    for name, s in r.items():
        assert len(s["history"]["loss"]) == 2, name
        assert np.isfinite(s["final"]["loss"]), name


@NEEDS["mnist"]
@NEEDS["matplotlib"]
def test_03_overfitting(tmp_path):
    run_example("03_overfitting.py", tmp_path)
    assert_pngs(tmp_path, "overfitting.png", "overfitting_vs_regularized.png")
    r = results(tmp_path)["results"]
    assert set(r) == {"plain", "L2 + Dropout"}


@NEEDS["cifar10"]
@NEEDS["matplotlib"]
def test_04_augmentation(tmp_path):
    run_example("04_augmentation.py", tmp_path)
    assert_pngs(tmp_path, "augmentation.png", "augmented_samples.png")
    assert set(results(tmp_path)["results"]) == {"no augmentation", "flip + crop"}


@NEEDS["cifar10"]
@NEEDS["matplotlib"]
@NEEDS["tensorboardX"]
def test_05_cifar10_seed(tmp_path):
    proc = run_example("05_cifar10_seed.py", tmp_path)
    out = proc.stdout
    # the lecture's summary and per-epoch lines
    assert "Total params: 133,882" in out
    for count in ("224", "1,168", "131,200", "1,290"):
        assert count in out
    assert "Train on 2000 samples, validate on 1000 samples" in out
    assert "Epoch 2/2" in out and " - val_loss: " in out and " - val_accuracy: " in out
    assert "time per epoch" in out
    assert_pngs(tmp_path, "samples.png", "history.png")
    assert event_files(tmp_path / "logs" / "example1" / "train")
    s = results(tmp_path)["results"]
    assert len(s["history"]["val_accuracy"]) == 2 and len(s["seconds_per_epoch"]) == 2


@NEEDS["matplotlib"]
@pytest.mark.parametrize("with_data", [True, False], ids=["datasets", "pattern-only"])
def test_06_image_filters(tmp_path, with_data):
    proc = run_example("06_image_filters.py", tmp_path, data=with_data)
    assert_pngs(tmp_path, "filters_applied.png", "kernels.png")
    r = results(tmp_path)
    assert r["max_abs_difference_from_reference"] < 1e-5
    assert len(r["filters"]) == 7
    assert r["images"][0] == "test pattern"
    if not with_data:
        assert r["images"] == ["test pattern"]
        assert "dataset not available, skipped" in proc.stdout


@NEEDS["matplotlib"]
def test_07_backprop_reproduces_the_slide(tmp_path):
    proc = run_example("07_backprop.py", tmp_path, data=False)
    r = results(tmp_path)
    e3 = math.exp(3)
    s = r["scalar"]
    assert s["inputs"] == {"x": 1.0, "w1": 2.0, "w0": 1.0}
    assert s["forward"] == pytest.approx({"a": 2.0, "b": 3.0, "c": e3, "f": 1 + e3})
    # the slide: dc = 1, db = e^3 ~ 20, dw0 = da = dw1 ~ 20, dx ~ 40
    assert s["grads"] == pytest.approx({"dc": 1.0, "db": e3, "dw0": e3, "da": e3, "dw1": e3, "dx": 2 * e3})
    assert round(s["grads"]["db"]) == 20 and round(s["grads"]["dx"]) == 40
    m = r["matrix"]
    X, W = np.array(m["X"]), np.array(m["W"])
    np.testing.assert_allclose(m["grad_W"], X.T @ (X @ W))
    np.testing.assert_allclose(m["grad_X"], (X @ W) @ W.T)
    assert m["f"] == pytest.approx(0.5 * np.sum((X @ W) ** 2))
    assert r["gradcheck"] == "passed"
    # The tape's node values and gradients are the slide's, for the matrix example too.
    assert r["tape"]["forward"] == pytest.approx(s["forward"])
    assert r["tape"]["grads"] == pytest.approx(s["grads"])
    np.testing.assert_allclose(r["tape"]["matrix"]["grad_W"], X.T @ (X @ W))
    np.testing.assert_allclose(r["tape"]["matrix"]["grad_X"], (X @ W) @ W.T)
    assert "dx  =  40.1711" in proc.stdout
    assert_pngs(tmp_path, "graph.png")


@NEEDS["cifar10"]
@NEEDS["matplotlib"]
def test_08_resnet20_cifar10(tmp_path):
    proc = run_example("08_resnet20_cifar10.py", tmp_path)
    assert "Total params: 271,098" in proc.stdout
    assert "256 training images, 256 test images" in proc.stdout
    assert_pngs(tmp_path, "history.png")
    r = results(tmp_path)
    assert r["parameters"] == 271098 and r["batch_size"] == 128 and r["steps"] == 4
    s = r["results"]
    assert len(s["history"]["val_accuracy"]) == 2 and len(s["seconds_per_epoch"]) == 2
    assert 0.0 <= s["final"]["val_accuracy"] <= 1.0 and np.isfinite(s["final"]["loss"])


@NEEDS["matplotlib"]
def test_09_unet_segmentation(tmp_path):
    proc = run_example("09_unet_segmentation.py", tmp_path, data=False)
    assert_pngs(tmp_path, "history.png", "masks.png")
    r = results(tmp_path)
    assert r["classes"] == ["background", "circle", "rectangle", "triangle"]
    for key in ("mean_iou", "mean_dice", "pixel_accuracy"):
        assert 0.0 <= r[key] <= 1.0, key
    assert set(r["iou"]) == set(r["dice"]) == set(r["classes"])
    s = r["results"]
    assert len(s["val_mean_iou"]) == 2 and len(s["history"]["loss"]) == 2
    # The OneHotIoU metric of the last validation pass and the example's own count over the
    # same predictions agree (every shape class occurs in the seeded held-out set).
    assert s["val_mean_iou"][-1] == pytest.approx(r["mean_iou"], abs=1e-5)
    assert np.isfinite(s["final"]["loss"])
    assert "mean over the shape classes: IoU" in proc.stdout


def test_unet_example_generator_and_loss():
    """The generator is seeded and its masks cover exactly the shapes drawn."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("unet_example", EXAMPLES / "09_unet_segmentation.py")
    sys.path.insert(0, str(EXAMPLES))
    try:
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(EXAMPLES))
    x1, l1 = mod.generate(6, np.random.default_rng(3))
    x2, l2 = mod.generate(6, np.random.default_rng(3))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(l1, l2)
    assert x1.shape == (6, 32, 32, 1) and x1.dtype == np.float32 and l1.shape == (6, 32, 32)
    assert 0.0 <= x1.min() and x1.max() <= 1.0
    assert all(np.any(l > 0) for l in l1) and set(np.unique(l1)) <= {0, 1, 2, 3}
    # The loss: a perfect one-hot prediction gives cross-entropy ~ 0 and Dice loss 0.
    y = np.eye(4, dtype=np.float32)[l1]
    np.testing.assert_allclose(np.asarray(mod.dice_cross_entropy(y, y)), 0.0, atol=1e-4)


def _mpirun():
    from nncore.distribution.launch import find_mpirun

    return find_mpirun() if _have("mpi4py") else None


@NEEDS["cifar10"]
@NEEDS["matplotlib"]
@NEEDS["tensorboardX"]
@pytest.mark.skipif(_mpirun() is None, reason="needs mpi4py and mpirun (extra 'distributed')")
def test_10_distributed_cifar10(tmp_path):
    """Two processes follow the one-process run of the same script: same global batches, same
    seed, gradients summed over the processes."""
    from nncore.distribution.launch import launcher_env

    one = run_example("10_distributed_cifar10.py", tmp_path / "one")
    assert "1 process(es) x 1 thread(s)" in one.stdout
    env = launcher_env(threads_per_process=1)
    env = {k: v for k, v in env.items() if not k.startswith("NNCORE_")}
    env.update({"NNCORE_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "MPLBACKEND": "Agg", "NNCORE_DATA_DIR": str(SHARED)})
    out = tmp_path / "two"
    proc = subprocess.run([_mpirun(), "-n", "2", "--oversubscribe", sys.executable,
                           str(EXAMPLES / "10_distributed_cifar10.py"), "--quick", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "2 process(es) x 1 thread(s)" in proc.stdout
    assert proc.stdout.count("Epoch 1/2") == 1          # process 0 alone prints
    assert "Total params: 133,882" in proc.stdout
    assert_pngs(out, "history.png")
    assert event_files(out / "logs" / "train")
    h1, h2 = results(tmp_path / "one")["results"]["history"], results(out)["results"]["history"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-3, atol=2e-3, err_msg=key)


def test_every_example_is_tested():
    scripts = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    tested = sorted(name[len("test_"):] for name in globals()
                    if name.startswith("test_") and name[5:7].isdigit())
    assert [s[:2] for s in scripts] == [t[:2] for t in tested], (scripts, tested)


def test_examples_readme_lists_every_example():
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for p in EXAMPLES.glob("[0-9][0-9]_*.py"):
        assert f"python examples/{p.name}" in text, p.name
