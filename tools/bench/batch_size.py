#!/usr/bin/env python3
"""Batch size as a quality lever at a fixed wall-clock.

Trains the best recipe (input/phi4_L8_best.yaml, optionally with --set
overrides) on --ranks ranks for --seconds of wall-clock at each global batch
size, evaluating every --eval-every steps on 8,192 fresh configurations,
and prints the steps reached and the best and last held-out ESS and IMH
acceptance of each run (history.csv's eval_ess, eval_acceptance), as a
Markdown table (also written to --out/table.md).

  python3 tools/bench/batch_size.py [--batches 128,512,2048] [--seconds 180] [--ranks 2] [--set KEY=VALUE ...]
"""
import argparse
import csv
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def train(args, batch):
    directory = os.path.join(args.out, f"batch{batch}")
    launcher = ["mpirun", "--oversubscribe", "-np", str(args.ranks)]
    if os.geteuid() == 0:
        launcher.insert(1, "--allow-run-as-root")
    keys = [f"run.output_dir={directory}", f"train.batch_size={batch}", "train.steps=1000000",
            f"run.max_walltime={args.seconds}", f"train.eval_every={args.eval_every}", "train.lr_schedule=constant",
            "train.checkpoint_every=1000000"] + args.set
    command = launcher + [args.flowlat, "train", os.path.join(ROOT, "input", "phi4_L8_best.yaml"), "--force"]
    for key in keys:
        command += ["--set", key]
    with open(directory + ".log", "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS="1"))
    if code not in (0, 3):  # 3: stopped at the wall-clock budget, as intended
        raise RuntimeError(f"training failed with exit code {code}: {directory}.log")
    with open(os.path.join(directory, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    evaluated = [r for r in rows if r["eval_ess"]]
    best = max(evaluated, key=lambda r: float(r["eval_ess"]))
    return {"batch": batch, "steps": int(rows[-1]["step"]), "best_ess": float(best["eval_ess"]),
            "best_step": int(best["step"]), "best_acceptance": float(best["eval_acceptance"]),
            "last_ess": float(evaluated[-1]["eval_ess"])}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batches", default="128,512,2048")
    p.add_argument("--seconds", type=int, default=180)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--set", action="append", default=[], help="extra KEY=VALUE for every run")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "batch_size"))
    p.add_argument("--flowlat", default=os.environ.get("FLOWLAT", os.path.join(ROOT, "build", "flowlat")))
    args = p.parse_args()
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    lines = [f"Best recipe, {args.seconds} s of training on {args.ranks} ranks per row (constant lr; held-out "
             f"evaluation of 8,192 configurations every {args.eval_every} steps, inside the budget).", "",
             "| global batch | steps | best held-out ESS (step) | its IMH acceptance | last held-out ESS |",
             "| --- | --- | --- | --- | --- |"]
    for batch in [int(b) for b in args.batches.split(",")]:
        r = train(args, batch)
        lines.append(f"| {r['batch']} | {r['steps']} | {r['best_ess']:.4f} ({r['best_step']}) "
                     f"| {r['best_acceptance']:.4f} | {r['last_ess']:.4f} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
