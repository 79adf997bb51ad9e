"""Conv2DTranspose against a NumPy scatter reference (TensorFlow's placement, Keras' output sizes)
for every padding / stride / output_padding / dilation, on every ISA path; float64 gradients
against finite differences; output shapes pinned from Keras 3; config, saving and a short fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers as L

from conftest import threads


def keras_length(size, k, s, padding, output_padding, d):
    """Keras' deconv_output_length (keras/src/utils/... conv_utils), restated."""
    k = (k - 1) * d + 1
    if output_padding is None:
        return size * s + max(k - s, 0) if padding == "valid" else size * s
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * s + k - 2 * pad + output_padding


def ref_transpose(x, w, b, strides, padding, output_padding, dilation):
    """y[n, i*s - before + a*d, j*s - left + b*d, f] += x[n, i, j, c] * w[a, b, f, c], with
    `before` from TensorFlow's conv2d_transpose: the 'same' padding of the convolution from the
    output back to the input."""
    n, h, wd, _ = x.shape
    kh, kw, f, _ = w.shape
    ops_ = output_padding or (None, None)
    sizes, befores = [], []
    for size, k, s, d, op in zip((h, wd), (kh, kw), strides, dilation, ops_):
        out = keras_length(size, k, s, padding, op, d)
        keff = (k - 1) * d + 1
        before = 0 if padding == "valid" else max((size - 1) * s + keff - out, 0) // 2
        sizes.append(out)
        befores.append(before)
    y = np.zeros((n, sizes[0], sizes[1], f))
    for i in range(h):
        for j in range(wd):
            for a in range(kh):
                for c in range(kw):
                    r = i * strides[0] - befores[0] + a * dilation[0]
                    q = j * strides[1] - befores[1] + c * dilation[1]
                    if 0 <= r < sizes[0] and 0 <= q < sizes[1]:
                        y[:, r, q, :] += x[:, i, j, :].astype(np.float64) @ w[a, c].T.astype(np.float64)
    if b is not None:
        y += b
    return y


# (input HxW, kernel, strides, padding, output_padding, dilation) -> output HxW, from Keras 3.
KERAS_SHAPES = [
    ((5, 6), 3, 1, "valid", None, 1, (7, 8)),
    ((5, 6), 3, 2, "valid", None, 1, (11, 13)),
    ((5, 6), 3, 2, "same", None, 1, (10, 12)),
    ((5, 6), 3, 2, "same", 1, 1, (10, 12)),
    ((5, 6), 2, 3, "same", 2, 1, (14, 17)),
    ((5, 6), 4, 3, "valid", 1, 1, (17, 20)),
    ((5, 6), 3, 1, "same", 0, 2, (5, 6)),
    ((5, 6), 1, 3, "valid", None, 1, (15, 18)),
    ((1, 1), 5, 2, "same", None, 1, (2, 2)),
    ((4, 3), (2, 4), (2, 1), "same", (1, 0), 1, (7, 2)),
]


@pytest.mark.parametrize("hw, k, s, padding, op, d, want", KERAS_SHAPES)
def test_output_shapes_are_keras(hw, k, s, padding, op, d, want):
    layer = L.Conv2DTranspose(2, k, strides=s, padding=padding, output_padding=op, dilation_rate=d)
    assert layer.compute_output_shape((None, *hw, 3)) == (None, *want, 2)
    y = layer(np.zeros((1, *hw, 3), np.float32))
    assert y.shape == (1, *want, 2)
    first = L.Conv2DTranspose(2, k, strides=s, padding=padding, output_padding=op, dilation_rate=d,
                              data_format="channels_first")
    assert first.compute_output_shape((None, 3, *hw)) == (None, 2, *want)


@st.composite
def cases(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dil = draw(st.sampled_from([(1, 1), (2, 1), (1, 3), (2, 2)]))
    s = (1, 1) if dil != (1, 1) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    op = None
    if draw(st.booleans()):
        op = (draw(st.integers(0, s[0] - 1)), draw(st.integers(0, s[1] - 1)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 6)),
             draw(st.integers(1, 5)))
    return dict(filters=draw(st.integers(1, 5)), kernel_size=k, strides=s, padding=padding,
                output_padding=op, dilation_rate=dil, shape=shape,
                dtype=draw(st.sampled_from(["float32", "float64"])), seed=draw(st.integers(0, 999)))


@given(cases())
def test_matches_reference_on_every_isa(case):
    rng = np.random.default_rng(case["seed"])
    kw = {k: case[k] for k in ("filters", "kernel_size", "strides", "padding", "output_padding",
                               "dilation_rate")}
    layer = L.Conv2DTranspose(**kw, dtype=case["dtype"], bias_initializer="random_normal")
    x = rng.standard_normal(case["shape"]).astype(case["dtype"])
    layer.build((None, *case["shape"][1:]))
    w, b = layer.get_weights()
    want = ref_transpose(x, w, b, case["strides"], case["padding"], case["output_padding"],
                         case["dilation_rate"])
    atol = 1e-4 if case["dtype"] == "float32" else 1e-11
    for isa in nncore.ops.available_isas():
        with nncore.ops.use_isa(isa):
            with threads(1):
                y1 = layer(x)
            with threads(2):
                y2 = layer(x)
        assert y1.shape == want.shape and y1.dtype == x.dtype
        np.testing.assert_allclose(y1, want, rtol=0, atol=atol, err_msg=isa)
        np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, strides=2, padding="same"),
    dict(kernel_size=(2, 3), strides=(2, 3), padding="valid", output_padding=(1, 2)),
    dict(kernel_size=3, strides=1, padding="same", dilation_rate=2, activation="tanh"),
    dict(kernel_size=2, strides=3, padding="same", output_padding=1, data_format="channels_first"),
])
def test_gradients_against_finite_differences(kw, isa):
    layer = L.Conv2DTranspose(3, dtype="float64", bias_initializer="random_normal", **kw)
    shape = (2, 2, 4, 3) if kw.get("data_format") == "channels_first" else (2, 4, 3, 2)
    assert nncore.gradcheck(layer, np.random.default_rng(1).standard_normal(shape))


def test_config_round_trip_and_errors():
    layer = L.Conv2DTranspose(4, (3, 2), strides=(2, 1), padding="same", output_padding=(1, 0),
                              dilation_rate=1, activation="relu", use_bias=False, name="up")
    config = layer.get_config()
    assert config["output_padding"] == [1, 0] and config["kernel_size"] == [3, 2]
    assert L.Conv2DTranspose.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="output_padding"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="dilation_rate"):
        L.Conv2DTranspose(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="filters"):
        L.Conv2DTranspose(0, 3)
    built = L.Conv2DTranspose(2, 3)
    built.build((None, 5, 5, 3))
    with pytest.raises(nncore.ShapeError, match="expects input shape"):
        built(np.zeros((1, 5, 5, 4), np.float32))


def test_parameter_counts_are_keras():
    # Keras 3: Conv2DTranspose(64, 3, strides=2, padding="same") on 14x14x128 -> 73792
    # parameters; Conv2DTranspose(3, (4, 5), strides=(2, 3), output_padding=(1, 2)) on 9x10x16 -> 963.
    a = L.Conv2DTranspose(64, 3, strides=2, padding="same")
    a.build((None, 14, 14, 128))
    assert a.count_params() == 73792 and a.kernel.shape == (3, 3, 64, 128)
    b = L.Conv2DTranspose(3, (4, 5), strides=(2, 3), output_padding=(1, 2))
    b.build((None, 9, 10, 16))
    assert b.count_params() == 963
    assert b.compute_output_shape((None, 9, 10, 16)) == (None, 21, 34, 3)


def test_save_load_and_fit(tmp_path):
    inp = L.Input((6, 6, 2))
    h = L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")(inp)
    out = L.Conv2D(1, 3, strides=2, padding="same")(h)
    model = nncore.Model(inp, out)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 6, 2)).astype(np.float32)
    y = x[..., :1] * 0.5
    hist = model.fit(x, y, epochs=6, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "m.keras")
    back = nncore.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
