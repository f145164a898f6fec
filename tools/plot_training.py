#!/usr/bin/env python3
"""Training curves of a flowlat run: loss and ESS against step.

Reads the run directory's history.csv (header
`step,loss,ess,seconds,skipped,lr,eval_ess,eval_acceptance`, one row per step;
`ess` is the training batch's ESS, `seconds` that step's wall time, `skipped`
= 1 when the step was skipped for a non-finite loss or gradient; the held-out
columns are filled on evaluation steps only; files of older runs have the
first five columns). Conventions (README):
loss = mean(log q - log p) with log p = -S, so loss >= -log Z; ESS =
(sum w)^2 / (N sum w^2) with log w = log p - log q, in (0, 1].

Draws each curve raw (faint) and as a moving average over 15 steps, like the
tutorial's live plot; ESS on [0, 1] on the left axis, loss on a twin right axis.

  python3 tools/plot_training.py runs/phi4_L8            # -> runs/phi4_L8/training.png
  python3 tools/plot_training.py runs/phi4_L8/history.csv --out runs/phi4_L8/training.png --window 15
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import argparse
import csv

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HISTORY_COLUMNS = ("step", "loss", "ess", "seconds", "skipped")
OPTIONAL_COLUMNS = ("lr", "eval_ess", "eval_acceptance")


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


def plot_training(history, out_path, window=15, title=None):
    """Write the loss/ESS figure for a history dict (see read_history) to out_path."""
    steps, loss, ess = history["step"], history["loss"], history["ess"]
    skipped = history["skipped"] > 0
    loss = np.where(skipped, np.nan, loss)
    ess = np.where(skipped, np.nan, ess)

    fig, ax_ess = plt.subplots(figsize=(8, 4.2), dpi=125)
    ax_loss = ax_ess.twinx()
    c_ess, c_loss = "tab:blue", "tab:orange"

    ax_ess.plot(steps, ess, color=c_ess, alpha=0.2, lw=0.7)
    ax_ess.plot(*_smoothed(steps, ess, window), color=c_ess, lw=1.6,
                label=f"training-batch ESS (moving avg {window})")
    held_out = np.isfinite(history["eval_ess"])
    if held_out.any():
        ax_ess.plot(steps[held_out], history["eval_ess"][held_out], "o-", color="tab:green", ms=3, lw=1,
                    label="held-out ESS (fresh configurations)")
    ax_loss.plot(steps, loss, color=c_loss, alpha=0.2, lw=0.7)
    ax_loss.plot(*_smoothed(steps, loss, window), color=c_loss, lw=1.6,
                 label=f"loss (moving avg {window})")

    ax_ess.set_ylim(0, 1)
    ax_ess.set_xlabel("step")
    ax_ess.set_ylabel("ESS (training batch; held-out)", color=c_ess)
    ax_ess.tick_params(axis="y", colors=c_ess)
    ax_loss.set_ylabel(r"loss = $\langle \log q - \log p \rangle$", color=c_loss)
    ax_loss.tick_params(axis="y", colors=c_loss)
    # The first steps' loss can be orders of magnitude above the plateau;
    # clip the axis to the smoothed curve's range so the late-time trend is visible.
    _, smooth_loss = _smoothed(steps, loss, window)
    if len(smooth_loss) > 1:
        lo, hi = np.min(smooth_loss), np.percentile(smooth_loss, 98)
        pad = 0.08 * max(hi - lo, 1e-9)
        ax_loss.set_ylim(lo - pad, hi + pad)
    if len(steps):
        ax_ess.set_xlim(steps[0], max(steps[-1], steps[0] + 1))

    if skipped.any():
        ax_ess.plot(steps[skipped], np.full(skipped.sum(), 0.01), "|", color="red",
                    ms=8, label=f"skipped steps ({skipped.sum()})")

    lines = ax_ess.get_legend_handles_labels()
    lines2 = ax_loss.get_legend_handles_labels()
    ax_ess.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left",
                  fontsize=8, framealpha=0.85)

    secs = history["seconds"]
    if title is None:
        title = "training"
    if len(secs):
        title += (f"  ({len(steps)} steps, {np.nansum(secs):.1f} s, "
                  f"median {1e3 * np.nanmedian(secs):.1f} ms/step)")
    ax_ess.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


def main(argv=None):
    p = argparse.ArgumentParser(description="Plot loss and ESS from a flowlat history.csv.")
    p.add_argument("history", help="run directory or its history.csv")
    p.add_argument("--out", help="output PNG (default: training.png beside history.csv)")
    p.add_argument("--window", type=int, default=15, help="moving-average window (steps)")
    args = p.parse_args(argv)

    path = args.history
    if os.path.isdir(path):
        path = os.path.join(path, "history.csv")
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(path)), "training.png")
    try:
        history = read_history(path)
    except (OSError, ValueError) as e:
        print(f"plot_training: {e}", file=sys.stderr)
        return 2
    if len(history["step"]) == 0:
        print(f"plot_training: {path}: no rows", file=sys.stderr)
        return 2
    title = os.path.basename(os.path.dirname(os.path.abspath(path)))
    print(plot_training(history, out, window=max(1, args.window), title=title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
