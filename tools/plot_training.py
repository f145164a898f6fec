#!/usr/bin/env python3
"""Training curves of a flowlat run: ESS and loss against training step.

Reads the run directory's history.csv (header
`step,loss,ess,seconds,skipped,lr,eval_ess,eval_acceptance`, one row per step;
`ess` is the ESS of that step's training batch, `seconds` that step's wall
time, `skipped` = 1 when the step was skipped for a non-finite loss or
gradient; the held-out columns are filled on evaluation steps only; files of
older runs have the first five columns). Conventions (README):
loss = mean(log q - log p) with log p = -S, so loss >= -log Z; ESS/N =
(sum w)^2 / (N sum w^2) with log w = log p - log q, in (0, 1].

The labels carry the sample sizes: the training batch (train.batch_size) and
the held-out sample (train.eval_size) from the run directory's config.yaml. When
the run's analysis JSON (<run_dir>/<sample.output>.json, written by `flowlat
run` or `flowlat analyze ENSEMBLE --json ENSEMBLE.json`) exists, the ensemble's
ESS is drawn as a horizontal reference on the ESS axis, and -log Z +- error (the
loss's lower bound) on the loss axis; both numbers come from that JSON.

Draws each training curve raw (faint) and as a moving average over 15 steps;
ESS/N and the held-out acceptance on [0, 1] on the left axis, the loss on a
twin right axis. The loss axis is clipped to the smoothed curve's range so the
late trend is visible; the legend says how many raw values lie above it.

  python3 tools/plot_training.py runs/phi4_L8            # -> runs/phi4_L8/training.png
  python3 tools/plot_training.py runs/phi4_L8/history.csv --out runs/phi4_L8/training.png \\
      --window 15
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import argparse
import csv
import json
import math

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HISTORY_COLUMNS = ("step", "loss", "ess", "seconds", "skipped")
OPTIONAL_COLUMNS = ("lr", "eval_ess", "eval_acceptance")
C_ESS, C_LOSS = "tab:blue", "tab:orange"
LEGEND_LINE_INCHES = 0.155  # height of one legend line at 7.5 pt


def read_history(path):
    """Columns of history.csv as float arrays keyed by name ('nan'/'inf' allowed;
    empty held-out cells are NaN; columns an older file lacks are all NaN)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = [c.strip() for c in rows[0]] if rows else []
    if header[:5] != list(HISTORY_COLUMNS) or header[5:] not in (list(OPTIONAL_COLUMNS), []):
        raise ValueError(f"{path}: expected header {','.join(HISTORY_COLUMNS + OPTIONAL_COLUMNS)}")
    # A header repeated mid-file (a resumed run appending) is skipped.
    body = [r for r in rows[1:] if r and r[0].strip() != "step"]
    width = len(header)
    data = np.array([[float(v) if v.strip() else np.nan for v in r] for r in body],
                    dtype=np.float64).reshape(-1, width)
    history = {name: data[:, i] for i, name in enumerate(header)}
    for name in OPTIONAL_COLUMNS:
        history.setdefault(name, np.full(len(body), np.nan))
    return history


def moving_average(x, window=15):
    """The tutorial's moving average: 'valid' convolution, or the mean if too short."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < window:
        return np.mean(x, keepdims=True)
    return np.convolve(x, np.ones(window), "valid") / window


def _smoothed(steps, values, window):
    """Moving average of the finite values, placed at the window's last step."""
    keep = np.isfinite(values)
    s, v = steps[keep], values[keep]
    if len(v) == 0:
        return s, v
    avg = moving_average(v, window)
    return s[len(s) - len(avg):], avg


def _parse_sections(text):
    """{section: {key: value string}} of a two-level YAML file (the fallback without PyYAML)."""
    sections, current = {}, None
    for line in text.splitlines():
        body = line.split("#", 1)[0].rstrip()
        if not body.strip() or ":" not in body:
            continue
        key, _, value = body.strip().partition(":")
        if not line.startswith((" ", "\t")):
            current = sections.setdefault(key, {})
        elif current is not None:
            current[key] = value.strip().strip("\"'")
    return sections


def read_config(path):
    """The run's config.yaml as nested dicts; {} when it is missing or unreadable."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}
    try:
        import yaml
    except ImportError:
        return _parse_sections(text)
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return config if isinstance(config, dict) else {}


def _int_or_none(x):
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def run_info(run_dir):
    """Sample sizes and the ensemble's analysis numbers of a run directory:
    batch_size, eval_size (None where unknown), ensemble_ess, ensemble_n, log_z
    ((value, error)) from <run_dir>/<sample.output>.json (None without it)."""
    config = read_config(os.path.join(run_dir, "config.yaml"))
    train, sample = config.get("train") or {}, config.get("sample") or {}
    info = {"batch_size": _int_or_none(train.get("batch_size")),
            "eval_size": _int_or_none(train.get("eval_size")),
            "ensemble_ess": None, "ensemble_n": None, "log_z": None}
    path = os.path.join(run_dir, str(sample.get("output") or "ensemble.h5") + ".json")
    try:
        with open(path) as f:
            analysis = json.load(f)
    except (OSError, ValueError):
        return info
    info["ensemble_ess"], info["ensemble_n"] = analysis.get("ess"), analysis.get("n")
    log_z = ((analysis.get("observables") or {}).get("log_z") or {}).get("reweighted") or {}
    if log_z.get("value") is not None:
        info["log_z"] = (float(log_z["value"]), float(log_z.get("error") or float("nan")))
    return info


def _sized(name, n):
    return f"{name} (N = {n})" if n else name


def pm(value, error):
    """'value ± error', rounded so that the error keeps two significant digits."""
    if not (math.isfinite(error) and error > 0):
        return f"{value:.6g} ± ?"
    decimals = max(0, min(9, 1 - math.floor(math.log10(error))))
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def _draw_ess(ax, history, info, window):
    """Batch ESS (raw and smoothed), held-out ESS and acceptance, ensemble ESS."""
    steps, skipped = history["step"], history["skipped"] > 0
    ess = np.where(skipped, np.nan, history["ess"])
    batch = _sized("batch ESS", info.get("batch_size"))
    ax.plot(steps, ess, color=C_ESS, alpha=0.2, lw=0.7)
    ax.plot(*_smoothed(steps, ess, window), color=C_ESS, lw=1.6,
            label=f"{batch}: per step (faint), {window}-step moving average")
    held = np.isfinite(history["eval_ess"])
    n_eval = info.get("eval_size")
    if held.any():
        ax.plot(steps[held], history["eval_ess"][held], "o-", color="tab:green", ms=3, lw=1,
                label=_sized("held-out ESS", n_eval) + ", fresh configurations")
    acc = np.isfinite(history["eval_acceptance"])
    if acc.any():
        ax.plot(steps[acc], history["eval_acceptance"][acc], "s--", color="tab:purple", ms=3,
                lw=0.8, mfc="none", label=_sized("held-out Metropolis acceptance", n_eval))
    if info.get("ensemble_ess") is not None:
        ax.axhline(info["ensemble_ess"], color="tab:blue", ls="--", lw=1,
                   label=_sized("ensemble ESS", info.get("ensemble_n"))
                   + f" = {info['ensemble_ess']:.4f}")
    if skipped.any():
        ax.plot(steps[skipped], np.full(skipped.sum(), 0.01), "|", color="red", ms=8,
                label=f"skipped steps ({skipped.sum()})")
    ax.set_ylim(0, 1)
    ax.set_ylabel("ESS / N;  acceptance rate", color=C_ESS)
    ax.tick_params(axis="y", colors=C_ESS)


def _loss_limits(smooth, log_z):
    """Axis range of the smoothed loss (top: its 98th percentile), including -log Z."""
    lo, hi = np.min(smooth), np.percentile(smooth, 98)
    if log_z is not None:
        lo = min(lo, -log_z[0])
    pad = 0.08 * max(hi - lo, 1e-9)
    return lo - pad, hi + pad


def _draw_loss(ax, history, info, window):
    """Loss raw and smoothed, -log Z from the analysis; the axis clipped to the smoothed range."""
    steps = history["step"]
    loss = np.where(history["skipped"] > 0, np.nan, history["loss"])
    smooth_steps, smooth = _smoothed(steps, loss, window)
    label = f"loss: per step (faint), {window}-step moving average"
    if len(smooth) > 1:
        lo, hi = _loss_limits(smooth, info.get("log_z"))
        ax.set_ylim(lo, hi)
        above = loss[np.isfinite(loss) & (loss > hi)]
        if len(above):
            label += f"; {len(above)} raw values above the axis (max {np.max(above):.3g})"
    ax.plot(steps, loss, color=C_LOSS, alpha=0.2, lw=0.7)
    ax.plot(smooth_steps, smooth, color=C_LOSS, lw=1.6, label=label)
    if info.get("log_z") is not None:
        value, error = info["log_z"]
        ax.axhline(-value, color=C_LOSS, ls=":", lw=1.2,
                   label=f"$-\\log Z$ = {pm(-value, error)} "
                         "(ensemble analysis; loss $\\geq -\\log Z$)")
    ax.set_ylabel(r"loss = $\langle \log q - \log p \rangle_q$", color=C_LOSS)
    ax.tick_params(axis="y", colors=C_LOSS)


def _title(history, title):
    steps, secs = history["step"], history["seconds"]
    title = title or "training"
    if len(secs):
        title += (f"  ({len(steps)} steps, {np.nansum(secs):.1f} s, "
                  f"median {1e3 * np.nanmedian(secs):.1f} ms/step)")
    return title


def plot_training(history, info=None, window=15, title=None):
    """The ESS/loss Figure of a history dict (see read_history) and run_info dict."""
    info = info or {}
    fig, ax_ess = plt.subplots(figsize=(8, 4.4), dpi=125)
    ax_loss = ax_ess.twinx()
    _draw_ess(ax_ess, history, info, window)
    _draw_loss(ax_loss, history, info, window)
    steps = history["step"]
    if len(steps):
        ax_ess.set_xlim(steps[0], max(steps[-1], steps[0] + 1))
    ax_ess.set_xlabel("training step")
    lines, labels = ax_ess.get_legend_handles_labels()
    lines2, labels2 = ax_loss.get_legend_handles_labels()
    # Below the axes: a legend inside would cover curves somewhere on the step axis.
    legend_height = 0.1 + LEGEND_LINE_INCHES * len(labels + labels2)
    fig.set_size_inches(8, 4.4 + legend_height)
    fig.legend(lines + lines2, labels + labels2, loc="lower center", fontsize=7.5, ncol=1,
               frameon=False)
    ax_ess.set_title(_title(history, title), fontsize=9)
    fig.tight_layout(rect=(0, legend_height / (4.4 + legend_height), 1, 1))
    return fig


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Plot the training batch's ESS, the held-out ESS and acceptance, and the "
                    "loss against step, from a flowlat run's history.csv.",
        epilog="Sample sizes come from RUN_DIR/config.yaml (train.batch_size, train.eval_size); "
               "the ensemble ESS and log Z references from the run's analysis JSON, "
               "RUN_DIR/<sample.output>.json (default RUN_DIR/ensemble.h5.json, written by "
               "flowlat run or flowlat analyze --json), when it exists.")
    p.add_argument("history", help="run directory or its history.csv")
    p.add_argument("--out", help="output PNG (default: training.png beside history.csv)")
    p.add_argument("--window", type=int, default=15,
                   help="moving-average window in steps (default 15)")
    args = p.parse_args(argv)

    path = args.history
    if os.path.isdir(path):
        path = os.path.join(path, "history.csv")
    run_dir = os.path.dirname(os.path.abspath(path))
    out = args.out or os.path.join(run_dir, "training.png")
    try:
        history = read_history(path)
    except (OSError, ValueError) as e:
        print(f"plot_training: {e}", file=sys.stderr)
        return 2
    if len(history["step"]) == 0:
        print(f"plot_training: {path}: no rows", file=sys.stderr)
        return 2
    fig = plot_training(history, run_info(run_dir), window=max(1, args.window),
                        title=os.path.basename(run_dir))
    fig.savefig(out)
    plt.close(fig)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
