"""A process killed (SIGKILL) while saving leaves the previous complete file, which still loads."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nncore
from nncore import layers as L

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import nncore
    from nncore import layers as L

    path = sys.argv[1]
    inp = nncore.Input(shape=(1500,))
    model = nncore.Model(inp, L.Dense(1500, name="big")(inp))
    model.compile(optimizer="adam", loss="mse")
    save = model.save if path.endswith(".nncore") else model.save_weights
    k = 0
    while True:
        model.set_weights([np.full(w.shape, k, w.dtype) for w in model.get_weights()])
        save(path)
        if k == 0:
            print("saved", flush=True)
        k += 1
""")


def big_model():
    inp = nncore.Input(shape=(1500,))
    return nncore.Model(inp, L.Dense(1500, name="big")(inp))


@pytest.mark.parametrize("name", ["m.nncore", "m.weights.npz"])
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_kill_mid_save_leaves_a_loadable_previous_file(tmp_path, name, delay):
    path = tmp_path / name
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved", proc.stderr.read()
        time.sleep(delay)   # somewhere inside a later save (each writes ~9 MB)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if name.endswith(".nncore"):
        model = nncore.load_model(path)
    else:
        model = big_model()
        model.load_weights(path)
    kernel, bias = model.get_weights()
    # One complete save: every value is the same save counter k.
    k = kernel.flat[0]
    assert np.all(kernel == k) and np.all(bias == k)
