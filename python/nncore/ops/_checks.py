"""Argument checks shared by the ``nncore.ops`` wrappers: dtype policy, layout, int pairs."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import DTypeError, ShapeError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# More bytes than a 48-bit address space: no such array can be held in memory, yet zero-stride
# views can claim these shapes. Refusing them before any copy or allocation gives a clear error
# instead of a MemoryError (or an overflowing size) further down.
MAX_BYTES = 1 << 48


def check_addressable(arr: np.ndarray, name: str) -> None:
    """Raises ShapeError when ``arr`` claims more bytes than any memory can hold."""
    if arr.size * arr.itemsize > MAX_BYTES:
        raise ShapeError(f"argument '{name}' has shape {arr.shape}: {arr.size} elements of "
                         f"{arr.dtype} are more than any memory can hold")


def as_float_array(x, name: str) -> np.ndarray:
    """Returns ``x`` as a C-contiguous, aligned float32/float64 array.

    Other dtypes are refused rather than converted: an int or float16 input would otherwise be
    computed in a precision the caller did not ask for. Non-contiguous, misaligned or negatively
    strided views are copied, so any view gives a correct result.
    """
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype not in FLOAT_DTYPES:
        raise DTypeError(
            f"argument '{name}' must be a float32 or float64 array, got dtype {arr.dtype}"
        )
    check_addressable(arr, name)
    return np.require(arr, requirements=("C", "A"))


def same_dtype(ref_name: str, ref: np.ndarray, **others: np.ndarray) -> None:
    """Raises DTypeError unless every array in ``others`` has the dtype of ``ref``."""
    for name, arr in others.items():
        if arr is not None and arr.dtype != ref.dtype:
            raise DTypeError(
                f"argument '{name}' has dtype {arr.dtype} but '{ref_name}' has dtype "
                f"{ref.dtype}; both must match"
            )


def require_ndim(arr: np.ndarray, ndim: int, name: str, what: str = "") -> None:
    if arr.ndim != ndim:
        layout = f" ({what})" if what else ""
        raise ShapeError(f"argument '{name}' must be {ndim}-D{layout}, got shape {arr.shape}")


def int_pair(value, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Normalizes an int or a pair of ints (Keras style) and checks it is >= ``minimum``."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
        if len(items) != 2 or not all(
            isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in items
        ):
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
        pair = (int(items[0]), int(items[1]))
    if pair[0] < minimum or pair[1] < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair
