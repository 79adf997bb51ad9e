"""Two epochs with ModelCheckpoint and CSVLogger (--mode full), or the second epoch resumed from
a checkpoint of the first (--mode resume --ckpt PATH). Besides the shared files, every process
passes a checkpoint and a log of its own path (rank<r>/): only process 0 may write them."""

import os

import nncore
import _job

a = _job.parse([(("--mode",), {"choices": ["full", "resume"], "required": True}),
                (("--ckpt",), {"default": None})])
x, y = _job.data(a)
own = os.path.join(a.out, f"rank{_job.rank()}")
os.makedirs(own, exist_ok=True)
callbacks = [nncore.callbacks.ModelCheckpoint(os.path.join(a.out, "ckpt-{epoch}.nncore"),
                                              monitor="loss"),
             nncore.callbacks.CSVLogger(os.path.join(a.out, "log.csv")),
             nncore.callbacks.ModelCheckpoint(os.path.join(own, "ckpt-{epoch}.nncore"),
                                              monitor="loss"),
             nncore.callbacks.CSVLogger(os.path.join(own, "log.csv"))]
if a.mode == "full":
    model, first = _job.mlp(a), 0
else:
    model, first = nncore.load_model(a.ckpt), 1
history = model.fit(x, y, batch_size=64, epochs=2, initial_epoch=first, verbose=0,
                    callbacks=callbacks)
_job.save(a, model, iterations=model.optimizer.iterations, **_job.history_arrays(history))
