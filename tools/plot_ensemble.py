#!/usr/bin/env python3
"""Plots of a flowlat ensemble file: configurations, action fit, weights,
magnetisation and the zero-momentum correlator.

Ensemble format (HDF5): /configs [N, L1, ..., Ld] (optional), /log_q, /log_p,
/log_w float64 [N], /mcmc/state, /mcmc/accepted; root attributes format =
"flowlat-ensemble", n_written (only rows [:n_written] are valid), ess,
accept_rate. Conventions (README):

  log p = -S            (unnormalised, p = e^{-S}/Z)
  log w = log p - log q  (w = e^{-S}/q; a perfect flow has w = Z)
  log Z ~ logsumexp(log w) - log N

Expectations are reweighted, <O> = sum w O / sum w with w = exp(log w - max),
and errors are delete-one-block jackknife over contiguous blocks (so they also
hold for autocorrelated chains such as an HMC file, where log w = 0). The first
lattice axis is "time" for the correlator.

  python3 tools/plot_ensemble.py runs/phi4_L8/ensemble.h5 --out runs/phi4_L8/plots \\
      [--hmc runs/hmc_L8/ensemble.h5] [--blocks 32] [--correlator connected|full]

Writes configs.png, action_vs_logq.png, logw_hist.png, magnetisation.png and
correlator.png (the config-based ones only when /configs is stored) and prints
their paths, one a line.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import argparse

import h5py
import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

CHUNK_ROWS = 4096  # configs are read in row chunks so big ensembles never sit in memory


# ---- reading ---------------------------------------------------------------------

def _attr_str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def load_ensemble(path):
    """log_q, log_p, log_w (float64, [:n_written]), attrs, n, config shape or None.

    A missing /log_w (e.g. an HMC file) is taken as zeros, i.e. unit weights."""
    with h5py.File(path, "r") as f:
        attrs = {k: f.attrs[k] for k in f.attrs}
        if _attr_str(attrs.get("format", "")) != "flowlat-ensemble":
            print(f"plot_ensemble: warning: {path}: format attribute is not 'flowlat-ensemble'",
                  file=sys.stderr)
        sizes = [f[k].shape[0] for k in ("log_w", "log_q", "log_p", "configs") if k in f]
        if not sizes:
            raise ValueError(f"{path}: none of /log_w, /log_q, /log_p, /configs present")
        n = min(int(attrs.get("n_written", min(sizes))), min(sizes))
        ens = {"path": path, "attrs": attrs, "n": n,
               "config_shape": tuple(f["configs"].shape[1:]) if "configs" in f else None}
        for k in ("log_q", "log_p", "log_w"):
            ens[k] = np.asarray(f[k][:n], dtype=np.float64) if k in f else None
    if ens["log_w"] is None:
        ens["log_w"] = (ens["log_p"] - ens["log_q"] if ens["log_p"] is not None
                        and ens["log_q"] is not None else np.zeros(n))
    return ens


def read_configs(path, n_rows):
    """The first n_rows stored configurations, float64."""
    with h5py.File(path, "r") as f:
        return np.asarray(f["configs"][:n_rows], dtype=np.float64)


def config_observables(path, n):
    """Per config: M = sum_x phi(x) [n] and time-slice sums P(t) [n, L1], float64."""
    with h5py.File(path, "r") as f:
        ds = f["configs"]
        d = ds.ndim - 1
        P = np.empty((n, ds.shape[1]), dtype=np.float64)
        for lo in range(0, n, CHUNK_ROWS):
            phi = np.asarray(ds[lo:min(n, lo + CHUNK_ROWS)], dtype=np.float64)
            P[lo:lo + len(phi)] = phi.sum(axis=tuple(range(2, d + 1))) if d > 1 else phi
    return P.sum(axis=1), P


# ---- estimators ------------------------------------------------------------------

def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def slope1_offset(S, neg_log_q):
    """b of the slope-1 fit S = -log q + b (least squares): mean(S) - mean(-log q)."""
    return float(np.mean(S) - np.mean(neg_log_q))


def log_z_estimate(log_w):
    """log Z ~ logsumexp(log w) - log N."""
    return float(logsumexp(log_w) - np.log(len(log_w)))


def effective_sample_size(log_w):
    """(sum w)^2 / (N sum w^2) in (0, 1]."""
    return float(np.exp(2 * logsumexp(log_w) - logsumexp(2 * log_w)) / len(log_w))


def weights(log_w):
    """w = exp(log w - max log w): same ratios, no overflow."""
    return np.exp(log_w - np.max(log_w))


def reweighted_mean(x, log_w):
    """sum w x / sum w over axis 0."""
    w = weights(log_w)
    return np.tensordot(w, x, axes=(0, 0)) / np.sum(w)


def jackknife(estimator, n, n_blocks):
    """estimator(all rows) and its delete-one-block jackknife error.

    estimator(idx) evaluates on the rows idx; blocks are contiguous."""
    n_blocks = max(2, min(n_blocks, n))
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    full = np.asarray(estimator(np.arange(n)))
    reps = np.array([estimator(np.r_[0:edges[b], edges[b + 1]:n]) for b in range(n_blocks)])
    err = np.sqrt((n_blocks - 1) / n_blocks * np.sum((reps - reps.mean(axis=0))**2, axis=0))
    return full, err


def correlator(P, log_w, volume, connected=True):
    """C(t) = (1/V) sum_{x,y: y0-x0=t} <phi(x) phi(y)> [- <phi(x)><phi(y)> if connected].

    With time-slice sums P(t0) this is (1/V) sum_t0 <P(t0) P(t0+t)> (minus
    (1/V) sum_t0 <P(t0)><P(t0+t)>), the time axis being periodic."""
    T = P.shape[1]
    G = np.stack([np.sum(P * np.roll(P, -t, axis=1), axis=1) for t in range(T)], axis=1)
    C = reweighted_mean(G, log_w)
    if connected:
        Pm = reweighted_mean(P, log_w)
        C = C - np.array([np.sum(Pm * np.roll(Pm, -t)) for t in range(T)])
    return C / volume


def correlator_with_errors(P, log_w, volume, n_blocks, connected=True):
    return jackknife(lambda i: correlator(P[i], log_w[i], volume, connected), len(P), n_blocks)


# ---- plots -----------------------------------------------------------------------

def _draw_grid(subfig, cfgs, title):
    axs = subfig.subplots(4, 4)
    d = cfgs.ndim - 1
    for k, ax in enumerate(axs.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(cfgs):
            ax.set_visible(False)
            continue
        phi = cfgs[k]
        if d == 1:
            ax.plot(np.tanh(phi), lw=0.8)
            ax.set_ylim(-1.05, 1.05)
        else:
            img = phi if d == 2 else phi[..., 0]  # 3D: the slice x3 = 0
            ax.imshow(np.tanh(img), vmin=-1, vmax=1, cmap="viridis")
    subfig.suptitle(title, fontsize=9)


def plot_configs(cfgs, out_path, seed=0):
    """Up to 16 sampled configs beside 16 prior draws N(0,1) of the same shape."""
    prior = np.random.default_rng(seed).standard_normal((16,) + cfgs.shape[1:])
    fig = plt.figure(figsize=(8.4, 4.4), dpi=125)
    left, right = fig.subfigures(1, 2, wspace=0.05)
    what = {1: r"$\tanh\phi(x)$", 2: r"$\tanh\phi$", 3: r"$\tanh\phi(x_1,x_2,0)$"}[cfgs.ndim - 1]
    _draw_grid(left, cfgs[:16], f"flow samples, {what}")
    _draw_grid(right, prior, f"prior draws N(0,1), {what}")
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


def plot_action_vs_logq(ens, out_path, bins=40):
    """2D histogram of S = -log p against -log q with the slope-1 fit."""
    S, nlq = -ens["log_p"], -ens["log_q"]
    b = slope1_offset(S, nlq)
    log_z = log_z_estimate(ens["log_w"])
    # Equal spans on both axes, so the slope-1 line is at 45 degrees.
    lo_x, hi_x = np.percentile(nlq, [0.5, 99.5])
    lo_y, hi_y = np.percentile(S, [0.5, 99.5])
    span = 1.1 * max(hi_x - lo_x, hi_y - lo_y, 1e-9)
    cx, cy = 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)
    rx, ry = [cx - span / 2, cx + span / 2], [cy - span / 2, cy + span / 2]

    fig, ax = plt.subplots(figsize=(5.6, 5.8), dpi=125)
    ax.hist2d(nlq, S, bins=bins, range=[rx, ry], cmap="viridis", cmin=1)
    xs = np.array(rx)
    ax.plot(xs, xs + b, ":", color="k", lw=1.5, label=f"slope-1 fit, b = {b:.4f}")
    ax.set_xlim(rx)
    ax.set_ylim(ry)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$-\log q(\phi)$")
    ax.set_ylabel(r"$S(\phi) = -\log p(\phi)$")
    ax.legend(loc="upper left", fontsize=8)
    note = ("fit $S = -\\log q + b$,  $b = \\langle S\\rangle - \\langle -\\log q\\rangle"
            " = -\\langle \\log w\\rangle$\n"
            "$\\log w = \\log p - \\log q$; perfect flow $q = e^{-S}/Z$ gives $b = -\\log Z$\n"
            f"$-b$ = {-b:.4f}  ($\\leq \\log Z$ by Jensen);  "
            f"$\\log Z \\approx$ logsumexp$(\\log w) - \\log N$ = {log_z:.4f}")
    ax.set_title(note, fontsize=7.5, loc="left")
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


def plot_logw_hist(ens, out_path, bins=60):
    lw = ens["log_w"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=125)
    ax.hist(lw - np.max(lw), bins=bins, color="tab:blue", alpha=0.8)
    ax.set_xlabel(r"$\log w - \max\,\log w$,  $\log w = \log p - \log q$")
    ax.set_ylabel("count")
    title = (f"N = {len(lw)},  ESS = {effective_sample_size(lw):.4f},  "
             f"$\\log Z \\approx$ {log_z_estimate(lw):.4f}")
    if "ess" in ens["attrs"]:
        title += f"   (file attribute ess = {float(ens['attrs']['ess']):.4f})"
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


def _chi2(M, log_w, volume, n_blocks):
    return jackknife(lambda i: reweighted_mean(M[i]**2, log_w[i]) / volume, len(M), n_blocks)


def plot_magnetisation(M, log_w, volume, out_path, hmc=None, bins=60, n_blocks=32):
    """Histogram of M = sum_x phi(x): flow raw, flow reweighted, and optional HMC (M, log_w)."""
    all_M = M if hmc is None else np.concatenate([M, hmc[0]])
    edges = np.histogram_bin_edges(all_M, bins=bins)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=125)
    ax.hist(M, bins=edges, density=True, histtype="step", color="tab:gray", alpha=0.7,
            label="flow, unweighted ($\\sim q$)")
    c, e = _chi2(M, log_w, volume, n_blocks)
    ax.hist(M, bins=edges, weights=weights(log_w), density=True, color="tab:blue", alpha=0.45,
            label=f"flow, reweighted $w = e^{{\\log w - \\max}}$; $\\chi_2$ = {c:.4f} $\\pm$ {e:.4f}")
    if hmc is not None:
        c, e = _chi2(hmc[0], hmc[1], volume, n_blocks)
        ax.hist(hmc[0], bins=edges, weights=weights(hmc[1]), density=True, histtype="step",
                color="k", lw=1.3, label=f"HMC; $\\chi_2$ = {c:.4f} $\\pm$ {e:.4f}")
    ax.set_xlabel(r"$M = \sum_x \phi(x)$")
    ax.set_ylabel("density")
    ax.set_title(r"magnetisation;  $\chi_2 = \langle M^2\rangle / V$ (jackknife)", fontsize=9)
    ax.legend(fontsize=7.5)
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


def plot_correlator(curves, out_path, connected=True, n_blocks=32):
    """curves: list of (label, C, err); errorbars on a log y axis, C <= 0 left out."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=125)
    dropped = 0
    for k, (label, C, err) in enumerate(curves):
        t = np.arange(len(C))
        pos = C > 0
        dropped += int(np.sum(~pos))
        # A log axis cannot show C - err <= 0: the lower bar stops just above 0.
        lower = np.minimum(err[pos], 0.999 * C[pos])
        ax.errorbar(t[pos] + 0.08 * k, C[pos], yerr=[lower, err[pos]],
                    fmt="o", ms=3.5, capsize=2.5, label=label)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(r"$t = y_0 - x_0$ (first lattice axis, periodic)")
    kind = "connected" if connected else "full (not connected)"
    sub = r" - \langle\phi(x)\rangle\langle\phi(y)\rangle" if connected else ""
    ax.set_ylabel(r"$C(t)$")
    title = (f"{kind} zero-momentum correlator, reweighted, jackknife ({n_blocks} blocks)\n"
             r"$C(t) = \frac{1}{V}\sum_{x,y:\,y_0-x_0=t}"
             r"\langle\phi(x)\phi(y)\rangle" + sub + "$")
    if dropped:
        title += f"   [{dropped} points with C <= 0 not shown]"
    ax.set_title(title, fontsize=8.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


# ---- command line ----------------------------------------------------------------

def make_plots(path, out_dir, hmc_path=None, n_blocks=32, connected=True, seed=0, bins=60):
    """Write every plot the file allows into out_dir; return the PNG paths."""
    os.makedirs(out_dir, exist_ok=True)
    ens = load_ensemble(path)
    if ens["n"] < 2:
        raise ValueError(f"{path}: n_written = {ens['n']}; need at least 2 rows")
    out = lambda name: os.path.join(out_dir, name)  # noqa: E731
    written = []
    if ens["log_p"] is not None and ens["log_q"] is not None:
        written.append(plot_action_vs_logq(ens, out("action_vs_logq.png")))
    written.append(plot_logw_hist(ens, out("logw_hist.png"), bins=bins))

    if ens["config_shape"] is None:
        print(f"plot_ensemble: {path} has no /configs: skipping configs, magnetisation "
              "and correlator plots", file=sys.stderr)
        return written
    volume = int(np.prod(ens["config_shape"]))
    written.append(plot_configs(read_configs(path, min(16, ens["n"])), out("configs.png"), seed))
    M, P = config_observables(path, ens["n"])
    curves = [("flow (reweighted)",) + correlator_with_errors(P, ens["log_w"], volume, n_blocks,
                                                             connected)]
    hmc = None
    if hmc_path:
        h = load_ensemble(hmc_path)
        if h["config_shape"] is None:
            print(f"plot_ensemble: {hmc_path} has no /configs: no HMC overlay", file=sys.stderr)
        elif h["config_shape"] != ens["config_shape"]:
            print(f"plot_ensemble: {hmc_path}: lattice {h['config_shape']} differs from "
                  f"{ens['config_shape']}: no HMC overlay", file=sys.stderr)
        else:
            hM, hP = config_observables(hmc_path, h["n"])
            hmc = (hM, h["log_w"])
            curves.append(("HMC",) + correlator_with_errors(hP, h["log_w"], volume, n_blocks,
                                                           connected))
    written.append(plot_magnetisation(M, ens["log_w"], volume, out("magnetisation.png"), hmc,
                                      bins=bins, n_blocks=n_blocks))
    written.append(plot_correlator(curves, out("correlator.png"), connected, n_blocks))
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description="Plots of a flowlat ensemble HDF5 file.")
    p.add_argument("ensemble", help="ensemble HDF5 file (format flowlat-ensemble)")
    p.add_argument("--out", help="output directory (default: the ensemble's directory)")
    p.add_argument("--hmc", help="HMC ensemble file, same format, overlaid on M and C(t)")
    p.add_argument("--blocks", type=int, default=32, help="jackknife blocks (default 32)")
    p.add_argument("--correlator", choices=["connected", "full"], default="connected")
    p.add_argument("--bins", type=int, default=60)
    p.add_argument("--seed", type=int, default=0, help="seed of the prior draws shown")
    args = p.parse_args(argv)
    out_dir = args.out or os.path.dirname(os.path.abspath(args.ensemble))
    try:
        paths = make_plots(args.ensemble, out_dir, args.hmc, args.blocks,
                           args.correlator == "connected", args.seed, args.bins)
    except (OSError, KeyError, ValueError) as e:
        print(f"plot_ensemble: {e}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
