"""Process-wide distribution state: the world joined by ``initialize``, the distribution chosen
by ``set_distribution``, and the world of the data-parallel step now running (layers that
synchronize, such as BatchNormalization(synchronized=True), talk to it only then)."""

from __future__ import annotations

import contextlib

from .world import World

_world: World | None = None
_distribution = None
_step_world: World | None = None
# Figures of the last data-parallel fit on this process (steps, communication waits, buckets).
last_fit_stats: dict = {}


def world() -> World:
    """The joined world, or a world of one before ``initialize``."""
    return _world if _world is not None else World()


def set_world(w: World) -> None:
    global _world
    _world = w


def get_distribution():
    return _distribution


def set_distribution(d) -> None:
    global _distribution
    _distribution = d


def active_world() -> World | None:
    """The world of a data-parallel run over several processes, or None."""
    if _distribution is None or _world is None or _world.size < 2:
        return None
    return _world


def step_world() -> World | None:
    return _step_world


_gradient_reducer = None


def gradient_reducer():
    """While a model's own ``train_step`` runs data-parallel: the function that turns this
    process's gradients into the sums over the processes (the optimizer calls it)."""
    return _gradient_reducer


@contextlib.contextmanager
def reducing_gradients(reducer):
    global _gradient_reducer
    previous, _gradient_reducer = _gradient_reducer, reducer
    try:
        yield
    finally:
        _gradient_reducer = previous


@contextlib.contextmanager
def in_step(w: World):
    global _step_world
    previous, _step_world = _step_world, w
    try:
        yield
    finally:
        _step_world = previous
