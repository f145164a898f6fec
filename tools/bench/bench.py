#!/usr/bin/env python3
"""flowlat against the tutorial's PyTorch code (tutorial_baseline.py), and against its own model in PyTorch.

Both run on the same machine with the same threads, alternately, several
times; the medians and their ratio are printed for training ms/step and
sampling configurations/s, at the tutorial's configuration (L = 8, batch 64,
16 layers, [8, 8], kernel 3) in float32 and float64, and at a compute-bound
one (L = 32, batch 256). Also: useful GFLOP/s (the network's multiply-adds,
forward and backward, on every site) against a one-core GEMM measured in the
same run, and peak memory (max RSS of each process). Both processes get the
same glibc malloc tunables as flowlat sets itself (mallopt in main); the
untuned baseline is measured once for reference. Then the best recipe's
sampling against the same model run by PyTorch (model_baseline.py) at
batches 1024 and 64, and the hot kernels' cycles per site against their FMA
bound (flowlat_kernel_bench). `--only same` runs just that part.

  bash tools/bench/run.sh [--repeats 3] [--threads 1] [--quick] [--memory]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _threads_from_argv(argv):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=1)
    return pre.parse_known_args(argv)[0].threads


# OpenBLAS sizes its thread pool from the environment when torch loads, not
# from torch.set_num_threads: without this the "one-core" GEMM ran on 2.
if __name__ == "__main__":
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[_name] = str(_threads_from_argv(sys.argv[1:]))

import torch  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"

# name, L, batch, dtype, train steps, sample configs, sample batch, recipe;
# float32 ensembles of 65,536 (this project's standard size; flowlat's
# start-up, about 0.2 s, is part of its rate)
CONFIGS = [
    ("tutorial float32", 8, 64, "float32", 200, 65536, 1024, "tutorial"),
    ("tutorial float64", 8, 64, "float64", 200, 4096, 1024, "tutorial"),
    ("L=32 b=256 float32", 32, 256, "float32", 12, 2048, 256, "tutorial"),
    ("best recipe float32", 8, 64, "float32", 200, 65536, 1024, "best"),
]
LAYERS, HIDDEN, KERNEL = 16, [8, 8], 3
# flowlat's input and the depth the tutorial's code gets: the best recipe
# (Fourier layer, 4 Z2-equivariant spline couplings) is raced against the
# tutorial's affine network at the same depth, 4 coupling layers.
RECIPES = {"tutorial": ("input/phi4_L8.yaml", LAYERS), "best": ("input/phi4_L8_best.yaml", 4)}


def rss_of(cmd, env):
    """stdout and max RSS (MB) of one run (wait4's rusage of that child)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read()[-2000:]}")
        return out.read(), usage.ru_maxrss / 1024.0


def network_flops_per_config(L, dim=2):
    """Multiply-adds x 2 of one forward pass of the flow's CNNs on every site."""
    sizes = [1] + HIDDEN + [2]
    macs = sum(a * b * KERNEL ** dim for a, b in zip(sizes, sizes[1:])) * L ** dim
    return 2.0 * macs * LAYERS


def gemm_gflops(dtype, threads):
    torch.set_num_threads(threads)
    n = 1024
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(20):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def sampling_rate(out):
    """configs/s from flowlat sample's output: "<UTC time>    1234.5 configs/s over ..."."""
    return next(float(line.split("configs/s")[0].split()[-1]) for line in out.splitlines() if "configs/s" in line)


def flowlat_run(flowlat, work, cfg, threads, env):
    name, L, batch, dtype, steps, n_configs, sample_batch, recipe = cfg
    out_dir = os.path.join(work, "flowlat")
    common = [RECIPES[recipe][0], "--force", "--set", f"run.output_dir={out_dir}",
              "--set", f"lattice.shape=[{L}, {L}]", "--set", "run.device=cpu",
              "--set", f"run.precision={dtype}", "--set", f"run.threads_per_rank={threads}"]
    _, train_rss = rss_of([flowlat, "train"] + common + [
        "--set", f"train.steps={steps}", "--set", f"train.batch_size={batch}",
        "--set", f"train.log_every={steps}"], env)
    with open(os.path.join(out_dir, "history.csv")) as f:
        seconds = [float(line.split(",")[3]) for line in f.read().splitlines()[1:]]
    warmup = max(1, len(seconds) // 10)
    train_ms = 1e3 * statistics.median(seconds[warmup:])
    out, sample_rss = rss_of([flowlat, "sample"] + common + [
        "--set", f"sample.n_configs={n_configs}", "--set", f"sample.batch_size={sample_batch}"], env)
    rate = sampling_rate(out)
    return {"train_ms": train_ms, "configs_per_s": rate, "rss_mb": max(train_rss, sample_rss)}


def baseline_run(python, cfg, threads, env):
    name, L, batch, dtype, steps, n_configs, sample_batch, recipe = cfg
    warmup = max(1, steps // 10)
    out, rss = rss_of([python, os.path.join(ROOT, "tools", "bench", "tutorial_baseline.py"),
                       "--layers", str(RECIPES[recipe][1]), "--L", str(L), "--batch", str(batch), "--dtype", dtype, "--threads", str(threads),
                       "--train-steps", str(steps - warmup), "--warmup-steps", str(warmup),
                       "--sample-configs", str(n_configs), "--sample-batch", str(sample_batch)], env)
    result = json.loads(out.strip().splitlines()[-1])
    return {"train_ms": result["train_ms_per_step_median"], "configs_per_s": result["sample_configs_per_s"],
            "rss_mb": rss}


# The same-model race: flowlat's best recipe against the same model run by
# PyTorch (model_baseline.py rebuilds it with tools/flowlat_model.py):
# sampling batches and ensemble size.
SAME_MODEL_BATCHES = (1024, 64)
SAME_MODEL_CONFIGS = 65536


def same_model_race(args, flowlat, python, work, env):
    """Medians of alternating flowlat / PyTorch sampling runs of one trained best-recipe model, per batch."""
    out_dir = os.path.join(work, "same_model")
    common = [RECIPES["best"][0], "--force", "--set", f"run.output_dir={out_dir}", "--set", "run.device=cpu",
              "--set", "run.precision=float32", "--set", f"run.threads_per_rank={args.threads}"]
    rss_of([flowlat, "train"] + common + ["--set", "train.steps=50", "--set", "train.warmup_steps=5",
                                           "--set", "train.eval_every=50", "--set", "train.log_every=50"], env)
    model = os.path.join(out_dir, "model.pt")
    n_configs = SAME_MODEL_CONFIGS // 4 if args.quick else SAME_MODEL_CONFIGS
    rows = []
    for batch in SAME_MODEL_BATCHES:
        mine, theirs = [], []
        for rep in range(args.repeats):
            for who in ([0, 1] if rep % 2 == 0 else [1, 0]):
                if who == 0:
                    out, _ = rss_of([flowlat, "sample"] + common + [
                        "--model", model, "--set", f"sample.n_configs={n_configs}",
                        "--set", f"sample.batch_size={batch}"], env)
                    mine.append(sampling_rate(out))
                else:
                    out, _ = rss_of([python, os.path.join(ROOT, "tools", "bench", "model_baseline.py"),
                                     "--model", model, "--m2", "-4", "--lam", "8", "--configs", str(n_configs),
                                     "--batch", str(batch), "--threads", str(args.threads)], env)
                    theirs.append(json.loads(out.strip().splitlines()[-1])["sample_configs_per_s"])
            print(f"  same model, batch {batch}: run {rep + 1}/{args.repeats} done", file=sys.stderr, flush=True)
        rows.append((batch, statistics.median(mine), statistics.median(theirs)))
    return rows


def print_same_model(rows, n_configs):
    print(f"best recipe ({RECIPES['best'][0]}), float32, {n_configs} configurations: flowlat sample against the "
          f"same model in PyTorch (tools/flowlat_model.py; flowlat's rate includes its HDF5 writes)")
    print(f"{'sample batch':20s} {'quantity':24s} {'flowlat':>10s} {'PyTorch':>10s} {'ratio':>7s}")
    for batch, mine, theirs in rows:
        print(f"{batch:<20d} {'sample configs/s':24s} {mine:10.0f} {theirs:10.0f} {mine / theirs:6.2f}x")


def kernel_table(flowlat):
    """The hot kernels' cycles per site against their FMA bound (flowlat_kernel_bench), if built."""
    bench = os.path.join(os.path.dirname(flowlat), "flowlat_kernel_bench")
    if not os.path.exists(bench):
        print(f"(no {bench}: kernel cycles not measured)")
        return
    print(subprocess.run([bench], check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1")).stdout.rstrip())


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="a quarter of the steps and configurations")
    p.add_argument("--only", default="", help="run only configurations whose name contains this")
    p.add_argument("--kernel", default="auto", choices=["auto", "reference", "fused"],
                   help="flowlat's coupling kernel (FLOWLAT_COUPLING_KERNEL)")
    p.add_argument("--memory", action="store_true",
                   help="also: sampling peak memory at L = 16 for --memory-configs configurations")
    p.add_argument("--memory-configs", default="10000,1000000", help="comma-separated ensemble sizes")
    return p.parse_args()


def environment(threads, tuned, kernel):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), FLOWLAT_COUPLING_KERNEL=kernel)
    env.pop("GLIBC_TUNABLES", None)
    if tuned:
        env["GLIBC_TUNABLES"] = TUNABLES
    return env


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, torch {torch.__version__}"


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def race(args, flowlat, python, work):
    env = environment(args.threads, True, args.kernel)
    rows = []
    for cfg in CONFIGS:
        if args.only and args.only not in cfg[0]:
            continue
        if args.quick:
            cfg = cfg[:4] + (max(4, cfg[4] // 4), max(cfg[6], cfg[5] // 4)) + cfg[6:]
        mine, theirs = [], []
        for rep in range(args.repeats):
            # Alternate who goes first: slow drifts of a shared host hit both.
            order = [0, 1] if rep % 2 == 0 else [1, 0]
            for who in order:
                if who == 0:
                    mine.append(flowlat_run(flowlat, work, cfg, args.threads, env))
                else:
                    theirs.append(baseline_run(python, cfg, args.threads, env))
            print(f"  {cfg[0]}: run {rep + 1}/{args.repeats} done", file=sys.stderr, flush=True)
        rows.append((cfg, mine, theirs))
    return rows


def print_table(rows, gemm, threads):
    print(f"{'configuration':20s} {'quantity':24s} {'flowlat':>10s} {'tutorial':>10s} {'ratio':>7s}")
    for cfg, mine, theirs in rows:
        name, L, batch, dtype = cfg[:4]
        fl_ms, tu_ms = median_of(mine, "train_ms"), median_of(theirs, "train_ms")
        fl_cs, tu_cs = median_of(mine, "configs_per_s"), median_of(theirs, "configs_per_s")
        flops = network_flops_per_config(L)
        fl_gf = 3 * flops * batch / (fl_ms * 1e-3) / 1e9   # backward = 2x forward
        tu_gf = 3 * flops * batch / (tu_ms * 1e-3) / 1e9
        peak = gemm[dtype]
        print(f"{name:20s} {'train ms/step':24s} {fl_ms:10.2f} {tu_ms:10.2f} {tu_ms / fl_ms:6.2f}x")
        print(f"{'':20s} {'sample configs/s':24s} {fl_cs:10.0f} {tu_cs:10.0f} {fl_cs / tu_cs:6.2f}x")
        if cfg[7] != "tutorial":  # different networks: no common FLOP count
            print(f"{'':20s} {'peak RSS MB':24s} {median_of(mine, 'rss_mb'):10.0f} "
                  f"{median_of(theirs, 'rss_mb'):10.0f}")
            continue
        print(f"{'':20s} {'train GFLOP/s':24s} {fl_gf:10.2f} {tu_gf:10.2f}")
        print(f"{'':20s} {'  % of one-core GEMM':24s} {100 * fl_gf / peak:9.1f}% {100 * tu_gf / peak:9.1f}%")
        fl_sg, tu_sg = flops * fl_cs / 1e9, flops * tu_cs / 1e9   # sampling: forward only
        print(f"{'':20s} {'sample GFLOP/s':24s} {fl_sg:10.2f} {tu_sg:10.2f}")
        print(f"{'':20s} {'  % of one-core GEMM':24s} {100 * fl_sg / peak:9.1f}% {100 * tu_sg / peak:9.1f}%")
        print(f"{'':20s} {'peak RSS MB':24s} {median_of(mine, 'rss_mb'):10.0f} {median_of(theirs, 'rss_mb'):10.0f}")
    print(f"one-core GEMM (1024^3, {threads} thread(s), best of 40): float32 {gemm['float32']:.1f} GFLOP/s, "
          f"float64 {gemm['float64']:.1f} GFLOP/s")


def memory_check(flowlat, work, threads, sizes):
    env = environment(threads, True, "auto")
    out_dir = os.path.join(work, "memory")
    common = ["input/phi4_L8.yaml", "--force", "--set", f"run.output_dir={out_dir}", "--set", "lattice.shape=[16, 16]",
              "--set", "run.device=cpu", "--set", f"run.threads_per_rank={threads}"]
    rss_of([flowlat, "train"] + common + ["--set", "train.steps=1"], env)
    for n in sizes:
        _, rss = rss_of([flowlat, "sample"] + common + ["--set", f"sample.n_configs={n}"], env)
        size = os.path.getsize(os.path.join(out_dir, "ensemble.h5")) / 2 ** 20
        print(f"sampling L = 16, {n:>8d} configurations (file {size:7.0f} MB): peak RSS {rss:6.0f} MB")


def main():
    args = parse_args()
    flowlat = os.environ.get("FLOWLAT", os.path.join(ROOT, "build", "flowlat"))
    python = sys.executable
    os.chdir(ROOT)
    print(f"machine: {machine()}; {args.threads} thread(s) per process; medians of {args.repeats} alternating runs;"
          f" flowlat coupling kernel {args.kernel}; both with GLIBC_TUNABLES={TUNABLES}")
    gemm = {name: gemm_gflops(dtype, args.threads)
            for name, dtype in (("float32", torch.float32), ("float64", torch.float64))}
    with tempfile.TemporaryDirectory() as work:
        rows = race(args, flowlat, python, work)
        # The best of a measurement before and one after the race: a shared
        # host can slow one of them down.
        gemm = {name: max(rate, gemm_gflops(getattr(torch, name), args.threads)) for name, rate in gemm.items()}
        if rows:
            print_table(rows, gemm, args.threads)
        if not args.only or "same" in args.only:
            n_configs = SAME_MODEL_CONFIGS // 4 if args.quick else SAME_MODEL_CONFIGS
            print_same_model(same_model_race(args, flowlat, python, work, environment(args.threads, True, args.kernel)),
                             n_configs)
            kernel_table(flowlat)
        if rows:
            untuned = baseline_run(python, rows[0][0], args.threads, environment(args.threads, False, args.kernel))
            print(f"tutorial without the malloc tunables, {rows[0][0][0]}: {untuned['train_ms']:.2f} ms/step, "
                  f"{untuned['configs_per_s']:.0f} configs/s")
        if args.memory:
            memory_check(flowlat, work, args.threads, [int(n) for n in args.memory_configs.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
