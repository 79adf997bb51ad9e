"""evaluate on one row, so that process 0 gets no row at all, with a metric whose state takes its
shape from the first batch it sees (R2Score)."""

import numpy as np

import nncore
import _job

a = _job.parse()
nncore.set_seed(3)
model = nncore.Sequential([nncore.Input((3,), dtype=a.dtype), nncore.layers.Dense(2)])
model.compile("sgd", "mse", metrics=[nncore.metrics.R2Score(), "mae"])
x = np.linspace(-1.0, 1.0, 3).reshape(1, 3).astype(a.dtype)
y = np.array([[0.5, -0.25]], a.dtype)
_job.save(a, model, evaluate=np.array(model.evaluate(x, y, batch_size=64, verbose=0)))
