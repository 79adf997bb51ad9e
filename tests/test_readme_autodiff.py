"""The README's "Writing your own layers, losses and training loops" code runs as written (on
small synthetic data standing in for MNIST)."""

from __future__ import annotations

import re

import numpy as np
from conftest import REPO_ROOT

import nncore


def _section_blocks():
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("## Writing your own layers, losses and training loops")
    end = text.index("\n## ", start + 10)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_readme_autodiff_section_runs(tmp_path, monkeypatch):
    blocks = _section_blocks()
    assert len(blocks) == 4
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (256, 28, 28)).astype("uint8")
    y_train = (x_train.reshape(256, -1).mean(1) > 127.5).astype("int64") * 7
    ns = {"x_train": x_train, "y_train": y_train, "x_test": x_train[:8].reshape(8, 784)}
    exec(blocks[0], ns)                                   # layers
    block = ns["MLPBlock"]()
    out = block(np.ones((2, 5), "float32"))
    assert out.shape == (2, 1) and len(block.trainable_weights) == 4 and len(block.losses) == 1
    exec(blocks[1].replace("epochs=3", "epochs=1, verbose=0"), ns)   # subclassed model
    assert (tmp_path / "mnist.weights.npz").is_file()
    assert ns["model"].count_params() == 784 * 128 + 128 + 128 * 10 + 10
    exec(blocks[2], ns)                                   # train_step override
    inputs = nncore.Input((4,))
    custom = ns["CustomModel"](inputs, nncore.layers.Dense(1)(inputs))
    custom.compile(optimizer="adam", loss="mse", metrics=["mae"])
    hist = custom.fit(rng.standard_normal((64, 4)), rng.standard_normal((64, 1)), epochs=2,
                      verbose=0)
    assert set(hist.history) == {"loss", "mae"}
    x = x_train.reshape(-1, 784) / 255.0
    ns["batches"] = [(x[i:i + 32], y_train[i:i + 32]) for i in range(0, 96, 32)]
    before = ns["model"].dense1.kernel.numpy()
    exec(blocks[3], ns)                                   # loop from scratch + saliency
    assert not np.array_equal(before, ns["model"].dense1.kernel.numpy())
    saliency = ns["saliency"]
    assert saliency.shape == (1, 784) and np.any(saliency != 0)
