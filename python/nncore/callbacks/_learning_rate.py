"""Reading and setting the learning rate of a model's optimizer, for the callbacks that do."""

from __future__ import annotations

import numpy as np


def _optimizer(model, owner: str):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise RuntimeError(f"{owner}: the model has no optimizer; compile it before fit()")
    if not hasattr(opt, "learning_rate"):
        raise ValueError(f'{owner}: optimizer {type(opt).__name__} must have a "learning_rate" attribute')
    return opt


def get_learning_rate(model, owner: str) -> float:
    return float(np.asarray(_optimizer(model, owner).learning_rate))


def set_learning_rate(model, value: float, owner: str) -> None:
    _optimizer(model, owner).learning_rate = float(value)
