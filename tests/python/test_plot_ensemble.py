#!/usr/bin/env python3
"""Tests of tools/plot_ensemble.py's figures: each one's data, labels, titles and legend
placement against a synthetic flow ensemble, an HMC-like one and their analysis JSONs
(made-up numbers, so a plot that re-estimates instead of reading them fails). The
plotting functions return matplotlib Figures.

Run as `python3 tests/python/test_plot_ensemble.py` (exit status non-zero on failure).
The synthetic ensembles and the figure readers come from plot_fixtures.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import re
import shutil
import unittest

import h5py
import numpy as np

from plot_fixtures import (CORRELATOR_DEFINITION, EFFECTIVE_MASS_DEFINITION,  # noqa: E402
                           ENSEMBLE_ESS, L, N, EnsembleFixture, bar_histogram, entry_t,
                           errorbar_data, flat, legend_box, plt, quiet, step_histogram,
                           synthetic_analysis, titles, touching, write_json)
from project_paths import ROUNDING  # noqa: E402
import flowlat_results  # noqa: E402
import plot_ensemble  # noqa: E402


class EnsemblePlots(EnsembleFixture, unittest.TestCase):
    """tools/plot_ensemble.py on a synthetic flow ensemble, an HMC-like one and their analyses."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.figs, _ = quiet(plot_ensemble.ensemble_figures, cls.ens, hmc_path=cls.hmc)

    # ---- the figures show the analysis' numbers ------------------------------------

    def test_correlator_is_the_analysis_with_its_definition(self):
        ax = self.figs["correlator.png"].axes[0]
        flow, hmc = ax.containers
        self.assertIn("flow", flow.get_label())
        self.assertIn("HMC", hmc.get_label())
        for container, entry in ((flow, self.obs("correlator")),
                                 (hmc, self.obs("correlator", "chain", self.hmc_analysis))):
            x, y, lower, upper = errorbar_data(container)
            np.testing.assert_allclose(np.round(x), np.arange(L))
            np.testing.assert_allclose(y, entry["value"], rtol=ROUNDING)
            np.testing.assert_allclose(upper, entry["error"], rtol=1e-9)
            np.testing.assert_allclose(lower, entry["error"], rtol=1e-9)
        title = flat(ax.get_title())
        self.assertIn("not connected", title)
        self.assertIn(flat(CORRELATOR_DEFINITION), title)
        self.assertEqual(ax.get_yscale(), "log")

    def test_effective_mass_is_the_analysis_without_undefined_points(self):
        ax = self.figs["m_eff.png"].axes[0]
        flow, hmc = ax.containers
        entry = self.obs("effective_mass")
        x, y, _, upper = errorbar_data(flow)
        defined = [k for k, v in enumerate(entry["value"]) if v is not None]
        self.assertLess(len(defined), len(entry["value"]))  # the synthetic JSON has a null
        np.testing.assert_allclose(np.round(x), np.array(entry_t(self.analysis))[defined])
        np.testing.assert_allclose(y, np.array(entry["value"])[defined].astype(float))
        np.testing.assert_allclose(upper, np.array(entry["error"])[defined].astype(float))
        hmc_entry = self.obs("effective_mass", "chain", self.hmc_analysis)
        _, y, _, upper = errorbar_data(hmc)
        keep = [v is not None for v in hmc_entry["value"]]
        np.testing.assert_allclose(y, np.array(hmc_entry["value"])[keep].astype(float))
        np.testing.assert_allclose(upper, np.array(hmc_entry["error"])[keep].astype(float))
        self.assertIn(flat(EFFECTIVE_MASS_DEFINITION), flat(ax.get_title()))
        self.assertIn("undefined", ax.get_title())
        self.assertIn("m_", ax.get_ylabel())

    def test_magnetisation_legend_has_chi2_with_errors_outside_the_data(self):
        fig = self.figs["magnetisation.png"]
        ax = fig.axes[0]
        legend = ax.get_legend()
        texts = [t.get_text() for t in legend.get_texts()]
        chi2 = self.obs("chi2")
        hmc_chi2 = self.obs("chi2", "chain", self.hmc_analysis)
        self.assertTrue(any(flowlat_results.pm(chi2["value"], chi2["error"]) in t
                            and "reweighted" in t for t in texts), texts)
        self.assertTrue(any(flowlat_results.pm(hmc_chi2["value"], hmc_chi2["error"]) in t
                            and "HMC" in t for t in texts), texts)
        fig.canvas.draw()
        self.assertFalse(legend.get_window_extent().overlaps(ax.get_window_extent()))

    def test_magnetisation_histogram_is_the_reweighted_data(self):
        ax = self.figs["magnetisation.png"].axes[0]
        M = self.phi.sum(axis=(1, 2))
        lw = -self.S - self.log_q
        edges, shown = bar_histogram(ax)
        heights, _ = np.histogram(M, bins=edges, weights=np.exp(lw - lw.max()), density=True)
        np.testing.assert_allclose(shown, heights, rtol=1e-9)

    def test_magnetisation_outlines_are_unweighted_flow_and_hmc_on_shared_bins(self):
        ax = self.figs["magnetisation.png"].axes[0]
        edges, _ = bar_histogram(ax)
        steps = [p for p in ax.patches if type(p).__name__ == "Polygon"]
        labels = [p.get_label() for p in steps]
        self.assertEqual(len(steps), 2, labels)
        self.assertTrue(labels[0].startswith("flow proposals, unweighted"), labels)
        self.assertTrue(labels[1].startswith("HMC (Markov chain)"), labels)
        M_flow, M_hmc = self.phi.sum(axis=(1, 2)), self.hmc_phi.sum(axis=(1, 2))
        for polygon, M in zip(steps, (M_flow, M_hmc)):
            left, heights = step_histogram(polygon, len(edges) - 1)
            np.testing.assert_allclose(left, edges[:-1], rtol=ROUNDING, atol=ROUNDING)
            expected, _ = np.histogram(M, bins=edges, density=True)
            np.testing.assert_allclose(heights, expected, rtol=1e-9, err_msg=polygon.get_label())
        # One binning covers both ensembles, so the three histograms compare bin by bin.
        everything = np.concatenate([M_flow, M_hmc])
        self.assertLessEqual(edges[0], everything.min())
        self.assertGreaterEqual(edges[-1], everything.max())
        self.assertEqual(ax.get_xlabel(), r"$M = \sum_x \phi(x)$")
        self.assertEqual(ax.get_ylabel(), "probability density")
        self.assertIn(self.analysis["observables"]["chi2"]["label"] + " from flowlat analyze",
                      ax.get_title())

    def test_logw_histogram_is_the_stored_log_w(self):
        ax = self.figs["logw_hist.png"].axes[0]
        lw = -self.S - self.log_q
        edges, heights = bar_histogram(ax)
        expected, expected_edges = np.histogram(lw - lw.max(), bins=60)
        np.testing.assert_allclose(edges, expected_edges, rtol=ROUNDING, atol=ROUNDING)
        np.testing.assert_array_equal(heights, expected)
        self.assertEqual(ax.get_yscale(), "log")
        self.assertIn(r"\log w = \log p - \log q", ax.get_xlabel())
        self.assertEqual(ax.get_ylabel(), "configurations per bin (log scale)")

    def test_action_vs_logq_is_the_data_with_its_slope1_fit(self):
        fig = self.figs["action_vs_logq.png"]
        ax = fig.axes[0]
        S, nlq = self.S, -self.log_q
        (mesh,) = ax.collections
        corners = mesh.get_coordinates()  # [y edge, x edge, (x, y)]
        x_edges, y_edges = corners[0, :, 0], corners[:, 0, 1]
        expected, _, _ = np.histogram2d(nlq, S, bins=[x_edges, y_edges])
        counts = np.nan_to_num(np.ma.filled(mesh.get_array(), 0.0)).reshape(expected.T.shape)
        np.testing.assert_array_equal(counts, expected.T)  # x: -log q, y: S
        self.assertGreater(expected.sum(), 0.95 * N)
        b, b_err = np.mean(S) - np.mean(nlq), np.std(S - nlq, ddof=1) / np.sqrt(N)
        (fit,) = ax.get_lines()
        np.testing.assert_allclose(np.asarray(fit.get_ydata()) - np.asarray(fit.get_xdata()), b,
                                   rtol=ROUNDING)
        self.assertEqual(fit.get_label(), f"slope-1 fit, b = {flowlat_results.pm(b, b_err)}")
        self.assertIn(f"$-b$ = {flowlat_results.pm(-b, b_err)}", titles(ax))
        self.assertEqual(ax.get_xlabel(), r"$-\log q(\phi)$")
        self.assertEqual(ax.get_ylabel(), r"$S(\phi) = -\log p(\phi)$")
        self.assertEqual(fig.axes[1].get_ylabel(), "configurations per bin")  # its colour bar
        # The slope-1 line at 45 degrees: equal spans, equal aspect.
        self.assertAlmostEqual(np.diff(ax.get_xlim())[0], np.diff(ax.get_ylim())[0], places=9)
        self.assertEqual(ax.get_aspect(), 1.0)
        # The legend covers no occupied bin.
        box = legend_box(ax)
        lo = ax.transData.transform(corners[:-1, :-1].reshape(-1, 2))
        hi = ax.transData.transform(corners[1:, 1:].reshape(-1, 2))
        occupied = counts.ravel() > 0
        self.assertEqual(touching(box, lo[occupied, 0], hi[occupied, 0], lo[occupied, 1],
                                  hi[occupied, 1], margin=0.0), 0)

    def test_series_figures_labels_and_legend_clear_of_the_points(self):
        undefined = sum(v is None for v in self.obs("effective_mass")["value"] +
                        self.obs("effective_mass", "chain", self.hmc_analysis)["value"])
        for name, xlabel, ylabel, scale, note in (
                ("correlator.png", "t (lattice units, along the first lattice axis, periodic)",
                 "C(t)", "log", None),
                ("m_eff.png", "t (lattice units)", r"$m_\mathrm{eff}(t)$ (inverse lattice units)",
                 "linear", f"[{undefined} undefined points (argument < 1) not shown]")):
            ax = self.figs[name].axes[0]
            self.assertEqual((ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()),
                             (xlabel, ylabel, scale), name)
            self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()],
                             [f"flow (reweighted, N = {self.analysis['n']})",
                              f"HMC (Markov chain, N = {self.hmc_analysis['n']})"], name)
            title = flat(ax.get_title())
            self.assertIn("flow: reweighted, blocked jackknife; HMC: Markov chain, Gamma method",
                          title, name)
            if note:
                self.assertIn(note, title, name)
            else:
                self.assertNotIn("not shown", title, name)
            box = legend_box(ax)
            for container in ax.containers:
                x, y, lower, upper = errorbar_data(container)
                low = ax.transData.transform(np.c_[x, y - lower])
                high = ax.transData.transform(np.c_[x, y + upper])
                self.assertEqual(touching(box, low[:, 0], high[:, 0], low[:, 1], high[:, 1]), 0,
                                 name)

    def test_log_z_and_ess_carry_errors_from_the_analysis(self):
        log_z = self.obs("log_z")
        text = flowlat_results.pm(log_z["value"], log_z["error"])
        for name in ("action_vs_logq.png", "logw_hist.png"):
            self.assertIn(text, titles(self.figs[name].axes[0]), name)
        title = self.figs["logw_hist.png"].axes[0].get_title()
        # The analysis' ESS (not the one of the stored log w), with an error.
        ess, err = re.search(r"ESS/N = (\S+) ± (\S+)", title).groups()
        self.assertAlmostEqual(float(ess), ENSEMBLE_ESS, delta=0.6 * 10**-(len(ess.split(".")[1])))
        self.assertGreater(float(err), 0)
        own = flowlat_results.effective_sample_size(-self.S - self.log_q)
        self.assertGreater(abs(own - ENSEMBLE_ESS), 0.01)
        self.assertIn(f"N = {N}", title)

    def test_configs_have_one_shared_colour_bar_of_phi(self):
        fig = self.figs["configs.png"]
        images = [im for ax in fig.axes for im in ax.images]
        self.assertEqual(len(images), 32)
        self.assertEqual(len({id(im.norm) for im in images}), 1)
        bars = [im.colorbar for im in images if im.colorbar is not None]
        self.assertEqual(len(bars), 1)
        self.assertIn(r"\phi", bars[0].ax.get_ylabel())
        self.assertIn(r"\tanh\phi", bars[0].ax.get_ylabel())
        # Colours ~ tanh phi on [-2.5, 2.5] (a linear scale would put phi = 1 at 0.7).
        norm = images[0].norm
        self.assertAlmostEqual(float(norm(-2.5)), 0.0, places=9)
        self.assertAlmostEqual(float(norm(2.5)), 1.0, places=9)
        self.assertAlmostEqual(float(norm(1.0)), 0.5 * (1 + np.tanh(1.0) / np.tanh(2.5)), places=9)
        self.assertEqual(bars[0].extend, "both")
        panels = [im.axes.get_position() for im in images]
        self.assertGreater(bars[0].ax.get_position().x0, max(p.x1 for p in panels))

    def test_configs_show_the_stored_configs_beside_prior_draws(self):
        fig = self.figs["configs.png"]
        panels = [ax for ax in fig.axes if ax.images]
        x0 = lambda ax: round(ax.get_position().x0, 6)  # noqa: E731
        columns = sorted({x0(ax) for ax in panels})
        self.assertEqual(len(columns), 8)
        order = lambda ax: (-round(ax.get_position().y0, 6), x0(ax))  # noqa: E731  row-major
        left = sorted([ax for ax in panels if x0(ax) in columns[:4]], key=order)
        right = sorted([ax for ax in panels if x0(ax) in columns[4:]], key=order)
        prior = np.random.default_rng(0).standard_normal((16, L, L))  # seed 0 is the default
        for k in range(16):
            np.testing.assert_array_equal(left[k].images[0].get_array(), self.phi[k])
            np.testing.assert_array_equal(right[k].images[0].get_array(), prior[k])
        texts = {t.get_text(): t.get_position()[0] for t in fig.texts}
        self.assertEqual(set(texts), {"flow proposals $\\sim q$ (first 16 stored)",
                                      "prior draws $N(0,1)$"})
        # Each heading stands over its own panels.
        span = lambda axes: (min(a.get_position().x0 for a in axes),  # noqa: E731
                             max(a.get_position().x1 for a in axes))
        lo, hi = span(left)
        self.assertTrue(lo < texts["flow proposals $\\sim q$ (first 16 stored)"] < hi)
        lo, hi = span(right)
        self.assertTrue(lo < texts["prior draws $N(0,1)$"] < hi)

    def test_hmc_without_analysis_still_draws_its_histogram(self):
        hmc = os.path.join(self.tmp.name, "hmc_bare.h5")
        shutil.copy(self.hmc, hmc)
        figs, err = quiet(plot_ensemble.ensemble_figures, self.ens, hmc_path=hmc)
        self.assertIn(f"no {hmc}.json", err)
        self.assertEqual(len(figs["correlator.png"].axes[0].containers), 1)
        texts = [t.get_text() for t in figs["magnetisation.png"].axes[0].get_legend().get_texts()]
        self.assertTrue(any(t.startswith("HMC") for t in texts), texts)
        for fig in figs.values():
            plt.close(fig)

    def test_analysis_option_and_stale_analysis_warning(self):
        other = os.path.join(self.tmp.name, "other.json")
        analysis = synthetic_analysis(N + 1, (L, L), scale=2.0)
        write_json(other, analysis)
        figs, err = quiet(plot_ensemble.ensemble_figures, self.ens, analysis_path=other)
        _, y, _, _ = errorbar_data(figs["correlator.png"].axes[0].containers[0])
        np.testing.assert_allclose(y, self.obs("correlator", analysis=analysis)["value"])
        self.assertIn("rerun flowlat analyze", err)
        for fig in figs.values():
            plt.close(fig)

    def test_analysis_of_another_ensemble_is_refused(self):
        other = os.path.join(self.tmp.name, "of_hmc.json")
        analysis = synthetic_analysis(N, (L, L))
        analysis["file"] = self.hmc  # an existing, other ensemble
        write_json(other, analysis)
        with self.assertRaisesRegex(ValueError, f"{re.escape(other)} is the analysis of {re.escape(self.hmc)}, "
                                                f"not of {re.escape(self.ens)}"):
            quiet(plot_ensemble.ensemble_figures, self.ens, analysis_path=other)
        out_dir = os.path.join(self.tmp.name, "refused")
        code, err = quiet(plot_ensemble.main, [self.ens, "--analysis", other, "--out", out_dir])
        self.assertEqual(code, 2)
        self.assertIn("is the analysis of", err)
        self.assertFalse(os.path.exists(out_dir) and os.listdir(out_dir))

    def test_a_flow_ensemble_is_refused_as_hmc(self):
        flow = os.path.join(self.tmp.name, "flow_as_hmc.h5")
        shutil.copy(self.ens, flow)
        with h5py.File(flow, "a") as f:
            f.attrs["source"] = "flow"
        with self.assertRaisesRegex(ValueError, f"--hmc {re.escape(flow)}: a flow ensemble, not one of flowlat hmc"):
            quiet(plot_ensemble.ensemble_figures, self.ens, hmc_path=flow)


if __name__ == "__main__":
    unittest.main(verbosity=2)
