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


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras computes them.

    With both ``input_axes`` and ``output_axes`` given: the products of those dimensions (e.g.
    an attention projection ``(dim, heads, key_dim)`` has ``input_axes=[0]``,
    ``output_axes=[1, 2]``). Otherwise by rank: 0: (1, 1). 1: (n, n). 2 (a Dense kernel
    ``(in, out)``): (in, out). ≥ 3 (convolution kernels, HWIO ``(kh, kw, cin, cout)``): the
    receptive field ``kh·kw`` times ``cin`` and ``cout``.
    """
    shape = tuple(int(d) for d in shape)
    if input_axes is not None and output_axes is not None:
        fans = []
        for what, axes in (("input_axes", input_axes), ("output_axes", output_axes)):
            n = 1
            for a in axes:
                a = int(a)
                if not -len(shape) <= a < len(shape):
                    raise ValueError(f"compute_fans: {what} names axis {a}, out of range for "
                                     f"shape {shape}")
                n *= shape[a]
            fans.append(n)
        return fans[0], fans[1]
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


class Initializer(serialization.Configurable):
    """Base class: ``initializer(shape, dtype=None) -> ndarray`` (dtype defaults to floatx)."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")


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
    """``value`` everywhere: a number, or an array broadcast to the requested shape (Keras)."""

    def __init__(self, value=0.0):
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            value = np.asarray(value["config"]["value"], dtype=value["config"].get("dtype"))
        if isinstance(value, (list, tuple, np.ndarray)) or (
                hasattr(value, "__array__") and not np.isscalar(value)):
            value = np.array(value)
            if value.dtype.kind not in "biuf":
                raise TypeError(f"Constant: value must be numeric, got an array of {value.dtype}")
            self.value = value if value.ndim else float(value)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"Constant: value must be a number or an array, got {value!r}")
            self.value = float(value)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape, dtype = _shape(shape), _dtype(dtype)
        if not isinstance(self.value, np.ndarray):
            return np.full(shape, self.value, dtype=dtype)
        try:
            return np.array(np.broadcast_to(self.value, shape), dtype=dtype)
        except ValueError:
            raise ValueError(f"Constant: a value of shape {self.value.shape} cannot fill shape "
                             f"{shape}") from None

    def get_config(self) -> dict:
        if isinstance(self.value, np.ndarray):
            # Keras' serialized form of a NumPy array.
            return {"value": {"class_name": "__numpy__",
                              "config": {"value": self.value.tolist(), "dtype": str(self.value.dtype)}}}
        return {"value": self.value}


@serialization.register(KIND, "zeros", "zero")
class Zeros(Initializer):
    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.zeros(_shape(shape), dtype=_dtype(dtype))


@serialization.register(KIND, "ones", "one")
class Ones(Initializer):
    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.ones(_shape(shape), dtype=_dtype(dtype))


@serialization.register(KIND, "identity", "IdentityInitializer")
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

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"VarianceScaling: Argument `scale` must be positive float. Received: "
                             f"scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: Invalid `mode` argument: {mode!r}; expected "
                             "'fan_in', 'fan_out' or 'fan_avg'")
        dist = distribution.lower() if isinstance(distribution, str) else distribution
        if dist == "normal":
            dist = "truncated_normal"
        if dist not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"VarianceScaling: Invalid `distribution` argument: {distribution!r}; "
                             "expected 'uniform', 'truncated_normal' or 'untruncated_normal'")
        self.scale, self.mode, self.distribution = float(scale), mode, dist
        self.input_axes = None if input_axes is None else [int(a) for a in input_axes]
        self.output_axes = None if output_axes is None else [int(a) for a in output_axes]

    def _variance(self, shape) -> float:
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
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
                **super().get_config(), "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """The named members of the family; their config is the seed and the fan axes (Keras)."""

    _args: tuple = ()

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(*self._args, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self) -> dict:
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


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


@serialization.register(KIND, "orthogonal", "OrthogonalInitializer", "orthogonal_initializer")
class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (Saxe et al. 2014) times ``gain``: the shape is seen as
    ``(prod(shape[:-1]), shape[-1])``; the Q of the QR decomposition of a normal matrix, with
    the signs of R's diagonal folded in so that the distribution is uniform (Keras 3)."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def _sample(self, rng, shape):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self) -> dict:
        return {"gain": self.gain, **super().get_config()}


OrthogonalInitializer = Orthogonal


def serialize(initializer: Initializer) -> dict:
    return serialization.serialize(initializer)


def deserialize(config: dict, custom_objects=None) -> Initializer:
    return serialization.deserialize(KIND, config, custom_objects)


def _from_array(array: np.ndarray):
    array = np.array(array)

    def initialize_fn(shape, dtype=None):
        shape = _shape(shape)
        if shape != array.shape:
            raise ValueError(f"Expected `shape` to be {array.shape} for an array given as "
                             f"initializer. Received shape={shape}")
        return array.astype(_dtype(dtype))

    return initialize_fn


def get(identifier):
    """An initializer from a name, a config dict, a class, an instance, a callable
    ``f(shape, dtype=None)`` or an array (which the returned function gives back, for that shape
    only). ``None`` gives None (Keras)."""
    if identifier is None:
        return None
    if isinstance(identifier, (np.ndarray, np.generic)):
        return _from_array(identifier)
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
