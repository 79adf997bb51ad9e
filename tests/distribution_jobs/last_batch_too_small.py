"""641 rows in batches of 64 end with a batch of 1, which 2 processes cannot share: fit must
refuse before its first step, on every process, with the reason."""

import _job

a = _job.parse()
x, y = _job.data(a, 641)
model = _job.mlp(a)
model.fit(x, y, batch_size=64, epochs=1, verbose=0)
_job.save(a, model)
