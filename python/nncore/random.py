"""Seeding: one global generator from which every random thing (initializers, dropout, shuffling,
augmentation) draws its own seed, so ``set_seed(n)`` makes a whole run repeatable bit for bit."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def set_seed(seed: int) -> None:
    """Re-seeds nncore's global generator (weights, dropout masks, shuffling, augmentation).

    The same seed, data, model and thread count give the same weights and training run.
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def global_generator() -> np.random.Generator:
    return _generator


def new_seed() -> int:
    """A fresh 63-bit seed drawn from the global generator."""
    return int(_generator.integers(0, 2**63 - 1))


def make_generator(seed: int | None) -> np.random.Generator:
    """A generator for an object with an optional explicit seed (None: draw one globally)."""
    return np.random.default_rng(new_seed() if seed is None else int(seed))


def get_state() -> dict:
    """The global generator's state (for exact resume of training)."""
    return _generator.bit_generator.state


def set_state(state: dict) -> None:
    _generator.bit_generator.state = state
