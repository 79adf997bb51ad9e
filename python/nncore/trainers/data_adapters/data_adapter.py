"""The interface every data adapter implements."""

from __future__ import annotations


class UnrecognizedDataError(ValueError, TypeError):
    """Data of a kind no adapter reads (a ValueError as in Keras; a TypeError as before)."""


class DataAdapter:
    """One source of batches for ``fit``/``evaluate``/``predict``.

    Life cycle: ``sample_x()`` (raw inputs of a first batch, so that an unbuilt ``Sequential``
    can be built from the data), ``bind(io)`` (checks the data against the model's inputs and
    outputs, a ``ModelIO``), then per epoch ``on_epoch_begin()``, ``iterator()`` and ``on_epoch_end()``, and finally
    ``close()``. Batches are ``(xs, ys, sample_weight)``: lists of arrays (inputs already in the
    model's dtype, ys None when predicting) and per-sample weights or None.
    """

    #: batches per pass over the data, or None when unknown (generators)
    num_batches = None
    #: whether preparing a batch costs enough (user code, conversions) to run it on a
    #: background thread while the previous batch computes
    prefetch = False
    #: whether one ``iterator()`` continues where the last epoch stopped (a Python generator)
    #: instead of starting over
    single_pass = False

    def sample_x(self):
        raise NotImplementedError

    def bind(self, io, need_y: bool) -> None:
        raise NotImplementedError

    def iterator(self):
        raise NotImplementedError

    def on_epoch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass

    def close(self) -> None:
        pass
