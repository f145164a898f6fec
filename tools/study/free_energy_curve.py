#!/usr/bin/env python3
"""The free-energy density f(m2) = -log Z / V at fixed lambda from a chain of flows.

For each m2 of --m2 (in the order given) the curve
  1. trains the input's flow recipe at that m2, the first from scratch
     (--first-steps), each later one from the previous m2's best model
     (train.init_from, --steps, no warm-up),
  2. samples a fresh ensemble and analyses it, reweighting it to the next
     m2 (`flowlat analyze --reweight-to m2=...`); point i samples with
     sample.seed = --sample-seed + i: with one seed for all, neighbouring
     flows (each started from the last) map the same prior draws to nearly
     the same configurations, and the points' errors are correlated,
and writes table.md, table.csv and free_energy_curve.png under --out: per
m2 the flow's log Z, f and their errors, the ESS, and between neighbours the
difference log Z(m2') - log Z(m2) two ways, from the two flows' absolute
values and by reweighting one ensemble, with their deviation in combined
errors (a consistency check of both; marked beyond 3).

  python3 tools/study/free_energy_curve.py INPUT --m2 -6,-5,-4,-3,-2 [--steps 600] [--first-steps N]
                                           [--configs 65536] [--sample-seed 4321] [--ranks 2] [--out DIR]

Every step is skipped when its output is complete, so the command can be
run again after an interruption. FLOWLAT=path/to/flowlat runs another build.
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("h5py")

import critical_line as cl  # noqa: E402


def point(args, index, m2, source_model, next_m2):
    name = f"m2_{m2:+.4f}"
    directory = os.path.join(args.out, name)  # the run directory (logs beside it: flowlat train wants it its own)
    os.makedirs(directory, exist_ok=True)
    model = os.path.join(directory, "model_best.pt")
    keys = [("run.output_dir", directory), ("action.m2", m2)]
    if not os.path.exists(os.path.join(directory, "train.done")):
        train = keys + [("run.resume", "auto"), ("train.steps", args.first_steps if not source_model else args.steps)]
        if source_model:
            train += [("train.init_from", source_model), ("train.warmup_steps", 0)]
        cl.run(cl.mpirun(args) + [args.flowlat, "train", args.input] + cl.sets(train), os.path.join(args.out, name + ".train.log"))
        open(os.path.join(directory, "train.done"), "w").close()
    ensemble = os.path.join(directory, "ensemble.h5")
    if not cl.ensemble_complete(ensemble):
        start = ["--resume"] if os.path.exists(ensemble) else []
        cl.run(cl.mpirun(args) + [args.flowlat, "sample", args.input, "--model", model] + start +
               cl.sets(keys + [("sample.n_configs", args.configs), ("sample.output", "ensemble.h5"),
                               ("sample.seed", args.sample_seed + index)]),
               os.path.join(args.out, name + ".sample.log"))
    out = os.path.join(directory, "analysis.json")
    command = [args.flowlat, "analyze", ensemble, "--json", out, "--force"]
    if next_m2 is not None:
        command += ["--reweight-to", f"m2={next_m2!r}"]
    cl.run(command, os.path.join(args.out, name + ".analyze.log"))
    with open(out) as f:
        analysis = json.load(f)
    log_z = analysis["observables"]["log_z"]["reweighted"]
    volume = analysis["volume"]
    row = {"m2": m2, "ess": analysis["ess"], "log_z": log_z["value"], "log_z_error": log_z["error"],
           "f": -log_z["value"] / volume, "f_error": log_z["error"] / volume,
           "train_seconds": analysis.get("cost", {}).get("sampler", {}).get("setup_seconds", float("nan"))}
    shift = analysis.get("reweighted_to")
    if shift:
        row.update({"reweighted_delta_log_z": shift["delta_log_z"]["value"],
                    "reweighted_delta_log_z_error": shift["delta_log_z"]["error"], "reweighting_ess": shift["ess"]})
    return row, model


def compare_neighbours(rows):
    for a, b in zip(rows, rows[1:]):
        direct = b["log_z"] - a["log_z"]
        direct_error = math.hypot(a["log_z_error"], b["log_z_error"])
        reweighted, error = a["reweighted_delta_log_z"], a["reweighted_delta_log_z_error"]
        a["direct_delta_log_z"], a["direct_delta_log_z_error"] = direct, direct_error
        a["delta_deviation_sigma"] = abs(direct - reweighted) / math.hypot(direct_error, error)


def write_outputs(args, rows):
    cl.write_csv(os.path.join(args.out, "table.csv"), rows, digits=8)
    lines = [f"f(m2) = -log Z / V at fixed lambda from a chain of flows ({args.input}); between neighbours "
             "log Z(next) - log Z(this) from the two flows and by reweighting this ensemble.", "",
             "| m2 | ESS | log Z | f | dlog Z, two flows | dlog Z, reweighted (ESS) | deviation |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if "direct_delta_log_z" in r:
            mark = " **beyond 3**" if r["delta_deviation_sigma"] > 3 else ""
            pair = (f"{r['direct_delta_log_z']:.4f} +- {r['direct_delta_log_z_error']:.4f} | "
                    f"{r['reweighted_delta_log_z']:.4f} +- {r['reweighted_delta_log_z_error']:.4f} "
                    f"({r['reweighting_ess']:.3f}) | {r['delta_deviation_sigma']:.1f}{mark}")
        else:
            pair = " | | "
        lines.append(f"| {r['m2']:g} | {r['ess']:.3f} | {r['log_z']:.4f} +- {r['log_z_error']:.4f} "
                     f"| {r['f']:.6f} +- {r['f_error']:.6f} | {pair} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    print(text)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.errorbar([r["m2"] for r in rows], [r["f"] for r in rows], yerr=[r["f_error"] for r in rows], fmt="o-",
                label="f = -log Z / V (flow)")
    ax.set_xlabel("m$^2$")
    ax.set_ylabel("free-energy density f")
    ax.set_title(os.path.basename(args.input))
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "free_energy_curve.png"), dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input", help="the flow recipe (lattice, lambda, flow, train, sample)")
    p.add_argument("--m2", required=True, help="comma-separated m2, in the order of the chain")
    p.add_argument("--steps", type=int, default=600, help="training steps of every m2 after the first")
    p.add_argument("--first-steps", type=int, default=None, help="training steps of the first m2 (default 4 x --steps)")
    p.add_argument("--configs", type=int, default=65536)
    p.add_argument("--sample-seed", type=int, default=4321,
                   help="sample.seed of the first m2; the i-th samples with this + i (independent ensembles)")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--out", default=os.path.join(cl.ROOT, "runs", "free_energy_curve"))
    p.add_argument("--flowlat", default=os.environ.get("FLOWLAT", os.path.join(cl.ROOT, "build", "flowlat")))
    args = p.parse_args()
    args.input = os.path.abspath(args.input)
    args.out = os.path.abspath(args.out)
    if args.first_steps is None:
        args.first_steps = 4 * args.steps
    os.makedirs(args.out, exist_ok=True)
    values = [float(v) for v in args.m2.split(",")]
    rows, model = [], None
    start = time.time()
    for i, m2 in enumerate(values):
        row, model = point(args, i, m2, model, values[i + 1] if i + 1 < len(values) else None)
        rows.append(row)
        compare_neighbours(rows)
        write_outputs(args, rows)
    print(f"curve done in {time.time() - start:.0f} s: {args.out}/table.md, table.csv, free_energy_curve.png")


if __name__ == "__main__":
    sys.exit(main())
