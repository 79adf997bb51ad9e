"""The README's Keras code ("Moving models between nncore, Keras and ONNX Runtime") runs as
written: a Keras-made archive and weights file (tests/fixtures/keras) into nncore, and, where
Keras 3 is installed, an nncore model back into Keras."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO_ROOT

pytest.importorskip("h5py", reason="needs h5py (extra 'keras')")

import nncore  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "keras"


def _blocks():
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("## Moving models between nncore, Keras and ONNX Runtime")
    end = text.index("\n## ", start + 10)
    return [b for b in re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
            if "onnxruntime" not in b]


def test_readme_from_keras_block_runs(tmp_path, monkeypatch):
    block = next(b for b in _blocks() if "nncore.load_model" in b)
    shutil.copy(FIXTURES / "seed_cnn.keras", tmp_path / "cifar10_cnn.keras")
    shutil.copy(FIXTURES / "seed_cnn.weights.h5", tmp_path / "cifar10_cnn.weights.h5")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 1, (64, 32, 32, 3)).astype(np.float32)
    y_train = nncore.to_categorical(rng.integers(0, 10, 64), 10)
    scope = {"x_train": x_train, "y_train": y_train}
    exec(block, scope)
    model = scope["model"]
    with np.load(FIXTURES / "seed_cnn.expected.npz") as data:  # the weights Keras saved
        np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("keras") is None
                    or importlib.util.find_spec("torch") is None,
                    reason="Keras 3 and PyTorch are not installed: the README's 'To Keras' "
                           "block is not run here")
def test_readme_to_keras_block_runs(tmp_path):
    block = next(b for b in _blocks() if "keras.saving.load_model" in b)
    script = textwrap.dedent('''
        import numpy as np
        import nncore
        L = nncore.layers
        nncore.set_seed(0)
        model = nncore.Sequential([
            nncore.Input((32, 32, 3)), L.Conv2D(8, 3, padding="same"), L.MaxPool2D(2),
            L.Conv2D(16, 3, padding="same"), L.MaxPool2D(2), L.Flatten(), L.Dense(128),
            L.Dense(10, activation="softmax")])
        x = np.random.default_rng(0).uniform(0, 1, (7, 32, 32, 3)).astype("float32")
    ''') + block + "\nprint('block ran')\n"
    env = dict(os.environ, KERAS_BACKEND="torch",
               PYTHONPATH=os.pathsep.join(p for p in [os.path.dirname(nncore.__path__[0]),
                                                      os.environ.get("PYTHONPATH", "")] if p))
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "block ran" in run.stdout, run.stdout + run.stderr
    assert (tmp_path / "cnn.keras").is_file()
