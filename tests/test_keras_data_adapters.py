"""Cases ported from Keras 3's data adapter and epoch iterator tests
(keras/src/trainers/epoch_iterator_test.py, data_adapters/array_data_adapter_test.py,
generator_data_adapter_test.py, torch_data_loader_adapter_test.py, data_adapter_utils_test.py).

nncore's adapters check the data against a model (``bind(ModelIO(model))``), so each case feeds
a small model whose inputs and outputs match Keras' arrays; batches come as
``(xs, ys, sample_weight)`` with inputs in the model's dtype (Keras' floatx)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nncore import Input, Model, Sequential
from nncore import layers
from nncore.trainers.data_adapters import (ArrayDataAdapter, IterableDataAdapter, PyDataset,
                                           PyDatasetAdapter, get_data_adapter)
from nncore.trainers.data_adapters.data_utils import sample_weights
from nncore.trainers.epoch_iterator import EpochIterator
from nncore.trainers.model_io import ModelIO

try:
    import torch
except ImportError:          # the cases without torch still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch")


def _need_torch():
    if torch is None:
        pytest.skip("needs PyTorch")


def _model(in_shape, units):
    return Sequential([Input(in_shape), layers.Dense(units)])


def _adapter(x, model, y=None, sample_weight=None, class_weight=None, batch_size=None,
             shuffle=False, need_y=True):
    rng = np.random.default_rng(0) if shuffle else None
    adapter = get_data_adapter(x, y, sample_weight, class_weight, batch_size, shuffle, rng)
    adapter.bind(ModelIO(model), need_y=need_y)
    return adapter


def _copies(adapter):
    # Array batches may live in buffers reused by the next batch: copy what is kept.
    out = []
    for xs, ys, w in adapter.iterator():
        out.append(([a.copy() for a in xs], None if ys is None else [a.copy() for a in ys],
                    None if w is None else w.copy()))
    return out


def _make_array(shape, dtype):
    # keras/src/trainers/data_adapters/array_data_adapter_test.py::make_array
    return np.array([[i] * shape[1] for i in range(shape[0])], dtype=dtype)


# keras/src/trainers/data_adapters/array_data_adapter_test.py::TestArrayDataAdapter::test_basic_flow
@pytest.mark.parametrize("array_type", ["np", "torch"])
@pytest.mark.parametrize("array_dtype", ["float32", "float64"])
@pytest.mark.parametrize("shuffle", [False, "batch", True])
def test_array_basic_flow(array_type, array_dtype, shuffle):
    x = _make_array((34, 4), array_dtype)
    y = _make_array((34, 2), "int32")
    if array_type == "torch":
        _need_torch()
        x, y = torch.as_tensor(x), torch.as_tensor(y)
    adapter = _adapter(x, _model((4,), 2), y, batch_size=16, shuffle=shuffle)
    assert isinstance(adapter, ArrayDataAdapter)
    assert adapter.num_batches == 3
    assert adapter.batch_size == 16
    x_order, y_order, sizes = [], [], []
    for i, (bxs, bys, _) in enumerate(_copies(adapter)):
        bx, by = bxs[0], bys[0]
        assert isinstance(bx, np.ndarray) and isinstance(by, np.ndarray)
        assert bx.dtype == np.float32
        assert by.dtype == np.int32
        sizes.append(bx.shape[0])
        if shuffle != "batch":
            rows = 16 if i < 2 else 2
            assert bx.shape == (rows, 4) and by.shape == (rows, 2)
        x_batch_order = [float(bx[j, 0]) for j in range(bx.shape[0])]
        x_order.extend(x_batch_order)
        y_order.extend(float(by[j, 0]) for j in range(by.shape[0]))
        if shuffle == "batch":
            # Keras shuffles the rows within each batch and keeps the batches in order; nncore
            # keeps each batch's rows in order and shuffles the order of the batches (its
            # tests/test_training_loop.py pins that), so a batch is found by its rows.
            start = int(min(x_batch_order))
            np.testing.assert_allclose(sorted(x_batch_order),
                                       list(range(start, start + bx.shape[0])))
    assert sorted(sizes) == [2, 16, 16]
    np.testing.assert_allclose(x_order, y_order)
    if shuffle:
        assert not np.allclose(x_order, list(range(34)))
    else:
        np.testing.assert_allclose(x_order, list(range(34)))


# keras/src/trainers/data_adapters/array_data_adapter_test.py::TestArrayDataAdapter::test_multi_inputs_and_outputs
def test_array_multi_inputs_and_outputs():
    x1 = np.random.random((34, 1))
    x2 = np.random.random((34, 2))
    y1 = np.random.random((34, 3))
    y2 = np.random.random((34, 4))
    sw = np.random.random((34,))
    in1, in2 = Input((1,), name="x1"), Input((2,), name="x2")
    merged = layers.Concatenate()([in1, in2])
    model = Model([in1, in2], [layers.Dense(3)(merged), layers.Dense(4)(merged)])
    adapter = _adapter({"x1": x1, "x2": x2}, model, [y1, y2], sample_weight=sw, batch_size=16)
    for i, (bxs, bys, bw) in enumerate(_copies(adapter)):
        assert bxs[0].dtype == np.float32
        rows = 16 if i < 2 else 2
        assert bxs[0].shape == (rows, 1) and bxs[1].shape == (rows, 2)
        assert bys[0].shape == (rows, 3) and bys[1].shape == (rows, 4)
        assert bw.shape == (rows,)
        np.testing.assert_allclose(bw, sw[i * 16:i * 16 + rows])


# keras/src/trainers/data_adapters/array_data_adapter_test.py::TestArrayDataAdapter::test_class_weights
@pytest.mark.parametrize("target_encoding", ["int", "categorical"])
def test_array_class_weights(target_encoding):
    x = np.random.random((4, 2))
    if target_encoding == "int":
        y = np.array([[0], [1], [2], [3]], dtype="int32")
    else:
        y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype="float32")
    class_weight = {0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4}
    adapter = _adapter(x, _model((2,), 4), y, class_weight=class_weight, batch_size=16)
    for _, _, bw in _copies(adapter):
        np.testing.assert_allclose(bw, [0.1, 0.2, 0.3, 0.4])


# keras/src/trainers/data_adapters/array_data_adapter_test.py::TestArrayDataAdapter::test_errors
def test_array_errors():
    x = np.random.random((34, 1))
    y = np.random.random((34, 3))
    sw = np.random.random((34,))
    cw = {0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4}
    model = _model((1,), 3)
    with pytest.raises(ValueError, match="Unrecognized data type"):
        get_data_adapter("Invalid")
    # nncore reads the strings as an array and refuses its dtype
    with pytest.raises(TypeError, match="must hold numbers"):
        _adapter(x, model, y="Invalid")
    with pytest.raises(TypeError, match="must hold numbers"):
        _adapter(x, model, y, sample_weight="Invalid")
    with pytest.raises(ValueError, match="You cannot `class_weight` and `sample_weight`"):
        _adapter(x, model, y, sample_weight=sw, class_weight=cw)
    inp = Input((1,))
    two_outputs = Model(inp, [layers.Dense(1, name="a")(inp), layers.Dense(3, name="b")(inp)])
    with pytest.raises(ValueError,
                       match="`class_weight` is only supported for Models with a single"):
        _adapter(x, two_outputs, {"a": x, "b": y}, class_weight=cw)


# keras/src/trainers/data_adapters/generator_data_adapter_test.py::GeneratorDataAdapterTest::test_basic_flow
@pytest.mark.parametrize("use_sample_weight", [True, False])
@pytest.mark.parametrize("generator_type", ["np", "torch"])
def test_generator_basic_flow(use_sample_weight, generator_type):
    x = np.random.random((34, 4)).astype("float32")
    y = np.array([[i, i] for i in range(34)], dtype="float32")
    sw = np.random.random((34,)).astype("float32")
    if generator_type == "torch":
        _need_torch()
        x, y, sw = torch.as_tensor(x), torch.as_tensor(y), torch.as_tensor(sw)
    if not use_sample_weight:
        sw = None

    def make():
        for i in range(math.ceil(len(x) / 16)):
            low, high = i * 16, min(i * 16 + 16, len(x))
            if sw is not None:
                yield x[low:high], y[low:high], sw[low:high]
            else:
                yield x[low:high], y[low:high]

    adapter = _adapter(make(), _model((4,), 2))
    assert isinstance(adapter, IterableDataAdapter)
    sample_order = []
    for i, (bxs, bys, bw) in enumerate(adapter.iterator()):
        bx, by = bxs[0], bys[0]
        assert isinstance(bx, np.ndarray) and isinstance(by, np.ndarray)
        assert bx.dtype == by.dtype == np.float32
        rows = 16 if i < 2 else 2
        assert bx.shape == (rows, 4) and by.shape == (rows, 2)
        assert (bw is not None) == use_sample_weight
        sample_order.extend(float(by[j, 0]) for j in range(rows))
    np.testing.assert_allclose(sample_order, list(range(34)))


# keras/src/trainers/data_adapters/generator_data_adapter_test.py::GeneratorDataAdapterTest::test_empty_generator_raises_clear_error
def test_empty_generator_raises_clear_error():
    def generator():
        if False:
            yield

    with pytest.raises(ValueError, match="the generator must yield at least one batch"):
        get_data_adapter(generator()).sample_x()


# keras/src/trainers/data_adapters/torch_data_loader_adapter_test.py::TestTorchDataLoaderAdapter::test_basic_dataloader
@needs_torch
def test_basic_dataloader():
    x = torch.normal(2, 3, size=(34, 4))
    y = torch.normal(1, 3, size=(34, 2))
    dataloader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    adapter = _adapter(dataloader, _model((4,), 2))
    assert adapter.num_batches == 3
    for i, (bxs, bys, _) in enumerate(adapter.iterator()):
        bx, by = bxs[0], bys[0]
        assert isinstance(bx, np.ndarray) and isinstance(by, np.ndarray)
        assert bx.dtype == by.dtype == np.float32
        rows = 16 if i < 2 else 2
        assert bx.shape == (rows, 4) and by.shape == (rows, 2)


# keras/src/trainers/data_adapters/torch_data_loader_adapter_test.py::TestTorchDataLoaderAdapter::test_single_tensor_batch_preserves_structure
@needs_torch
def test_single_tensor_batch_dataloader():
    class TensorOnlyDataset(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, idx):
            return torch.tensor([idx, idx + 1, idx + 2], dtype=torch.float32)

    dataloader = torch.utils.data.DataLoader(TensorOnlyDataset(), batch_size=2)
    adapter = _adapter(dataloader, _model((3,), 1), need_y=False)
    xs, ys, _ = next(iter(adapter.iterator()))
    assert isinstance(xs[0], np.ndarray)
    assert xs[0].shape == (2, 3)
    assert ys is None


# keras/src/trainers/data_adapters/torch_data_loader_adapter_test.py::TestTorchDataLoaderAdapter::test_dataloader_iterable_dataset
@pytest.mark.parametrize("batch_size", [None, 3])
@pytest.mark.parametrize("implements_len", [True, False])
@needs_torch
def test_dataloader_iterable_dataset(batch_size, implements_len):
    class TestIterableDataset(torch.utils.data.IterableDataset):
        def __init__(self):
            self.x = torch.normal(2, 3, size=(16, 4))
            self.y = torch.normal(1, 3, size=(16, 2))

        def __iter__(self):
            for _ in range(10):
                yield (self.x, self.y)

    class TestIterableDatasetWithLen(TestIterableDataset):
        def __len__(self):
            return 10

    ds = TestIterableDatasetWithLen() if implements_len else TestIterableDataset()
    dataloader = torch.utils.data.DataLoader(ds, batch_size=batch_size)
    adapter = _adapter(dataloader, _model((16, 4) if batch_size else (4,), 2))
    if implements_len and batch_size:
        assert adapter.num_batches == math.ceil(10 / batch_size)
    elif implements_len:
        assert adapter.num_batches == 10
    else:
        assert adapter.num_batches is None
    batch_count = 0
    for i, (bxs, bys, _) in enumerate(adapter.iterator()):
        batch_count += 1
        bx, by = bxs[0], bys[0]
        assert bx.dtype == by.dtype == np.float32
        if batch_size:
            rows = batch_size if i < 3 else 10 % batch_size
            assert bx.shape == (rows, 16, 4) and by.shape == (rows, 16, 2)
        else:
            assert bx.shape == (16, 4) and by.shape == (16, 2)
    assert batch_count == (math.ceil(10 / batch_size) if batch_size else 10)


# keras/src/trainers/data_adapters/data_adapter_utils_test.py::TestClassWeightToSampleWeights::test_class_weight_to_sample_weights
# ("unmapped_class" and "all_unmapped" are left out: nncore refuses a label without a weight)
@pytest.mark.parametrize("y, class_weight, expected", [
    (np.array([0, 1, 0, 2]), {0: 1.0, 1: 2.0, 2: 3.0}, np.array([1.0, 2.0, 1.0, 3.0])),
    (np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]), {0: 1.0, 1: 2.0, 2: 3.0},
     np.array([1.0, 2.0, 1.0, 3.0])),
    (np.array([[0], [1], [0], [2]]), {0: 1.0, 1: 2.0, 2: 3.0}, np.array([1.0, 2.0, 1.0, 3.0])),
    (np.array([0, 1, 0, 2]), {"0": 1.0, "1": 2.0, "2": 3.0}, np.array([1.0, 2.0, 1.0, 3.0])),
    (np.array([0, 1, 0, 2]), {0.0: 1.0, 1.0: 2.0, 2.0: 3.0}, np.array([1.0, 2.0, 1.0, 3.0])),
], ids=["simple_class_labels", "one_hot_encoded_labels", "multi_dimensional_input",
        "string_number_keys", "float_number_keys"])
def test_class_weight_to_sample_weights(y, class_weight, expected):
    np.testing.assert_allclose(sample_weights([y], len(y), None, class_weight, "fit"), expected)


# keras/src/trainers/data_adapters/data_adapter_utils_test.py::TestClassWeightToSampleWeights::test_class_weight_to_sample_weights_invalid_key
def test_class_weight_invalid_key():
    with pytest.raises(ValueError, match="integer keys"):
        sample_weights([np.array([0, 1, 0, 2])], 4, None, {"invalid": 0.5}, "fit")


# keras/src/trainers/data_adapters/data_adapter_utils_test.py::TestClassWeightToSampleWeights::test_class_weight_to_sample_weights_non_dict
def test_class_weight_non_dict():
    with pytest.raises(ValueError, match="dict-like mapping"):
        sample_weights([np.array([0, 1, 0, 2])], 4, None, "not_a_dict", "fit")


# keras/src/trainers/data_adapters/data_adapter_utils_test.py::TestClassWeightToSampleWeights::test_class_weight_to_sample_weights_none_key
def test_class_weight_none_key():
    with pytest.raises(ValueError, match="integer keys"):
        sample_weights([np.array([0, 1, 0, 2])], 4, None, {None: 0.5}, "fit")


# keras/src/trainers/data_adapters/data_adapter_utils_test.py::TestClassWeightToSampleWeights::test_class_weight_to_sample_weights_torch_specific
@needs_torch
def test_class_weight_torch_labels():
    y = torch.from_numpy(np.array([0, 1, 0, 2]))
    np.testing.assert_allclose(sample_weights([y], 4, None, {0: 1.0, 1: 2.0, 2: 3.0}, "fit"),
                               [1.0, 2.0, 1.0, 3.0])
    y = torch.from_numpy(np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]))
    np.testing.assert_allclose(sample_weights([y], 4, None, {0: 1.0, 1: 2.0, 2: 3.0}, "fit"),
                               [1.0, 2.0, 1.0, 3.0])


# keras/src/trainers/data_adapters/data_adapter_utils_test.py::TestDataAdapterFactory::test_generator_with_y_error
def test_generator_with_y_error():
    def generator():
        yield np.ones((10, 2))

    with pytest.raises(ValueError, match="providing `x` as a generator"):
        get_data_adapter(generator(), y=np.ones((10, 1)))


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_basic_flow
def test_epoch_iterator_basic_flow():
    x = np.random.random((100, 16))
    y = np.random.random((100, 4))
    sample_weight = np.random.random((100,))
    adapter = _adapter(x, _model((16,), 4), y, sample_weight=sample_weight, batch_size=16,
                       shuffle=True)
    iterator = EpochIterator(adapter)
    steps_seen = []
    for step, batch in iterator.epoch():
        steps_seen.append(step)
        assert len(batch) == 3
        assert isinstance(batch[0][0], np.ndarray)
    assert steps_seen == [0, 1, 2, 3, 4, 5, 6]


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_insufficient_data
def test_epoch_iterator_insufficient_data():
    batch_size, steps_per_epoch = 8, 6
    dataset_size = batch_size * (steps_per_epoch - 2)
    x = np.arange(dataset_size).reshape((dataset_size, 1))
    y = x * 2
    iterator = EpochIterator(_adapter(x, _model((1,), 1), y, batch_size=batch_size),
                             steps_per_epoch)
    with pytest.warns(UserWarning, match="ran out of data"):
        steps_seen = [step for step, _ in iterator.epoch()]
    assert len(steps_seen) == steps_per_epoch - 2


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_unknown_length_input_does_not_warn
def test_epoch_iterator_unknown_length_input_does_not_warn():
    num_batches = 4

    def generator_example():
        for i in range(num_batches):
            yield np.array([[i]]), np.array([[i * 2]])

    iterator = EpochIterator(_adapter(generator_example(), _model((1,), 1)))
    assert iterator.num_batches is None
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        steps_seen = [step for step, _ in iterator.epoch()]
    iterator.close()
    assert len(steps_seen) == num_batches
    assert not [w for w in raised if "ran out of data" in str(w.message)]


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_torch_dataloader
@needs_torch
def test_epoch_iterator_torch_dataloader():
    class ExampleTorchDataset(torch.utils.data.Dataset):
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return len(self.x)

        def __getitem__(self, idx):
            return self.x[idx], self.y[idx]

    dataset = ExampleTorchDataset(np.random.random((64, 2)), np.random.random((64, 1)))
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True)
    iterator = EpochIterator(_adapter(loader, _model((2,), 1)))
    for _, (xs, ys, _) in iterator.epoch():
        assert xs[0].shape == (8, 2)
        assert ys[0].shape == (8, 1)
    iterator.close()


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_unsupported_y_arg_torch_dataloader
# and ::test_unsupported_sample_weights_arg_torch_dataloader
@needs_torch
def test_epoch_iterator_unsupported_args_torch_dataloader():
    dataset = torch.utils.data.TensorDataset(torch.rand(100, 16), torch.rand(100, 4))
    x = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True)
    with pytest.raises(ValueError, match="When providing `x` as a torch DataLoader, `y` should not"):
        get_data_adapter(x, y=np.random.random((100, 4)))
    with pytest.raises(ValueError,
                       match="When providing `x` as a torch DataLoader, `sample_weights`"):
        get_data_adapter(x, sample_weight=np.random.random((100,)))


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_python_generator_input
def test_epoch_iterator_python_generator_input():
    def generator_example():
        for i in range(100):
            yield np.array([i]), np.array([i * 2])

    assert isinstance(get_data_adapter(generator_example()), IterableDataAdapter)


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_unrecognized_data_type
def test_epoch_iterator_unrecognized_data_type():
    with pytest.raises(ValueError, match="Unrecognized data type"):
        get_data_adapter("unsupported_data")


# keras/src/trainers/epoch_iterator_test.py::TestEpochIterator::test_epoch_callbacks
@pytest.mark.parametrize("infinite", [True, False])
def test_epoch_iterator_epoch_callbacks(infinite):
    class TestPyDataset(PyDataset):
        def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10,
                     infinite=False):
            super().__init__(workers, use_multiprocessing, max_queue_size)
            self.data = np.random.rand(64, 2)
            self.batch_size = 16
            self.infinite = infinite
            self.tracker = []

        @property
        def num_batches(self):
            return None if self.infinite else len(self.data) // self.batch_size

        def on_epoch_begin(self):
            self.tracker.append(1)

        def __getitem__(self, index):
            idx = index % 2
            return self.data[idx * self.batch_size:(idx + 1) * self.batch_size]

        def on_epoch_end(self):
            self.tracker.append(2)

    ds = TestPyDataset(infinite=infinite)
    adapter = _adapter(ds, _model((2,), 1), need_y=False)
    assert isinstance(adapter, PyDatasetAdapter)
    iterator = EpochIterator(adapter, 10)
    num_epochs = 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # the finite dataset runs out each epoch
        for _ in range(num_epochs):
            for _ in iterator.epoch():
                pass
    iterator.close()
    assert ds.tracker == [1, 2] * num_epochs
