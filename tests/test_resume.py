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

    mode, threads, workdir, lr_kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
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
        if lr_kind == "schedule":
            lr = nncore.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.7)
        else:
            lr = 0.01
        model.compile(optimizer=nncore.optimizers.Adam(lr), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    else:
        model = nncore.load_model(workdir + "/ckpt-2.nncore")
        np.savez(workdir + "/start.npz", *model.get_weights())
    # Callback state matters: the plateau callback halves the rate after a wait it counts.
    # The checkpoint comes first in the list: it still saves the other callbacks' states after
    # their epoch end (fit runs it last at an epoch's end).
    callbacks = [nncore.callbacks.ModelCheckpoint(workdir + "/ckpt-{epoch}.nncore"),
                 nncore.callbacks.EarlyStopping(monitor="loss", patience=10)]
    if lr_kind == "plateau":
        callbacks.append(nncore.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5,
                                                            patience=2, min_delta=10.0))
    first = 0 if mode == "full" else 2
    model.fit(x, y, batch_size=7, epochs=4, initial_epoch=first, verbose=0, callbacks=callbacks)
    np.savez(workdir + f"/{mode}.npz", *model.get_weights(),
             iterations=np.array(model.optimizer.iterations),
             lr=np.array(float(model.optimizer.learning_rate)),
             early_wait=np.array(callbacks[1].wait), early_best=np.array(callbacks[1].best))
""")


def run(mode, threads, workdir, lr_kind):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(threads), str(workdir), lr_kind],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("threads,lr_kind", [(1, "schedule"), (2, "schedule"), (1, "plateau"),
                                              (2, "plateau")])
def test_resume_from_checkpoint_is_bitwise_identical(tmp_path, threads, lr_kind):
    run("full", threads, tmp_path, lr_kind)
    run("resume", threads, tmp_path, lr_kind)
    full, resumed = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resume.npz")
    assert sorted(full.files) == sorted(resumed.files) and len(full.files) > 5
    for name in full.files:
        np.testing.assert_array_equal(full[name], resumed[name], err_msg=name)
    assert int(full["iterations"]) == 4 * 6
    if lr_kind == "plateau":
        assert float(full["lr"]) < 0.01    # the plateau callback did act
    # The resumed process really trained two more epochs from the checkpoint.
    start = np.load(tmp_path / "start.npz")
    assert not np.array_equal(start["arr_0"], resumed["arr_0"])
