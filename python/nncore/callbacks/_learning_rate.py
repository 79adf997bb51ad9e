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
    from ..optimizers.schedules import LearningRateSchedule

    opt = _optimizer(model, owner)
    if isinstance(getattr(opt, "_learning_rate", None), LearningRateSchedule):
        # Keras' wording: the schedule decides the rate, a callback cannot override it.
        raise TypeError(f"{owner}: This optimizer was created with a `LearningRateSchedule` "
                        "object as its `learning_rate` constructor argument, hence its "
                        "learning rate is not settable. If you need the learning rate to be "
                        "settable, you should instantiate the optimizer with a float "
                        "`learning_rate` argument.")
    opt.learning_rate = float(value)
