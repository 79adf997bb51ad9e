"""The argument checks of the bindings (nncore._core), called directly as a user of the extension
could: arrays in non-native byte order, memory overlap, the int32 positions of max pooling, the
GIL convention of DESIGN.md, and one definition of every name in the public C++ headers."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

import nncore
from nncore import _core

from conftest import REPO_ROOT

F = np.float32
SWAPPED = np.dtype(F).newbyteorder()


def _r(*shape, dtype=F):
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(dtype)


def _conv_fwd():
    return dict(x=_r(2, 5, 5, 3), w=_r(3, 3, 3, 4), bias=_r(4), y=np.empty((2, 3, 3, 4), F),
                strides=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), relu=False)


def _conv_bin():
    return dict(grad_y=_r(2, 3, 3, 4), w=_r(3, 3, 3, 4), grad_x=np.empty((2, 5, 5, 3), F),
                strides=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1))


def _conv_bw():
    return dict(x=_r(2, 5, 5, 3), grad_y=_r(2, 3, 3, 4), grad_w=np.empty((3, 3, 3, 4), F),
                strides=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), accumulate=False)


def _dw_fwd():
    return dict(x=_r(2, 5, 5, 3), w=_r(3, 3, 3, 2), bias=_r(6), y=np.empty((2, 3, 3, 6), F),
                strides=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1))


def _dw_bin():
    return dict(grad_y=_r(2, 3, 3, 6), w=_r(3, 3, 3, 2), grad_x=np.empty((2, 5, 5, 3), F),
                strides=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1))


def _dw_bw():
    return dict(x=_r(2, 5, 5, 3), grad_y=_r(2, 3, 3, 6), grad_w=np.empty((3, 3, 3, 2), F),
                strides=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), accumulate=False)


POOL = dict(pool_size=(2, 2), strides=(2, 2), padding=(0, 0))


def _argmax():
    x = _r(2, 4, 4, 3)
    am = np.empty((2, 2, 2, 3), np.int32)
    _core.max_pool2d_forward(x, np.empty((2, 2, 2, 3), F), am, **POOL)
    return am


# A valid direct call of every binding that takes arrays: name -> keyword arguments.
CALLS = {
    "gemm": lambda: dict(a=_r(3, 4), b=_r(4, 5), c=_r(3, 5), alpha=1.0, beta=0.5, trans_a=False,
                         trans_b=False, bias=_r(5)),
    "dense": lambda: dict(x=_r(3, 4), kernel=_r(4, 5), bias=_r(5), relu=True,
                          out=np.empty((3, 5), F)),
    "conv2d_forward": _conv_fwd,
    "conv2d_backward_input": _conv_bin,
    "conv2d_backward_weight": _conv_bw,
    "depthwise_conv2d_forward": _dw_fwd,
    "depthwise_conv2d_backward_input": _dw_bin,
    "depthwise_conv2d_backward_weight": _dw_bw,
    "max_pool2d_forward": lambda: dict(x=_r(2, 4, 4, 3), y=np.empty((2, 2, 2, 3), F),
                                       argmax=np.empty((2, 2, 2, 3), np.int32), **POOL),
    "max_pool2d_backward": lambda: dict(grad_y=_r(2, 2, 2, 3), x=_r(2, 4, 4, 3),
                                        grad_x=np.empty((2, 4, 4, 3), F), **POOL),
    "max_pool2d_backward_argmax": lambda: dict(grad_y=_r(2, 2, 2, 3), argmax=_argmax(),
                                               grad_x=np.empty((2, 4, 4, 3), F), **POOL),
    "avg_pool2d_forward": lambda: dict(x=_r(2, 4, 4, 3), y=np.empty((2, 2, 2, 3), F), **POOL),
    "avg_pool2d_backward": lambda: dict(grad_y=_r(2, 2, 2, 3), grad_x=np.empty((2, 4, 4, 3), F),
                                        **POOL),
    "global_avg_pool2d_forward": lambda: dict(x=_r(2, 4, 4, 3), y=np.empty((2, 3), F)),
    "global_avg_pool2d_backward": lambda: dict(grad_y=_r(2, 3), grad_x=np.empty((2, 4, 4, 3), F)),
    "bias_add": lambda: dict(x=_r(3, 4), bias=_r(4), out=np.empty((3, 4), F)),
    "bias_grad": lambda: dict(grad_y=_r(3, 4), out=np.empty(4, F)),
    "batch_norm_train": lambda: dict(x=_r(5, 3), gamma=_r(3), beta=_r(3), epsilon=1e-3),
    "batch_norm_inference": lambda: dict(x=_r(5, 3), gamma=_r(3), beta=_r(3), moving_mean=_r(3),
                                         moving_var=np.abs(_r(3)) + 1, epsilon=1e-3),
    "batch_norm_backward": lambda: dict(grad_y=_r(5, 3), x=_r(5, 3), gamma=_r(3),
                                        batch_mean=_r(3), inv_std=np.abs(_r(3)) + 1),
    "dropout": lambda: dict(x=_r(4, 5), rate=0.5, seed=3),
    "dropout_backward": lambda: dict(grad_y=_r(4, 5), mask=np.ones((4, 5), bool), rate=0.5),
    "softmax": lambda: dict(x=_r(3, 4), out=np.empty((3, 4), F)),
    "log_softmax": lambda: dict(x=_r(3, 4), out=np.empty((3, 4), F)),
    "softmax_backward": lambda: dict(grad_y=_r(3, 4), y=_r(3, 4), out=np.empty((3, 4), F)),
    "log_softmax_backward": lambda: dict(grad_y=_r(3, 4), y=_r(3, 4), out=np.empty((3, 4), F)),
    "softmax_cross_entropy": lambda: dict(logits=_r(3, 4), y_true=np.eye(4, dtype=F)[:3]),
    "sparse_softmax_cross_entropy": lambda: dict(logits=_r(3, 4), labels=np.arange(3)),
    "sigmoid_binary_cross_entropy": lambda: dict(logits=_r(3, 4), y_true=np.ones((3, 4), F)),
    "sgd_step": lambda: dict(param=_r(6), grad=_r(6), velocity=_r(6), lr=0.1, momentum=0.9,
                             nesterov=False, weight_decay=0.0),
    "adam_step": lambda: dict(param=_r(6), grad=_r(6), m=_r(6), v=np.abs(_r(6)),
                              amsgrad_vhat=np.abs(_r(6)), lr=0.1, beta1=0.9, beta2=0.99,
                              epsilon=1e-7, step=2.0, weight_decay=0.0),
    "rmsprop_step": lambda: dict(param=_r(6), grad=_r(6), rms=np.abs(_r(6)), momentum_buf=_r(6),
                                 mg=_r(6), lr=0.1, rho=0.9, momentum=0.5, epsilon=1e-7,
                                 weight_decay=0.0),
}

# The fused convolution backward (ReLU mask, bias gradient and weight gradient in one pass).
CALLS["conv2d_backward_weight_fused"] = lambda: dict(
    _conv_bw(), relu_output=np.abs(_r(2, 3, 3, 4)), grad_bias=np.empty(4, F),
    grad_y_out=np.empty((2, 3, 3, 4), F))

# The residual add with its activation.
CALLS["add_act"] = lambda: dict(x1=_r(3, 4), x2=_r(3, 4), activation="relu", out=np.empty((3, 4), F))

# Layer / group normalization and upsampling.
CALLS.update({
    "layer_norm_forward": lambda: dict(x=_r(5, 3), gamma=_r(3), beta=_r(3), epsilon=1e-3,
                                       center=True),
    "layer_norm_backward": lambda: dict(grad_y=_r(5, 3), x=_r(5, 3), gamma=_r(3), mean=_r(5),
                                        inv_std=np.abs(_r(5)) + 1, center=True),
    "group_norm_forward": lambda: dict(x=_r(2, 3, 4), gamma=_r(4), beta=_r(4), groups=2,
                                       epsilon=1e-3),
    "group_norm_backward": lambda: dict(grad_y=_r(2, 3, 4), x=_r(2, 3, 4), gamma=_r(4),
                                        mean=_r(2, 2), inv_std=np.abs(_r(2, 2)) + 1, groups=2),
    "upsample2d_forward": lambda: dict(x=_r(2, 3, 3, 2), size=(2, 2), interpolation="bilinear"),
    "upsample2d_backward": lambda: dict(grad_y=_r(2, 6, 6, 2), size=(2, 2),
                                        interpolation="bilinear"),
})

ACTIVATION_PARAMS = {"elu": "alpha", "leaky_relu": "negative_slope", "thresholded_relu": "theta"}
NOT_ARRAY_OPS = {"openmp_runtime", "get_num_threads", "set_num_threads", "active_isa",
                 "detected_isa", "supported_isas", "set_isa", "gemm_config", "_set_gemm_tuning",
                 "get_winograd", "set_winograd", "conv2d_wgrad_winograd",
                 "set_conv2d_wgrad_winograd"}


def _activation_call(name):
    base = name.split("_backward")[0]
    extra = {ACTIVATION_PARAMS[base]: 0.5} if base in ACTIVATION_PARAMS else {}
    if name.endswith("_backward_from_output"):
        return lambda: dict(grad_y=_r(3, 4), y=_r(3, 4), out=np.empty((3, 4), F), **extra)
    if name.endswith("_backward"):
        return lambda: dict(grad_y=_r(3, 4), x=_r(3, 4), out=np.empty((3, 4), F), **extra)
    return lambda: dict(x=_r(3, 4), out=np.empty((3, 4), F), **extra)


for _name in dir(_core):
    if callable(getattr(_core, _name)) and not _name.startswith("__") and _name not in CALLS \
            and _name not in NOT_ARRAY_OPS:
        CALLS[_name] = _activation_call(_name)

ARRAY_ARGS = sorted((name, arg) for name, make in CALLS.items()
                    for arg, v in make().items() if isinstance(v, np.ndarray) and v.dtype != bool)


def test_every_binding_has_a_valid_call():
    for name, make in CALLS.items():
        getattr(_core, name)(**make())


@pytest.mark.parametrize("name,arg", ARRAY_ARGS, ids=[f"{n}-{a}" for n, a in ARRAY_ARGS])
def test_byte_swapped_arrays_are_refused_naming_the_argument(name, arg):
    """Same values in the other byte order: the kernels would read them as garbage."""
    kwargs = CALLS[name]()
    a = kwargs[arg]
    kwargs[arg] = a.astype(a.dtype.newbyteorder())
    with pytest.raises(nncore.DTypeError, match=rf"'{arg}'.*byte order"):
        getattr(_core, name)(**kwargs)


def test_byte_swapped_outputs_in_an_out_tuple_are_refused():
    x = _r(5, 3)
    for name, kwargs, count in [("batch_norm_train", dict(gamma=None, beta=None, epsilon=1e-3), 4),
                                ("softmax_cross_entropy", dict(y_true=np.ones((5, 3), F)), 2)]:
        out = [None] * count
        out[-1] = np.empty(3 if name == "batch_norm_train" else (5, 3), SWAPPED)
        with pytest.raises(nncore.DTypeError, match=r"'out\[.*byte order"):
            getattr(_core, name)(x, **kwargs, out=tuple(out))


def _overlap_cases():
    buf = np.zeros(64, F)
    x4 = buf[:48].reshape(2, 4, 2, 3)  # shares its first elements with every `out` below
    return [
        ("gemm", lambda: _core.gemm(buf[:12].reshape(3, 4), _r(4, 3), buf[:9].reshape(3, 3), 1.0,
                                    0.0, False, False), "c", "a"),
        ("conv2d_forward", lambda: _core.conv2d_forward(x4, _r(1, 1, 3, 3), None, buf[16:64].reshape(2, 4, 2, 3),
                                                        (1, 1), (0, 0, 0, 0), (1, 1), False), "y", "x"),
        ("max_pool2d_forward", lambda: _core.max_pool2d_forward(x4, buf[:12].reshape(2, 2, 1, 3), None,
                                                                (2, 2), (2, 2), (0, 0)), "y", "x"),
        ("avg_pool2d_backward", lambda: _core.avg_pool2d_backward(buf[:12].reshape(2, 2, 1, 3), x4,
                                                                  (2, 2), (2, 2), (0, 0)), "grad_x", "grad_y"),
        ("bias_add", lambda: _core.bias_add(buf[:12].reshape(4, 3), buf[10:13], buf[:12].reshape(4, 3)),
         "out", "bias"),
        ("relu", lambda: _core.relu(buf[:9], out=buf[1:10]), "out", "x"),
        ("add_act", lambda: _core.add_act(_r(9), buf[:9], out=buf[1:10]), "out", "x2"),
        ("softmax_cross_entropy", lambda: _core.softmax_cross_entropy(
            buf[:12].reshape(4, 3), np.ones((4, 3), F), out=(buf[6:18].reshape(4, 3), None)),
         "out[0] (probs)", None),
    ]


@pytest.mark.parametrize("case", _overlap_cases(), ids=lambda c: c[0])
def test_overlap_is_refused_by_one_rule_with_one_message(case):
    """Every binding applies the same overlap check (validate.h) and says the same thing."""
    _, call, out_name, in_name = case
    other = re.escape(in_name) if in_name else "[^']+"
    pattern = rf"argument '{re.escape(out_name)}' shares memory with '{other}'"
    with pytest.raises(ValueError, match=pattern):
        call()


# Elements per image just past what int32 positions can index: (2**16) * (2**15 + 1) > 2**31 - 1.
BIG_IMAGE = (1, 2**16, 2**15 + 1, 1)
BIG_POOLED = (1, 2**15, 2**14, 1)


def _zero_view(shape):
    """An array of any shape that allocates one element (zero strides, read-only)."""
    return np.broadcast_to(np.zeros((), F), shape)


def test_max_pool_backward_refuses_images_int32_positions_cannot_index():
    with pytest.raises(nncore.ShapeError, match="int32"):
        _core.max_pool2d_backward(_zero_view(BIG_POOLED), _zero_view(BIG_IMAGE),
                                  _zero_view(BIG_IMAGE), (2, 2), (2, 2), (0, 0))


def test_max_pool_backward_argmax_refuses_images_int32_positions_cannot_index():
    argmax = np.broadcast_to(np.zeros((), np.int32), BIG_POOLED)
    for pool in [None, (2, 2)]:
        with pytest.raises(nncore.ShapeError, match="int32"):
            _core.max_pool2d_backward_argmax(_zero_view(BIG_POOLED), argmax, _zero_view(BIG_IMAGE),
                                             pool, (2, 2), (0, 0))


def test_int32_position_limit_is_exactly_int32_max_elements():
    """2**31 - 1 elements per image pass the position check (and are refused for their layout)."""
    edge = (1, 1, 2**31 - 1, 1)
    pooled = (1, 1, 2**30 - 1, 1)
    with pytest.raises(nncore.ShapeError, match="C-contiguous") as info:
        _core.max_pool2d_backward(_zero_view(pooled), _zero_view(edge), _zero_view(edge),
                                  (1, 2), (1, 2), (0, 0))
    assert "int32" not in str(info.value)


def _released_regions(text):
    """The code from each GIL release to the end of its enclosing block."""
    for m in re.finditer(r"py::gil_scoped_release\s+\w+;|GilRelease\s+\w+\([^;]*;", text):
        depth, i = 0, m.end()  # a GilRelease's size argument is read before the release
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                if depth == 0:
                    break
                depth -= 1
            i += 1
        yield text[m.start():i]


BINDINGS = sorted(p for p in (REPO_ROOT / "cpp" / "bindings").iterdir() if p.suffix in (".cpp", ".inc"))


@pytest.mark.parametrize("path", BINDINGS, ids=lambda p: p.name)
def test_no_python_object_is_touched_after_the_gil_is_released(path):
    """DESIGN.md convention 5: views and shapes are read while holding the GIL; the released
    region runs the computation on raw pointers and sizes read before."""
    text = path.read_text()
    for region in _released_regions(text):
        found = re.findall(r"\.(?:shape|strides|ndim|size|nbytes|itemsize|data|mutable_data|dtype|"
                           r"flags|writeable)\(|\bpy::\w+|size_of\(", region[region.index(";"):])
        assert not found, f"{path.name}: {found} after the GIL is released:\n{region}"


@pytest.mark.parametrize("path", BINDINGS, ids=lambda p: p.name)
def test_bindings_check_arguments_through_the_validation_module(path):
    """dtype / byte order, layout and overlap rules live in validate.inc only."""
    text = path.read_text()
    if path.name in ("validate.inc", "module.cpp") or "py::array" not in text:
        return
    assert '#include "validate.h"' in text
    for own_rule in [r"\.byteorder\(\)", r"uintptr_t", r"\.flags\(\)", r"npy_api::NPY_ARRAY"]:
        assert not re.search(own_rule, text), f"{path.name} checks {own_rule} itself"


def test_public_headers_define_every_name_once():
    """All public C++ headers in one translation unit: two different definitions of one name
    (such as two nncore::Activation enums) do not compile together."""
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler to compile the headers with")
    include = REPO_ROOT / "cpp" / "include"
    headers = sorted(p.relative_to(include).as_posix() for p in include.rglob("*.h"))
    source = "".join(f'#include "{h}"\n' for h in headers) + "int main() { return 0; }\n"
    proc = subprocess.run([cxx, "-std=c++17", "-fsyntax-only", "-I", str(include), "-x", "c++", "-"],
                          input=source, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
