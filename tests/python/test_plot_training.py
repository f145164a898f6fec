#!/usr/bin/env python3
"""Tests of tools/plot_training.py on a synthetic run directory (history.csv,
config.yaml, ensemble.h5.json) and on one with an old five-column history.csv only:
the command line, the run info it reads, and the figure's lines, legend and labels.

Run as `python3 tests/python/test_plot_training.py` (exit status non-zero on failure).
The synthetic run directory comes from plot_fixtures.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import os
import re
import unittest

import numpy as np

from plot_fixtures import (BATCH_SIZE, CONFIG_YAML, ENSEMBLE_ESS, ENSEMBLE_N,  # noqa: E402
                           EVAL_SIZE, L, TOOLS, assert_png, plt, run_tool, scratch_dir,
                           synthetic_analysis, write_history, write_json)
import plot_training  # noqa: E402


class TrainingPlots(unittest.TestCase):
    """tools/plot_training.py on a synthetic run directory."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = scratch_dir()
        rng = np.random.default_rng(5)
        cls.run_dir = os.path.join(cls.tmp.name, "run")
        os.makedirs(cls.run_dir)
        write_history(os.path.join(cls.run_dir, "history.csv"), rng)
        with open(os.path.join(cls.run_dir, "config.yaml"), "w") as f:
            f.write(CONFIG_YAML)
        cls.analysis = synthetic_analysis(ENSEMBLE_N, (L, L))
        write_json(os.path.join(cls.run_dir, "ensemble.h5.json"), cls.analysis)
        cls.bare_dir = os.path.join(cls.tmp.name, "bare")  # history.csv only, old five columns
        os.makedirs(cls.bare_dir)
        write_history(os.path.join(cls.bare_dir, "history.csv"), rng, held_out=False)
        cls.history = plot_training.read_history(os.path.join(cls.run_dir, "history.csv"))
        cls.fig = plot_training.plot_training(cls.history, plot_training.run_info(cls.run_dir))

    @classmethod
    def tearDownClass(cls):
        plt.close("all")
        cls.tmp.cleanup()

    def lines(self):
        """{label: Line2D} of the labelled lines on both axes."""
        return {line.get_label(): line for ax in self.fig.axes for line in ax.get_lines()
                if not line.get_label().startswith("_")}

    def line(self, prefix):
        found = [line for label, line in self.lines().items() if label.startswith(prefix)]
        self.assertEqual(len(found), 1, (prefix, list(self.lines())))
        return found[0]

    def test_cli(self):
        out = os.path.join(self.tmp.name, "training.png")
        r = run_tool([os.path.join(TOOLS, "plot_training.py"), self.run_dir, "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), out)
        assert_png(self, out)
        # Default output: training.png in the run directory (whatever the working directory);
        # old five-column histories work.
        for d in (self.run_dir, self.bare_dir):
            r = run_tool([os.path.join(TOOLS, "plot_training.py"), d], cwd=self.tmp.name)
            self.assertEqual(r.returncode, 0, r.stderr)
            assert_png(self, os.path.join(d, "training.png"))

    def test_run_info_reads_config_and_analysis(self):
        info = plot_training.run_info(self.run_dir)
        self.assertEqual((info["batch_size"], info["eval_size"]), (BATCH_SIZE, EVAL_SIZE))
        self.assertEqual((info["ensemble_ess"], info["ensemble_n"]), (ENSEMBLE_ESS, ENSEMBLE_N))
        log_z = self.analysis["observables"]["log_z"]["reweighted"]
        self.assertEqual(info["log_z"], (log_z["value"], log_z["error"]))
        sections = plot_training._parse_sections(CONFIG_YAML)  # the fallback without PyYAML
        self.assertEqual(sections["train"]["batch_size"], str(BATCH_SIZE))
        self.assertEqual(sections["train"]["eval_size"], str(EVAL_SIZE))
        bare = plot_training.run_info(self.bare_dir)
        self.assertEqual(set(bare.values()), {None})

    def test_legend_names_each_ess_with_its_sample_size(self):
        labels = [t.get_text() for t in self.fig.legends[0].get_texts()]
        for expected in (f"batch ESS (N = {BATCH_SIZE})", f"held-out ESS (N = {EVAL_SIZE})",
                         f"ensemble ESS (N = {ENSEMBLE_N})", "held-out Metropolis acceptance"):
            self.assertTrue(any(expected in label for label in labels), (expected, labels))

    def test_lines_carry_the_data(self):
        h = self.history
        step, window = h["step"], 15
        ess = np.where(h["skipped"] > 0, np.nan, h["ess"])
        x, y = plot_training._smoothed(step, ess, window)
        np.testing.assert_allclose(self.line("batch ESS").get_ydata(), y)
        np.testing.assert_allclose(self.line("batch ESS").get_xdata(), x)
        held = np.isfinite(h["eval_ess"])
        self.assertEqual(int(held.sum()), 4)
        np.testing.assert_allclose(self.line("held-out ESS").get_ydata(), h["eval_ess"][held])
        np.testing.assert_allclose(self.line("held-out Metropolis").get_ydata(),
                                   h["eval_acceptance"][held])
        np.testing.assert_allclose(self.line("ensemble ESS").get_ydata(), ENSEMBLE_ESS)
        log_z = self.analysis["observables"]["log_z"]["reweighted"]
        minus_log_z = self.line("$-\\log Z$")
        np.testing.assert_allclose(minus_log_z.get_ydata(), -log_z["value"])
        self.assertIn(plot_training.pm(-log_z["value"], log_z["error"]), minus_log_z.get_label())

    def test_raw_ess_skipped_steps_and_title(self):
        h = self.history
        ax_ess = self.line("batch ESS").axes
        raw = [line for line in ax_ess.get_lines()
               if line.get_label().startswith("_") and line.get_alpha() == 0.2]
        self.assertEqual(len(raw), 1)
        np.testing.assert_allclose(raw[0].get_xdata(), h["step"])
        np.testing.assert_allclose(raw[0].get_ydata(), np.where(h["skipped"] > 0, np.nan, h["ess"]))
        skipped = self.line("skipped steps")
        self.assertEqual(skipped.get_label(), "skipped steps (1)")
        np.testing.assert_allclose(skipped.get_xdata(), [50])
        self.assertEqual(ax_ess.get_ylim(), (0.0, 1.0))
        steps, seconds, median = re.search(r"\((\d+) steps, (\S+) s, median (\S+) ms/step\)",
                                           ax_ess.get_title()).groups()
        self.assertEqual(int(steps), 200)
        self.assertAlmostEqual(float(seconds), np.sum(h["seconds"]), delta=0.05)
        self.assertAlmostEqual(float(median), 1e3 * np.median(h["seconds"]), delta=0.05)

    def test_legend_is_below_the_axes_and_inside_the_figure(self):
        self.fig.canvas.draw()
        legend = self.fig.legends[0].get_window_extent()
        for ax in self.fig.axes:
            self.assertFalse(legend.overlaps(ax.get_tightbbox()), ax.get_ylabel())
        figure = self.fig.bbox
        self.assertTrue(figure.x0 <= legend.x0 and legend.x1 <= figure.x1
                        and figure.y0 <= legend.y0 and legend.y1 <= figure.y1, (legend, figure))

    def test_clipped_loss_values_are_counted(self):
        ax_loss = self.line("loss").axes
        top = ax_loss.get_ylim()[1]
        loss = self.history["loss"]
        above = int(np.sum(np.isfinite(loss) & (loss > top)))
        self.assertGreater(above, 0)
        self.assertIn(f"{above} raw values above the axis", self.line("loss").get_label())

    def test_axis_labels(self):
        ax_ess = self.line("batch ESS").axes
        self.assertEqual(ax_ess.get_xlabel(), "training step")
        self.assertIn("ESS / N", ax_ess.get_ylabel())
        self.assertIn("loss", self.line("loss").axes.get_ylabel())

    def test_without_config_the_labels_have_no_sizes(self):
        h = plot_training.read_history(os.path.join(self.bare_dir, "history.csv"))
        fig = plot_training.plot_training(h, plot_training.run_info(self.bare_dir))
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        self.assertTrue(any(label.startswith("batch ESS:") for label in labels), labels)
        self.assertFalse(any("(N =" in label or "ensemble" in label for label in labels), labels)
        plt.close(fig)

    def test_history_reader_and_moving_average(self):
        h = self.history
        self.assertEqual(len(h["step"]), 200)
        self.assertTrue(np.isnan(h["loss"][49]) and h["skipped"][49] == 1)
        avg = plot_training.moving_average(np.arange(20.0), window=15)
        np.testing.assert_allclose(avg, np.arange(7.0, 13.0))  # means of 0..14, ..., 5..19
        np.testing.assert_allclose(plot_training.moving_average([1.0, 3.0], window=15), [2.0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
