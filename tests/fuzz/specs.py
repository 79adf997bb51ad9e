"""Valid calls of every ``nncore.ops`` function, for the fuzzer to start from and then spoil.

``SPECS[name](rng)`` returns ``(args, kwargs)`` of a small valid call: arrays of random shape and
dtype (float32 or float64) with the shapes the op needs. The fuzzer mutates one argument at a
time, so every hostile call differs from a valid one in exactly one place.
"""

from __future__ import annotations

import numpy as np

from nncore import ops


def _dtype(rng):
    return np.float32 if rng.random() < 0.5 else np.float64


def _arr(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _dims(rng, k, lo=1, hi=6):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, k))


def _x(rng):
    dt = _dtype(rng)
    return _arr(rng, _dims(rng, int(rng.integers(1, 4))), dt), dt


def _unary(extra=None):
    def build(rng):
        x, _ = _x(rng)
        return [x], dict(extra or {})
    return build


def _unary_backward(extra=None):
    def build(rng):
        x, _ = _x(rng)
        return [_arr(rng, x.shape, x.dtype), x], dict(extra or {})
    return build


def _nhwc(rng, dt, c=None):
    n, h, w = _dims(rng, 3, 1, 7)
    return _arr(rng, (n, h, w, c or int(rng.integers(1, 5))), dt)


def _conv(rng):
    dt = _dtype(rng)
    x = _nhwc(rng, dt)
    kh, kw = _dims(rng, 2, 1, 3)
    w = _arr(rng, (kh, kw, x.shape[3], int(rng.integers(1, 5))), dt)
    fits = x.shape[1] >= kh and x.shape[2] >= kw
    padding = "valid" if fits and rng.random() < 0.5 else "same"
    return x, w, dict(strides=int(rng.integers(1, 3)), padding=padding)


def _conv2d(rng):
    x, w, kw = _conv(rng)
    return [x, w, _arr(rng, (w.shape[3],), x.dtype)], kw


def _conv_grad_y(rng):
    x, w, kw = _conv(rng)
    y = ops.conv2d(x, w, **kw)
    return x, w, _arr(rng, y.shape, x.dtype), kw


def _conv2d_backward_input(rng):
    x, w, g, kw = _conv_grad_y(rng)
    return [g, w, x.shape], kw


def _conv2d_backward_weight(rng):
    x, w, g, kw = _conv_grad_y(rng)
    return [x, g, w.shape], kw


def _conv2d_backward_weight_fused(rng):
    x, w, g, kw = _conv_grad_y(rng)
    relu = np.maximum(ops.conv2d(x, w, **kw), 0) if rng.random() < 0.5 else None
    return [x, g, w.shape], dict(kw, relu_output=relu, use_bias=bool(rng.random() < 0.5))


def _depthwise(rng):
    """x, a (KH, KW, C, M) kernel with a depth multiplier M of 1 to 3, and the call's settings."""
    dt = _dtype(rng)
    x = _nhwc(rng, dt)
    kh, kw = _dims(rng, 2, 1, 3)
    w = _arr(rng, (kh, kw, x.shape[3], int(rng.integers(1, 4))), dt)
    dilation = int(rng.integers(1, 3))
    fits = x.shape[1] >= (kh - 1) * dilation + 1 and x.shape[2] >= (kw - 1) * dilation + 1
    padding = "valid" if fits and rng.random() < 0.5 else "same"
    return x, w, dict(strides=int(rng.integers(1, 3)), padding=padding, dilation=dilation)


def _depthwise_conv2d(rng):
    x, w, kw = _depthwise(rng)
    return [x, w, _arr(rng, (w.shape[2] * w.shape[3],), x.dtype)], kw


def _depthwise_grad_y(rng):
    x, w, kw = _depthwise(rng)
    y = ops.depthwise_conv2d(x, w, **kw)
    return x, w, _arr(rng, y.shape, x.dtype), kw


def _depthwise_conv2d_backward_input(rng):
    x, w, g, kw = _depthwise_grad_y(rng)
    return [g, w, x.shape], kw


def _depthwise_conv2d_backward_weight(rng):
    x, w, g, kw = _depthwise_grad_y(rng)
    return [x, g, w.shape], kw


def _pool_kw(rng):
    return dict(strides=int(rng.integers(1, 3)), padding="same" if rng.random() < 0.5 else "valid")


def _pool(rng):
    x = _nhwc(rng, _dtype(rng))
    return [x, 2], dict(padding="same")


def _pool_backward(name):
    def build(rng):
        x = _nhwc(rng, _dtype(rng))
        y = getattr(ops, name)(x, 2, padding="same")
        return [_arr(rng, y.shape, x.dtype), x, 2], dict(padding="same")
    return build


def _argmax_backward(rng):
    x = _nhwc(rng, _dtype(rng))
    y, am = ops.max_pool2d_with_argmax(x, 2, padding="same")
    return [_arr(rng, y.shape, x.dtype), am, x.shape], dict(pool_size=2, padding="same")


def _global_pool_backward(rng):
    x = _nhwc(rng, _dtype(rng))
    return [_arr(rng, (x.shape[0], x.shape[3]), x.dtype), x.shape], {}


def _keras_conv(rng):
    x, w, kw = _conv(rng)
    return [x, w], dict(strides=kw["strides"], padding=kw["padding"])


def _keras_depthwise_conv(rng):
    x, w, kw = _conv(rng)
    return [x, w[:, :, :, :1]], dict(strides=kw["strides"], padding=kw["padding"])


def _keras_pool(rng):
    return [_nhwc(rng, _dtype(rng)), 2], dict(strides=int(rng.integers(1, 3)), padding="same")


def _bias(rng):
    x, _ = _x(rng)
    return [x, _arr(rng, (x.shape[-1],), x.dtype)], {}


def _bn_train(rng):
    dt = _dtype(rng)
    x = _arr(rng, _dims(rng, 2, 2, 6), dt)
    c = x.shape[-1]
    return [x, np.abs(_arr(rng, (c,), dt)) + 0.5, _arr(rng, (c,), dt)], {}


def _bn_inference(rng):
    (x, gamma, beta), _ = _bn_train(rng)
    c = x.shape[-1]
    return [x, gamma, beta, _arr(rng, (c,), x.dtype), np.abs(_arr(rng, (c,), x.dtype)) + 0.1], {}


_BN_ACTS = (None, "relu", "relu6")


def _bn_train_act(rng):
    args, _ = _bn_train(rng)
    return args, dict(activation=_BN_ACTS[int(rng.integers(0, 3))])


def _bn_backward_act(rng):
    (x, gamma, beta), kw = _bn_train_act(rng)
    _, mean, _, inv_std = ops.batch_norm_train(x, gamma, beta, **kw)
    return [_arr(rng, x.shape, x.dtype), x, gamma, mean, inv_std], dict(kw, beta=beta)


def _dropout(rng):
    x, _ = _x(rng)
    return [x, 0.3], dict(seed=int(rng.integers(0, 1000)))


def _dropout_backward(rng):
    x, _ = _x(rng)
    _, mask = ops.dropout(x, 0.3, seed=1)
    return [_arr(rng, x.shape, x.dtype), mask, 0.3], {}


def _two(rng):
    dt = _dtype(rng)
    m, k, n = _dims(rng, 3, 1, 9)
    return _arr(rng, (m, k), dt), _arr(rng, (k, n), dt)


def _matmul(rng):
    return list(_two(rng)), {}


def _gemm(rng):
    a, b = _two(rng)
    return [a, b, _arr(rng, (a.shape[0], b.shape[1]), a.dtype)], dict(alpha=0.5, beta=2.0)


def _dense(rng):
    a, b = _two(rng)
    return [a, b, _arr(rng, (b.shape[1],), a.dtype)], dict(activation="relu")


def _xent(rng):
    dt = _dtype(rng)
    z = _arr(rng, _dims(rng, 2, 1, 6), dt)
    y = np.eye(z.shape[1], dtype=dt)[rng.integers(0, z.shape[1], z.shape[0])]
    return [z, y], {}


def _sparse_xent(rng):
    z, y = _xent(rng)[0]
    return [z, y.argmax(axis=1)], {}


def _norm_params(rng, c, dt):
    """gamma and beta of c channels, each left out (None) at random."""
    return [_arr(rng, (c,), dt) if rng.random() < 0.8 else None for _ in range(2)]


def _layer_norm(rng):
    x, dt = _x(rng)
    return [x, *_norm_params(rng, x.shape[-1], dt)], dict(center=bool(rng.random() < 0.7))


def _layer_norm_backward(rng):
    (x, gamma, beta), kw = _layer_norm(rng)
    _, mean, inv_std = ops.layer_norm(x, gamma, beta, **kw)
    return [_arr(rng, x.shape, x.dtype), x, gamma, mean, inv_std], kw


def _group_norm(rng):
    dt = _dtype(rng)
    groups = int(rng.integers(1, 4))
    shape = _dims(rng, int(rng.integers(1, 3))) + (groups * int(rng.integers(1, 3)),)
    x = _arr(rng, (int(rng.integers(1, 4)),) + shape, dt)
    return [x, *_norm_params(rng, x.shape[-1], dt)], dict(groups=groups)


def _group_norm_backward(rng):
    (x, gamma, beta), kw = _group_norm(rng)
    _, mean, inv_std = ops.group_norm(x, gamma, beta, **kw)
    return [_arr(rng, x.shape, x.dtype), x, gamma, mean, inv_std, kw["groups"]], {}


def _upsample(rng):
    kw = dict(size=_dims(rng, 2, 1, 3),
              interpolation="nearest" if rng.random() < 0.5 else "bilinear")
    return [_nhwc(rng, _dtype(rng))], kw


def _upsample_backward(rng):
    (x,), kw = _upsample(rng)
    return [_arr(rng, ops.upsample2d(x, **kw).shape, x.dtype)], kw


def _bce(rng):
    z, y = _xent(rng)[0]
    return [z, (rng.random(z.shape) < 0.5).astype(z.dtype)], {}


def _add_act(rng):
    x, _ = _x(rng)
    return [x, _arr(rng, x.shape, x.dtype)], dict(activation=_BN_ACTS[int(rng.integers(0, 3))])


def _state(rng, k):
    dt = _dtype(rng)
    shape = _dims(rng, int(rng.integers(1, 3)))
    return [_arr(rng, shape, dt) for _ in range(2)] + [np.abs(_arr(rng, shape, dt)) for _ in range(k)]


SPECS = {
    "matmul": _matmul, "gemm": _gemm, "dense": _dense,
    "conv2d": _conv2d, "conv2d_backward_input": _conv2d_backward_input,
    "conv": _keras_conv, "depthwise_conv": _keras_depthwise_conv,
    "max_pool": _keras_pool, "average_pool": _keras_pool,
    "conv2d_backward_weight": _conv2d_backward_weight,
    "conv2d_backward_weight_fused": _conv2d_backward_weight_fused,
    "conv2d_backward_bias": lambda rng: ([_nhwc(rng, _dtype(rng))], {}),
    "depthwise_conv2d": _depthwise_conv2d,
    "depthwise_conv2d_backward_input": _depthwise_conv2d_backward_input,
    "depthwise_conv2d_backward_weight": _depthwise_conv2d_backward_weight,
    "max_pool2d": _pool, "avg_pool2d": _pool, "max_pool2d_with_argmax": _pool,
    "max_pool2d_backward": _pool_backward("max_pool2d"),
    "avg_pool2d_backward": _pool_backward("avg_pool2d"),
    "max_pool2d_backward_argmax": _argmax_backward,
    "global_avg_pool2d": lambda rng: ([_nhwc(rng, _dtype(rng))], {}),
    "global_avg_pool2d_backward": _global_pool_backward,
    "bias_add": _bias, "bias_grad": _unary(), "add_act": _add_act,
    "layer_norm": _layer_norm, "layer_norm_backward": _layer_norm_backward,
    "group_norm": _group_norm, "group_norm_backward": _group_norm_backward,
    "upsample2d": _upsample, "upsample2d_backward": _upsample_backward,
    "batch_norm_train": _bn_train_act, "batch_norm_inference": _bn_inference,
    "batch_norm_backward": _bn_backward_act,
    "dropout": _dropout, "dropout_backward": _dropout_backward,
    "softmax": _unary(), "log_softmax": _unary(),
    "softmax_backward": _unary_backward(), "log_softmax_backward": _unary_backward(),
    "softmax_cross_entropy": _xent, "sparse_softmax_cross_entropy": _sparse_xent,
    "sigmoid_binary_cross_entropy": _bce,
    "sgd_step": lambda rng: (_state(rng, 1), dict(lr=0.1, momentum=0.9)),
    "adam_step": lambda rng: (_state(rng, 2), dict(lr=0.01, step=3)),
    "rmsprop_step": lambda rng: (_state(rng, 1), dict(lr=0.01)),
}

# Parameters of activations that take one.
_ACT_PARAMS = {"elu": {"alpha": 0.7}, "leaky_relu": {"negative_slope": 0.1},
               "thresholded_relu": {"theta": 0.5}, "gelu": {"approximate": True}}
# Functions that are not array ops: they are fuzzed with their own hostile arguments.
RUNTIME = {"active_isa", "available_isas", "get_num_threads", "info", "set_num_threads", "use_isa",
           "get_winograd", "set_winograd"}

# Ops with NumPy's semantics (keras.ops' NumPy-category functions, matmul among them, and the
# moments and losses written with them): they take integers and promote dtypes as NumPy does,
# and the fuzzer hunts for crashes and silent corruption at the C++ boundary, which these reach
# only through the kernel ops fuzzed here (gemm, dense, ...); a zero-stride view of 2**59
# elements would only make NumPy loop for hours.
_KERNEL_MODULES = ("nncore.ops._", "nncore.ops.nn_activations", "nncore.ops.nn_conv_pool")
NUMPY_SEMANTICS = {"matmul"}
NUMPY_ONLY = NUMPY_SEMANTICS | {name for name in ops.__all__
              if name not in RUNTIME
              and not getattr(getattr(ops, name), "__module__", "").startswith(_KERNEL_MODULES)}

for _name in NUMPY_SEMANTICS:
    SPECS.pop(_name, None)

for _name in ops.__all__:
    if _name in SPECS or _name in RUNTIME or _name in NUMPY_ONLY:
        continue
    _base = _name.split("_backward")[0]
    _extra = _ACT_PARAMS.get(_base)
    SPECS[_name] = _unary_backward(_extra) if "_backward" in _name else _unary(_extra)

# Arguments updated in place (their values before and after are compared).
IN_PLACE = {"sgd_step": (0, 2), "adam_step": (0, 2, 3), "rmsprop_step": (0, 2)}


def _layers():
    """``(constructor, input shape without the batch)`` of every layer the fuzzer calls."""
    from nncore import layers as L

    return {
        "Dense": (lambda: L.Dense(3, activation="relu"), (5,)),
        "Conv2D": (lambda: L.Conv2D(2, 3, padding="same", activation="relu"), (6, 6, 2)),
        "MaxPooling2D": (lambda: L.MaxPooling2D(2), (6, 6, 2)),
        "AveragePooling2D": (lambda: L.AveragePooling2D(2, padding="same"), (5, 5, 2)),
        "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), (4, 4, 3)),
        "Flatten": (lambda: L.Flatten(), (3, 4)),
        "Reshape": (lambda: L.Reshape((4, 3)), (12,)),
        "Dropout": (lambda: L.Dropout(0.4, seed=1), (7,)),
        "BatchNormalization": (lambda: L.BatchNormalization(), (4,)),
        "Activation": (lambda: L.Activation("softmax"), (6,)),
        "ReLU": (lambda: L.ReLU(max_value=2.0), (6,)),
        "LeakyReLU": (lambda: L.LeakyReLU(), (6,)),
        "PReLU": (lambda: L.PReLU(), (6,)),
        "ELU": (lambda: L.ELU(), (6,)),
        "ThresholdedReLU": (lambda: L.ThresholdedReLU(), (6,)),
        "Softmax": (lambda: L.Softmax(), (6,)),
        "Maxout": (lambda: L.Maxout(2), (6,)),
    }


LAYERS = _layers()
