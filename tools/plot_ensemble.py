#!/usr/bin/env python3
"""Plots of a flowlat ensemble and of its analysis by `flowlat analyze`.

Every estimate on these figures (a number with an error, a point with an error
bar) is read from the analysis JSON that `flowlat analyze ENSEMBLE --json
ENSEMBLE.json` writes (`flowlat run` writes <run_dir>/ensemble.h5.json before it
calls this script); nothing is re-estimated here. For the flow the figures show
the analysis' "reweighted" estimates (self-normalised importance reweighting,
blocked jackknife), for an HMC overlay its "chain" estimates (the stored Markov
chain, Gamma method). What this script computes itself is data, not estimates:
histograms of the stored configurations and weights, and the slope-1 fit of S
against -log q (its offset b with its standard error, and the ESS error, are
labelled as this script's).

Figures (the config-based ones only when /configs is stored, correlator and
m_eff only when the analysis has them):

  configs.png         16 stored flow proposals beside 16 prior draws N(0,1);
                      one shared colour bar of phi (colours ~ tanh phi)
  action_vs_logq.png  2D histogram of S = -log p against -log q, the slope-1
                      fit offset b, and log Z +- error (analysis)
  logw_hist.png       histogram of log w; N, ESS and log Z +- error (analysis)
  magnetisation.png   histogram of M = sum_x phi(x): flow unweighted and
                      reweighted, HMC; chi2 +- error (analysis) in the legend
  correlator.png      C(t) +- error (analysis), titled with its definition
  m_eff.png           effective mass m_eff(t) +- error (analysis)

Ensemble format (HDF5): /configs [N, L1, ..., Ld] (optional), /log_q, /log_p,
/log_w float64 [N]; root attribute n_written (only rows [:n_written] are
valid). Conventions (README): log p = -S, log w = log p - log q; an HMC file
has log w = 0 (unit weights).

  python3 tools/plot_ensemble.py runs/phi4_L8/ensemble.h5 [--out DIR] \\
      [--analysis runs/phi4_L8/ensemble.h5.json] [--hmc runs/hmc_L8/hmc.h5]

Prints the paths of the PNGs written, one a line. Exits with status 2 (and one
line on stderr) when the ensemble cannot be read or has no analysis JSON, when
the analysis JSON is another ensemble's (its file, source, lattice, or with as
many rows its ESS or acceptance differ from the ensemble's) and when --hmc names
no HMC ensemble (its source attribute, or without one non-zero log w).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import argparse
import math

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from flowlat_results import (  # noqa: E402  (the readers: tools/flowlat_results.py)
    MissingAnalysis, Numbers, check_analysis, config_observables, effective_sample_size,
    flow_numbers, jackknife, json_float, load_ensemble, load_hmc, pm, read_configs,
    slope1_offset, weights)

PHI_RANGE = 2.5  # configuration panels: colours for phi in [-2.5, 2.5], ~ tanh phi
PHI_TICKS = [-2, -1, -0.5, 0, 0.5, 1, 2]
COLOURS = {"flow": "tab:blue", "HMC": "k"}


# ---- figures -----------------------------------------------------------------------

def _config_grid(fig, gs, columns, cfgs, norm):
    """4x4 image panels (2D; 3D: the slice x3 = 0) in gs[:, columns]; the last image."""
    im = None
    for k in range(16):
        ax = fig.add_subplot(gs[k // 4, columns[k % 4]])
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(cfgs):
            ax.set_visible(False)
            continue
        img = cfgs[k] if cfgs.ndim == 3 else cfgs[k][..., 0]
        im = ax.imshow(img, norm=norm, cmap="coolwarm", interpolation="nearest")
    return im


def _config_strips(fig, gs, columns, cfgs, norm):
    """1D lattices: one image, a row per configuration."""
    ax = fig.add_subplot(gs[:, columns[0]:columns[-1] + 1])
    im = ax.imshow(cfgs, norm=norm, cmap="coolwarm", interpolation="nearest", aspect="auto")
    ax.set_xlabel("site x")
    if columns[0] == 0:
        ax.set_ylabel("configuration")
    return im


def plot_configs(cfgs, seed=0):
    """Up to 16 stored configs beside 16 prior draws N(0,1), one shared colour bar of phi."""
    d = cfgs.ndim - 1
    prior = np.random.default_rng(seed).standard_normal((16,) + cfgs.shape[1:])
    inverse = lambda y: np.arctanh(np.clip(y, -1 + 1e-12, 1 - 1e-12))  # noqa: E731
    norm = matplotlib.colors.FuncNorm((np.tanh, inverse), vmin=-PHI_RANGE, vmax=PHI_RANGE)
    fig = plt.figure(figsize=(9.4, 4.6), dpi=125)
    gs = fig.add_gridspec(4, 9, width_ratios=[1] * 4 + [0.25] + [1] * 4,
                          left=0.03 if d > 1 else 0.07, right=0.87,
                          top=0.9, bottom=0.04 if d > 1 else 0.12, wspace=0.06, hspace=0.06)
    draw = _config_grid if d > 1 else _config_strips
    im = draw(fig, gs, [0, 1, 2, 3], cfgs[:16], norm)
    draw(fig, gs, [5, 6, 7, 8], prior, norm)
    where = {1: "", 2: "", 3: r", slice $x_3 = 0$"}[d]
    fig.text(0.25, 0.94, f"flow proposals $\\sim q$ (first {min(16, len(cfgs))} stored){where}",
             ha="center", fontsize=9)
    fig.text(0.66, 0.94, f"prior draws $N(0,1)${where}", ha="center", fontsize=9)
    cbar = fig.colorbar(im, cax=fig.add_axes([0.895, 0.1, 0.018, 0.76]), ticks=PHI_TICKS,
                        extend="both")
    cbar.set_label(r"$\phi(x)$   (colour scale $\propto \tanh\phi$)")
    return fig


def _log_z_text(flow):
    lz = flow.scalar("log_z")
    if lz is None or not math.isfinite(lz[0]):
        return "log Z: not in the analysis"
    return f"$\\log Z$ = {pm(*lz)} (flowlat analyze, reweighted)"


def _square_ranges(x, y):
    """Equal spans around the central 99% of x and y, so a slope-1 line is at 45 degrees."""
    lo_x, hi_x = np.percentile(x, [0.5, 99.5])
    lo_y, hi_y = np.percentile(y, [0.5, 99.5])
    span = 1.1 * max(hi_x - lo_x, hi_y - lo_y, 1e-9)
    cx, cy = 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)
    return [cx - span / 2, cx + span / 2], [cy - span / 2, cy + span / 2]


def plot_action_vs_logq(ens, flow, bins=40):
    """2D histogram of S = -log p against -log q with the slope-1 fit; log Z from the analysis."""
    S, nlq = -ens["log_p"], -ens["log_q"]
    b = slope1_offset(S, nlq)
    b_err = float(np.std(S - nlq, ddof=1) / np.sqrt(len(S)))  # the proposals are independent
    rx, ry = _square_ranges(nlq, S)
    fig, ax = plt.subplots(figsize=(6.2, 6.2), dpi=125)
    _, _, _, mesh = ax.hist2d(nlq, S, bins=bins, range=[rx, ry], cmap="viridis", cmin=1)
    fig.colorbar(mesh, ax=ax, shrink=0.8, label="configurations per bin")
    xs = np.array(rx)
    ax.plot(xs, xs + b, ":", color="k", lw=1.5, label=f"slope-1 fit, b = {pm(b, b_err)}")
    ax.set(xlim=rx, ylim=ry, aspect="equal", xlabel=r"$-\log q(\phi)$",
           ylabel=r"$S(\phi) = -\log p(\phi)$")
    ax.legend(loc="upper left", fontsize=8)
    note = ("fit $S = -\\log q + b$,  $b = \\langle S\\rangle - \\langle -\\log q\\rangle"
            " = -\\langle \\log w\\rangle$ (this script, $\\pm$ standard error)\n"
            "perfect flow $q = e^{-S}/Z$ gives $b = -\\log Z$;  $-b \\leq \\log Z$ (Jensen)\n"
            f"$-b$ = {pm(-b, b_err)}\n{_log_z_text(flow)}")
    ax.set_title(note, fontsize=7.5, loc="left")
    fig.tight_layout()
    return fig


def _ess_text(ens, flow):
    """'ESS = value ± error': value from the analysis, error a jackknife of this script."""
    a = flow.analysis
    n_blocks = int(a.get("n_blocks") or 32)
    _, err = jackknife(lambda i: effective_sample_size(ens["log_w"][i]), ens["n"], n_blocks)
    ess = json_float(a.get("ess"))
    return (f"ESS/N = {pm(ess, float(err))} ({a.get('ess_origin', 'analysis')}; error: "
            f"jackknife over {n_blocks} blocks of log w, this script)")


def plot_logw_hist(ens, flow, bins=60):
    """Histogram of log w; N, ESS and log Z from the analysis."""
    lw = ens["log_w"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=125)
    ax.hist(lw - np.max(lw), bins=bins, color="tab:blue", alpha=0.8)
    ax.set_xlabel(r"$\log w - \max\,\log w$,  $\log w = \log p - \log q$")
    ax.set_yscale("log")
    ax.set_ylabel("configurations per bin (log scale)")
    ax.set_title(f"N = {flow.analysis.get('n', ens['n'])};  {_log_z_text(flow)}\n"
                 f"{_ess_text(ens, flow)}", fontsize=8)
    fig.tight_layout()
    return fig


def _chi2_label(numbers):
    chi2 = None if numbers is None else numbers.scalar("chi2")
    if chi2 is None:
        return "$\\chi_2$: no analysis"
    return f"$\\chi_2$ = {pm(*chi2)}"


def _hmc_label(numbers):
    kind = f" ({Numbers.KIND_TEXT[numbers.kind]})" if numbers else ""
    return f"HMC{kind};  {_chi2_label(numbers)}"


def plot_magnetisation(M, log_w, flow, hmc=None, bins=60):
    """Histogram of M = sum_x phi(x): flow raw and reweighted, and optional HMC
    (M, log_w, Numbers or None); chi2 from the analyses in the legend."""
    all_M = M if hmc is None else np.concatenate([M, hmc[0]])
    edges = np.histogram_bin_edges(all_M, bins=bins)
    fig, ax = plt.subplots(figsize=(6.4, 5.0), dpi=125)
    ax.hist(M, bins=edges, density=True, histtype="step", color="tab:gray", alpha=0.8,
            label="flow proposals, unweighted ($\\sim q$)")
    ax.hist(M, bins=edges, weights=weights(log_w), density=True, color=COLOURS["flow"],
            alpha=0.45, label=f"flow, reweighted by $w$;  {_chi2_label(flow)}")
    if hmc is not None:
        ax.hist(hmc[0], bins=edges, weights=weights(hmc[1]), density=True, histtype="step",
                color=COLOURS["HMC"], lw=1.3, label=_hmc_label(hmc[2]))
    ax.set_xlabel(r"$M = \sum_x \phi(x)$")
    ax.set_ylabel("probability density")
    chi2_def = (flow.observable("chi2") or {}).get("label", "chi2 = <M^2>/V")
    ax.set_title(f"magnetisation;  {chi2_def} from flowlat analyze\n"
                 "(flow: reweighted, jackknife; HMC: Markov chain, Gamma method)", fontsize=8.5)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.19), ncol=1)
    fig.tight_layout()
    return fig


def _errorbars(ax, curves, key, log=False):
    """One errorbar series per Numbers in curves; returns the count of points left out."""
    dropped = 0
    for k, numbers in enumerate(curves):
        t, y, err = numbers.series(key)
        keep = np.isfinite(y) & (y > 0 if log else True)
        dropped += int(np.sum(~keep))
        e = np.where(np.isfinite(err[keep]), err[keep], 0.0)
        # A log axis cannot show y - err <= 0: such lower bars stop just above 0.
        lower = np.minimum(e, 0.999 * y[keep]) if log else e
        ax.errorbar(t[keep] + 0.08 * k, y[keep], yerr=[lower, e], fmt="o", ms=3.5, capsize=2.5,
                    color=COLOURS.get(numbers.name), label=numbers.label)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    return dropped


def _definition_lines(numbers, key):
    """The analysis' definition of key, a line per '; '-separated clause."""
    return numbers.definition(key).replace("; ", ";\n")


def _estimators_line(curves):
    kinds = {"reweighted": "reweighted, blocked jackknife", "chain": "Markov chain, Gamma method"}
    return "; ".join(f"{c.name}: {kinds[c.kind]}" for c in curves)


def _series_figure(curves, key, height, log, xlabel, ylabel, dropped_note):
    """key(t) +- error of each Numbers in curves, titled with the analysis' definition."""
    fig, ax = plt.subplots(figsize=(6.6, height), dpi=125)
    dropped = _errorbars(ax, curves, key, log=log)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    title = _definition_lines(curves[0], key) + "\n" + _estimators_line(curves)
    if dropped:
        title += f"\n[{dropped} {dropped_note} not shown]"
    ax.set_title(title, fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_correlator(curves):
    """C(t) +- error of each Numbers in curves (log axis)."""
    return _series_figure(curves, "correlator", 4.8, True,
                          "t (lattice units, along the first lattice axis, periodic)",
                          "C(t)", "points with C(t) <= 0 or undefined")


def plot_effective_mass(curves):
    """m_eff(t) +- error of each Numbers in curves."""
    return _series_figure(curves, "effective_mass", 4.6, False, "t (lattice units)",
                          r"$m_\mathrm{eff}(t)$ (inverse lattice units)",
                          "undefined points (argument < 1)")


# ---- assembling ----------------------------------------------------------------------

def _config_figures(ens, flow, hmc, seed, bins):
    """configs.png and magnetisation.png, from the stored configurations."""
    path = ens["path"]
    figs = {"configs.png": plot_configs(read_configs(path, min(16, ens["n"])), seed)}
    M, _ = config_observables(path, ens["n"])
    overlay = None
    if hmc is not None and hmc[0]["config_shape"] is not None:
        overlay = (config_observables(hmc[0]["path"], hmc[0]["n"])[0], hmc[0]["log_w"], hmc[1])
    elif hmc is not None:
        print(f"plot_ensemble: {hmc[0]['path']} has no /configs: no HMC histogram",
              file=sys.stderr)
    figs["magnetisation.png"] = plot_magnetisation(M, ens["log_w"], flow, overlay, bins)
    return figs


def ensemble_figures(path, analysis_path=None, hmc_path=None, seed=0, bins=60):
    """{PNG name: matplotlib Figure} for every plot the ensemble and its analysis allow."""
    ens = load_ensemble(path)
    if ens["n"] < 2:
        raise ValueError(f"{path}: n_written = {ens['n']}; need at least 2 rows")
    flow, found = flow_numbers(path, analysis_path)
    check_analysis(ens, flow.analysis, found)
    hmc = load_hmc(hmc_path, ens) if hmc_path else None
    figs = {}
    if ens["log_p"] is not None and ens["log_q"] is not None:
        figs["action_vs_logq.png"] = plot_action_vs_logq(ens, flow)
    figs["logw_hist.png"] = plot_logw_hist(ens, flow, bins)
    if ens["config_shape"] is None:
        print(f"plot_ensemble: {path} has no /configs: skipping the configs and magnetisation "
              "plots", file=sys.stderr)
    else:
        figs.update(_config_figures(ens, flow, hmc, seed, bins))
    curves = [flow] + ([hmc[1]] if hmc and hmc[1] else [])
    for key, name, plot in (("correlator", "correlator.png", plot_correlator),
                            ("effective_mass", "m_eff.png", plot_effective_mass)):
        shown = [c for c in curves if c.series(key) is not None]
        if flow.series(key) is not None:
            figs[name] = plot(shown)
    return figs


def make_plots(path, out_dir, hmc_path=None, analysis_path=None, seed=0, bins=60):
    """Write every plot the ensemble and its analysis allow into out_dir; the PNG paths."""
    figs = ensemble_figures(path, analysis_path, hmc_path, seed, bins)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, fig in figs.items():
        written.append(os.path.join(out_dir, name))
        fig.savefig(written[-1])
        plt.close(fig)
    return written


EPILOG = """\
The numbers come from the analysis JSON of `flowlat analyze ENSEMBLE --json
ENSEMBLE.json` (default: ENSEMBLE.json beside the ensemble; without one the
script stops with status 2, as it does for another ensemble's analysis). For
--hmc FILE (an ensemble of flowlat hmc, else status 2) the HMC numbers come from
FILE.json; without it the HMC histogram is drawn without them.

writes: configs.png, action_vs_logq.png, logw_hist.png, magnetisation.png,
correlator.png, m_eff.png (those the file and the analysis allow)."""


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Plots of a flowlat ensemble HDF5 file and of its analysis by flowlat analyze.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ensemble", help="ensemble HDF5 file (format flowlat-ensemble)")
    p.add_argument("--analysis", metavar="JSON",
                   help="analysis JSON of the ensemble (default: ENSEMBLE.json)")
    p.add_argument("--out", help="output directory (default: the ensemble's directory)")
    p.add_argument("--hmc", metavar="FILE",
                   help="HMC ensemble, same format, overlaid on M, C(t) and m_eff; "
                        "its numbers from FILE.json")
    p.add_argument("--bins", type=int, default=60, help="histogram bins (default 60)")
    p.add_argument("--seed", type=int, default=0, help="seed of the prior draws shown")
    args = p.parse_args(argv)
    out_dir = args.out or os.path.dirname(os.path.abspath(args.ensemble))
    try:
        paths = make_plots(args.ensemble, out_dir, args.hmc, args.analysis, args.seed, args.bins)
    except (MissingAnalysis, OSError, KeyError, ValueError) as e:
        print(f"plot_ensemble: {e}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
