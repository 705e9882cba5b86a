#!/usr/bin/python3
"""nncl's training against PyTorch on the CPU (and the numpy tutorial), in one
invocation with the runs interleaved. A benchmark, never a test and never a
product dependency. Run it with Debian's python (/usr/bin/python3, which has
python3-torch and python3-numpy), normally through tools/bench_train.sh.

  /usr/bin/python3 tools/bench_torch.py compare [--sections a,b,c] [--runs 3] ...

sections:
  a  throughput, samples/s, of 784-128-10 at batch 128 with Adam: PyTorch with
     2 threads, tuned (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_CORETYPE=SkylakeX on AVX-512 CPUs)
     and untuned (both unset), against `nncl train` on each device (the
     second of 2 epochs, read from metrics.csv).
  b  time to 98% test accuracy: PyTorch tuned, 784-512-256-10, Adam lr 1e-3,
     batch 128, test accuracy after each epoch; the training time up to the
     first epoch at >= 98% (start-up, data loading and evaluation not
     counted), median over seeds; against the bare `nncl train --device D`
     (784-256-10, Adam, cosine, 8 epochs), wall time including start-up.
  c  the numpy tutorial (tools/tutorial_numpy.py, float32 and float64)
     against `nncl train --preset tutorial` and `--preset tutorial-faithful`
     on each device.

Each PyTorch run is a subprocess, because OMP_WAIT_POLICY and
OPENBLAS_CORETYPE are read once, when torch (and its OpenMP and OpenBLAS) are
loaded. The worker modes ('throughput', 'acc') are what those subprocesses run.
"""
import argparse
import csv
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
NNCL = os.path.join(ROOT, "build", "nncl")
MNIST = os.path.join(ROOT, "datasets", "mnist")

# Environment variables this script sets or removes; anything else is inherited.
TUNE_VARS = ("OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")


def has_avx512():
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and " avx512f" in line for line in f)


# OpenBLAS's core where it misdetects the CPU: Debian's 0.3.21 has taken AVX-512
# CPUs for a Prescott; on others its own choice is right (and SkylakeX's kernels
# would die of an illegal instruction there).
BLAS_CORE = "SkylakeX" if has_avx512() else None
BLAS_CORE_WORDS = ("OPENBLAS_CORETYPE=%s" % BLAS_CORE) if BLAS_CORE else "OPENBLAS_CORETYPE unset (detected right)"


def env_tuned():
    e = {k: v for k, v in os.environ.items() if k not in TUNE_VARS}
    e.update(OMP_WAIT_POLICY="PASSIVE", OPENBLAS_NUM_THREADS="2")
    if BLAS_CORE:
        e["OPENBLAS_CORETYPE"] = BLAS_CORE
    return e


def env_untuned():
    e = {k: v for k, v in os.environ.items() if k not in TUNE_VARS}
    e.update(OPENBLAS_NUM_THREADS="2")
    return e


# ---------------------------------------------------------------- data -----

def load_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder):
    """x as float32 in [0, 1] (the same scaling as nncl: bytes / 255), y as int64."""
    import numpy as np
    xs = load_idx(os.path.join(folder, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
    ys = load_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))
    xt = load_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    yt = load_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    f = lambda a: a.astype(np.float32) / np.float32(255)
    return f(xs), ys.astype(np.int64), f(xt), yt.astype(np.int64)


# ---------------------------------------------------------- torch workers -----

def torch_setup(threads, seed):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch


def mlp(torch, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train_epoch(torch, model, opt, x, y, batch, gen):
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen)
    loss_fn = torch.nn.functional.cross_entropy
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()


def worker_throughput(a):
    t_start = time.perf_counter()
    torch = torch_setup(a.threads, a.seed)
    xs, ys, _, _ = load_mnist(a.data)
    x, y = torch.from_numpy(xs), torch.from_numpy(ys)
    model = mlp(torch, [784] + a.hidden + [10])
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    startup = time.perf_counter() - t_start
    epochs = []
    for e in range(a.epochs):
        t0 = time.perf_counter()
        train_epoch(torch, model, opt, x, y, a.batch, gen)
        epochs.append(time.perf_counter() - t0)
    # the first epoch warms up; the rest are what counts (as nncl's epoch 2)
    timed = epochs[1:] if len(epochs) > 1 else epochs
    sec = statistics.median(timed)
    out = {"samples_per_second": x.shape[0] / sec, "epoch_seconds": epochs, "startup_seconds": startup,
           "threads": torch.get_num_threads(), "rows": int(x.shape[0])}
    print(json.dumps(out))


def worker_acc(a):
    t_start = time.perf_counter()
    torch = torch_setup(a.threads, a.seed)
    xs, ys, xt_np, yt_np = load_mnist(a.data)
    x, y = torch.from_numpy(xs), torch.from_numpy(ys)
    xt, yt = torch.from_numpy(xt_np), torch.from_numpy(yt_np)
    model = mlp(torch, [784] + a.hidden + [10])
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    startup = time.perf_counter() - t_start
    train_s = 0.0
    t_all = time.perf_counter()
    log = []
    reached = None
    for e in range(1, a.max_epochs + 1):
        t0 = time.perf_counter()
        model.train()
        train_epoch(torch, model, opt, x, y, a.batch, gen)
        train_s += time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).double().mean().item()
        log.append({"epoch": e, "train_seconds": train_s, "seconds_with_eval": time.perf_counter() - t_all,
                    "test_accuracy": acc})
        if acc >= a.target:
            reached = log[-1]
            break
    print(json.dumps({"seed": a.seed, "startup_seconds": startup, "epochs": log, "reached": reached,
                      "rows": int(x.shape[0])}))


# ---------------------------------------------------------- orchestration -----

def run_json(cmd, env, what):
    """Run a worker; its last stdout line is JSON."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("bench_torch: %s failed (%d):\n%s" % (what, p.returncode, p.stderr[-3000:]))
    return json.loads(p.stdout.strip().splitlines()[-1]), wall


def run_nncl(args, env, what):
    """Run `nncl ARGS --out TMP --quiet`; return (summary, config, metrics rows, wall seconds)."""
    tmp = tempfile.mkdtemp(prefix="bench_nncl_")
    out = os.path.join(tmp, "run")
    try:
        t0 = time.perf_counter()
        p = subprocess.run([NNCL] + args + ["--out", out, "--quiet"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit("bench_torch: %s failed (%d):\n%s%s" % (what, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        with open(os.path.join(out, "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(out, "metrics.csv")) as f:
            metrics = list(csv.DictReader(f))
        return summary, config, metrics, wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def nncl_devices(which):
    p = subprocess.run([NNCL, "--device", "list", "--json"], stdout=subprocess.PIPE, text=True, check=True)
    devs = json.loads(p.stdout)
    if which:
        keep = which.split(",")
        devs = [d for d in devs if str(d["index"]) in keep or (d.get("backend") == "host" and "host" in keep)]
    return devs


def dev_label(d):
    if d.get("backend") == "host":
        return "nncl %s (host)" % d["index"]
    short = "PoCL" if "Portable" in d.get("platform", "") else d.get("platform", "opencl")
    return "nncl %s (%s %s)" % (d["index"], short, d.get("type", ""))


def med(v):
    return statistics.median(v) if v else float("nan")


def spread(v):
    return "%.0f-%.0f" % (min(v), max(v)) if v else "-"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def section_a(o, devs):
    """Throughput of 784-128-10, batch 128, Adam."""
    common = ["--hidden", "128", "--batch", "128", "--epochs", str(o.torch_epochs), "--threads", "2"]
    variants = [("torch tuned", "tuned", lambda: run_json([PY, __file__, "throughput"] + common, env_tuned(),
                                                          "torch tuned")[0]["samples_per_second"]),
                ("torch untuned", "untuned", lambda: run_json([PY, __file__, "throughput"] + common,
                                                              env_untuned(), "torch untuned")[0]["samples_per_second"])]
    for d in devs:
        def nn(d=d):
            s, c, m, _ = run_nncl(["train", "--device", str(d["index"]), "--layers", "128", "--batch", "128",
                                   "--opt", "adam", "--epochs", "2", "--val", "0"], env_tuned(), dev_label(d))
            rows = c["data"]["train_rows"]
            return rows / (float(m[1]["seconds"]) - float(m[0]["seconds"]))
        variants.append((dev_label(d), "tuned", nn))
    res = {v[0]: [] for v in variants}
    for r in range(o.runs):
        for name, _, fn in variants:
            log("a: run %d/%d: %s" % (r + 1, o.runs, name))
            res[name].append(fn())
    base = med(res["torch tuned"])
    lines = ["### (a) Training throughput, 784-128-10, batch 128, Adam (samples/s, median of %d runs)\n" % o.runs,
             "| runner | environment | samples/s (median) | range | vs torch tuned |", "|---|---|---:|---:|---:|"]
    for name, env, _ in variants:
        lines.append("| %s | %s | %.0f | %s | %.2fx |" % (name, env, med(res[name]), spread(res[name]),
                                                        med(res[name]) / base))
    lines += ["", "torch: 2 threads, timed epoch after one warm-up epoch over all 60,000 training images; "
              "nncl: `nncl train --device D --layers 128 --batch 128 --opt adam --epochs 2 --val 0`, "
              "the second epoch from metrics.csv (60,000 rows). 'tuned' = OMP_WAIT_POLICY=PASSIVE "
              + BLAS_CORE_WORDS + " (nncl runs with it too: it matters only to its host backend's "
              "OpenBLAS); 'untuned' = both unset.", ""]
    return lines


def section_b(o, devs):
    """Time to 98% test accuracy."""
    torch_runs, nncl_runs = [], {dev_label(d): [] for d in devs}
    for i, seed in enumerate(range(1, o.seeds + 1)):
        log("b: torch tuned 784-512-256-10, seed %d" % seed)
        res, wall = run_json([PY, __file__, "acc", "--hidden", "512", "256", "--batch", "128", "--lr", "1e-3",
                              "--threads", "2", "--seed", str(seed), "--target", str(o.target),
                              "--max-epochs", str(o.max_epochs)], env_tuned(), "torch acc")
        res["wall"] = wall
        torch_runs.append(res)
        if i < o.nncl_runs:
            for d in devs:
                log("b: %s, bare train" % dev_label(d))
                s, c, m, wall = run_nncl(["train", "--device", str(d["index"])], env_tuned(), dev_label(d))
                first = next((r for r in m if r.get("val_accuracy") and float(r["val_accuracy"]) >= o.target), None)
                nncl_runs[dev_label(d)].append({"wall": wall, "seconds": s["seconds"], "test": s["test_accuracy"],
                                                "epochs": s["epochs"], "first_val": first,
                                                "train_rows": c["data"]["train_rows"],
                                                "layers": c["model"]["layers"]})
    lines = ["### (b) Time to %.0f%% test accuracy\n" % (100 * o.target),
             "| runner | model | time (median) | of which | accuracy | epochs | note |",
             "|---|---|---:|---|---:|---:|---|"]
    reached = [r for r in torch_runs if r["reached"]]
    tt = [r["reached"]["train_seconds"] for r in reached]
    ep = [r["reached"]["epoch"] for r in reached]
    acc = [r["reached"]["test_accuracy"] for r in reached]
    st = [r["startup_seconds"] for r in torch_runs]
    we = [r["reached"]["seconds_with_eval"] for r in reached]
    per_seed = []
    for r in torch_runs:
        if r["reached"]:
            per_seed.append("seed %d: %.1f s (epoch %d)" % (r["seed"], r["reached"]["train_seconds"],
                                                             r["reached"]["epoch"]))
        else:
            best = max(r["epochs"], key=lambda e: e["test_accuracy"])
            per_seed.append("seed %d: not within %d epochs (best %.2f%%, %.1f s)" % (
                r["seed"], len(r["epochs"]), 100 * best["test_accuracy"], r["epochs"][-1]["train_seconds"]))
    lines.append("| torch tuned, %d seeds (%d reached) | 784-512-256-10 Adam 1e-3 | %.1f s | training only "
                 "(median of the seeds that reached it); %.1f s with per-epoch eval, +%.1f s start-up | "
                 "%.2f%% (first >= %.0f%%) | %s | %s |"
                 % (len(torch_runs), len(reached), med(tt), med(we), med(st), 100 * med(acc), 100 * o.target,
                    "/".join(str(e) for e in ep) or "-", "; ".join(per_seed)))
    for d in devs:
        runs = nncl_runs[dev_label(d)]
        if not runs:
            continue
        fv = [r["first_val"] for r in runs if r["first_val"]]
        note = ("validation >= %.0f%% first at epoch %s, %.1f s" % (100 * o.target, fv[0]["epoch"],
                                                                    float(fv[0]["seconds"]))
                if fv else "validation never >= %.0f%%" % (100 * o.target))
        lines.append("| %s, bare `nncl train`, %d run(s) | %s Adam cosine | %.1f s | wall incl. start-up; "
                     "training %.1f s | %.2f%% (final test) | %d | %s |"
                     % (dev_label(d), len(runs), "-".join(str(x) for x in runs[0]["layers"]),
                        med([r["wall"] for r in runs]), med([r["seconds"] for r in runs]),
                        100 * med([r["test"] for r in runs]), runs[0]["epochs"], note))
    lines += ["", "torch trains on all 60,000 training images, nncl on %s (its default keeps 10%% for "
              "validation); both report the 10,000 test images. torch's time excludes start-up, data "
              "loading and evaluation; nncl's is the whole process." % (
                  next(iter(nncl_runs.values()))[0]["train_rows"] if any(nncl_runs.values()) else "?"), ""]
    return lines


def section_c(o, devs):
    """The numpy tutorial against nncl's tutorial presets."""
    variants = []
    for dt in ("float32", "float64"):
        def np_run(dt=dt):
            tmp = tempfile.mkdtemp(prefix="bench_np_")
            try:
                path = os.path.join(tmp, "r.json")
                p = subprocess.run([PY, os.path.join(ROOT, "tools", "tutorial_numpy.py"), "--dtype", dt, "--quiet",
                                    "--json", path], env=env_tuned(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
                if p.returncode != 0:
                    sys.exit("bench_torch: tutorial_numpy.py failed:\n" + p.stderr[-3000:])
                with open(path) as f:
                    r = json.load(f)
                return {"seconds": r["seconds"], "wall": r["seconds"] + r["load_seconds"],
                        "train": r["train_accuracy"], "dev": r["dev_accuracy"], "test": None}
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        variants.append(("numpy %s" % dt, np_run))
    for preset in ("tutorial", "tutorial-faithful"):
        for d in devs:
            def nn(d=d, preset=preset):
                s, c, m, wall = run_nncl(["train", "--device", str(d["index"]), "--preset", preset], env_tuned(),
                                         dev_label(d))
                last = m[-1]
                return {"seconds": s["seconds"], "wall": wall, "train": float(last["train_accuracy"]),
                        "dev": s.get("best_val_accuracy") if last.get("val_accuracy") in (None, "") else
                        float(last["val_accuracy"]), "test": s["test_accuracy"]}
            variants.append(("%s --preset %s" % (dev_label(d), preset), nn))
    res = {v[0]: [] for v in variants}
    for r in range(o.tutorial_runs):
        for name, fn in variants:
            log("c: run %d/%d: %s" % (r + 1, o.tutorial_runs, name))
            res[name].append(fn())
    base = med([x["seconds"] for x in res["numpy float32"]])
    lines = ["### (c) The numpy tutorial (784-10-10, full-batch GD, 500 iterations on 41,000 images), "
             "median of %d run(s)\n" % o.tutorial_runs,
             "| runner | 500 iterations | total wall | train acc | dev acc | test acc | numpy-f32 time / this |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, _ in variants:
        v = res[name]
        sec = med([x["seconds"] for x in v])
        test = v[-1]["test"]
        lines.append("| %s | %.1f s | %.1f s | %.4f | %.4f | %s | %.2fx |" % (
            name, sec, med([x["wall"] for x in v]), v[-1]["train"], v[-1]["dev"],
            "%.4f" % test if test is not None else "-", base / sec))
    lines += ["", "numpy: tools/tutorial_numpy.py (OpenBLAS, " + BLAS_CORE_WORDS + ", 2 threads), time of the "
              "500 iterations without loading; total wall = iterations + loading. nncl: 'seconds' from "
              "summary.json; total wall = the whole `nncl train` process. Target: numpy-f32 time / nncl "
              ">= 5x. train acc: numpy on the final weights, nncl the last epoch's metric (before its update).",
              ""]
    return lines


def compare(o):
    if not os.access(NNCL, os.X_OK):
        sys.exit("bench_torch: %s not built (ninja -C build)" % NNCL)
    devs = nncl_devices(o.devices)
    out = ["## nncl vs PyTorch / numpy on this machine", "",
           "nncl devices: " + "; ".join("%s = %s" % (d["index"], d["name"]) for d in devs), ""]
    t0 = time.perf_counter()
    for s in o.sections.split(","):
        lines = {"a": section_a, "b": section_b, "c": section_c}[s.strip()](o, devs)
        if o.progressive:  # the header and each section as soon as it is done, to stderr
            log("\n".join((out if s == o.sections.split(",")[0] else []) + lines))
        out += lines
    out.append("(all sections: %.0f s)" % (time.perf_counter() - t0))
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description="nncl vs PyTorch/numpy training benchmarks")
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("compare", help="run the comparisons and print markdown tables")
    c.add_argument("--sections", default="a,b,c", help="a,b,c (default all)")
    c.add_argument("--devices", default="", help="nncl device indices to run, comma separated (default all)")
    c.add_argument("--runs", type=int, default=3, help="(a) runs per runner (3)")
    c.add_argument("--torch-epochs", type=int, default=2, help="(a) torch epochs per run, the first untimed (2)")
    c.add_argument("--seeds", type=int, default=3, help="(b) torch seeds (3)")
    c.add_argument("--nncl-runs", type=int, default=1, help="(b) bare nncl runs per device (1)")
    c.add_argument("--target", type=float, default=0.98, help="(b) test accuracy to reach (0.98)")
    c.add_argument("--max-epochs", type=int, default=10, help="(b) torch gives up after this many (10)")
    c.add_argument("--tutorial-runs", type=int, default=1, help="(c) runs per runner (1)")
    c.add_argument("--progressive", action="store_true", help="also print each table to stderr as soon as its section is done")
    for name in ("throughput", "acc"):
        w = sub.add_parser(name, help="worker: one PyTorch run, prints JSON")
        w.add_argument("--hidden", type=int, nargs="+", default=[128])
        w.add_argument("--batch", type=int, default=128)
        w.add_argument("--lr", type=float, default=1e-3)
        w.add_argument("--threads", type=int, default=2)
        w.add_argument("--seed", type=int, default=1)
        w.add_argument("--data", default=MNIST)
        if name == "throughput":
            w.add_argument("--epochs", type=int, default=2)
        else:
            w.add_argument("--target", type=float, default=0.98)
            w.add_argument("--max-epochs", type=int, default=10)
    a = ap.parse_args()
    if a.mode == "compare":
        compare(a)
    elif a.mode == "throughput":
        worker_throughput(a)
    else:
        worker_acc(a)


if __name__ == "__main__":
    main()
