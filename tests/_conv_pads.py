"""The paddings the convolution references apply, worked out independently of nncore."""

from __future__ import annotations


def same_pads(size, window, stride):
    """TensorFlow's 'same': ceil(size / stride) outputs, the odd padding element at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def explicit_pads(padding, x_shape, w_shape, strides, dilation):
    """``((top, bottom), (left, right))`` of 'valid', 'same' or explicit pairs (returned as given)."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return (same_pads(x_shape[1], (w_shape[0] - 1) * dilation[0] + 1, strides[0]),
                same_pads(x_shape[2], (w_shape[1] - 1) * dilation[1] + 1, strides[1]))
    return padding
