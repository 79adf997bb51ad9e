"""Figures for the seeds' experiments: training curves (``plot_history``), image batches
(``plot_image_grid``) and convolution kernels (``plot_filters``). Needs matplotlib (extra
``viz``); each function returns the Figure and saving is left to the caller
(``fig.savefig("curves.png")``)."""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from .errors import ShapeError

__all__ = ["plot_filters", "plot_history", "plot_image_grid"]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "nncore's plots need matplotlib: pip install 'nncore[viz]' (or pip install matplotlib)"
        ) from None
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        # No screen (a server, CI, ssh): draw off-screen instead of failing on a GUI backend.
        headless = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if headless and "ipykernel" not in sys.modules:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --------------------------------------------------------------------------- histories
def _history_dict(obj, what: str) -> dict:
    h = getattr(obj, "history", obj)
    if not isinstance(h, dict):
        raise TypeError(f"plot_history: {what} must be a History (with a .history dict) or a dict of lists, "
                        f"got {type(obj).__name__}")
    return h


def _is_series(v) -> bool:
    if isinstance(v, (str, bytes, dict)):
        return False
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 1


def _runs(history_or_dict) -> dict:
    """``{run_name or None: {key: list}}`` from a History, a dict of lists, or a dict of runs."""
    h = getattr(history_or_dict, "history", None)
    if isinstance(h, dict):
        return {None: h}
    if not isinstance(history_or_dict, dict):
        raise TypeError("plot_history takes a History, a dict of lists, or {run name: History | dict}, "
                        f"got {type(history_or_dict).__name__}")
    if not history_or_dict:
        raise ValueError("plot_history: the history is empty")
    if all(_is_series(v) for v in history_or_dict.values()):
        return {None: history_or_dict}
    return {str(name): _history_dict(run, f"run {name!r}") for name, run in history_or_dict.items()}


def _series(h: dict, metric: str, prefix: str = ""):
    for key in (prefix + metric, prefix + {"accuracy": "acc", "acc": "accuracy"}.get(metric, metric)):
        if key in h and len(h[key]):
            return np.asarray(h[key], dtype=np.float64)
    return None


def plot_history(history_or_dict, metrics=("loss", "accuracy"), title=None, figsize=None):
    """Training curves, one subplot per metric: training solid, validation (``val_<metric>``)
    dashed, one colour per run, epochs numbered from 1. Returns the matplotlib Figure.

    ``history_or_dict``: what ``fit`` returns (anything with a ``.history`` dict of lists), a
    plain dict of lists, or ``{run_name: history}`` to compare runs (optimizers, with and
    without augmentation, ...). ``metrics=None`` plots every recorded metric. Keras 2 logs
    named ``acc`` are found for ``accuracy``. Metrics no run recorded are left out.
    """
    runs = _runs(history_or_dict)
    if metrics is None:
        seen = []
        for h in runs.values():
            seen += [k for k in h if not k.startswith("val_") and k not in seen and k != "learning_rate"]
        metrics = seen
    elif isinstance(metrics, str):
        metrics = (metrics,)
    metrics = [m for m in metrics if any(_series(h, m) is not None or _series(h, m, "val_") is not None
                                         for h in runs.values())]
    if not metrics:
        keys = sorted({k for h in runs.values() for k in h})
        raise ValueError(f"plot_history: none of the requested metrics were recorded; the history has {keys}")

    plt = _pyplot()
    n = len(metrics)
    fig, axes = plt.subplots(1, n, figsize=figsize or (5.5 * n, 4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for ax, metric in zip(axes[0], metrics):
        for i, (name, h) in enumerate(runs.items()):
            colour = colours[i % len(colours)]
            for prefix, style, part in (("", "-", "train"), ("val_", "--", "validation")):
                y = _series(h, metric, prefix)
                if y is None:
                    continue
                label = part if name is None else f"{name} ({part})"
                ax.plot(np.arange(1, len(y) + 1), y, linestyle=style, color=colour, label=label)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
        # whole epochs on the x axis
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- images
def _grid_figure(tiles, titles, ncols, cmap, title, figsize, vrange, annotate=False):
    plt = _pyplot()
    n = len(tiles)
    ncols = min(int(ncols) if ncols else math.ceil(math.sqrt(n)), n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize or (1.8 * ncols, 1.8 * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= n:
            continue
        img = tiles[i]
        vmin, vmax = vrange[i]
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None, vmin=vmin, vmax=vmax, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
        if annotate and img.ndim == 2:
            mid = (vmin + vmax) / 2 if vmin is not None else img.mean()
            for (r, c), v in np.ndenumerate(img):
                ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=8,
                        color="black" if v > mid else "white")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _display_range(img: np.ndarray, rescale):
    """(image ready for imshow, (vmin, vmax)) following ``rescale``."""
    if img.dtype == np.uint8 and rescale != True:  # noqa: E712 (True, not truthy "auto")
        return img, (0, 255)
    img = img.astype(np.float64)
    lo, hi = float(img.min()), float(img.max())
    if rescale == "auto":
        rescale = lo < 0 or hi > 1
    if rescale:
        if img.ndim == 3:  # RGB: imshow takes [0, 1]
            return (img - lo) / (hi - lo) if hi > lo else np.full_like(img, 0.5), (None, None)
        return img, (lo, hi if hi > lo else lo + 1)
    return np.clip(img, 0, 1), (0.0, 1.0)


def plot_image_grid(images, titles=None, ncols=None, cmap="gray", rescale="auto", title=None, figsize=None):
    """A grid of images, one subplot each (axes hidden); returns the Figure.

    ``images``: (N, H, W) grayscale, (N, H, W, 1) or (N, H, W, 3) RGB, or a list of such images.
    uint8 is shown as 0..255; floats as [0, 1], or — with ``rescale="auto"`` when they leave
    that range, or always with ``rescale=True`` — stretched per image from min to max.
    ``titles``: one per image (e.g. class names); ``ncols`` defaults to ``ceil(sqrt(N))``.
    """
    x = [np.asarray(img) for img in images] if isinstance(images, (list, tuple)) else np.asarray(images)
    if isinstance(x, np.ndarray):
        if x.ndim not in (3, 4):
            raise ShapeError(f"plot_image_grid expects (N, H, W) or (N, H, W, C) images, got shape {x.shape}")
        x = list(x)
    if not x:
        raise ShapeError("plot_image_grid needs at least one image")
    tiles, ranges = [], []
    for i, img in enumerate(x):
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
            raise ShapeError(f"plot_image_grid: image {i} has shape {img.shape}; expected (H, W), (H, W, 1) or (H, W, 3)")
        shown, rng = _display_range(img, rescale)
        tiles.append(shown)
        ranges.append(rng)
    if titles is not None and len(titles) != len(tiles):
        raise ValueError(f"plot_image_grid: {len(titles)} titles for {len(tiles)} images")
    return _grid_figure(tiles, titles, ncols, cmap, title, figsize, ranges)


def _kernels(weights) -> np.ndarray:
    """Conv kernels as an array, from a layer (its first weight), a Variable, or an array."""
    if hasattr(weights, "get_weights") and not isinstance(weights, np.ndarray):
        got = weights.get_weights()
        if not got:
            raise ValueError("plot_filters: the layer has no weights (is it built?)")
        weights = got[0]
    elif hasattr(weights, "value") and not isinstance(weights, np.ndarray):
        weights = weights.value
    return np.asarray(weights)


def plot_filters(weights, channel=None, titles=None, ncols=None, cmap="gray", annotate=None, title=None,
                 figsize=None):
    """Convolution kernels as images; returns the Figure.

    ``weights``: a Conv2D kernel in Keras' HWIO layout ``(kh, kw, in, out)`` (or the layer, or its
    Variable), a stack of 2-D kernels ``(n, kh, kw)``, or a single kernel ``(kh, kw)``. An HWIO
    kernel with 3 input channels is shown as one RGB image per filter; otherwise each
    (input, output) pair gets a tile, rows by input channel, unless ``channel`` picks one input
    channel. Each tile is stretched from its own minimum to maximum; ``annotate`` writes the
    values in the cells (default: for kernels of at most 5x5).
    """
    w = _kernels(weights)
    if w.ndim == 2:
        tiles, default_titles = [w], None
    elif w.ndim == 3:
        tiles, default_titles = list(w), [str(i) for i in range(w.shape[0])]
    elif w.ndim == 4:
        kh, kw, cin, cout = w.shape
        if channel is not None:
            if not 0 <= channel < cin:
                raise ValueError(f"plot_filters: channel {channel} out of range for {cin} input channels")
            tiles = [w[:, :, channel, o] for o in range(cout)]
            default_titles = [str(o) for o in range(cout)]
        elif cin == 3:
            tiles = [w[:, :, :, o] for o in range(cout)]
            default_titles = [str(o) for o in range(cout)]
        else:
            tiles = [w[:, :, i, o] for i in range(cin) for o in range(cout)]
            default_titles = [f"{i}->{o}" if cin > 1 else str(o) for i in range(cin) for o in range(cout)]
            if cin > 1:
                ncols = ncols or cout  # one row per input channel
    else:
        raise ShapeError(f"plot_filters expects (kh, kw), (n, kh, kw) or HWIO (kh, kw, in, out) kernels, got shape {w.shape}")
    if titles is not None and len(titles) != len(tiles):
        raise ValueError(f"plot_filters: {len(titles)} titles for {len(tiles)} kernels")
    if annotate is None:
        annotate = tiles[0].ndim == 2 and tiles[0].size <= 25
    shown, ranges = [], []
    for t in tiles:
        s, r = _display_range(np.asarray(t, dtype=np.float64), True)
        shown.append(s)
        ranges.append(r)
    return _grid_figure(shown, titles if titles is not None else default_titles, ncols, cmap, title, figsize,
                        ranges, annotate=annotate)
