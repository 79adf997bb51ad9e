"""Augmentation: the resampler against a slow per-pixel reference, exact results on tiny images,
identity at inference, seeding, output statistics, and backward as the exact adjoint."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore.backend
import nncore.random
from nncore import augmentation as aug
from nncore.errors import DTypeError, ShapeError
from nncore.layers.augmentation import (
    GaussianNoise,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from nncore.layers.base import Input

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]


@pytest.fixture(autouse=True)
def float64_layers():
    """Layers cast their input to their dtype: exact comparisons here run in float64 unless a
    test passes ``dtype=`` itself."""
    old = nncore.backend.floatx()
    nncore.backend.set_floatx("float64")
    yield
    nncore.backend.set_floatx(old)


# --------------------------------------------------------------------------- slow reference
def ref_pixel(img, i, j, mode, fill):
    h, w = img.shape[:2]
    if mode == "constant":
        if 0 <= i < h and 0 <= j < w:
            return img[i, j]
        return np.full(img.shape[2], fill)
    if mode == "nearest":
        return img[min(max(i, 0), h - 1), min(max(j, 0), w - 1)]
    if mode == "wrap":
        return img[i % h, j % w]
    # reflect: d c b a | a b c d | d c b a
    while not 0 <= i < h:
        i = -i - 1 if i < 0 else 2 * h - 1 - i
    while not 0 <= j < w:
        j = -j - 1 if j < 0 else 2 * w - 1 - j
    return img[i, j]


def ref_sample(img, sy, sx, mode, interpolation, fill):
    """One image (H, W, C) sampled at float coordinates (Ho, Wo), pixel by pixel."""
    out = np.zeros((*sy.shape, img.shape[2]))
    for a in range(sy.shape[0]):
        for b in range(sy.shape[1]):
            y, x = sy[a, b], sx[a, b]
            if interpolation == "nearest":
                out[a, b] = ref_pixel(img, math.floor(y + 0.5), math.floor(x + 0.5), mode, fill)
                continue
            y0, x0 = math.floor(y), math.floor(x)
            fy, fx = y - y0, x - x0
            out[a, b] = ((1 - fy) * (1 - fx) * ref_pixel(img, y0, x0, mode, fill)
                         + (1 - fy) * fx * ref_pixel(img, y0, x0 + 1, mode, fill)
                         + fy * (1 - fx) * ref_pixel(img, y0 + 1, x0, mode, fill)
                         + fy * fx * ref_pixel(img, y0 + 1, x0 + 1, mode, fill))
    return out


def ref_affine(images, transforms, mode, interpolation, fill):
    out = []
    for img, t in zip(images, transforms):
        h, w = img.shape[:2]
        y, x = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")
        k = t[6] * x + t[7] * y + 1
        sx = (t[0] * x + t[1] * y + t[2]) / k
        sy = (t[3] * x + t[4] * y + t[5]) / k
        out.append(ref_sample(img.astype(np.float64), sy, sx, mode, interpolation, fill))
    return np.stack(out)


@given(
    n=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 3),
    mode=st.sampled_from(FILL_MODES), interpolation=st.sampled_from(["bilinear", "nearest"]),
    seed=st.integers(0, 2**31), projective=st.booleans(),
)
def test_affine_transform_matches_reference(n, h, w, c, mode, interpolation, seed, projective):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c))
    t = np.concatenate([rng.normal(size=(n, 6)) * [1, 0.5, 3, 0.5, 1, 3],
                        rng.normal(size=(n, 2)) * 0.02 * projective], axis=1)
    t[:, [0, 4]] += 1
    got = aug.affine_transform(x, t, interpolation=interpolation, fill_mode=mode, fill_value=0.7)
    np.testing.assert_allclose(got, ref_affine(x, t, mode, interpolation, 0.7), rtol=1e-12, atol=1e-12)


@given(n=st.integers(0, 3), h=st.integers(0, 5), w=st.integers(0, 5), c=st.integers(1, 4),
       mode=st.sampled_from(FILL_MODES), interpolation=st.sampled_from(["bilinear", "nearest"]),
       seed=st.integers(0, 2**31))
def test_resampler_adjoint(n, h, w, c, mode, interpolation, seed):
    """<A x, g> == <x, A^T g> for random coordinates, including far outside the image."""
    rng = np.random.default_rng(seed)
    ho, wo = rng.integers(0, 5, size=2)
    sy = rng.uniform(-2 * h - 2, 2 * h + 2, size=(n, ho, wo))
    sx = rng.uniform(-2 * w - 2, 2 * w + 2, size=(n, ho, wo))
    r = aug.Resampler(sy, sx, (h, w), fill_mode=mode, interpolation=interpolation)
    x = rng.normal(size=(n, h, w, c))
    g = rng.normal(size=(n, ho, wo, c))
    lhs = np.vdot(r.apply(x), g)
    rhs = np.vdot(x, r.adjoint(g))
    assert abs(lhs - rhs) <= 1e-10 * (1 + abs(lhs))
    # and the reference agrees on the forward map
    for i in range(n):
        if h and w:
            np.testing.assert_allclose(r.apply(x)[i], ref_sample(x[i], sy[i], sx[i], mode, interpolation, 0.0),
                                       atol=1e-12)


# --------------------------------------------------------------------------- exact small cases
def batch_of(img, n):
    return np.repeat(np.asarray(img, dtype=np.float64)[None], n, axis=0)


def test_flip_known_image(dtype):
    img = np.array([[1, 2], [3, 4]], dtype=dtype)[:, :, None]
    x = batch_of(img, 64).astype(dtype)
    out = RandomFlip("horizontal", seed=1, dtype=dtype)(x, training=True)
    assert out.dtype == dtype
    lr = img[:, ::-1]
    flipped = np.array([np.array_equal(o, lr) for o in out])
    same = np.array([np.array_equal(o, img) for o in out])
    assert np.all(flipped ^ same) and 16 < flipped.sum() < 48
    out = RandomFlip("vertical", seed=2)(x, training=True)
    assert all(np.array_equal(o, img) or np.array_equal(o, img[::-1]) for o in out)
    out = RandomFlip(seed=3)(x, training=True)
    seen = {tuple(o.ravel()) for o in out}
    assert seen == {(1, 2, 3, 4), (4, 3, 2, 1)}  # one draw per image flips both ways (Keras)


@pytest.mark.parametrize("mode", FILL_MODES)
def test_translation_by_integer_offset(mode):
    x = np.arange(1, 4 * 5 * 2 + 1, dtype=np.float64).reshape(1, 4, 5, 2)
    # height 4 * 0.25 = 1 pixel down, width 5 * -0.4 = 2 pixels left: exact, no blending
    layer = RandomTranslation((0.25, 0.25), (-0.4, -0.4), fill_mode=mode, fill_value=-1.0, seed=0)
    out = layer(x, training=True)
    for i in range(4):
        for j in range(5):
            np.testing.assert_array_equal(out[0, i, j], ref_pixel(x[0], i - 1, j + 2, mode, -1.0))
    if mode == "constant":
        assert np.all(out[0, 0] == -1) and np.all(out[0, :, 3:] == -1)
        np.testing.assert_array_equal(out[0, 1:, :3], x[0, :3, 2:])


def test_translation_range_and_direction():
    x = np.zeros((200, 9, 9, 1))
    x[:, 4, 4] = 1.0
    out = RandomTranslation((0.0, 0.3), 0.0, fill_mode="constant", interpolation="nearest", seed=5)(x, training=True)
    rows = np.array([np.argwhere(o[:, :, 0] == 1)[0][0] for o in out])
    # shift = U(0, 0.3) * 9 in [0, 2.7] rounded: the dot moves down by 0..3 rows, never up
    assert rows.min() == 4 and rows.max() == 7 and len(set(rows)) == 4


def test_rotation_quarter_turn_is_counter_clockwise(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 5, 2)).astype(dtype)
    out = RandomRotation((0.25, 0.25), seed=0, dtype=dtype)(x, training=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), atol=tol)
    out = RandomRotation((-0.5, -0.5), seed=0, dtype=dtype)(x, training=True)
    np.testing.assert_allclose(out, x[:, ::-1, ::-1], atol=tol)


def test_zoom_exact():
    x = np.random.default_rng(1).normal(size=(2, 7, 5, 1))
    # zoom factor 1 + (-0.5) = 0.5 in both axes: samples the central half (zoom in)
    out = RandomZoom((-0.5, -0.5), seed=0, fill_mode="constant")(x, training=True)
    cy, cx = 3.0, 2.0
    y, xx = np.meshgrid(np.arange(7.0), np.arange(5.0), indexing="ij")
    want = np.stack([ref_sample(img, 0.5 * (y - cy) + cy, 0.5 * (xx - cx) + cx, "constant", "bilinear", 0.0)
                     for img in x])
    np.testing.assert_allclose(out, want, atol=1e-12)
    assert np.array_equal(out[:, 3, 2], x[:, 3, 2])  # the centre stays put
    # width_factor separately: zoom out 2x horizontally only
    out = RandomZoom((0.0, 0.0), width_factor=(1.0, 1.0), seed=0, fill_mode="constant",
                     interpolation="nearest")(x, training=True)
    np.testing.assert_array_equal(out[:, :, 2], x[:, :, 2])
    np.testing.assert_array_equal(out[:, :, 1], x[:, :, 0])
    assert np.all(out[:, :, 0] == 0)


def test_crop_with_padding_is_a_shift():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 4, 4, 3))
    out = RandomCrop(4, 4, padding=1, seed=0)(x, training=True)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    offsets = set()
    for i in range(len(x)):
        hits = [(a, b) for a in range(3) for b in range(3)
                if np.array_equal(out[i], padded[i, a:a + 4, b:b + 4])]
        assert hits, i
        offsets.add(hits[0])
    assert len(offsets) == 9  # every window position occurs
    layer = RandomCrop(2, 3, padding=(0, 1), fill_mode="reflect", seed=0)
    out = layer(x, training=True)
    assert out.shape == (300, 2, 3, 3)
    assert layer(x, training=False) is x  # inference passes images through (Keras)


def test_gaussian_noise_statistics(dtype):
    x = np.full((64, 32, 32, 3), 0.5, dtype=dtype)
    out = GaussianNoise(0.1, seed=0, dtype=dtype)(x, training=True)
    assert out.dtype == dtype
    d = (out - x).astype(np.float64)
    assert abs(d.mean()) < 0.002 and abs(d.std() - 0.1) < 0.002
    g = np.random.default_rng(0).normal(size=x.shape).astype(dtype)
    layer = GaussianNoise(0.1, seed=0, dtype=dtype)
    layer(x, training=True)
    assert layer.backward(g) is g


@pytest.mark.parametrize("make", [
    lambda m: RandomTranslation(0.3, 0.2, fill_mode=m, seed=1),
    lambda m: RandomRotation(0.5, fill_mode=m, seed=1),
    lambda m: RandomZoom(0.4, 0.3, fill_mode=m, seed=1),
])
@pytest.mark.parametrize("mode", ["reflect", "wrap", "nearest"])
def test_constant_image_stays_constant(make, mode):
    x = np.full((8, 6, 7, 2), 3.25)
    np.testing.assert_allclose(make(mode)(x, training=True), x, rtol=1e-14)


# --------------------------------------------------------------------------- layer behaviour
ALL_LAYERS = [
    ("flip", lambda **kw: RandomFlip(**kw)),
    ("translation", lambda **kw: RandomTranslation(0.2, 0.3, **kw)),
    ("rotation", lambda **kw: RandomRotation(0.1, **kw)),
    ("zoom", lambda **kw: RandomZoom(0.2, **kw)),
    ("crop", lambda **kw: RandomCrop(8, 8, padding=2, **kw)),
    ("noise", lambda **kw: GaussianNoise(0.3, **kw)),
]


@pytest.mark.parametrize("name,make", ALL_LAYERS)
def test_identity_at_inference(name, make, dtype):
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype(dtype)
    layer = make(seed=0, dtype=dtype)
    out = layer(x, training=False)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x)
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g), g)


@pytest.mark.parametrize("name,make", ALL_LAYERS)
def test_seeded_and_global_seed_repeatable(name, make):
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 3))
    a = make(seed=7)(x, training=True)
    b = make(seed=7)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, make(seed=8)(x, training=True))
    nncore.random.set_seed(11)
    c = make()(x, training=True)
    nncore.random.set_seed(11)
    np.testing.assert_array_equal(c, make()(x, training=True))
    layer = make(seed=7)
    first = layer(x, training=True)
    assert not np.array_equal(first, layer(x, training=True))  # fresh draws each batch


ADJOINT_LAYERS = [
    ("flip", lambda m, i, d: RandomFlip(seed=3, dtype=d)),
    ("translation", lambda m, i, d: RandomTranslation(0.4, 0.4, fill_mode=m, interpolation=i, seed=3, dtype=d)),
    ("rotation", lambda m, i, d: RandomRotation(0.3, fill_mode=m, interpolation=i, seed=3, dtype=d)),
    ("zoom", lambda m, i, d: RandomZoom((-0.5, 0.6), fill_mode=m, interpolation=i, seed=3, dtype=d)),
    ("crop", lambda m, i, d: RandomCrop(5, 4, padding=(3, 2), fill_mode=m, seed=3, dtype=d)),
    ("noise", lambda m, i, d: GaussianNoise(1.0, seed=3, dtype=d)),
]


@pytest.mark.parametrize("name,make", ADJOINT_LAYERS)
@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_backward_is_adjoint(name, make, mode, interpolation, dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 7, 6, 3)).astype(dtype)
    layer = make(mode, interpolation, dtype)
    y = layer(x, training=True)
    g = rng.normal(size=y.shape).astype(dtype)
    gx = layer.backward(g)
    assert gx.shape == x.shape and gx.dtype == dtype
    if name == "noise":
        np.testing.assert_array_equal(gx, g)
        return
    lhs = np.vdot(y.astype(np.float64), g.astype(np.float64))
    rhs = np.vdot(x.astype(np.float64), gx.astype(np.float64))
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert abs(lhs - rhs) <= tol * (1 + np.abs(y).sum() * np.abs(g).max())


def test_backward_with_nonzero_fill_is_the_linear_part():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6, 6, 2))
    g = rng.normal(size=x.shape)
    grads = []
    outs = []
    for fill in (0.0, 5.0):
        layer = RandomRotation(0.2, fill_mode="constant", fill_value=fill, seed=9)
        outs.append(layer(x, training=True))
        grads.append(layer.backward(g))
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=0)
    assert not np.allclose(outs[0], outs[1])


def test_config_round_trip():
    layers = [RandomFlip("vertical", seed=1), RandomTranslation((-0.1, 0.2), 0.3, fill_mode="wrap", seed=2),
              RandomRotation(0.1, interpolation="nearest"), RandomZoom(0.2, (0.1, 0.3), fill_value=1.0),
              RandomCrop(28, 30, padding=(2, 1), fill_mode="reflect", seed=3), GaussianNoise(0.2, seed=4)]
    for layer in layers:
        cfg = layer.get_config()
        again = type(layer).from_config(cfg)
        assert again.get_config() == {**cfg, "name": cfg["name"]}
    assert layers[4].get_config()["padding"] == [2, 1]


def test_symbolic_shapes():
    inp = Input(shape=(32, 32, 3))
    assert RandomFlip()(inp).shape == (None, 32, 32, 3)
    assert RandomCrop(24, 20, padding=4)(inp).shape == (None, 24, 20, 3)
    assert RandomCrop(40, 32, padding=4)(inp).shape == (None, 40, 32, 3)
    assert RandomCrop(40, 32)(inp).shape == (None, 40, 32, 3)  # resized while training (Keras)
    with pytest.raises(ShapeError, match="padded by 4x4 are smaller than the 41x32 crop"):
        RandomCrop(41, 32, padding=4)(inp)
    with pytest.raises(ShapeError, match=r"expects images \(batch, height, width, channels\)"):
        RandomZoom(0.1)(Input(shape=(10,)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        RandomTranslation(0.1, 0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        RandomRotation(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"height_factor values must lie in \[-1, 1\]"):
        RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match=r"must lie in \(-1, 1\]"):
        RandomZoom((-1.0, 0.5))
    with pytest.raises(ValueError, match="padding must be"):
        RandomCrop(4, 4, padding=-1)
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="seed"):
        RandomFlip(seed=-3)
    with pytest.raises(ShapeError, match=r"got shape \(3, 4, 5\)"):
        RandomFlip().forward(np.zeros((3, 4, 5)), training=True)
    with pytest.raises(DTypeError, match="int64"):
        RandomFlip().forward(np.zeros((1, 2, 2, 1), dtype=np.int64), training=True)


def test_empty_batch():
    for _, make in ALL_LAYERS:
        x = np.zeros((0, 8, 8, 3))
        layer = make(seed=0)
        y = layer(x, training=True)
        assert y.shape[0] == 0
        assert layer.backward(np.zeros_like(y)).shape == x.shape


@given(n=st.integers(1, 4), h=st.integers(1, 7), w=st.integers(1, 7), c=st.integers(1, 3),
       crop=st.tuples(st.integers(1, 9), st.integers(1, 9)), pad=st.data(),
       mode=st.sampled_from(aug.FILL_MODES), seed=st.integers(0, 2**16))
def test_crop_windows_match_the_resampler(n, h, w, c, crop, pad, mode, seed):
    """Training crops slice a padded copy of the batch (padding no wider than the image) instead
    of gathering through the resampler: both give the same pixels for every fill mode."""
    ch, cw = min(crop[0], 3 * h), min(crop[1], 3 * w)    # reachable with padding <= image
    ph = pad.draw(st.integers(max(0, -(-(ch - h) // 2)), h), label="pad_h")
    pw = pad.draw(st.integers(max(0, -(-(cw - w) // 2)), w), label="pad_w")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    layer = RandomCrop(ch, cw, padding=(ph, pw), fill_mode=mode, fill_value=0.5)
    oy = rng.integers(0, h + 2 * ph - ch + 1, size=n) - ph
    ox = rng.integers(0, w + 2 * pw - cw + 1, size=n) - pw
    np.testing.assert_array_equal(layer._windows(x, oy, ox),
                                  layer._sampler(oy, ox, n, h, w).apply(x))
