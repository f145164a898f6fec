#!/usr/bin/env python3
"""Tests of tools/plot_ensemble.py's command line: the PNGs it writes (also from an
installed copy, <prefix>/share/flowlat/tools, run from another working directory), its
options and exit statuses, 1-D and 3-D lattices, an ensemble without /configs, and
the refusal (status 2) of another ensemble's analysis and of an --hmc file that is no
HMC ensemble.

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

import h5py
import numpy as np

from plot_fixtures import (ACCEPT_RATE, ENSEMBLE_ESS, ENSEMBLE_PNGS, TOOLS, L, N,  # noqa: E402
                           EnsembleFixture, assert_png, phi4_action, run_tool,
                           synthetic_analysis, write_ensemble, write_json)
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

    # ---- what belongs to the ensemble -----------------------------------------------

    def refused(self, arguments):
        """stderr of plot_ensemble.py run with arguments, which must exit 2 with one line on
        stderr and write no PNG."""
        out = os.path.join(self.tmp.name, "refused_" + self.id().rsplit(".", 1)[-1])
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), *arguments, "--out", out])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertFalse(os.path.exists(out) and os.listdir(out))
        return r.stderr

    def test_cli_refuses_the_analysis_of_another_ensemble_with_as_many_rows(self):
        # Analysed in the other run's directory, its path does not tell; its ESS and
        # acceptance (the other file's attributes) do.
        other = os.path.join(self.tmp.name, "other_run.json")
        analysis = synthetic_analysis(N, (L, L))
        analysis.update(file="ensemble.h5", ess=0.7, accept_rate=0.6)
        write_json(other, analysis)
        err = self.refused([self.ens, "--analysis", other])
        self.assertIn(f"{other} is not the analysis of {self.ens}", err)
        self.assertIn(f"ess 0.7 in the analysis, {ENSEMBLE_ESS} in the file", err)
        self.assertIn(f"accept_rate 0.6 in the analysis, {ACCEPT_RATE} in the file", err)
        self.assertIn(f"flowlat analyze {self.ens} --json {self.ens}.json", err)

    def test_cli_refuses_the_analysis_of_another_lattice(self):
        other = os.path.join(self.tmp.name, "other_lattice.json")
        write_json(other, synthetic_analysis(N, (L, 2 * L)))
        err = self.refused([self.ens, "--analysis", other])
        self.assertIn(f"{other} analyses a lattice ({L}, {2 * L}), but {self.ens} holds ({L}, {L})",
                      err)

    def test_cli_accepts_its_own_analysis_made_in_another_directory(self):
        # flowlat analyze ran in run_a and recorded "ensemble.h5"; from run_b, where another
        # ensemble.h5 lies, that path names the wrong file, and it is no reason to refuse.
        run_a, run_b = (os.path.join(self.tmp.name, d) for d in ("run_a", "run_b"))
        for d, source in ((run_a, self.ens), (run_b, self.hmc)):
            os.makedirs(d)
            shutil.copy(source, os.path.join(d, "ensemble.h5"))
        write_json(os.path.join(run_a, "ensemble.h5.json"), dict(self.analysis, file="ensemble.h5"))
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"), os.path.join("..", "run_a", "ensemble.h5"),
                      "--out", "plots"], cwd=run_b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.split()), len(ENSEMBLE_PNGS))

    def test_cli_refuses_a_flow_ensemble_as_hmc(self):
        flow = os.path.join(self.tmp.name, "flow_as_hmc.h5")
        shutil.copy(self.ens, flow)
        err = self.refused([self.ens, "--hmc", flow])
        self.assertIn(f"--hmc {flow}: a flow ensemble, not one of flowlat hmc", err)
        # Without a source attribute, its weights tell: an HMC ensemble's log w are 0.
        with h5py.File(flow, "a") as f:
            del f.attrs["source"]
        err = self.refused([self.ens, "--hmc", flow])
        self.assertIn(f"--hmc {flow}: its log w are not 0 (unit weights), so it is no ensemble of "
                      "flowlat hmc", err)

    def test_bad_file_exits_2(self):
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"),
                      os.path.join(self.tmp.name, "missing.h5"), "--out", self.tmp.name])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
