"""IoU metrics: cases ported from Keras 3's keras/src/metrics/iou_metrics_test.py (named after the
test they come from), a loop-by-loop reference over random inputs, and Keras itself when it is
importable."""

import importlib.util
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import metrics
from nncore.errors import ShapeError


def _reference(y_true, y_pred, weights, num_classes, targets, ignore_class=None):
    """Confusion matrix one pair at a time, then the mean IoU over the targets that occurred."""
    cm = np.zeros((num_classes, num_classes))
    for t, p, w in zip(y_true, y_pred, weights):
        if not (0 <= t < num_classes and 0 <= p < num_classes) or t == ignore_class:
            continue
        cm[t, p] += w
    ious = []
    for c in targets:
        union = cm[c, :].sum() + cm[:, c].sum() - cm[c, c]
        if union > 1e-9:
            ious.append(cm[c, c] / union)
    return sum(ious) / len(ious) if ious else 0.0


# IoUTest.test_config
def test_iou_config_round_trip():
    obj = metrics.IoU(num_classes=2, target_class_ids=[1, 0], name="iou_class_1_0")
    obj2 = metrics.IoU.from_config(obj.get_config())
    assert (obj2.name, obj2.num_classes, obj2.target_class_ids) == ("iou_class_1_0", 2, [1, 0])
    assert metrics.IoU(3, [1]).name == "io_u"
    assert metrics.MeanIoU(3).name == "mean_io_u"
    assert metrics.OneHotMeanIoU(3).name == "one_hot_mean_io_u"


# IoUTest.test_unweighted / test_weighted / test_multi_dim_input
def test_iou_unweighted_weighted_multi_dim():
    assert metrics.IoU(2, [0, 1])([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(1 / 3, abs=1e-6)
    obj = metrics.IoU(num_classes=2, target_class_ids=[1, 0], dtype="float32")
    got = obj(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1], np.float32),
              sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))
    assert got == pytest.approx((0.1 / 0.8 + 0.2 / 0.9) / 2, abs=1e-6)
    obj = metrics.IoU(num_classes=2, target_class_ids=[0, 1], dtype="float32")
    got = obj(np.array([[0, 0], [1, 1]]), np.array([[0, 1], [0, 1]], np.float32),
              sample_weight=np.array([[0.2, 0.3], [0.4, 0.1]]))
    assert got == pytest.approx((0.2 / 0.9 + 0.1 / 0.8) / 2, abs=1e-6)


# IoUTest.test_zero_valid_entries / test_zero_and_non_zero_entries
def test_iou_zero_and_single_entries():
    assert metrics.IoU(2, [0, 1]).result() == 0.0
    assert metrics.IoU(2, [0, 1])(np.array([1]), np.array([1], np.float32)) == \
        pytest.approx(1.0, abs=1e-6)


# IoUTest.test_out_of_range_* / test_negative_* / test_absent_class_contributes_zero
@pytest.mark.parametrize("y_true,y_pred", [([0, 2], [0, 1]), ([0, 1], [0, 2]),
                                           ([-1, 0], [0, 0]), ([0, 1], [-1, 1])])
def test_iou_out_of_range_labels_are_left_out(y_true, y_pred):
    obj = metrics.IoU(2, [0, 1])
    obj.update_state(y_true, y_pred)
    assert obj.result() == pytest.approx(1.0, abs=1e-6)


def test_iou_absent_class_contributes_zero():
    got = metrics.IoU(num_classes=4, target_class_ids=[0, 1, 2, 3])([0, 0, 1, 1], [0, 1, 0, 1])
    assert got == pytest.approx(1 / 3, abs=1e-6)


# BinaryIoUTest.test_config / test_different_thresholds_* / test_multi_dim_input
def test_binary_iou():
    obj = metrics.BinaryIoU(target_class_ids=[1, 0], threshold=0.1, name="iou_class_1_0")
    obj2 = metrics.BinaryIoU.from_config(obj.get_config())
    assert (obj2.name, obj2.threshold, obj2.target_class_ids) == ("iou_class_1_0", 0.1, [1, 0])
    y_true, y_pred = [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]
    got = metrics.BinaryIoU([0, 1], threshold=0.3, dtype="float32")(
        y_true, y_pred, sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))
    assert got == pytest.approx((0.2 / 0.9 + 0.1 / 0.8) / 2, abs=1e-6)
    got = metrics.BinaryIoU([0, 1], threshold=0.5, dtype="float32")(
        y_true, y_pred, sample_weight=np.array([0.1, 0.2, 0.4, 0.3]))
    assert got == pytest.approx((0.5 / 0.7 + 0.3 / 0.5) / 2, abs=1e-6)
    assert metrics.BinaryIoU([0, 1], threshold=0.3)(y_true, y_pred) == pytest.approx(1 / 3)
    assert metrics.BinaryIoU([0, 1], threshold=0.5)(y_true, y_pred) == \
        pytest.approx((2 / 3 + 1 / 2) / 2, abs=1e-6)
    got = metrics.BinaryIoU([0, 1], threshold=0.4, dtype="float32")(
        np.array([[0, 1], [0, 1]], np.float32), np.array([[0.1, 0.7], [0.9, 0.3]]),
        sample_weight=np.array([[0.2, 0.3], [0.4, 0.1]]))
    assert got == pytest.approx((0.2 / 0.7 + 0.3 / 0.8) / 2, abs=1e-6)


# MeanIoUTest.test_unweighted_ignore_class_255 / test_unweighted_ignore_class_1
@pytest.mark.parametrize("ignored", [255, -1])
def test_mean_iou_ignore_class(ignored):
    got = metrics.MeanIoU(num_classes=3, ignore_class=ignored)([0, 1, 2, ignored], [0, 1, 1, 1])
    assert got == pytest.approx((1 + 1 / 2 + 0) / 3, abs=1e-6)


# MeanIoUTest.test_big_chunk (its integer half: the int32 matrix counts exactly)
def test_mean_iou_big_chunk_counts_exactly():
    rng = np.random.default_rng(14)
    y_true = rng.integers(0, 3, size=(4, 300, 300))
    y_pred = rng.integers(0, 3, size=(4, 300, 300))
    obj = metrics.MeanIoU(num_classes=3)
    start = np.array([[18729664, 18728760, 18731196], [18727297, 18726105, 18728071],
                      [18727917, 18717835, 18723155]])
    obj.total_cm = start.astype(np.int32)
    obj.update_state(y_true, y_pred)
    manual = np.bincount((y_true * 3 + y_pred).ravel(), minlength=9).reshape(3, 3) + start
    np.testing.assert_array_equal(obj.total_cm, manual)


# MeanIoUTest.test_user_warning_float_weight
def test_mean_iou_warns_on_float_weights_with_int_matrix():
    with pytest.warns(UserWarning, match=r"weight.*float.*int.*casting"):
        metrics.MeanIoU(num_classes=3)([0, 1, 1, 0], [0, 1, 1, 1],
                                       sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))


# OneHotIoUTest / OneHotMeanIoUTest
def test_one_hot_iou_and_mean_iou():
    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    assert metrics.OneHotIoU(3, [0, 2])(y_true, y_pred) == pytest.approx(1 / 6, abs=1e-6)
    got = metrics.OneHotIoU(3, [0, 2], dtype="float32")(y_true, y_pred,
                                                        sample_weight=[0.1, 0.2, 0.3, 0.4])
    assert got == pytest.approx(0.1 / 0.7 / 2, abs=1e-6)
    assert metrics.OneHotMeanIoU(3)(y_true, y_pred) == pytest.approx(1 / 9, abs=1e-6)
    y_true = np.vstack([y_true, [1, 0, 0]])
    y_pred = np.vstack([y_pred, [0.6, 0.2, 0.2]])
    got = metrics.OneHotMeanIoU(3, dtype="float32")(y_true, y_pred,
                                                    sample_weight=[0.1, 0.2, 0.3, 0.3, 0.1])
    assert got == pytest.approx((0.1 / 0.9 + 0.1 / 0.6) / 3, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 40), st.integers(0, 2**31 - 1), st.booleans(),
       st.booleans())
def test_iou_matches_reference(num_classes, n, seed, weighted, with_ignore):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(-1, num_classes + 1, size=n)
    y_pred = rng.integers(-1, num_classes + 1, size=n)
    w = rng.random(n) if weighted else np.ones(n)
    targets = sorted(set(rng.integers(0, num_classes, size=rng.integers(1, num_classes + 1))))
    ignore = int(rng.integers(0, num_classes)) if with_ignore else None
    obj = metrics.IoU(num_classes, targets, dtype="float64", ignore_class=ignore)
    half = n // 2
    obj.update_state(y_true[:half], y_pred[:half], sample_weight=w[:half] if weighted else None)
    obj.update_state(y_true[half:], y_pred[half:], sample_weight=w[half:] if weighted else None)
    expected = _reference(y_true, y_pred, w, num_classes, targets, ignore)
    assert obj.result() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    obj.reset_state()
    assert obj.result() == 0.0


def test_iou_bad_input_is_named():
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(2, [2])
    with pytest.raises(ValueError, match="num_classes"):
        metrics.MeanIoU(0)
    with pytest.raises(ShapeError, match="different numbers of labels"):
        metrics.MeanIoU(2).update_state([0, 1, 1], [0, 1])
    with pytest.raises(ShapeError, match="sample_weight"):
        metrics.MeanIoU(2).update_state([0, 1, 1], [0, 1, 0], sample_weight=[1, 2])
    with pytest.raises(ValueError, match="NaN"):
        metrics.MeanIoU(2).update_state([0, 1], [0.0, np.nan])
    with pytest.raises(ShapeError, match="axis"):
        metrics.OneHotMeanIoU(2, axis=3).update_state(np.eye(2), np.eye(2))


def test_mean_iou_in_compile_fit_and_by_config():
    # IoUTest.test_compilation: a MeanIoU object in compile, through fit and evaluate.
    model = nncore.Sequential([nncore.layers.Input((2,)),
                               nncore.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="mse",
                  metrics=[metrics.OneHotMeanIoU(num_classes=2)])
    x = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert "one_hot_mean_io_u" in history.history
    scores = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = _reference(y.argmax(-1), model.predict(x, verbose=0).argmax(-1), np.ones(4), 2,
                          [0, 1])
    assert scores["one_hot_mean_io_u"] == pytest.approx(expected, abs=1e-6)
    restored = metrics.deserialize(metrics.serialize(metrics.MeanIoU(4, ignore_class=0)))
    assert isinstance(restored, metrics.MeanIoU)
    assert (restored.num_classes, restored.ignore_class) == (4, 0)


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="Keras is not installed")
@pytest.mark.parametrize("seed", range(4))
def test_iou_matches_keras(seed, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("this comparison runs Keras on its torch backend")
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, size=(6, 5, 5))
    scores = rng.random((6, 5, 5, 4)).astype(np.float32)
    ours = metrics.MeanIoU(4, sparse_y_pred=False, ignore_class=3)
    theirs = keras.metrics.MeanIoU(4, sparse_y_pred=False, ignore_class=3)
    for part in (slice(0, 3), slice(3, 6)):
        ours.update_state(y_true[part], scores[part])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.update_state(y_true[part], scores[part])
    np.testing.assert_array_equal(ours.total_cm, np.asarray(theirs.total_cm))
    assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-5)


def test_iou_metrics_survive_a_keras_archive(tmp_path):
    # The matrix dtype (int32 by default) is a metric setting, kept through config.json.
    pytest.importorskip("h5py")
    model = nncore.Sequential([nncore.layers.Input((4,)),
                               nncore.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[metrics.OneHotMeanIoU(3), metrics.IoU(3, [1], dtype="float32")])
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = nncore.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).random((9, 4))
    y = np.eye(3)[np.arange(9) % 3]
    assert restored.evaluate(x, y, verbose=0, return_dict=True) == \
        pytest.approx(model.evaluate(x, y, verbose=0, return_dict=True), abs=1e-6)
    assert [type(m).__name__ for m in restored.metrics] == ["OneHotMeanIoU", "IoU"]
