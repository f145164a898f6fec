#!/usr/bin/env python3
"""Tests of the Python tools: tools/plot_training.py, tools/plot_ensemble.py and
tools/bench/tutorial_baseline.py.

Run as `python3 tests/python/test_plots.py` (exit status non-zero on failure).
Writes into a temporary directory a synthetic ensemble in flowlat's format
(log p = -S with the true phi^4 action, a made-up log q, log w = log p - log q),
an HMC-like ensemble, their analysis JSONs in the structure `flowlat analyze
--json` writes (with made-up numbers, so a plot that re-estimates instead of
reading them fails), and a run directory (history.csv, config.yaml,
ensemble.h5.json). Runs each tool as a subprocess and checks its PNGs, and
checks the figures' data and labels (the plotting functions return matplotlib
Figures) against those files.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import contextlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import unittest

import h5py
import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import plot_ensemble  # noqa: E402
import plot_training  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
M2, LAM = -4.0, 8.0
N, L, EXTRA_ROWS = 256, 4, 16
ENSEMBLE_PNGS = ["action_vs_logq.png", "logw_hist.png", "configs.png", "magnetisation.png",
                 "correlator.png", "m_eff.png"]
CORRELATOR_DEFINITION = ("C(t) = (1/V) sum_{x,y: y_0 - x_0 = t} <phi(x) phi(y)>, t along axis 0; "
                         "not connected (<M> = 0 by symmetry)")
EFFECTIVE_MASS_DEFINITION = ("m_eff(t) = arccosh[(C(t-1) + C(t+1)) / (2 C(t))], null where the "
                             "argument < 1")
BATCH_SIZE, EVAL_SIZE, ENSEMBLE_ESS, ENSEMBLE_N = 64, 256, 0.8312, 1000


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


def _scalar(label, value, error, chain_factor, has_chain=True):
    """An observable entry: reweighted (value, error) and a different chain estimate."""
    chain = {"value": chain_factor * value, "error": 1.5 * error, "tau_int": 0.7,
             "tau_int_error": 0.01, "two_tau_int": 1.4} if has_chain else None
    return {"label": label, "reweighted": {"value": value, "error": error}, "chain": chain}


def _series(definition, t, values, errors, chain_factor):
    scaled = lambda xs, f: [None if x is None else f * x for x in xs]  # noqa: E731
    return {"definition": definition, "t": list(t),
            "reweighted": {"value": list(values), "error": list(errors)},
            "chain": {"value": scaled(values, chain_factor), "error": scaled(errors, 1.5),
                      "tau_int": [0.7] * len(t), "tau_int_error": [0.01] * len(t),
                      "two_tau_int": [1.4] * len(t)}}


def synthetic_analysis(n, shape, source="flow", scale=1.0, with_correlator=True):
    """A flowlat analyze JSON (same keys as the real ones) with made-up numbers.

    The chain estimates are 0.9 times the reweighted ones, so plotting the
    wrong estimator fails the tests; an HMC analysis has no log Z."""
    T = shape[0]
    t = range(T)
    corr = [float(scale * 0.4 * np.cosh(0.7 * (x - T / 2)) / np.cosh(0.7 * T / 2)) for x in t]
    meff = [float(scale * (0.75 + 0.01 * k)) for k in range(1, T - 1)]
    meff_err = [0.02 + 0.005 * k for k in range(1, T - 1)]
    if len(meff) > 1:
        meff[-1] = meff_err[-1] = None  # undefined: argument < 1
    flow = source == "flow"
    obs = {"abs_magnetization": _scalar("<|M|>/V", scale * 0.3, 0.002, 0.9),
           "action_density": _scalar("<S>/V", scale * 0.16, 0.0003, 0.9),
           "binder_u4": _scalar("U4 = 1 - <M^4>/(3<M^2>^2)", scale * 0.08, 0.005, 0.9),
           "chi2": _scalar("chi2 = <M^2>/V", scale * 0.7449660457761065, 0.003727039509137134, 0.9),
           "energy": _scalar("E = (1/d) sum_mu G(mu)", scale * 0.044, 8e-5, 0.9),
           "xi2": _scalar("xi2 (second moment)", scale * 1.23, 0.0085, 0.9),
           "log_z": {"label": "log Z", "chain": None,
                     "reweighted": {"value": scale * 9.291285298290807 if flow else None,
                                    "error": 0.0007704027635858947 if flow else None}}}
    if with_correlator:
        obs["correlator"] = _series(CORRELATOR_DEFINITION, t, corr,
                                    [0.004 + 0.001 * x for x in t], 0.9)
        obs["effective_mass"] = _series(EFFECTIVE_MASS_DEFINITION, range(1, T - 1), meff,
                                        meff_err, 0.9)
    return {"accept_rate": 0.88, "ess": ENSEMBLE_ESS if flow else 1.0,
            "ess_origin": "file attribute" if flow else "computed", "n": n, "n_blocks": 16,
            "n_chains": 1, "notes": [], "source": source, "volume": int(np.prod(shape)),
            "lattice_shape": list(shape), "observables": obs}


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f)


def assert_png(test, path):
    test.assertTrue(os.path.isfile(path), path)
    test.assertGreater(os.path.getsize(path), 1000, path)
    with open(path, "rb") as f:
        test.assertEqual(f.read(8), PNG_SIGNATURE, path)


def run_tool(args, timeout=120):
    return subprocess.run([sys.executable] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def quiet(function, *args, **kwargs):
    """function(*args, **kwargs) and what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        result = function(*args, **kwargs)
    return result, err.getvalue()


def flat(text):
    """text with its whitespace runs (line breaks included) as single spaces."""
    return " ".join(text.split())


def titles(ax):
    """The axes' left, centre and right titles, one string."""
    return "\n".join(ax.get_title(loc) for loc in ("left", "center", "right"))


def errorbar_data(container):
    """(x, y, lower error, upper error) of an ErrorbarContainer with vertical bars."""
    line, _, (bars,) = container.lines
    segments = np.array(bars.get_segments())  # [point, (low end, high end), (x, y)]
    y = np.asarray(line.get_ydata(), dtype=float)
    return (np.asarray(line.get_xdata(), dtype=float), y, y - segments[:, 0, 1],
            segments[:, 1, 1] - y)


def entry_t(analysis, key="effective_mass"):
    """The t values of a per-t observable of an analysis."""
    return analysis["observables"][key]["t"]


def scratch_dir():
    scratch = os.environ.get("FLOWLAT_TEST_SCRATCH")  # the build tree, under ctest
    if scratch:
        os.makedirs(scratch, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=scratch)


class EnsemblePlots(unittest.TestCase):
    """tools/plot_ensemble.py on a synthetic flow ensemble, an HMC-like one and their analyses."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = scratch_dir()
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
        cls.analysis = synthetic_analysis(N, (L, L))
        write_json(cls.ens + ".json", cls.analysis)
        cls.noconf = os.path.join(d, "noconfigs.h5")
        write_ensemble(cls.noconf, phi, cls.log_q, -cls.S, store_configs=False)
        write_json(cls.noconf + ".json", synthetic_analysis(N, (L, L), with_correlator=False))
        cls.hmc = os.path.join(d, "hmc.h5")
        write_ensemble(cls.hmc, phi[::-1], np.zeros(N), np.zeros(N))
        cls.hmc_analysis = synthetic_analysis(N, (L, L), source="hmc", scale=0.8)
        write_json(cls.hmc + ".json", cls.hmc_analysis)
        cls.figs, _ = quiet(plot_ensemble.ensemble_figures, cls.ens, hmc_path=cls.hmc)

    @classmethod
    def tearDownClass(cls):
        plt.close("all")
        cls.tmp.cleanup()

    def obs(self, key, kind="reweighted", analysis=None):
        return (analysis or self.analysis)["observables"][key][kind]

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
            M, P = plot_ensemble.config_observables(path, 64)
            self.assertEqual(P.shape, (64, shape[0]))
            np.testing.assert_allclose(P.sum(axis=1), phi.sum(axis=tuple(range(1, phi.ndim))),
                                       rtol=1e-5, atol=1e-5)  # configs stored as float32

    def test_bad_file_exits_2(self):
        r = run_tool([os.path.join(TOOLS, "plot_ensemble.py"),
                      os.path.join(self.tmp.name, "missing.h5"), "--out", self.tmp.name])
        self.assertEqual(r.returncode, 2)

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
            np.testing.assert_allclose(y, entry["value"], rtol=1e-12)
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
        self.assertTrue(any(plot_ensemble.pm(chi2["value"], chi2["error"]) in t and "reweighted" in t
                            for t in texts), texts)
        self.assertTrue(any(plot_ensemble.pm(hmc_chi2["value"], hmc_chi2["error"]) in t
                            and "HMC" in t for t in texts), texts)
        fig.canvas.draw()
        self.assertFalse(legend.get_window_extent().overlaps(ax.get_window_extent()))

    def test_magnetisation_histogram_is_the_reweighted_data(self):
        ax = self.figs["magnetisation.png"].axes[0]
        M = self.phi.sum(axis=(1, 2))
        lw = -self.S - self.log_q
        bars = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
        edges = np.array([b.get_x() for b in bars] + [bars[-1].get_x() + bars[-1].get_width()])
        heights, _ = np.histogram(M, bins=edges, weights=np.exp(lw - lw.max()), density=True)
        np.testing.assert_allclose([b.get_height() for b in bars], heights, rtol=1e-9)

    def test_log_z_and_ess_carry_errors_from_the_analysis(self):
        log_z = self.obs("log_z")
        text = plot_ensemble.pm(log_z["value"], log_z["error"])
        for name in ("action_vs_logq.png", "logw_hist.png"):
            self.assertIn(text, titles(self.figs[name].axes[0]), name)
        title = self.figs["logw_hist.png"].axes[0].get_title()
        # The analysis' ESS (not the one of the stored log w), with an error.
        ess, err = re.search(r"ESS/N = (\S+) ± (\S+)", title).groups()
        self.assertAlmostEqual(float(ess), ENSEMBLE_ESS, delta=0.6 * 10**-(len(ess.split(".")[1])))
        self.assertGreater(float(err), 0)
        own = plot_ensemble.effective_sample_size(-self.S - self.log_q)
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

    # ---- helpers and the script's own numbers ---------------------------------------

    def test_pm_keeps_two_significant_digits_of_the_error(self):
        self.assertEqual(plot_ensemble.pm(0.7449660457761065, 0.003727039509137134), "0.7450 ± 0.0037")
        self.assertEqual(plot_ensemble.pm(9.291285298290807, 0.0007704027635858947), "9.29129 ± 0.00077")
        self.assertEqual(plot_ensemble.pm(123.4, 12.0), "123 ± 12")
        self.assertEqual(plot_ensemble.pm(float("nan"), 0.1), "n/a")
        self.assertEqual(plot_ensemble.pm(1.5, float("nan")), "1.5 ± ?")

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

    def test_ess(self):
        self.assertAlmostEqual(plot_ensemble.effective_sample_size(np.full(10, 3.25)), 1.0, places=12)
        lw = np.log(np.array([1.0, 3.0]))  # (1+3)^2 / (2 (1+9)) = 0.8
        self.assertAlmostEqual(plot_ensemble.effective_sample_size(lw), 0.8, places=12)

    def test_jackknife_of_mean_is_standard_error(self):
        x = self.S
        mean, err = plot_ensemble.jackknife(lambda i: np.mean(x[i]), N, N)
        self.assertAlmostEqual(float(mean), np.mean(x), places=10)
        self.assertAlmostEqual(float(err), np.std(x, ddof=1) / np.sqrt(N), places=8)


CONFIG_YAML = f"""\
lattice:
  shape: [{L}, {L}]
train:
  steps: 200
  batch_size: {BATCH_SIZE}   # global
  eval_every: 50
  eval_size: {EVAL_SIZE}
sample:
  n_configs: {ENSEMBLE_N}
  output: ensemble.h5
"""


def write_history(path, rng, held_out=True):
    """200 steps; step 50 skipped; a big early loss; held-out columns every 50 steps."""
    with open(path, "w") as f:
        f.write("step,loss,ess,seconds,skipped" + (",lr,eval_ess,eval_acceptance\n" if held_out else "\n"))
        for s in range(1, 201):
            skipped = s == 50
            loss = "nan" if skipped else f"{40 * np.exp(-s / 30) - 5 + rng.normal(0, .5):.6f}"
            ess = "nan" if skipped else f"{min(1, 0.6 * (1 - np.exp(-s / 80)) + abs(rng.normal(0, .05))):.6f}"
            row = f"{s},{loss},{ess},{0.04 + 0.001 * rng.random():.6f},{int(skipped)}"
            if held_out:
                row += ",0.001," + (f"{0.5 + s / 1000:.6f},{0.4 + s / 1000:.6f}" if s % 50 == 0 else ",")
            f.write(row + "\n")


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
        # Default output: training.png in the run directory; old five-column histories work.
        for d in (self.run_dir, self.bare_dir):
            r = run_tool([os.path.join(TOOLS, "plot_training.py"), d])
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
