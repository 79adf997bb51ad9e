"""Image transforms behind the augmentation layers, usable on their own: per-sample affine
resampling of NHWC batches with Keras' fill modes and interpolations, and its exact adjoint.

Coordinates follow Keras: pixel centres sit at integers, ``x`` runs along the width and ``y``
along the height, and a transform ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps an *output* point
``(x, y)`` to the *input* point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with
``k = c0 x + c1 y + 1`` (``keras.ops.image.affine_transform``).

Fill modes say what lies outside the image (for the row ``a b c d``):

- ``"reflect"``: ``d c b a | a b c d | d c b a`` (mirrored about the edge of the last pixel);
- ``"wrap"``:    ``a b c d | a b c d | a b c d``;
- ``"nearest"``: ``a a a a | a b c d | d d d d``;
- ``"constant"``: ``k k k k | a b c d | k k k k`` with ``k = fill_value``.

Bilinear sampling reads the four pixels around a point of that extended image, so near the
border the fill takes part in the interpolation (as ``scipy.ndimage`` does with ``grid-``
modes). Every transform is linear in the image (plus the constant fill), so a ``Resampler``
keeps its index and weight arrays and applies both the map and its transpose; the transpose is
what ``backward`` of a layer returns.
"""

from __future__ import annotations

import numpy as np

from .errors import DTypeError, ShapeError

__all__ = [
    "FILL_MODES",
    "INTERPOLATIONS",
    "Resampler",
    "UnsupportedOptionError",
    "affine_transform",
    "flip",
    "resize_sampler",
    "rotation_transforms",
    "translation_transforms",
    "zoom_transforms",
]

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


class UnsupportedOptionError(ValueError, NotImplementedError):
    """An unknown ``fill_mode`` or ``interpolation``: Keras raises NotImplementedError for these,
    and a ValueError is what a bad argument raises elsewhere; both catch it."""


def check_fill_mode(fill_mode: str, who: str) -> str:
    if fill_mode not in FILL_MODES:
        raise UnsupportedOptionError(f"{who}: fill_mode must be one of {', '.join(map(repr, FILL_MODES))}, got {fill_mode!r}")
    return fill_mode


def check_interpolation(interpolation: str, who: str) -> str:
    if interpolation not in INTERPOLATIONS:
        raise UnsupportedOptionError(
            f"{who}: interpolation must be one of {', '.join(map(repr, INTERPOLATIONS))}, got {interpolation!r}"
        )
    return interpolation


def check_images(images, who: str) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim != 4:
        raise ShapeError(f"{who} expects a batch of images (N, H, W, C), got shape {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        raise DTypeError(f"{who} computes in float32 or float64, got dtype {x.dtype}")
    return x


def _map_index(i: np.ndarray, n: int, fill_mode: str):
    """Maps integer coordinates of the extended image into ``[0, n)``; also returns which of
    them are inside the image (only ``constant`` mode leaves points outside)."""
    if i.size > 64:
        lo, hi = int(i.min()), int(i.max())
        if hi - lo < 4 * i.size:
            # Coordinates span a short range: map that range once and look the rest up, which
            # is several times faster than np.mod over every sample.
            table, valid = _map_index_direct(np.arange(lo, hi + 1, dtype=i.dtype), n, fill_mode)
            at = i - lo
            return table[at], (None if valid is None else valid[at])
    return _map_index_direct(i, n, fill_mode)


def _map_index_direct(i: np.ndarray, n: int, fill_mode: str):
    if n == 0:
        return np.zeros_like(i), np.zeros(i.shape, dtype=bool)
    if fill_mode == "reflect":
        j = np.mod(i, 2 * n)
        return np.where(j >= n, 2 * n - 1 - j, j), None
    if fill_mode == "wrap":
        return np.mod(i, n), None
    if fill_mode == "nearest":
        return np.clip(i, 0, n - 1), None
    valid = (i >= 0) & (i < n)
    return np.clip(i, 0, n - 1), valid


class Resampler:
    """``out[m] = sum_k weight[k, m] * in[index[k, m]] + fill_value * fill_weight[m]``, over the
    rows of an NHWC batch flattened to ``(N*H*W, C)``.

    Built from the input coordinates ``src_y, src_x`` (each of shape ``(N, Ho, Wo)``) that
    every output pixel samples; ``apply`` maps images, ``adjoint`` maps gradients back (a
    scatter-add with the same weights, the exact transpose of ``apply`` without the fill).
    """

    def __init__(self, src_y, src_x, input_hw, *, fill_mode="constant", interpolation="bilinear",
                 fill_value=0.0):
        check_fill_mode(fill_mode, "Resampler")
        check_interpolation(interpolation, "Resampler")
        src_y = np.asarray(src_y, dtype=np.float64)
        src_x = np.asarray(src_x, dtype=np.float64)
        if src_y.ndim != 3 or src_y.shape != src_x.shape:
            raise ShapeError(f"Resampler: src_y and src_x must both be (N, Ho, Wo), got {src_y.shape} and {src_x.shape}")
        n, ho, wo = src_y.shape
        h, w = (int(d) for d in input_hw)
        self.batch, self.input_hw, self.output_hw = n, (h, w), (ho, wo)
        self.fill_value = float(fill_value)
        batch_row = (np.arange(n) * h).reshape(n, 1, 1)
        if interpolation == "nearest":
            # floor(s + 0.5): halves round up, like Keras' nearest sampling
            corners = [(np.floor(src_y + 0.5).astype(np.int64), np.floor(src_x + 0.5).astype(np.int64), None)]
        else:
            y0 = np.floor(src_y)
            x0 = np.floor(src_x)
            fy, fx = src_y - y0, src_x - x0
            y0 = y0.astype(np.int64)
            x0 = x0.astype(np.int64)
            corners = [
                (y0, x0, (1 - fy) * (1 - fx)),
                (y0, x0 + 1, (1 - fy) * fx),
                (y0 + 1, x0, fy * (1 - fx)),
                (y0 + 1, x0 + 1, fy * fx),
            ]
        m = n * ho * wo
        index = np.empty((len(corners), m), dtype=np.int64)
        weight = np.empty((len(corners), m), dtype=np.float64)
        outside = np.zeros(m, dtype=np.float64)
        for k, (yi, xi, wk) in enumerate(corners):
            wk = (np.ones(yi.shape) if wk is None else wk).ravel()
            my, vy = _map_index(yi, h, fill_mode)
            mx, vx = _map_index(xi, w, fill_mode)
            index[k] = ((batch_row + my) * w + mx).ravel()
            if vy is None and vx is None:
                weight[k] = wk
            else:
                valid = np.ones(yi.shape, dtype=bool)
                for v in (vy, vx):
                    if v is not None:
                        valid &= v
                valid = valid.ravel()
                weight[k] = np.where(valid, wk, 0.0)
                outside += np.where(valid, 0.0, wk)
        self.index = index
        self.weight = weight
        self._weight_as = {np.dtype(np.float64): weight}
        self.fill_weight = outside if outside.any() else None

    def _check(self, x, expect_hw, what):
        if x.ndim != 4 or x.shape[0] != self.batch or x.shape[1:3] != expect_hw:
            raise ShapeError(
                f"Resampler.{what}: expected shape ({self.batch}, {expect_hw[0]}, {expect_hw[1]}, C), got {x.shape}"
            )

    def apply(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images)
        self._check(x, self.input_hw, "apply")
        c = x.shape[3]
        rows = x.reshape(-1, c)
        dt = x.dtype
        out = np.zeros((self.index.shape[1], c), dtype=dt)
        if dt not in self._weight_as:
            self._weight_as[dt] = self.weight.astype(dt)
        weight = self._weight_as[dt]
        if rows.shape[0]:
            for k in range(self.index.shape[0]):
                out += weight[k][:, None] * np.take(rows, self.index[k], axis=0)
        if self.fill_weight is not None and self.fill_value != 0.0:
            out += (self.fill_value * self.fill_weight).astype(dt)[:, None]
        return out.reshape(self.batch, *self.output_hw, c)

    def adjoint(self, grad: np.ndarray) -> np.ndarray:
        g = np.asarray(grad)
        self._check(g, self.output_hw, "adjoint")
        c = g.shape[3]
        h, w = self.input_hw
        n_rows = self.batch * h * w
        g_rows = g.reshape(-1, c)
        out = np.empty((n_rows, c), dtype=g.dtype)
        if n_rows == 0:  # an empty image: nothing was read, so nothing flows back
            return out.reshape(self.batch, h, w, c)
        idx = self.index.ravel()
        # One bincount per channel beats np.add.at and a sort + reduceat at every channel count
        # we measured (3 and 64 channels, 32x32x32 batches).
        for ch in range(c):
            out[:, ch] = np.bincount(idx, weights=(self.weight * g_rows[:, ch]).ravel(), minlength=n_rows)
        return out.reshape(self.batch, h, w, c)


def _as_transforms(transform, n: int) -> np.ndarray:
    t = np.asarray(transform, dtype=np.float64)
    if t.ndim == 1:
        t = np.broadcast_to(t, (n, t.shape[0]))
    if t.ndim != 2 or t.shape[0] != n or t.shape[1] not in (6, 8):
        raise ShapeError(f"affine_transform: transform must be (8,), (6,), (N, 8) or (N, 6) with N={n}, got {np.shape(transform)}")
    if t.shape[1] == 6:
        t = np.concatenate([t, np.zeros((n, 2))], axis=1)
    return t


def source_coordinates(transforms: np.ndarray, output_hw) -> tuple[np.ndarray, np.ndarray]:
    """``(src_y, src_x)`` of shape (N, Ho, Wo) for per-sample 8-parameter transforms."""
    ho, wo = output_hw
    t = transforms[:, :, None, None]
    y = np.arange(ho, dtype=np.float64).reshape(1, ho, 1)
    x = np.arange(wo, dtype=np.float64).reshape(1, 1, wo)
    k = t[:, 6] * x + t[:, 7] * y + 1.0
    src_x = (t[:, 0] * x + t[:, 1] * y + t[:, 2]) / k
    src_y = (t[:, 3] * x + t[:, 4] * y + t[:, 5]) / k
    return src_y, src_x


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0):
    """Applies one transform per image (Keras ``ops.image.affine_transform`` semantics, NHWC).

    ``transform`` is ``(8,)`` or ``(N, 8)`` (``(6,)`` / ``(N, 6)`` for affine only); each maps
    output coordinates to input coordinates (see the module docstring).
    """
    x = check_images(images, "affine_transform")
    check_interpolation(interpolation, "affine_transform")
    check_fill_mode(fill_mode, "affine_transform")
    t = _as_transforms(transform, x.shape[0])
    src_y, src_x = source_coordinates(t, x.shape[1:3])
    return Resampler(src_y, src_x, x.shape[1:3], fill_mode=fill_mode, interpolation=interpolation,
                     fill_value=fill_value).apply(x)


def translation_transforms(dy, dx) -> np.ndarray:
    """Transforms that move image content by ``(dy, dx)`` pixels (positive: down / right)."""
    dy = np.asarray(dy, dtype=np.float64).ravel()
    dx = np.asarray(dx, dtype=np.float64).ravel()
    one, zero = np.ones_like(dx), np.zeros_like(dx)
    return np.stack([one, zero, -dx, zero, one, -dy, zero, zero], axis=1)


def rotation_transforms(angles, height: int, width: int) -> np.ndarray:
    """Transforms that rotate by ``angles`` radians about the image centre, counter-clockwise as
    seen on screen for positive angles (Keras' convention)."""
    a = np.asarray(angles, dtype=np.float64).ravel()
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    cos, sin = np.cos(a), np.sin(a)
    zero = np.zeros_like(a)
    # src = R(a) (p - c) + c
    return np.stack([cos, -sin, cx - cos * cx + sin * cy,
                     sin, cos, cy - sin * cx - cos * cy, zero, zero], axis=1)


def zoom_transforms(zoom_y, zoom_x, height: int, width: int) -> np.ndarray:
    """Transforms that scale about the centre: a zoom factor above 1 samples a larger region,
    so the content shrinks (zooms out), as in Keras' RandomZoom."""
    zy = np.asarray(zoom_y, dtype=np.float64).ravel()
    zx = np.asarray(zoom_x, dtype=np.float64).ravel()
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    zero = np.zeros_like(zx)
    return np.stack([zx, zero, cx * (1 - zx), zero, zy, cy * (1 - zy), zero, zero], axis=1)


def flip(images, horizontal=None, vertical=None) -> np.ndarray:
    """A copy of the batch with the images chosen by the boolean masks ``horizontal``
    (left-right) and ``vertical`` (up-down) flipped; a flip is its own adjoint."""
    x = np.asarray(images)
    if x.ndim != 4:
        raise ShapeError(f"flip expects a batch of images (N, H, W, C), got shape {x.shape}")
    out = x.copy()
    if horizontal is not None:
        h = np.asarray(horizontal, dtype=bool)
        out[h] = out[h][:, :, ::-1]
    if vertical is not None:
        v = np.asarray(vertical, dtype=bool)
        out[v] = out[v][:, ::-1]
    return out


def resize_sampler(n: int, input_hw, output_hw) -> Resampler:
    """Bilinear resizing of ``n`` images from ``input_hw`` to ``output_hw`` with half-pixel
    centres and no antialiasing (``keras.ops.image.resize``'s default): output pixel ``i`` reads
    input coordinate ``(i + 0.5) * in / out - 0.5``, points beyond the edge taking the edge."""
    (h, w), (ho, wo) = (tuple(int(d) for d in input_hw), tuple(int(d) for d in output_hw))
    sy = (np.arange(ho, dtype=np.float64) + 0.5) * (h / ho) - 0.5
    sx = (np.arange(wo, dtype=np.float64) + 0.5) * (w / wo) - 0.5
    src_y = np.broadcast_to(sy[None, :, None], (n, ho, wo))
    src_x = np.broadcast_to(sx[None, None, :], (n, ho, wo))
    return Resampler(src_y, src_x, (h, w), fill_mode="nearest", interpolation="bilinear")
