"""TensorBoard callback: drive it with a small fake model, read the event files back with the
tensorboard package and check exact scalars, steps, histograms and the summary text."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorboardX", reason="tensorboardX (extra 'tensorboard') is not installed")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="the tensorboard package (test extra) is needed to read event files back")

from nncore.callbacks.tensorboard import TensorBoard, current_learning_rate  # noqa: E402


class FakeWeight:
    def __init__(self, name, value):
        self.name = name
        self.value = value


class FakeOptimizer:
    def __init__(self, lr):
        self.learning_rate = lr
        self.iterations = 0


class FakeModel:
    def __init__(self, lr=0.01):
        rng = np.random.default_rng(0)
        self.weights = [FakeWeight("dense/kernel", rng.normal(size=(4, 3)).astype(np.float32)),
                        FakeWeight("dense/bias", np.zeros(3, np.float32))]
        self.optimizer = FakeOptimizer(lr)
        self.stop_training = False

    def summary(self, print_fn=None):
        print_fn('Model: "sequential"\nTotal params: 15')


def load(path):
    acc = event_accumulator.EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0,
                                                                       "tensors": 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def run(cb, model, epochs=3, batches=5):
    cb.set_model(model)
    cb.set_params({"epochs": epochs, "steps": batches, "verbose": 0})
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        for b in range(batches):
            cb.on_train_batch_begin(b)
            cb.on_train_batch_end(b, {"loss": 1.0 / (epoch * batches + b + 1), "accuracy": 0.1 * b})
        model.optimizer.learning_rate *= 0.5  # a scheduler between epochs
        cb.on_epoch_end(epoch, {"loss": 1.0 - 0.25 * epoch, "accuracy": 0.5 + 0.125 * epoch,
                                "val_loss": 1.5 - 0.25 * epoch, "val_accuracy": 0.25 * epoch})
    cb.on_train_end()


def test_epoch_scalars_histograms_and_summary(tmp_path):
    model = FakeModel(lr=0.5)
    run(TensorBoard(log_dir=tmp_path / "logs", histogram_freq=2), model)
    train = load(tmp_path / "logs" / "train")
    val = load(tmp_path / "logs" / "validation")
    assert scalars(train, "epoch_loss") == [(0, 1.0), (1, 0.75), (2, 0.5)]
    assert scalars(train, "epoch_accuracy") == [(0, 0.5), (1, 0.625), (2, 0.75)]
    assert scalars(train, "epoch_learning_rate") == [(0, 0.25), (1, 0.125), (2, 0.0625)]
    assert scalars(val, "epoch_loss") == [(0, 1.5), (1, 1.25), (2, 1.0)]
    assert scalars(val, "epoch_accuracy") == [(0, 0.0), (1, 0.25), (2, 0.5)]
    assert scalars(val, "evaluation_loss_vs_iterations") == [(5, 1.5), (10, 1.25), (15, 1.0)]
    assert "epoch_val_loss" not in train.Tags()["scalars"]
    assert not any(t.startswith("batch_") for t in train.Tags()["scalars"])  # update_freq="epoch"
    hist = train.Histograms("dense/kernel/histogram")
    assert [h.step for h in hist] == [0, 2]
    k = model.weights[0].value
    assert hist[0].histogram_value.num == 12
    assert hist[0].histogram_value.min == pytest.approx(float(k.min()))
    assert hist[0].histogram_value.max == pytest.approx(float(k.max()))
    assert hist[0].histogram_value.sum == pytest.approx(float(k.sum()), rel=1e-6)
    assert len(train.Histograms("dense/bias/histogram")) == 2
    text = train.Tensors("model_summary/text_summary")
    assert b"Total params: 15" in text[0].tensor_proto.string_val[0]


def test_batch_scalars_every_n(tmp_path):
    run(TensorBoard(log_dir=tmp_path, update_freq=4, write_graph=False), FakeModel(), epochs=2, batches=5)
    train = load(tmp_path / "train")
    # batches 4 and 8 of the 10 trained; batch 4 is epoch 0 batch 3, batch 8 is epoch 1 batch 2
    assert scalars(train, "batch_loss") == [(4, pytest.approx(1 / 4)), (8, pytest.approx(1 / 8))]
    assert scalars(train, "batch_accuracy") == [(4, pytest.approx(0.3)), (8, pytest.approx(0.2))]
    assert "model_summary/text_summary" not in train.Tags()["tensors"]
    assert "histograms" not in train.Tags() or not train.Tags()["histograms"]


def test_learning_rate_from_logs_wins(tmp_path):
    cb = TensorBoard(log_dir=tmp_path)
    cb.set_model(FakeModel(lr=0.5))
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 2.0, "learning_rate": 0.125})
    cb.on_train_end()
    assert scalars(load(tmp_path / "train"), "epoch_learning_rate") == [(0, 0.125)]


def test_learning_rate_forms():
    m = FakeModel()
    m.optimizer.learning_rate = FakeWeight("lr", np.float32(0.25))  # a Variable-like object
    assert current_learning_rate(m) == 0.25

    class Schedule:
        def __call__(self, step):
            return 1.0 / (step + 1)

    m.optimizer.learning_rate = Schedule()
    m.optimizer.iterations = 3
    assert current_learning_rate(m) == 0.25
    assert current_learning_rate(object()) is None


def test_model_without_summary_or_weights(tmp_path):
    class Bare:
        pass

    cb = TensorBoard(log_dir=tmp_path, histogram_freq=1)
    cb.set_model(Bare())
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_train_end()
    assert scalars(load(tmp_path / "train"), "epoch_loss") == [(0, 1.0)]


def test_arguments_and_config(tmp_path):
    cb = TensorBoard(log_dir=str(tmp_path), histogram_freq=1, update_freq="batch", write_images=False)
    assert cb.update_freq == 1
    again = TensorBoard.from_config(cb.get_config())
    assert again.get_config() == cb.get_config()
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq=0)
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(histogram_freq=-1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        TensorBoard(log_dirr="x")
