"""Shared synthetic data and helpers of the plot tests (tests/python/test_plot_*.py).

Not a test file (its name does not start with test_), so it is not a ctest entry of
its own. Import it after the debian_python re-exec: it imports numpy, h5py and
matplotlib (with the Agg backend, before pyplot and before the tools' own imports).

Writes, in flowlat's format, a synthetic ensemble (log p = -S with the true phi^4
action, a made-up log q, log w = log p - log q), an HMC-like ensemble, their analysis
JSONs in the structure `flowlat analyze --json` writes (with made-up numbers, so a plot
that re-estimates instead of reading them fails), and a run directory's history.csv
and config.yaml; and reads back figures (errorbars, histograms, legends, titles).
"""
import contextlib
import io
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from project_paths import ROOT, TOOLS, scratch_dir  # noqa: E402
sys.path.insert(0, TOOLS)

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
ACCEPT_RATE = 0.88  # the ensembles' accept_rate attribute, copied into their analyses


def phi4_action(phi, m2=M2, lam=LAM):
    """S = sum_x [sum_mu phi (2 phi - phi(x+mu) - phi(x-mu)) + m2 phi^2 + lam phi^4] per config."""
    axes = tuple(range(1, phi.ndim))
    dens = m2 * phi**2 + lam * phi**4
    for mu in axes:
        dens = dens + phi * (2 * phi - np.roll(phi, -1, mu) - np.roll(phi, 1, mu))
    return dens.sum(axis=axes)


def write_ensemble(path, phi, log_q, log_p, *, store_configs=True, extra_rows=EXTRA_ROWS,
                   source="flow"):
    """flowlat's format, with extra_rows of garbage past n_written (readers must slice); the
    attributes that synthetic_analysis copies (ess of a flow file, accept_rate) agree with it."""
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
        f.attrs["source"] = source
        f.attrs["lattice_shape"] = np.array(phi.shape[1:], dtype=np.int64)
        f.attrs["n_written"] = np.int64(n)
        if source == "flow":  # flowlat hmc writes no ess attribute (analyze computes it)
            f.attrs["ess"] = ENSEMBLE_ESS
        f.attrs["accept_rate"] = ACCEPT_RATE


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
    return {"accept_rate": ACCEPT_RATE, "ess": ENSEMBLE_ESS if flow else 1.0,
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


def run_tool(args, timeout=120, cwd=ROOT):
    return subprocess.run([sys.executable] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


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


def bar_histogram(ax):
    """(bin edges, heights) of the filled histogram (its Rectangle patches) on ax."""
    bars = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
    edges = np.array([b.get_x() for b in bars] + [bars[-1].get_x() + bars[-1].get_width()])
    return edges, np.array([b.get_height() for b in bars])


def step_histogram(polygon, n_bins):
    """(left bin edges, heights) of a histtype='step' outline: (e0, 0), (e0, h0), (e1, h0), ..."""
    corners = polygon.get_xy()[1:2 * n_bins:2]
    return corners[:, 0], corners[:, 1]


def legend_box(ax):
    """The legend's extent in display coordinates, after a draw."""
    ax.figure.canvas.draw()
    return ax.get_legend().get_window_extent()


def touching(box, x_lo, x_hi, y_lo, y_hi, margin=4.0):
    """How many of the display-coordinate rectangles come within margin pixels of box."""
    return int(np.sum((x_hi >= box.x0 - margin) & (x_lo <= box.x1 + margin)
                      & (y_hi >= box.y0 - margin) & (y_lo <= box.y1 + margin)))


def entry_t(analysis, key="effective_mass"):
    """The t values of a per-t observable of an analysis."""
    return analysis["observables"][key]["t"]


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
    """200 steps; step 50 skipped (loss nan, ESS finite); a big early loss; held-out columns
    every 50 steps."""
    with open(path, "w") as f:
        f.write("step,loss,ess,seconds,skipped" + (",lr,eval_ess,eval_acceptance\n" if held_out else "\n"))
        for s in range(1, 201):
            skipped = s == 50
            loss = "nan" if skipped else f"{40 * np.exp(-s / 30) - 5 + rng.normal(0, .5):.6f}"
            # A skipped step's ESS may be finite (a non-finite gradient); the plot leaves it out.
            ess = "0.950000" if skipped else f"{min(1, 0.6 * (1 - np.exp(-s / 80)) + abs(rng.normal(0, .05))):.6f}"
            row = f"{s},{loss},{ess},{0.04 + 0.001 * rng.random():.6f},{int(skipped)}"
            if held_out:
                row += ",0.001," + (f"{0.5 + s / 1000:.6f},{0.4 + s / 1000:.6f}" if s % 50 == 0 else ",")
            f.write(row + "\n")


class EnsembleFixture:
    """Mixin for a unittest.TestCase: setUpClass writes a synthetic flow ensemble (with and
    without /configs), an HMC-like one and their analyses into a scratch directory."""

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
        cls.hmc_phi = (0.5 * rng.standard_normal((N, L, L))).astype(np.float32).astype(np.float64)
        write_ensemble(cls.hmc, cls.hmc_phi, np.zeros(N), np.zeros(N), source="hmc")
        cls.hmc_analysis = synthetic_analysis(N, (L, L), source="hmc", scale=0.8)
        write_json(cls.hmc + ".json", cls.hmc_analysis)

    @classmethod
    def tearDownClass(cls):
        plt.close("all")
        cls.tmp.cleanup()

    def obs(self, key, kind="reweighted", analysis=None):
        return (analysis or self.analysis)["observables"][key][kind]
