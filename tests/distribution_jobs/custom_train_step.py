"""The train_step and test_step of Keras' guide "Customizing what happens in fit()" (GradientTape,
compute_loss, optimizer.apply, the metrics' loop), and one that calls super().train_step, trained
and evaluated data-parallel: the optimizer gets the gradients summed over the processes."""

import os
import sys

import numpy as np

import _job
import nncore

# The guide's model as tests/test_custom_training.py ports it (one definition for both).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from test_custom_training import GuideModel  # noqa: E402


class SuperModel(nncore.Model):
    def train_step(self, data):
        return super().train_step(data)


a = _job.parse([(("--kind",), {"choices": ["guide", "super"], "required": True})])
x, y = _job.data(a, 1280)
nncore.set_seed(3)
inputs = nncore.Input((784,), dtype=a.dtype)
h = nncore.layers.Dense(32, use_bias=False)(inputs)
h = nncore.layers.BatchNormalization(synchronized=True)(h)
h = nncore.layers.Activation("relu")(h)
outputs = nncore.layers.Dense(10, activation="softmax")(h)
model = (GuideModel if a.kind == "guide" else SuperModel)(inputs, outputs)
model.compile(nncore.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x, y, batch_size=64, epochs=2, verbose=0)
scores = model.evaluate(x[:640], y[:640], batch_size=64, verbose=0, return_dict=True)
_job.save(a, model, scores=np.array([scores[k] for k in sorted(scores)]),
          **_job.history_arrays(history))
