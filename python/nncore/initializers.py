"""Weight initializers with Keras 3's names, defaults, fan rules and constants.

``get("glorot_uniform")`` (the default of Dense and Conv2D kernels), ``get("zeros")``, a config
dict, an Initializer class or instance, or any callable ``f(shape, dtype=None)``. Random
initializers take ``seed``: with an int every call returns the same values; with ``None`` every
call draws a new seed from nncore's global generator, so ``nncore.random.set_seed(n)`` makes a
model's weights repeatable (Keras 3 instead fixes one seed per unseeded initializer object).
"""

from __future__ import annotations

import math

import numpy as np

from . import backend, random, serialization

KIND = "initializer"

#: Standard deviation of a unit normal truncated to [-2, 2] (Keras' VarianceScaling constant).
TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras computes them.

    Rank 0: (1, 1). Rank 1: (n, n). Rank 2 (a Dense kernel ``(in, out)``): (in, out). Rank ≥ 3
    (convolution kernels, HWIO ``(kh, kw, cin, cout)``): the receptive field ``kh·kw`` times
    ``cin`` and ``cout``.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _dtype(dtype) -> np.dtype:
    return np.dtype(backend.floatx() if dtype is None else dtype)


def _shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"initializer: negative dimension in shape {shape}")
    return shape


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    return int(seed)


def truncated_normal(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal samples, redrawn until each lies within two standard deviations of the mean."""
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2.0
    while bad.any():   # about 4.6% are redrawn each round
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2.0
    return x * stddev + mean


class Initializer:
    """Base class: ``initializer(shape, dtype=None) -> ndarray`` (dtype defaults to floatx)."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()}>"


class RandomInitializer(Initializer):
    """Base of the random initializers: holds ``seed`` and makes a generator per call."""

    def __init__(self, seed=None):
        self.seed = _check_seed(seed)

    def _generator(self) -> np.random.Generator:
        return random.make_generator(self.seed)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape, dtype = _shape(shape), _dtype(dtype)
        return np.asarray(self._sample(self._generator(), shape), dtype=dtype)

    def _sample(self, rng, shape) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed}


# --------------------------------------------------------------------------- constants
@serialization.register(KIND, "constant")
class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.full(_shape(shape), self.value, dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


@serialization.register(KIND, "zeros", "zero")
class Zeros(Initializer):
    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.zeros(_shape(shape), dtype=_dtype(dtype))


@serialization.register(KIND, "ones", "one")
class Ones(Initializer):
    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.ones(_shape(shape), dtype=_dtype(dtype))


@serialization.register(KIND, "identity")
class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; ``eye(rows, cols)`` if not square)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {shape}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


# --------------------------------------------------------------------------- plain random
@serialization.register(KIND, "random_normal", "normal")
class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _sample(self, rng, shape):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@serialization.register(KIND, "random_uniform", "uniform")
class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def _sample(self, rng, shape):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@serialization.register(KIND, "truncated_normal")
class TruncatedNormal(RandomInitializer):
    """Normal(mean, stddev) with samples beyond two standard deviations redrawn (Keras)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _sample(self, rng, shape):
        return truncated_normal(rng, shape, self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


# --------------------------------------------------------------------------- variance scaling
@serialization.register(KIND, "variance_scaling")
class VarianceScaling(RandomInitializer):
    """Samples with variance ``scale / n``, ``n`` being fan_in, fan_out or their mean (Keras 3).

    ``"truncated_normal"``: stddev ``sqrt(scale / n) / 0.87962566103423978`` (so that the
    truncated distribution has the intended variance), truncated at two stddevs;
    ``"untruncated_normal"``: stddev ``sqrt(scale / n)``; ``"uniform"``: on ``±sqrt(3 scale / n)``.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"VarianceScaling: scale must be > 0, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("VarianceScaling: distribution must be 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal', got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def _variance(self, shape) -> float:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return self.scale / max(1.0, n)

    def _sample(self, rng, shape):
        var = self._variance(shape)
        if self.distribution == "truncated_normal":
            return truncated_normal(rng, shape, 0.0, math.sqrt(var) / TRUNCATED_STDDEV)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(var), shape)
        limit = math.sqrt(3.0 * var)
        return rng.uniform(-limit, limit, shape)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _FixedVarianceScaling(VarianceScaling):
    """The named members of the family; their config is only the seed (Keras)."""

    _args: tuple = ()

    def __init__(self, seed=None):
        super().__init__(*self._args, seed=seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


@serialization.register(KIND, "glorot_uniform")
class GlorotUniform(_FixedVarianceScaling):
    """Uniform on ``±sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010); the Keras default."""
    _args = (1.0, "fan_avg", "uniform")


@serialization.register(KIND, "glorot_normal")
class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))`` before truncation correction."""
    _args = (1.0, "fan_avg", "truncated_normal")


@serialization.register(KIND, "he_normal")
class HeNormal(_FixedVarianceScaling):
    """Truncated normal with variance ``2 / fan_in`` (He et al. 2015), for ReLU layers."""
    _args = (2.0, "fan_in", "truncated_normal")


@serialization.register(KIND, "he_uniform")
class HeUniform(_FixedVarianceScaling):
    """Uniform on ``±sqrt(6 / fan_in)``."""
    _args = (2.0, "fan_in", "uniform")


@serialization.register(KIND, "lecun_normal")
class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with variance ``1 / fan_in`` (for SELU networks)."""
    _args = (1.0, "fan_in", "truncated_normal")


@serialization.register(KIND, "lecun_uniform")
class LecunUniform(_FixedVarianceScaling):
    """Uniform on ``±sqrt(3 / fan_in)``."""
    _args = (1.0, "fan_in", "uniform")


@serialization.register(KIND, "orthogonal", "Orthogonal", "orthogonal_initializer")
class OrthogonalInitializer(RandomInitializer):
    """A random orthogonal matrix (Saxe et al. 2014) times ``gain``: the shape is seen as
    ``(prod(shape[:-1]), shape[-1])``; the Q of the QR decomposition of a normal matrix, with
    the signs of R's diagonal folded in so that the distribution is uniform (Keras 3)."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def _sample(self, rng, shape):
        if len(shape) < 2:
            raise ValueError(f"OrthogonalInitializer needs a shape of rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self) -> dict:
        return {"gain": self.gain, **super().get_config()}


Orthogonal = OrthogonalInitializer


def serialize(initializer: Initializer) -> dict:
    return serialization.serialize(initializer)


def deserialize(config: dict, custom_objects=None) -> Initializer:
    return serialization.deserialize(KIND, config, custom_objects)


def get(identifier):
    """An initializer from a name, a config dict, a class, an instance or a callable
    ``f(shape, dtype=None)``. ``None`` is an error: a weight needs an initializer."""
    if identifier is None:
        raise ValueError("an initializer is required, got None; pass a name such as "
                         "'glorot_uniform' or 'zeros', an Initializer or a function f(shape, dtype)")
    if isinstance(identifier, Initializer):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    return serialization.get(KIND, identifier, Initializer)


__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "Initializer",
    "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans", "deserialize",
    "get", "serialize",
]
