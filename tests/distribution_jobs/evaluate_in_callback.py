"""A callback evaluates at every epoch's end inside fit, while only process 0 shows the progress
bar (the others pass verbose=0): the processes must still agree on every collective."""

import numpy as np

import _job
import nncore

a = _job.parse()
x, y = _job.data(a, 640)
model = _job.mlp(a)
scores = []


class EvaluateEachEpoch(nncore.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        scores.append(self.model.evaluate(x, y, batch_size=100, verbose=0))


history = model.fit(x, y, batch_size=64, epochs=2, verbose=1 if _job.rank() == 0 else 0,
                    callbacks=[EvaluateEachEpoch()])
_job.save(a, model, scores=np.asarray(scores, np.float64), **_job.history_arrays(history))
