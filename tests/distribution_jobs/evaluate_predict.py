"""fit with validation_data, then evaluate and predict, on row counts the global batch of 64 does
not divide: 1001 rows (a last batch of 41) and 129 rows (a last batch of 1, fewer rows than
processes)."""

import _job

a = _job.parse()
x, y = _job.data(a, 1001)
xv, yv = _job.data(a, 129, split="test")
model = _job.mlp(a)
history = model.fit(x, y, batch_size=64, epochs=1, verbose=0, validation_data=(xv, yv))
results = {}
for name, (xe, ye) in {"train": (x, y), "val": (xv, yv)}.items():
    results[f"evaluate_{name}"] = model.evaluate(xe, ye, batch_size=64, verbose=0)
    results[f"predict_{name}"] = model.predict(xe, batch_size=64, verbose=0)
_job.save(a, model, **_job.history_arrays(history), **results)
