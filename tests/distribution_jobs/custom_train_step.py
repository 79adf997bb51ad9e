"""The train_step and test_step of Keras' guide "Customizing what happens in fit()" (GradientTape,
compute_loss, optimizer.apply, the metrics' loop), and one that calls super().train_step, trained
and evaluated data-parallel: the optimizer gets the gradients summed over the processes."""

import numpy as np

import _job
import nncore


class GuideModel(nncore.Model):
    def train_step(self, data):
        x, y = data
        with nncore.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, trainable_vars), trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


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
