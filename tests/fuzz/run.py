"""Hostile calls of every ``nncore.ops`` function, drawn from a seeded random sequence; run as a
script so that a crash of the interpreter is seen by the caller (tests/test_fuzz.py) as a failure.

    python tests/fuzz/run.py --cases 10000 [--seed 1] [--case 137]

Each case starts from a valid call (tests/fuzz/specs.py) and spoils one argument: a wrong dtype
(int, bool, float16, complex, object), a wrong rank, a zero-size or absurdly large (zero-stride,
overflowing) dimension, a non-contiguous, negatively strided, misaligned or read-only view, NaN and
Inf values, a Python list or scalar, or a bad scalar (zero/negative/huge/NaN strides, pool sizes,
rates, learning rates, axes, shapes, strings, None) or a bad ``out=``. A call must then either
return, or raise ``ValueError``/``TypeError`` (``nncore.ShapeError``/``DTypeError`` included)
whose message names an argument of the function. Views holding valid values (non-contiguous,
negative strides, misaligned, read-only inputs) must give exactly the result of the clean call.

The run is repeatable: case k of seed s draws everything (op, mutation, shapes, values, nncore's
global seed) from its own generator ``default_rng([s, k])``, so the same seed gives the same calls
and results, and ``--case k`` replays one case alone. The seed (default DEFAULT_SEED, else
``--seed`` or ``NNCORE_FUZZ_SEED``) is printed on stderr; each violation names its case. Before
each call the case is written to ``--trace`` so that a crash names its case. Prints one JSON line:
the seed, calls made, how they ended, a digest of every call and its outcome, and the property
violations found.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import inspect
import json
import os
import re
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from specs import IN_PLACE, LAYERS, NUMPY_ONLY, RUNTIME, SPECS  # noqa: E402

import nncore  # noqa: E402
from nncore import ops  # noqa: E402

DEFAULT_SEED = 20240917

BAD_DTYPES = [np.int32, np.int64, np.uint8, np.bool_, np.float16, np.complex64, object]
BAD_SCALARS = [0, -1, -(2**63), 2**63, 2**31, 2**62, 1e308, float("nan"), float("inf"), -float("inf"),
               True, "bad", None, (1,), (1, 2, 3), (0, 0), [2**40, 1], (-1, 2), 1.5, object()]
WHERE = ["array", "array", "array", "scalar", "out"]
ARRAY_MUTATIONS = ["dtype", "rank+", "rank-", "zero", "noncontig", "negstride", "misaligned",
                   "readonly", "nan", "huge", "list", "scalar", "none"]
# Arguments whose dtype is free (read for their shape only) or documented to take these dtypes.
SHAPE_ONLY = {("avg_pool2d_backward", "x")}
OTHER_DTYPES = {("dropout_backward", "mask"): {np.dtype(np.bool_), np.dtype(np.uint8)}}
# Views of valid values: the result must equal the clean call's.
SAME_RESULT = {"noncontig", "negstride", "misaligned", "readonly"}


def noncontig(a):
    big = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype) if a.ndim else None
    if big is None:
        return a
    big[..., ::2] = a
    return big[..., ::2]


def negstride(a):
    if a.ndim == 0:
        return a
    return np.ascontiguousarray(a[::-1])[::-1]


def misaligned(a):
    if a.dtype.itemsize == 1 or a.dtype == object:
        return a
    raw = np.zeros(a.nbytes + 1, np.uint8)
    view = raw[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


def readonly(a):
    b = a.copy()
    b.flags.writeable = False
    return b


def huge(a):
    # 2**59 elements: the byte count still fits an index, the allocation never could.
    big = (2**29, 2**30) if a.ndim < 3 else (2**15, 2**15, 2**14, 2**15)[:max(a.ndim, 3)]
    return np.lib.stride_tricks.as_strided(np.zeros(1, a.dtype), shape=big, strides=(0,) * len(big))


def mutate_array(a, kind, rng):
    if kind == "dtype":
        choices = [dt for dt in BAD_DTYPES if np.dtype(dt) != a.dtype]
        return a.astype(choices[int(rng.integers(len(choices)))])
    if kind == "rank+":
        return a[None]
    if kind == "rank-":
        return a.reshape(a.shape[:-2] + (-1,)) if a.ndim >= 2 else a[0] if a.size else a.sum()
    if kind == "zero":
        if a.ndim == 0:
            return a
        shape = list(a.shape)
        shape[int(rng.integers(a.ndim))] = 0
        return np.zeros(shape, a.dtype)
    if kind == "nan":
        b = a.copy()
        if b.size and b.dtype.kind == "f":
            flat = b.reshape(-1)
            idx = rng.integers(0, flat.size, max(1, flat.size // 4))
            flat[idx] = rng.choice([np.nan, np.inf, -np.inf, 1e4, -1e4], idx.size)
        return b
    if kind == "list":
        return a.tolist()
    if kind == "scalar":
        return 1.5
    if kind == "none":
        return None
    return {"noncontig": noncontig, "negstride": negstride, "misaligned": misaligned,
            "readonly": readonly, "huge": huge}[kind](a)


def results_equal(x, y) -> bool:
    if isinstance(x, tuple):
        return isinstance(y, tuple) and len(x) == len(y) and all(map(results_equal, x, y))
    if isinstance(x, np.ndarray):
        return (isinstance(y, np.ndarray) and x.shape == y.shape and x.dtype == y.dtype
                and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    if isinstance(x, (float, np.floating)):
        return x == y or (np.isnan(x) and np.isnan(y))
    return x == y


def _enter_isa(name):
    with ops.use_isa(name):
        pass


RUNTIME_CALLS = {"set_num_threads": ops.set_num_threads, "use_isa": _enter_isa}


def names_an_argument(message: str, params) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(p)}(?![A-Za-z0-9_])", message)
               for p in params)


def outcome_text(value) -> str:
    """What a call gave, for the run's digest: array contents exactly, messages without the
    memory addresses that differ from one process to the next."""
    if isinstance(value, tuple):
        return "(" + ", ".join(map(outcome_text, value)) + ")"
    if isinstance(value, np.ndarray):
        data = value.tobytes() if value.dtype != object else repr(value.tolist()).encode()
        return f"array {value.dtype}{value.shape} {hashlib.sha256(data).hexdigest()[:16]}"
    if isinstance(value, BaseException):
        value = f"{type(value).__name__}: {value}"
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", str(value))


class Fuzzer:
    def __init__(self, trace, seed):
        self.trace = trace
        self.seed = seed
        self.case = 0
        self.calls = 0
        self.ended = {"returned": 0, "raised": 0}
        self.violations: list[str] = []
        self.digest = hashlib.sha256()

    def violation(self, message):
        self.violations.append(f"case {self.case} (--seed {self.seed} --case {self.case}): {message}")

    def call(self, fn, args, kwargs, desc):
        self.calls += 1
        desc = outcome_text(desc)
        with open(self.trace, "w") as f:
            f.write(f"case {self.case} (--seed {self.seed} --case {self.case}): {desc}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                status, value = "ok", fn(*args, **kwargs)
            except (ValueError, TypeError) as exc:
                status, value = "raised", exc
            except MemoryError as exc:
                status, value = "memory", exc
            except Exception as exc:   # noqa: BLE001 - any other type is a finding
                status, value = "other", exc
        self.digest.update(f"{self.case}|{desc}|{status}|{outcome_text(value)}\n".encode())
        return status, value

    def check(self, name, rng, where, kind):
        fn = getattr(ops, name)
        params = list(inspect.signature(fn).parameters)
        args, kwargs = SPECS[name](rng)
        clean_args, clean_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
        status, clean = self.call(fn, clean_args, clean_kwargs, f"{name} valid call")
        if status != "ok":
            self.violation(f"{name}: the valid call failed: {clean!r}")
            return
        desc = f"{name}: {kind} on {where}"
        arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        if where == "array":
            i = arrays[int(rng.integers(len(arrays)))]
            desc = f"{name}: {kind} on argument {params[i]!r} {args[i].dtype}{args[i].shape}"
            args[i] = mutate_array(args[i], kind, rng)
            target = params[i]
            if getattr(args[i], "dtype", None) in OTHER_DTYPES.get((name, target), ()):
                return
        elif where == "out":
            out_like = clean[0] if isinstance(clean, tuple) else clean
            if "out" not in params or not isinstance(out_like, np.ndarray):
                return
            bad = [out_like.astype(np.float16), out_like[None], readonly(out_like),
                   noncontig(out_like), args[0], np.empty(0, out_like.dtype), 3.0]
            j = int(rng.integers(len(bad)))
            kwargs["out"] = bad[j] if not isinstance(clean, tuple) else (bad[j], None)
            desc = f"{name}: bad out= #{j}"
            target = "out"
        else:
            names = [p for p in params if p in kwargs] + [
                params[i] for i, a in enumerate(args) if not isinstance(a, np.ndarray)]
            if not names:
                return
            target = names[int(rng.integers(len(names)))]
            value = BAD_SCALARS[int(rng.integers(len(BAD_SCALARS)))]
            if target in kwargs:
                kwargs[target] = value
            else:
                args[params.index(target)] = value
            desc = f"{name}: {target}={value!r}"
        status, result = self.call(fn, args, kwargs, desc)
        if status == "memory" and kind == "huge":
            # A result or copy of this size cannot be allocated: Python's MemoryError, naming
            # the argument or the shape.
            status = "raised"
            if not (names_an_argument(str(result), params) or "shape" in str(result)):
                self.violation(f"{desc}: MemoryError names neither argument nor shape")
            self.ended["raised"] += 1
            return
        if status in ("other", "memory"):
            self.violation(f"{desc}: raised {type(result).__name__}: {result}")
        elif status == "raised":
            self.ended["raised"] += 1
            if not names_an_argument(str(result), params + [target]):
                self.violation(f"{desc}: message names no argument: {result}")
        else:
            self.ended["returned"] += 1
            if where == "array" and kind in SAME_RESULT:
                if not results_equal(clean, result):
                    self.violation(f"{desc}: result differs from the clean call's")
                if name in IN_PLACE:
                    for k in IN_PLACE[name]:
                        if not results_equal(np.asarray(clean_args[k]), np.asarray(args[k])):
                            self.violation(f"{desc}: argument {params[k]} updated differently")
            if where == "array" and kind == "dtype" and isinstance(result, np.ndarray) \
                    and (name, target) not in SHAPE_ONLY:
                self.violation(f"{desc}: returned a result for a wrong dtype (silent conversion)")

    def layer(self, name, rng, kind):
        """A layer called on a hostile batch (built on a clean one first), forward in training
        mode and backward; same rules as the ops."""
        make, shape = LAYERS[name]
        layer = make()
        clean = rng.standard_normal((3,) + shape).astype(np.float32)
        status, result = self.call(layer, [clean], {"training": True}, f"{name} valid call")
        if status != "ok":
            self.violation(f"{name}: the valid call failed: {result!r}")
            return
        x = mutate_array(clean, kind, rng)
        desc = f"layer {name}: {kind} input"
        status, result = self.call(layer, [x], {"training": True}, desc)
        if status == "ok" and isinstance(result, np.ndarray):
            self.ended["returned"] += 1
            g = np.ones_like(result)
            status, result = self.call(layer.backward, [g], {}, desc + ", backward")
            if status == "ok":
                return
        elif status == "ok":
            self.ended["returned"] += 1
            return
        if status == "memory" and kind == "huge" or status == "raised":
            self.ended["raised"] += 1
            return
        self.violation(f"{desc}: raised {type(result).__name__}: {result}")

    def runtime(self, rng):
        name = ["set_num_threads", "use_isa"][int(rng.integers(2))]
        value = BAD_SCALARS[int(rng.integers(len(BAD_SCALARS)))]
        if name == "set_num_threads" and isinstance(value, int) and not isinstance(value, bool) \
                and 0 < value <= 64:
            return
        before = (ops.get_num_threads(), ops.active_isa())
        status, result = self.call(RUNTIME_CALLS[name], [value], {}, f"{name}({value!r})")
        if status == "ok":
            self.violation(f"{name}({value!r}) was accepted")
        elif status == "other":
            self.violation(f"{name}({value!r}) raised {type(result).__name__}: {result}")
        else:
            self.ended["raised"] += 1
        if (ops.get_num_threads(), ops.active_isa()) != before:
            self.violation(f"{name}({value!r}) changed the runtime although refused")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--trace", default=os.devnull)
    parser.add_argument("--seed", type=int, default=None,
                        help=f"seed of the run (default $NNCORE_FUZZ_SEED, else {DEFAULT_SEED})")
    parser.add_argument("--case", type=int, default=None,
                        help="run only case number CASE of the seed's sequence (replays a violation)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(os.environ.get("NNCORE_FUZZ_SEED", DEFAULT_SEED))
    cases = range(args.cases) if args.case is None else [args.case]
    print(f"fuzz: seed {seed}, {len(cases)} case(s); repeat with --seed {seed}", file=sys.stderr,
          flush=True)
    fuzzer = Fuzzer(args.trace, seed)
    names = sorted(SPECS)
    missing = sorted(set(ops.__all__) - set(SPECS) - RUNTIME - NUMPY_ONLY)
    targets = names + [f"<layer>{n}" for n in sorted(LAYERS)] + ["<runtime>"]

    for k in cases:
        rng = np.random.default_rng([seed, k])
        name = targets[int(rng.integers(len(targets)))]
        where = WHERE[int(rng.integers(len(WHERE)))]
        kind = ARRAY_MUTATIONS[int(rng.integers(len(ARRAY_MUTATIONS)))]
        nncore.random.set_seed(int(rng.integers(2**63)))  # layer weights, dropout seeds
        fuzzer.case = k
        if name == "<runtime>":
            fuzzer.runtime(rng)
        elif name.startswith("<layer>"):
            fuzzer.layer(name[len("<layer>"):], rng, kind)
        else:
            fuzzer.check(name, rng, where, kind)

    hostile = fuzzer.ended["returned"] + fuzzer.ended["raised"]
    print(json.dumps({"seed": seed, "cases": len(cases), "calls": fuzzer.calls,
                      "hostile_calls": hostile, **fuzzer.ended, "digest": fuzzer.digest.hexdigest(),
                      "missing_specs": missing, "violations": sorted(set(fuzzer.violations))}))


if __name__ == "__main__":
    main()
