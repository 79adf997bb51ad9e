"""Argument checks and the input/top plumbing the application constructors share (Keras'
rules: ``keras.applications`` validates ``weights``, ``input_shape``, ``pooling`` the same way
for every architecture)."""

from __future__ import annotations

import numbers

from ..layers import Dense, GlobalAveragePooling2D, GlobalMaxPooling2D, Input
from ..layers.symbolic import SymbolicTensor


def check_weights(weights, architecture: str) -> None:
    """Only random initialization: nncore never downloads files."""
    if weights is None:
        return
    raise ValueError(
        f"{architecture}: weights={weights!r} is not supported; only weights=None (random "
        "initialization) is. nncore downloads no pretrained weights. Weights in Keras 3's format "
        f"load into the built model: model = {architecture}(weights=None, ...); "
        'model.load_weights("x.weights.h5") (for example a file written by Keras\' '
        "model.save_weights from the same architecture and arguments).")


def check_pooling(pooling, architecture: str) -> None:
    """Checked even with the classifier included (where Keras ignores ``pooling``), so that a
    misspelling does not go unnoticed."""
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{architecture}: `pooling` must be None, 'avg' or 'max'. "
                         f"Received: pooling={pooling!r}")


def check_classes(classes, include_top: bool, architecture: str) -> None:
    if not include_top:
        return
    if isinstance(classes, bool) or not isinstance(classes, numbers.Integral) or classes < 1:
        raise ValueError(f"{architecture}: `classes` must be a positive integer when "
                         f"include_top=True. Received: classes={classes!r}")


def obtain_input_shape(input_shape, default_size: int, min_size: int, require_flatten: bool,
                       architecture: str, default_channels: int = 3) -> tuple:
    """The (height, width, channels) of the input, as Keras decides it: the default square image
    when none is given (spatial sizes left free when the model ends without a classifier that
    needs them), otherwise the given shape after checking its rank and minimum size."""
    if input_shape is None or (hasattr(input_shape, "__len__") and len(input_shape) == 0):
        if require_flatten:
            return (default_size, default_size, default_channels)
        return (None, None, default_channels)
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(f"{architecture}: `input_shape` must be a tuple of three integers. "
                         f"Received: input_shape={input_shape!r}") from None
    if len(shape) != 3 or not all(d is None or (isinstance(d, numbers.Integral)
                                                and not isinstance(d, bool)) for d in shape):
        raise ValueError(f"{architecture}: `input_shape` must be a tuple of three integers "
                         f"(height, width, channels). Received: input_shape={input_shape!r}")
    shape = tuple(None if d is None else int(d) for d in shape)
    if shape[2] is None or shape[2] < 1:
        raise ValueError(f"{architecture}: the channel count in `input_shape` must be a positive "
                         f"integer. Received: input_shape={input_shape!r}")
    if any(d is not None and d < min_size for d in shape[:2]):
        raise ValueError(f"{architecture}: input size must be at least {min_size}x{min_size}; "
                         f"Received: input_shape={input_shape!r}")
    if require_flatten and None in shape:
        raise ValueError(f"{architecture}: if `include_top` is True, you should specify a static "
                         f"`input_shape`. Received: input_shape={input_shape!r}")
    return shape


def checked_input(architecture: str, weights, pooling, classes, include_top, input_tensor,
                  input_shape, *, default_size: int, min_size: int, require_flatten: bool):
    """Every constructor's start: the argument checks in Keras' order, then ``model_input``'s
    ``(graph input, first tensor)``."""
    check_weights(weights, architecture)
    check_pooling(pooling, architecture)
    check_classes(classes, include_top, architecture)
    shape = obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                               require_flatten=require_flatten, architecture=architecture)
    return model_input(input_tensor, shape, architecture)


def model_input(input_tensor, input_shape, architecture: str):
    """``(graph input, first tensor)``: a fresh ``Input`` or the given symbolic tensor (the model
    then starts at the inputs that tensor was computed from)."""
    if input_tensor is None:
        x = Input(shape=input_shape)
        return x, x
    if not isinstance(input_tensor, SymbolicTensor):
        raise ValueError(f"{architecture}: `input_tensor` must be a symbolic tensor (the output of "
                         f"nncore.Input or of a layer called on one). Received: {input_tensor!r}")
    if len(input_tensor.shape) != 4:
        raise ValueError(f"{architecture}: `input_tensor` must be 4-D (batch, height, width, "
                         f"channels). Received shape {input_tensor.shape}")
    return source_inputs(input_tensor), input_tensor


def source_inputs(tensor: SymbolicTensor):
    """The ``Input`` tensors ``tensor`` depends on (one, or a list of several)."""
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        node = t.node
        if node is None or not node.inputs:
            found.append(t)
        else:
            stack.extend(node.inputs)
    return found[0] if len(found) == 1 else found


def global_pool(x, pooling, avg_name=None, max_name=None):
    """The head of a model built without its classifier."""
    if pooling == "avg":
        return GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=max_name)(x)
    return x


def avg_pool_top(x, include_top, pooling, classes, classifier_activation):
    """The ResNets' end: global average pooling and the Dense classifier, or without the
    classifier the optional global pooling (same layer names as Keras' ResNets)."""
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        return Dense(classes, activation=classifier_activation, name="predictions")(x)
    return global_pool(x, pooling, avg_name="avg_pool", max_name="max_pool")
