"""Figures: number of axes, lines, styles and labels (Agg backend, nothing is shown)."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib (extra 'viz') is not installed")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import nncore  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FakeHistory:
    def __init__(self, **series):
        self.history = series


def shown(fig):
    """The axes that hold an image (a grid hides the spare cells of its last row)."""
    return [ax for ax in fig.axes if ax.get_images()]


def lines_by_label(ax):
    return {ln.get_label(): ln for ln in ax.get_lines()}


def test_single_history_object():
    h = FakeHistory(loss=[1.0, 0.8, 0.7], accuracy=[0.5, 0.6, 0.7], val_loss=[1.1, 0.9, 0.95],
                    val_accuracy=[0.45, 0.55, 0.6], learning_rate=[0.001] * 3)
    fig = nncore.plot_history(h, title="run")
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"
    lines = lines_by_label(loss_ax)
    assert set(lines) == {"train", "validation"}
    assert lines["train"].get_linestyle() == "-" and lines["validation"].get_linestyle() == "--"
    assert lines["train"].get_color() == lines["validation"].get_color()
    np.testing.assert_array_equal(lines["train"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["validation"].get_ydata(), [1.1, 0.9, 0.95])
    assert loss_ax.get_legend() is not None and loss_ax.get_xlabel() == "epoch"
    assert fig._suptitle.get_text() == "run"


def test_several_runs_share_colour_per_run():
    runs = {
        "sgd": FakeHistory(loss=[2, 1], val_loss=[2.1, 1.5], accuracy=[0.1, 0.2], val_accuracy=[0.1, 0.15]),
        "adam": {"loss": [1.5, 0.5], "val_loss": [1.6, 0.9], "accuracy": [0.3, 0.4], "val_accuracy": [0.2, 0.3]},
    }
    fig = nncore.plot_history(runs)
    assert len(fig.axes) == 2
    lines = lines_by_label(fig.axes[0])
    assert set(lines) == {"sgd (train)", "sgd (validation)", "adam (train)", "adam (validation)"}
    assert lines["sgd (train)"].get_color() == lines["sgd (validation)"].get_color()
    assert lines["adam (train)"].get_color() == lines["adam (validation)"].get_color()
    assert lines["sgd (train)"].get_color() != lines["adam (train)"].get_color()


def test_metric_selection():
    d = {"loss": [1, 0.5], "acc": [0.2, 0.4]}  # Keras 2 spelling, no validation
    fig = nncore.plot_history(d)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert set(lines_by_label(fig.axes[1])) == {"train"}
    fig = nncore.plot_history({"loss": [1], "mae": [2], "val_mae": [3]}, metrics=None)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    fig = nncore.plot_history({"loss": [1, 2]}, metrics="loss")
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="none of the requested metrics"):
        nncore.plot_history({"loss": [1]}, metrics=("accuracy",))
    with pytest.raises(TypeError):
        nncore.plot_history([1, 2, 3])


def test_image_grid_figure():
    imgs = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    fig = nncore.plot_image_grid(imgs, titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
    assert len(fig.axes[0].get_images()) == 1 and len(fig.axes[5].get_images()) == 0
    gray = nncore.plot_image_grid(np.random.default_rng(0).normal(size=(4, 6, 6, 1)))
    assert len(gray.axes) == 4 and gray.axes[0].get_images()[0].get_array().ndim == 2
    with pytest.raises(ValueError, match="2 titles for 5 images"):
        nncore.plot_image_grid(imgs, titles=["a", "b"])


def test_filters_figure():
    hwio = np.random.default_rng(1).normal(size=(3, 3, 1, 8))
    fig = nncore.plot_filters(hwio)
    assert len(shown(fig)) == 8 and len(fig.axes) == 9  # 3x3 grid
    assert len(fig.axes[0].texts) == 9  # values written into the 3x3 cells
    rgb = nncore.plot_filters(np.random.default_rng(2).normal(size=(5, 5, 3, 4)), annotate=False)
    assert len(shown(rgb)) == 4 and rgb.axes[0].get_images()[0].get_array().shape == (5, 5, 3)
    multi = nncore.plot_filters(np.zeros((3, 3, 2, 4)))
    assert len(shown(multi)) == 8 and multi.axes[5].get_title() == "1->1"
    stack = nncore.plot_filters(np.stack([np.eye(3), -np.eye(3)]), titles=["id", "neg"])
    assert [ax.get_title() for ax in stack.axes] == ["id", "neg"]

    class Var:
        value = hwio

    assert len(shown(nncore.plot_filters(Var(), channel=0))) == 8
