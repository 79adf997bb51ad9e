"""Arrays a training step reuses: one pool shared by every layer.

A training step's activations and gradients live only until the step ends (most of them much
less), so the training loop lets layers write them into arrays of a pool kept from one step to
the next instead of allocating fresh ones: large fresh arrays cost page faults on every step
(glibc hands them back to the OS when they are freed).

The pool is shared by all layers and all keys rather than one array per layer and key: an array
is handed out again as soon as nothing but the pool refers to it (no cache, value, gradient or
view of it is alive), so the memory of activations released during the backward pass is reused
for the input gradients of earlier layers, and the gradient arrays of one layer serve the next.
The pool's peak is then the step's peak of live arrays, not the sum of every layer's arrays.
Whoever still holds an array (a layer shared by two branches whose first output is still needed,
a user holding an output) keeps it out of the pool's hands, so nothing alive is overwritten.
Outside a training step ``buffer`` returns None and the caller allocates as usual.

Where the C library is glibc, the first training step instead asks malloc to keep freed memory
(``mallopt``: no trimming of the heap's top, no ``mmap`` for arrays below 32 MB) and the pool
stands aside: every array of the step, the pooled kinds and the fresh ones a normalization or an
activation makes alike, then comes from one heap whose freed chunks are reused without page
faults, so the step's peak is its peak of live arrays (a pool of exact sizes beside the heap
holds blocks of one stage's size idle while another stage peaks: 20 % more on ResNet-20). The
environment variable NNCORE_KEEP_FREED_MEMORY=0 leaves malloc alone (and pools).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

import numpy as np

# "token": the step buffers are handed out for now; "issued": the newest token ever issued.
_state = {"active": False, "token": 0, "issued": 0}
# "kept": whether malloc keeps freed memory (then no pooling); None until the first step asks.
_heap = {"kept": None}
# nbytes -> [[raw uint8 block, token of the step that last took it], ...]
_pool: dict[int, list] = {}
_lock = threading.Lock()
# References to a block nobody else holds: its pool entry, and getrefcount's argument.
_FREE_REFS = 2


def new_token() -> int:
    with _lock:
        _state["issued"] += 1
        _evict(_state["issued"] - 1)
        return _state["issued"]


def _evict(last: int) -> None:
    """Drops the free blocks no step took since the step before ``last``: sizes of a batch that
    does not come back (an epoch's short last batch, a model no longer trained)."""
    for n in list(_pool):
        kept = [e for e in _pool[n] if e[1] >= last - 1 or sys.getrefcount(e[0]) > _FREE_REFS + 1]
        if kept:
            _pool[n] = kept
        else:
            del _pool[n]


def newest_token() -> int:
    """The token of the latest step: buffers of older steps may have been overwritten since."""
    return _state["issued"]


def pool_bytes() -> int:
    """Bytes the pool holds (free or in use)."""
    return sum(e[0].nbytes for blocks in _pool.values() for e in blocks)


def clear() -> None:
    """Forgets every block (those still in use live on with their holders)."""
    with _lock:
        _pool.clear()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _keep_freed_memory() -> bool:
    """Asks glibc's malloc to keep freed memory for reuse; False where it cannot (another C
    library, or NNCORE_KEEP_FREED_MEMORY=0)."""
    if os.environ.get("NNCORE_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt, version = libc.mallopt, libc.gnu_get_libc_version   # glibc only
    except (OSError, AttributeError):
        return False
    del version
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # 32 MB, the most glibc's own adaptive threshold reaches: larger arrays still come from
    # mmap, zeroed lazily (a gradient nobody writes costs no memory) and unmapped when freed.
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def pooling() -> bool:
    """Whether ``buffer`` hands out pooled arrays (False once malloc keeps freed memory)."""
    if _heap["kept"] is None:
        _heap["kept"] = _keep_freed_memory()
    return not _heap["kept"]


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
    _state["active"], _state["token"] = pooling(), token
    try:
        yield
    finally:
        _state["active"], _state["token"] = saved


def buffer(layer, key: str, shape: tuple, dtype) -> np.ndarray | None:
    """An array of this shape and dtype from the pool, whose contents are undefined, or None
    (allocate) outside a training step or when not pooling. ``layer`` and ``key`` say who asks (kept for callers;
    the pool serves everyone alike)."""
    if not _state["active"]:
        return None
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= int(d)
    if nbytes == 0:
        return None
    token = _state["token"]
    with _lock:
        blocks = _pool.setdefault(nbytes, [])
        for entry in blocks:
            # References: the entry, ``raw`` and getrefcount's argument; any more is a holder.
            raw = entry[0]
            if sys.getrefcount(raw) == _FREE_REFS + 1:
                entry[1] = token
                break
        else:
            raw = np.empty(nbytes, np.uint8)
            blocks.append([raw, token])
    # A view: while it (or any view of it) lives, the block's reference count shows it taken.
    return raw.view(dtype).reshape(shape)
