"""Keras 3's own callback tests, ported case by case (same data, same expected values and
behaviour), from keras/src/callbacks/{early_stopping,monitor_callback,model_checkpoint,
reduce_lr_on_plateau,learning_rate_scheduler,csv_logger,terminate_on_nan,lambda_callback,
callback}_test.py, then each callback's state checked against an independent replay of the
logged values while ``fit`` drives it.

Adaptations: Keras reads ``optimizer.learning_rate.value`` from a float32 variable, so rates
are compared in float32 here; weights-only checkpoints end in ``.weights.npz`` (nncore has no
HDF5); Keras' ``logging`` output is read from stdout or recorded by the hooks themselves.
Left out: the ``F1Score`` / ``AUC`` cases (nncore has neither metric), and
terminate_on_nan_test::test_raise_error_terminate_preserves_backup (no BackupAndRestore).
"""

from __future__ import annotations

import csv
import os
import re
import warnings

import numpy as np
import pytest

import nncore
from nncore import callbacks
from nncore import initializers, layers, losses, metrics, optimizers
from nncore.utils import to_categorical


# ---------------------------------------------------------------------- helpers
def get_test_data(train_samples, test_samples, input_shape, num_classes, random_seed=None):
    """The data of keras.src.testing.test_utils.get_test_data: the same NumPy draws in the same
    order, so a seed gives the same arrays (balanced classes around random templates,
    stratified split, both halves shuffled)."""
    np.random.seed(random_seed)
    total = train_samples + test_samples
    per_class = total // num_classes
    labels = [c for c in range(num_classes) for _ in range(per_class)]
    labels += [i % num_classes for i in range(total - len(labels))]
    y = np.asarray(labels, dtype=np.int64)
    templates = 2 * num_classes * np.random.random((num_classes, *input_shape))
    x = np.zeros((total, *input_shape), dtype=np.float32)
    for i in range(total):
        x[i] = templates[y[i]] + np.random.normal(loc=0, scale=1.0, size=input_shape)
    order = np.arange(total)
    np.random.shuffle(order)
    x, y = x[order], y[order]
    xs_tr, ys_tr, xs_te, ys_te = [], [], [], []
    for c in range(num_classes):
        idx = np.where(y == c)[0]
        np.random.shuffle(idx)
        n_train = int(train_samples / num_classes)
        xs_tr.extend(x[idx[:n_train]])
        ys_tr.extend(y[idx[:n_train]])
        xs_te.extend(x[idx[n_train:]])
        ys_te.extend(y[idx[n_train:]])
    x_train, y_train = np.array(xs_tr), np.array(ys_tr)
    x_test, y_test = np.array(xs_te), np.array(ys_te)
    tr, te = np.arange(len(x_train)), np.arange(len(x_test))
    np.random.shuffle(tr)
    np.random.shuffle(te)
    return (x_train[tr], y_train[tr]), (x_test[te], y_test[te])


def two_relu_dense(input_dim):
    return nncore.Sequential([nncore.Input(shape=(input_dim,)),
                              layers.Dense(1, activation="relu"),
                              layers.Dense(1, activation="relu")])


def lr32(model):
    return np.float32(model.optimizer.learning_rate)


# ====================================================================== early_stopping_test.py
MONITOR_CASES = [
    ("max", "val_mse", "max"),
    ("min", "val_loss", "min"),
    ("auto", "val_mse", "min"),
    ("auto", "loss", "min"),
    ("auto", "acc", "max"),
    ("auto", "val_accuracy", "max"),
    ("auto", "hinge", "min"),
]


def _monitor_model_and_data():
    x_train = np.random.random((10, 5))
    y_train = np.random.random((10, 1))
    x_test = np.random.random((10, 5))
    y_test = np.random.random((10, 1))
    model = two_relu_dense(5)
    model.compile(loss="mae", optimizer="adam", metrics=["mse", "acc", "accuracy", "hinge"])
    return model, x_train, y_train, x_test, y_test


def test_early_stopping():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::test_early_stopping
    # (without the ("auto", "f1_score", "max") case: nncore has no F1Score)
    model, x_train, y_train, x_test, y_test = _monitor_model_and_data()
    for mode, monitor, expected_mode in MONITOR_CASES:
        cbks = [callbacks.EarlyStopping(patience=0, monitor=monitor, mode=mode)]
        model.fit(x_train, y_train, batch_size=5, validation_data=(x_test, y_test),
                  callbacks=cbks, epochs=2, verbose=0)
        expected = np.greater if expected_mode == "max" else np.less
        assert cbks[0].monitor_op is expected, (mode, monitor)
    with pytest.raises(ValueError):
        cbks = [callbacks.EarlyStopping(patience=0, monitor="unknown")]
        model.fit(x_train, y_train, batch_size=5, validation_data=(x_test, y_test),
                  callbacks=cbks, epochs=2, verbose=0)


def test_early_stopping_patience():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::test_early_stopping_patience
    losses_ = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    for patience in [0, 1, 2, 3]:
        stopper = callbacks.EarlyStopping(monitor="loss", patience=patience)
        stopper.set_model(nncore.Sequential())
        stopper.model.compile(loss="mse", optimizer="sgd")
        stopper.on_train_begin()
        for epoch, loss in enumerate(losses_):
            stopper.on_epoch_end(epoch=epoch, logs={"loss": loss})
            if stopper.model.stop_training:
                break
        assert stopper.stopped_epoch == max(patience, 1) + 2


def test_early_stopping_reuse():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::test_early_stopping_reuse
    patience = 3
    data = np.random.random((100, 1))
    labels = np.where(data > 0.5, 1, 0)
    model = two_relu_dense(1)
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience)
    history1 = model.fit(data, labels, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history1.epoch) >= patience
    history2 = model.fit(data, labels, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history2.epoch) >= patience


def test_early_stopping_state_reset_across_fit_calls():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::test_state_reset_across_fit_calls
    stopper = callbacks.EarlyStopping(monitor="loss", patience=3)
    stopper.set_model(nncore.Sequential())
    stopper.on_train_begin()
    stopper.best = 0.1
    stopper.wait = 3
    stopper.stopped_epoch = 5
    stopper.best_epoch = 5
    stopper.best_weights = object()
    stopper.on_train_begin()
    assert stopper.best is None
    assert stopper.wait == 0
    assert stopper.stopped_epoch == 0
    assert stopper.best_epoch == 0
    assert stopper.best_weights is None


def test_early_stopping_with_baseline():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::test_early_stopping_with_baseline
    x_train = np.random.random((10, 5))
    y_train = np.random.random((10, 1))
    model = two_relu_dense(5)
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    patience = 3
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience, baseline=0.6)
    hist = model.fit(x_train, y_train, callbacks=[stopper], verbose=0, epochs=20)
    assert len(hist.epoch) >= patience


class DummyModel:
    def __init__(self):
        self.stop_training = False
        self.weights = -1

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights

    def set_weight_to_epoch(self, epoch):
        self.weights = epoch


def _run_dummy(early_stop, losses_, stop_at=None):
    early_stop.set_model(DummyModel())
    epochs_trained = 0
    early_stop.on_train_begin()
    for epoch in range(len(losses_)):
        epochs_trained += 1
        early_stop.model.set_weight_to_epoch(epoch=epoch)
        early_stop.on_epoch_end(epoch, logs={"val_loss": losses_[epoch]})
        if epoch == stop_at:
            early_stop.model.stop_training = True
        if early_stop.model.stop_training:
            break
    early_stop.on_train_end()
    return epochs_trained


def test_early_stopping_final_weights_when_restoring_model_weights():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::
    # test_early_stopping_final_weights_when_restoring_model_weights
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=2,
                                         restore_best_weights=True)
    _run_dummy(early_stop, [0.2, 0.15, 0.1, 0.11, 0.12])
    assert early_stop.model.get_weights() == 2

    # No epoch beats the baseline: patience epochs, then the best of them.
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, baseline=0.5,
                                         restore_best_weights=True)
    assert _run_dummy(early_stop, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]) == 5
    assert early_stop.model.get_weights() == 2

    # Another callback stops training: the best weights are restored all the same.
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, baseline=0.5,
                                         restore_best_weights=True)
    assert _run_dummy(early_stop, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73], stop_at=3) == 4
    assert early_stop.model.get_weights() == 2


def test_early_stopping_with_start_from_epoch():
    # keras/src/callbacks/early_stopping_test.py::EarlyStoppingTest::test_early_stopping_with_start_from_epoch
    x_train = np.random.random((10, 5))
    y_train = np.random.random((10, 1))
    model = two_relu_dense(5)
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    start_from_epoch, patience = 2, 3
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience,
                                      start_from_epoch=start_from_epoch)
    history = model.fit(x_train, y_train, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history.epoch) >= patience + start_from_epoch

    start_from_epoch, patience = 2, 0
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience,
                                      start_from_epoch=start_from_epoch)
    history = model.fit(x_train, y_train, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history.epoch) >= start_from_epoch


# ====================================================================== monitor_callback_test.py
def test_monitor_op_logic():
    # keras/src/callbacks/monitor_callback_test.py::MonitorCallbackTest::test_monitor_op_logic
    # (without the f1_score case)
    model, x_train, y_train, x_test, y_test = _monitor_model_and_data()
    for mode, monitor, expected_mode in MONITOR_CASES:
        monitor_callback = callbacks.MonitorCallback(monitor, mode)
        monitor_callback.set_model(model)
        model.fit(x_train, y_train, batch_size=5, validation_data=(x_test, y_test), epochs=2,
                  verbose=0)
        monitor_callback._set_monitor_op()
        expected = np.greater if expected_mode == "max" else np.less
        assert monitor_callback.monitor_op is expected, (mode, monitor)
    with pytest.raises(ValueError):
        monitor_callback = callbacks.MonitorCallback("unknown")
        monitor_callback.set_model(model)
        model.fit(x_train, y_train, batch_size=5, validation_data=(x_test, y_test), epochs=2,
                  verbose=0)
        monitor_callback._set_monitor_op()


def test_monitor_min_delta():
    # keras/src/callbacks/monitor_callback_test.py::MonitorCallbackTest::test_min_delta
    monitor_callback = callbacks.MonitorCallback(mode="max", min_delta=0.5)
    monitor_callback._set_monitor_op()
    assert monitor_callback._is_improvement(0.75, 0)
    assert monitor_callback._is_improvement(0.5, None)
    assert not monitor_callback._is_improvement(0.5, 0)
    assert not monitor_callback._is_improvement(0.2, 0.5)


# ====================================================================== model_checkpoint_test.py
TRAIN_SAMPLES = 30
TEST_SAMPLES = 30
NUM_CLASSES = 3
INPUT_DIM = 3
NUM_HIDDEN = 5
BATCH_SIZE = 5


def _checkpoint_model():
    model = nncore.Sequential([nncore.Input(shape=(INPUT_DIM,)),
                               layers.Dense(NUM_HIDDEN, activation="relu"),
                               layers.Dense(NUM_CLASSES, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="sgd",
                  metrics=[metrics.Accuracy("acc")])
    return model


def _checkpoint_data():
    (x_train, y_train), (x_test, y_test) = get_test_data(
        random_seed=42, train_samples=TRAIN_SAMPLES, test_samples=TEST_SAMPLES,
        input_shape=(INPUT_DIM,), num_classes=NUM_CLASSES)
    return (x_train, to_categorical(y_train, num_classes=NUM_CLASSES),
            x_test, to_categorical(y_test, num_classes=NUM_CLASSES))


@pytest.fixture(scope="module")
def ckpt():
    model = _checkpoint_model()
    x_train, y_train, x_test, y_test = _checkpoint_data()

    def fit(cbks, **kwargs):
        kwargs = {"batch_size": BATCH_SIZE, "epochs": 1, "verbose": 0, **kwargs}
        return model.fit(x_train, y_train, validation_data=(x_test, y_test), callbacks=cbks,
                         **kwargs)

    return model, fit


@pytest.mark.parametrize("monitor,mode,save_best_only", [
    ("val_loss", "auto", False),   # Case 1
    ("val_loss", "min", False),    # Case 2
    ("val_acc", "max", False),     # Case 3
    ("val_acc", "max", True),      # Case 4
])
def test_model_checkpoint_options_cases_1_to_4(ckpt, tmp_path, monitor, mode, save_best_only):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Cases 1-4; the file goes to a subdir to test that it is created)
    _, fit = ckpt
    filepath = os.path.join(tmp_path, "subdir", "checkpoint.keras")
    fit([callbacks.ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only,
                                   mode=mode)])
    assert os.path.exists(filepath)


def test_model_checkpoint_options_case_5_metric_not_available(ckpt, tmp_path):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Case 5)
    _, fit = ckpt
    filepath = os.path.join(tmp_path, "checkpoint.keras")
    with pytest.warns(UserWarning):
        fit([callbacks.ModelCheckpoint(filepath, monitor="unknown", save_best_only=True,
                                       mode="min")])
    assert os.path.exists(filepath)


def test_model_checkpoint_options_case_6_unknown_mode(tmp_path):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Case 6)
    with warnings.catch_warnings(record=True) as warning_logs:
        warnings.simplefilter("always")
        callbacks.ModelCheckpoint(os.path.join(tmp_path, "checkpoint.keras"), monitor="val_acc",
                                  save_best_only=True, mode="unknown")
    assert "ModelCheckpoint mode 'unknown' is unknown" in str(warning_logs[-1].message)


@pytest.mark.parametrize("suffix,weights_only", [(".keras", False),        # Case 8a
                                                  (".weights.npz", True)])  # Case 8b
def test_model_checkpoint_options_case_8_int_save_freq(ckpt, tmp_path, suffix, weights_only):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Cases 8a, 8b): batch_size=6 makes 5 batches an epoch, so save_freq=15 saves every 3 epochs.
    _, fit = ckpt
    filepath = os.path.join(tmp_path, "checkpoint.epoch{epoch:02d}" + suffix)
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_freq=15,
                                      save_weights_only=weights_only,
                                      **({} if weights_only else {"mode": "max"}))]
    assert not os.path.exists(filepath.format(epoch=3))
    fit(cbks, batch_size=6, epochs=10)
    for epoch in range(1, 10):
        assert os.path.exists(filepath.format(epoch=epoch)) == (epoch in (3, 6, 9)), epoch


def test_model_checkpoint_options_case_9_save_freq_argument(tmp_path):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Case 9)
    filepath = os.path.join(tmp_path, "checkpoint.epoch{epoch:02d}.weights.npz")
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_best_only=False,
                                  save_weights_only=True, mode="max",
                                  save_freq="invalid_save_freq")
    callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_best_only=False,
                              save_weights_only=True, mode="max", save_freq="epoch")
    callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_best_only=False,
                              save_weights_only=True, mode="max", save_freq=3)


@pytest.mark.parametrize("suffix,weights_only", [(".keras", False),        # Case 10a
                                                  (".weights.npz", True)])  # Case 10b
def test_model_checkpoint_options_case_10_batch_in_filename(ckpt, tmp_path, suffix,
                                                            weights_only):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Cases 10a, 10b)
    _, fit = ckpt
    filepath = os.path.join(tmp_path, "checkpoint.epoch{epoch:02d}batch{batch:02d}" + suffix)
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_freq=1,
                                      save_weights_only=weights_only)]
    fit(cbks, batch_size=15, epochs=5, verbose=1)
    for epoch in range(1, 6):
        for batch in (1, 2):
            assert os.path.exists(filepath.format(epoch=epoch, batch=batch))
    assert len(os.listdir(tmp_path)) == 10


@pytest.mark.parametrize("mode,monitor,threshold,saved", [
    ("max", "val_acc", -0.01, True),     # Case 11
    ("auto", "val_loss", None, True),    # Case 12
    ("min", "val_loss", 0, False),       # Case 13
    ("auto", "val_loss", 0, False),      # Case 14
])
def test_model_checkpoint_options_initial_value_threshold(ckpt, tmp_path, mode, monitor,
                                                           threshold, saved):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_options
    # (Cases 11-14; Case 15 needs the AUC metric)
    _, fit = ckpt
    filepath = os.path.join(tmp_path, "checkpoint.keras")
    fit([callbacks.ModelCheckpoint(filepath, monitor=monitor, save_best_only=True,
                                   initial_value_threshold=threshold, mode=mode)])
    assert os.path.exists(filepath) == saved


def test_model_checkpoint_loading(tmp_path):
    # keras/src/callbacks/model_checkpoint_test.py::ModelCheckpointTest::test_model_checkpoint_loading
    def get_model():
        inputs = nncore.Input(shape=(INPUT_DIM,), batch_size=5)
        x = layers.Dense(NUM_HIDDEN, activation="relu")(inputs)
        outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
        model = nncore.Model(inputs, outputs)
        model.compile(loss="categorical_crossentropy", optimizer="sgd",
                      metrics=[metrics.Accuracy("acc")])
        return model

    x_train, y_train, x_test, y_test = _checkpoint_data()
    for filepath, weights_only in [(os.path.join(tmp_path, "checkpoint.model.keras"), False),
                                   (os.path.join(tmp_path, "checkpoint.weights.npz"), True)]:
        model = get_model()
        cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_loss", save_best_only=True,
                                          save_weights_only=weights_only, mode="auto")]
        model.fit(x_train, y_train, batch_size=BATCH_SIZE, validation_data=(x_test, y_test),
                  callbacks=cbks, epochs=1, verbose=0)
        ref_weights = model.get_weights()
        assert os.path.exists(filepath)
        if weights_only:
            new_model = get_model()
            new_model.load_weights(filepath)
        else:
            new_model = nncore.load_model(filepath)
        new_weights = new_model.get_weights()
        assert len(ref_weights) == len(new_weights)
        for ref_w, w in zip(ref_weights, new_weights):
            np.testing.assert_allclose(w, ref_w, rtol=1e-6, atol=1e-6)


# ====================================================================== reduce_lr_on_plateau_test.py
@pytest.fixture
def plateau():
    (x_train, y_train), (x_test, y_test) = get_test_data(
        train_samples=10, test_samples=10, input_shape=(3,), num_classes=2)
    y_test = to_categorical(y_test)
    y_train = to_categorical(y_train)
    model = nncore.Sequential([layers.Dense(5), layers.Dense(2)])
    model.compile(loss="mse", optimizer=optimizers.Adam(0.1))

    def fit(cbks, epochs):
        return model.fit(x_train, y_train, validation_data=(x_test, y_test), callbacks=cbks,
                         epochs=epochs, verbose=0)

    return model, fit


def test_reduces_lr_with_model_fit(plateau):
    # keras/src/callbacks/reduce_lr_on_plateau_test.py::ReduceLROnPlateauTest::test_reduces_lr_with_model_fit
    model, fit = plateau
    fit([callbacks.ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss",
                                     min_delta=100)], epochs=2)
    assert lr32(model) == np.float32(0.01)


def test_reduce_lr_throws_when_optimizer_has_schedule(plateau):
    # keras/src/callbacks/reduce_lr_on_plateau_test.py::ReduceLROnPlateauTest::test_throws_when_optimizer_has_schedule
    model, fit = plateau
    model.compile(loss="mse", optimizer=optimizers.Adam(
        optimizers.schedules.PolynomialDecay(initial_learning_rate=0.1, decay_steps=10)))
    with pytest.raises(TypeError, match="This optimizer was created with a `LearningRateSchedule`"):
        fit([callbacks.ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss",
                                         min_delta=100)], epochs=2)


def test_reduce_lr_verbose_logging(plateau, capsys):
    # keras/src/callbacks/reduce_lr_on_plateau_test.py::ReduceLROnPlateauTest::test_verbose_logging
    _, fit = plateau
    fit([callbacks.ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100,
                                     verbose=1)], epochs=2)
    assert "ReduceLROnPlateau reducing learning rate to 0.01" in capsys.readouterr().out


def test_reduce_lr_honors_min_lr(plateau):
    # keras/src/callbacks/reduce_lr_on_plateau_test.py::ReduceLROnPlateauTest::test_honors_min_lr
    model, fit = plateau
    fit([callbacks.ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=10,
                                     min_lr=0.005)], epochs=4)
    assert lr32(model) == np.float32(0.005)


def test_reduce_lr_cooldown(plateau):
    # keras/src/callbacks/reduce_lr_on_plateau_test.py::ReduceLROnPlateauTest::test_cooldown
    model, fit = plateau
    fit([callbacks.ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100,
                                     cooldown=2)], epochs=4)
    np.testing.assert_allclose(lr32(model), 0.001, rtol=1e-6, atol=1e-6)


def test_reduce_lr_state_reset_across_fit_calls(plateau):
    # keras/src/callbacks/reduce_lr_on_plateau_test.py::ReduceLROnPlateauTest::test_state_reset_across_fit_calls
    model, _ = plateau
    reduce_lr = callbacks.ReduceLROnPlateau(patience=1, factor=0.1, monitor="loss",
                                            min_delta=0, cooldown=2)
    reduce_lr.set_model(model)
    reduce_lr.on_train_begin()
    reduce_lr.best = 0.5
    reduce_lr.wait = 3
    reduce_lr.cooldown_counter = 2
    reduce_lr.on_train_begin()
    assert reduce_lr.best is None
    assert reduce_lr.wait == 0
    assert reduce_lr.cooldown_counter == 0


# ====================================================================== learning_rate_scheduler_test.py
@pytest.fixture
def scheduled():
    (x_train, y_train), _ = get_test_data(train_samples=10, test_samples=10, input_shape=(3,),
                                          num_classes=2)
    y_train = to_categorical(y_train)
    model = nncore.Sequential([layers.Dense(5), layers.Dense(2)])
    model.compile(loss="mse", optimizer="sgd")

    def fit(cbks, epochs):
        return model.fit(x_train, y_train, callbacks=cbks, epochs=epochs, verbose=0)

    return model, fit


def test_scheduler_updates_learning_rate(scheduled):
    # keras/src/callbacks/learning_rate_scheduler_test.py::LearningRateSchedulerTest::test_updates_learning_rate
    model, fit = scheduled
    fit([callbacks.LearningRateScheduler(lambda step: 1.0 / (2.0 + step), verbose=1)], epochs=1)
    assert lr32(model) == np.float32(0.5)


def test_scheduler_verbose_logging(scheduled, capsys):
    # keras/src/callbacks/learning_rate_scheduler_test.py::LearningRateSchedulerTest::test_verbose_logging
    _, fit = scheduled
    fit([callbacks.LearningRateScheduler(lambda step: 1.0 / (1.0 + step), verbose=1)], epochs=1)
    assert "LearningRateScheduler setting learning rate to 1.0" in capsys.readouterr().out


def test_scheduler_dependent_on_previous_learning_rate(scheduled):
    # keras/src/callbacks/learning_rate_scheduler_test.py::LearningRateSchedulerTest::
    # test_schedule_dependent_on_previous_learning_rate
    model, fit = scheduled
    initial_lr = 0.03
    model.compile(loss="mse", optimizer=optimizers.Adam(initial_lr))
    fit([callbacks.LearningRateScheduler(lambda step, lr: lr / 2)], epochs=2)
    assert lr32(model) == np.float32(initial_lr / 4.0)


def test_scheduler_throws_when_optimizer_has_schedule(scheduled):
    # keras/src/callbacks/learning_rate_scheduler_test.py::LearningRateSchedulerTest::
    # test_throws_when_optimizer_has_schedule
    model, fit = scheduled
    model.compile(loss="mse", optimizer=optimizers.Adam(
        optimizers.schedules.PolynomialDecay(initial_learning_rate=0.1, decay_steps=10)))
    with pytest.raises(TypeError, match="This optimizer was created with a `LearningRateSchedule`"):
        fit([callbacks.LearningRateScheduler(lambda step, lr: lr / 2)], epochs=2)


def test_scheduler_learning_rate_in_history(scheduled):
    # keras/src/callbacks/learning_rate_scheduler_test.py::LearningRateSchedulerTest::test_learning_rate_in_history
    _, fit = scheduled
    history = fit([callbacks.LearningRateScheduler(lambda step, lr: 0.5)], epochs=1)
    assert "learning_rate" in history.history
    assert type(history.history["learning_rate"][0]) is float
    assert history.history["learning_rate"][0] == 0.5


def test_scheduler_refuses_an_int_rate(scheduled):
    # keras/src/callbacks/learning_rate_scheduler.py: the schedule's output must be a float.
    _, fit = scheduled
    with pytest.raises(ValueError, match="should be a finite, non-negative float"):
        fit([callbacks.LearningRateScheduler(lambda step, lr: 1)], epochs=1)


# ====================================================================== csv_logger_test.py
CSV_TRAIN, CSV_TEST, CSV_INPUT_DIM, CSV_BATCH = 10, 10, 3, 4


def test_csv_logger(tmp_path):
    # keras/src/callbacks/csv_logger_test.py::CSVLoggerTest::test_CSVLogger
    np.random.seed(1337)
    filepath = os.path.join(tmp_path, "log.tsv")
    sep = "\t"
    x_train = np.random.random((CSV_TRAIN, CSV_INPUT_DIM))
    y_train = np.random.random((CSV_TRAIN, 1))
    x_test = np.random.random((CSV_TEST, CSV_INPUT_DIM))
    y_test = np.random.random((CSV_TEST, 1))

    def make_model():
        nncore.set_seed(1337)
        model = nncore.Sequential([layers.Dense(2, activation="relu"), layers.Dense(1)])
        model.compile(loss="mse", optimizer="sgd", metrics=["mse"])
        return model

    def fit(model, cbks, **kwargs):
        return model.fit(x_train, y_train, batch_size=CSV_BATCH, validation_data=(x_test, y_test),
                         callbacks=cbks, verbose=0, **kwargs)

    # case 1, create new file with defined separator
    fit(make_model(), [callbacks.CSVLogger(filepath, separator=sep)], epochs=1)
    assert os.path.exists(filepath)
    with open(filepath) as f:
        assert csv.Sniffer().sniff(f.read()).delimiter == sep

    # case 2, append data to existing file, skip header
    model = make_model()
    cbks = [callbacks.CSVLogger(filepath, separator=sep, append=True)]
    fit(model, cbks, epochs=1)
    # case 3, reuse of CSVLogger object
    fit(model, cbks, epochs=2)
    with open(filepath) as f:
        list_lines = f.readlines()
    for line in list_lines:
        assert line.count(sep) == 4
    assert len(list_lines) == 5
    assert len(re.findall("epoch", " ".join(list_lines))) == 1
    os.remove(filepath)

    # case 3, Verify Val. loss also registered when Validation Freq > 1
    hist = fit(make_model(), [callbacks.CSVLogger(filepath, separator=sep)], validation_freq=3,
               epochs=5)
    assert os.path.exists(filepath)
    with open(filepath) as f:
        rows = list(csv.DictReader(f, delimiter=sep))
    assert len(rows) == 5
    for idx, row in enumerate(rows, 1):
        assert "val_loss" in row
        if idx == 3:
            assert row["val_loss"] == str(hist.history["val_loss"][0])
        else:
            assert row["val_loss"] == "NA"


def _exploding_model():
    model = nncore.Sequential([nncore.Input(shape=(CSV_INPUT_DIM,))])
    for _ in range(5):
        model.add(layers.Dense(2, activation="relu",
                               kernel_initializer=initializers.Constant(value=1e5)))
    model.add(layers.Dense(2))
    model.compile(loss="mean_squared_error", optimizer="sgd")
    return model


def _exploding_data():
    np.random.seed(1337)
    x_train = np.random.random((CSV_TRAIN, CSV_INPUT_DIM))
    y_train = np.random.choice(np.arange(2), size=CSV_TRAIN)
    x_test = np.random.random((CSV_TEST, CSV_INPUT_DIM))
    y_test = np.random.choice(np.arange(2), size=CSV_TEST)
    return x_train, to_categorical(y_train), x_test, to_categorical(y_test)


def test_stop_training_csv(tmp_path):
    # keras/src/callbacks/csv_logger_test.py::CSVLoggerTest::test_stop_training_csv
    csv_logfile = os.path.join(tmp_path, "csv_logger.csv")
    x_train, y_train, x_test, y_test = _exploding_data()
    history = _exploding_model().fit(
        x_train, y_train, batch_size=CSV_BATCH, validation_data=(x_test, y_test),
        callbacks=[callbacks.TerminateOnNaN(), callbacks.CSVLogger(csv_logfile)], epochs=20,
        verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 1
    assert np.isnan(loss[0]) or np.isinf(loss[0])
    with open(csv_logfile) as f:
        values = [x for x in csv.reader(f) if x]
    assert "nan" in values[-1], "NaN not logged in CSV Logger."


# ====================================================================== terminate_on_nan_test.py
def test_terminate_on_nan():
    # keras/src/callbacks/terminate_on_nan_test.py::TerminateOnNaNTest::test_TerminateOnNaN
    x_train, y_train, x_test, y_test = _exploding_data()
    history = _exploding_model().fit(
        x_train, y_train, batch_size=CSV_BATCH, validation_data=(x_test, y_test),
        callbacks=[callbacks.TerminateOnNaN()], epochs=20, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 1
    assert np.isnan(loss[0]) or np.isinf(loss[0])


def _one_unit_model():
    model = nncore.Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_terminate_on_nan_graceful_stop():
    # keras/src/callbacks/terminate_on_nan_test.py::TerminateOnNaNTest::test_terminate_on_nan_graceful_stop
    x = np.array([[1.0], [2.0]])
    y = np.array([[np.inf], [np.inf]])
    history = _one_unit_model().fit(x, y, epochs=2, batch_size=1,
                                    callbacks=[callbacks.TerminateOnNaN(raise_error=False)],
                                    verbose=0)
    assert len(history.history["loss"]) < 4


def test_terminate_on_nan_raise_error_raises_error():
    # keras/src/callbacks/terminate_on_nan_test.py::TerminateOnNaNTest::
    # test_terminate_on_nan_raise_error_raises_error
    x = np.array([[1.0], [2.0]])
    y = np.array([[np.inf], [np.inf]])
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
        _one_unit_model().fit(x, y, epochs=1, batch_size=1,
                              callbacks=[callbacks.TerminateOnNaN(raise_error=True)], verbose=0)


def test_raise_error_terminate_does_not_trigger_on_train_end():
    # keras/src/callbacks/terminate_on_nan_test.py::TerminateOnNaNTest::
    # test_raise_error_terminate_does_not_trigger_on_train_end
    class TrackingCallback(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train_end_called = False

        def on_train_end(self, logs=None):
            self.train_end_called = True

    tracking = TrackingCallback()
    with pytest.raises(RuntimeError):
        _one_unit_model().fit(np.array([[1.0]]), np.array([[np.inf]]), epochs=1,
                              callbacks=[tracking, callbacks.TerminateOnNaN(raise_error=True)],
                              verbose=0)
    assert not tracking.train_end_called


@pytest.mark.parametrize("raise_error", [False, True])
def test_normal_training_does_not_raise(raise_error):
    # keras/src/callbacks/terminate_on_nan_test.py::TerminateOnNaNTest::test_normal_training_does_not_raise
    x = np.array([[1.0], [2.0]])
    y = np.array([[1.0], [2.0]])
    history = _one_unit_model().fit(x, y, epochs=2,
                                    callbacks=[callbacks.TerminateOnNaN(raise_error=raise_error)],
                                    verbose=0)
    assert len(history.history["loss"]) == 2


def test_raise_error_terminate_stops_on_later_batch():
    # keras/src/callbacks/terminate_on_nan_test.py::TerminateOnNaNTest::
    # test_raise_error_terminate_stops_on_later_batch
    x = np.array([[1.0], [2.0]])
    y = np.array([[1.0], [np.inf]])
    with pytest.raises(RuntimeError) as exc:
        _one_unit_model().fit(x, y, epochs=1, batch_size=1,
                              callbacks=[callbacks.TerminateOnNaN(raise_error=True)], verbose=0)
    assert any(f"batch {i}" in str(exc.value) for i in [0, 1])


# ====================================================================== lambda_callback_test.py
def _lambda_model():
    batch_size = 4
    model = nncore.Sequential([nncore.Input(shape=(2,), batch_size=batch_size), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(), loss=losses.MeanSquaredError())
    return model, np.random.randn(16, 2), np.random.randn(16, 1)


def test_lambda_callback():
    # keras/src/callbacks/lambda_callback_test.py::LambdaCallbackTest::test_lambda_callback
    model, x, y = _lambda_model()
    logs = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs_: logs.append("on_train_begin"),
        on_epoch_begin=lambda epoch, logs_: logs.append("on_epoch_begin"),
        on_epoch_end=lambda epoch, logs_: logs.append("on_epoch_end"),
        on_train_end=lambda logs_: logs.append("on_train_end"))
    model.fit(x, y, batch_size=4, validation_split=0.2, callbacks=[cb], epochs=5, verbose=0)
    for event in ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end"):
        assert event in logs


def test_lambda_callback_with_batches():
    # keras/src/callbacks/lambda_callback_test.py::LambdaCallbackTest::test_lambda_callback_with_batches
    model, x, y = _lambda_model()
    logs = []
    cb = callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs_: logs.append("on_train_batch_begin"),
        on_train_batch_end=lambda batch, logs_: logs.append("on_train_batch_end"))
    model.fit(x, y, batch_size=4, validation_split=0.2, callbacks=[cb], epochs=5, verbose=0)
    assert "on_train_batch_begin" in logs
    assert "on_train_batch_end" in logs


def test_lambda_callback_with_kwargs():
    # keras/src/callbacks/lambda_callback_test.py::LambdaCallbackTest::test_lambda_callback_with_kwargs
    model, x, y = _lambda_model()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    logs = []
    cb = callbacks.LambdaCallback(
        on_test_begin=lambda logs_: logs.append("custom_on_test_begin_executed"))
    model.evaluate(x, y, batch_size=4, callbacks=[cb], verbose=0)
    assert "custom_on_test_begin_executed" in logs


def test_lambda_callback_no_args():
    # keras/src/callbacks/lambda_callback_test.py::LambdaCallbackTest::test_lambda_callback_no_args
    assert isinstance(callbacks.LambdaCallback(), callbacks.LambdaCallback)


def test_lambda_callback_with_additional_kwargs():
    # keras/src/callbacks/lambda_callback_test.py::LambdaCallbackTest::
    # test_lambda_callback_with_additional_kwargs
    def custom_callback(logs):
        pass

    assert hasattr(callbacks.LambdaCallback(custom_method=custom_callback), "custom_method")


def test_lambda_callback_during_prediction():
    # keras/src/callbacks/lambda_callback_test.py::LambdaCallbackTest::test_lambda_callback_during_prediction
    model, x, _ = _lambda_model()
    logs = []
    cb = callbacks.LambdaCallback(
        on_predict_begin=lambda logs_: logs.append("on_predict_begin_executed"))
    model.predict(x, batch_size=4, callbacks=[cb], verbose=0)
    assert "on_predict_begin_executed" in logs


def test_lambda_callback_positional_order_is_keras():
    # keras/src/callbacks/lambda_callback.py: the positional order of the hooks.
    fns = [lambda *a: None for _ in range(6)]
    cb = callbacks.LambdaCallback(*fns)
    names = ["on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
             "on_train_batch_begin", "on_train_batch_end"]
    assert [getattr(cb, n) for n in names] == fns


def test_lambda_callback_test_and_predict_batch_hooks_get_their_arguments():
    # The on_test_* / on_predict_* hooks, in evaluate, predict and fit's validation pass.
    model, x, y = _lambda_model()
    events = []
    cb = callbacks.LambdaCallback(
        on_test_begin=lambda logs: events.append(("test_begin", dict(logs))),
        on_test_batch_begin=lambda b, logs: events.append(("test_batch_begin", b)),
        on_test_batch_end=lambda b, logs: events.append(("test_batch_end", b, sorted(logs))),
        on_test_end=lambda logs: events.append(("test_end", sorted(logs))),
        on_predict_begin=lambda logs: events.append(("predict_begin", dict(logs))),
        on_predict_batch_begin=lambda b, logs: events.append(("predict_batch_begin", b)),
        on_predict_batch_end=lambda b, logs: events.append(
            ("predict_batch_end", b, logs["outputs"][0].shape)),
        on_predict_end=lambda logs: events.append(("predict_end", dict(logs))))
    model.evaluate(x[:8], y[:8], batch_size=4, callbacks=[cb], verbose=0)
    assert events == [("test_begin", {}), ("test_batch_begin", 0), ("test_batch_end", 0, ["loss"]),
                      ("test_batch_begin", 1), ("test_batch_end", 1, ["loss"]),
                      ("test_end", ["loss"])]
    events.clear()
    model.predict(x[:6], batch_size=4, callbacks=[cb], verbose=0)
    assert events == [("predict_begin", {}), ("predict_batch_begin", 0),
                      ("predict_batch_end", 0, (4, 1)), ("predict_batch_begin", 1),
                      ("predict_batch_end", 1, (2, 1)), ("predict_end", {})]
    events.clear()
    model.fit(x[:8], y[:8], batch_size=4, validation_data=(x[8:12], y[8:12]), epochs=1,
              verbose=0, callbacks=[cb])
    assert [e[0] for e in events] == ["test_begin", "test_batch_begin", "test_batch_end",
                                      "test_end"]


# ====================================================================== callback_test.py / history
def test_model_state_is_current_on_batch_end():
    # keras/src/callbacks/callback_test.py::CallbackTest::test_model_state_is_current_on_epoch_end
    # nncore has no subclassed models with their own variables; the state the training step
    # moves is the optimizer's iteration count, which must be current at each batch end.
    seen = []

    class CBK(callbacks.Callback):
        def on_batch_end(self, batch, logs):
            seen.append((int(self.model.optimizer.iterations), batch + 1))

    model = nncore.Sequential([nncore.Input(shape=(1,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.random((8, 1))
    y = np.random.random((8, 1))
    model.fit(x, y, callbacks=[CBK()], batch_size=2, verbose=0)
    assert seen == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_history_passed_to_several_fits_adds_up():
    # keras/src/callbacks/history.py: ``history`` keeps growing, ``epoch`` restarts, and the
    # callback becomes model.history.
    model, x, y = _lambda_model()
    history = callbacks.History()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[history])
    model.fit(x, y, epochs=3, verbose=0, callbacks=[history])
    assert len(history.history["loss"]) == 5
    assert history.epoch == [0, 1, 2]
    assert model.history is history
