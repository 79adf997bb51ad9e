"""Inference speed: batch-1 latency (median and p90 of many calls) and batch-256 throughput of
bench_fit's seed CNN (32x32x3) and MLP (784-128-10), float32, nncore vs ONNX Runtime running
nncore's own exported ONNX file vs PyTorch eager on the same architecture.

nncore is timed four ways, so that the table shows where ``predict``'s time goes:
``predict(x, verbose=0)`` (at batch 256 with ``batch_size=256``: one batch, as the others run),
``predict_on_batch(x)``, ``model(x)`` and the bare graph forward the three end in.
PyTorch runs bench_fit's model (channels_last for the CNN) under ``torch.no_grad()`` in eval mode,
with the softmax nncore's models end with; its input is the same NumPy array (the NHWC array seen
as NCHW is already channels_last, so no copy) and its output is returned as NumPy.

Each framework runs in its own process pinned to ``--threads`` threads; the processes take turns,
their order rotating, for ``--rounds`` rounds, and every figure keeps its fastest round.
A framework that cannot be imported (onnx/onnxruntime, torch) is reported with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402
import bench_fit  # noqa: E402

MODELS = {"cnn": (32, 32, 3), "mlp": (784,)}
BATCHES = (1, 256)
FRAMEWORKS = ("nncore", "onnxruntime", "torch")
NNCORE_CALLS = ("predict", "predict_on_batch", "model(x)", "graph.forward")
TARGET_VS_ORT = 1.0
TARGET_VS_TORCH = 0.3


def _time(fn, batch: int, seconds: float) -> dict:
    """Per-call seconds after warm-up: median, p90 and min. Batch 1 takes many calls (latency
    is a distribution); batch 256 fewer, longer ones."""
    for _ in range(20 if batch == 1 else 3):
        fn()
    min_reps = 300 if batch == 1 else 10
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 50_000:
            break
    times.sort()
    return {"median": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))],
            "min": times[0], "reps": len(times), "images_per_s": batch / statistics.median(times)}


def _inputs(kind: str, batch: int) -> np.ndarray:
    return np.random.default_rng(1).random((batch, *MODELS[kind]), dtype=np.float32)


def _nncore_model(kind: str):
    import nncore

    nncore.set_seed(0)
    return bench_fit.nncore_model(kind)


# ----------------------------------------------------------------------------- per framework
def nncore_calls(kind: str, batch: int) -> dict:
    model = _nncore_model(kind)
    x = _inputs(kind, batch)
    forward = model._graph.forward
    return {
        "predict": lambda: model.predict(x, batch_size=batch, verbose=0),
        "predict_on_batch": lambda: model.predict_on_batch(x),
        "model(x)": lambda: model(x),
        "graph.forward": lambda: forward([x], False),
    }


def ort_calls(kind: str, batch: int, folder: str, threads: int) -> dict:
    import onnx  # noqa: F401  (export needs it; a missing one is reported as a skip reason)
    import onnxruntime as ort

    path = os.path.join(folder, f"{kind}.onnx")
    if not os.path.exists(path):
        _nncore_model(kind).export(path, format="onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = _inputs(kind, batch)
    return {"session.run": lambda: session.run(None, {name: x})}


def torch_calls(kind: str, batch: int) -> dict:
    import torch
    from torch import nn

    x = _inputs(kind, batch)
    # bench_fit's model, taken from the epoch function that builds it (not a second copy).
    epoch = bench_fit.torch_epoch_fn(kind, batch, x, None, np.zeros(batch, np.int64),
                                     channels_last=kind == "cnn")
    parts = dict(zip(epoch.__code__.co_freevars, (c.cell_contents for c in epoch.__closure__)))
    model = nn.Sequential(parts["model"], nn.Softmax(dim=1)).eval()

    def run():
        with torch.no_grad():
            xt = torch.from_numpy(x)
            if kind == "cnn":
                xt = xt.permute(0, 3, 1, 2)     # NHWC memory seen as NCHW: channels_last
            return model(xt).numpy()

    return {"eager": run}


def worker(framework: str, threads: int, seconds: float) -> dict:
    _harness.set_framework_threads("torch" if framework == "torch" else "nncore", threads)
    out = {"available": True, "results": {}}
    with tempfile.TemporaryDirectory() as folder:
        for kind in MODELS:
            for batch in BATCHES:
                if framework == "nncore":
                    calls = nncore_calls(kind, batch)
                elif framework == "onnxruntime":
                    calls = ort_calls(kind, batch, folder, threads)
                else:
                    calls = torch_calls(kind, batch)
                for call, fn in calls.items():
                    out["results"][f"{kind}/b{batch}/{call}"] = _time(fn, batch, seconds)
                del calls
    return out


# ----------------------------------------------------------------------------- parent
def run_round(fw: str, threads: int, seconds: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", fw, "--threads", str(threads), "--seconds", str(seconds)]
    return _harness.run_json_process(cmd, threads)


def _rows(results: dict) -> list[tuple[str, str, dict]]:
    """(framework label, call, {key: timing}) in table order."""
    rows = []
    for fw in FRAMEWORKS:
        res = results.get(fw, {})
        if not res.get("available"):
            continue
        calls = sorted({k.split("/", 2)[2] for k in res["results"]},
                       key=lambda c: NNCORE_CALLS.index(c) if c in NNCORE_CALLS else 0)
        for call in calls:
            rows.append((fw, call, res["results"]))
    return rows


def _ratio(a: dict | None, b: dict | None, key: str = "median") -> float | None:
    return a[key] / b[key] if a and b else None


def print_report(results: dict) -> list[str]:
    fmt = _harness.format_seconds
    header = ["framework", "call"]
    for kind in MODELS:
        header += [f"{kind} b1 median", f"{kind} b1 p90", f"{kind} b256 img/s"]
    table = []
    for fw, call, res in _rows(results):
        row = [fw, call]
        for kind in MODELS:
            one, many = res.get(f"{kind}/b1/{call}"), res.get(f"{kind}/b256/{call}")
            row += [fmt(one["median"]) if one else "–", fmt(one["p90"]) if one else "–",
                    f"{many['images_per_s']:,.0f}" if many else "–"]
        table.append(row)
    print(_harness.markdown_table(header, table))

    def get(fw, key):
        res = results.get(fw, {})
        return res.get("results", {}).get(key) if res.get("available") else None

    anchors = [("onnxruntime", "session.run", TARGET_VS_ORT), ("torch", "eager", TARGET_VS_TORCH)]
    rheader = ["ratio"] + [f"{kind} {what}" for kind in MODELS for what in ("b1 latency", "b256 throughput")]
    rrows, missed = [], []
    for call in ("predict", "predict_on_batch"):
        for fw, anchor_call, target in anchors:
            row = [f"nncore {call} / {fw} (b1 target ≤ {target})"]
            for kind in MODELS:
                lat = _ratio(get("nncore", f"{kind}/b1/{call}"), get(fw, f"{kind}/b1/{anchor_call}"))
                thr = _ratio(get("nncore", f"{kind}/b256/{call}"), get(fw, f"{kind}/b256/{anchor_call}"),
                             "images_per_s")
                row += ["–" if lat is None else f"{lat:.2f}" + (" MISS" if lat > target else ""),
                        "–" if thr is None else f"{thr:.2f}"]
                if lat is not None and lat > target:
                    missed.append(f"{kind} {call}/{fw} {lat:.2f} > {target}")
            rrows.append(row)
    print()
    print(_harness.markdown_table(rheader, rrows))
    print("\n(b1 latency: nncore's median time over the other's, below 1 means nncore is faster; "
          "b256 throughput: nncore's images/s over the other's, above 1 means nncore is faster)")

    # Where predict's batch-1 time goes: each layer of the call stack's own share.
    print("\nnncore batch-1 breakdown (median us): predict_on_batch runs the model's inference "
          "plan; model(x) and graph.forward run the layers' training-ready forward (kept for "
          "backward), shown for comparison:")
    for kind in MODELS:
        t = [get("nncore", f"{kind}/b1/{c}") for c in NNCORE_CALLS]
        if not all(t):
            continue
        us = [x["median"] * 1e6 for x in t]
        print(f"  {kind}: predict {us[0]:.1f} = predict_on_batch {us[1]:.1f} + predict's own "
              f"machinery {us[0] - us[1]:.1f}; graph.forward {us[3]:.1f}, model(x) {us[2]:.1f}")
    return missed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("NNCORE_BENCH_THREADS", "2")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("NNCORE_BENCH_ROUNDS", "1")),
                        help="run every framework this many times, rotating their order; keep each "
                             "figure's fastest round")
    parser.add_argument("--seconds", type=float, default=0.4, help="minimum timed seconds per figure")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--json", default=None, help="where to write results (default bench/results/)")
    parser.add_argument("--isa", choices=["generic", "avx2", "avx512"], default=os.environ.get("NNCORE_ISA"),
                        help="nncore's ISA path (NNCORE_ISA); PyTorch is held to the same instruction "
                             "set, ONNX Runtime (MLAS picks its kernels itself) is not")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        try:
            res = worker(args.worker, args.threads, args.seconds)
        except ImportError as exc:
            res = {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(res))
        return 0

    caps = _harness.apply_isa(args.isa)
    isa_line = _harness.isa_summary(caps)
    print(isa_line, file=sys.stderr, flush=True)
    load_before = _harness.load_average()
    frameworks = [f for f in args.frameworks.split(",") if f in FRAMEWORKS]
    rounds = max(args.rounds, 1)
    results: dict = {}

    def run(fw, r):
        print(f"[inference] {fw} ({args.threads} threads, round {r + 1}/{rounds})...",
              file=sys.stderr, flush=True)
        return run_round(fw, args.threads, args.seconds)

    for fw, _r, res in _harness.rotating_rounds(frameworks, rounds, run):
        if not res.get("available"):
            print(f"[inference] {fw} skipped: {res.get('reason')}", file=sys.stderr, flush=True)
            results[fw] = res
            continue
        _harness.keep_fastest(results.setdefault(fw, {"available": True}), res["results"])

    for fw in frameworks:
        if not results.get(fw, {}).get("available"):
            print(f"{fw}: skipped ({results.get(fw, {}).get('reason', 'not run')})")
    missed = print_report(results)
    load_after = _harness.load_average()
    print(f"\nload average (1, 5, 15 min) before: {load_before}, after: {load_after}; {args.threads} "
          f"thread(s), {rounds} round(s)" + (" (each figure's fastest round; every round's median is "
                                             "in the JSON)" if rounds > 1 else ""))
    print(isa_line)
    if missed:
        print("targets missed: " + "; ".join(missed))
    facts = _harness.machine_facts(args.threads)
    facts.update(isa_caps=caps, load_before=load_before, load_after=load_after, rounds=rounds)
    payload = {"bench": "inference", "machine": facts, "results": results, "targets_missed": missed}
    _harness.write_results(payload, args.json, "inference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
