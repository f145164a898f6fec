"""flowlat's results as numbers, for tools/plot_ensemble.py: the ensemble HDF5
file, the analysis JSON of `flowlat analyze ENSEMBLE --json ENSEMBLE.json`, and
the few numbers the plots compute themselves from the stored data (ESS with a
jackknife error, the slope-1 offset b of S against -log q, weights).

Ensemble format (HDF5): /configs [N, L1, ..., Ld] (optional), /log_q, /log_p,
/log_w float64 [N]; root attribute n_written (only rows [:n_written] are
valid). Conventions (README): log p = -S, log w = log p - log q; an HMC file
has log w = 0 (unit weights).

Warnings go to stderr prefixed "plot_ensemble:", the script that reads with
this module. Imported from its own directory (tools/, or installed
<prefix>/share/flowlat/tools), after debian_python has found numpy and h5py.
"""
import json
import math
import os
import sys

import h5py
import numpy as np

CHUNK_ROWS = 4096  # configs are read in row chunks so big ensembles never sit in memory


class MissingAnalysis(Exception):
    """The ensemble has no analysis JSON."""


# ---- reading the ensemble ----------------------------------------------------------

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


# ---- reading the analysis ----------------------------------------------------------

def analysis_path_for(ensemble_path, explicit=None):
    """explicit if given, else <ensemble>.json when that file exists, else None."""
    if explicit:
        return explicit
    candidate = ensemble_path + ".json"
    return candidate if os.path.isfile(candidate) else None


def load_analysis(path):
    with open(path) as f:
        return json.load(f)


def json_float(x):
    """A JSON number, null (NaN, or not applicable) as NaN."""
    return float("nan") if x is None else float(x)


class Numbers:
    """One ensemble's analysis and the estimator its plots show: 'reweighted'
    (importance reweighting, blocked jackknife) or 'chain' (Gamma method)."""
    KIND_TEXT = {"reweighted": "reweighted", "chain": "Markov chain"}

    def __init__(self, name, analysis, kind):
        self.name, self.analysis, self.kind = name, analysis, kind

    @property
    def label(self):
        return f"{self.name} ({self.KIND_TEXT[self.kind]}, N = {self.analysis.get('n', '?')})"

    def observable(self, key):
        return (self.analysis.get("observables") or {}).get(key)

    def scalar(self, key):
        """(value, error) of the observable key, or None if the analysis lacks it."""
        entry = (self.observable(key) or {}).get(self.kind)
        if entry is None:
            return None
        return json_float(entry.get("value")), json_float(entry.get("error"))

    def series(self, key):
        """(t, values, errors) float arrays of a per-t observable, or None."""
        obs = self.observable(key) or {}
        entry = obs.get(self.kind)
        if entry is None:
            return None
        arr = lambda xs: np.array([json_float(x) for x in xs])  # noqa: E731
        return np.asarray(obs["t"], dtype=float), arr(entry["value"]), arr(entry["error"])

    def definition(self, key):
        obs = self.observable(key) or {}
        return obs.get("definition") or obs.get("label") or key


def hmc_kind(analysis):
    """'chain' when the analysis has chain estimates (an HMC file has), else 'reweighted'."""
    chi2 = (analysis.get("observables") or {}).get("chi2") or {}
    return "chain" if chi2.get("chain") is not None else "reweighted"


def pm(value, error):
    """'value ± error', rounded so that the error keeps two significant digits."""
    if not math.isfinite(value):
        return "n/a"
    if not (math.isfinite(error) and error > 0):
        return f"{value:.6g} ± ?"
    decimals = max(0, min(9, 1 - math.floor(math.log10(error))))
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def _recorded_elsewhere(recorded, path):
    """Whether `recorded`, the path flowlat analyze was given (relative to the directory it
    ran in, unknown here), is surely another file than `path`: it exists and is not `path`,
    and `path` does not end with it (else it may be `path` analysed from another directory)."""
    if not recorded or not os.path.exists(recorded) or os.path.samefile(recorded, path):
        return False
    own = os.path.realpath(path)
    tail = os.path.normpath(recorded)
    return os.path.isabs(recorded) or not own.endswith(os.sep + tail)


def _differing_attributes(ens, analysis):
    """The values flowlat analyze copied from its ensemble's attributes (acceptance; ESS when
    its origin is the attribute) that differ from this file's, when both hold as many rows."""
    if analysis.get("n") is None or int(analysis["n"]) != ens["n"]:
        return []  # other rows: the file grew since (a warning), or another ensemble
    names = ["accept_rate"] + (["ess"] if analysis.get("ess_origin") == "file attribute" else [])
    differing = []
    for name in names:
        theirs, own = analysis.get(name), ens["attrs"].get(name)
        # JSON keeps a double to the last bit: any difference is another file's value.
        if theirs is not None and own is not None and not math.isclose(float(theirs), float(own),
                                                                        rel_tol=1e-12):
            differing.append(f"{name} {theirs} in the analysis, {float(own)} in the file")
    return differing


def check_analysis(ens, analysis, analysis_path):
    """ValueError when the analysis is not of this ensemble: another ensemble file, source,
    lattice, or (with as many rows) ESS or acceptance than this file records; a warning
    (stderr) when it is of other rows (the file grew since: rerun flowlat analyze)."""
    path = ens["path"]
    rerun = f"run `flowlat analyze {path} --json {path}.json`"
    analysed = analysis.get("file")
    if _recorded_elsewhere(analysed, path):
        raise ValueError(f"{analysis_path} is the analysis of {analysed}, not of {path}: {rerun}")
    own_source = _attr_str(ens["attrs"].get("source", ""))
    if analysis.get("source") and own_source and analysis["source"] != own_source:
        raise ValueError(f"{analysis_path} analyses a {analysis['source']} ensemble, but {path} "
                         f"is a {own_source} one: {rerun}")
    shape = analysis.get("lattice_shape")
    own = ens["attrs"].get("lattice_shape")
    own = tuple(int(n) for n in own) if own is not None else ens["config_shape"]
    if shape is not None and own is not None and tuple(shape) != own:
        # No ensemble changes its lattice: these are another ensemble's numbers.
        raise ValueError(f"{analysis_path} analyses a lattice {tuple(shape)}, but {path} holds "
                         f"{own}: {rerun}")
    differing = _differing_attributes(ens, analysis)
    if differing:
        raise ValueError(f"{analysis_path} is not the analysis of {path} (another ensemble, or "
                         f"this file before it changed): {'; '.join(differing)}: {rerun}")
    if analysis.get("n") is not None and int(analysis["n"]) != ens["n"]:
        print(f"plot_ensemble: warning: {analysis_path} analysed N = {analysis['n']} rows, "
              f"{path} has {ens['n']}: rerun flowlat analyze", file=sys.stderr)


def flow_numbers(path, analysis_path=None):
    """Numbers of the flow ensemble at path, from analysis_path or <path>.json."""
    found = analysis_path_for(path, analysis_path)
    if found is None:
        raise MissingAnalysis(f"no analysis of {path}: run `flowlat analyze {path} --json "
                              f"{path}.json` first (or pass --analysis FILE)")
    return Numbers("flow", load_analysis(found), "reweighted"), found


def load_hmc(hmc_path, ens):
    """(HMC ensemble, its Numbers or None), or None when the overlay is impossible."""
    h = load_ensemble(hmc_path)
    source = _attr_str(h["attrs"].get("source", ""))
    if source and source != "hmc":
        raise ValueError(f"--hmc {hmc_path}: a {source} ensemble, not one of flowlat hmc")
    if not source and np.any(h["log_w"] != 0):  # no source attribute: HMC rows have unit weights
        raise ValueError(f"--hmc {hmc_path}: its log w are not 0 (unit weights), so it is no "
                         "ensemble of flowlat hmc")
    if ens["config_shape"] and h["config_shape"] and h["config_shape"] != ens["config_shape"]:
        print(f"plot_ensemble: {hmc_path}: lattice {h['config_shape']} differs from "
              f"{ens['config_shape']}: no HMC overlay", file=sys.stderr)
        return None
    found = analysis_path_for(hmc_path)
    if found is None:
        print(f"plot_ensemble: note: no {hmc_path}.json (flowlat analyze {hmc_path} --json "
              f"{hmc_path}.json): HMC numbers not shown", file=sys.stderr)
        return h, None
    analysis = load_analysis(found)
    check_analysis(h, analysis, found)
    return h, Numbers("HMC", analysis, hmc_kind(analysis))


# ---- the plots' own numbers (data, not the analysis' estimates) --------------------

def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def slope1_offset(S, neg_log_q):
    """b of the slope-1 fit S = -log q + b (least squares): mean(S) - mean(-log q)."""
    return float(np.mean(S) - np.mean(neg_log_q))


def effective_sample_size(log_w):
    """(sum w)^2 / (N sum w^2) in (0, 1]."""
    return float(np.exp(2 * logsumexp(log_w) - logsumexp(2 * log_w)) / len(log_w))


def weights(log_w):
    """w = exp(log w - max log w): same ratios, no overflow."""
    return np.exp(log_w - np.max(log_w))


def jackknife(estimator, n, n_blocks):
    """estimator(all rows) and its delete-one-block jackknife error.

    estimator(idx) evaluates on the rows idx; blocks are contiguous."""
    n_blocks = max(2, min(n_blocks, n))
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    full = np.asarray(estimator(np.arange(n)))
    reps = np.array([estimator(np.r_[0:edges[b], edges[b + 1]:n]) for b in range(n_blocks)])
    err = np.sqrt((n_blocks - 1) / n_blocks * np.sum((reps - reps.mean(axis=0))**2, axis=0))
    return full, err
