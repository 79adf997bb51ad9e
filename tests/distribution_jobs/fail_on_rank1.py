"""A long epoch in which process 1 fails at its fourth batch (--how kill: SIGKILL to itself;
--how raise: a RuntimeError from a callback). Just before, it writes the time to <out>/failed_at
so the test measures how long the job takes to end after the failure."""

import os
import signal
import time

import nncore
import _job

a = _job.parse([(("--how",), {"choices": ["kill", "raise"], "required": True})])
x, y = _job.data(a, 8000)


class FailOnRank1(nncore.callbacks.Callback):
    # Every process has it (the processes must agree on batch hooks); only process 1 fails.
    def on_train_batch_end(self, batch, logs=None):
        if _job.rank() != 1 or batch != 3:
            return
        with open(os.path.join(a.out, "failed_at"), "w") as f:
            f.write(repr(time.time()))
        if a.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("process 1 fails on purpose at batch 3")


model = _job.mlp(a)
# Many small batches: the epoch is far from over when process 1 fails.
model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[FailOnRank1()])
_job.save(a, model)
