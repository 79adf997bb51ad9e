"""The README's ONNX Runtime code ("Moving models between nncore, Keras and ONNX Runtime") runs
as written, on the seed CNN."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT

import nncore

pytest.importorskip("onnx", reason="needs onnx (extra 'onnx')")
pytest.importorskip("onnxruntime", reason="needs onnxruntime (extra 'test')")


def test_readme_onnx_section_runs(tmp_path, monkeypatch):
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("## Moving models between nncore, Keras and ONNX Runtime")
    end = text.index("\n## ", start + 10)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
    (block,) = [b for b in blocks if "onnxruntime" in b]
    monkeypatch.chdir(tmp_path)
    nncore.set_seed(0)
    L = nncore.layers
    model = nncore.Sequential([
        nncore.Input((32, 32, 3)), L.Conv2D(8, 3, padding="same"), L.MaxPool2D(2),
        L.Conv2D(16, 3, padding="same"), L.MaxPool2D(2), L.Flatten(), L.Dense(128),
        L.Dense(10, activation="softmax")])
    exec(block, {"model": model})           # its assert compares ONNX Runtime with predict
    assert (tmp_path / "model.onnx").is_file()
