"""What recording costs: the same training written with the autodiff (layers defined by ``call``,
a ``GradientTape`` loop) against nncore's built-in fused ``fit`` and PyTorch eager, float32, each
in its own process with the same thread count (issue targets: custom Dense MLP <= 1.5x the
built-in Dense, tape loop over the seed CNN's layers <= 1.2x ``fit``).

A timed call is ``steps`` optimizer steps of batch 32 over in-memory data (an epoch's worth of
steps would make each case minutes long); the time per step is what matters.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

STEPS = 200
BATCH = 32
CASES = [
    # nncore: an MLP 784-128-10 whose Dense layers are written as custom layers (matmul + bias,
    # relu with ops); builtin: the same with nncore.layers.Dense; torch: nn.Linear.
    {"name": "mlp custom-layer fit", "model": "mlp", "variant": "custom_layers"},
    # nncore: a GradientTape loop over the seed CNN's built-in layers; builtin: fit.
    {"name": "seed cnn tape loop", "model": "cnn", "variant": "tape_loop"},
    # nncore: fit of a subclassed Model calling the seed CNN's layers; builtin: fit.
    {"name": "seed cnn subclassed fit", "model": "cnn", "variant": "subclassed"},
]


def _data(model):
    rng = np.random.default_rng(0)
    n = STEPS * BATCH
    if model == "cnn":
        x = rng.random((n, 32, 32, 3), dtype=np.float32)
    else:
        x = rng.random((n, 784), dtype=np.float32)
    return x, rng.integers(0, 10, n)


def _seed_cnn_layers(L):
    return [L.Conv2D(8, (3, 3), padding="same"), L.MaxPool2D((2, 2)),
            L.Conv2D(16, (3, 3), padding="same"), L.MaxPool2D((2, 2)), L.Flatten(),
            L.Dense(128), L.Dense(10, activation="softmax")]


def build_builtin(case):
    import nncore
    from nncore import layers as L

    nncore.set_seed(0)
    x, y = _data(case["model"])
    if case["model"] == "cnn":
        model = nncore.Sequential([nncore.Input((32, 32, 3)), *_seed_cnn_layers(L)])
    else:
        model = nncore.Sequential([nncore.Input((784,)), L.Dense(128, activation="relu"),
                                   L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)


def build_nncore(case):
    import nncore
    from nncore import layers as L
    from nncore import ops

    nncore.set_seed(0)
    x, y = _data(case["model"])
    if case["variant"] == "custom_layers":
        class Linear(L.Layer):
            def __init__(self, units, relu=False, **kw):
                super().__init__(**kw)
                self.units, self.relu = units, relu

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units))
                self.b = self.add_weight(shape=(self.units,), initializer="zeros")

            def call(self, inputs):
                h = ops.matmul(inputs, self.w) + self.b
                return ops.relu(h) if self.relu else h

        model = nncore.Sequential([nncore.Input((784,)), Linear(128, relu=True), Linear(10),
                                   L.Activation("softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    if case["variant"] == "subclassed":
        class SeedCNN(nncore.Model):
            def __init__(self):
                super().__init__()
                self.stack = _seed_cnn_layers(L)

            def call(self, inputs):
                for layer in self.stack:
                    inputs = layer(inputs)
                return inputs

        model = SeedCNN()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    model = nncore.Sequential([nncore.Input((32, 32, 3)), *_seed_cnn_layers(L)])
    optimizer = nncore.optimizers.Adam()
    loss_fn = nncore.losses.SparseCategoricalCrossentropy()
    weights = model.trainable_weights

    def epoch():
        for lo in range(0, len(x), BATCH):
            with nncore.GradientTape() as tape:
                loss = loss_fn(y[lo:lo + BATCH], model(x[lo:lo + BATCH], training=True))
            optimizer.apply(tape.gradient(loss, weights), weights)
    return epoch


def build_torch(case):
    import torch
    from torch import nn

    torch.manual_seed(0)
    x, y = _data(case["model"])
    if case["model"] == "cnn":
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 8 * 8, 128), nn.Linear(128, 10))
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        model = model.to(memory_format=torch.channels_last)
        xt = xt.contiguous(memory_format=torch.channels_last)
    else:
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        for lo in range(0, len(xt), BATCH):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[lo:lo + BATCH]), yt[lo:lo + BATCH])
            loss.backward()
            opt.step()
    return epoch


def columns(case, times):
    cells = []
    for fw in ("nncore", "builtin", "torch"):
        t = times.get(fw)
        cells.append((f"{fw} ms/step", f"{t['median'] / STEPS * 1e3:.3f}" if t else "–"))
    return cells


if __name__ == "__main__":
    _harness.main(name="autodiff", script=__file__, cases=CASES,
                  builders={"nncore": build_nncore, "builtin": build_builtin, "torch": build_torch},
                  columns=columns, anchors=["builtin", "torch"])
