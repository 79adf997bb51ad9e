"""Data augmentation layers (Keras 3 names, arguments and semantics; NHWC float batches).

They transform only when called with ``training=True`` and pass the input through unchanged
otherwise (``RandomCrop`` then takes the centre window, as in Keras). Each layer draws from its
own generator: ``seed=None`` takes a seed from ``nncore.random`` when the layer is created, so
``nncore.set_seed(n)`` before building a model makes its augmentation repeatable. ``backward``
returns the exact adjoint of the transform applied by the last ``forward`` (flipped gradients,
scatter-added bilinear weights), so the layers may sit anywhere in a model.
"""

from __future__ import annotations

import math

import numpy as np

from .. import augmentation as aug
from ..errors import ShapeError
from ..random import make_generator
from ..serialization import register
from .base import Layer

__all__ = ["GaussianNoise", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom"]

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


def _factor_range(factor, name: str, who: str, lowest: float = -1.0, highest: float = 1.0):
    """Keras' factor argument: ``f`` means ``(-f, f)``; a pair is ``(lower, upper)``."""
    if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
        lo, hi = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2:
        lo, hi = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"{who}: {name} must be a float or a pair (lower, upper), got {factor!r}")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{who}: {name} must be finite with lower <= upper, got {factor!r}")
    if lo < lowest or hi > highest:
        raise ValueError(f"{who}: {name} values must lie in [{lowest}, {highest}], got {factor!r}")
    return lo, hi


class _RandomImageLayer(Layer):
    """Common part: the seed and generator, the NHWC input check, identity outside training."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be None or a non-negative int, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._rng = make_generator(self.seed)

    def _who(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self._who()} expects images (batch, height, width, channels), got shape {tuple(input_shape)}")
        return tuple(input_shape)

    def _input(self, x) -> np.ndarray:
        return aug.check_images(x, self._who())

    def backward(self, grad_out):
        transform = self._cache
        if transform is None:  # identity in the last forward
            return grad_out
        if not getattr(self, "needs_input_grad", True):
            return None
        return transform(np.asarray(grad_out))

    # The generator's position, as Dropout exposes it: a saved model resumes the same sequence of
    # transforms, and gradcheck replays one transform for every perturbed forward pass.
    def get_rng_state(self):
        return self._rng.bit_generator.state

    def set_rng_state(self, state):
        self._rng.bit_generator.state = state

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


class _AffineLayer(_RandomImageLayer):
    """A per-sample affine resampling with Keras' fill_mode / interpolation / fill_value."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.fill_mode = aug.check_fill_mode(fill_mode, type(self).__name__)
        self.interpolation = aug.check_interpolation(interpolation, type(self).__name__)
        self.fill_value = float(fill_value)

    def _transforms(self, n: int, h: int, w: int) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x, training=False):
        x = self._input(x)
        if not training:
            self._cache = None
            return x
        n, h, w, _ = x.shape
        t = self._transforms(n, h, w)
        src_y, src_x = aug.source_coordinates(t, (h, w))
        sampler = aug.Resampler(src_y, src_x, (h, w), fill_mode=self.fill_mode,
                                interpolation=self.interpolation, fill_value=self.fill_value)
        self._cache = sampler.adjoint
        return sampler.apply(x)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


@register("layer")
class RandomFlip(_RandomImageLayer):
    """Flips each image left-right and/or up-down with probability 1/2 while training.

    ``mode``: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (the Keras
    default; the two flips are drawn independently).
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got {mode!r}"
            )
        self.mode = mode

    def forward(self, x, training=False):
        x = self._input(x)
        if not training:
            self._cache = None
            return x
        n = x.shape[0]
        h = self._rng.random(n) < 0.5 if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL) else None
        v = self._rng.random(n) < 0.5 if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL) else None
        self._cache = lambda g: aug.flip(g, h, v)
        return aug.flip(x, h, v)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


@register("layer")
class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its size while training.

    ``height_factor`` / ``width_factor``: a float ``f`` (shift drawn from ``[-f, f]`` times the
    height / width) or a pair ``(lower, upper)``; negative shifts move the content up / left.
    Shifts are not rounded: with ``interpolation="bilinear"`` a fractional shift blends
    neighbours. ``fill_mode`` (``"reflect"`` by default), ``fill_value``: see
    ``nncore.augmentation``.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._h_range = _factor_range(height_factor, "height_factor", "RandomTranslation")
        self._w_range = _factor_range(width_factor, "width_factor", "RandomTranslation")

    def _transforms(self, n, h, w):
        dy = self._rng.uniform(*self._h_range, size=n) * h
        dx = self._rng.uniform(*self._w_range, size=n) * w
        return aug.translation_transforms(dy, dx)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": _plain(self.height_factor),
                "width_factor": _plain(self.width_factor)}


@register("layer")
class RandomRotation(_AffineLayer):
    """Rotates each image about its centre by a random angle while training.

    ``factor``: a fraction of a full turn, a float ``f`` (angle drawn from ``[-f, f] * 2*pi``)
    or a pair ``(lower, upper)``; positive angles turn counter-clockwise.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.factor = factor
        self._range = _factor_range(factor, "factor", "RandomRotation", -math.inf, math.inf)

    def _transforms(self, n, h, w):
        angles = self._rng.uniform(*self._range, size=n) * 2.0 * math.pi
        return aug.rotation_transforms(angles, h, w)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": _plain(self.factor)}


@register("layer")
class RandomZoom(_AffineLayer):
    """Zooms each image in or out about its centre while training.

    ``height_factor``: a float ``f`` (zoom drawn from ``[-f, f]``) or a pair ``(lower,
    upper)``; the sampled region is ``1 + zoom`` times the image, so positive values zoom out
    and negative values zoom in (Keras' convention). ``width_factor=None`` keeps the aspect
    ratio (the same zoom for both axes); otherwise it is drawn separately.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        # 1 + zoom must stay positive, so -1 itself is excluded below.
        self._h_range = _factor_range(height_factor, "height_factor", "RandomZoom", -1.0, math.inf)
        self._w_range = (None if width_factor is None
                         else _factor_range(width_factor, "width_factor", "RandomZoom", -1.0, math.inf))
        for r, name in ((self._h_range, "height_factor"), (self._w_range, "width_factor")):
            if r is not None and r[0] <= -1.0:
                raise ValueError(f"RandomZoom: {name} must be greater than -1, got {r[0]}")

    def _transforms(self, n, h, w):
        zy = 1.0 + self._rng.uniform(*self._h_range, size=n)
        zx = zy if self._w_range is None else 1.0 + self._rng.uniform(*self._w_range, size=n)
        return aug.zoom_transforms(zy, zx, h, w)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": _plain(self.height_factor),
                "width_factor": _plain(self.width_factor)}


# nncore's fill modes (augmentation.py) as numpy.pad modes: "reflect" repeats the edge pixel.
_PAD_MODES = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge", "constant": "constant"}


@register("layer")
class RandomCrop(_RandomImageLayer):
    """Crops a random ``height x width`` window while training, the centre window otherwise.

    ``padding`` (an int or ``(pad_height, pad_width)``, default 0) first pads each side, which
    gives the "crop with padding" of CIFAR-10 training: ``RandomCrop(32, 32, padding=4)`` pads a
    32x32 image to 40x40 with zeros and takes a random 32x32 window, i.e. shifts the image by up
    to 4 pixels. ``fill_mode`` (``"constant"`` by default, with ``fill_value``) fills the
    padding, and accepts ``"reflect"``, ``"wrap"``, ``"nearest"`` too. Padding is nncore's
    addition; without it the layer is Keras' RandomCrop, with two differences: an input smaller
    than the window is an error here (Keras resizes it), and at inference a larger input gives
    its centre window as it is (Keras resizes the largest centred window of the target aspect
    ratio). For the usual same-size crop both give the input unchanged at inference.
    """

    def __init__(self, height, width, seed=None, padding=0, fill_mode="constant", fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        for name, v in (("height", height), ("width", width)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"RandomCrop: {name} must be a positive int, got {v!r}")
        self.height, self.width = int(height), int(width)
        pad = (padding, padding) if isinstance(padding, (int, np.integer)) else tuple(padding)
        if len(pad) != 2 or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0 for p in pad):
            raise ValueError(f"RandomCrop: padding must be a non-negative int or a pair of them, got {padding!r}")
        self.padding = (int(pad[0]), int(pad[1]))
        self.fill_mode = aug.check_fill_mode(fill_mode, "RandomCrop")
        self.fill_value = float(fill_value)

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        h, w = shape[1], shape[2]
        if (h is not None and h < self.height) or (w is not None and w < self.width):
            raise ShapeError(
                f"{self._who()}: input images {h}x{w} are smaller than the {self.height}x{self.width} crop"
            )
        return (shape[0], self.height, self.width, shape[3])

    def forward(self, x, training=False):
        x = self._input(x)
        n, h, w, _ = x.shape
        self.compute_output_shape(x.shape)
        ph, pw = self.padding
        if training:
            oy = self._rng.integers(0, h + 2 * ph - self.height + 1, size=n) - ph
            ox = self._rng.integers(0, w + 2 * pw - self.width + 1, size=n) - pw
        else:
            if h == self.height and w == self.width:
                self._cache = None
                return x
            oy = np.full(n, (h - self.height) // 2)
            ox = np.full(n, (w - self.width) // 2)
        if ph <= h and pw <= w:
            # The backward pass is rare (augmentation usually sits on the input), so its
            # resampler is only built when it is asked for.
            self._cache = lambda g: self._sampler(oy, ox, n, h, w).adjoint(g)
            return self._windows(x, oy, ox)
        sampler = self._sampler(oy, ox, n, h, w)
        self._cache = sampler.adjoint
        return sampler.apply(x)

    def _sampler(self, oy, ox, n, h, w):
        src_y = np.broadcast_to((oy[:, None] + np.arange(self.height))[:, :, None], (n, self.height, self.width))
        src_x = np.broadcast_to((ox[:, None] + np.arange(self.width))[:, None, :], (n, self.height, self.width))
        # Integer coordinates: nearest sampling is an exact gather (and its adjoint a scatter).
        return aug.Resampler(src_y, src_x, (h, w), fill_mode=self.fill_mode, interpolation="nearest",
                             fill_value=self.fill_value)

    def _windows(self, x, oy, ox):
        """The crops as slices of one padded copy of the batch: the pixels the resampler gathers
        (padding no wider than the image reflects or wraps once, as NumPy's pad does), about 10
        times faster than gathering them one by one (1.1 ms -> 0.1 ms for 32 CIFAR images)."""
        ph, pw = self.padding
        extra = {"constant_values": self.fill_value} if self.fill_mode == "constant" else {}
        padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), mode=_PAD_MODES[self.fill_mode],
                        **extra)
        out = np.empty((x.shape[0], self.height, self.width, x.shape[3]), x.dtype)
        for i, (y0, x0) in enumerate(zip((oy + ph).tolist(), (ox + pw).tolist())):
            out[i] = padded[i, y0:y0 + self.height, x0:x0 + self.width]
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "padding": list(self.padding), "fill_mode": self.fill_mode, "fill_value": self.fill_value}


@register("layer")
class GaussianNoise(_RandomImageLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` while training (any input
    shape; the gradient passes through unchanged)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        stddev = float(stddev)
        if not math.isfinite(stddev) or stddev < 0:
            raise ValueError(f"GaussianNoise: stddev must be a finite number >= 0, got {stddev!r}")
        self.stddev = stddev

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x, training=False):
        x = np.asarray(x)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(self.dtype)
        self._cache = None
        if not training or self.stddev == 0:
            return x
        noise = self._rng.standard_normal(x.shape, dtype=x.dtype)
        noise *= x.dtype.type(self.stddev)
        return x + noise

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev}


def _plain(v):
    return list(v) if isinstance(v, tuple) else v
