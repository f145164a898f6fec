#!/usr/bin/env python3
"""How much a finer integration of the continuous layer moves the reweighted observables.

    python3 tools/bench/ode_step_halving.py COARSE.json FINE.json [--max-fraction 0.1]

Both JSONs are `flowlat analyze --json` of ensembles sampled from one model file with the same
sample.seed (so from the same prior draws z) and flow.ode_steps N and 2N
(`flowlat sample CONFIG --set flow.ode_steps=2N --output fine.h5`). The configurations and
their log q then differ only by the RK4 error, and every reweighted observable (log Z, chi2,
|M|, U4, E, xi2, every C(t) and m_eff(t)) is compared as |coarse - fine| / error(coarse):
the integration error as a fraction of the statistical error. Exits 1 if any fraction
exceeds --max-fraction (README: flows near the critical point, exactness).
"""
import argparse
import json
import sys


def fractions(coarse, fine):
    """[(|coarse - fine| / error, name)] over every reweighted value, largest first."""
    out = []
    for name, entry in coarse["observables"].items():
        mine, other = entry.get("reweighted"), fine["observables"].get(name, {}).get("reweighted")
        if not mine or not other:
            continue
        values = [(mine["value"], mine["error"], other["value"])]
        if isinstance(mine["value"], list):
            values = list(zip(mine["value"], mine["error"], other["value"]))
        for i, (a, error, b) in enumerate(values):
            if None in (a, error, b) or error == 0:
                continue
            label = f"{name}[{i}]" if len(values) > 1 else name
            out.append((abs(a - b) / error, label))
    return sorted(out, reverse=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("coarse", help="analysis JSON of the ensemble with flow.ode_steps = N")
    p.add_argument("fine", help="analysis JSON of the ensemble with flow.ode_steps = 2N, same sample.seed")
    p.add_argument("--max-fraction", type=float, default=0.1)
    args = p.parse_args()
    with open(args.coarse) as f:
        coarse = json.load(f)
    with open(args.fine) as f:
        fine = json.load(f)
    found = fractions(coarse, fine)
    if not found:
        print("no reweighted observables in common", file=sys.stderr)
        return 2
    print(f"ESS {coarse['ess']:.4f} (N steps) and {fine['ess']:.4f} (2N steps)")
    print(f"{len(found)} values; largest |coarse - fine| / error: " +
          ", ".join(f"{name} {fraction:.3f}" for fraction, name in found[:5]))
    print(f"largest: {found[0][0]:.3f} of an error (limit {args.max_fraction})")
    return 1 if found[0][0] > args.max_fraction else 0


if __name__ == "__main__":
    sys.exit(main())
