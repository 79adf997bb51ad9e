"""Python-generated batches (a generator, --what generator) where process 1 yields one batch
fewer, and where both yield the same number (--what even): the first must stop every process with
the reason, never leave one waiting; the second must train."""

import _job

a = _job.parse([(("--what",), {"choices": ["uneven", "even"], "required": True})])
x, y = _job.data(a, 640)
batches = 10 - (1 if a.what == "uneven" and _job.rank() == 1 else 0)


def generator():
    for i in range(batches):
        yield x[i * 64:(i + 1) * 64], y[i * 64:(i + 1) * 64]


model = _job.mlp(a)
history = model.fit(generator(), epochs=1, verbose=0)
_job.save(a, model, **_job.history_arrays(history))
