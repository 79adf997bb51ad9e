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

# "token": the step buffers are handed out for now; "issued": the newest token ever issued.
_state = {"active": False, "token": 0, "issued": 0}


def new_token() -> int:
    _state["issued"] += 1
    return _state["issued"]


def newest_token() -> int:
    """The token of the latest step: buffers of older steps may have been overwritten since."""
    return _state["issued"]


@contextlib.contextmanager
def training_step():
    """Marks one training step: buffers handed out inside it are reused by the next one."""
    with step(new_token()):
        yield


@contextlib.contextmanager
def step(token: int):
    """Hands out buffers for the step ``token`` (a GradientTape's forward and backward of one
    model share one)."""
    saved = _state["active"], _state["token"]
    _state["active"], _state["token"] = True, token
    try:
        yield
    finally:
        _state["active"], _state["token"] = saved


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
