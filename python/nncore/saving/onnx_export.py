"""``model.export(path, format="onnx")``: the model's inference graph as an ONNX file (opset 17).

Inputs and outputs are channels-last with a dynamic batch dimension, exactly as nncore's.
Regularization and augmentation layers are left out (they are the identity at inference) and
BatchNormalization uses its moving statistics. The ``onnx`` package is needed only here.
"""

from __future__ import annotations

import os

import numpy as np

from ._atomic import atomic_write

OPSET = 17

# Operators that ONNX Runtime's CPU provider has no float64 kernel for: a float64 model using
# them would be a valid ONNX file that ONNX Runtime refuses to load.
_NO_FLOAT64_KERNEL = frozenset({"Conv", "ConvTranspose", "AveragePool", "Elu", "Selu", "Softplus", "Softsign",
                                "Erf", "ThresholdedRelu"})


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("exporting to ONNX needs the 'onnx' package: "
                          "pip install 'nncore[onnx]' (or pip install onnx)") from exc
    return onnx


def _model_dtype(model) -> np.dtype:
    dtypes = {np.dtype(layer.dtype) for layer in model._graph.layers}
    if len(dtypes) != 1:
        names = ", ".join(sorted(d.name for d in dtypes))
        raise ValueError(f"ONNX export: model '{model.name}' mixes dtypes ({names}); give every "
                         "layer one dtype")
    dtype = dtypes.pop()
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"ONNX export: dtype {dtype.name} is not supported (float32, float64)")
    return dtype


def _emit_graph(b, graph, values: dict) -> list:
    """Converts every step of ``graph``; ``values`` maps its input tensor ids to Values."""
    from ..models.model import Model
    from .onnx.builder import UnsupportedLayerError
    from .onnx.converters import CONVERTERS, MULTI_INPUT

    for step in graph.steps:
        layer = step.layer
        kind = type(layer)
        args = [values[i] for i in step.inputs]
        outer, outer_kind = b.layer, b.kind
        b.layer = layer.name if outer == "graph" else f"{outer}/{layer.name}"
        b.kind = kind.__name__
        try:
            if isinstance(layer, Model) and getattr(layer, "_graph", None) is not None \
                    and not layer._subclassed:
                inner = layer._graph
                if len(inner.output_ids) != 1:
                    raise UnsupportedLayerError(
                        f"ONNX export: nested model '{layer.name}' has several outputs")
                out = _emit_graph(b, inner, dict(zip(inner.input_ids, args)))[0]
            elif kind in MULTI_INPUT and step.multi:
                out = MULTI_INPUT[kind](b, layer, args)
            elif kind in CONVERTERS and not step.multi:
                out = CONVERTERS[kind](b, layer, args[0])
            else:
                raise UnsupportedLayerError(
                    f"ONNX export: layer '{layer.name}' of class {kind.__name__} is not "
                    "supported by the ONNX exporter")
        finally:
            b.layer, b.kind = outer, outer_kind
        values[step.output] = out
    return [values[i] for i in graph.output_ids]


def _value_info(helper, name, elem, shape):
    dims = ["batch" if i == 0 and d is None else (f"{name}_dim{i}" if d is None else int(d))
            for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, elem, dims)


def build_onnx_model(model):
    """The ``onnx.ModelProto`` of a built functional or Sequential nncore model."""
    onnx = _import_onnx()
    from .onnx.builder import NHWC, Builder, Value

    if getattr(model, "_graph", None) is None or not model.built:
        raise ValueError(f"ONNX export: model '{model.name}' is not built; call it on data "
                         "(or build it with an input shape) first")
    if model._subclassed:
        raise ValueError(f"ONNX export: model '{model.name}' is a subclassed model (its call() "
                         "is Python code); only functional and Sequential models are exported")
    dtype = _model_dtype(model)
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    b = Builder(onnx, dtype)
    graph = model._graph
    inputs, values = [], {}
    for i, t in zip(graph.input_ids, model.inputs):
        name = b.unique(t.node.layer.name)
        inputs.append(_value_info(onnx.helper, name, elem, t.shape))
        values[i] = Value(name, NHWC, t.shape)
    results = _emit_graph(b, graph, values)
    outputs = []
    for t, v in zip(model.outputs, results):
        name = b.unique(t.node.layer.name)
        b.layer = "output"
        b.node("Identity", [b.get(v, NHWC)], [name])
        outputs.append(_value_info(onnx.helper, name, elem, v.shape))
    if dtype == np.float64:
        for node in b.nodes:
            if node.op_type in _NO_FLOAT64_KERNEL:
                raise ValueError(
                    f"ONNX export: layer '{b.node_layer[node.name]}' needs the {node.op_type} "
                    "operator, which ONNX Runtime's CPU provider cannot run in float64; export "
                    "a float32 copy of the model")
    onnx_graph = onnx.helper.make_graph(b.nodes, model.name, inputs, outputs,
                                        initializer=b.initializers)
    proto = onnx.helper.make_model(onnx_graph, producer_name="nncore",
                                   opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, 8)  # readable by ONNX Runtime 1.17 and later
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model, filepath, verbose=None, input_signature=None, **kwargs):
    """Writes ``model`` to ``filepath`` as ONNX (atomically: a reader sees the old file or the
    complete new one)."""
    if input_signature is not None:
        raise ValueError("ONNX export: input_signature is not supported; the model's own input "
                         "shapes are used (with a dynamic batch dimension)")
    if kwargs:
        raise TypeError(f"ONNX export: unexpected arguments {', '.join(sorted(kwargs))}")
    proto = build_onnx_model(model)
    data = proto.SerializeToString()
    with atomic_write(os.fspath(filepath)) as f:
        f.write(data)
    if verbose:
        print(f"Saved ONNX model '{model.name}' ({len(proto.graph.node)} nodes, opset {OPSET}) "
              f"to {os.fspath(filepath)}")
