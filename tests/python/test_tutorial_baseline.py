#!/usr/bin/env python3
"""Tests of tools/bench/tutorial_baseline.py, the PyTorch baseline: a tiny run prints
one JSON line with positive timings, and its action equals the phi^4 action of
plot_fixtures.py (skipped without python3-torch).

Run as `python3 tests/python/test_tutorial_baseline.py` (exit status non-zero on
failure).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import json
import unittest

import numpy as np

from plot_fixtures import LAM, M2, TOOLS, phi4_action, run_tool  # noqa: E402
from project_paths import ROUNDING  # noqa: E402


class TutorialBaseline(unittest.TestCase):
    def test_tiny_run_prints_json_with_positive_timings(self):
        r = run_tool([os.path.join(TOOLS, "bench", "tutorial_baseline.py"), "--L", "4",
                      "--train-steps", "3", "--warmup-steps", "1", "--sample-configs", "32",
                      "--sample-batch", "16", "--threads", "1"], timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        out = json.loads(lines[0])
        self.assertEqual(out["impl"], "tutorial-pytorch")
        self.assertEqual((out["L"], out["batch"], out["dtype"], out["threads"]),
                         (4, 64, "float32", 1))
        for key in ("train_ms_per_step", "train_ms_per_step_median", "sample_configs_per_s",
                    "peak_rss_mb", "ess_last"):
            self.assertGreater(out[key], 0, key)
        self.assertLessEqual(out["ess_last"], 1.0)

    def test_action_matches_numpy(self):
        try:
            import torch
        except ImportError:
            self.skipTest("python3-torch not installed")
        sys.path.insert(0, os.path.join(TOOLS, "bench"))
        import tutorial_baseline as tb
        phi = np.random.default_rng(3).standard_normal((5, 6, 4))
        S = tb.ScalarPhi4Action(M2=M2, lam=LAM)(torch.from_numpy(phi)).numpy()
        np.testing.assert_allclose(S, phi4_action(phi), rtol=ROUNDING)


if __name__ == "__main__":
    unittest.main(verbosity=2)
