#!/usr/bin/env python3
"""The near-critical scaling study: where flow sampling beats HMC.

For each L of the line m2 = -4, lambda(L) (phi4_L<L>.yaml in the family's
directory, correlation length about L/4) the study
  1. runs `flowlat hmc` tuned (trajectory length = xi2, acceptance 0.9),
  2. trains a flow family (--family: the continuous flow with a whole-lattice
     symmetric kernel, input/critical_ode; or 3x3 spline couplings,
     input/critical), starting from the previous L's model
     (train.init_from; the first L from scratch),
  3. samples a fresh ensemble and analyses both files (`flowlat analyze
     --versus`),
and writes table.csv, table.md and cost.png under --out: per L the measured
xi2 and 1/m_eff next to L/4, HMC's tau_int of chi2 and its cost per
effectively independent configuration, the flow's ensemble ESS, IMH
acceptance and cost without and with training (amortised over 10^6
configurations; training counted from the first L of the transfer chain),
the break-even number of flow configurations, and the physics check: chi2,
<|M|>/V, U4, E and xi2 of the flow (reweighted and chain) against HMC,
marked where they differ by more than 3 combined standard errors.

  python3 tools/study/critical_line.py [--budget small|full] [--family continuous|coupling]
                                      [--sizes 6,8,...] [--ranks 2] [--out DIR] [--configs DIR]

Every step is skipped when its output is complete and resumed when it is
not, so the command can simply be run again after an interruption.
Seconds are wall-clock seconds of a job on --ranks ranks (the same for HMC
and the flow); forces and network passes are counted per row.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("h5py")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AMORTISATION_ROWS = 1e6
CHECKED = ["chi2", "abs_magnetization", "binder_u4", "energy", "xi2"]

# The flow families the study can run: each a directory of phi4_L<L>.yaml
# (the same lattices, actions, sampling and HMC; only flow and train differ)
# and the small budget's training steps per L. The full budget is what the
# input files say.
FAMILIES = {
    # The symmetric Fourier layer and one continuous layer with a whole-lattice
    # symmetric kernel (README: flows near the critical point).
    "continuous": {"configs": os.path.join(ROOT, "input", "critical_ode"),
                   "small_steps": {6: 400, 8: 400, 10: 400, 12: 600, 14: 1500, 20: 4000, 32: 4000}},
    # Spline couplings with 3x3 kernels (input/phi4_L8_best.yaml with Z2 equivariance).
    "coupling": {"configs": os.path.join(ROOT, "input", "critical"),
                 "small_steps": {6: 1500, 8: 1000, 10: 700, 12: 600, 14: 500, 20: 400}},
}

# Per budget: the sizes (default: the family's small-budget sizes), measured HMC
# trajectories per chain and flow configurations.
BUDGETS = {
    "small": {"sizes": None, "hmc_trajectories": 2000, "hmc_thermalization": 500, "hmc_tune": 300,
              "configs": 65536},
    "full": {"sizes": [6, 8, 10, 12, 14, 20, 32, 64], "hmc_trajectories": None,
             "hmc_thermalization": None, "hmc_tune": None, "configs": None},
}


def training_steps(args, size):
    """The small budget's steps at this L (None: the input file's)."""
    return FAMILIES[args.family]["small_steps"].get(size) if args.budget == "small" else None


def default_sizes(args):
    return BUDGETS[args.budget]["sizes"] or sorted(FAMILIES[args.family]["small_steps"])


def mpirun(args):
    launcher = ["mpirun", "--oversubscribe", "-np", str(args.ranks)]
    if os.geteuid() == 0:
        launcher.insert(1, "--allow-run-as-root")
    return launcher


def run(command, log):
    """Runs `command`, output to `log`; raises with the log's tail on failure."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(log, "a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    if code != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed with exit code {code}; {log} ends:\n{tail}")


def sets(pairs):
    out = []
    for key, value in pairs:
        out += ["--set", f"{key}={value}"]
    return out


def ensemble_complete(path):
    """True when the ensemble file exists and has every row written."""
    if not os.path.exists(path):
        return False
    try:
        import h5py
        with h5py.File(path, "r") as f:
            return int(f["/"].attrs.get("n_written", -1)) == int(f["/"].attrs.get("n_configs", -2))
    except Exception:
        return False


CONFIGS = FAMILIES["continuous"]["configs"]  # set by main from --family / --configs


def config_path(size):
    return os.path.join(CONFIGS, f"phi4_L{size}.yaml")


def run_hmc(args, size, directory):
    path = os.path.join(directory, "hmc.h5")
    if ensemble_complete(path):
        return path
    budget = BUDGETS[args.budget]
    keys = [("run.output_dir", directory), ("hmc.output", "hmc.h5")]
    if budget["hmc_trajectories"]:
        keys += [("hmc.n_trajectories", budget["hmc_trajectories"]),
                 ("hmc.n_thermalization", budget["hmc_thermalization"]),
                 ("hmc.tune_trajectories", budget["hmc_tune"])]
    start = ["--resume"] if os.path.exists(path) else []
    run(mpirun(args) + [args.flowlat, "hmc", config_path(size)] + start + sets(keys),
        os.path.join(os.path.dirname(directory), "hmc.log"))
    return path


def train_flow(args, size, directory, source_model):
    model = os.path.join(directory, "model_best.pt")
    done = os.path.join(directory, "train.done")
    if os.path.exists(done):
        return model
    keys = [("run.output_dir", directory), ("run.resume", "auto")]
    steps = training_steps(args, size)
    if steps:
        # Four held-out evaluations, so that model_best.pt exists and is chosen on fresh configurations.
        keys += [("train.steps", steps), ("train.eval_every", max(1, steps // 4))]
    if source_model:
        keys += [("train.init_from", source_model), ("train.warmup_steps", 0)]
    run(mpirun(args) + [args.flowlat, "train", config_path(size)] + sets(keys), os.path.join(os.path.dirname(directory), "train.log"))
    open(done, "w").close()
    return model


def sample_flow(args, size, directory, model):
    path = os.path.join(directory, "ensemble.h5")
    if ensemble_complete(path):
        return path
    keys = [("run.output_dir", directory), ("sample.output", "ensemble.h5")]
    if BUDGETS[args.budget]["configs"]:
        keys.append(("sample.n_configs", BUDGETS[args.budget]["configs"]))
    start = ["--resume"] if os.path.exists(path) else []
    run(mpirun(args) + [args.flowlat, "sample", config_path(size), "--model", model] + start + sets(keys),
        os.path.join(os.path.dirname(directory), "sample.log"))
    return path


def analyze(args, ensemble, versus=None):
    out = ensemble + ".json"
    command = [args.flowlat, "analyze", ensemble, "--json", out, "--force"]
    if versus:
        command += ["--versus", versus]
    run(command, ensemble + ".analyze.log")
    with open(out) as f:
        return json.load(f)


def chain(a, key):
    c = a["observables"][key]["chain"]
    return c["value"], c["error"], c["tau_int"], c["tau_int_error"]


def inverse_m_eff(a, size):
    """1/m_eff at t = L/4 from the chain (HMC) estimate, with its error."""
    series = a["observables"].get("effective_mass")
    if not series or not series["chain"]:
        return float("nan"), float("nan")
    t = series["t"]
    i = min(range(len(t)), key=lambda k: abs(t[k] - size / 4))
    m, e = series["chain"]["value"][i], series["chain"]["error"][i]
    if m is None or not m or not math.isfinite(m) or m <= 0:
        return float("nan"), float("nan")
    return 1 / m, e / m ** 2


def physics_check(flow, hmc):
    """Largest deviation in combined standard errors, and the observables beyond 3."""
    worst, failed = 0.0, []
    for key in CHECKED:
        h = hmc["observables"][key]["chain"]
        for estimator in ("reweighted", "chain"):
            f = flow["observables"][key][estimator]
            sigma = math.hypot(f["error"], h["error"])
            deviation = abs(f["value"] - h["value"]) / sigma if sigma > 0 else float("inf")
            worst = max(worst, deviation)
            if deviation > 3:
                failed.append(f"{key} ({estimator}) {deviation:.1f}")
    return worst, failed


def study_point(args, size, source_model, earlier_training):
    directory = os.path.join(args.out, f"L{size}")
    for part in ("hmc", "flow"):
        os.makedirs(os.path.join(directory, part), exist_ok=True)
    t0 = time.time()
    hmc_file = run_hmc(args, size, os.path.join(directory, "hmc"))
    model = train_flow(args, size, os.path.join(directory, "flow"), source_model)
    ensemble = sample_flow(args, size, os.path.join(directory, "flow"), model)
    hmc = analyze(args, hmc_file)
    flow = analyze(args, ensemble, versus=hmc_file)
    cost = flow["cost"]
    chi2_cost = cost["observables"]["chi2"]
    training = cost["sampler"]["setup_seconds"]
    cumulative = training + earlier_training
    flow_row = cost["sampler"]["seconds_per_row"]
    flow_two_tau = chi2_cost["two_tau_int"]
    amortised = flow_two_tau * (cumulative / AMORTISATION_ROWS + flow_row)
    hmc_per_independent = chi2_cost["versus"]["seconds_per_independent"]
    saving = hmc_per_independent - chi2_cost["seconds_per_independent"]
    break_even = flow_two_tau * cumulative / saving if saving > 0 else float("inf")
    xi2 = chain(hmc, "xi2")
    m_inv = inverse_m_eff(hmc, size)
    _, _, tau_h, tau_h_error = chain(hmc, "chi2")
    _, _, tau_f, tau_f_error = chain(flow, "chi2")
    worst, failed = physics_check(flow, hmc)
    hmc_attrs = hmc_attributes(hmc_file)
    row = {
        "L": size, "lambda": lambda_of(size), "L/4": size / 4,
        "xi2": xi2[0], "xi2_error": xi2[1], "inv_m_eff": m_inv[0], "inv_m_eff_error": m_inv[1],
        "hmc_trajectory_length": hmc_attrs["length"], "hmc_acceptance": hmc["accept_rate"],
        "hmc_tau_chi2": tau_h, "hmc_tau_chi2_error": tau_h_error,
        "hmc_forces_per_independent": chi2_cost["versus"]["evaluations_per_independent"],
        "hmc_seconds_per_independent": hmc_per_independent,
        "flow_ess": flow["ess"], "flow_acceptance": flow["accept_rate"],
        "flow_tau_chi2": tau_f, "flow_tau_chi2_error": tau_f_error,
        "flow_seconds_per_independent": chi2_cost["seconds_per_independent"],
        "flow_seconds_per_independent_amortised": amortised,
        "train_seconds": training, "train_seconds_cumulative": cumulative,
        "break_even_configs": break_even,
        "hmc_over_flow_amortised": hmc_per_independent / amortised,
        "max_deviation_sigma": worst, "deviations_beyond_3_sigma": "; ".join(failed),
    }
    print(f"[L = {size}: {time.time() - t0:.0f} s] xi2 {xi2[0]:.2f} (L/4 = {size / 4:.2f}), HMC tau_int(chi2) "
          f"{tau_h:.2f}, flow ESS {flow['ess']:.3f}, HMC/flow (amortised) {row['hmc_over_flow_amortised']:.2f}",
          flush=True)
    return row, model, cumulative


def hmc_attributes(path):
    import h5py
    with h5py.File(path, "r") as f:
        a = f["/"].attrs
        return {"length": float(a["hmc_step_size"]) * float(a["hmc_n_md_steps"])}


def lambda_of(size):
    with open(config_path(size)) as f:
        for line in f:
            if line.startswith("action:"):
                return float(line.split("lambda:")[1].split("}")[0])
    return float("nan")


def fit_exponent(sizes, values):
    """Least-squares slope of log(value) against log(L)."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values) if v > 0 and math.isfinite(v)]
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def crossover(rows):
    """The smallest L from which on the flow (amortised) is cheaper at every larger L studied."""
    for i, row in enumerate(rows):
        if all(r["hmc_over_flow_amortised"] > 1 for r in rows[i:]):
            return row["L"]
    return None


def write_csv(path, rows, digits=6):
    """Rows (dicts) as CSV, the columns every key in first-seen order, floats to `digits` significant digits
    (also used by the free-energy studies)."""
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.{digits}g}" if isinstance(v, float) else v) for k, v in r.items()})


def write_outputs(args, rows):
    sizes = [r["L"] for r in rows]
    # HMC's dynamic exponent: tau_int in MD time (trajectories x trajectory length) against L.
    z = fit_exponent(sizes, [r["hmc_tau_chi2"] * r["hmc_trajectory_length"] for r in rows])
    hmc_cost_exponent = fit_exponent(sizes, [r["hmc_seconds_per_independent"] for r in rows])
    flow_cost_exponent = fit_exponent(sizes, [r["flow_seconds_per_independent_amortised"] for r in rows])
    write_csv(os.path.join(args.out, "table.csv"), rows)
    lines = [
        f"Study `{args.budget}`, {args.family} flows, on {args.ranks} ranks; seconds per effectively independent configuration "
        f"for chi2 (2 tau_int rows); flow training amortised over 10^6 configurations.",
        "",
        "| L | lambda | L/4 | xi2 (HMC) | 1/m_eff(L/4) | HMC traj. length | HMC acc. | HMC tau_int(chi2) "
        "| HMC s/indep | flow ESS | IMH acc. | flow tau_int(chi2) | flow s/indep | train s (cumul.) "
        "| flow s/indep, amortised | HMC / flow | break-even configs | physics max dev |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        mark = "" if not r["deviations_beyond_3_sigma"] else " **" + r["deviations_beyond_3_sigma"] + "**"
        lines.append(
            f"| {r['L']} | {r['lambda']} | {r['L/4']:.1f} | {r['xi2']:.2f}({100 * r['xi2_error']:.0f}) "
            f"| {r['inv_m_eff']:.2f}({100 * r['inv_m_eff_error']:.0f}) | {r['hmc_trajectory_length']:.2f} "
            f"| {r['hmc_acceptance']:.2f} | {r['hmc_tau_chi2']:.2f} +- {r['hmc_tau_chi2_error']:.2f} "
            f"| {r['hmc_seconds_per_independent']:.3g} | {r['flow_ess']:.3f} | {r['flow_acceptance']:.3f} "
            f"| {r['flow_tau_chi2']:.2f} | {r['flow_seconds_per_independent']:.3g} "
            f"| {r['train_seconds']:.0f} ({r['train_seconds_cumulative']:.0f}) "
            f"| {r['flow_seconds_per_independent_amortised']:.3g} | {r['hmc_over_flow_amortised']:.2f} "
            f"| {r['break_even_configs']:.3g} | {r['max_deviation_sigma']:.1f}{mark} |")
    cross = crossover(rows)
    lines += ["",
              f"HMC: tau_int(chi2) in MD time grows as L^{z:.2f}; seconds per independent configuration as "
              f"L^{hmc_cost_exponent:.2f}. Flow (amortised): L^{flow_cost_exponent:.2f}.",
              ("Crossover: the flow (training amortised over 10^6 configurations) is cheaper than HMC for chi2 "
               f"from L = {cross} on." if cross else
               "No crossover up to the largest L studied: see the HMC / flow column and the exponents.")]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    print(text)
    plot(args, rows, z)


def plot(args, rows, z):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = [r["L"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.loglog(sizes, [r["hmc_seconds_per_independent"] for r in rows], "o-", label=f"HMC, tuned (z = {z:.2f})")
    ax.loglog(sizes, [r["flow_seconds_per_independent"] for r in rows], "s--", label="flow, without training")
    ax.loglog(sizes, [r["flow_seconds_per_independent_amortised"] for r in rows], "s-",
              label="flow, training over $10^6$ configs")
    for r in rows:
        ax.annotate(f"ESS {r['flow_ess']:.2f}\nacc {r['flow_acceptance']:.2f}", (r["L"], r["flow_seconds_per_independent"]),
                    textcoords="offset points", xytext=(4, -22), fontsize=7)
    ax.set_xlabel("L (m$^2$ = -4, $\\xi \\approx$ L/4)")
    ax.set_ylabel("seconds per independent configuration (chi2)")
    ax.set_title(f"flowlat critical-line study ({args.family} flows, {args.budget} budget, {args.ranks} ranks)")
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "cost.png"), dpi=120)


def add_line_arguments(parser):
    """The options that choose the line, its study directory and how its jobs run: --budget,
    --family, --configs, --ranks, --flowlat (shared with free_energy.py, which reads this study's
    flows and HMC through this module's functions)."""
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--flowlat", default=os.environ.get("FLOWLAT", os.path.join(ROOT, "build", "flowlat")))
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="small",
                        help="the study's budget for flows and HMC (default small)")
    parser.add_argument("--family", choices=sorted(FAMILIES), default="continuous",
                        help="flow family (default continuous; coupling: the 3x3 spline couplings)")
    parser.add_argument("--configs", default=None,
                        help="directory of phi4_L<L>.yaml (default: the family's, input/critical_ode or input/critical)")


def resolve_line_arguments(args):
    """Sets CONFIGS from --configs/--family and args.out, the study directory, from args.study
    (default runs/study/<budget>_<family>)."""
    global CONFIGS
    CONFIGS = os.path.abspath(args.configs or FAMILIES[args.family]["configs"])
    args.out = os.path.abspath(args.study or os.path.join(ROOT, "runs", "study", f"{args.budget}_{args.family}"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", help="comma-separated L (default: the budget's)")
    p.add_argument("--out", dest="study", help="default runs/study/<budget>_<family>")
    add_line_arguments(p)
    args = p.parse_args()
    resolve_line_arguments(args)
    os.makedirs(args.out, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else default_sizes(args)
    rows, model, training = [], None, 0.0
    start = time.time()
    for size in sizes:
        row, model, training = study_point(args, size, model, training)
        rows.append(row)
        write_outputs(args, rows)
    print(f"study done in {time.time() - start:.0f} s: {args.out}/table.md, table.csv, cost.png")


if __name__ == "__main__":
    sys.exit(main())
