"""A model's inputs and outputs as the data adapters see them: the order, names and shapes that
turn what a user passes (an array, a list, a dict keyed by layer name) into one array per input
or output, checked."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .data_adapters.data_utils import check_numeric, sample_weights, to_numpy, unpack_x_y_sample_weight


def adjust_rank(a: np.ndarray, expected: tuple) -> np.ndarray:
    """Data one rank off an input: a trailing axis of size 1 dropped or added (Keras, for a
    model called directly; fit/predict refuse such data, as tests/test_models.py pins)."""
    if a.ndim == len(expected) + 1 and a.shape[-1] == 1:
        return a[..., 0]
    if a.ndim == len(expected) - 1 and expected[-1] == 1:
        return a[..., None]
    return a


class ModelIO:
    """Checks and orders data for ``model``: ``inputs(x)``, ``targets(y, n)``, ``batch(data)``."""

    def __init__(self, model):
        self.model_name = model.name
        self.input_tensors = list(model.inputs)
        self.input_names = list(model.input_names)
        self.output_names = list(model.output_names)
        heads = getattr(model, "_target_heads", None)
        # Targets are read for the outputs with a loss or a metric only (all before compile).
        self.target_index = ([h.index for h in heads] if heads
                             else list(range(len(self.output_names))))
        self.target_names = [self.output_names[i] for i in self.target_index]
        self.dtype = np.dtype(model.dtype)
        self._explain = model._explain_input_mismatch

    def inputs(self, x, what="x") -> list:
        n_in = len(self.input_names)
        if x is None:
            raise ValueError(f"{what} is required")
        if isinstance(x, Mapping):
            try:
                x = [x[name] for name in self.input_names]
            except KeyError as exc:
                raise ValueError(f"{what}: no array for input '{exc.args[0]}'; inputs: "
                                 f"{self.input_names}") from None
        if n_in > 1:
            if not isinstance(x, (list, tuple)) or len(x) != n_in:
                raise ValueError(f"model '{self.model_name}' has {n_in} inputs: pass {what} as a "
                                 f"list of {n_in} arrays")
            xs = list(x)
        elif isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):
            xs = [x[0]]
        else:
            xs = [x]
        out = []
        for arr, t in zip(xs, self.input_tensors):
            a = check_numeric(to_numpy(arr, what), what)
            expected = t.shape
            if a.ndim != len(expected) or any(e is not None and g != e
                                              for g, e in zip(a.shape[1:], expected[1:])):
                self._explain(a.shape, t)
            out.append(a)
        n = out[0].shape[0]
        for a in out[1:]:
            if a.shape[0] != n:
                raise ValueError(f"all inputs of {what} need the same number of samples, got "
                                 f"{[b.shape[0] for b in out]}")
        return out

    def targets(self, y, n, what="y") -> list:
        """One array per output that has a loss or a metric, in output order."""
        n_out, names = len(self.output_names), self.target_names
        if y is None:
            raise ValueError(f"{what} is required for training and evaluation")
        if isinstance(y, Mapping):
            try:
                ys = [y[name] for name in names]
            except KeyError as exc:
                raise ValueError(f"{what}: no array for output '{exc.args[0]}'; outputs: "
                                 f"{self.output_names}") from None
        elif n_out == 1:
            ys = [y]
        elif isinstance(y, (list, tuple)) and len(y) == n_out:
            ys = [y[i] for i in self.target_index]
        elif len(names) == 1 and not isinstance(y, (list, tuple)):
            ys = [y]
        elif isinstance(y, (list, tuple)) and len(y) == len(names):
            ys = list(y)
        else:
            raise ValueError(f"model '{self.model_name}' has {n_out} outputs: pass {what} as a "
                             f"list of {n_out} arrays (or a dict keyed by output name)")
        out = []
        for arr in ys:
            a = check_numeric(to_numpy(arr, what), what)
            if a.ndim == 0 or a.shape[0] != n:
                raise ValueError(f"x has {n} samples but {what} has "
                                 f"{a.shape[0] if a.ndim else 0} (shape {a.shape})")
            out.append(a)
        return out

    def batch(self, data, class_weight=None, need_y=True, what="batch"):
        """One batch from a generator or dataset -> ``(xs, ys, sample_weight)``, inputs cast to
        the model's dtype; ``ys`` is None when ``need_y`` is False (predict)."""
        x, y, sw = unpack_x_y_sample_weight(data)
        xs = [a if a.dtype == self.dtype else a.astype(self.dtype)
              for a in self.inputs(x, f"{what} x")]
        n = xs[0].shape[0]
        if not need_y:
            return xs, None, None
        if y is None:
            raise ValueError(f"{what}: the data yields inputs only; training and evaluation need "
                             "(x, y) or (x, y, sample_weight) batches")
        ys = self.targets(y, n, f"{what} y")
        return xs, ys, sample_weights(ys, n, sw, class_weight, what)
