#!/usr/bin/env python3
"""Tests of the Python tools: tools/plot_training.py, tools/plot_ensemble.py and
tools/bench/tutorial_baseline.py.

Run as `python3 tests/python/test_plots.py` (exit status non-zero on failure).
Writes a synthetic ensemble in flowlat's format (log p = -S with the true phi^4
action, a made-up log q, log w = log p - log q) and a history.csv into a
temporary directory, runs each tool as a subprocess and checks its PNGs, and
checks the estimators against direct computations.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import json
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import plot_ensemble  # noqa: E402
import plot_training  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
M2, LAM = -4.0, 8.0
N, L, EXTRA_ROWS = 256, 4, 16


def phi4_action(phi, m2=M2, lam=LAM):
    """S = sum_x [sum_mu phi (2 phi - phi(x+mu) - phi(x-mu)) + m2 phi^2 + lam phi^4] per config."""
    axes = tuple(range(1, phi.ndim))
    dens = m2 * phi**2 + lam * phi**4
    for mu in axes:
        dens = dens + phi * (2 * phi - np.roll(phi, -1, mu) - np.roll(phi, 1, mu))
    return dens.sum(axis=axes)


def write_ensemble(path, phi, log_q, log_p, *, store_configs=True, extra_rows=EXTRA_ROWS):
    """flowlat's format, with extra_rows of garbage past n_written (readers must slice)."""
    n = len(log_q)
    pad = lambda a, v: np.concatenate([a, np.full((extra_rows,) + a.shape[1:], v, a.dtype)])  # noqa: E731
    with h5py.File(path, "w") as f:
        if store_configs:
            f["configs"] = pad(phi.astype(np.float32), 1e3)
        f["log_q"] = pad(log_q, 1e6)
        f["log_p"] = pad(log_p, -1e6)
        f["log_w"] = pad(log_p - log_q, 1e6)
        f["mcmc/state"] = pad(np.arange(n, dtype=np.int64), 0)
        f["mcmc/accepted"] = pad(np.ones(n, dtype=np.uint8), 0)
        f.attrs["format"] = "flowlat-ensemble"
        f.attrs["n_written"] = np.int64(n)
        f.attrs["ess"] = 0.5
        f.attrs["accept_rate"] = 0.5


def assert_png(test, path):
    test.assertTrue(os.path.isfile(path), path)
    test.assertGreater(os.path.getsize(path), 1000, path)
    with open(path, "rb") as f:
        test.assertEqual(f.read(8), PNG_SIGNATURE, path)


def run_tool(args, timeout=120):
    return subprocess.run([sys.executable] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


class SyntheticData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        scratch = os.environ.get("FLOWLAT_TEST_SCRATCH")  # the build tree, under ctest
        if scratch:
            os.makedirs(scratch, exist_ok=True)
        cls.tmp = tempfile.TemporaryDirectory(dir=scratch)
        d = cls.tmp.name
        rng = np.random.default_rng(7)
        phi = 0.6 * rng.standard_normal((N, L, L))
        phi = phi.astype(np.float32).astype(np.float64)  # what the reader sees
        cls.phi = phi
        cls.S = phi4_action(phi)
        # Made-up flow density: the Gaussian's plus noise; only log w = log p - log q matters.
        cls.log_q = (-0.5 * np.sum((phi / 0.6)**2, axis=(1, 2)) - L * L * np.log(0.6 * np.sqrt(2 * np.pi))
                     + 0.3 * rng.standard_normal(N))
        cls.ens = os.path.join(d, "ensemble.h5")
        write_ensemble(cls.ens, phi, cls.log_q, -cls.S)
        cls.noconf = os.path.join(d, "noconfigs.h5")
        write_ensemble(cls.noconf, phi, cls.log_q, -cls.S, store_configs=False)
        cls.hmc = os.path.join(d, "hmc.h5")
        write_ensemble(cls.hmc, phi[::-1], np.zeros(N), np.zeros(N))

        cls.run_dir = os.path.join(d, "run")
        os.makedirs(cls.run_dir)
        steps = np.arange(1, 201)
        with open(os.path.join(cls.run_dir, "history.csv"), "w") as f:
            f.write("step,loss,ess,seconds,skipped\n")
            for s in steps:
                skipped = s == 50
                loss = "nan" if skipped else f"{40 * np.exp(-s / 30) - 5 + rng.normal(0, .5):.6f}"
                ess = "nan" if skipped else f"{min(1, 0.6 * (1 - np.exp(-s / 80)) + abs(rng.normal(0, .05))):.6f}"
                f.write(f"{s},{loss},{ess},{0.04 + 0.001 * rng.random():.6f},{int(skipped)}\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    # ---- the command-line tools -------------------------------------------------

    def test_plot_training_cli(self):
        out = os.path.join(self.tmp.name, "training.png")
        r = run_tool([os.path.join(TOOLS, "plot_training.py"), self.run_dir, "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), out)
        assert_png(self, out)
        # Default output: training.png in the run directory.
        r = run_tool([os.path.join(TOOLS, "plot_training.py"), self.run_dir])
        self.assertEqual(r.returncode, 0, r.stderr)
        assert_png(self, os.path.join(self.run_dir, "training.png"))

    def test_plot_ensemble_cli(self):
        out = os.path.join(self.tmp.name, "plots")
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), self.ens, "--out", out,
                      "--hmc", self.hmc, "--blocks", "8"])
        self.assertEqual(r.returncode, 0, r.stderr)
        names = ["action_vs_logq.png", "logw_hist.png", "configs.png", "magnetisation.png",
                 "correlator.png"]
        self.assertEqual(sorted(r.stdout.split()), sorted(os.path.join(out, n) for n in names))
        for n in names:
            assert_png(self, os.path.join(out, n))

    def test_plot_ensemble_without_configs_skips_config_plots(self):
        out = os.path.join(self.tmp.name, "plots_noconf")
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), self.noconf, "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no /configs", r.stderr)
        self.assertEqual(sorted(os.listdir(out)), ["action_vs_logq.png", "logw_hist.png"])
        for n in os.listdir(out):
            assert_png(self, os.path.join(out, n))

    def test_plot_ensemble_1d_and_3d_lattices(self):
        rng = np.random.default_rng(11)
        for shape in [(8,), (4, 4, 2)]:
            phi = rng.standard_normal((64,) + shape)
            path = os.path.join(self.tmp.name, f"ens{len(shape)}d.h5")
            log_q = -0.5 * np.sum(phi**2, axis=tuple(range(1, phi.ndim)))
            write_ensemble(path, phi, log_q, -phi4_action(phi))
            out = os.path.join(self.tmp.name, f"plots{len(shape)}d")
            paths = plot_ensemble.make_plots(path, out, n_blocks=4)
            self.assertEqual(len(paths), 5)
            for p in paths:
                assert_png(self, p)
            M, P = plot_ensemble.config_observables(path, 64)
            self.assertEqual(P.shape, (64, shape[0]))
            np.testing.assert_allclose(P.sum(axis=1), phi.sum(axis=tuple(range(1, phi.ndim))),
                                       rtol=1e-5, atol=1e-5)  # configs stored as float32

    def test_plot_ensemble_bad_file_exits_2(self):
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"),
                      os.path.join(self.tmp.name, "missing.h5"), "--out", self.tmp.name])
        self.assertEqual(r.returncode, 2)

    # ---- the numbers --------------------------------------------------------------

    def test_history_reader_and_moving_average(self):
        h = plot_training.read_history(os.path.join(self.run_dir, "history.csv"))
        self.assertEqual(len(h["step"]), 200)
        self.assertTrue(np.isnan(h["loss"][49]) and h["skipped"][49] == 1)
        avg = plot_training.moving_average(np.arange(20.0), window=15)
        np.testing.assert_allclose(avg, np.arange(7.0, 13.0))  # means of 0..14, ..., 5..19
        np.testing.assert_allclose(plot_training.moving_average([1.0, 3.0], window=15), [2.0])

    def test_reader_slices_n_written(self):
        ens = plot_ensemble.load_ensemble(self.ens)
        self.assertEqual(ens["n"], N)
        np.testing.assert_allclose(ens["log_p"], -self.S, rtol=1e-12)
        np.testing.assert_allclose(ens["log_w"], -self.S - self.log_q, rtol=1e-12)
        M, P = plot_ensemble.config_observables(self.ens, ens["n"])
        np.testing.assert_allclose(M, self.phi.sum(axis=(1, 2)), rtol=1e-12, atol=1e-12)
        self.assertEqual(P.shape, (N, L))

    def test_slope1_offset(self):
        ens = plot_ensemble.load_ensemble(self.ens)
        b = plot_ensemble.slope1_offset(-ens["log_p"], -ens["log_q"])
        self.assertAlmostEqual(b, np.mean(self.S) - np.mean(-self.log_q), places=9)
        # With log w = log p - log q = -S - log q, b = -mean(log w).
        self.assertAlmostEqual(b, -np.mean(ens["log_w"]), places=9)

    def test_log_z_and_ess(self):
        lw = np.full(10, 3.25)
        self.assertAlmostEqual(plot_ensemble.log_z_estimate(lw), 3.25, places=12)
        self.assertAlmostEqual(plot_ensemble.effective_sample_size(lw), 1.0, places=12)
        lw = np.log(np.array([1.0, 3.0]))  # (1+3)^2 / (2 (1+9)) = 0.8
        self.assertAlmostEqual(plot_ensemble.effective_sample_size(lw), 0.8, places=12)
        self.assertAlmostEqual(plot_ensemble.log_z_estimate(lw), np.log(2.0), places=12)

    def test_reweighted_mean(self):
        M = self.phi.sum(axis=(1, 2))
        self.assertAlmostEqual(plot_ensemble.reweighted_mean(M, np.full(N, -1234.5)),
                               np.mean(M), places=10)
        # Weight 1 on the first half, e^{-inf}-like on the second: the first half's mean.
        lw = np.where(np.arange(N) < N // 2, 0.0, -800.0)
        self.assertAlmostEqual(plot_ensemble.reweighted_mean(M, lw), np.mean(M[:N // 2]),
                               places=10)

    def test_jackknife_of_mean_is_standard_error(self):
        x = self.S
        mean, err = plot_ensemble.jackknife(lambda i: np.mean(x[i]), N, N)
        self.assertAlmostEqual(float(mean), np.mean(x), places=10)
        self.assertAlmostEqual(float(err), np.std(x, ddof=1) / np.sqrt(N), places=8)

    def test_correlator_matches_site_double_sum(self):
        phi, V = self.phi, L * L
        _, P = plot_ensemble.config_observables(self.ens, N)
        lw = np.zeros(N)
        full = plot_ensemble.correlator(P, lw, V, connected=False)
        conn = plot_ensemble.correlator(P, lw, V, connected=True)
        flat = phi.reshape(N, -1)
        x0 = np.repeat(np.arange(L), L)  # first axis of the site (x0, x1)
        phibar = flat.mean(axis=0)
        for t in range(L):
            sel = (x0[None, :] - x0[:, None]) % L == t  # pairs (x, y) with y0 - x0 = t
            pp = np.einsum("nx,ny->xy", flat, flat) / N
            self.assertAlmostEqual(full[t], pp[sel].sum() / V, places=9)
            self.assertAlmostEqual(conn[t], (pp - np.outer(phibar, phibar))[sel].sum() / V,
                                   places=9)


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
        np.testing.assert_allclose(S, phi4_action(phi), rtol=1e-12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
