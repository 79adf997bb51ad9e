"""Callbacks: EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau,
TerminateOnNaN, CSVLogger, LambdaCallback (Keras 3 semantics), driven both by hand (exact
sequences of epoch logs) and through fit."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

import nncore
from nncore import callbacks as C
from nncore import layers as L
from nncore import optimizers


# ---------------------------------------------------------------------- helpers
class FakeOptimizer:
    def __init__(self, lr):
        self.learning_rate = lr


class FakeModel:
    """What the monitoring callbacks touch: weights, stop flag, optimizer, metrics."""

    def __init__(self, lr=0.1):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.metrics = []
        self.w = np.zeros(2)

    def get_weights(self):
        return [self.w.copy()]

    def set_weights(self, ws):
        self.w = ws[0].copy()


def drive(cb, values, key="val_loss", model=None, on_epoch=None):
    """Runs the epoch-end hook over ``values`` until the callback stops training; returns the
    epochs seen and the logs dicts."""
    model = model or FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    seen, all_logs = [], []
    for epoch, v in enumerate(values):
        model.w = np.full(2, float(epoch))
        cb.on_epoch_begin(epoch)
        logs = {key: v}
        cb.on_epoch_end(epoch, logs)
        seen.append(epoch)
        all_logs.append(logs)
        if on_epoch:
            on_epoch(epoch, model)
        if model.stop_training:
            break
    cb.on_train_end()
    return seen, all_logs


def regression_data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)
    return x, y


def small_model(lr=0.01, seed=0):
    nncore.set_seed(seed)
    model = nncore.Sequential([nncore.Input(shape=(3,)), L.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse")
    return model


# ---------------------------------------------------------------------- EarlyStopping
def test_early_stopping_patience_counts_epochs_without_improvement():
    cb = C.EarlyStopping(patience=2)
    seen, _ = drive(cb, [1.0, 0.9, 0.95, 0.96, 0.97, 0.1])
    assert seen == [0, 1, 2, 3]
    assert cb.stopped_epoch == 3 and cb.best == 0.9 and cb.best_epoch == 1


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    seen, _ = drive(C.EarlyStopping(patience=0), [1.0, 0.5, 0.7, 0.1])
    assert seen == [0, 1, 2]


def test_early_stopping_min_delta_needs_a_large_enough_change():
    seen, _ = drive(C.EarlyStopping(patience=1, min_delta=0.05), [1.0, 0.99, 0.98])
    assert seen == [0, 1]
    seen, _ = drive(C.EarlyStopping(patience=1, min_delta=0.05), [1.0, 0.9, 0.8, 0.79])
    assert seen == [0, 1, 2, 3]


def test_early_stopping_mode_auto_maximizes_accuracy_and_max_mode():
    seen, _ = drive(C.EarlyStopping(monitor="val_accuracy", patience=1), [0.5, 0.6, 0.55, 0.9],
                    key="val_accuracy")
    assert seen == [0, 1, 2]
    seen, _ = drive(C.EarlyStopping(monitor="score", mode="max", patience=1), [1, 2, 3, 2],
                    key="score")
    assert seen == [0, 1, 2, 3]


def test_early_stopping_auto_mode_rejects_unknown_direction():
    with pytest.raises(ValueError, match="mode='max'"):
        drive(C.EarlyStopping(monitor="wobble"), [1.0], key="wobble")


def test_early_stopping_missing_monitor_warns_and_continues():
    with pytest.warns(UserWarning, match="not available"):
        seen, _ = drive(C.EarlyStopping(monitor="val_loss"), [1.0, 2.0, 3.0], key="loss")
    assert seen == [0, 1, 2]


def test_early_stopping_baseline_keeps_counting_until_beaten():
    # Without a baseline the improvement at epoch 1 restarts the count; with one it does not.
    seen, _ = drive(C.EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.5])
    assert seen == [0, 1, 2, 3]
    seen, _ = drive(C.EarlyStopping(patience=2, baseline=0.5), [1.0, 0.9, 0.95, 0.5])
    assert seen == [0, 1, 2]


def test_early_stopping_restore_best_weights_also_without_stopping():
    cb = C.EarlyStopping(patience=5, restore_best_weights=True)
    model = FakeModel()
    drive(cb, [3.0, 1.0, 2.0, 2.5], model=model)
    # drive() sets the weights to the epoch index before each epoch's end.
    assert np.all(model.w == 1.0)


def test_early_stopping_start_from_epoch_ignores_warm_up():
    seen, _ = drive(C.EarlyStopping(patience=0, start_from_epoch=2), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert seen == [0, 1, 2, 3]


def test_early_stopping_state_resumes_exactly():
    values = [1.0, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99]
    whole = C.EarlyStopping(patience=3, restore_best_weights=True)
    seen_whole, _ = drive(whole, values)
    first = C.EarlyStopping(patience=3, restore_best_weights=True)
    drive(first, values[:3])
    second = C.EarlyStopping(patience=3, restore_best_weights=True)
    second.set_state(first.get_state())
    model = FakeModel()
    second.set_model(model)
    second.on_train_begin()
    seen = []
    for epoch in range(3, len(values)):
        model.w = np.full(2, float(epoch))
        second.on_epoch_end(epoch, {"val_loss": values[epoch]})
        seen.append(epoch)
        if model.stop_training:
            break
    assert seen[-1] == seen_whole[-1] == second.stopped_epoch == whole.stopped_epoch
    assert second.best == whole.best and second.best_epoch == whole.best_epoch == 1


def test_early_stopping_in_fit_stops_a_model_that_does_not_learn():
    model = small_model(lr=1e-12)
    x, y = regression_data()
    cb = C.EarlyStopping(monitor="loss", patience=2, min_delta=1e-3)
    history = model.fit(x, y, epochs=20, batch_size=5, verbose=0, callbacks=[cb])
    assert len(history.history["loss"]) == 3
    assert cb.stopped_epoch == 2


def test_early_stopping_keras_documented_example():
    # keras.callbacks.EarlyStopping docstring: "Only 4 epochs are run." (targets of the
    # output's shape here: nncore's MSE does not broadcast (5,) against (5, 10)).
    nncore.set_seed(0)
    model = nncore.Sequential([L.Dense(10)])
    model.compile(optimizers.SGD(), loss="mse")
    history = model.fit(np.arange(100).reshape(5, 20), np.zeros((5, 10)), epochs=10, batch_size=1,
                        callbacks=[C.EarlyStopping(monitor="loss", patience=3)], verbose=0)
    assert len(history.history["loss"]) == 4


def test_early_stopping_restores_best_weights_in_fit():
    model = small_model(lr=0.05)
    x, y = regression_data()
    snapshots = []
    rec = C.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(
        (logs["val_loss"], model.get_weights())))
    es = C.EarlyStopping(patience=100, restore_best_weights=True)
    model.fit(x, y, epochs=6, batch_size=4, verbose=0, validation_split=0.25, callbacks=[rec, es])
    best = min(range(len(snapshots)), key=lambda i: snapshots[i][0])
    for got, want in zip(model.get_weights(), snapshots[best][1]):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_formats_epoch_and_logs_into_the_path(tmp_path):
    model = small_model()
    x, y = regression_data()
    path = str(tmp_path / "ck-{epoch:02d}-{val_loss:.2f}.nncore")
    history = model.fit(x, y, epochs=3, batch_size=5, verbose=0, validation_split=0.25,
                        callbacks=[C.ModelCheckpoint(path)])
    expected = {f"ck-{e + 1:02d}-{v:.2f}.nncore" for e, v in enumerate(history.history["val_loss"])}
    assert set(os.listdir(tmp_path)) == expected
    last = sorted(expected)[-1]
    loaded = nncore.load_model(str(tmp_path / last))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_checkpoint_save_best_only_and_threshold(tmp_path):
    model = small_model()
    cb = C.ModelCheckpoint(str(tmp_path / "e{epoch}.weights.npz"), save_best_only=True,
                           save_weights_only=True)
    drive(cb, [1.0, 2.0, 0.5, 0.5, 0.4], model=model)
    assert sorted(os.listdir(tmp_path)) == ["e1.weights.npz", "e3.weights.npz", "e5.weights.npz"]
    assert cb.best == 0.4

    sub = tmp_path / "thr"
    cb = C.ModelCheckpoint(str(sub / "e{epoch}.nncore"), save_best_only=True,
                           initial_value_threshold=0.8)
    drive(cb, [1.0, 0.5, 0.9], model=model)
    assert sorted(os.listdir(sub)) == ["e2.nncore"]


def test_model_checkpoint_mode_max_with_verbose_messages(tmp_path, capsys):
    model = small_model()
    cb = C.ModelCheckpoint(str(tmp_path / "m.nncore"), monitor="val_accuracy",
                           save_best_only=True, verbose=1)
    drive(cb, [0.5, 0.4, 0.7], key="val_accuracy", model=model)
    out = capsys.readouterr().out
    # Without initial_value_threshold there is no best yet (Keras prints None).
    assert "Epoch 1: val_accuracy improved from None to 0.50000" in out
    assert "Epoch 1: finished saving model to" in out
    assert "Epoch 2: val_accuracy did not improve from 0.50000" in out
    assert out.count("finished saving model") == 2
    assert "Epoch 3: val_accuracy improved from 0.50000 to 0.70000" in out


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    model = small_model()
    x, y = regression_data(n=10)
    cb = C.ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.weights.npz"),
                           save_weights_only=True, save_freq=3)
    model.fit(x, y, epochs=2, batch_size=2, verbose=0, callbacks=[cb])
    # 5 batches per epoch: the 3rd, 6th and 9th batch overall.
    assert sorted(os.listdir(tmp_path)) == ["b-1-3.weights.npz", "b-2-1.weights.npz",
                                            "b-2-4.weights.npz"]


def test_model_checkpoint_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        C.ModelCheckpoint(str(tmp_path / "w.nncore"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.nncore"):
        C.ModelCheckpoint(str(tmp_path / "w.h5"))
    with pytest.raises(ValueError, match="save_freq"):
        C.ModelCheckpoint(str(tmp_path / "w.nncore"), save_freq="batch")
    model = small_model()
    cb = C.ModelCheckpoint(str(tmp_path / "{nope}.nncore"))
    with pytest.raises(KeyError, match="nope"):
        drive(cb, [1.0], model=model)


def test_model_checkpoint_state_round_trip():
    cb = C.ModelCheckpoint("x-{epoch}.nncore", save_best_only=True, save_freq=4)
    cb.best, cb._batches_since_save, cb._last_batch_seen = 0.25, 3, 7
    other = C.ModelCheckpoint("x-{epoch}.nncore", save_best_only=True, save_freq=4)
    other.set_state(cb.get_state())
    assert other.get_state() == cb.get_state()


# ---------------------------------------------------------------------- learning rate
def test_learning_rate_scheduler_sets_rate_and_logs_it():
    model = small_model(lr=0.1)
    x, y = regression_data()
    seen = []
    cb = C.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    rec = C.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(float(model.optimizer.learning_rate)))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb, rec])
    np.testing.assert_allclose(seen, [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.025, rtol=1e-6)


def test_learning_rate_scheduler_one_argument_schedule_and_verbose(capsys):
    model = small_model(lr=0.1)
    x, y = regression_data()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[C.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)])
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.02" in capsys.readouterr().out
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.02, rtol=1e-6)


def test_learning_rate_scheduler_rate_reaches_the_update():
    model = small_model(lr=0.1)
    x, y = regression_data()
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[C.LearningRateScheduler(lambda e, lr: 0.0)])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", ["0.1", None, float("nan"), -1.0])
def test_learning_rate_scheduler_rejects_bad_schedule_output(bad):
    model = small_model()
    x, y = regression_data()
    with pytest.raises(ValueError, match="schedule"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[C.LearningRateScheduler(lambda e, lr: bad)])


def test_reduce_lr_on_plateau_sequence_with_cooldown_and_min_lr():
    cb = C.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.01)
    model = FakeModel(lr=0.1)
    lrs = []
    _, logs = drive(cb, [1.0] * 10, model=model,
                    on_epoch=lambda e, m: lrs.append(m.optimizer.learning_rate))
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.01, 0.01])
    # The logs hold the rate the epoch was trained with.
    np.testing.assert_allclose([l["learning_rate"] for l in logs][:4], [0.1, 0.1, 0.1, 0.05])


def test_reduce_lr_on_plateau_improvement_resets_and_accuracy_is_maximized(capsys):
    cb = C.ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=1, verbose=1)
    model = FakeModel(lr=1.0)
    drive(cb, [0.5, 0.6, 0.7, 0.7], key="val_accuracy", model=model)
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    assert "Epoch 4: ReduceLROnPlateau reducing learning rate to 0.1" in capsys.readouterr().out


def test_reduce_lr_on_plateau_min_delta_and_errors():
    model = FakeModel(lr=1.0)
    drive(C.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.1), [1.0, 0.95], model=model)
    assert model.optimizer.learning_rate == 0.5
    with pytest.raises(ValueError, match="factor"):
        C.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_state_resumes_exactly():
    values = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    whole_model = FakeModel(lr=1.0)
    drive(C.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1), values, model=whole_model)
    first, m = C.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1), FakeModel(lr=1.0)
    drive(first, values[:3], model=m)
    second = C.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    second.set_state(first.get_state())
    second.set_model(m)
    second.on_train_begin()
    for epoch in range(3, len(values)):
        second.on_epoch_end(epoch, {"val_loss": values[epoch]})
    assert m.optimizer.learning_rate == whole_model.optimizer.learning_rate == 0.25


def test_reduce_lr_on_plateau_in_fit_changes_the_optimizer():
    model = small_model(lr=1e-12)
    x, y = regression_data()
    history = model.fit(x, y, epochs=4, verbose=0,
                        callbacks=[C.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                                       min_delta=1e-3)])
    assert len(history.history["learning_rate"]) == 4
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-12 * 0.5 ** 3, rel=1e-5)


# ---------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    model = small_model()
    x, y = regression_data(n=12)
    x[5, 0] = np.nan
    batches = []
    stopper = C.TerminateOnNaN()
    counter = C.LambdaCallback(on_batch_end=lambda b, logs: batches.append(b))
    history = model.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0,
                        callbacks=[counter, stopper])
    assert batches == [0, 1, 2]
    assert len(history.history["loss"]) == 1
    assert (stopper.stopped_epoch, stopper.stopped_batch) == (0, 2)
    assert "Epoch 1, batch 3: invalid loss (nan), terminating training" in capsys.readouterr().out


def test_terminate_on_nan_catches_inf_and_can_raise():
    model = small_model()
    x, y = regression_data(n=8)
    y[3, 0] = np.inf
    with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at batch 1 \(epoch 1, "
                                           r"batch 2 counting from 1\)"):
        model.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0,
                  callbacks=[C.TerminateOnNaN(raise_error=True)])


def test_terminate_on_nan_leaves_finite_training_alone():
    model = small_model()
    x, y = regression_data()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[C.TerminateOnNaN()])
    assert len(history.history["loss"]) == 3


# ---------------------------------------------------------------------- CSVLogger
def _read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_sorted_keys_and_exact_values(tmp_path):
    model = small_model()
    x, y = regression_data()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[C.CSVLogger(str(path))])
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[1]) for r in rows[1:]] == history.history["loss"]
    assert [float(r[2]) for r in rows[1:]] == history.history["val_loss"]


def test_csv_logger_separator_and_append(tmp_path):
    model = small_model()
    x, y = regression_data()
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[C.CSVLogger(str(path), separator=";")])
    model.fit(x, y, epochs=4, initial_epoch=2, verbose=0,
              callbacks=[C.CSVLogger(str(path), separator=";", append=True)])
    rows = _read_csv(path, ";")
    # No validation in the first epoch: a val_ column per key, NA throughout (Keras 3).
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]
    assert [r[2] for r in rows[1:]] == ["NA"] * 4
    model.fit(x, y, epochs=1, verbose=0, callbacks=[C.CSVLogger(str(path), separator=";")])
    assert len(_read_csv(path, ";")) == 2  # without append the file starts over


def test_csv_logger_fills_missing_values_with_na(tmp_path):
    cb = C.CSVLogger(str(tmp_path / "log.csv"))
    cb.set_model(FakeModel())
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    cb.on_epoch_end(1, {"loss": 0.5})
    cb.on_train_end()
    assert _read_csv(tmp_path / "log.csv")[2] == ["1", "0.5", "NA"]


def test_csv_logger_state_keeps_columns_for_a_resumed_run(tmp_path):
    path = str(tmp_path / "log.csv")
    first = C.CSVLogger(path)
    first.set_model(FakeModel())
    first.on_train_begin()
    first.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    first.on_train_end()
    second = C.CSVLogger(path, append=True)
    second.set_state(first.get_state())
    second.set_model(FakeModel())
    second.on_train_begin()
    second.on_epoch_end(1, {"val_loss": 1.5, "loss": 0.5, "learning_rate": 0.1})
    second.on_train_end()
    assert _read_csv(path) == [["epoch", "loss", "val_loss"], ["0", "1.0", "2.0"],
                               ["1", "0.5", "1.5"]]


# ---------------------------------------------------------------------- LambdaCallback / base
def test_lambda_callback_calls_each_hook_in_order():
    model = small_model()
    x, y = regression_data(n=6)
    events = []
    cb = C.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(f"epoch_begin {e}"),
        on_batch_begin=lambda b, logs: events.append(f"batch_begin {b}"),
        on_batch_end=lambda b, logs: events.append(f"batch_end {b} {sorted(logs)}"),
        on_epoch_end=lambda e, logs: events.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"))
    model.fit(x, y, epochs=2, batch_size=3, verbose=0, callbacks=[cb])
    assert events == [
        "train_begin",
        "epoch_begin 0", "batch_begin 0", "batch_end 0 ['loss']", "batch_begin 1",
        "batch_end 1 ['loss']", "epoch_end 0 ['loss']",
        "epoch_begin 1", "batch_begin 0", "batch_end 0 ['loss']", "batch_begin 1",
        "batch_end 1 ['loss']", "epoch_end 1 ['loss']",
        "train_end"]


def test_lambda_callback_rejects_non_callable_hooks_and_keeps_other_keywords():
    with pytest.raises(TypeError, match="callable"):
        C.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="on_test_end"):
        C.LambdaCallback(on_test_end="x")
    # Keras stores keywords that are not hooks as attributes; one that would replace a
    # method of the callback is refused.
    assert C.LambdaCallback(on_nothing=print).on_nothing is print
    with pytest.raises(TypeError, match="set_model"):
        C.LambdaCallback(set_model=print)


def test_keras_style_on_batch_end_override_runs_each_batch():
    class Counter(C.Callback):
        def __init__(self):
            super().__init__()
            self.n = 0

        def on_batch_end(self, batch, logs=None):
            self.n += 1

    model = small_model()
    x, y = regression_data(n=10)
    cb = Counter()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[cb])
    assert cb.n == 6


@pytest.mark.parametrize("make", [
    lambda p: C.EarlyStopping(monitor="val_accuracy", patience=3, baseline=0.5,
                              restore_best_weights=True, start_from_epoch=2),
    lambda p: C.ModelCheckpoint(str(p / "{epoch}.nncore"), save_best_only=True, save_freq=5,
                                initial_value_threshold=1.5),
    lambda p: C.ReduceLROnPlateau(factor=0.3, patience=4, cooldown=2, min_lr=1e-5),
    lambda p: C.TerminateOnNaN(raise_error=True),
    lambda p: C.CSVLogger(str(p / "a.csv"), separator="\t", append=True),
    lambda p: C.LearningRateScheduler(abs, verbose=1),
    lambda p: C.LambdaCallback(on_epoch_end=print),
])
def test_callback_config_round_trip_and_registry(make, tmp_path):
    from nncore.serialization import lookup

    cb = make(tmp_path)
    cls = lookup("callback", type(cb).__name__)
    assert cls is type(cb)
    assert cls.from_config(cb.get_config()).get_config() == cb.get_config()


# ---------------------------------------------------------------------- state against a replay
# fit drives each callback; the values it monitored are in the History, and an independent
# replay of the Keras rules over them gives the state the callback must end in.
def _noisy_fit_data(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
         + 0.8 * rng.standard_normal((40, 1))).astype(np.float32)
    return x[:30], y[:30], x[30:], y[30:]


def _weights_by_epoch(model, store):
    return C.LambdaCallback(on_epoch_end=lambda e, logs: store.__setitem__(e, model.get_weights()))


def _replay_early_stopping(values, patience, min_delta, baseline, start):
    best, best_epoch, wait, stopped = None, 0, 0, 0
    for epoch, v in enumerate(values):
        if epoch < start:
            continue
        wait += 1
        if best is None or v < best - min_delta:
            best, best_epoch = v, epoch
            if baseline is None or v < baseline - min_delta:
                wait = 0
        elif wait >= patience and epoch > 0:
            stopped = epoch
            break
    return {"best": best, "best_epoch": best_epoch, "wait": wait, "stopped_epoch": stopped}


@pytest.mark.parametrize("patience,min_delta,baseline,start", [
    (2, 0.01, None, 0), (1, 0.0, None, 3), (3, 0.002, 0.5, 0)])
def test_early_stopping_state_in_fit_matches_a_replay(patience, min_delta, baseline, start):
    x, y, xv, yv = _noisy_fit_data()
    model = small_model(lr=0.05)
    weights = {}
    stopper = C.EarlyStopping(patience=patience, min_delta=min_delta, baseline=baseline,
                              start_from_epoch=start, restore_best_weights=True)
    history = model.fit(x, y, epochs=60, batch_size=5, validation_data=(xv, yv), verbose=0,
                        shuffle=False, callbacks=[_weights_by_epoch(model, weights), stopper])
    values = history.history["val_loss"]
    expected = _replay_early_stopping(values, patience, min_delta, baseline, start)
    assert expected["stopped_epoch"] > 0  # the case does stop early
    assert len(values) == expected["stopped_epoch"] + 1
    assert {"best": stopper.best, "best_epoch": stopper.best_epoch, "wait": stopper.wait,
            "stopped_epoch": stopper.stopped_epoch} == expected
    for got, want in zip(model.get_weights(), weights[expected["best_epoch"]]):
        np.testing.assert_array_equal(got, want)


def _replay_reduce_lr(values, lr, factor, patience, min_delta, cooldown, min_lr):
    """The rate each epoch trained with, and the end state (best, wait, cooldown counter)."""
    used, best, wait, cool = [], None, 0, 0
    for v in values:
        used.append(lr)
        if cool > 0:
            cool -= 1
            wait = 0
        if best is None or v < best - min_delta:
            best, wait = v, 0
        elif cool == 0:
            wait += 1
            if wait >= patience and lr > np.float32(min_lr):
                lr = max(lr * factor, min_lr)
                cool, wait = cooldown, 0
    return used, lr, {"best": best, "wait": wait, "cooldown_counter": cool}


@pytest.mark.parametrize("patience,cooldown,min_delta", [(1, 0, 0.01), (2, 1, 0.001),
                                                         (1, 2, 0.05)])
def test_reduce_lr_on_plateau_state_in_fit_matches_a_replay(patience, cooldown, min_delta):
    x, y, xv, yv = _noisy_fit_data()
    model = small_model(lr=0.05)
    cb = C.ReduceLROnPlateau(factor=0.5, patience=patience, cooldown=cooldown,
                             min_delta=min_delta, min_lr=0.004)
    history = model.fit(x, y, epochs=25, batch_size=5, validation_data=(xv, yv), verbose=0,
                        shuffle=False, callbacks=[cb])
    used, final, state = _replay_reduce_lr(history.history["val_loss"], 0.05, 0.5, patience,
                                           min_delta, cooldown, 0.004)
    assert len(set(used)) > 2  # the rate did change, several times
    np.testing.assert_allclose(history.history["learning_rate"], used, rtol=1e-12)
    assert float(model.optimizer.learning_rate) == pytest.approx(final, rel=1e-12)
    assert {"best": cb.best, "wait": cb.wait, "cooldown_counter": cb.cooldown_counter} == state


@pytest.mark.parametrize("monitor", ["val_loss", "loss"])
def test_model_checkpoint_best_files_in_fit_match_a_replay(tmp_path, monitor):
    x, y, xv, yv = _noisy_fit_data()
    model = small_model(lr=0.15)
    weights = {}
    cb = C.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.weights.npz"), monitor=monitor,
                           save_best_only=True, save_weights_only=True)
    history = model.fit(x, y, epochs=20, batch_size=5, validation_data=(xv, yv), verbose=0,
                        shuffle=False, callbacks=[_weights_by_epoch(model, weights), cb])
    best, improved = None, []
    for epoch, v in enumerate(history.history[monitor]):
        if best is None or v < best:
            best = v
            improved.append(epoch)
    assert 1 < len(improved) < 20
    assert sorted(os.listdir(tmp_path)) == [f"w-{e + 1:02d}.weights.npz" for e in improved]
    assert cb.best == best
    probe = small_model()
    for epoch in improved:
        probe.load_weights(str(tmp_path / f"w-{epoch + 1:02d}.weights.npz"))
        for got, want in zip(probe.get_weights(), weights[epoch]):
            np.testing.assert_array_equal(got, want)


def test_learning_rate_scheduler_rates_in_fit_match_the_schedule():
    x, y, xv, yv = _noisy_fit_data()
    model = small_model(lr=0.05)
    schedule = lambda epoch, lr: lr * 0.7 if epoch % 2 else lr + 0.01  # noqa: E731
    history = model.fit(x, y, epochs=6, batch_size=10, verbose=0,
                        callbacks=[C.LearningRateScheduler(schedule)])
    lr, expected = 0.05, []
    for epoch in range(6):
        lr = schedule(epoch, lr)
        expected.append(lr)
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-12)


def test_model_checkpoint_resolves_the_direction_at_epoch_end_as_keras(tmp_path):
    # keras/src/callbacks/model_checkpoint.py sets its monitor_op at each epoch end, whatever
    # save_best_only: an auto mode with an unknown quantity is an error there.
    model = small_model()
    x, y = regression_data()
    with pytest.raises(ValueError, match="monitor=unknown"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[C.ModelCheckpoint(str(tmp_path / "m.nncore"), monitor="unknown")])
    cb = C.ModelCheckpoint(str(tmp_path / "m.nncore"), monitor="unknown", mode="max")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert cb.monitor_op is np.greater and os.path.exists(tmp_path / "m.nncore")


def test_model_checkpoint_non_scalar_monitor_falls_back_to_saving(tmp_path):
    cb = C.ModelCheckpoint(str(tmp_path / "e{epoch}.nncore"), monitor="val_loss",
                           save_best_only=True)
    cb.set_model(small_model())
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_loss": 1.0})
    with pytest.warns(UserWarning, match="scalar value"):
        cb.on_epoch_end(1, {"val_loss": np.array([2.0, 3.0])})
    assert sorted(os.listdir(tmp_path)) == ["e1.nncore", "e2.nncore"]
    assert cb.best == 1.0
