"""Constructor arguments shared by the 2-D convolution layers, checked with Keras' messages."""

from __future__ import annotations

import numpy as np

from ._conv_utils import normalize_padding, normalize_tuple


def positive_int(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: Invalid value for argument `{name}`. Expected a strictly "
                         f"positive value. Received {name}={value!r}.")
    return int(value)


def positive_tuple(value, name):
    """Keras' message for a zero or negative entry (``kernel_size=(1, 0)``)."""
    values = normalize_tuple(value, 2, name, minimum=-(2**62))
    bad = {v for v in values if v <= 0}
    if bad:
        raise ValueError(f"The `{name}` argument must be a tuple of 2 integers. Received "
                         f"{name}={value!r}, including values {bad} that do not satisfy `value > 0`")
    return values


def check_strides_and_dilation(layer: str, strides, dilation_rate) -> None:
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(f"{layer}: `strides > 1` not supported in conjunction with "
                         f"`dilation_rate > 1`. Received: strides={strides} and "
                         f"dilation_rate={dilation_rate}")


def store_window_args(layer, name: str, kernel_size, strides, padding, dilation_rate) -> None:
    """``kernel_size``, ``strides``, ``padding`` and ``dilation_rate`` checked and stored, then
    checked together (``name``: the layer class, for the message)."""
    layer.kernel_size = positive_tuple(kernel_size, "kernel_size")
    layer.strides = positive_tuple(strides, "strides")
    layer.padding = normalize_padding(padding)
    layer.dilation_rate = positive_tuple(dilation_rate, "dilation_rate")
    check_strides_and_dilation(name, layer.strides, layer.dilation_rate)
