"""Modern CNNs end to end: nncore vs PyTorch channels_last on the same architectures (PERF.md,
issue on modern CNNs).

* ResNet-20 (CIFAR-10, option A shortcuts), batch 128: time per training step;
* MobileNetV2 at 96×96, 10 classes, batch 32: time per training step;
* VGG16 at 224×224, batch 1: ``predict`` latency.

Training is SGD with momentum 0.9 and sparse categorical cross-entropy, one ``train_on_batch``
per step for nncore, ``zero_grad``/forward/loss/``backward``/``step`` for PyTorch, cycling over a
few fixed batches (synthetic data of the right shape; ResNet-20 uses the first CIFAR-10 training
images when ``--cifar10`` (default ``$NNCORE_CIFAR10_DIR``, else ``../shared/data/cifar10`` beside
the checkout) has them — values do not change the
cost). The PyTorch models are written here (torchvision is not needed), layer for layer as
nncore's; where Keras pads a stride-2 convolution asymmetrically, PyTorch uses its own symmetric
padding of the same output size (the idiomatic, and cheaper, way).

Every measurement runs in a fresh process of one framework with the same thread count. Rounds
alternate the frameworks' order; the time of a round is the median step time after the warm-up
steps, the figure reported is the median over rounds (the fastest round is in the JSON).

Peak memory: right before the first step (after imports, model construction, data and the
optimizer), the worker resets the kernel's high-water mark (``/proc/self/clear_refs``) and reads
its resident size; after the last step it reads the high-water mark (``VmHWM``). "Peak MB" is the
increase: the most memory the warm-up and timed steps held on top of the set-up process. The
total peak (VmHWM, imports and weights included) is reported too. The same definition holds for
both frameworks.

``--isa`` runs nncore on each listed ISA path (default: every path this CPU has), holding
PyTorch to the same instruction set (bench/_harness.py ISA_CAPS).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness  # noqa: E402

# name: (kind, input shape, batch, classes, target time ratio)
MODELS = {
    "resnet20": ("train", (32, 32, 3), 128, 10, 0.7),
    "mobilenetv2": ("train", (96, 96, 3), 32, 10, 0.7),
    "vgg16": ("predict", (224, 224, 3), 1, 1000, 0.8),
}
FRAMEWORKS = ("nncore", "torch")
MEMORY_TARGET = 0.6
N_BATCHES = 4  # distinct batches cycled over (a real loop never trains on one batch twice in a row)
CIFAR10 = pathlib.Path(os.environ.get(
    "NNCORE_CIFAR10_DIR", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10"))


# ----------------------------------------------------------------------------- data
def cifar10_images(n: int, folder: pathlib.Path):
    """The first `n` training images and labels of CIFAR-10's binary files, NHWC float32 in
    [0, 1]; None when the files are not there."""
    path = folder / "data_batch_1.bin.gz"
    if not path.is_file():
        return None
    record = 1 + 32 * 32 * 3
    with gzip.open(path, "rb") as f:
        raw = np.frombuffer(f.read(n * record), dtype=np.uint8)
    if raw.size < n * record:
        return None
    raw = raw.reshape(n, record)
    x = raw[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32) / 255.0
    return np.ascontiguousarray(x), raw[:, 0].astype(np.int64)


def make_batches(model: str, cifar_dir: pathlib.Path | None):
    _kind, shape, batch, classes, _ = MODELS[model]
    n = batch * (N_BATCHES if MODELS[model][0] == "train" else 1)
    if model == "resnet20" and cifar_dir is not None:
        data = cifar10_images(n, cifar_dir)
        if data is not None:
            return data[0], data[1], "cifar10"
    rng = np.random.default_rng(0)
    x = rng.random((n, *shape), dtype=np.float32)
    return x, rng.integers(0, classes, n).astype(np.int64), "synthetic"


# ----------------------------------------------------------------------------- nncore
def nncore_model(model: str):
    import nncore
    from nncore import applications

    nncore.set_seed(0)
    if model == "resnet20":
        net = applications.ResNet20(weights=None, classes=10)
    elif model == "mobilenetv2":
        net = applications.MobileNetV2(input_shape=(96, 96, 3), weights=None, classes=10)
    else:
        return applications.VGG16(weights=None)
    net.compile(optimizer=nncore.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                loss="sparse_categorical_crossentropy")
    return net


def nncore_step_fn(model: str, x, y):
    net = nncore_model(model)
    batch = MODELS[model][2]
    if MODELS[model][0] == "predict":
        return lambda i: net.predict(x, verbose=0)
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]
    return lambda i: net.train_on_batch(*batches[i % len(batches)])


# ----------------------------------------------------------------------------- torch
def torch_models():
    """The PyTorch twins of nncore's applications (imported lazily: torch is optional)."""
    import torch
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.stride = stride
            self.pad = cout - cin
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout, eps=1.001e-5, momentum=0.1)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout, eps=1.001e-5, momentum=0.1)

        def forward(self, x):
            s = x
            if self.stride != 1:  # option A: subsample, zero channels
                s = x[:, :, ::2, ::2]
                s = torch.cat([s, torch.zeros_like(s)], 1)
            h = torch.relu(self.bn1(self.conv1(x)))
            h = self.bn2(self.conv2(h))
            return torch.relu(h + s)

    def resnet20(classes=10):
        layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16, eps=1.001e-5, momentum=0.1),
                  nn.ReLU()]
        cin = 16
        for stage, cout in enumerate((16, 32, 64)):
            for block in range(3):
                layers.append(BasicBlock(cin, cout, 2 if stage and not block else 1))
                cin = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]
        return nn.Sequential(*layers)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.001)

    class InvertedResidual(nn.Module):
        def __init__(self, cin, cout, stride, expansion):
            super().__init__()
            mid = cin * expansion
            layers = []
            if expansion != 1:
                layers += [nn.Conv2d(cin, mid, 1, bias=False), bn(mid), nn.ReLU6()]
            layers += [nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), bn(mid), nn.ReLU6(),
                       nn.Conv2d(mid, cout, 1, bias=False), bn(cout)]
            self.body = nn.Sequential(*layers)
            self.residual = cin == cout and stride == 1

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    def mobilenetv2(classes=10):
        from nncore.applications.mobilenet_v2 import _BLOCKS

        layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), bn(32), nn.ReLU6()]
        cin = 32
        for i, (filters, stride, expansion) in enumerate(_BLOCKS):
            layers.append(InvertedResidual(cin, filters, stride, expansion if i else 1))
            cin = filters
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), bn(1280), nn.ReLU6(),
                   nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, classes)]
        return nn.Sequential(*layers)

    def vgg16(classes=1000):
        layers, cin = [], 3
        for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
            for _ in range(convs):
                layers += [nn.Conv2d(cin, filters, 3, 1, 1), nn.ReLU(inplace=True)]
                cin = filters
            layers.append(nn.MaxPool2d(2, 2))
        layers += [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True),
                   nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, classes),
                   nn.Softmax(dim=1)]
        return nn.Sequential(*layers)

    return {"resnet20": resnet20, "mobilenetv2": mobilenetv2, "vgg16": vgg16}


def torch_step_fn(model: str, x, y):
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = torch_models()[model]().to(memory_format=torch.channels_last)
    # NHWC numpy seen as NCHW is already channels_last: no copy.
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)
    yt = torch.from_numpy(y)
    batch = MODELS[model][2]
    if MODELS[model][0] == "predict":
        net.eval()

        def predict(_i):
            with torch.inference_mode():
                return net(xt).numpy()
        return predict
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()  # on logits: the softmax of nncore's classifier, fused
    batches = [(xt[i:i + batch], yt[i:i + batch]) for i in range(0, len(x), batch)]

    def step(i):
        xb, yb = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()  # nncore's train_on_batch returns the loss too
    return step


# ----------------------------------------------------------------------------- worker
def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Sets the kernel's resident high-water mark (VmHWM) back to the current RSS (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(framework: str, model: str, threads: int, steps: int, warmup: int,
           cifar_dir: pathlib.Path | None) -> dict:
    _harness.set_framework_threads(framework, threads)
    x, y, data = make_batches(model, cifar_dir)
    make = nncore_step_fn if framework == "nncore" else torch_step_fn
    fn = make(model, x, y)
    rss_setup = _status_kb("VmRSS")
    reset = _reset_peak()
    for i in range(warmup):
        fn(i)
    times = []
    for i in range(warmup, warmup + steps):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    hwm = _status_kb("VmHWM")
    out = {"available": True, "median": statistics.median(times), "min": min(times),
           "max": max(times), "steps": steps, "warmup": warmup, "data": data,
           "rss_setup_mb": rss_setup / 1024 if rss_setup else None,
           "peak_rss_mb": hwm / 1024 if hwm else None, "peak_reset": reset}
    if rss_setup and hwm:
        out["peak_increase_mb"] = (hwm - rss_setup) / 1024
    if framework == "nncore":
        import nncore

        out["isa"] = nncore.ops.active_isa()
    return out


def run_worker(framework: str, model: str, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", framework, model, "--threads", str(args.threads),
           "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if args.cifar10:
        cmd += ["--cifar10", args.cifar10]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_harness.pin_threads_env(args.threads))
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        return {"available": False, "reason": tail[0]}


# ----------------------------------------------------------------------------- report
def summarize(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("available")]
    if not ok:
        return runs[-1] if runs else {"available": False, "reason": "not run"}
    fastest = min(ok, key=lambda r: r["median"])
    out = dict(fastest)
    out["round_medians"] = [r["median"] for r in ok]
    out["median"] = statistics.median(out["round_medians"])
    out["fastest_round"] = fastest["median"]
    for key in ("peak_increase_mb", "peak_rss_mb"):
        vals = [r[key] for r in ok if r.get(key) is not None]
        if vals:
            out[key] = max(vals)  # a peak is a peak: the largest round's
    return out


def ms(t: float) -> str:
    return f"{t * 1e3:.1f}"


def report(isa: str, res: dict, load: tuple) -> list[str]:
    header = ["model", "measure", "nncore ms", "torch_cl ms", "time nncore/torch", "target",
              "nncore peak+ MB", "torch peak+ MB", "mem nncore/torch", "nncore / torch total peak MB"]
    rows, missed = [], []
    for model, (kind, shape, batch, _classes, target) in MODELS.items():
        if model not in res:
            continue
        nn_, th = res[model].get("nncore", {}), res[model].get("torch", {})
        measure = f"{'train step' if kind == 'train' else 'predict'} b{batch} {shape[0]}x{shape[1]}"
        both = nn_.get("available") and th.get("available")
        ratio = nn_["median"] / th["median"] if both else None
        mem = (nn_["peak_increase_mb"] / th["peak_increase_mb"]
               if both and nn_.get("peak_increase_mb") and th.get("peak_increase_mb") else None)
        if ratio is not None and ratio > target:
            missed.append(f"{isa} {model} time {ratio:.2f} > {target}")
        if mem is not None and mem > MEMORY_TARGET:
            missed.append(f"{isa} {model} memory {mem:.2f} > {MEMORY_TARGET}")
        rows.append([
            model, measure,
            ms(nn_["median"]) if nn_.get("available") else "–",
            ms(th["median"]) if th.get("available") else "–",
            f"{ratio:.2f}" if ratio is not None else "–", f"≤ {target}",
            f"{nn_['peak_increase_mb']:.0f}" if nn_.get("peak_increase_mb") is not None else "–",
            f"{th['peak_increase_mb']:.0f}" if th.get("peak_increase_mb") is not None else "–",
            f"{mem:.2f}" if mem is not None else "–",
            f"{nn_.get('peak_rss_mb', 0):.0f} / {th.get('peak_rss_mb', 0):.0f}" if both else "–"])
    print(f"\n### nncore ISA path {isa} (load average before {load[0]}, after {load[1]})\n")
    print(_harness.markdown_table(header, rows))
    for model in res:
        for fw, r in res[model].items():
            if not r.get("available"):
                print(f"{model} {fw}: unavailable ({r.get('reason')})")
    return missed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("NNCORE_BENCH_THREADS", "2")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("NNCORE_BENCH_ROUNDS", "3")),
                        help="fresh processes per framework and model, alternating the order")
    parser.add_argument("--steps", type=int, default=15, help="timed steps (or predict calls) per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    parser.add_argument("--quick", action="store_true", help="1 round, 4 steps, 1 warm-up step")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated: " + ", ".join(MODELS))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--isa", default=None,
                        help="comma-separated nncore ISA paths (generic, avx2, avx512); default: every "
                             "path this CPU has, or $NNCORE_ISA")
    parser.add_argument("--cifar10", default=str(CIFAR10) if CIFAR10.is_dir() else None,
                        help="folder of CIFAR-10's data_batch_1.bin.gz (ResNet-20's images)")
    parser.add_argument("--json", default=None, help="where to write results (default bench/results/cnn.json)")
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.warmup = 1, 4, 1
    cifar_dir = pathlib.Path(args.cifar10) if args.cifar10 else None

    if args.worker:
        try:
            res = worker(args.worker[0], args.worker[1], args.threads, args.steps, args.warmup, cifar_dir)
        except ImportError as exc:
            res = {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(res))
        return 0

    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    frameworks = [f for f in args.frameworks.split(",") if f in FRAMEWORKS]
    import nncore

    available = nncore.info()["isa_available"]
    isas = (args.isa or os.environ.get("NNCORE_ISA") or ",".join(available)).split(",")
    bad = [i for i in isas if i not in available]
    if bad:
        parser.error(f"ISA path(s) {bad} not available on this CPU (available: {available})")
    base_env = dict(os.environ)
    rounds = max(args.rounds, 1)
    payload = {"bench": "cnn", "isa": {}, "missed": []}
    for isa in isas:
        os.environ.clear()
        os.environ.update(base_env)
        caps = _harness.apply_isa(isa)
        print(_harness.isa_summary(caps), file=sys.stderr, flush=True)
        load_before = _harness.load_average()
        runs: dict = {m: {fw: [] for fw in frameworks} for m in models}
        for r in range(rounds):
            for j, model in enumerate(models):
                shift = (r + j) % len(frameworks)
                for fw in frameworks[shift:] + frameworks[:shift]:
                    print(f"[cnn] {isa} {model} {fw} round {r + 1}/{rounds} (load "
                          f"{_harness.load_average()})", file=sys.stderr, flush=True)
                    runs[model][fw].append(run_worker(fw, model, args))
        load_after = _harness.load_average()
        res = {m: {fw: summarize(runs[m][fw]) for fw in frameworks} for m in models}
        payload["missed"] += report(isa, res, (load_before, load_after))
        payload["isa"][isa] = {"caps": caps, "load_before": load_before, "load_after": load_after,
                               "results": res, "runs": runs}
    os.environ.clear()
    os.environ.update(base_env)
    print(f"\n(peak+ MB: the most resident memory the steps held above the set-up process; time: "
          f"median over {rounds} round(s) of each round's median of {args.steps} steps after "
          f"{args.warmup} warm-up; {args.threads} thread(s); below 1 means nncore is faster/smaller)")
    print(f"CPU: {_harness.cpu_model()}")
    if payload["missed"]:
        print("targets missed: " + "; ".join(payload["missed"]))
    facts = _harness.machine_facts(args.threads)
    facts.update(rounds=rounds, steps=args.steps, warmup=args.warmup)
    payload["machine"] = facts
    _harness.write_results(payload, args.json, "cnn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
