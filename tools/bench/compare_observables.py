#!/usr/bin/env python3
"""Every observable of a flow ensemble against HMC, in combined standard errors.

    python3 tools/bench/compare_observables.py FLOW.json HMC.json [FLOW2.json ...] [--max-sigma 3]

The JSONs are `flowlat analyze --json` outputs: the last file is the HMC
reference (its Markov-chain estimates), every other one a flow ensemble (its
reweighted estimates). Each scalar observable and every point of the
correlator and effective mass is compared as |flow - hmc| / sqrt(e_flow^2 +
e_hmc^2); log Z (no HMC value) is skipped. Prints the three largest
deviations per flow file; exits 1 if any exceeds --max-sigma.
"""
import argparse
import json
import math
import sys


def deviations(flow, hmc):
    """[(sigma, observable name)] over every comparable value."""
    out = []
    for name, entry in flow["observables"].items():
        reference = hmc["observables"].get(name, {}).get("chain")
        mine = entry.get("reweighted")
        if name == "log_z" or not reference or not mine:
            continue
        values = [(mine["value"], mine["error"], reference["value"], reference["error"])]
        if isinstance(mine["value"], list):
            values = list(zip(mine["value"], mine["error"], reference["value"], reference["error"]))
        for i, (a, ea, b, eb) in enumerate(values):
            if None in (a, ea, b, eb) or math.hypot(ea, eb) == 0:
                continue
            label = f"{name}[{i}]" if len(values) > 1 else name
            out.append((abs(a - b) / math.hypot(ea, eb), label))
    return sorted(out, reverse=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="flow analysis JSONs, then the HMC one")
    p.add_argument("--max-sigma", type=float, default=3.0)
    args = p.parse_args()
    if len(args.files) < 2:
        p.error("give at least one flow JSON and the HMC JSON")
    with open(args.files[-1]) as f:
        hmc = json.load(f)
    worst_of_all = 0.0
    for path in args.files[:-1]:
        with open(path) as f:
            found = deviations(json.load(f), hmc)
        top = ", ".join(f"{name} {sigma:.2f}" for sigma, name in found[:3])
        print(f"{path}: {len(found)} values, largest deviations (sigma): {top}")
        worst_of_all = max([worst_of_all] + [sigma for sigma, _ in found])
    print(f"largest: {worst_of_all:.2f} sigma (limit {args.max_sigma})")
    return 1 if worst_of_all > args.max_sigma else 0


if __name__ == "__main__":
    sys.exit(main())
