"""Shape arithmetic shared by convolution and pooling layers (Keras / TensorFlow conventions)."""

from __future__ import annotations

import numbers

from ..errors import ShapeError


def normalize_tuple(value, n: int, name: str, *, minimum: int = 1) -> tuple:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        out = (int(value),) * n
    else:
        try:
            out = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}") from None
        if len(out) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in out):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return out


def normalize_padding(padding) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def check_data_format(data_format, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"{layer}: data_format={data_format!r} is not supported; nncore computes in "
            "channels_last (NHWC), the Keras default"
        )


def output_length(length, window: int, stride: int, padding: str, dilation: int = 1):
    """Output size of one spatial axis; None stays None. 'same' gives ceil(length / stride)."""
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    span = (window - 1) * dilation + 1
    if length < span:
        return -1
    return (length - span) // stride + 1


def spatial_output_shape(layer_desc: str, input_shape, window, strides, padding, dilation=(1, 1)):
    """(H_out, W_out) for an NHWC input, with a ShapeError naming the layer when it cannot fit."""
    if len(input_shape) != 4:
        raise ShapeError(
            f"{layer_desc} expects a 4-D input (batch, height, width, channels), got shape "
            f"{tuple(input_shape)}"
        )
    out = []
    for axis, (n, k, s, d) in enumerate(zip(input_shape[1:3], window, strides, dilation)):
        o = output_length(n, k, s, padding, d)
        if o is not None and o <= 0:
            span = (k - 1) * d + 1
            raise ShapeError(
                f"{layer_desc}: window {span} is larger than the input "
                f"{'height' if axis == 0 else 'width'} {n} with padding='valid' "
                f"(input shape {tuple(input_shape)})"
            )
        out.append(o)
    return tuple(out)
