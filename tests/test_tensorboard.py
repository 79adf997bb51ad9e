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
    """The hooks in fit's order: batches (each one optimizer step), the validation pass, the
    epoch end."""
    cb.set_model(model)
    cb.set_params({"epochs": epochs, "steps": batches, "verbose": 0})
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        for b in range(batches):
            cb.on_train_batch_begin(b)
            model.optimizer.iterations += 1
            cb.on_train_batch_end(b, {"loss": 1.0 / (epoch * batches + b + 1), "accuracy": 0.1 * b})
        model.optimizer.learning_rate *= 0.5  # a scheduler between epochs
        val = {"loss": 1.5 - 0.25 * epoch, "accuracy": 0.25 * epoch}
        cb.on_test_begin()
        cb.on_test_end(val)
        cb.on_epoch_end(epoch, {"loss": 1.0 - 0.25 * epoch, "accuracy": 0.5 + 0.125 * epoch,
                                **{f"val_{k}": v for k, v in val.items()}})
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


# ---------------------------------------------------------------------- Keras 3's own cases
# Ported from keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2 (same model, data
# and expected summaries). Left out: the projector (embeddings), custom summaries written
# inside layers, the TF graph / model-config summaries, profiling traces and the
# non-blocking check, none of which nncore has.
import os  # noqa: E402

import nncore  # noqa: E402
from nncore import callbacks, layers, optimizers  # noqa: E402
from nncore.optimizers import schedules  # noqa: E402


def list_summaries(logdir):
    """(run dir, tag) pairs of every scalar, histogram and image under ``logdir``."""
    found = {"scalars": set(), "histograms": set(), "images": set()}
    for dirpath, _, filenames in os.walk(logdir):
        if not any(f.startswith("events.out.") for f in filenames):
            continue
        tags = load(dirpath).Tags()
        for kind in found:
            found[kind].update((dirpath, t) for t in tags.get(kind, []))
    return found


def points(run_dir, tag):
    """(step, value) of ``tag`` over all event files of a run, file by file in writing order
    (a directory reader would treat a later file as a restart and drop earlier steps)."""
    files = sorted((f for f in os.listdir(run_dir) if f.startswith("events.out.")),
                   key=lambda f: os.path.getmtime(os.path.join(run_dir, f)))
    return [p for f in files for p in scalars(load(os.path.join(run_dir, f)), tag)
            if tag in load(os.path.join(run_dir, f)).Tags()["scalars"]]


def strip_layer_names(summaries):
    assert all("/" in tag for _, tag in summaries)
    return {(d, tag.split("/")[-1]) for d, tag in summaries}


@pytest.fixture
def tb_dirs(tmp_path):
    logdir = str(tmp_path / "tb")
    return logdir, os.path.join(logdir, "train"), os.path.join(logdir, "validation")


def _tb_model(compile_model=True):
    model = nncore.Sequential([nncore.Input((10, 10, 1)), layers.Flatten(), layers.Dense(1)])
    if compile_model:
        model.compile("sgd", "mse")
    return model


X_TB, Y_TB = np.ones((10, 10, 10, 1)), np.ones((10, 1))


def _basic_scalars(train_dir, validation_dir):
    return {(train_dir, "epoch_loss"), (validation_dir, "epoch_loss"),
            (train_dir, "epoch_learning_rate"), (validation_dir, "evaluation_loss_vs_iterations")}


def test_keras_tensorboard_basic(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_basic
    logdir, train_dir, validation_dir = tb_dirs
    _tb_model().fit(X_TB, Y_TB, batch_size=2, epochs=2, validation_data=(X_TB, Y_TB),
                    callbacks=[callbacks.TensorBoard(logdir)], verbose=0)
    assert list_summaries(logdir)["scalars"] == _basic_scalars(train_dir, validation_dir)


def test_keras_tensorboard_across_invocations(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_across_invocations
    logdir, train_dir, validation_dir = tb_dirs
    model, tb_cbk = _tb_model(), callbacks.TensorBoard(logdir)
    for _ in (1, 2):
        model.fit(X_TB, Y_TB, batch_size=2, epochs=2, validation_data=(X_TB, Y_TB),
                  callbacks=[tb_cbk], verbose=0)
    assert list_summaries(logdir)["scalars"] == _basic_scalars(train_dir, validation_dir)
    # both fits' points are kept, though written within the same second
    assert [s for s, _ in points(train_dir, "epoch_loss")] == [0, 1, 0, 1]


def test_keras_tensorboard_no_spurious_event_files(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_no_spurious_event_files
    logdir, train_dir, validation_dir = tb_dirs
    _tb_model().fit(X_TB, Y_TB, batch_size=2, epochs=2, callbacks=[callbacks.TensorBoard(logdir)],
                    verbose=0)
    runs = {os.path.basename(d) for d, _, files in os.walk(train_dir)
            if any(f.startswith("events.out.") for f in files)}
    assert runs == {"train"}
    assert not os.path.exists(validation_dir)  # nothing to validate, no run for it


def test_keras_tensorboard_batch_metrics(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_batch_metrics
    logdir, train_dir, validation_dir = tb_dirs
    _tb_model().fit(X_TB, Y_TB, batch_size=2, epochs=2, validation_data=(X_TB, Y_TB),
                    callbacks=[callbacks.TensorBoard(logdir, update_freq=1)], verbose=0)
    assert list_summaries(logdir)["scalars"] == (_basic_scalars(train_dir, validation_dir)
                                                 | {(train_dir, "batch_loss")})


def test_keras_tensorboard_learning_rate_schedules(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_learning_rate_schedules
    logdir, train_dir, _ = tb_dirs
    model = _tb_model(compile_model=False)
    model.compile(optimizers.SGD(schedules.CosineDecay(0.01, 1)), "mse")
    model.fit(X_TB, Y_TB, batch_size=2, epochs=2, callbacks=[callbacks.TensorBoard(logdir)],
              verbose=0)
    assert list_summaries(logdir)["scalars"] == {(train_dir, "epoch_loss"),
                                                 (train_dir, "epoch_learning_rate")}


def test_keras_tensorboard_global_step(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_global_step
    logdir, train_dir, _ = tb_dirs
    model = _tb_model(compile_model=False)
    model.compile(optimizers.SGD(schedules.CosineDecay(0.01, 1)), "mse")
    model.fit(X_TB, Y_TB, batch_size=2, epochs=2, verbose=0,
              callbacks=[callbacks.TensorBoard(logdir, update_freq=1, profile_batch=0,
                                               write_steps_per_second=True)])
    assert list_summaries(logdir)["scalars"] == {
        (train_dir, "batch_loss"), (train_dir, "epoch_loss"), (train_dir, "epoch_learning_rate"),
        (train_dir, "epoch_steps_per_second"), (train_dir, "batch_steps_per_second")}
    train = load(train_dir)
    # one batch_* point per batch (5 an epoch), steps counted from 1, and 5 steps per epoch
    assert [s for s, _ in scalars(train, "batch_steps_per_second")] == list(range(1, 11))
    assert all(v > 0 for _, v in scalars(train, "epoch_steps_per_second"))


def test_keras_tensorboard_weight_histograms(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_weight_histograms
    logdir, train_dir, validation_dir = tb_dirs
    _tb_model().fit(X_TB, Y_TB, batch_size=2, epochs=2, validation_data=(X_TB, Y_TB),
                    callbacks=[callbacks.TensorBoard(logdir, histogram_freq=1)], verbose=0)
    found = list_summaries(logdir)
    assert found["scalars"] == _basic_scalars(train_dir, validation_dir)
    assert strip_layer_names(found["histograms"]) == {(train_dir, "histogram")}


def test_keras_tensorboard_weight_images(tb_dirs):
    # keras/src/callbacks/tensorboard_test.py::TestTensorBoardV2::test_TensorBoard_weight_images
    logdir, train_dir, validation_dir = tb_dirs
    x = np.ones((10, 10, 10, 1))
    model = nncore.Sequential([nncore.Input((10, 10, 1)), layers.Conv2D(3, 10),
                               layers.GlobalAveragePooling2D(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, Y_TB, batch_size=2, epochs=2, validation_data=(x, Y_TB), verbose=0,
              callbacks=[callbacks.TensorBoard(logdir, histogram_freq=1, write_images=True)])
    found = list_summaries(logdir)
    assert found["scalars"] == _basic_scalars(train_dir, validation_dir)
    assert strip_layer_names(found["histograms"]) == {(train_dir, "histogram")}
    assert strip_layer_names(found["images"]) == {(train_dir, "image")}


def test_evaluation_vs_iterations_steps_and_standalone_evaluate(tb_dirs):
    # Keras writes evaluation_<name>_vs_iterations when an evaluation ends, at the optimizer's
    # step count: after each epoch of fit and for evaluate(callbacks=[tb]) alike.
    logdir, _, validation_dir = tb_dirs
    model, tb = _tb_model(), callbacks.TensorBoard(logdir)
    history = model.fit(X_TB, Y_TB, batch_size=2, epochs=2, validation_data=(X_TB, Y_TB),
                        callbacks=[tb], verbose=0)
    loss = model.evaluate(X_TB, Y_TB, batch_size=2, callbacks=[tb], verbose=0)
    got = points(validation_dir, "evaluation_loss_vs_iterations")
    assert [s for s, _ in got] == [5, 10, 10]
    np.testing.assert_allclose([v for _, v in got], history.history["val_loss"] + [loss],
                               rtol=1e-6)


def test_profile_batch_is_refused():
    with pytest.raises(ValueError, match="profile_batch"):
        TensorBoard(profile_batch=2)


def test_scalars_in_fit_match_the_history(tb_dirs):
    # The values fit logged, read back from the event files: the epoch scalars are History's,
    # the batch scalars one per update_freq batches at the running step.
    logdir, train_dir, validation_dir = tb_dirs
    model = _tb_model(compile_model=False)
    model.compile(optimizers.SGD(0.01), "mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 10, 10, 1)), rng.standard_normal((10, 1))
    history = model.fit(x, y, batch_size=2, epochs=3, validation_data=(x[:4], y[:4]), verbose=0,
                        callbacks=[callbacks.TensorBoard(logdir, update_freq=2)])
    train_loss = points(train_dir, "epoch_loss")
    assert [s for s, _ in train_loss] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train_loss], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in points(validation_dir, "epoch_loss")],
                               history.history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in points(train_dir, "epoch_learning_rate")],
                               [0.01] * 3, rtol=1e-6)
    assert [s for s, _ in points(train_dir, "batch_loss")] == [2, 4, 6, 8, 10, 12, 14]
