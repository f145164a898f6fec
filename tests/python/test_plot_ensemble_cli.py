#!/usr/bin/env python3
"""Tests of tools/plot_ensemble.py's command line: the PNGs it writes (also from an
installed copy, <prefix>/share/flowlat/tools, run from another working directory), its
options and exit statuses, 1-D and 3-D lattices, an ensemble without /configs.

Run as `python3 tests/python/test_plot_ensemble_cli.py` (exit status non-zero on
failure). The synthetic ensembles come from plot_fixtures.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import shutil
import unittest

import numpy as np

from plot_fixtures import (ENSEMBLE_PNGS, TOOLS, EnsembleFixture, assert_png,  # noqa: E402
                           phi4_action, run_tool, synthetic_analysis, write_ensemble,
                           write_json)
import flowlat_results  # noqa: E402
import plot_ensemble  # noqa: E402


class EnsemblePlotsCli(EnsembleFixture, unittest.TestCase):
    """tools/plot_ensemble.py run as a script on a synthetic flow ensemble and an HMC-like one."""

    # ---- the command line ---------------------------------------------------------

    def test_cli_writes_every_png(self):
        out = os.path.join(self.tmp.name, "plots")
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), self.ens, "--out", out,
                      "--hmc", self.hmc])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.split()),
                         sorted(os.path.join(out, n) for n in ENSEMBLE_PNGS))
        for n in ENSEMBLE_PNGS:
            assert_png(self, os.path.join(out, n))

    def test_cli_without_analysis_exits_2_and_says_how_to_make_it(self):
        bare = os.path.join(self.tmp.name, "bare.h5")
        shutil.copy(self.ens, bare)
        out = os.path.join(self.tmp.name, "plots_bare")
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), bare, "--out", out])
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(f"flowlat analyze {bare} --json {bare}.json", r.stderr)
        self.assertFalse(os.path.exists(out) and os.listdir(out))
        # --analysis names the JSON explicitly.
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), bare, "--out", out,
                      "--analysis", self.ens + ".json"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_cli_help_documents_the_options(self):
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ("--analysis", "--hmc", "--out", "--bins", "--seed", "m_eff.png"):
            self.assertIn(option, r.stdout)
        for gone in ("--blocks", "--correlator"):
            self.assertNotIn(gone, r.stdout)

    def test_without_configs_skips_config_plots(self):
        out = os.path.join(self.tmp.name, "plots_noconf")
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), self.noconf, "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no /configs", r.stderr)
        self.assertEqual(sorted(os.listdir(out)), ["action_vs_logq.png", "logw_hist.png"])
        for n in os.listdir(out):
            assert_png(self, os.path.join(out, n))

    def test_1d_and_3d_lattices(self):
        rng = np.random.default_rng(11)
        for shape in [(8,), (4, 4, 2)]:
            phi = rng.standard_normal((64,) + shape)
            path = os.path.join(self.tmp.name, f"ens{len(shape)}d.h5")
            log_q = -0.5 * np.sum(phi**2, axis=tuple(range(1, phi.ndim)))
            write_ensemble(path, phi, log_q, -phi4_action(phi))
            write_json(path + ".json", synthetic_analysis(64, shape))
            out = os.path.join(self.tmp.name, f"plots{len(shape)}d")
            paths = plot_ensemble.make_plots(path, out)
            self.assertEqual(sorted(os.path.basename(p) for p in paths), sorted(ENSEMBLE_PNGS))
            for p in paths:
                assert_png(self, p)
            M, P = flowlat_results.config_observables(path, 64)
            self.assertEqual(P.shape, (64, shape[0]))
            np.testing.assert_allclose(P.sum(axis=1), phi.sum(axis=tuple(range(1, phi.ndim))),
                                       rtol=1e-5, atol=1e-5)  # configs stored as float32

    def test_installed_copy_runs_from_another_directory(self):
        # `cmake --install` puts tools/*.py in <prefix>/share/flowlat/tools; flowlat run calls
        # the script there by its full path from the run's directory.
        installed = os.path.join(self.tmp.name, "prefix", "share", "flowlat", "tools")
        os.makedirs(installed)
        for name in os.listdir(TOOLS):
            if name.endswith(".py"):
                shutil.copy(os.path.join(TOOLS, name), installed)
        elsewhere = os.path.join(self.tmp.name, "elsewhere")
        os.makedirs(elsewhere)
        r = run_tool([os.path.join(installed, "plot_ensemble.py"), self.ens, "--out", "plots",
                      "--hmc", self.hmc], cwd=elsewhere)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.split()),
                         sorted(os.path.join("plots", n) for n in ENSEMBLE_PNGS))
        for n in ENSEMBLE_PNGS:
            assert_png(self, os.path.join(elsewhere, "plots", n))

    def test_bad_file_exits_2(self):
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"),
                      os.path.join(self.tmp.name, "missing.h5"), "--out", self.tmp.name])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
