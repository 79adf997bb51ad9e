"""Which way a monitored quantity should go (min or max), shared by the callbacks that watch one."""

from __future__ import annotations

import warnings

_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "iou")
_MIN_HINTS = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge",
              "divergence", "poisson", "log_cosh", "cosine_proximity")


def check_mode(mode: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def infer_direction(monitor: str, mode: str, model, owner: str) -> str:
    """'min' or 'max' for ``monitor`` (Keras 3 rule for mode='auto'): the loss goes down; a metric
    of the compiled model says its direction (``_direction`` 'up'/'down'); otherwise the usual
    metric names decide, and an unknown name is an error asking for an explicit mode."""
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for m in getattr(model, "metrics", None) or []:
        if getattr(m, "name", None) == name:
            direction = getattr(m, "_direction", None) or getattr(m, "direction", None)
            if direction in ("up", "down"):
                return "max" if direction == "up" else "min"
    lowered = name.lower()
    if any(h in lowered for h in _MAX_HINTS):
        return "max"
    if any(h in lowered for h in _MIN_HINTS):
        return "min"
    raise ValueError(
        f"{owner} callback received monitor={monitor}, but cannot tell whether that quantity "
        "should be maximized or minimized. Pass mode='max' to monitor the highest value, or "
        "mode='min' to use the lowest value."
    )


def scalar(value):
    """A float from a logged value (numbers and 0-d arrays), or None when it is not one."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
