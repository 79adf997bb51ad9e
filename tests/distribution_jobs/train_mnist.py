"""One epoch of the MLP with batch normalization at global batch 64; each process saves its
weights, the History and the batch normalization's moving statistics."""

import _job

a = _job.parse([(("--bn",), {"choices": ["sync", "plain"], "default": "sync"}),
                (("--verbose",), {"type": int, "default": 0}),
                (("--epochs",), {"type": int, "default": 1})])
x, y = _job.data(a)
model = _job.mlp(a, synchronized=a.bn == "sync")
history = model.fit(x, y, batch_size=64, epochs=a.epochs, verbose=a.verbose)
bn = _job.batch_norm(model)
_job.save(a, model, moving_mean=bn.moving_mean.value, moving_variance=bn.moving_variance.value,
          **_job.history_arrays(history))
