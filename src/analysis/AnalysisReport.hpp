#pragma once
// Presents an EnsembleAnalysis: a fixed-width table for people, JSON for
// programs, and a copy in the ensemble file's /analysis group.
//
// JSON layout (NaN, i.e. "does not apply", is written as null):
//   { "file", "source", "lattice_shape", "volume", "n", "ess", "ess_origin",
//     "weight_tail_shape" (Pareto k of the weights, analysis/WeightTail.hpp;
//     null for HMC), "accept_rate" (null if absent), "n_blocks", "n_chains",
//     "estimators",
//     "observables": {
//        "<key>": { "label",
//                   "reweighted": {"value", "error", "tail_shape" (of w |Q|)},
//                   "chain": {"value", "error", "tau_int", "tau_int_error",
//                             "two_tau_int"} or null },
//        ...   keys: abs_magnetization chi2 binder_u4 action_density energy
//              xi2 log_z log_z_lower_bound (the field observables only
//              with /configs; log_z_lower_bound = <log w>_q, flows only)
//        "correlator", "effective_mass": the same objects with arrays in
//              place of numbers, plus "t" (the times) and "definition" },
//     "notes": [...] }
//
// /analysis group (HDF5): one float64 dataset per scalar key, shape [6] =
// (reweighted value, error, chain value, error, tau_int, tau_int_error);
// /analysis/correlator [L0, 6] (t = 0..L0-1) and /analysis/effective_mass
// [L0-2, 6] (t = 1..L0-2, attribute t_first = 1); group attributes columns,
// n, n_blocks, ess, ess_origin, notes, and json (the JSON text, when it fits
// an attribute's 64 KiB).
#include <nlohmann/json.hpp>

#include <string>

#include "analysis/EnsembleAnalysis.hpp"
#include "io/OverwritePolicy.hpp"

namespace flowlat {

class AnalysisReport {
 public:
  explicit AnalysisReport(EnsembleAnalysis analysis) : analysis_(std::move(analysis)) {}

  // The table: observable | reweighted value +/- error | chain value +/-
  // error | tau_int | 2 tau_int, then C(t) and m_eff(t), then the notes.
  // Local.
  std::string table() const;
  // The same numbers as JSON (layout above). Local.
  nlohmann::json json() const;
  // Writes json() to `path` atomically; an existing file is a ConfigError
  // unless `policy` is Force. Local.
  void write_json(const std::string& path, OverwritePolicy policy) const;
  // Reopens the ensemble file `path` read-write (serial HDF5) and writes the
  // /analysis group, replacing an existing one. Local (rank 0 alone, with
  // no other handle on the file open).
  void store(const std::string& path) const;

  const EnsembleAnalysis& analysis() const { return analysis_; }

 private:
  EnsembleAnalysis analysis_;
};

// Writes `json` to `path` atomically; an existing file is a ConfigError
// unless `policy` is Force. Local.
void write_json_file(const std::string& path, const nlohmann::json& json, OverwritePolicy policy);

}  // namespace flowlat
