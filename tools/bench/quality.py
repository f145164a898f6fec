#!/usr/bin/env python3
"""The flow-quality benchmark: which recipe gives an ensemble worth using.

For each problem (a) L = 8 at the tutorial's couplings (m2 = -4, lambda = 8),
(b) L = 8 on the near-critical line (lambda = 6.008), (c) L = 16 at the
tutorial's couplings, (d) L = 32 on the near-critical line (lambda = 4.572), and for the
continuous family (e) L = 64, lambda = 4.398 and (f) L = 20, lambda = 4.807,
every recipe is trained on `--ranks` MPI ranks for each of `--seeds` seeds,
then a fresh ensemble of 65,536 configurations is sampled and analysed.
The table reports the ensemble's ESS and independence-Metropolis acceptance
(mean and min..max over seeds), training steps and wall-clock, and the
reweighted chi2 = <M^2>/V next to `flowlat hmc` on the same couplings.

Recipes (rows):
  tutorial            input/phi4_L8.yaml's flow and training as they are
  tutorial, same time the tutorial's network on batches of 256 for as long
                      as the longer of the best rows trained (run.max_walltime)
  + fourier, + z2, + spline, + path, + cosine
                      the tutorial recipe with one technique added
  best + z2           the best recipe with Z2-equivariant couplings (the
                      previous best: as good, twice the cost per step)
  best                input/phi4_L8_best.yaml's recipe (Fourier layer,
                      spline couplings, cosine schedule); on L = 16 and 32
                      it starts from the best L = 8 model (train.init_from)
  continuous          the near-critical inputs input/phi4_L{12,20,32,64}_critical.yaml
                      as shipped (symmetric Fourier layer, one global continuous
                      layer), each starting from the seed's model of the previous
                      link (L = 12 -> 20 -> 32 -> 64); "train s" counts the whole
                      chain; ensembles with 2 RK4 steps per piece at L = 32, 64;
                      rows of (e), (f), and of (d) when --recipes names it; the
                      same in both budgets

  python3 tools/bench/quality.py [--budget small|full] [--problems a,b,c,d] [--seeds 3]
                                 [--recipes tutorial,best,continuous,...]

The small budget shortens the best recipe and the larger lattices' runs and
gives (c) and (d) only the tutorial rows and the best one; the full budget
is the issue's: (a) 10 min, (b) 20 min, (c) 30 min, (d) 2 h of training.
Everything lands under --out (default runs/quality): one directory per run,
table.md and table.csv. Runs already finished there are reused.
"""
import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PROBLEMS = {
    "a": {"shape": [8, 8], "lambda": 8.0, "hmc_trajectories": 4000, "hmc": ["hmc.step_size=0.2", "hmc.n_md_steps=5"]},
    "b": {"shape": [8, 8], "lambda": 6.008, "hmc_trajectories": 4000, "hmc": ["hmc.step_size=0.2", "hmc.n_md_steps=5"]},
    "c": {"shape": [16, 16], "lambda": 8.0, "hmc_trajectories": 4000, "hmc": ["hmc.step_size=0.15", "hmc.n_md_steps=7"]},
    "d": {"shape": [32, 32], "lambda": 4.572, "hmc_trajectories": 2000, "hmc": ["hmc.step_size=0.1", "hmc.n_md_steps=10"]},
    # no HMC reference at L = 64 (its chi2 column stays empty)
    "e": {"shape": [64, 64], "lambda": 4.398, "hmc_trajectories": None},
    "f": {"shape": [20, 20], "lambda": 4.807, "hmc_trajectories": 4000, "hmc": ["hmc.step_size=0.1", "hmc.n_md_steps=10"]},
}

TUTORIAL = "input/phi4_L8.yaml"
BEST = "input/phi4_L8_best.yaml"

# Steps of the best recipe, and of its transfer runs on larger lattices.
BUDGETS = {
    "small": {"a": 2400, "b": 2400, "c": 600, "d": 300},
    "full": {"a": 7000, "b": 14000, "c": 2800, "d": 12000},
}
# The best recipe with Z2-equivariant couplings: steps for the same budget.
BUDGETS_Z2 = {
    "small": {"a": 1500, "b": 1500},
    "full": {"a": 3500, "b": 7000},
}

# The continuous family's transfer chain: (problem or link name, shipped input,
# that input's train.seed, sample overrides). Seed s > 1 trains each link with
# train.seed + 100 (s - 1).
CHAIN = [
    ("L12", "input/phi4_L12_critical.yaml", 1, []),
    ("f", "input/phi4_L20_critical.yaml", 2, ["sample.batch_size=1024"]),
    ("d", "input/phi4_L32_critical.yaml", 2, ["sample.batch_size=1024", "flow.ode_substeps=2"]),
    ("e", "input/phi4_L64_critical.yaml", 3, ["sample.batch_size=512", "flow.ode_substeps=2"]),
]

TECHNIQUES = [
    ("+ fourier", ["flow.fourier_layer=diagonal"]),
    ("+ z2", ["flow.equivariance=z2"]),
    ("+ spline", ["flow.coupling=spline", "flow.spline_bound=3.0"]),
    ("+ path", ["train.estimator=path"]),
    ("+ cosine", ["train.lr_schedule=cosine", "train.warmup_steps=100"]),
]


def flowlat_command(args, arguments):
    launcher = ["mpirun", "--oversubscribe", "-np", str(args.ranks)]
    if os.geteuid() == 0:
        launcher.insert(1, "--allow-run-as-root")
    return launcher + [args.flowlat] + arguments


def run(args, arguments, log):
    """Runs flowlat under mpirun, output to `log`; returns (exit code, output)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(log, "w") as out:
        code = subprocess.call(flowlat_command(args, arguments), stdout=out, stderr=subprocess.STDOUT, env=env)
    with open(log) as f:
        return code, f.read()


def problem_overrides(problem):
    p = PROBLEMS[problem]
    return [f"lattice.shape=[{p['shape'][0]},{p['shape'][1]}]", f"action.lambda={p['lambda']}"]


def sets(overrides):
    out = []
    for o in overrides:
        out += ["--set", o]
    return out


def trained_model(directory):
    """The model a run directory's ensemble is sampled from: the held-out best, else the last."""
    best = os.path.join(directory, "run", "model_best.pt")
    return best if os.path.exists(best) else os.path.join(directory, "run", "model.pt")


def slug(name):
    """A recipe's name as a directory and --recipes name: "tutorial, same time" -> tutorial_same_time."""
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_")


def train_and_sample(args, directory, config, overrides, walltime=None, sample_overrides=()):
    """Trains, samples 65,536 and analyses; returns the run's numbers (reused if done).

    sample_overrides apply to sampling only (after the defaults, so they win)."""
    result_path = os.path.join(directory, "result.json")
    if os.path.exists(result_path):
        with open(result_path) as f:
            return json.load(f)
    os.makedirs(directory, exist_ok=True)
    overrides = overrides + [f"run.output_dir={directory}/run", "sample.n_configs=65536", "sample.batch_size=2048"]
    train = ["train", config, "--force"] + sets(overrides)
    if walltime:
        train += sets([f"run.max_walltime={walltime}"])
    code, output = run(args, train, os.path.join(directory, "train.log"))
    if code == 3:  # stopped at the wall-clock budget: finish at the step reached
        step = int(re.search(r"after step ([0-9]+) of", output).group(1))
        overrides.append(f"train.steps={step}")
        code, output = run(args, ["train", config, "--resume"] + sets(overrides),
                           os.path.join(directory, "train_finish.log"))
        output = open(os.path.join(directory, "train.log")).read() + output
    if code != 0:
        raise RuntimeError(f"training failed, see {directory}/train.log")
    # log lines start with their UTC time (older logs without it are read too)
    seconds = [float(s) for s in re.findall(r"^(?:\S+Z +)?trained [0-9]+ steps in ([0-9.]+) s", output, re.M)]
    steps = [int(s) for s in re.findall(r"^(?:\S+Z +)?trained ([0-9]+) steps", output, re.M)]
    model = trained_model(directory)
    replaced = {o.split("=", 1)[0] for o in sample_overrides}  # a key given twice is refused
    sample = [o for o in overrides if o.split("=", 1)[0] not in replaced] + list(sample_overrides)
    code, _ = run(args, ["sample", config, "--force", "--model", model] + sets(sample),
                  os.path.join(directory, "sample.log"))
    if code != 0:
        raise RuntimeError(f"sampling failed, see {directory}/sample.log")
    analysis = analyze(args, os.path.join(directory, "run", "ensemble.h5"))
    result = {"steps": steps[-1], "train_seconds": seconds[-1], "ess": analysis["ess"],
              "acceptance": analysis["accept_rate"],
              "chi2": analysis["observables"]["chi2"]["reweighted"]["value"],
              "chi2_error": analysis["observables"]["chi2"]["reweighted"]["error"]}
    with open(result_path, "w") as f:
        json.dump(result, f, indent=1)
    return result


def analyze(args, ensemble):
    out = ensemble + ".json"
    subprocess.check_call([args.flowlat, "analyze", ensemble, "--json", out, "--force"], stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def hmc_reference(args, problem):
    directory = os.path.join(args.out, problem, "hmc")
    result_path = os.path.join(directory, "result.json")
    if os.path.exists(result_path):
        with open(result_path) as f:
            return json.load(f)
    p = PROBLEMS[problem]
    if p["hmc_trajectories"] is None:
        return None
    os.makedirs(directory, exist_ok=True)
    overrides = problem_overrides(problem) + p["hmc"] + [f"hmc.n_trajectories={p['hmc_trajectories']}",
                                                          "hmc.n_thermalization=500", "hmc.n_chains=8",
                                                          f"run.output_dir={directory}"]
    code, _ = run(args, ["hmc", os.path.join(ROOT, TUTORIAL), "--force"] + sets(overrides),
                  os.path.join(directory, "hmc.log"))
    if code != 0:
        raise RuntimeError(f"hmc failed, see {directory}/hmc.log")
    analysis = analyze(args, os.path.join(directory, "hmc.h5"))
    chi2 = analysis["observables"]["chi2"]["chain"]
    result = {"chi2": chi2["value"], "chi2_error": chi2["error"]}
    with open(result_path, "w") as f:
        json.dump(result, f, indent=1)
    return result


def recipes(args, problem):
    """(name, config, overrides(seed), walltime_from) for this problem and budget."""
    budget = BUDGETS[args.budget]
    base = problem_overrides(problem)
    tutorial = os.path.join(ROOT, TUTORIAL)
    best = os.path.join(ROOT, BEST)
    if problem in ("e", "f"):
        return [continuous_recipe(args, problem)]
    rows = [("tutorial", tutorial, lambda s: base + [f"train.seed={s}"], None)]
    rows.append(("tutorial, same time", tutorial,
                 lambda s: base + [f"train.seed={s}", "train.batch_size=256", "train.steps=1000000"], "best"))
    small_large = args.budget == "small" and problem in ("c", "d")
    if not small_large:
        for name, extra in TECHNIQUES:
            rows.append((name, tutorial, lambda s, extra=extra: base + [f"train.seed={s}"] + extra, None))
    best_overrides = base + [f"train.steps={budget[problem]}"]
    if problem in ("c", "d"):
        source = "a" if problem == "c" else "b"
        best_overrides = best_overrides + ["train.warmup_steps=0"]
        rows.append(("best (from L = 8)", best,
                     lambda s: best_overrides + [f"train.seed={s}",
                                                 f"train.init_from={source_model(args, source, s)}"], None))
        if problem == "d" and "continuous" in selected_recipes(args):  # ~81 min a seed: asked for only
            rows.append(continuous_recipe(args, problem))
    else:
        z2_overrides = base + [f"train.steps={BUDGETS_Z2[args.budget][problem]}", "flow.equivariance=z2"]
        rows.append(("best + z2", best, lambda s: z2_overrides + [f"train.seed={s}"], None))
        rows.append(("best", best, lambda s: best_overrides + [f"train.seed={s}"], None))
    return rows


def source_model(args, problem, seed):
    """The best recipe's model of `problem` for this seed (trained if missing)."""
    directory = os.path.join(args.out, problem, "best", f"seed{seed}")
    if not os.path.exists(os.path.join(directory, "result.json")):
        budget = BUDGETS[args.budget]
        train_and_sample(args, directory, os.path.join(ROOT, BEST),
                         problem_overrides(problem) + [f"train.steps={budget[problem]}", f"train.seed={seed}"])
    return trained_model(directory)


def chain_link(args, link, seed):
    """Trains (or reuses) the continuous chain up to `link` for this seed.

    Returns (directory, input, overrides, sample overrides, seconds of the
    earlier links' training)."""
    names = [c[0] for c in CHAIN]
    earlier_seconds = 0.0
    init_from = None
    for name, config, input_seed, sample_overrides in CHAIN[:names.index(link) + 1]:
        directory = os.path.join(args.out, name, "continuous", f"seed{seed}")
        overrides = [f"train.seed={input_seed + 100 * (seed - 1)}"]
        if init_from:
            overrides.append(f"train.init_from={init_from}")
        if name == link:
            return directory, os.path.join(ROOT, config), overrides, sample_overrides, earlier_seconds
        result = train_and_sample(args, directory, os.path.join(ROOT, config), overrides,
                                  sample_overrides=sample_overrides)
        earlier_seconds += result["train_seconds"]
        init_from = trained_model(directory)


def continuous_recipe(args, problem):
    """The "continuous" row: (name, None, seed -> result, None); see CHAIN."""
    def result(seed):
        directory, config, overrides, sample_overrides, earlier = chain_link(args, problem, seed)
        r = dict(train_and_sample(args, directory, config, overrides, sample_overrides=sample_overrides))
        r["train_seconds"] += earlier
        return r
    return ("continuous", None, result, None)


RECIPE_NAMES = (["tutorial", "tutorial, same time"] + [t[0] for t in TECHNIQUES]
                + ["best + z2", "best", "best (from L = 8)", "continuous"])


def selected_recipes(args):
    """The --recipes names (slugs); empty for all rows."""
    return set(args.recipes.split(",")) if args.recipes else set()


def summarize(name, results, hmc):
    def spread(key):
        values = [r[key] for r in results]
        return sum(values) / len(values), min(values), max(values)
    ess = spread("ess")
    acc = spread("acceptance")
    weights = [1 / r["chi2_error"] ** 2 for r in results]
    chi2 = sum(w * r["chi2"] for w, r in zip(weights, results)) / sum(weights)
    chi2_error = 1 / math.sqrt(sum(weights))
    nan = float("nan")
    hmc = hmc or {"chi2": nan, "chi2_error": nan}
    deviations = [abs(r["chi2"] - hmc["chi2"]) / math.hypot(r["chi2_error"], hmc["chi2_error"]) for r in results]
    return {"recipe": name, "seeds": len(results), "steps": round(spread("steps")[0]),
            "train_seconds": spread("train_seconds")[0], "ess": ess, "acceptance": acc,
            "chi2": chi2, "chi2_error": chi2_error, "hmc_chi2": hmc["chi2"], "hmc_chi2_error": hmc["chi2_error"],
            "max_deviation_sigma": max(deviations)}


def markdown(rows):
    lines = ["| problem | recipe | seeds | steps | train s | ensemble ESS (min..max) | IMH acceptance (min..max) "
             "| chi2 flow (reweighted) | chi2 HMC | max dev / sigma |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        e, a = r["ess"], r["acceptance"]
        hmc, deviation = "no HMC", "-"
        if not math.isnan(r["hmc_chi2"]):
            hmc = f"{r['hmc_chi2']:.4f} +- {r['hmc_chi2_error']:.4f}"
            deviation = f"{r['max_deviation_sigma']:.1f}"
        lines.append(f"| {r['problem']} | {r['recipe']} | {r['seeds']} | {r['steps']} | {r['train_seconds']:.0f} "
                     f"| {e[0]:.3f} ({e[1]:.3f}..{e[2]:.3f}) | {a[0]:.3f} ({a[1]:.3f}..{a[2]:.3f}) "
                     f"| {r['chi2']:.4f} +- {r['chi2_error']:.4f} | {hmc} | {deviation} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=["small", "full"], default="small")
    p.add_argument("--problems", default="a,b,c,d")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--recipes", help="only these rows, comma-separated, named as their directories "
                                      "(e.g. continuous, best_from_8, tutorial_same_time)")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "quality"))
    p.add_argument("--flowlat", default=os.environ.get("FLOWLAT", os.path.join(ROOT, "build", "flowlat")))
    args = p.parse_args()
    args.out = os.path.abspath(args.out)
    unknown = selected_recipes(args) - {slug(n) for n in RECIPE_NAMES}
    if unknown:  # before anything runs or a table is overwritten
        p.error(f"--recipes: unknown {', '.join(sorted(unknown))} (known: "
                f"{', '.join(slug(n) for n in RECIPE_NAMES)})")
    unknown = set(args.problems.split(",")) - set(PROBLEMS)
    if unknown:
        p.error(f"--problems: unknown {', '.join(sorted(unknown))} (known: {', '.join(PROBLEMS)})")
    rows = []
    start = time.time()
    for problem in args.problems.split(","):
        # reversed: the best recipe first, whose time the same-time baseline gets
        rows_here = [r for r in reversed(recipes(args, problem))
                     if not args.recipes or slug(r[0]) in selected_recipes(args)]
        if not rows_here:  # no HMC reference run for a problem without rows
            continue
        hmc = hmc_reference(args, problem)
        seeds = args.seeds
        best_seconds = None
        for name, config, overrides, walltime_from in rows_here:
            results = []
            for seed in range(1, seeds + 1):
                if config is None:  # a row that trains its own chain
                    results.append(overrides(seed))
                    print(f"[{time.time() - start:7.0f} s] {problem} {name} seed {seed}: "
                          f"ESS {results[-1]['ess']:.4f}", flush=True)
                    continue
                directory = os.path.join(args.out, problem, slug(name), f"seed{seed}")
                walltime = None
                if walltime_from:
                    walltime = f"{best_seconds:.0f}"
                results.append(train_and_sample(args, directory, config, overrides(seed), walltime))
                print(f"[{time.time() - start:7.0f} s] {problem} {name} seed {seed}: ESS {results[-1]['ess']:.4f}",
                      flush=True)
            row = summarize(name, results, hmc)
            row["problem"] = problem
            if name.startswith("best"):  # the same-time baseline gets the longest best variant's time
                best_seconds = max(best_seconds or 0.0, row["train_seconds"])
            rows.append(row)
    order = {name: i for i, name in enumerate(RECIPE_NAMES)}
    rows.sort(key=lambda r: (r["problem"], order.get(r["recipe"], 99)))
    table = markdown(rows)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.out, "table.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["problem", "recipe", "seeds", "steps", "train_seconds", "ess_mean", "ess_min", "ess_max",
                         "acceptance_mean", "acceptance_min", "acceptance_max", "chi2", "chi2_error", "hmc_chi2",
                         "hmc_chi2_error", "max_deviation_sigma"])
        for r in rows:
            writer.writerow([r["problem"], r["recipe"], r["seeds"], r["steps"], f"{r['train_seconds']:.1f}",
                             *[f"{v:.4f}" for v in r["ess"]], *[f"{v:.4f}" for v in r["acceptance"]],
                             f"{r['chi2']:.5f}", f"{r['chi2_error']:.5f}", f"{r['hmc_chi2']:.5f}",
                             f"{r['hmc_chi2_error']:.5f}", f"{r['max_deviation_sigma']:.2f}"])
    print(table)


if __name__ == "__main__":
    sys.exit(main())
