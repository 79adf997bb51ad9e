"""Data-parallel training speed: images/s of the seed CNN's ``fit`` at global batch 64 on one
process with 1 and 2 threads and on two MPI processes of 1 thread each
(``nncore.distribution.DataParallel``), plus what the two-process step spends on communication
and a simple model of what 16 and 64 processes would reach. PyTorch anchors the figures: the same
CNN (bench_fit's, channels_last) on one process with 2 threads and under DistributedDataParallel
(gloo) on two processes of 1 thread, launched by the same ``mpirun``.

Each configuration runs in its own process (or ``mpirun`` job) on the same fixed pseudo-random
data: one warm-up epoch, then one timed epoch. The configurations take turns, their order
rotating, for ``--rounds`` rounds; each keeps its fastest round (the machine is shared).
Without mpi4py or ``mpirun`` the two-process configuration is reported as unavailable; without
an importable torch (or its gloo backend, or ``mpirun``) so are the PyTorch ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402
import bench_fit  # noqa: E402

BATCH = 64
CONFIGS = {
    # name: (processes, threads per process, worker)
    "1 rank x 1 thread": (1, 1, "single"),
    "1 rank x 2 threads": (1, 2, "single"),
    "2 ranks x 1 thread": (2, 1, "dp"),
    "PyTorch 1 process x 2 threads": (1, 2, "torch"),
    "PyTorch DDP 2 processes x 1 thread": (2, 1, "ddp"),
}
A, B, C, D, E = CONFIGS
TARGET_C_OVER_A = 1.7
TARGET_C_OVER_B = 1.0
TARGET_COMM_SHARE = 0.10
# Between hosts nothing here was measured: a plain 25 Gbit/s Ethernet link with 20 us per message.
NET_BANDWIDTH = 25e9 / 8
NET_LATENCY = 20e-6
SCALE_RANKS = (2, 16, 64)
WEAK_PER_RANK = 32


# ----------------------------------------------------------------------------- workers
def _time_allreduce(comm, buf, reps: int, batches: int = 7) -> dict:
    """Seconds per blocking in-place SUM allreduce of ``buf``: the median and best of
    ``batches`` runs of ``reps`` calls, as the slowest process saw them."""
    from mpi4py import MPI

    for _ in range(max(5, reps // 10)):
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    per_call = []
    for _ in range(batches):
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        per_call.append(comm.allreduce((time.perf_counter() - t0) / reps, op=MPI.MAX))
    return {"median": statistics.median(per_call), "min": min(per_call), "bytes": buf.nbytes,
            "reps": reps * batches}


def _time_iallreduce(comm, buf, reps: int, batches: int = 7) -> dict:
    """The same with ``Iallreduce`` + ``Wait`` (the call fit's gradient buckets use)."""
    from mpi4py import MPI

    for _ in range(max(5, reps // 10)):
        comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM).Wait()
    per_call = []
    for _ in range(batches):
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM).Wait()
        per_call.append(comm.allreduce((time.perf_counter() - t0) / reps, op=MPI.MAX))
    return {"median": statistics.median(per_call), "min": min(per_call), "bytes": buf.nbytes,
            "reps": reps * batches}


def _backward_share(model, x, y) -> float | None:
    """Share of a one-process step spent in backward (one more, untimed epoch): the part of a
    step that gradient communication can hide behind."""
    graph = getattr(model, "_graph", None)
    if graph is None or not hasattr(graph, "backward"):
        return None
    spent = [0.0]
    original = graph.backward

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    graph.backward = timed
    try:
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        total = time.perf_counter() - t0
    finally:
        del graph.backward
    return spent[0] / total


def worker(distributed: bool, threads: int, steps: int) -> dict | None:
    import numpy as np

    import nncore

    if distributed:
        nncore.distribution.initialize()
        nncore.distribution.set_distribution(nncore.distribution.DataParallel())
    _harness.set_framework_threads("nncore", threads)
    rank, size = nncore.distribution.process_index(), nncore.distribution.process_count()
    x, y, _ = bench_fit.make_data("cnn", BATCH * steps)
    nncore.set_seed(0)
    model = bench_fit.nncore_model("cnn")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)   # warm-up: allocation, caches
    comm = None
    if size > 1:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
        comm.Barrier()
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    seconds = time.perf_counter() - t0
    out = {"available": True, "processes": size, "threads": threads, "steps": steps,
           "samples": BATCH * steps, "params": int(model.count_params())}
    if comm is None:
        out["seconds"] = seconds
        out["backward_share"] = _backward_share(model, x, y)
    else:
        from mpi4py import MPI

        out["seconds"] = comm.allreduce(seconds, op=MPI.MAX)
        stats = nncore.distribution.fit_stats()
        waits = comm.gather(stats.get("wait_seconds", 0.0), root=0)
        progress = comm.gather(stats.get("progress_seconds", 0.0), root=0)
        out["fit_stats"] = {**stats, "wait_seconds_by_rank": waits,
                            "progress_seconds_by_rank": progress}
        grads = np.zeros(out["params"], np.float32)
        out["allreduce"] = _time_allreduce(comm, grads, reps=200)
        out["iallreduce"] = _time_iallreduce(comm, grads, reps=200)
        out["latency"] = _time_allreduce(comm, np.zeros(2, np.float32), reps=2000)
    out["images_per_s"] = out["samples"] / out["seconds"]
    out["step_seconds"] = out["seconds"] / steps
    return out if rank == 0 else None


def _torch_cnn(x, labels):
    """bench_fit's PyTorch seed CNN (channels_last, Adam, cross-entropy) at batch 64: its epoch
    function and the pieces that epoch closes over (model, opt, loss_fn, xt, yt, n), so that the
    DistributedDataParallel run trains the very model the one-process run does."""
    epoch = bench_fit.torch_epoch_fn("cnn", BATCH, x, None, labels, channels_last=True)
    parts = dict(zip(epoch.__code__.co_freevars, (c.cell_contents for c in epoch.__closure__)))
    return epoch, parts


def torch_worker(threads: int, steps: int) -> dict:
    _harness.set_framework_threads("torch", threads)
    x, _, labels = bench_fit.make_data("cnn", BATCH * steps)
    epoch, parts = _torch_cnn(x, labels)
    epoch()                                                   # warm-up
    t0 = time.perf_counter()
    epoch()
    seconds = time.perf_counter() - t0
    params = sum(p.numel() for p in parts["model"].parameters())
    return {"available": True, "processes": 1, "threads": threads, "steps": steps,
            "samples": BATCH * steps, "params": int(params), "seconds": seconds,
            "images_per_s": BATCH * steps / seconds, "step_seconds": seconds / steps}


def ddp_worker(threads: int, steps: int) -> dict | None:
    """One rank of DistributedDataParallel under mpirun: every rank draws the same shuffled order
    and trains on its contiguous share of each global batch of 64."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
    size = int(os.environ["OMPI_COMM_WORLD_SIZE"])
    _harness.set_framework_threads("torch", threads)
    dist.init_process_group("gloo", rank=rank, world_size=size)
    try:
        x, _, labels = bench_fit.make_data("cnn", BATCH * steps)
        _, parts = _torch_cnn(x, labels)
        model, opt, loss_fn = parts["model"], parts["opt"], parts["loss_fn"]
        xt, yt, n = parts["xt"], parts["yt"], parts["n"]
        ddp = DistributedDataParallel(model)            # starts every rank from rank 0's weights
        order = torch.Generator().manual_seed(1)        # advanced alike on every rank

        def epoch():
            perm = torch.randperm(n, generator=order)
            correct = 0
            for lo in range(0, n, BATCH):
                idx = torch.tensor_split(perm[lo:lo + BATCH], size)[rank]
                xb, yb = xt[idx], yt[idx]
                opt.zero_grad(set_to_none=True)
                out = ddp(xb)
                loss = loss_fn(out, yb)
                loss.backward()                         # gradients averaged over ranks
                opt.step()
                correct += int((out.argmax(1) == yb).sum())
            total = torch.tensor([correct])
            dist.all_reduce(total)                      # the epoch's accuracy, as fit reduces it
            return int(total)

        epoch()                                                   # warm-up
        dist.barrier()
        t0 = time.perf_counter()
        epoch()
        seconds = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
        dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
        seconds = float(seconds)
        params = sum(p.numel() for p in model.parameters())
    finally:
        dist.destroy_process_group()
    if rank != 0:
        return None
    return {"available": True, "processes": size, "threads": threads, "steps": steps,
            "samples": BATCH * steps, "params": int(params), "seconds": seconds,
            "images_per_s": BATCH * steps / seconds, "step_seconds": seconds / steps}


# ----------------------------------------------------------------------------- parent
def find_mpirun() -> str | None:
    beside = pathlib.Path(sys.executable).parent / "mpirun"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpirun")


def mpi_missing(mpirun: str | None) -> str | None:
    """Why the two-process configuration cannot run here (None if it can)."""
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'nncore[distributed]')"
    if mpirun is None:
        return f"no mpirun next to {sys.executable} nor on PATH"
    return None


def torch_missing(mpirun: str | None) -> dict[str, str]:
    """Why each PyTorch configuration cannot run here (asked of a child process, so that this
    one never loads torch's thread pools)."""
    probe = ("import torch.distributed as d; "
             "print(int(d.is_available() and d.is_gloo_available()))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if proc.returncode != 0:
        why = (proc.stderr.strip() or "failed").splitlines()[-1]
        return {D: f"torch is not importable ({why})", E: f"torch is not importable ({why})"}
    if proc.stdout.strip() != "1":
        return {E: "torch.distributed has no gloo backend"}
    if mpirun is None:
        return {E: f"no mpirun next to {sys.executable} nor on PATH"}
    return {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_config(name: str, steps: int, mpirun: str | None) -> dict:
    processes, threads, kind = CONFIGS[name]
    env = _harness.pin_threads_env(threads)
    cmd = [sys.executable, __file__, "--worker", kind,
           "--threads", str(threads), "--steps", str(steps)]
    if kind == "ddp":
        env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")   # both processes are on this host
    if processes > 1:
        cmd = [mpirun, "-n", str(processes), "--bind-to", "core", *cmd]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-3:]
        return {"available": False, "reason": " | ".join(tail)}
    return json.loads(lines[-1])


def ring_allreduce_seconds(n: int, nbytes: float, bandwidth: float, latency: float) -> float:
    """Ring allreduce: 2(N-1) steps, each moving 1/N of the buffer and paying one latency."""
    return 2 * (n - 1) / n * nbytes / bandwidth + 2 * (n - 1) * latency


def scaling_model(t_img: float, nbytes: int, links: dict, backward_share: float | None) -> list[dict]:
    rows = []
    for link_name, (bandwidth, latency) in links.items():
        for mode in ("strong", "weak"):
            for n in SCALE_RANKS:
                images = BATCH if mode == "strong" else WEAK_PER_RANK * n
                compute = t_img * images / n
                comm = ring_allreduce_seconds(n, nbytes, bandwidth, latency)
                row = {"link": link_name, "scaling": mode, "ranks": n, "images_per_step": images,
                       "compute_s": compute, "allreduce_s": comm,
                       "images_per_s": images / (compute + comm),
                       "efficiency": compute / (compute + comm)}
                if backward_share is not None:
                    exposed = max(0.0, comm - backward_share * compute)
                    row.update(exposed_s=exposed, overlap_images_per_s=images / (compute + exposed),
                               overlap_efficiency=compute / (compute + exposed))
                rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3,
                        help="run every configuration this many times, rotating their order; "
                             "keep each one's fastest run")
    parser.add_argument("--steps", type=int, default=150, help="batches of 64 per timed epoch")
    parser.add_argument("--json", default=None, help="where to write results (default bench/results/)")
    parser.add_argument("--isa", choices=["generic", "avx2", "avx512"],
                        default=os.environ.get("NNCORE_ISA"), help="nncore's ISA path (NNCORE_ISA)")
    parser.add_argument("--threads", type=int, default=None,
                        help="ignored: the configurations fix their own thread counts")
    parser.add_argument("--worker", choices=["single", "dp", "torch", "ddp"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        if args.worker == "torch":
            res = torch_worker(args.threads or 1, args.steps)
        elif args.worker == "ddp":
            res = ddp_worker(args.threads or 1, args.steps)
        else:
            res = worker(args.worker == "dp", args.threads or 1, args.steps)
        if res is not None:
            print(json.dumps(res), flush=True)
        return 0

    caps = _harness.apply_isa(args.isa)
    isa_line = _harness.isa_summary(caps)
    print(isa_line, file=sys.stderr, flush=True)
    mpirun = find_mpirun()
    missing = mpi_missing(mpirun)
    names = list(CONFIGS)
    skipped = {C: missing} if missing else {}
    skipped.update(torch_missing(mpirun))
    for name, why in skipped.items():
        print(f"[distributed] {name} skipped: {why}", file=sys.stderr)
        names.remove(name)
    load_before = _harness.load_average()
    rounds = max(args.rounds, 1)
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            print(f"[distributed] {name}, round {r + 1}/{rounds}...", file=sys.stderr, flush=True)
            time.sleep(0.25)      # idle thread pools of the previous run stop spinning
            runs[name].append(run_config(name, args.steps, mpirun))
            if not runs[name][-1].get("available"):
                print(f"[distributed]   failed: {runs[name][-1]['reason']}", file=sys.stderr)
    load_after = _harness.load_average()

    results = {}
    for name in CONFIGS:
        ok = [x for x in runs.get(name, []) if x.get("available")]
        if not ok:
            reason = skipped[name] if name not in runs else runs[name][-1].get("reason", "failed")
            results[name] = {"available": False, "reason": reason}
            continue
        best = max(ok, key=lambda x: x["images_per_s"])
        results[name] = {**best, "round_images_per_s": [x["images_per_s"] for x in ok]}

    rows = []
    for name, res in results.items():
        if res.get("available"):
            rounds_cell = ", ".join(f"{v:.0f}" for v in res["round_images_per_s"])
            rows.append([name, f"{res['images_per_s']:.0f}", f"{res['step_seconds'] * 1e3:.2f}",
                         rounds_cell])
        else:
            rows.append([name, "–", "–", f"unavailable: {res.get('reason')}"])
    print(f"Seed CNN fit, global batch {BATCH}, {args.steps} steps per timed epoch "
          f"({BATCH * args.steps} images), best of {rounds} round(s):\n")
    print(_harness.markdown_table(["configuration", "images/s", "ms/step", "every round's images/s"],
                                  rows))

    ips = {n: r["images_per_s"] for n, r in results.items() if r.get("available")}
    figures: dict = {}
    lines = []
    if A in ips and C in ips:
        figures["c_over_a"] = ips[C] / ips[A]
        lines.append(f"2 ranks / 1 rank x 1 thread: {figures['c_over_a']:.2f}x "
                     f"(target >= {TARGET_C_OVER_A}: {'met' if figures['c_over_a'] >= TARGET_C_OVER_A else 'NOT met'})")
    if B in ips and C in ips:
        figures["c_over_b"] = ips[C] / ips[B]
        lines.append(f"2 ranks / 1 rank x 2 threads: {figures['c_over_b']:.2f}x "
                     f"(target >= {TARGET_C_OVER_B}: {'met' if figures['c_over_b'] >= TARGET_C_OVER_B else 'NOT met'})")
    if A in ips and B in ips:
        figures["b_over_a"] = ips[B] / ips[A]
        lines.append(f"(1 rank: 2 threads / 1 thread: {figures['b_over_a']:.2f}x)")
    if C in ips and E in ips:
        figures["c_over_torch_ddp"] = ips[C] / ips[E]
        lines.append(f"nncore 2 ranks / PyTorch DDP 2 ranks: {figures['c_over_torch_ddp']:.2f}x")
    if B in ips and D in ips:
        figures["b_over_torch_1x2"] = ips[B] / ips[D]
        lines.append(f"nncore 1x2 / PyTorch 1x2: {figures['b_over_torch_1x2']:.2f}x")

    t_img = 1.0 / ips[A] if A in ips else None
    backward_share = results[A].get("backward_share") if A in ips else None
    if t_img is not None:
        figures["compute_s_per_image"] = t_img
        lines.append(f"compute per image (1 rank x 1 thread, whole step): {t_img * 1e6:.1f} us"
                     + (f"; backward is {backward_share:.0%} of that step"
                        if backward_share is not None else ""))
    links = {}
    c = results[C]
    if c.get("available"):
        step = c["step_seconds"]
        st = c.get("fit_stats", {})
        steps = max(int(st.get("steps") or c["steps"]), 1)
        waits = st.get("wait_seconds_by_rank") or [st.get("wait_seconds", 0.0)]
        wait = max(waits) / steps
        big = min(x["allreduce"]["median"] for x in runs[C] if x.get("available"))
        nbig = c["allreduce"]["bytes"]
        ibig = min(x["iallreduce"]["median"] for x in runs[C] if x.get("available"))
        small = min(x["latency"]["median"] for x in runs[C] if x.get("available"))
        latency = small / 2                    # T(2) of a tiny message = 2 latencies
        bandwidth = nbig / max(big - 2 * latency, 1e-12)
        figures.update(step_s=step, wait_s_per_step=wait, exposed_share=wait / step,
                       allreduce_s=big, allreduce_mb_s=nbig / big / 1e6, iallreduce_s=ibig,
                       allreduce_8b_s=small, comm_share=big / step,
                       derived_latency_s=latency, derived_bandwidth_b_s=bandwidth,
                       bucket_sizes=st.get("bucket_sizes"), gradient_bytes=st.get("gradient_bytes"))
        bucket_kb = ", ".join(f"{s * 4 / 1024:.0f}" for s in st.get("bucket_sizes") or [])
        lines += [
            f"2-rank step: {step * 1e3:.2f} ms; waiting for gradient sums after backward "
            f"(not hidden): {wait * 1e3:.3f} ms/step (by rank: "
            + ", ".join(f"{w / steps * 1e3:.3f}" for w in waits)
            + f") = {wait / step:.1%} of the step (exposed share)",
            "starting the sums and moving their data inside backward, between layers (the "
            "overlapped part): " + ", ".join(
                f"{p / steps * 1e3:.3f}" for p in st.get("progress_seconds_by_rank") or [])
            + " ms/step by rank",
            f"gradient buckets: {len(st.get('bucket_sizes') or [])} of "
            f"{st.get('bucket_sizes')} floats ({bucket_kb} KiB), {st.get('gradient_bytes')} bytes in all",
            f"blocking Allreduce of {nbig // 4:,} float32 ({nbig / 1e3:.1f} kB): {big * 1e3:.3f} ms "
            f"= {nbig / big / 1e6:.0f} MB/s; Iallreduce+Wait (fit's call): {ibig * 1e3:.3f} ms; "
            f"8-byte Allreduce: {small * 1e6:.1f} us",
            f"communication share of a 2-rank step (Allreduce / step): {big / step:.1%} "
            f"(target <= {TARGET_COMM_SHARE:.0%}: {'met' if big / step <= TARGET_COMM_SHARE else 'NOT met'})",
        ]
        links["this host (shared memory, measured)"] = (bandwidth, latency)
        links["assumed network: 25 Gbit/s, 20 us"] = (NET_BANDWIDTH, NET_LATENCY)
    print()
    print("\n".join(lines))

    model_rows = []
    if t_img is not None and links:
        model_rows = scaling_model(t_img, c["allreduce"]["bytes"], links, backward_share)
        print(f"\nScaling model. Ring allreduce T(N) = 2(N-1)/N * S/B + 2(N-1)*a, S = "
              f"{c['allreduce']['bytes']:,} bytes of gradients.")
        print(f"  measured between the 2 processes of this host (shared memory, not a network): "
              f"B = {links['this host (shared memory, measured)'][0] / 1e9:.2f} GB/s, "
              f"a = {links['this host (shared memory, measured)'][1] * 1e6:.2f} us "
              "(a from the 8-byte Allreduce = 2a, B from the gradient-sized one)")
        print(f"  ASSUMED (not measured) between hosts: B = 25 Gbit/s = {NET_BANDWIDTH / 1e9:.3f} GB/s, "
              f"a = {NET_LATENCY * 1e6:.0f} us")
        print(f"  compute per step: strong scaling (global batch {BATCH}) t_img * {BATCH}/N; weak "
              f"scaling ({WEAK_PER_RANK} images per rank) t_img * {WEAK_PER_RANK}; t_img from "
              "1 rank x 1 thread")
        print("  no overlap: step = compute + T(N)"
              + ("; overlap: step = compute + max(0, T(N) - backward share * compute), the best "
                 "bucketed sums during backward can do" if backward_share is not None else ""))
        print("  not modelled: per-step costs that do not shrink with the per-rank batch (at 64 "
              "ranks and global batch 64 each rank trains on 1 image, far below what t_img was "
              "measured at), so the strong-scaling rows are upper bounds\n")
        header = ["link", "scaling", "N", "images/step", "compute ms", "T(N) ms",
                  "images/s", "efficiency"]
        if backward_share is not None:
            header += ["exposed ms", "images/s overlap", "efficiency overlap"]
        table = []
        for row in model_rows:
            cells = [row["link"], row["scaling"], row["ranks"], row["images_per_step"],
                     f"{row['compute_s'] * 1e3:.3f}", f"{row['allreduce_s'] * 1e3:.3f}",
                     f"{row['images_per_s']:.0f}", f"{row['efficiency']:.0%}"]
            if backward_share is not None:
                cells += [f"{row['exposed_s'] * 1e3:.3f}", f"{row['overlap_images_per_s']:.0f}",
                          f"{row['overlap_efficiency']:.0%}"]
            table.append(cells)
        print(_harness.markdown_table(header, table))
        two = [r for r in model_rows if r["ranks"] == 2 and r["scaling"] == "strong"
               and r["link"].startswith("this host")]
        if two:
            pred = two[0].get("overlap_images_per_s", two[0]["images_per_s"])
            print(f"\n(check: the model predicts {pred:.0f} images/s for 2 ranks at batch {BATCH} "
                  f"here; measured {ips[C]:.0f})")

    print(f"\nload average (1, 5, 15 min) before: {load_before}, after: {load_after}; "
          f"{rounds} round(s)")
    print(isa_line)
    facts = _harness.machine_facts(1)
    facts.update(isa_caps=caps, load_before=load_before, load_after=load_after, rounds=rounds,
                 mpirun=mpirun, mpi_missing=missing)
    payload = {"bench": "distributed", "machine": facts, "batch": BATCH, "steps": args.steps,
               "results": results, "runs": runs, "figures": figures,
               "scaling_model": {"links": {k: {"bandwidth_b_s": b, "latency_s": a}
                                           for k, (b, a) in links.items()},
                                 "backward_share": backward_share, "rows": model_rows}}
    _harness.write_results(payload, args.json, "distributed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
