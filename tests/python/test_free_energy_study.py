#!/usr/bin/env python3
"""tools/study/free_energy.sh on a 4x4 lattice of the near-critical line, and
tools/study/free_energy_curve.py (f(m2) from a chain of flows) on 4x4.

The study trains the flow (through the critical-line study), samples it
alone and annealed, runs HMC with thermodynamic integration and the log Z
bracket; its table must hold the three log Z, agreeing within 3 combined
errors, inside the bracket, with positive errors and costs, and the annealed
ensemble must carry the annealing it was asked for. The curve's log Z must
fall as m2 grows (d log Z / d m2 = -<sum phi^2> < 0) and each difference of
neighbours must be the same from the two flows and by reweighting (3 errors).

Run as `python3 tests/python/test_free_energy_study.py`; FLOWLAT_BINARY names
the executable (default build/flowlat).
"""
import csv
import math
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("h5py")

from project_paths import FLOWLAT, ROOT, scratch_dir  # noqa: E402

CONFIG = """lattice: {shape: [4, 4]}
action:  {kind: phi4, m2: -4.0, lambda: 6.975}
flow:    {n_layers: 4, hidden_channels: [8, 8], kernel_size: 3, coupling: spline, spline_bins: 8, spline_bound: 3.0,
          fourier_layer: diagonal, equivariance: z2}
train:   {steps: 200, batch_size: 512, lr: 1.0e-3, seed: 1, log_every: 100, lr_schedule: cosine, warmup_steps: 20,
          eval_every: 100, eval_size: 4096, checkpoint_every: 100}
run:     {output_dir: unused, device: cpu, precision: float32, threads_per_rank: 1}
sample:  {n_configs: 16384, batch_size: 4096, seed: 4321}
hmc:     {n_trajectories: 1000, n_thermalization: 500, tune: auto, tune_trajectories: 300, target_acceptance: 0.9,
          trajectory_length_xi: 1.0, step_size: 0.1, n_md_steps: 10, integrator: omelyan, n_chains: 16, seed: 2468}
"""


class FreeEnergyStudy(unittest.TestCase):
    def test_three_methods_agree_inside_the_bracket(self):
        with scratch_dir() as tmp:
            configs = os.path.join(tmp, "configs")
            os.makedirs(configs)
            with open(os.path.join(configs, "phi4_L4.yaml"), "w") as f:
                f.write(CONFIG)
            out = os.path.join(tmp, "free")
            env = dict(os.environ, FLOWLAT=FLOWLAT)
            run = subprocess.run(["bash", os.path.join(ROOT, "tools", "study", "free_energy.sh"), "--sizes", "4",
                                  "--configs", configs, "--study", os.path.join(tmp, "study"), "--out", out,
                                  "--ti-trajectories", "500", "--anneal-configs", "2048", "--anneal-steps", "6"],
                                 capture_output=True, text=True, env=env)
            self.assertEqual(run.returncode, 0, run.stdout[-3000:] + run.stderr[-3000:])
            with open(os.path.join(out, "table.csv")) as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(len(rows), 1)
            r = {k: (float(v) if k != "disagreements" else v) for k, v in rows[0].items()}
            methods = ["flow", "annealed", "ti"]
            for m in methods:
                self.assertGreater(r[f"{m}_log_z_error"], 0, m)
                self.assertGreater(r[f"{m}_seconds_to_target"], 0, m)
                self.assertLess(r[f"{m}_log_z_error"], 0.05, m)
            for i, a in enumerate(methods):
                for b in methods[i + 1:]:
                    sigma = math.hypot(r[f"{a}_log_z_error"], r[f"{b}_log_z_error"])
                    self.assertLess(abs(r[f"{a}_log_z"] - r[f"{b}_log_z"]), 3 * sigma, f"{a} vs {b}")
            self.assertLess(r["lower_bound"], r["flow_log_z"])
            self.assertGreater(r["upper_bound"], r["flow_log_z"])
            self.assertEqual(r["annealed_steps"], 6)
            self.assertAlmostEqual(r["target_log_z_error"], 16e-5)
            self.assertTrue(os.path.getsize(os.path.join(out, "free_energy.png")) > 0)


CURVE_CONFIG = """lattice: {shape: [4, 4]}
action:  {kind: phi4, m2: -4.0, lambda: 8.0}
flow:    {n_layers: 2, hidden_channels: [8], kernel_size: 3, coupling: spline, spline_bins: 8, spline_bound: 3.0,
          fourier_layer: diagonal}
train:   {steps: 100, batch_size: 256, lr: 1.0e-3, seed: 1, log_every: 50, eval_every: 50, eval_size: 2048,
          checkpoint_every: 50}
run:     {output_dir: unused, device: cpu, precision: float32, threads_per_rank: 1}
sample:  {n_configs: 8192, batch_size: 2048, seed: 4321}
"""


class FreeEnergyCurve(unittest.TestCase):
    def test_log_z_falls_with_m2_and_differences_agree(self):
        with scratch_dir() as tmp:
            config = os.path.join(tmp, "curve.yaml")
            with open(config, "w") as f:
                f.write(CURVE_CONFIG)
            out = os.path.join(tmp, "curve")
            run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "study", "free_energy_curve.py"), config,
                                  "--m2=-5,-4,-3", "--steps", "100", "--configs", "8192", "--out", out,
                                  "--flowlat", FLOWLAT], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stdout[-3000:] + run.stderr[-3000:])
            with open(os.path.join(out, "table.csv")) as f:
                rows = [{k: float(v) for k, v in r.items() if v} for r in csv.DictReader(f)]
            self.assertEqual([r["m2"] for r in rows], [-5, -4, -3])
            for a, b in zip(rows, rows[1:]):
                self.assertGreater(a["log_z"], b["log_z"] + 3 * math.hypot(a["log_z_error"], b["log_z_error"]))
                self.assertLess(a["delta_deviation_sigma"], 3)
                self.assertAlmostEqual(a["f"], -a["log_z"] / 16)
            self.assertTrue(os.path.getsize(os.path.join(out, "free_energy_curve.png")) > 0)
            # Independent ensembles: point i samples with sample.seed 4321 + i (one seed for all
            # correlated neighbouring points through the same prior draws).
            for i, m2 in enumerate([-5, -4, -3]):
                with open(os.path.join(out, f"m2_{m2:+.4f}.sample.log")) as f:
                    self.assertIn(f"--set sample.seed={4321 + i}", f.readline())


if __name__ == "__main__":
    unittest.main()
