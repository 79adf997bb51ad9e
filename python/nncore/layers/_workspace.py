"""Arrays a layer reuses from one training step to the next.

A training step's activations and input gradients live only until the next step, so the training
loop lets layers write them into arrays kept from the previous step instead of allocating fresh
ones: large fresh arrays cost page faults on every step (glibc hands them back to the OS when they
are freed). Outside a training step, and for a second call of one layer within one step (a layer
shared by two branches, whose first output is still needed), ``buffer`` returns None and the
caller allocates as usual, so arrays handed to users are never overwritten later.
"""

from __future__ import annotations

import contextlib

import numpy as np

_state = {"active": False, "token": 0}


@contextlib.contextmanager
def training_step():
    """Marks one training step: buffers handed out inside it are reused by the next one."""
    _state["token"] += 1
    _state["active"] = True
    try:
        yield
    finally:
        _state["active"] = False


def buffer(layer, key: str, shape: tuple, dtype) -> np.ndarray | None:
    """``layer``'s reusable array ``key`` of this shape and dtype, or None (allocate) outside a
    training step or when ``layer`` already used ``key`` in this step."""
    if not _state["active"]:
        return None
    store = layer.__dict__.setdefault("_step_buffers", {})
    token = _state["token"]
    entry = store.get(key)
    if entry is not None:
        arr, used = entry
        if used == token:
            return None
        if arr.shape != shape or arr.dtype != dtype:
            arr = np.empty(shape, dtype)
    else:
        arr = np.empty(shape, dtype)
    store[key] = (arr, token)
    return arr
