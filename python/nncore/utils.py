"""Small array utilities of the Keras API (``to_categorical``, ``normalize``), ``image_grid``,
which tiles a batch of images into one array for saving or display, and ``PyDataset``."""

from __future__ import annotations

import math

import numpy as np

from .errors import ShapeError
from .trainers.data_adapters.py_dataset import PyDataset

__all__ = ["PyDataset", "image_grid", "normalize", "to_categorical"]


def to_categorical(y, num_classes=None, dtype="float32") -> np.ndarray:
    """One-hot encodes class indices, as ``keras.utils.to_categorical``.

    ``y`` holds integers in ``[0, num_classes)`` of any shape; a trailing dimension of size 1
    is dropped, so labels of shape ``(N,)`` and ``(N, 1)`` (Keras' CIFAR-10 labels) both give
    ``(N, num_classes)``. ``num_classes=None`` (or 0, as in Keras) takes ``max(y) + 1``. The
    result is float32 by default (Keras 3 gives float64 for NumPy labels; ``dtype=`` chooses,
    as Keras 2's argument did). Float labels are accepted
    when they are whole numbers; anything else (negative, too large, fractional) is an error
    rather than a silently wrong encoding.
    """
    arr = np.asarray(y)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"to_categorical: labels must be integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("to_categorical: float labels must be whole numbers")
    labels = arr.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None or (not isinstance(num_classes, bool) and num_classes == 0):
        if flat.size == 0:
            raise ValueError("to_categorical: cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(flat.max()) + 1
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive int, got {num_classes!r}")
    num_classes = int(num_classes)
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        bad = flat[(flat < 0) | (flat >= num_classes)][0]
        raise ValueError(f"to_categorical: label {bad} is outside [0, {num_classes}) (num_classes={num_classes})")
    out = np.zeros((flat.size, num_classes), dtype=np.dtype(dtype))
    out[np.arange(flat.size), flat] = 1
    return out.reshape(*shape, num_classes)


def normalize(x, axis=-1, order=2) -> np.ndarray:
    """Scales ``x`` to unit ``order``-norm along ``axis`` (``keras.utils.normalize``); slices of
    norm zero stay zero."""
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    norm = np.atleast_1d(np.linalg.norm(arr, ord=order, axis=axis, keepdims=True))
    norm[norm == 0] = 1
    return arr / norm


def _rescale_each(images: np.ndarray) -> np.ndarray:
    """Per-image min-max scaling to [0, 1] (a constant image becomes 0.5)."""
    axes = tuple(range(1, images.ndim))
    lo = images.min(axis=axes, keepdims=True)
    hi = images.max(axis=axes, keepdims=True)
    span = hi - lo
    out = np.where(span > 0, (images - lo) / np.where(span > 0, span, 1), 0.5)
    return out


def image_grid(images, ncols=None, padding=1, pad_value=0.0, rescale=False) -> np.ndarray:
    """Tiles ``images`` (N, H, W) or (N, H, W, C) into one array (rows*H + gaps, cols*W + gaps[, C]).

    ``ncols`` defaults to ``ceil(sqrt(N))``; ``padding`` pixels of ``pad_value`` separate and
    surround the tiles; ``rescale=True`` maps each image to [0, 1] first (for filters or
    activations, whose range is arbitrary). Empty cells of the last row are ``pad_value``.
    """
    x = np.asarray(images)
    if x.ndim not in (3, 4):
        raise ShapeError(f"image_grid expects images (N, H, W) or (N, H, W, C), got shape {x.shape}")
    n = x.shape[0]
    if n == 0:
        raise ShapeError("image_grid needs at least one image")
    if isinstance(padding, bool) or int(padding) != padding or padding < 0:
        raise ValueError(f"image_grid: padding must be a non-negative int, got {padding!r}")
    padding = int(padding)
    if rescale:
        x = _rescale_each(x.astype(np.float64))
    ncols = int(ncols) if ncols else math.ceil(math.sqrt(n))
    if ncols < 1:
        raise ValueError(f"image_grid: ncols must be positive, got {ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    h, w = x.shape[1:3]
    out_shape = (nrows * (h + padding) + padding, ncols * (w + padding) + padding) + x.shape[3:]
    dt = x.dtype
    if np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        if not (float(pad_value).is_integer() and info.min <= pad_value <= info.max):
            dt = np.dtype(np.float64)  # keep uint8 images uint8 unless the gap colour needs more
    grid = np.full(out_shape, pad_value, dtype=dt)
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = x[i]
    return grid
