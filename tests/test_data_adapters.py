"""fit / evaluate / predict on data pipelines: generators, iterables, PyDataset, PyTorch
DataLoader — each compared with the array path on the same batches."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.utils import PyDataset


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, :3].sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return x, y


def _model(seed=1):
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(6,))
    h = L.Dense(8, activation="relu")(inp)
    out = L.Dense(1, activation="sigmoid")(h)
    m = nncore.Model(inp, out)
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def _batches(x, y, bs, w=None):
    for lo in range(0, len(x), bs):
        if w is None:
            yield x[lo:lo + bs], y[lo:lo + bs]
        else:
            yield x[lo:lo + bs], y[lo:lo + bs], w[lo:lo + bs]


class ArrayDataset(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[sl], self.y[sl]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _assert_same_weights(a, b):
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


class Batches:
    """A re-iterable of batches with a length, as a DataLoader is."""

    def __init__(self, x, y, bs):
        self.x, self.y, self.bs = x, y, bs

    def __iter__(self):
        return _batches(self.x, self.y, self.bs)

    def __len__(self):
        return -(-len(self.x) // self.bs)


@pytest.mark.parametrize("kind", ["generator", "iterable", "pydataset", "pydataset_threads"])
def test_pipelines_train_exactly_like_arrays_in_order(kind):
    x, y = _data()
    ref = _model()
    h_ref = ref.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    m = _model()
    if kind == "generator":
        def gen():
            for _ in range(3):
                yield from _batches(x, y, 16)
        h = m.fit(gen(), epochs=3, steps_per_epoch=6, verbose=0)
    elif kind == "iterable":
        h = m.fit(Batches(x, y, 16), epochs=3, verbose=0)
    else:
        ds = ArrayDataset(x, y, 16, workers=2 if kind == "pydataset_threads" else 1)
        h = m.fit(ds, epochs=3, shuffle=False, verbose=0)
        assert ds.epochs_ended == 3
    _assert_same_weights(_weights(ref), _weights(m))
    np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(h.history["accuracy"], h_ref.history["accuracy"])


def test_pydataset_shuffle_visits_every_batch_once_per_epoch():
    x, y = _data()
    seen = []

    class Recording(ArrayDataset):
        def __getitem__(self, i):
            seen.append(i)
            return super().__getitem__(i)

    ds = Recording(x, y, 16)
    _model().fit(ds, epochs=2, shuffle=True, verbose=0)
    # one extra read of batch 0 builds the input signature
    assert sorted(seen[1:7]) == list(range(6)) and sorted(seen[7:13]) == list(range(6))
    assert seen[1:7] != list(range(6)) or seen[7:13] != list(range(6))


def test_generator_with_sample_weights_and_class_weight():
    x, y = _data()
    w = np.linspace(0.1, 2.0, len(x))
    ref = _model()
    ref.fit(x, y, batch_size=32, sample_weight=w, shuffle=False, verbose=0)
    m = _model()
    m.fit(_batches(x, y, 32, w), verbose=0)
    _assert_same_weights(_weights(ref), _weights(m))
    cw = {0: 0.5, 1: 2.0}
    ref, m = _model(), _model()
    ref.fit(x, y, batch_size=32, class_weight=cw, shuffle=False, verbose=0)
    m.fit(_batches(x, y, 32), class_weight=cw, verbose=0)
    _assert_same_weights(_weights(ref), _weights(m))


def test_generator_evaluate_and_predict_match_arrays():
    x, y = _data()
    m = _model()
    want = m.evaluate(x, y, batch_size=16, verbose=0)
    got = m.evaluate(_batches(x, y, 16), verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_array_equal(m.predict(_batches(x, y, 16), verbose=0),
                                  m.predict(x, batch_size=16, verbose=0))
    # predict takes inputs-only batches too, and `steps` stops early
    got = m.predict((xb for xb in np.array_split(x, 6)), steps=2, verbose=0)
    np.testing.assert_array_equal(got, m.predict(x[:32], verbose=0))
    assert m.evaluate(_batches(x, y, 16), steps=2, verbose=0, return_dict=True)["loss"] == \
        pytest.approx(m.evaluate(x[:32], y[:32], batch_size=16, verbose=0)[0], rel=1e-6)


def test_validation_data_from_a_pydataset_and_a_generator():
    x, y = _data()
    ref = _model()
    h_ref = ref.fit(x, y, batch_size=16, epochs=2, validation_data=(x[:32], y[:32]),
                    shuffle=False, verbose=0)
    m = _model()
    h = m.fit(x, y, batch_size=16, epochs=2, validation_data=ArrayDataset(x[:32], y[:32], 16),
              shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], h_ref.history["val_loss"], rtol=1e-6)
    m = _model()
    val = (b for _ in range(2) for b in _batches(x[:32], y[:32], 16))
    h = m.fit(x, y, batch_size=16, epochs=2, validation_data=val, validation_steps=2,
              shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], h_ref.history["val_loss"], rtol=1e-6)


def test_steps_per_epoch_continues_a_generator_across_epochs():
    x, y = _data()
    got = []

    def gen():
        for k, b in enumerate(_batches(x, y, 16)):
            got.append(k)
            yield b

    m = _model()
    m.fit(gen(), epochs=3, steps_per_epoch=2, verbose=0)
    assert got == list(range(6))


def test_steps_per_epoch_on_arrays_continues_the_pass():
    x, y = _data()
    ref = _model()
    ref.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    m = _model()
    m.fit(x, y, batch_size=16, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0)
    _assert_same_weights(_weights(ref), _weights(m))


def test_generator_running_out_warns_and_stops():
    x, y = _data()
    m = _model()
    with pytest.warns(UserWarning, match="ran out"):
        h = m.fit(_batches(x, y, 16), epochs=3, steps_per_epoch=4, verbose=0)
    assert len(h.history["loss"]) == 2     # 4 + 2 batches, then nothing
    m = _model()
    with pytest.warns(UserWarning, match="ran out"):
        h = m.fit(_batches(x, y, 16), epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1


def test_empty_generator_is_an_error():
    with pytest.raises(ValueError, match="no batch"):
        _model().fit(iter([]), verbose=0)


def test_pipeline_errors_are_clear():
    x, y = _data()
    m = _model()
    with pytest.raises(ValueError, match="y cannot be passed"):
        m.fit(_batches(x, y, 16), y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight cannot be passed"):
        m.fit(ArrayDataset(x, y, 16), sample_weight=np.ones(len(x)), verbose=0)
    with pytest.raises(ValueError, match="validation_split works on arrays only"):
        m.fit(_batches(x, y, 16), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="need .x, y."):
        m.fit((xb for xb in np.array_split(x, 4)), verbose=0)
    with pytest.raises(TypeError, match="must hold numbers"):
        m.fit(iter([(np.array([["a"] * 6]), y[:1])]), verbose=0)
    with pytest.raises(nncore.ShapeError, match="expects 6 input features, got 5"):
        m.fit(iter([(np.zeros((4, 5), np.float32), y[:4])]), verbose=0)
    with pytest.raises(TypeError, match="got a str"):
        m.fit("data.npz", verbose=0)
    with pytest.raises(ValueError, match="cannot be read as an array"):
        m.fit(list(_batches(x, y, 16)), verbose=0)   # a list is arrays (Keras), not batches


def test_exception_in_a_generator_reaches_the_caller_and_stops_the_thread():
    x, y = _data()

    def gen():
        yield x[:16], y[:16]
        raise KeyError("broken record 17")

    before = {t.name for t in threading.enumerate()}
    with pytest.raises(KeyError, match="broken record 17"):
        _model().fit(gen(), epochs=1, verbose=0)
    assert not [t for t in threading.enumerate()
                if t.name == "nncore-prefetch" and t.name not in before]


def test_early_stop_closes_the_prefetch_thread():
    x, y = _data()

    def endless():
        while True:
            yield x[:16], y[:16]

    class Stop(nncore.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 3:
                self.model.stop_training = True

    _model().fit(endless(), epochs=5, steps_per_epoch=100, callbacks=[Stop()], verbose=0)
    assert not [t for t in threading.enumerate() if t.name == "nncore-prefetch"]


def test_prefetch_overlaps_loading_with_compute():
    """The next batch is prepared while the current one trains: a loader that records when it
    starts each batch is asked for batch k+1 before step k ends."""
    x, y = _data()
    events = []
    lock = threading.Lock()

    def gen():
        for k, b in enumerate(_batches(x, y, 16)):
            with lock:
                events.append(("load", k))
            yield b

    class Record(nncore.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            import time

            time.sleep(0.02)   # a slow step leaves the loader time to run ahead
            with lock:
                events.append(("step", batch))

    _model().fit(gen(), callbacks=[Record()], verbose=0)
    assert events.index(("load", 2)) < events.index(("step", 1))


def test_unbuilt_sequential_builds_from_a_generator():
    x, y = _data()
    nncore.set_seed(1)
    m = nncore.Sequential([L.Dense(4, activation="relu"), L.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy")
    m.fit(_batches(x, y, 16), verbose=0)
    assert m.built and m.layers[0].kernel.shape == (6, 4)


def test_torch_dataloader_trains_like_arrays():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    x, y = _data()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16,
                        shuffle=False)
    ref = _model()
    ref.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    m = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # a re-iterable loader never runs out
        m.fit(loader, epochs=2, verbose=0)
    _assert_same_weights(_weights(ref), _weights(m))
    np.testing.assert_array_equal(m.predict(loader, verbose=0), m.predict(x, verbose=0))
    # tensors that require grad are taken as data too
    xt = torch.from_numpy(x).requires_grad_(True)
    np.testing.assert_array_equal(m.predict(xt, verbose=0), m.predict(x, verbose=0))
