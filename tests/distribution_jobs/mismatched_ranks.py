"""Process 1 disagrees with process 0 (--what model: another Dense width; --what data: ten rows
fewer): fit must refuse to start."""

import _job

a = _job.parse([(("--what",), {"choices": ["model", "data"], "required": True})])
other = _job.rank() == 1
x, y = _job.data(a, 640 - (10 if other and a.what == "data" else 0))
model = _job.mlp(a, width=32 if other and a.what == "model" else 64)
model.fit(x, y, batch_size=64, epochs=1, verbose=0)
_job.save(a, model)
