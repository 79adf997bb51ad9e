"""Cases ported from Keras 3's keras/src/trainers/trainer_test.py: fit / evaluate / predict and
the *_on_batch calls on arrays, dicts, PyDatasets, generators and torch DataLoaders,
steps_per_epoch, validation, loss weights, stop flags, callback log keys.

Keras' ``ExampleModel`` (a Dense layer without bias, kernel of ones, built on first use) is an
unbuilt ``Sequential`` of that layer; its ``StructModel`` / ``ListInputModel`` /
``ListOutputModel`` are the functional models with the same layers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nncore
from nncore import Input, Model, Sequential
from nncore import callbacks, layers, losses, metrics, optimizers
from nncore.trainers.data_adapters import PyDataset


def example_model(units):
    return Sequential([layers.Dense(units, use_bias=False, kernel_initializer="ones")])


def _dense(units, name=None):
    return layers.Dense(units, use_bias=False, kernel_initializer="ones", name=name)


def struct_model(units):
    x_one, x_two = Input((4,), name="x_one"), Input((4,), name="x_two")
    return Model([x_one, x_two], {"y_one": _dense(units)(x_one), "y_two": _dense(units)(x_two)})


def list_output_model(units):
    x = Input((4,))
    return Model(x, [_dense(units)(x), _dense(units)(x)])


def _compile_mse(model, **kwargs):
    model.compile(optimizer=optimizers.SGD(), loss=losses.MeanSquaredError(),
                  metrics=[metrics.MeanSquaredError()], **kwargs)
    return model


class TestPyDataset(PyDataset):
    # keras/src/trainers/trainer_test.py::TestPyDataset
    __test__ = False

    def __init__(self, infinite=False, **kwargs):
        super().__init__(**kwargs)
        self.infinite = infinite

    @property
    def num_batches(self):
        return None if self.infinite else 20

    def __getitem__(self, idx):
        return np.ones((5, 4)), np.zeros((5, 3))


def create_dataset(dataset_type, dataset_kwargs):
    # keras/src/trainers/trainer_test.py::create_dataset (the backends' own types left out)
    torch = pytest.importorskip("torch") if "torch" in dataset_type else None
    if dataset_type == "np_array":
        return np.ones((100, 4)), np.zeros((100, 3))
    if dataset_type == "torch_tensor":
        return torch.ones((100, 4)), torch.zeros((100, 3))
    if dataset_type == "py_dataset":
        return TestPyDataset(**dataset_kwargs), None
    if dataset_type == "torch_dataloader":
        class TestIterableDataset(torch.utils.data.IterableDataset):
            def __iter__(self):
                for _ in range(20):
                    yield torch.ones((5, 4)), torch.zeros((5, 3))

        class TestIterableDatasetWithLen(TestIterableDataset):
            def __len__(self):
                return 20

        if dataset_kwargs.get("iterable", False):
            dataset = (TestIterableDatasetWithLen() if dataset_kwargs.get("has_len", False)
                       else TestIterableDataset())
            return torch.utils.data.DataLoader(dataset), None
        dataset = torch.utils.data.TensorDataset(torch.ones((100, 4)), torch.zeros((100, 3)))
        return torch.utils.data.DataLoader(dataset, batch_size=5), None
    if dataset_type == "generator":
        def generate_finite():
            for _ in range(20):
                yield np.ones((5, 4)), np.zeros((5, 3))

        def generate_infinite():
            while True:
                yield np.ones((5, 4)), np.zeros((5, 3))

        return (generate_infinite() if dataset_kwargs.get("infinite", False)
                else generate_finite()), None
    raise ValueError(dataset_type)


class EpochAgnosticMeanSquaredError(metrics.MeanSquaredError):
    # keras/src/trainers/trainer_test.py::EpochAgnosticMeanSquaredError
    def __init__(self):
        super().__init__(name="mse")
        super().reset_state()

    def reset_state(self):
        pass


class StepObserver(callbacks.Callback):
    # keras/src/trainers/trainer_test.py::StepObserver
    def __init__(self):
        super().__init__()
        self.begin_count = 0
        self.end_count = 0
        self.epoch_begin_count = 0
        self.epoch_end_count = 0
        self.batch_loss_history = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_begin_count += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_end_count += 1

    def on_batch_begin(self, batch, logs=None):
        self.begin_count += 1

    def on_batch_end(self, batch, logs=None):
        self.end_count += 1
        self.batch_loss_history.append(logs["mse"])


# keras/src/trainers/trainer_test.py::TestTrainer::test_fit_flow
@pytest.mark.parametrize("use_steps_per_epoch", [False, True])
def test_fit_flow(use_steps_per_epoch):
    model = example_model(3)
    epochs, batch_size, steps_per_epoch = 3, 20, 7
    dataset_size = batch_size * (steps_per_epoch - 2)
    x = np.ones((dataset_size, 4))
    y = np.zeros((dataset_size, 3))
    _compile_mse(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # 7 steps asked of 5 batches: the input runs out
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                            steps_per_epoch=steps_per_epoch if use_steps_per_epoch else None)
    history = history.history
    assert "loss" in history
    assert "mean_squared_error" in history
    np.testing.assert_allclose(history["mean_squared_error"], [14.5, 11.5, 8.5], atol=1.0)


# keras/src/trainers/trainer_test.py::TestTrainer::test_fit_with_data_adapter (the multiprocessing
# PyDataset variants live in tests/test_py_dataset.py; tf.data and grain are not read by nncore)
@pytest.mark.parametrize("dataset_type, dataset_kwargs, fit_kwargs", [
    ("np_array", {}, {"batch_size": 5}),
    ("torch_tensor", {}, {"batch_size": 5}),
    ("py_dataset", {}, {}),
    ("py_dataset", {}, {"class_weight": {0: 1, 1: 2}}),
    ("py_dataset", {"infinite": True}, {"steps_per_epoch": 20}),
    ("py_dataset", {"infinite": True}, {"steps_per_epoch": 20, "class_weight": {0: 1, 1: 2}}),
    ("py_dataset", {"workers": 2}, {}),
    ("py_dataset", {"workers": 2}, {"class_weight": {0: 1, 1: 2}}),
    ("py_dataset", {"infinite": True, "workers": 2}, {"steps_per_epoch": 20}),
    ("torch_dataloader", {}, {}),
    ("torch_dataloader", {"iterable": True, "has_len": False}, {}),
    ("torch_dataloader", {"iterable": True, "has_len": True}, {}),
    ("generator", {}, {}),
    ("generator", {"infinite": True}, {"steps_per_epoch": 20}),
], ids=["np_array", "native_array", "py_dataset", "py_dataset_cw", "py_dataset_infinite",
        "py_dataset_infinite_cw", "py_dataset_multithreading", "py_dataset_multithreading_cw",
        "py_dataset_multithreading_infinite", "torch_dataloader_tensor",
        "torch_dataloader_iterable", "torch_dataloader_iterable_with_len", "generator",
        "generator_infinite"])
def test_fit_with_data_adapter(dataset_type, dataset_kwargs, fit_kwargs):
    model = example_model(3)
    model.compile(optimizer=optimizers.Adagrad(), loss=losses.MeanSquaredError(),
                  metrics=[metrics.MeanSquaredError()])
    x, y = create_dataset(dataset_type, dataset_kwargs)
    with warnings.catch_warnings():
        # A finite generator is read once: nncore stops after its first epoch with a warning
        # where Keras runs empty epochs.
        warnings.simplefilter("ignore")
        model.fit(x, y, epochs=3, verbose=0, **fit_kwargs)


def test_data_adapters_train_alike():
    # What test_fit_with_data_adapter implies: the same batches train to the same weights.
    runs = {}
    for name, kwargs, fit_kwargs in [("np_array", {}, {"batch_size": 5, "shuffle": False}),
                                     ("py_dataset", {}, {}),
                                     ("torch_dataloader", {}, {}),
                                     ("generator", {"infinite": True}, {"steps_per_epoch": 20})]:
        model = example_model(3)
        model.compile(optimizer=optimizers.Adagrad(), loss="mse")
        x, y = create_dataset(name, kwargs)
        runs[name] = model.fit(x, y, epochs=3, verbose=0, **fit_kwargs).history["loss"]
    for name, losses_ in runs.items():
        np.testing.assert_allclose(losses_, runs["np_array"], rtol=1e-6, err_msg=name)


# keras/src/trainers/trainer_test.py::TestTrainer::test_fit_with_val_split
@pytest.mark.parametrize("use_steps_per_epoch", [False, True])
def test_fit_with_val_split(use_steps_per_epoch):
    model = example_model(3)
    epochs, batch_size, steps_per_epoch = 3, 20, 7
    dataset_size = batch_size * (steps_per_epoch - 2)
    _compile_mse(model)
    torch = pytest.importorskip("torch")
    for x, y in [(np.ones((dataset_size, 4)), np.zeros((dataset_size, 3))),
                 (torch.ones((dataset_size, 4)), torch.zeros((dataset_size, 3)))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                                validation_split=0.2,
                                steps_per_epoch=steps_per_epoch if use_steps_per_epoch else None)
        assert "loss" in history.history
        assert "val_loss" in history.history


# keras/src/trainers/trainer_test.py::TestTrainer::test_evaluate_flow
def test_evaluate_flow():
    model = _compile_mse(example_model(3))
    x = np.ones((100, 4))
    y = np.zeros((100, 3))
    output = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(output, [16.0, 16.0])
    output = model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0)
    assert isinstance(output, dict)
    assert "loss" in output
    assert "mean_squared_error" in output
    np.testing.assert_allclose(output["mean_squared_error"], 16.0)


# keras/src/trainers/trainer_test.py::TestTrainer::test_predict_flow
def test_predict_flow():
    model = example_model(3)
    outputs = model.predict(np.ones((100, 4)), batch_size=16, verbose=0)
    np.testing.assert_allclose(outputs, 4 * np.ones((100, 3)))


# keras/src/trainers/trainer_test.py::TestTrainer::test_predict_flow_struct
def test_predict_flow_struct():
    model = struct_model(3)
    x = {"x_one": np.ones((100, 4)), "x_two": np.ones((100, 4))}
    outputs = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(outputs, dict)
    assert len(outputs) == 2
    np.testing.assert_allclose(outputs["y_one"], 4 * np.ones((100, 3)))
    np.testing.assert_allclose(outputs["y_two"], 4 * np.ones((100, 3)))


# keras/src/trainers/trainer_test.py::TestTrainer::test_predict_preserve_order (steps_per_execution
# 1; a generator instead of tf.data, a linear Activation as the Identity layer)
def test_predict_preserve_order():
    def generate_uneven_batches():
        batch_sizes = [2, 3, 4]
        iterator = iter(range(100))
        j = 0
        while True:
            batch_size = batch_sizes[j % len(batch_sizes)]
            try:
                batch = np.array([next(iterator) for _ in range(batch_size)])
            except StopIteration:
                break
            j += 1
            yield batch

    x = Input(shape=())
    model = Model(x, layers.Activation("linear")(x))
    model.compile(loss="mse", optimizer="sgd")
    preds = model.predict(x=generate_uneven_batches(), verbose=0)
    np.testing.assert_array_equal(preds, np.arange(len(preds), dtype=np.float32))


# keras/src/trainers/trainer_test.py::TestTrainer::test_predict_generator (steps_per_execution 1)
def test_predict_generator():
    def generate_batches():
        iterator = iter(range(10))
        while True:
            try:
                batch = np.array([next(iterator) for _ in range(2)])
            except StopIteration:
                break
            yield (batch,)

    model = Sequential([layers.InputLayer(shape=()), layers.Activation("linear")])
    model.compile(loss="mse", optimizer="sgd")
    preds = model.predict(x=generate_batches(), verbose=0)
    np.testing.assert_array_equal(preds, np.concatenate(list(generate_batches()), axis=1)[0])


# keras/src/trainers/trainer_test.py::TestTrainer::test_steps_per_epoch
@pytest.mark.parametrize("steps_per_epoch_test", ["match_one_epoch", "match_multi_epoch",
                                                  "not_match_too_low",
                                                  "not_match_but_high_enough"])
def test_steps_per_epoch(steps_per_epoch_test):
    batch_size, epochs, num_batches = 8, 4, 10
    data_size = num_batches * batch_size
    steps_per_epoch = {"match_one_epoch": num_batches,
                       "match_multi_epoch": num_batches // (epochs // 2),
                       "not_match_too_low": num_batches - 1,
                       "not_match_but_high_enough": num_batches + 1}[steps_per_epoch_test]
    x = np.ones((data_size, 4))
    y = np.ones((data_size, 1))
    model = example_model(1)
    model.compile(loss="mse", optimizer="sgd", metrics=[EpochAgnosticMeanSquaredError()])
    step_observer = StepObserver()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x=x, y=y, batch_size=batch_size, epochs=epochs,
                  steps_per_epoch=steps_per_epoch, callbacks=[step_observer], verbose=0,
                  shuffle=False)
    if steps_per_epoch_test != "not_match_too_low":
        training_batch_count = epochs * min(steps_per_epoch, num_batches)
    else:
        complete_epochs = num_batches // steps_per_epoch
        remaining_steps = num_batches % steps_per_epoch
        steps_cycles = [complete_epochs * steps_per_epoch, remaining_steps] * epochs
        training_batch_count = sum(steps_cycles[:epochs])
    assert step_observer.begin_count == training_batch_count
    assert step_observer.end_count == step_observer.begin_count
    assert step_observer.epoch_begin_count == epochs
    assert step_observer.epoch_end_count == step_observer.epoch_begin_count

    if steps_per_epoch_test != "not_match_too_low":
        model_2 = example_model(1)
        model_2.compile(loss="mse", optimizer="sgd", metrics=[EpochAgnosticMeanSquaredError()])
        step_observer_2 = StepObserver()
        if steps_per_epoch_test in ("not_match_but_high_enough", "match_one_epoch"):
            model_2_epochs = epochs
        else:
            model_2_epochs = epochs // (num_batches // steps_per_epoch)
        model_2.fit(x=x, y=y, batch_size=batch_size, epochs=model_2_epochs,
                    callbacks=[step_observer_2], verbose=0, shuffle=False)
        np.testing.assert_allclose(step_observer.batch_loss_history,
                                   step_observer_2.batch_loss_history, rtol=1e-6)
        for a, b in zip(model.get_weights(), model_2.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(model.predict(x, batch_size=batch_size, verbose=0),
                                   model_2.predict(x, batch_size=batch_size, verbose=0),
                                   rtol=1e-6)
        np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                                   model_2.evaluate(x, y, verbose=0), rtol=1e-6)


# keras/src/trainers/trainer_test.py::TestTrainer::test_max_epochs_and_steps (the part without
# Keras' global max_epochs / max_steps_per_epoch settings, which nncore does not have)
def test_max_epochs_and_steps():
    batch_size, epochs, num_batches = 8, 4, 10
    data_size = num_batches * batch_size
    x, y = np.ones((data_size, 4)), np.ones((data_size, 1))
    model = example_model(1)
    model.compile(loss="mse", optimizer="sgd", metrics=[EpochAgnosticMeanSquaredError()])
    step_observer = StepObserver()
    model.fit(x=x, y=y, batch_size=batch_size, epochs=epochs, callbacks=[step_observer],
              verbose=0)
    assert step_observer.epoch_begin_count == epochs
    assert step_observer.begin_count == num_batches * epochs


# keras/src/trainers/trainer_test.py::TestTrainer::test_fit_with_different_batch_size_same_loss
def test_fit_with_different_batch_size_same_loss():
    x = np.random.rand(100, 4)
    y = np.ones((100, 1))
    model = example_model(1)
    model.trainable = False
    model.compile(loss="mse")
    loss1 = model.fit(x, y, batch_size=80, verbose=0).history["loss"]
    loss2 = model.fit(x, y, batch_size=100, verbose=0).history["loss"]
    np.testing.assert_allclose(loss1, loss2, rtol=1e-6)


# keras/src/trainers/trainer_test.py::TestTrainer::test_evaluate_with_different_batch_size_same_loss
def test_evaluate_with_different_batch_size_same_loss():
    x = np.random.rand(100, 4)
    y = np.ones((100, 1))
    model = example_model(1)
    model.compile(loss="mse")
    loss1 = model.evaluate(x, y, batch_size=80, verbose=0)
    loss2 = model.evaluate(x, y, batch_size=100, verbose=0)
    np.testing.assert_allclose(loss1, loss2, rtol=1e-6)


# keras/src/trainers/trainer_test.py::TestTrainer::test_on_batch_methods
def test_on_batch_methods():
    model = _compile_mse(example_model(3))
    x = np.ones((100, 4))
    y = np.zeros((100, 3))
    sw = np.arange(100).reshape((100,)).astype("float32") / 50.0

    logs = model.train_on_batch(x, y)
    assert isinstance(logs, list)
    assert len(logs) == 2
    assert logs[0] == pytest.approx(16.0, abs=1e-6)

    logs = model.train_on_batch(x, y, return_dict=True)
    assert isinstance(logs, dict)
    assert len(logs) == 2
    assert logs["loss"] == pytest.approx(15.158, abs=5e-4)

    logs = model.test_on_batch(x, y)
    assert isinstance(logs, list)
    assert len(logs) == 2
    assert logs[0] == pytest.approx(14.360, abs=5e-4)

    logs = model.test_on_batch(x, y, return_dict=True)
    assert isinstance(logs, dict)
    assert len(logs) == 2
    assert logs["loss"] == pytest.approx(14.360, abs=5e-4)

    output = model.predict_on_batch(x)
    assert isinstance(output, np.ndarray)
    np.testing.assert_allclose(output[0], [3.789511, 3.789511, 3.789511], rtol=1e-6)

    logs = model.train_on_batch(x, y, sw)
    assert logs[0] == pytest.approx(14.217, abs=5e-4)
    logs = model.test_on_batch(x, y, sw)
    assert logs[0] == pytest.approx(13.476, abs=5e-4)
    output = model.predict_on_batch(x)
    np.testing.assert_allclose(output[0], [3.689468, 3.689468, 3.689468], rtol=1e-6)

    logs = model.train_on_batch(x, y, class_weight={1: 0.3, 0: 0.2})
    assert logs[0] == pytest.approx(2.722, abs=5e-4)


# keras/src/trainers/trainer_test.py::TestTrainer::test_on_batch_methods_without_training
def test_on_batch_methods_without_training():
    model = example_model(3)
    model.compile(loss=losses.MeanSquaredError(), metrics=[metrics.MeanSquaredError()])
    x = np.ones((100, 4))
    y = np.zeros((100, 3))
    output = model.predict_on_batch(x)
    assert isinstance(output, np.ndarray)
    np.testing.assert_allclose(output[0], [4.0, 4.0, 4.0])
    logs = model.test_on_batch(x, y)
    assert isinstance(logs, list)
    assert len(logs) == 2
    assert logs[0] == pytest.approx(16.0)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert isinstance(logs, dict)
    assert len(logs) == 2
    assert logs["loss"] == pytest.approx(16.0)


# keras/src/trainers/trainer_test.py::TestTrainer::test_for_eval_epoch_iterator
def test_for_eval_epoch_iterator():
    model = example_model(3)
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    x, y = np.ones((16, 4)), np.zeros((16, 3))
    x_test, y_test = np.ones((16, 4)), np.zeros((16, 3))
    model.fit(x, y, batch_size=4, validation_data=(x_test, y_test), verbose=0)
    with pytest.raises(ValueError):
        model.fit(x, y, batch_size=4, verbose=0,
                  validation_data=(x_test.reshape((-1, 16, 4)), y_test.reshape((-1, 16, 3))))
    history = model.fit(x, y, batch_size=4, validation_data=(x_test, y_test), verbose=0)
    assert sorted(history.history) == ["loss", "mean_absolute_error", "val_loss",
                                       "val_mean_absolute_error"]


# keras/src/trainers/trainer_test.py::TestTrainer::test_callback_methods_keys
def test_callback_methods_keys():
    seen = {}

    class CustomCallback(callbacks.Callback):
        def _record(self, name, logs):
            seen.setdefault(name, []).append(sorted((logs or {}).keys()))

        def on_train_begin(self, logs=None):
            self._record("on_train_begin", logs)

        def on_train_end(self, logs=None):
            self._record("on_train_end", logs)

        def on_epoch_begin(self, epoch, logs=None):
            self._record("on_epoch_begin", logs)

        def on_epoch_end(self, epoch, logs=None):
            self._record("on_epoch_end", logs)

        def on_test_begin(self, logs=None):
            self._record("on_test_begin", logs)

        def on_test_end(self, logs=None):
            self._record("on_test_end", logs)

        def on_predict_begin(self, logs=None):
            self._record("on_predict_begin", logs)

        def on_predict_end(self, logs=None):
            self._record("on_predict_end", logs)

        def on_train_batch_begin(self, batch, logs=None):
            self._record("on_train_batch_begin", logs)

        def on_train_batch_end(self, batch, logs=None):
            self._record("on_train_batch_end", logs)

        def on_test_batch_begin(self, batch, logs=None):
            self._record("on_test_batch_begin", logs)

        def on_test_batch_end(self, batch, logs=None):
            self._record("on_test_batch_end", logs)

        def on_predict_batch_begin(self, batch, logs=None):
            self._record("on_predict_batch_begin", logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._record("on_predict_batch_end", logs)

    model = example_model(3)
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    x, y = np.ones((16, 4)), np.zeros((16, 3))
    model.fit(x, y, callbacks=[CustomCallback()], batch_size=4, validation_data=(x, y),
              verbose=0)
    model.evaluate(x, y, batch_size=4, callbacks=[CustomCallback()], verbose=0)
    model.predict(x, batch_size=4, callbacks=[CustomCallback()], verbose=0)
    fit_end = ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"]
    expected = {
        "on_train_begin": [], "on_train_end": fit_end, "on_epoch_begin": [],
        "on_epoch_end": fit_end, "on_test_begin": [],
        "on_test_end": ["loss", "mean_absolute_error"], "on_predict_begin": [],
        "on_predict_end": [], "on_train_batch_begin": [],
        "on_train_batch_end": ["loss", "mean_absolute_error"], "on_test_batch_begin": [],
        "on_test_batch_end": ["loss", "mean_absolute_error"], "on_predict_batch_begin": [],
        "on_predict_batch_end": ["outputs"],
    }
    assert set(seen) == set(expected)
    for name, keys in expected.items():
        assert all(k == keys for k in seen[name]), (name, seen[name])


# keras/src/trainers/trainer_test.py::TestTrainer::test_recompile
def test_recompile():
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_squared_error"])
    history_1 = model.fit(np.ones((3, 2)), np.ones((3, 3)), verbose=0).history
    eval_out_1 = model.evaluate(np.ones((3, 2)), np.ones((3, 3)), return_dict=True, verbose=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_absolute_error"])
    history_2 = model.fit(np.ones((3, 2)), np.ones((3, 3)), verbose=0).history
    eval_out_2 = model.evaluate(np.ones((3, 2)), np.ones((3, 3)), return_dict=True, verbose=0)
    assert sorted(history_1) == ["loss", "mean_squared_error"]
    assert sorted(eval_out_1) == ["loss", "mean_squared_error"]
    assert sorted(history_2) == ["loss", "mean_absolute_error"]
    assert sorted(eval_out_2) == ["loss", "mean_absolute_error"]


# keras/src/trainers/trainer_test.py::TestTrainer::test_evaluate_return_list_respect_metrics_order
def test_evaluate_return_list_respect_metrics_order():
    def metrics_zero(y_true, y_pred):
        return 0.0

    def metrics_one(y_true, y_pred):
        return 1.0

    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=[metrics_zero, metrics_one])
    eval_out = model.evaluate(np.ones((3, 2)), np.ones((3, 3)), verbose=0)
    assert len(eval_out) == 3
    assert eval_out[1] == 0.0
    assert eval_out[2] == 1.0
    model.compile(optimizer="sgd", loss="mse", metrics=[metrics_one, metrics_zero])
    eval_out = model.evaluate(np.ones((3, 2)), np.ones((3, 3)), verbose=0)
    assert len(eval_out) == 3
    assert eval_out[1] == 1.0
    assert eval_out[2] == 0.0


# keras/src/trainers/trainer_test.py::TestTrainer::test_nested_inputs
def test_nested_inputs():
    a, b = Input((2,)), Input((3,))
    model = Model([a, b], layers.Add()([_dense(2)(a), _dense(2)(b)]))
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    xs = [np.ones((3, 2)), np.ones((3, 3))]
    history = model.fit(xs, np.ones((3, 2)), verbose=0).history
    np.testing.assert_allclose(history["loss"], 16.0)
    train_out = model.train_on_batch(xs, np.ones((3, 2)))
    np.testing.assert_allclose(train_out[0], 14.44, atol=1e-4)
    eval_out = model.evaluate(xs, np.ones((3, 2)), verbose=0)
    np.testing.assert_allclose(eval_out[0], 13.0321, atol=1e-4)
    eval_out = model.test_on_batch(xs, np.ones((3, 2)))
    np.testing.assert_allclose(eval_out[0], 13.0321, atol=1e-4)
    assert model.predict(xs, verbose=0).shape == (3, 2)
    assert model.predict_on_batch(xs).shape == (3, 2)


# keras/src/trainers/trainer_test.py::TestTrainer::test_validation_data_infinite_generator
def test_validation_data_infinite_generator():
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])

    class Recorder(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train_counter = 0
            self.val_counter = 0

        def on_train_batch_end(self, *args, **kwargs):
            self.train_counter += 1

        def on_test_batch_end(self, *args, **kwargs):
            self.val_counter += 1

    def infinite_gen():
        while True:
            yield np.ones((2, 2)), np.ones((2, 3))

    recorder = Recorder()
    model.fit(infinite_gen(), validation_data=infinite_gen(), steps_per_epoch=3,
              validation_steps=4, epochs=1, shuffle=False, callbacks=[recorder], verbose=0)
    assert recorder.train_counter == 3
    assert recorder.val_counter == 4


# keras/src/trainers/trainer_test.py::TestTrainer::test_stop_loop
@pytest.mark.parametrize("method, method_gerund, on_end_name", [
    ("fit", "training", "train"), ("evaluate", "evaluating", "test"),
    ("predict", "predicting", "predict")])
def test_stop_loop(method, method_gerund, on_end_name):
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])

    class Stopper(callbacks.Callback):
        def __init__(self, stop_count):
            super().__init__()
            self.stop_count = stop_count
            self.counter = 0
            setattr(self, f"on_{on_end_name}_batch_end", self.batch_end)

        def batch_end(self, *args, **kwargs):
            self.counter += 1
            if self.counter == self.stop_count:
                setattr(self.model, f"stop_{method_gerund}", True)

    def infinite_gen():
        while True:
            x = np.ones((2, 2))
            y = np.ones((2, 3))
            yield (x,) if method == "predict" else (x, y)

    stopper = Stopper(5)
    getattr(model, method)(infinite_gen(), callbacks=[stopper], verbose=0)
    assert stopper.counter == 5


def test_stop_predicting_on_arrays_keeps_the_rows_predicted():
    # The array path preallocates the outputs: a stop keeps only the rows computed.
    model = example_model(3)

    class Stopper(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_predicting = True

    out = model.predict(np.ones((10, 2)), batch_size=4, callbacks=[Stopper()], verbose=0)
    np.testing.assert_allclose(out, 2 * np.ones((8, 3)))


# keras/src/trainers/trainer_test.py::TestTrainer::test_constraints_are_applied
def test_constraints_are_applied():
    model = Sequential([layers.Dense(2, kernel_constraint="non_neg")])
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(np.ones((2, 3)), np.ones((2, 2)), verbose=0)
    assert np.min(model.layers[0].kernel.numpy()) >= 0.0


# keras/src/trainers/trainer_test.py::TestTrainer::test_loss_weights
def test_loss_weights():
    epochs, batch_size = 3, 20
    dataset_size = batch_size * 2

    model = _compile_mse(example_model(3), loss_weights=0.2)
    x = np.ones((dataset_size, 4))
    y = np.zeros((dataset_size, 3))
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0).history
    np.testing.assert_allclose(history["loss"], [3.182979, 3.115617, 3.049681], atol=1e-3)

    model = struct_model(3)
    model.compile(optimizer=optimizers.SGD(),
                  loss={"y_one": losses.MeanSquaredError(), "y_two": losses.MeanSquaredError()},
                  metrics={"y_one": metrics.MeanSquaredError(),
                           "y_two": metrics.MeanSquaredError()},
                  loss_weights={"y_one": 0.1, "y_two": 0.2})
    history = model.fit({"x_one": np.ones((dataset_size, 4)), "x_two": np.ones((dataset_size, 4))},
                        {"y_one": np.zeros((dataset_size, 3)),
                         "y_two": np.zeros((dataset_size, 3))},
                        batch_size=batch_size, epochs=epochs, verbose=0).history
    np.testing.assert_allclose(history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)

    model = list_output_model(3)
    model.compile(optimizer=optimizers.SGD(),
                  loss=[losses.MeanSquaredError(), losses.MeanSquaredError()],
                  metrics=[metrics.MeanSquaredError(), metrics.MeanSquaredError()],
                  loss_weights=[0.1, 0.2])
    history = model.fit(np.ones((dataset_size, 4)),
                        [np.zeros((dataset_size, 3)), np.zeros((dataset_size, 3))],
                        batch_size=batch_size, epochs=epochs, verbose=0).history
    np.testing.assert_allclose(history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)


# keras/src/trainers/trainer_test.py::TestTrainer::test_partial_loss_partial_label
def test_partial_loss_partial_label():
    inputs = Input((2,))
    x = layers.Dense(3, kernel_initializer="ones")(inputs)
    partial_model = Model(inputs, [x, x, x])
    partial_model.compile(loss=["mse", None, None])
    full_model = Model(inputs, [x, x, x])
    full_model.compile(loss=["mse", "mse", "mse"])
    eval_x = np.ones((32, 2))
    eval_y = np.ones((32, 3))
    partial_logs = partial_model.evaluate(eval_x, eval_y, return_dict=True, verbose=0)
    logs = full_model.evaluate(eval_x, [eval_y] * 3, return_dict=True, verbose=0)
    assert partial_logs["loss"] * 3 == pytest.approx(logs["loss"])


def test_partial_loss_trains_like_its_single_output():
    # The outputs without a loss add no gradient, also when they are the same tensor.
    nncore.set_seed(1)
    inputs = Input((2,))
    x = layers.Dense(3)(inputs)
    partial_model = Model(inputs, [x, x, x])
    partial_model.compile(optimizer="sgd", loss=["mse", None, None])
    single = Model(inputs, x)
    single.compile(optimizer="sgd", loss="mse")
    data_x = np.random.default_rng(0).normal(size=(16, 2))
    data_y = np.random.default_rng(1).normal(size=(16, 3))
    start = partial_model.get_weights()
    partial_model.fit(data_x, data_y, batch_size=4, shuffle=False, verbose=0)
    after_partial = partial_model.get_weights()
    single.set_weights(start)
    single.fit(data_x, data_y, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(after_partial, single.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_initial_epoch_and_validation_freq_in_history():
    # Keras' fit: epochs counts from initial_epoch; val_* logs only on validated epochs.
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((20, 4)), np.zeros((20, 3))
    history = model.fit(x, y, epochs=4, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3]
    assert len(history.history["loss"]) == 2
    history = model.fit(x, y, epochs=4, validation_split=0.25, validation_freq=2, verbose=0)
    assert history.epoch == [0, 1, 2, 3]
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == 2


# ---------------------------------------------------------------- compile_utils
# keras/src/trainers/compile_utils_test.py tests CompileMetrics / CompileLoss on given y_true and
# y_pred; here a model passes its inputs through (a linear Activation per output), so evaluate on
# x = y_pred computes the same metrics. Two update_state calls are two batches of 3 rows.
_Y_TRUE_1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
_Y_PRED_1 = [np.array([[0.4, 0.1], [0.2, 0.6], [0.6, 0.1]]),
             np.array([[0.3, 0.2], [0.1, 0.4], [0.2, 0.3]])]
_Y_TRUE_2 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
_Y_PRED_2 = [np.array([[0.4, 0.1, 0.3], [0.2, 0.6, 0.4], [0.6, 0.1, 0.8]]),
             np.array([[0.3, 0.2, 0.1], [0.5, 0.4, 0.6], [0.1, 0.8, 0.7]])]
_SW = np.array([1, 0.0, 1])


def _pass_through(shapes, names, as_dict=False):
    ins = [Input(shape, name=f"in_{n}") for shape, n in zip(shapes, names)]
    outs = [layers.Activation("linear", name=n)(i) for i, n in zip(ins, names)]
    if as_dict:
        return Model(ins, dict(zip(names, outs)))
    return Model(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 else outs[0])


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_single_output_case
def test_compile_metrics_single_output_case():
    model = _pass_through([(2,)], ["out"])
    model.compile(loss="mse", metrics=[metrics.MeanSquaredError()],
                  weighted_metrics=[metrics.MeanSquaredError()])
    result = model.evaluate(np.concatenate(_Y_PRED_1), np.concatenate([_Y_TRUE_1] * 2),
                            sample_weight=np.concatenate([_SW] * 2), batch_size=3,
                            return_dict=True, verbose=0)
    assert len(result) == 3           # and the loss
    np.testing.assert_allclose(result["mean_squared_error"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["weighted_mean_squared_error"], 0.0725, rtol=1e-6)
    model.reset_metrics()
    assert [float(m.result()) for m in model.metrics] == [0.0, 0.0]


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_list_output_case
def test_compile_metrics_list_output_case():
    model = _pass_through([(2,), (3,)], ["output_1", "output_2"])
    model.compile(loss="mse",
                  metrics=[[metrics.MeanSquaredError(), metrics.MeanSquaredError()],
                           [metrics.MeanSquaredError(), metrics.MeanSquaredError()]],
                  weighted_metrics=[[metrics.MeanSquaredError(), metrics.MeanSquaredError()],
                                    [metrics.MeanSquaredError(), metrics.MeanSquaredError()]])
    assert len(model.metrics) == 8
    result = model.evaluate([np.concatenate(_Y_PRED_1), np.concatenate(_Y_PRED_2)],
                            [np.concatenate([_Y_TRUE_1] * 2), np.concatenate([_Y_TRUE_2] * 2)],
                            sample_weight=np.concatenate([_SW] * 2), batch_size=3,
                            return_dict=True, verbose=0)
    metric_keys = [k for k in result if not k.endswith("loss")]
    assert len(metric_keys) == 8
    np.testing.assert_allclose(result["output_1_mean_squared_error"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["output_1_weighted_mean_squared_error"], 0.0725,
                               rtol=1e-6)
    model.reset_metrics()
    assert all(float(m.result()) == 0.0 for m in model.metrics)


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_dict_output_case
def test_compile_metrics_dict_output_case():
    model = _pass_through([(2,), (3,)], ["output_1", "output_2"], as_dict=True)
    model.compile(
        loss="mse",
        metrics={"output_1": [metrics.MeanSquaredError(), metrics.MeanSquaredError(name="mse")],
                 "output_2": [metrics.MeanSquaredError(), metrics.MeanSquaredError(name="mse")]},
        weighted_metrics={
            "output_1": [metrics.MeanSquaredError(), metrics.MeanSquaredError(name="mse")],
            "output_2": [metrics.MeanSquaredError(), metrics.MeanSquaredError(name="mse")]})
    result = model.evaluate(
        {"in_output_1": np.concatenate(_Y_PRED_1), "in_output_2": np.concatenate(_Y_PRED_2)},
        {"output_1": np.concatenate([_Y_TRUE_1] * 2),
         "output_2": np.concatenate([_Y_TRUE_2] * 2)},
        sample_weight=np.concatenate([_SW] * 2), batch_size=3, return_dict=True, verbose=0)
    assert len([k for k in result if not k.endswith("loss")]) == 8
    np.testing.assert_allclose(result["output_1_mean_squared_error"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_mean_squared_error"], 0.066666667, rtol=1e-6)
    np.testing.assert_allclose(result["output_1_mse"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_mse"], 0.066666667, rtol=1e-6)
    np.testing.assert_allclose(result["output_1_weighted_mean_squared_error"], 0.0725,
                               rtol=1e-6)
    np.testing.assert_allclose(result["output_2_weighted_mean_squared_error"], 0.090833336,
                               rtol=1e-6)
    np.testing.assert_allclose(result["output_1_weighted_mse"], 0.0725, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_weighted_mse"], 0.090833336, rtol=1e-6)


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_name_conversions
def test_compile_metrics_name_conversions():
    model = _pass_through([(2,)], ["out"])
    model.compile(loss="mse", metrics=["acc", "accuracy", "mse"], weighted_metrics=[])
    result = model.evaluate(_Y_PRED_1[0], _Y_TRUE_1, return_dict=True, verbose=0)
    assert len(result) == 4           # and the loss
    np.testing.assert_allclose(result["acc"], 0.333333, rtol=1e-5)
    np.testing.assert_allclose(result["accuracy"], 0.333333, rtol=1e-5)
    assert "mse" in result


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_custom_metric_function
def test_compile_metrics_custom_metric_function():
    def my_custom_metric(y_true, y_pred):
        return np.mean(np.square(y_true - y_pred), axis=-1)

    model = _pass_through([(2,)], ["out"])
    model.compile(loss="mse", metrics=[my_custom_metric], weighted_metrics=[])
    result = model.evaluate(_Y_PRED_1[0], _Y_TRUE_1, return_dict=True, verbose=0)
    assert list(result.keys()) == ["loss", "my_custom_metric"]


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_dict_outputs_outputs_ordering
def test_compile_metrics_dict_outputs_outputs_ordering():
    model = _pass_through([(2,), (5,)], ["a", "b"], as_dict=True)
    model.compile(loss="mse", metrics={"b": metrics.MeanAbsolutePercentageError(),
                                       "a": metrics.MeanSquaredError()})
    result = model.evaluate({"in_a": np.full((3, 2), 2.0), "in_b": np.zeros((3, 5))},
                            {"a": np.ones((3, 2)), "b": np.ones((3, 5))},
                            return_dict=True, verbose=0)
    assert [k for k in result if not k.endswith("loss")] == [
        "a_mean_squared_error", "b_mean_absolute_percentage_error"]
    np.testing.assert_allclose(result["a_mean_squared_error"], 1.0)
    np.testing.assert_allclose(result["b_mean_absolute_percentage_error"], 100.0)


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_dict_outputs_ignore_mismatched_output_names
def test_compile_metrics_dict_outputs_ignore_mismatched_output_names():
    ins = [Input((2,)), Input((5,))]
    outs = [layers.Activation("linear", name="dense")(ins[0]),
            layers.Activation("linear", name="dense_1")(ins[1])]
    model = Model(ins, {"a": outs[0], "b": outs[1]})
    model.compile(loss="mse", metrics={"a": metrics.MeanSquaredError(),
                                       "b": metrics.MeanSquaredError()})
    result = model.evaluate([np.zeros((3, 2)), np.ones((3, 5))],
                            {"a": np.zeros((3, 2)), "b": np.zeros((3, 5))},
                            return_dict=True, verbose=0)
    assert [k for k in result if not k.endswith("loss")] == [
        "a_mean_squared_error", "b_mean_squared_error"]
    np.testing.assert_allclose(result["a_mean_squared_error"], 0.0)
    np.testing.assert_allclose(result["b_mean_squared_error"], 1.0)


# keras/src/trainers/compile_utils_test.py::TestCompileLoss::test_single_output_case
def test_compile_loss_single_output_case():
    model = _pass_through([(2,)], ["out"])
    model.compile(loss=losses.MeanSquaredError())
    np.testing.assert_allclose(model.evaluate(_Y_PRED_1[0], _Y_TRUE_1, verbose=0), 0.068333,
                               atol=1e-5)


# keras/src/trainers/compile_utils_test.py::TestCompileLoss::test_list_output_case
@pytest.mark.parametrize("broadcast", [True, False])
def test_compile_loss_list_output_case(broadcast):
    model = _pass_through([(2,), (2,)], ["o1", "o2"])
    model.compile(loss="mse" if broadcast else ["mse", "mse"])
    y_true = [np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
              np.array([[0.7, 0.8], [0.9, 1.0], [1.1, 1.2]])]
    y_pred = [np.array([[1.2, 1.1], [1.0, 0.9], [0.8, 0.7]]),
              np.array([[0.6, 0.5], [0.4, 0.3], [0.2, 0.1]])]
    np.testing.assert_allclose(model.evaluate(y_pred, y_true, verbose=0)[0], 0.953333,
                               atol=1e-5)


# keras/src/trainers/compile_utils_test.py::TestCompileLoss::test_list_loss_dict_data
def test_compile_loss_list_loss_dict_data():
    model = _pass_through([(2,), (2,)], ["b", "a"])
    model.compile(loss=["mse", "mae"])
    y_true = {"a": np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
              "b": np.array([[0.7, 0.8], [0.9, 1.0], [1.1, 1.2]])}
    y_pred = {"in_a": np.array([[1.2, 1.1], [1.0, 0.9], [0.8, 0.7]]),
              "in_b": np.array([[0.6, 0.5], [0.4, 0.3], [0.2, 0.1]])}
    np.testing.assert_allclose(model.evaluate(y_pred, y_true, verbose=0)[0], 1.07666,
                               atol=1e-5)


# keras/src/trainers/compile_utils_test.py::TestCompileLoss::test_single_output_case_with_crossentropy_loss
def test_compile_loss_single_output_case_with_crossentropy_loss():
    model = _pass_through([(2,)], ["out"])
    model.compile(loss="crossentropy")
    np.testing.assert_allclose(model.evaluate(_Y_PRED_1[0], _Y_TRUE_1, verbose=0), 0.706595,
                               atol=1e-5)


def test_crossentropy_identifier_follows_the_shapes():
    # keras/src/trainers/compile_utils.py picks binary / sparse / categorical from the shapes.
    from nncore import losses as nl

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=6)
    labels = np.array([0, 2, 1, 1, 0, 2])
    for y, ref in [(labels, nl.SparseCategoricalCrossentropy()),
                   (labels[:, None], nl.SparseCategoricalCrossentropy()),
                   (np.eye(3)[labels], nl.CategoricalCrossentropy())]:
        model = _pass_through([(3,)], ["out"])
        model.compile(loss="ce")
        np.testing.assert_allclose(model.evaluate(probs, y, verbose=0), float(ref(y, probs)),
                                   rtol=1e-5)
    p = rng.uniform(0.1, 0.9, size=(6, 1))
    yb = (labels[:, None] > 0).astype(float)
    model = _pass_through([(1,)], ["out"])
    model.compile(loss="crossentropy")
    np.testing.assert_allclose(model.evaluate(p, yb, verbose=0),
                               float(nl.BinaryCrossentropy()(yb, p)), rtol=1e-5)


def test_validation_split_is_not_class_weighted():
    # Keras splits (x, y, sample_weight) before class_weight turns into sample weights, which
    # then weigh the training rows only.
    nncore.set_seed(0)
    x = np.random.default_rng(0).normal(size=(40, 4))
    y = np.eye(3)[np.arange(40) % 3]
    model = Sequential([Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, verbose=0,
                        class_weight={0: 5.0, 1: 0.1, 2: 1.0})
    np.testing.assert_allclose(history.history["val_loss"][0],
                               model.evaluate(x[30:], y[30:], verbose=0), rtol=1e-6)


def test_evaluate_list_order_of_a_multi_output_model():
    # keras/src/trainers/trainer.py::_flatten_metrics_in_order: the loss, the compiled metrics
    # (all outputs' metrics, then all outputs' weighted metrics), then the per-output losses.
    model = _pass_through([(2,), (2,)], ["a", "b"])
    model.compile(loss="mse", metrics=["mae", "mse"], weighted_metrics=["mae", "mse"])
    y_true = [np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
              np.array([[0.7, 0.8], [0.9, 1.0], [1.1, 1.2]])]
    y_pred = [np.array([[1.2, 1.1], [1.0, 0.9], [0.8, 0.7]]),
              np.array([[0.6, 0.5], [0.4, 0.3], [0.2, 0.1]])]
    logs = model.evaluate(y_pred, y_true, return_dict=True, verbose=0)
    values = model.evaluate(y_pred, y_true, verbose=0)
    order = ["loss", "a_mae", "b_mse", "a_weighted_mae", "b_weighted_mse", "a_loss", "b_loss"]
    assert sorted(logs) == sorted(order)
    assert values == [logs[k] for k in order]


# keras/src/trainers/trainer_test.py::TestTrainer::test_callbacks_can_update_state_at_batch_boundary
# (the callback's own counters; nncore models are not subclassed to hold counter weights)
def test_callbacks_called_at_each_batch_boundary():
    class CounterCallback(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.eager_call_counter_train = 0
            self.eager_call_counter_test = 0
            self.eager_call_counter_predict = 0

        def on_train_batch_end(self, *args, **kwargs):
            self.eager_call_counter_train += 1

        def on_test_batch_end(self, *args, **kwargs):
            self.eager_call_counter_test += 1

        def on_predict_batch_end(self, *args, **kwargs):
            self.eager_call_counter_predict += 1

    model = Sequential([layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"], run_eagerly=True)
    cbk = CounterCallback()
    model.fit(np.ones((4, 3)), np.ones((4, 3)), callbacks=[cbk], epochs=3, batch_size=1,
              verbose=0, validation_data=(np.ones((2, 3)), np.ones((2, 3))))
    assert cbk.eager_call_counter_train == 12
    assert cbk.eager_call_counter_test == 6
    model.predict(np.ones((4, 3)), callbacks=[cbk], batch_size=1, verbose=0)
    assert cbk.eager_call_counter_predict == 4


def test_validation_steps_restart_from_the_first_batch_each_epoch():
    # keras/src/backend/*/trainer.py: evaluate() resets the cached validation iterator, so each
    # validation run with validation_steps reads the first batches again.
    model = example_model(1)
    model.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    x_val = np.ones((8, 4))
    y_val = np.concatenate([np.full((4, 1), 4.0), np.zeros((4, 1))])   # batches 0-1 fit
    history = model.fit(np.ones((4, 4)), np.ones((4, 1)), epochs=3, verbose=0,
                        validation_data=(x_val, y_val), validation_batch_size=2,
                        validation_steps=2)
    np.testing.assert_allclose(history.history["val_loss"], [0.0, 0.0, 0.0])


# keras/src/trainers/compile_utils_test.py::TestCompileMetrics::test_list_outputs_dict_labels_uses_output_names
def test_compile_metrics_list_outputs_dict_labels_uses_output_names():
    model = _pass_through([(5,), (2,)], ["b", "a"])
    model.compile(loss="mse", metrics={"b": metrics.MeanSquaredError(),
                                       "a": metrics.MeanSquaredError()})
    result = model.evaluate([np.zeros((3, 5)), np.ones((3, 2))],
                            {"b": np.zeros((3, 5)), "a": np.zeros((3, 2))},
                            return_dict=True, verbose=0)
    assert [k for k in result if not k.endswith("loss")] == [
        "b_mean_squared_error", "a_mean_squared_error"]
    np.testing.assert_allclose(result["b_mean_squared_error"], 0.0)
    np.testing.assert_allclose(result["a_mean_squared_error"], 1.0)


def test_single_output_takes_every_metric_whatever_the_keys():
    # keras/src/trainers/compile_utils.py::CompileMetrics._build_metrics_set: with one output,
    # all metrics apply to it (the structure is flattened, its keys are not read).
    model = _pass_through([(2,)], ["out"])
    model.compile(loss="mse", metrics={"anything": ["mae"]}, loss_weights={"out": 0.5})
    result = model.evaluate(_Y_PRED_1[0], _Y_TRUE_1, return_dict=True, verbose=0)
    assert sorted(result) == ["loss", "mae"]
    np.testing.assert_allclose(result["loss"], 0.5 * 0.068333, atol=1e-5)
