"""Exact resume: training interrupted after an epoch and continued from its ModelCheckpoint archive
in a new process ends with bitwise the same weights as an uninterrupted run (weights, optimizer
slots and step, learning-rate schedule position, shuffle/dropout/augmentation RNG states)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import nncore
    from nncore import layers as L

    mode, threads, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    nncore.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 8, 8, 3)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 40)]
    if mode == "full":
        nncore.set_seed(5)
        inp = nncore.Input(shape=(8, 8, 3))
        h = L.RandomFlip("horizontal")(inp)
        h = L.Conv2D(6, 3, padding="same", activation="relu")(h)
        h = L.MaxPool2D(2)(h)
        h = L.BatchNormalization()(h)
        h = L.Flatten()(h)
        h = L.Dropout(0.3)(h)
        out = L.Dense(4, activation="softmax")(h)
        model = nncore.Model(inp, out)
        lr = nncore.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.7)
        model.compile(optimizer=nncore.optimizers.Adam(lr), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        ckpt = nncore.callbacks.ModelCheckpoint(workdir + "/ckpt-{epoch}.nncore")
        model.fit(x, y, batch_size=7, epochs=4, verbose=0, callbacks=[ckpt])
    else:
        model = nncore.load_model(workdir + "/ckpt-2.nncore")
        np.savez(workdir + "/start.npz", *model.get_weights())
        model.fit(x, y, batch_size=7, epochs=4, initial_epoch=2, verbose=0)
    np.savez(workdir + f"/{mode}.npz", *model.get_weights(),
             iterations=np.array(model.optimizer.iterations))
""")


def run(mode, threads, workdir):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(threads), str(workdir)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("threads", [1, 2])
def test_resume_from_checkpoint_is_bitwise_identical(tmp_path, threads):
    run("full", threads, tmp_path)
    run("resume", threads, tmp_path)
    full, resumed = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resume.npz")
    assert sorted(full.files) == sorted(resumed.files) and len(full.files) > 5
    for name in full.files:
        np.testing.assert_array_equal(full[name], resumed[name], err_msg=name)
    assert int(full["iterations"]) == 4 * 6
    # The resumed process really trained two more epochs from the checkpoint.
    start = np.load(tmp_path / "start.npz")
    assert not np.array_equal(start["arr_0"], resumed["arr_0"])
