#!/usr/bin/env python3
"""Comparisons for the GPU checks (tools/gpu/check.sh).

  compare.py models A.pt B.pt TOLERANCE      max relative parameter difference <= TOLERANCE
  compare.py ensembles A.h5 B.h5             configs, log_q, log_p, log_w bitwise equal
  compare.py close A.h5 B.h5 TOLERANCE       the same, each within TOLERANCE relative to its largest value
                                             (the same model and seeds on two devices)

Prints what it compared and exits 1 when the check fails.
"""
import sys


def models(a_path, b_path, tolerance):
    import torch
    a = dict(torch.jit.load(a_path, map_location="cpu").named_parameters())
    b = dict(torch.jit.load(b_path, map_location="cpu").named_parameters())
    if a.keys() != b.keys():
        print(f"different parameters: {sorted(a.keys() ^ b.keys())}")
        return 1
    worst = max(((a[k] - b[k]).abs().max() / max(1.0, b[k].abs().max().item())).item() for k in a)
    print(f"{len(a)} parameter tensors, max relative difference {worst:.3e} (tolerance {tolerance:g})")
    return 0 if worst <= tolerance else 1


def _datasets(a_path, b_path):
    """(name, a's values, b's values) of the rows both files hold."""
    import h5py
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for name in ("configs", "log_q", "log_p", "log_w"):
            if name in a:
                yield name, a[name][()], b[name][()]


def ensembles(a_path, b_path):
    import numpy as np
    failed = 0
    for name, x, y in _datasets(a_path, b_path):
        same = x.shape == y.shape and np.array_equal(x.view(np.uint8), y.view(np.uint8))
        print(f"{name}: {x.shape} {'bitwise equal' if same else 'DIFFERENT'}")
        failed |= not same
    return 1 if failed else 0


def close(a_path, b_path, tolerance):
    import numpy as np
    failed = 0
    for name, x, y in _datasets(a_path, b_path):
        if x.shape != y.shape:
            print(f"{name}: shapes {x.shape} and {y.shape} differ")
            failed = 1
            continue
        x, y = x.astype(np.float64), y.astype(np.float64)
        worst = np.abs(x - y).max() / max(1.0, np.abs(y).max())
        print(f"{name}: {x.shape} max relative difference {worst:.3e} (tolerance {tolerance:g})")
        failed |= not worst <= tolerance
    return 1 if failed else 0


def main(argv):
    if len(argv) == 4 and argv[0] == "models":
        return models(argv[1], argv[2], float(argv[3]))
    if len(argv) == 4 and argv[0] == "close":
        return close(argv[1], argv[2], float(argv[3]))
    if len(argv) == 3 and argv[0] == "ensembles":
        return ensembles(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
