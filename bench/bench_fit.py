"""Training speed: seconds per epoch of the same models on the same in-memory data, nncore vs
PyTorch eager (NCHW and channels_last) vs Keras 3 ``fit`` — each run in its own process pinned
to the same thread count (PERF.md section 3).

Keras runs in whatever interpreter has TensorFlow: this one, or the one named by
NNCORE_BENCH_KERAS_PYTHON (TensorFlow wants its own NumPy, so it often lives in its own venv).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

WORKLOADS = {
    # name: (model, batch size, samples)
    "cnn_b32": ("cnn", 32, 50_000),
    "cnn_b128": ("cnn", 128, 50_000),
    "mlp_b32": ("mlp", 32, 60_000),
    "mlp_b128": ("mlp", 128, 60_000),
    "step_overhead": ("tiny", 1, 2_000),
}
FRAMEWORKS = ("nncore", "torch", "torch_cl", "keras")


def make_data(model: str, samples: int):
    """Fixed pseudo-random data of the real datasets' shapes (values do not change the cost)."""
    rng = np.random.default_rng(0)
    if model == "cnn":
        x = rng.random((samples, 32, 32, 3), dtype=np.float32)
        labels = rng.integers(0, 10, samples)
    elif model == "mlp":
        x = rng.random((samples, 784), dtype=np.float32)
        labels = rng.integers(0, 10, samples)
    else:
        x = rng.standard_normal((samples, 10), dtype=np.float32)
        labels = rng.integers(0, 10, samples)
    y = np.eye(10, dtype=np.float32)[labels]
    return x, y, labels


# ----------------------------------------------------------------------------- nncore
def nncore_model(model_kind):
    """The compiled nncore model of a workload kind (also used by bench_pipeline.py)."""
    import nncore
    from nncore import layers as L

    if model_kind == "cnn":
        inp = nncore.Input(shape=(32, 32, 3))
        h = L.Conv2D(8, (3, 3), padding="same")(inp)
        h = L.MaxPool2D((2, 2))(h)
        h = L.Conv2D(16, (3, 3), padding="same")(h)
        h = L.MaxPool2D((2, 2))(h)
        h = L.Flatten()(h)
        h = L.Dense(128)(h)
        out = L.Dense(10, activation="softmax")(h)
    elif model_kind == "mlp":
        inp = nncore.Input(shape=(784,))
        h = L.Dense(128, activation="relu")(inp)
        out = L.Dense(10, activation="softmax")(h)
    else:
        inp = nncore.Input(shape=(10,))
        out = L.Dense(10, activation="softmax")(inp)
    model = nncore.Model(inp, out)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def nncore_epoch_fn(model_kind, batch, x, y, labels):
    import nncore

    nncore.set_seed(0)
    model = nncore_model(model_kind)
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)


# ----------------------------------------------------------------------------- torch
def torch_epoch_fn(model_kind, batch, x, y, labels, channels_last):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if model_kind == "cnn":
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 8 * 8, 128), nn.Linear(128, 10))
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            xt = xt.contiguous(memory_format=torch.channels_last)
    elif model_kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        xt = torch.from_numpy(x)
    else:
        model = nn.Sequential(nn.Linear(10, 10))
        xt = torch.from_numpy(x)
    yt = torch.from_numpy(labels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = xt.shape[0]

    def epoch():
        perm = torch.randperm(n)
        correct = 0
        for lo in range(0, n, batch):
            idx = perm[lo:lo + batch]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == yb).sum())  # the accuracy metric Keras/nncore compute
        return correct

    return epoch


# ----------------------------------------------------------------------------- keras
def keras_epoch_fn(model_kind, batch, x, y, labels):
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(0)
    if model_kind == "cnn":
        inp = keras.Input(shape=(32, 32, 3))
        h = L.Conv2D(8, (3, 3), padding="same")(inp)
        h = L.MaxPool2D((2, 2))(h)
        h = L.Conv2D(16, (3, 3), padding="same")(h)
        h = L.MaxPool2D((2, 2))(h)
        h = L.Flatten()(h)
        h = L.Dense(128)(h)
        out = L.Dense(10, activation="softmax")(h)
    elif model_kind == "mlp":
        inp = keras.Input(shape=(784,))
        h = L.Dense(128, activation="relu")(inp)
        out = L.Dense(10, activation="softmax")(h)
    else:
        inp = keras.Input(shape=(10,))
        out = L.Dense(10, activation="softmax")(inp)
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)


def worker(framework: str, workload: str, threads: int, epochs: int, samples: int | None) -> dict:
    model_kind, batch, n = WORKLOADS[workload]
    n = samples or n
    x, y, labels = make_data(model_kind, n)
    if framework == "keras":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    else:
        _harness.set_framework_threads("torch" if framework.startswith("torch") else framework, threads)
    if framework == "nncore":
        fn = nncore_epoch_fn(model_kind, batch, x, y, labels)
    elif framework in ("torch", "torch_cl"):
        fn = torch_epoch_fn(model_kind, batch, x, y, labels, channels_last=framework == "torch_cl")
    else:
        fn = keras_epoch_fn(model_kind, batch, x, y, labels)
    fn()  # warm-up epoch (graph tracing, allocation, caches)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steps = -(-n // batch)
    return {"available": True, "epoch_times": times, "median": statistics.median(times),
            "min": min(times), "max": max(times), "samples": n, "batch": batch,
            "step_us": statistics.median(times) / steps * 1e6, "peak_rss_mb": rss_kb / 1024}


def interpreter_for(framework: str) -> str:
    if framework == "keras":
        return os.environ.get("NNCORE_BENCH_KERAS_PYTHON", sys.executable)
    return sys.executable


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("NNCORE_BENCH_THREADS", "2")))
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after one warm-up epoch")
    parser.add_argument("--samples", type=int, default=None, help="override samples per epoch (quick runs)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--json", default=None)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("NNCORE_BENCH_ROUNDS", "1")),
                        help="run every framework this many times, alternating their order; keep each "
                             "one's fastest run (the one least disturbed by other load)")
    parser.add_argument("--isa", choices=["generic", "avx2", "avx512"], default=os.environ.get("NNCORE_ISA"),
                        help="nncore's ISA path (NNCORE_ISA); PyTorch and TensorFlow are held to the "
                             "same instruction set")
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        try:
            res = worker(args.worker[0], args.worker[1], args.threads, args.epochs, args.samples)
        except ImportError as exc:
            res = {"available": False, "reason": str(exc)}
        print(json.dumps(res))
        return 0

    caps = _harness.apply_isa(args.isa)
    isa_line = _harness.isa_summary(caps)
    print(isa_line, file=sys.stderr, flush=True)
    load_before = _harness.load_average()
    workloads = [w for w in args.workloads.split(",") if w in WORKLOADS]
    frameworks = [f for f in args.frameworks.split(",") if f in FRAMEWORKS]
    results: dict = {w: {} for w in workloads}
    rounds = max(args.rounds, 1)
    for w in workloads:
        def run(fw, r, w=w):
            tag = f", round {r + 1}/{rounds}" if rounds > 1 else ""
            print(f"[fit] {w}: {fw} ({args.threads} threads{tag})...", file=sys.stderr, flush=True)
            cmd = [interpreter_for(fw), __file__, "--worker", fw, w, "--threads", str(args.threads),
                   "--epochs", str(args.epochs)]
            if args.samples:
                cmd += ["--samples", str(args.samples)]
            return _harness.run_json_process(cmd, args.threads)

        for fw, _r, res in _harness.rotating_rounds(frameworks, rounds, run):
            if not res.get("available"):
                print(f"[fit]   {fw} unavailable: {res.get('reason')}", file=sys.stderr)
                results[w].setdefault(fw, res)
                continue
            best = results[w].get(fw)
            medians = (best or {}).get("round_medians", []) + [res["median"]]
            if not best or not best.get("available") or res["median"] < best["median"]:
                best = res
            best["round_medians"] = medians
            results[w][fw] = best

    header = ["workload"] + [f"{fw} s/epoch" for fw in frameworks] + ["nncore µs/step", "nncore peak MB"]
    anchors = [fw for fw in frameworks if fw != "nncore"]
    header += [f"nncore/{a}" for a in anchors]
    rows = []
    for w in workloads:
        r = results[w]
        row = [w]
        for fw in frameworks:
            t = r.get(fw, {})
            row.append(f"{t['median']:.3f} ({t['min']:.2f}–{t['max']:.2f})" if t.get("available") else "–")
        nn = r.get("nncore", {})
        row.append(f"{nn['step_us']:.1f}" if nn.get("available") else "–")
        row.append(f"{nn['peak_rss_mb']:.0f}" if nn.get("available") else "–")
        for a in anchors:
            t = r.get(a, {})
            ok = nn.get("available") and t.get("available")
            row.append(f"{nn['median'] / t['median']:.2f}" if ok else "–")
        rows.append(row)
    print(_harness.markdown_table(header, rows))
    rss = [[fw, *[f"{results[w][fw]['peak_rss_mb']:.0f}" if results[w].get(fw, {}).get("available") else "–"
                  for w in workloads]] for fw in frameworks]
    print()
    print(_harness.markdown_table(["peak RSS MB"] + workloads, rss))
    load_after = _harness.load_average()
    print(f"\nload average (1, 5, 15 min) before: {load_before}, after: {load_after}; {args.threads} thread(s), "
          f"{rounds} round(s)" + (" (each framework's fastest run; every run's median is in the JSON)"
                                  if rounds > 1 else ""))
    print(isa_line)
    facts = _harness.machine_facts(args.threads)
    facts.update(isa_caps=caps, load_before=load_before, load_after=load_after)
    payload = {"bench": "fit", "machine": facts, "results": results}
    _harness.write_results(payload, args.json, "fit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
