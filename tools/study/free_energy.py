#!/usr/bin/env python3
"""The free-energy study: what sigma(f) = 1e-5 per site costs by each method.

On the near-critical line of the critical-line study (input/critical_ode/
phi4_L<L>.yaml, or input/critical/ with --family coupling) the study measures log Z three ways for each L:
  (i)   the flow alone: the critical-line study's flow (trained from the
        previous L's model) and its fresh ensemble, log Z = log <w>_q;
  (ii)  the same flow annealed to exp(-S) (`flowlat sample` with
        sample.anneal_steps = K: latent-space HMC moves, Jarzynski weights);
  (iii) HMC with thermodynamic integration from the free field (`flowlat ti`),
and with the critical-line study's HMC ensemble the bracket
<log w>_q <= log Z <= <log p - log q>_p (`flowlat analyze --versus --model`).
Each method's seconds to reach sigma(log Z) = 1e-5 V are extrapolated from
what it measured, as a 2-rank job: errors fall as 1/sqrt(rows), so
  flow, annealed flow: training (cumulative over the transfer chain)
                       + sampling seconds x (sigma / target)^2,
  TI:                  thermalisation seconds of the nodes
                       + trajectory seconds x (sigma / target)^2
(TI's n-point rule only; the n/2 rule it also runs is its quadrature check).
Every pair of log Z must agree within 3 combined errors (marked otherwise).
Writes table.md, table.csv and free_energy.png under --out.

  python3 tools/study/free_energy.py [--sizes 6,8,...] [--ranks 2] [--out DIR] [--study DIR]
                                     [--anneal-steps 10] [--anneal-configs 8192] [--ti-nodes 8]
                                     [--ti-trajectories 2000] [--family continuous|coupling] [--configs DIR]
                                     [--budget small|full]
  python3 tools/study/free_energy.py --arguments anneal|ti|ti-json|bracket --sizes L [same options]

The flows and HMC ensembles come from the critical-line study in --study
(default runs/study/<budget>_<family>), which is run for the missing sizes. Every step
is skipped when its output is complete, so the command can be run again
after an interruption. On a cluster jobscripts/submit_free_energy.sh runs
the same steps as SLURM arrays (their flowlat arguments from --arguments)
and then this command, which finds them done and writes the table.
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

TARGET_F = 1e-5  # sigma(f) per site


def read_json(path):
    with open(path) as f:
        return json.load(f)


def volume(size):
    return size * size


def flow_paths(args, size):
    """The critical-line study's flow directory, best model and HMC file for size L."""
    directory = os.path.join(args.out, f"L{size}")
    return (os.path.join(directory, "flow"), os.path.join(directory, "flow", "model_best.pt"),
            os.path.join(directory, "hmc", "hmc.h5"))


def anneal_arguments(args, size):
    """flowlat's arguments for the annealed ensemble of size L; None when it is complete."""
    flow_dir, model, _ = flow_paths(args, size)
    path = os.path.join(flow_dir, "annealed.h5")
    json_path = os.path.join(flow_dir, "annealed.json")
    if cl.ensemble_complete(path) and os.path.exists(json_path):
        return None
    keys = [("run.output_dir", flow_dir), ("sample.anneal_steps", args.anneal_steps),
            ("sample.n_configs", args.anneal_configs), ("sample.batch_size", 512)]
    start = ["--resume"] if os.path.exists(path) else ["--force"]
    return (["sample", cl.config_path(size), "--model", model, "--output", path, "--json", json_path] + start
            + cl.sets(keys))


def annealed_ensemble(args, size):
    flow_dir, _, _ = flow_paths(args, size)
    arguments = anneal_arguments(args, size)
    if arguments:
        cl.run(cl.mpirun(args) + [args.flowlat] + arguments, os.path.join(os.path.dirname(flow_dir), "anneal.log"))
    return read_json(os.path.join(flow_dir, "annealed.json"))


def bracket_arguments(args, size):
    """flowlat's arguments for the log Z bracket of size L; None when it is there."""
    flow_dir, model, hmc_file = flow_paths(args, size)
    out = os.path.join(flow_dir, "bracket.json")
    if os.path.exists(out):
        return None
    return ["analyze", os.path.join(flow_dir, "ensemble.h5"), "--versus", hmc_file, "--model", model, "--json", out,
            "--force"]


def bracket(args, size):
    flow_dir, _, _ = flow_paths(args, size)
    arguments = bracket_arguments(args, size)
    if arguments:
        cl.run(cl.mpirun(args) + [args.flowlat] + arguments, os.path.join(flow_dir, "bracket.log"))
    return read_json(os.path.join(flow_dir, "bracket.json"))["log_z_bracket"]


def ti_json(args, size):
    return os.path.join(args.ti_out, f"L{size}", "ti.json")


def ti_arguments(args, size):
    """`flowlat ti`'s configuration and --set arguments for size L (without --json and
    --resume, which the in-process run and jobscripts/submit_ti.sh add); None when done."""
    if os.path.exists(ti_json(args, size)):
        return None
    keys = [("run.output_dir", os.path.dirname(ti_json(args, size))), ("ti.nodes", args.ti_nodes),
            ("hmc.step_jitter", 0.2), ("hmc.n_trajectories", args.ti_trajectories), ("hmc.n_thermalization", 500),
            ("hmc.tune_trajectories", 300)]
    return [cl.config_path(size)] + cl.sets(keys)


def thermodynamic_integration(args, size):
    out = ti_json(args, size)
    directory = os.path.dirname(out)
    os.makedirs(directory, exist_ok=True)
    arguments = ti_arguments(args, size)
    if arguments:
        resume = ["--resume"] if os.path.isdir(os.path.join(directory, "ti")) else []
        cl.run(cl.mpirun(args) + [args.flowlat, "ti", "--json", out] + resume + arguments,
               os.path.join(directory, "ti.log"))
    return read_json(out)


def ti_seconds(ti):
    """Thermalisation and trajectory seconds of the main rule's nodes."""
    import h5py
    fixed = varying = 0.0
    for node in ti["nodes"]:
        if node["rule"] != ti["log_z"]["nodes"]:
            continue
        with h5py.File(node["file"], "r") as f:
            a = f["/"].attrs
            thermalisation = float(a.get("thermalization_seconds", 0.0))
        fixed += thermalisation
        varying += node["seconds"] - thermalisation
    return fixed, varying


def seconds_to_target(fixed, varying, error, target):
    return fixed + varying * (error / target) ** 2


def study_point(args, size, source_model, earlier_training):
    t0 = time.time()
    row, model, cumulative = cl.study_point(args, size, source_model, earlier_training)
    flow_dir, _, _ = flow_paths(args, size)
    target = TARGET_F * volume(size)
    flow = read_json(os.path.join(flow_dir, "ensemble.h5.json"))
    flow_cost = flow["cost"]["sampler"]
    flow_z = flow["observables"]["log_z"]["reweighted"]
    flow_sampling = flow_cost["seconds_per_row"] * flow["n"]
    annealed = annealed_ensemble(args, size)
    annealed_sampling = annealed["seconds"]
    ti = thermodynamic_integration(args, size)
    ti_fixed, ti_varying = ti_seconds(ti)
    limits = bracket(args, size)
    methods = {
        "flow": (flow_z["value"], flow_z["error"], seconds_to_target(cumulative, flow_sampling, flow_z["error"], target)),
        "annealed": (annealed["log_z"], annealed["log_z_error"],
                     seconds_to_target(cumulative, annealed_sampling, annealed["log_z_error"], target)),
        "ti": (ti["log_z"]["value"], ti["log_z"]["error"],
               seconds_to_target(ti_fixed, ti_varying, ti["log_z"]["error"], target)),
    }
    worst, disagreements = 0.0, []
    names = list(methods)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sigma = math.hypot(methods[a][1], methods[b][1])
            deviation = abs(methods[a][0] - methods[b][0]) / sigma
            worst = max(worst, deviation)
            if deviation > 3:
                disagreements.append(f"{a} vs {b} {deviation:.1f}")
    out = {
        "L": size, "lambda": row["lambda"], "target_log_z_error": target,
        "flow_ess": flow["ess"], "train_seconds_cumulative": cumulative,
        "flow_log_z": methods["flow"][0], "flow_log_z_error": methods["flow"][1],
        "flow_rows": flow["n"], "flow_sampling_seconds": flow_sampling, "flow_seconds_to_target": methods["flow"][2],
        "annealed_steps": annealed["anneal_steps"], "annealed_ess": annealed["ess"],
        "annealed_acceptance": annealed["anneal_acceptance"],
        "annealed_log_z": methods["annealed"][0], "annealed_log_z_error": methods["annealed"][1],
        "annealed_rows": annealed["n"], "annealed_sampling_seconds": annealed_sampling,
        "annealed_seconds_to_target": methods["annealed"][2],
        "ti_nodes": ti["log_z"]["nodes"], "ti_log_z": methods["ti"][0], "ti_log_z_error": methods["ti"][1],
        "ti_quadrature_difference": ti["quadrature_error_estimate"]["value"],
        "ti_quadrature_difference_error": ti["quadrature_error_estimate"]["error"],
        "ti_seconds": ti_fixed + ti_varying, "ti_seconds_to_target": methods["ti"][2],
        "lower_bound": limits["lower"]["value"], "lower_bound_error": limits["lower"]["error"],
        "upper_bound": limits["upper"]["value"], "upper_bound_error": limits["upper"]["error"],
        "max_deviation_sigma": worst, "disagreements": "; ".join(disagreements),
    }
    print(f"[L = {size}: {time.time() - t0:.0f} s] log Z flow {out['flow_log_z']:.4f}({out['flow_log_z_error']:.4f}), "
          f"annealed {out['annealed_log_z']:.4f}({out['annealed_log_z_error']:.4f}), TI {out['ti_log_z']:.4f}"
          f"({out['ti_log_z_error']:.4f}); seconds to sigma(f) = 1e-5: flow {out['flow_seconds_to_target']:.3g}, "
          f"annealed {out['annealed_seconds_to_target']:.3g}, TI {out['ti_seconds_to_target']:.3g}", flush=True)
    return out, model, cumulative


def value_error(value, error):
    return f"{value:.4f} +- {error:.4f}"


def write_outputs(args, rows):
    cl.write_csv(os.path.join(args.out_free, "table.csv"), rows)
    lines = [
        f"Free-energy study on {args.ranks} ranks: log Z by the flow alone, the flow annealed over "
        f"{args.anneal_steps} steps and HMC with thermodynamic integration ({args.ti_nodes} nodes), and the seconds "
        "each needs for sigma(f) = 1e-5 per site (sigma(log Z) = 1e-5 V), extrapolated as errors fall with "
        "1/sqrt(rows); the flows' training counted from the first L of the transfer chain.",
        "",
        "| L | lambda | flow ESS | log Z flow | log Z annealed (ESS) | log Z HMC + TI | bracket <log w>_q .. <log p - log q>_p "
        "| target sigma(log Z) | s: flow | s: annealed | s: HMC + TI | max dev. |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        mark = "" if not r["disagreements"] else " **" + r["disagreements"] + "**"
        lines.append(
            f"| {r['L']} | {r['lambda']} | {r['flow_ess']:.3f} | {value_error(r['flow_log_z'], r['flow_log_z_error'])} "
            f"| {value_error(r['annealed_log_z'], r['annealed_log_z_error'])} ({r['annealed_ess']:.3f}) "
            f"| {value_error(r['ti_log_z'], r['ti_log_z_error'])} "
            f"| {r['lower_bound']:.3f} .. {r['upper_bound']:.3f} | {r['target_log_z_error']:.2g} "
            f"| {r['flow_seconds_to_target']:.3g} | {r['annealed_seconds_to_target']:.3g} "
            f"| {r['ti_seconds_to_target']:.3g} | {r['max_deviation_sigma']:.1f}{mark} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out_free, "table.md"), "w") as f:
        f.write(text)
    print(text)
    plot(args, rows)


def plot(args, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401
    sizes = [r["L"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.loglog(sizes, [r["flow_seconds_to_target"] for r in rows], "s-", label="flow (training counted)")
    ax.loglog(sizes, [r["annealed_seconds_to_target"] for r in rows], "^-",
              label=f"flow + annealing ({args.anneal_steps} steps)")
    ax.loglog(sizes, [r["ti_seconds_to_target"] for r in rows], "o-", label=f"HMC + TI ({args.ti_nodes} nodes)")
    ax.set_xlabel("L (m$^2$ = -4, $\\xi \\approx$ L/4)")
    ax.set_ylabel("seconds of a %d-rank job for $\\sigma(f) = 10^{-5}$" % args.ranks)
    ax.set_title("flowlat free-energy study")
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out_free, "free_energy.png"), dpi=120)


def print_arguments(args):
    sizes = [int(s) for s in args.sizes.split(",")]
    if len(sizes) != 1:
        print("--arguments needs one size in --sizes", file=sys.stderr)
        return 2
    if args.arguments == "ti-json":
        arguments = [ti_json(args, sizes[0])]
    else:
        build = {"anneal": anneal_arguments, "ti": ti_arguments, "bracket": bracket_arguments}[args.arguments]
        arguments = build(args, sizes[0]) or []
    sys.stdout.write("".join(str(a) + "\0" for a in arguments))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="6,8,10,12")
    p.add_argument("--study", help="the critical-line study's directory (default runs/study/<budget>_<family>)")
    p.add_argument("--out", dest="free_out", help="default runs/free_energy")
    p.add_argument("--anneal-steps", type=int, default=10)
    p.add_argument("--anneal-configs", type=int, default=8192)
    p.add_argument("--ti-nodes", type=int, default=8)
    p.add_argument("--ti-trajectories", type=int, default=2000)
    p.add_argument("--arguments", choices=["anneal", "ti", "ti-json", "bracket"],
                   help="print, NUL-separated, the flowlat arguments of this step for the one size of --sizes "
                        "(nothing when its output is complete; ti: the configuration and --set arguments for "
                        "jobscripts/submit_ti.sh, ti-json: its --json file) and exit: the jobscripts' source of truth")
    cl.add_line_arguments(p)
    args = p.parse_args()
    # args.out is the critical-line study's directory (critical_line's functions use it).
    cl.resolve_line_arguments(args)
    args.out_free = os.path.abspath(args.free_out or os.path.join(cl.ROOT, "runs", "free_energy"))
    args.ti_out = args.out_free
    if args.arguments:
        return print_arguments(args)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.out_free, exist_ok=True)
    rows, model, training = [], None, 0.0
    start = time.time()
    for size in [int(s) for s in args.sizes.split(",")]:
        row, model, training = study_point(args, size, model, training)
        rows.append(row)
        write_outputs(args, rows)
    print(f"study done in {time.time() - start:.0f} s: {args.out_free}/table.md, table.csv, free_energy.png")


if __name__ == "__main__":
    sys.exit(main())
