"""Shape ops of ``keras.ops`` (no arithmetic: values are moved, the gradient moved back).

The VJPs keep only shapes and axes, never the operand's values."""

from __future__ import annotations

import numpy as np

from ..autodiff.tape import lift, record, unbroadcast

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "ravel", "swapaxes", "moveaxis",
           "flip", "concatenate", "stack", "hstack", "vstack", "split", "array_split",
           "broadcast_to", "tile", "repeat", "pad", "roll"]


def _to_shape(shape):
    return lambda g, need: (np.reshape(g, shape),)


def _check_newshape(newshape):
    dims = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    unknown = 0
    for d in dims:
        if d < -1:
            raise ValueError(f"reshape: each dimension must be a non-negative integer or -1 "
                             f"(one unknown dimension), got newshape={dims}")
        unknown += d == -1
    if unknown > 1:
        raise ValueError(f"reshape: there can be at most one unknown dimension (-1), got "
                         f"newshape={dims}")


def reshape(x, newshape):
    a, na = lift(x)
    try:
        out = a.reshape(newshape) if type(a) is np.ndarray else np.reshape(a, newshape)
    except ValueError:
        _check_newshape(newshape)
        raise
    if type(newshape) is not int and not isinstance(newshape, np.integer):
        for d in newshape:
            if d < -1:
                _check_newshape(newshape)     # NumPy takes any negative size for -1
    if na is None:
        return out
    return record(out, (na,), _to_shape(np.shape(a)))


def ravel(x):
    a, na = lift(x)
    out = np.ravel(a)
    if na is None:
        return out
    return record(out, (na,), _to_shape(np.shape(a)))


def expand_dims(x, axis):
    a, na = lift(x)
    out = np.expand_dims(a, axis)
    if na is None:
        return out
    return record(out, (na,), _to_shape(np.shape(a)))


def squeeze(x, axis=None):
    a, na = lift(x)
    out = np.squeeze(a, axis)
    if na is None:
        return out
    return record(out, (na,), _to_shape(np.shape(a)))


def transpose(x, axes=None):
    a, na = lift(x)
    out = np.transpose(a, axes)
    if na is None:
        return out
    ndim = np.ndim(a)
    inverse = None if axes is None else tuple(np.argsort([int(ax) % ndim for ax in axes]))
    return record(out, (na,), lambda g, need: (np.transpose(g, inverse),))


def swapaxes(x, axis1, axis2):
    a, na = lift(x)
    out = np.swapaxes(a, axis1, axis2)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (np.swapaxes(g, axis1, axis2),))


def moveaxis(x, source, destination):
    a, na = lift(x)
    out = np.moveaxis(a, source, destination)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (np.moveaxis(g, destination, source),))


def flip(x, axis=None):
    a, na = lift(x)
    out = np.flip(a, axis)
    if na is None:
        return out
    return record(out, (na,), lambda g, need: (np.flip(g, axis),))


def roll(x, shift, axis=None):
    a, na = lift(x)
    out = np.roll(a, shift, axis)
    if na is None:
        return out
    back = np.negative(shift)
    return record(out, (na,), lambda g, need: (np.roll(g, back, axis),))


def _pieces_vjp(sizes, axis):
    """VJP of an op that joins its operands along ``axis`` (each of extent ``sizes[i]``)."""
    bounds = np.cumsum(sizes)[:-1]

    def vjp(g, need):
        return tuple(np.split(g, bounds, axis=axis))
    return vjp


def concatenate(xs, axis=0):
    lifted = [lift(x) for x in xs]
    values = [v for v, _ in lifted]
    out = np.concatenate(values, axis=axis)
    nodes = tuple(n for _, n in lifted)
    if all(n is None for n in nodes):
        return out
    if axis is None:
        sizes = [np.size(v) for v in values]
        shapes = [np.shape(v) for v in values]

        def vjp(g, need):
            parts = np.split(g, np.cumsum(sizes)[:-1])
            return tuple(np.reshape(p, s) for p, s in zip(parts, shapes))
        return record(out, nodes, vjp)
    axis = int(axis) % out.ndim
    return record(out, nodes, _pieces_vjp([np.shape(v)[axis] for v in values], axis))


def stack(x, axis=0):
    lifted = [lift(v) for v in x]
    out = np.stack([v for v, _ in lifted], axis=axis)
    nodes = tuple(n for _, n in lifted)
    if all(n is None for n in nodes):
        return out
    axis = int(axis) % out.ndim
    count = out.shape[axis]
    return record(out, nodes, lambda g, need: tuple(
        np.take(g, i, axis=axis) if need[i] else None for i in range(count)))


def hstack(xs):
    values = [lift(x)[0] for x in xs]
    return concatenate(xs, axis=0 if all(np.ndim(v) == 1 for v in values) else 1)


def vstack(xs):
    lifted = [lift(x) for x in xs]
    if all(np.ndim(v) >= 2 for v, _ in lifted):
        return concatenate(xs, axis=0)
    return concatenate([reshape(x, (1, -1)) if np.ndim(v) < 2 else x
                        for x, (v, _) in zip(xs, lifted)], axis=0)


def _split(numpy_split, x, indices_or_sections, axis):
    a, na = lift(x)
    pieces = numpy_split(a, indices_or_sections, axis=axis)
    if na is None:
        return pieces
    # Each piece scatters its gradient into zeros of the whole operand: pieces that are not
    # used cost nothing, and the engine adds up those that are.
    shape, dtype = np.shape(a), np.result_type(a)
    axis = int(axis) % len(shape)
    starts = np.cumsum([0] + [p.shape[axis] for p in pieces])
    result = []
    for i, piece in enumerate(pieces):
        region = (slice(None),) * axis + (slice(int(starts[i]), int(starts[i + 1])),)

        def vjp(g, need, region=region):
            full = np.zeros(shape, dtype)
            full[region] = g
            return (full,)
        result.append(record(piece, (na,), vjp))
    return result


def split(x, indices_or_sections, axis=0):
    """``np.split``: a list of pieces (``indices_or_sections`` must divide the axis evenly when
    it is an integer)."""
    return _split(np.split, x, indices_or_sections, axis)


def array_split(x, indices_or_sections, axis=0):
    """``np.array_split``: like ``split`` but the sections may be unequal."""
    return _split(np.array_split, x, indices_or_sections, axis)


def broadcast_to(x, shape):
    a, na = lift(x)
    out = np.broadcast_to(a, shape)
    if na is None:
        return out
    src = np.shape(a)
    return record(out, (na,), lambda g, need: (unbroadcast(g, src),))


def tile(x, repeats):
    a, na = lift(x)
    out = np.tile(a, repeats)
    if na is None:
        return out
    src = np.shape(a)
    reps = (int(repeats),) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    d = max(len(src), len(reps))
    padded = (1,) * (d - len(src)) + src
    reps = (1,) * (d - len(reps)) + reps
    interleaved = tuple(v for pair in zip(reps, padded) for v in pair)
    rep_axes = tuple(range(0, 2 * d, 2))

    def vjp(g, need):
        # The output axis k holds reps[k] copies of the input axis: split it in (copy, index)
        # and sum over the copies.
        return (np.reshape(np.sum(np.reshape(g, interleaved), axis=rep_axes), src),)
    return record(out, (na,), vjp)


def repeat(x, repeats, axis=None):
    a, na = lift(x)
    out = np.repeat(a, repeats, axis=axis)
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    ax = 0 if axis is None else int(axis) % len(shape)
    extent = int(np.prod(shape)) if axis is None else shape[ax]
    # Output position -> source position along the axis; the gradient is summed back there.
    owner = np.repeat(np.arange(extent), repeats)

    def vjp(g, need):
        full = np.zeros((extent,) + (() if axis is None else shape[:ax] + shape[ax + 1:]), dtype)
        np.add.at(full, owner, g if axis is None else np.moveaxis(g, ax, 0))
        return (np.reshape(full, shape) if axis is None else np.moveaxis(full, 0, ax),)
    return record(out, (na,), vjp)


_MOVING_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=None):
    """``np.pad``. Differentiable for ``mode`` "constant" and for the modes that copy elements
    ("edge", "reflect", "symmetric", "wrap"); the statistics modes have no gradient here."""
    a, na = lift(x)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: Argument `constant_values` can only be provided when "
                         f"`mode == 'constant'`, got mode={mode!r}")
    if mode == "constant":
        out = np.pad(a, pad_width, mode="constant",
                     constant_values=0 if constant_values is None else constant_values)
    else:
        out = np.pad(a, pad_width, mode=mode)
    if na is None:
        return out
    shape, dtype = np.shape(a), np.result_type(a)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (len(shape), 2))
    if mode == "constant":
        region = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, shape))
        return record(out, (na,), lambda g, need: (g[region],))
    if mode not in _MOVING_MODES:
        raise NotImplementedError(f"pad: mode={mode!r} is not differentiable here; use one of "
                                  f"'constant', {', '.join(map(repr, _MOVING_MODES))}")
    # Padding the element numbers the same way tells where each output element came from.
    source = np.pad(np.arange(int(np.prod(shape))).reshape(shape), pad_width, mode=mode).ravel()
    size = int(np.prod(shape))

    def vjp(g, need):
        summed = np.bincount(source, weights=np.ravel(g), minlength=size)
        return (summed.reshape(shape).astype(dtype, copy=False),)
    return record(out, (na,), vjp)
