"""The text of ``Model.summary()``: Keras' table of layers, output shapes and parameter counts."""

from __future__ import annotations

from ..layers.base import InputLayer


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def format_summary(model, line_length=None, show_trainable=False) -> str:
    g = model._graph
    out_shape: dict[int, str] = {}
    connected: dict[int, list[str]] = {}
    names = {}
    multi = False
    for t, i in zip(model.inputs, g.input_ids):
        out_shape[id(t.node.layer)] = _shape(t.shape)
        names[i] = t.node.layer.name
    for s in g.steps:
        key = id(s.layer)
        shape = _shape(g.tensors[s.output].shape)
        out_shape[key] = "multiple" if key in out_shape and out_shape[key] != shape else shape
        names[s.output] = s.layer.name
        connected.setdefault(key, []).extend(names[i] for i in s.inputs)
        multi = multi or s.multi or len(s.inputs) > 1
    # Keras shows the wiring only when the graph is not a plain chain.
    with_connections = multi

    cols = [("Layer (type)", 34), ("Output Shape", 26), ("Param #", 12)]
    if with_connections:
        cols.append(("Connected to", 28))
    if show_trainable:
        cols.append(("Trainable", 10))
    width = line_length or sum(w for _, w in cols)

    def row(cells):
        text = ""
        for (_, w), c in zip(cols, cells):
            text += (str(c) + " ").ljust(w)
        return text.rstrip()

    lines = [f'Model: "{model.name}"', "_" * width, row([c for c, _ in cols]), "=" * width]
    for k, layer in enumerate(model.layers):
        params = layer.count_params() if layer.built else 0
        cells = [f"{layer.name} ({type(layer).__name__})", out_shape.get(id(layer), "?"), f"{params:,}"]
        if with_connections:
            cells.append(", ".join(connected.get(id(layer), [])) or "-")
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        lines.append(row(cells))
        lines.append(("=" if k == len(model.layers) - 1 else "_") * width)
    total = model.count_params()
    trainable = sum(v.size for v in model.trainable_weights)
    item = model.dtype.itemsize
    lines.append(f"Total params: {total:,} ({_fmt_bytes(total * item)})")
    lines.append(f"Trainable params: {trainable:,} ({_fmt_bytes(trainable * item)})")
    lines.append(f"Non-trainable params: {total - trainable:,} ({_fmt_bytes((total - trainable) * item)})")
    lines.append("_" * width)
    return "\n".join(lines)
