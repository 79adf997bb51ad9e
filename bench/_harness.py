"""Benchmark harness: each framework runs in its own process, pinned to the same thread count.

A bench script describes its cases and, per framework, how to build a callable for a case. The
parent process starts one worker process per framework (so thread pools never compete and one
framework's OpenMP runtime cannot slow another's), collects median times as JSON, prints a
markdown table with nncore/anchor ratios and writes the JSON next to it.

The machine is usually shared, so the workers stay alive and the parent interleaves them case by
case: every case is timed on each framework in turn (the order rotating), within about a second,
so that a burst of other load hits all frameworks alike. ``--rounds`` repeats the whole sweep and
each case keeps its fastest round (the one least disturbed). The load average before and after
is printed and recorded. A script may also name cases for a thread-scaling table (``scaling=``),
run again at ``--scaling-threads`` (default 1) threads.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable, Sequence

RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"

# What each competitor may use when nncore runs a narrower ISA path than the CPU has
# (NNCORE_ISA=avx2 on an AVX-512 machine): the same ratio against the same competitor means the
# competitor is held to the same instruction set. OpenBLAS picks its kernels by OPENBLAS_CORETYPE,
# PyTorch's own kernels by ATEN_CPU_CAPABILITY, MKL by MKL_ENABLE_INSTRUCTIONS and oneDNN (PyTorch's
# and TensorFlow's convolutions) by ONEDNN_MAX_CPU_ISA.
ISA_CAPS = {
    "avx2": {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "generic": {"OPENBLAS_CORETYPE": "Nehalem", "ATEN_CPU_CAPABILITY": "default",
                "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
}


def cpu_model() -> str:
    """The CPU's model name, as `nncore info` reports it."""
    try:
        import nncore

        return nncore.info()["cpu"]
    except ImportError:
        return platform.processor() or platform.machine()


def apply_isa(isa: str | None) -> dict:
    """Runs nncore on `isa` (NNCORE_ISA) and holds the competitors to the same instruction set.
    Returns the variables set (inherited by every worker process)."""
    if not isa:
        return {}
    caps = {"NNCORE_ISA": isa, **ISA_CAPS.get(isa, {})}
    os.environ.update(caps)
    return caps


def pin_threads_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        env[var] = str(threads)
    env["TF_NUM_INTEROP_THREADS"] = "1"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def time_callable(fn: Callable[[], object], *, min_reps: int = 10, min_seconds: float = 0.3,
                  warmup: int = 2) -> dict:
    """Median and spread (min, max) of per-call seconds after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 10_000:
            break
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "reps": len(times)}


def set_framework_threads(framework: str, threads: int) -> None:
    """Pins a framework's own pool (the env vars were set by the parent before import)."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    elif framework == "nncore":
        import nncore

        nncore.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass


def worker(framework: str, threads: int, cases: Sequence[dict],
           builders: dict[str, Callable[[dict], Callable[[], object]]]) -> dict:
    try:
        set_framework_threads(framework, threads)
    except ImportError as exc:
        return {"available": False, "reason": str(exc)}
    out = {"available": True, "results": {}}
    for case in cases:
        try:
            fn = builders[framework](case)
        except ImportError as exc:
            return {"available": False, "reason": str(exc)}
        if fn is None:
            continue
        out["results"][case["name"]] = time_callable(fn)
    return out


def run_worker_process(script: str, framework: str, threads: int, extra: Sequence[str]) -> dict:
    """One worker process that times every selected case (the non-interleaved way)."""
    cmd = [sys.executable, script, "--worker", framework, "--threads", str(threads), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=pin_threads_env(threads))
    if proc.returncode != 0:
        return {"available": False, "reason": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def serve(framework: str, threads: int, cases: Sequence[dict],
          builders: dict[str, Callable[[dict], Callable[[], object]]]) -> None:
    """Worker loop of an interleaved run: reads case names from stdin, answers one JSON line each
    (the timing, {"skipped": true} or {"available": false, ...}); the first line says whether the
    framework could be set up."""
    by_name = {c["name"]: c for c in cases}
    try:
        set_framework_threads(framework, threads)
    except ImportError as exc:
        print(json.dumps({"available": False, "reason": str(exc)}), flush=True)
        return
    print(json.dumps({"available": True}), flush=True)
    for line in sys.stdin:
        name = line.rstrip("\n")
        try:
            fn = builders[framework](by_name[name])
        except ImportError as exc:
            print(json.dumps({"available": False, "reason": str(exc)}), flush=True)
            continue
        if fn is None:
            print(json.dumps({"skipped": True}), flush=True)
            continue
        print(json.dumps(time_callable(fn)), flush=True)
        del fn


class _Worker:
    """A persistent `--serve` process of one framework."""

    def __init__(self, script: str, framework: str, threads: int):
        cmd = [sys.executable, script, "--serve", framework, "--threads", str(threads)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1,
                                     env=pin_threads_env(threads))
        self.status = self._read() or {"available": False, "reason": self._error()}

    def _read(self) -> dict | None:
        line = self.proc.stdout.readline()
        return json.loads(line) if line else None

    def _error(self) -> str:
        self.proc.kill()
        lines = self.proc.stderr.read().strip().splitlines()
        return lines[-1] if lines else "worker failed"

    def time(self, case_name: str) -> dict:
        self.proc.stdin.write(case_name + "\n")
        self.proc.stdin.flush()
        return self._read() or {"available": False, "reason": self._error()}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def run_interleaved(name: str, script: str, frameworks: Sequence[str], threads: int, rounds: int,
                    case_names: Sequence[str], settle: float = 0.25) -> dict:
    """Times every case on every framework in turn (rotating the order), `rounds` times; keeps
    each case's fastest round (by median) and the medians of all rounds.

    Between two frameworks the parent waits `settle` seconds: thread pools spin for a while after
    their last job (libgomp ~10 ms, OpenBLAS ~0.1 s), and a pool still spinning in an idle worker
    would take a core from the next framework's threads."""
    results: dict[str, dict] = {}
    workers = {}
    for fw in frameworks:
        w = _Worker(script, fw, threads)
        if w.status.get("available"):
            workers[fw] = w
            results[fw] = {"available": True, "results": {}, "round_medians": {}}
        else:
            results[fw] = w.status
            print(f"[{name}] {fw} not available: {w.status.get('reason')}", file=sys.stderr)
    order = list(workers)
    try:
        for r in range(rounds):
            tag = f" round {r + 1}/{rounds}" if rounds > 1 else ""
            print(f"[{name}] {threads} thread(s){tag}: {len(case_names)} cases on "
                  f"{', '.join(order)}", file=sys.stderr, flush=True)
            for i, case in enumerate(case_names):
                shift = (i + r) % max(len(order), 1)
                for fw in order[shift:] + order[:shift]:
                    if fw not in workers:
                        continue
                    time.sleep(settle)
                    t = workers[fw].time(case)
                    if t.get("available") is False:
                        results[fw] = t
                        workers.pop(fw).close()
                        print(f"[{name}] {fw} failed: {t.get('reason')}", file=sys.stderr)
                        continue
                    if t.get("skipped"):
                        continue
                    best = results[fw]
                    best["round_medians"].setdefault(case, []).append(t["median"])
                    if case not in best["results"] or t["median"] < best["results"][case]["median"]:
                        best["results"][case] = t
    finally:
        for w in workers.values():
            w.close()
    return results


def run_json_process(cmd: Sequence[str], threads: int) -> dict:
    """Runs one worker process pinned to `threads` threads. Its last line of output is a JSON
    dict; a process that printed none (it crashed, or a framework failed to import) gives
    ``{"available": False, "reason": <its last line of errors>}``."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=pin_threads_env(threads))
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = proc.stderr.strip().splitlines()[-1:] or [f"no output (exit code {proc.returncode})"]
        return {"available": False, "reason": tail[0]}


def rotating_rounds(frameworks: Sequence[str], rounds: int, run: Callable[[str, int], dict],
                    offset: int = 0):
    """Calls ``run(framework, round)`` for every framework in each of ``rounds`` rounds, each
    round starting one framework later (plus ``offset``, e.g. a case's index), so that no
    framework always runs first, right after a pause, or last; yields ``(framework, round,
    result)``. A framework whose result says ``"available": False`` is not run again."""
    order = list(frameworks)
    dead: set[str] = set()
    for r in range(max(rounds, 1)):
        shift = (r + offset) % max(len(order), 1)
        for fw in order[shift:] + order[:shift]:
            if fw in dead:
                continue
            res = run(fw, r)
            if not res.get("available"):
                dead.add(fw)
            yield fw, r, res


def keep_fastest(best: dict, timings: dict) -> dict:
    """Merges one round's ``{key: timing}`` into ``best`` (``{"results": ..., "round_medians":
    ...}``): each key keeps its fastest round's timing (by median) and every round's median."""
    best.setdefault("results", {})
    best.setdefault("round_medians", {})
    for key, t in timings.items():
        best["round_medians"].setdefault(key, []).append(t["median"])
        if key not in best["results"] or t["median"] < best["results"][key]["median"]:
            best["results"][key] = t
    return best


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def machine_facts(threads: int) -> dict:
    facts = {"threads": threads, "python": platform.python_version(), "machine": platform.machine(),
             "cpu": cpu_model()}
    try:
        import nncore

        facts["nncore"] = nncore.info()
    except ImportError:
        pass
    return facts


def isa_summary(caps: dict) -> str:
    """One line naming the CPU and the instruction sets every framework ran with."""
    try:
        import nncore

        isa = nncore.ops.active_isa() if not caps else caps["NNCORE_ISA"]
        detected = nncore.info()["isa_detected"]
    except ImportError:
        isa = detected = "?"
    line = f"CPU: {cpu_model()}; nncore ISA path: {isa} (best on this CPU: {detected})"
    if caps:
        others = ", ".join(f"{k}={v}" for k, v in caps.items() if k != "NNCORE_ISA")
        line += f"; competitors held to it: {others or 'no cap known for this path'}"
    return line


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def format_seconds(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def main(*, name: str, script: str, cases: Sequence[dict],
         builders: dict[str, Callable[[dict], Callable[[], object]]],
         columns: Callable[[dict, dict[str, dict]], list[tuple[str, str]]],
         anchors: Sequence[str], argv: Sequence[str] | None = None,
         scaling: Sequence[str] | None = None) -> dict:
    """Entry point of a bench script.

    ``columns(case, times)`` gives the formatted cells of one row; ``times`` maps framework to the
    timing dict of that case. ``anchors`` are the frameworks nncore is compared with (ratio column
    nncore time / anchor time, < 1 means nncore is faster). ``scaling``: names of cases for which
    a second table compares ``--scaling-threads`` threads with ``--threads``.
    """
    parser = argparse.ArgumentParser(description=f"{name} benchmark")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("NNCORE_BENCH_THREADS", "2")))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--frameworks", default=",".join(builders),
                        help="comma-separated subset of: " + ", ".join(builders))
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("NNCORE_BENCH_ROUNDS", "1")),
                        help="run every framework this many times, interleaved; keep the fastest")
    parser.add_argument("--scaling-threads", type=int, default=1,
                        help="thread count the scaling table compares --threads with")
    parser.add_argument("--no-scaling", action="store_true", help="skip the thread-scaling table")
    parser.add_argument("--settle", type=float, default=0.25,
                        help="seconds to wait between frameworks (idle thread pools stop spinning)")
    parser.add_argument("--json", default=None, help="where to write results (default bench/results/)")
    parser.add_argument("--isa", choices=["generic", "avx2", "avx512"], default=os.environ.get("NNCORE_ISA"),
                        help="nncore's ISA path (NNCORE_ISA); PyTorch, NumPy and TensorFlow are held "
                             "to the same instruction set")
    args = parser.parse_args(argv)
    caps = apply_isa(args.isa) if not (args.serve or args.worker) else {}

    selected = [c for c in cases if not args.cases or c["name"] in args.cases.split(",")]
    if args.serve:
        serve(args.serve, args.threads, cases, builders)
        return {}
    if args.worker:
        res = worker(args.worker, args.threads, selected, builders)
        print(json.dumps(res))
        return res

    load_before = load_average()
    isa_line = isa_summary(caps)
    print(isa_line, file=sys.stderr, flush=True)
    frameworks = [f for f in args.frameworks.split(",") if f in builders]
    names = [c["name"] for c in selected]
    results = run_interleaved(name, script, frameworks, args.threads, max(args.rounds, 1), names,
                              args.settle)

    present = [fw for fw in frameworks if results[fw].get("available")]
    header = ["case"]
    rows = []
    for case in selected:
        times = {fw: results[fw]["results"].get(case["name"]) for fw in present}
        times = {fw: t for fw, t in times.items() if t}
        cells = columns(case, times)
        if not rows:
            header += [h for h, _ in cells]
            for a in anchors:
                if a in present:
                    header.append(f"time nncore/{a}")
        row = [case["name"]] + [v for _, v in cells]
        for a in anchors:
            if a in present:
                if "nncore" in times and a in times:
                    row.append(f"{times['nncore']['median'] / times[a]['median']:.2f}")
                else:
                    row.append("–")
        rows.append(row)
    print(markdown_table(header, rows))
    if any(a in present for a in anchors):
        print("\n(time nncore/X: nncore's median time over X's; below 1 means nncore is faster)")
    if max(args.rounds, 1) > 1:
        print("\n(each framework's fastest round; every round's median is in the JSON)")

    scaling_results = {}
    scaled = [n for n in (scaling or []) if n in names]
    if scaled and not args.no_scaling and args.scaling_threads != args.threads:
        scaling_results = run_interleaved(name, script, present, args.scaling_threads,
                                          max(args.rounds, 1), scaled, args.settle)
        lo, hi = args.scaling_threads, args.threads
        sheader = ["case"]
        for fw in present:
            sheader += [f"{fw} {lo}T", f"{fw} {hi}T", f"{fw} speedup"]
        srows = []
        for case_name in scaled:
            row = [case_name]
            for fw in present:
                t_lo = scaling_results.get(fw, {}).get("results", {}).get(case_name)
                t_hi = results[fw]["results"].get(case_name)
                if t_lo and t_hi:
                    row += [format_seconds(t_lo["median"]), format_seconds(t_hi["median"]),
                            f"{t_lo['median'] / t_hi['median']:.2f}x"]
                else:
                    row += ["–", "–", "–"]
            srows.append(row)
        print(f"\nThread scaling ({lo} vs {hi} threads, median time per call):\n")
        print(markdown_table(sheader, srows))

    load_after = load_average()
    print(f"\nload average (1, 5, 15 min) before: {load_before}, after: {load_after}; "
          f"{args.threads} thread(s), {max(args.rounds, 1)} round(s)")
    print(isa_line)
    facts = machine_facts(args.threads)
    facts["isa_caps"] = caps
    facts["load_before"] = load_before
    facts["load_after"] = load_after
    facts["rounds"] = max(args.rounds, 1)
    payload = {"bench": name, "machine": facts, "results": results}
    if scaling_results:
        payload["scaling"] = {"threads": args.scaling_threads, "results": scaling_results}
    write_results(payload, args.json, name)
    return payload


def write_results(payload: dict, json_path: str | None, name: str) -> pathlib.Path:
    """Writes a benchmark's results atomically to ``json_path`` or bench/results/<name>.json."""
    path = pathlib.Path(json_path) if json_path else RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)
    print(f"\n(JSON written to {path})", file=sys.stderr)
    return path
