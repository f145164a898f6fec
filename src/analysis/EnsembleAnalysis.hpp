#pragma once
// Estimates of the observables of an ensemble file (sample/EnsembleFormat.hpp)
// by two estimators side by side:
//  (a) reweighted: self-normalised importance reweighting over all n_written
//      proposals, <O> = sum w O / sum w with w = exp(log_w - max log_w);
//      errors by the blocked jackknife of the ratios (primaries w, w O1,
//      w O2, ...; derived quantities are functions of the ratios). Also
//      log Z = max log_w + log(mean w), jackknifed. For an HMC ensemble
//      (log_w = 0) this is plain averaging with jackknife errors.
//  (b) chain: the stored independence-Metropolis chain, O_i = O(configs[
//      state[i]]) for i = 0..n_written-1 (identity for HMC), with errors and
//      tau_int from Wolff's Gamma method (derived quantities through its
//      multi-primary form).
// The configurations are streamed once in chunks; only the per-configuration
// primaries (analysis/Observables.hpp, plus S = -log_p) are kept in memory.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace flowlat {

struct Estimate {
  double value = std::numeric_limits<double>::quiet_NaN();
  double error = std::numeric_limits<double>::quiet_NaN();
  // Reweighted estimates of a flow ensemble: the Pareto shape of the tail of
  // w |Q| over the configurations, the largest over the quantities Q the
  // estimate is made of (analysis/WeightTail.hpp); NaN otherwise.
  double tail_shape = std::numeric_limits<double>::quiet_NaN();
};

struct ChainEstimate {
  double value = std::numeric_limits<double>::quiet_NaN();
  double error = std::numeric_limits<double>::quiet_NaN();
  double tau_int = std::numeric_limits<double>::quiet_NaN();
  double tau_int_error = std::numeric_limits<double>::quiet_NaN();
};

// One observable by both estimators; NaN where an estimator does not apply
// (e.g. log Z has no chain estimate; m_eff where its arccosh argument < 1).
struct ObservableEstimate {
  Estimate reweighted;
  ChainEstimate chain;
};

struct ScalarObservable {
  std::string key;    // JSON key, e.g. "chi2"
  std::string label;  // table label, e.g. "chi2 = <M^2>/V"
  ObservableEstimate estimate;
};

// Couplings of the phi^4 action (README: conventions).
struct Phi4Couplings {
  double m2 = 0;
  double lambda = 0;
};

// log Z(to) - log Z(from) from one ensemble of the couplings `from`, by
// reweighting every configuration with exp(-(S_to - S_from)) =
// exp(-(dm2 sum phi^2 + dlambda sum phi^4)) on top of its flow weight:
//   log Z(to) - log Z(from) = log [sum w e^{-dS} / sum w],
// jackknifed; with the ESS and Pareto tail shape of the combined weights
// (how well the ensemble covers the new couplings' distribution).
struct CouplingShift {
  Phi4Couplings from, to;
  Estimate delta_log_z;  // tail_shape: of w e^{-dS}
  double ess = 0;        // (sum w e^{-dS})^2 / (N sum (w e^{-dS})^2)
};

struct EnsembleAnalysisOptions {
  int n_blocks = 100;         // jackknife blocks (capped at N)
  std::optional<Phi4Couplings> reweight_to;  // couplings to reweight log Z to (needs /configs or the sums)
  // With a path of couplings through the ensemble's, (m2, lambda)(t), its
  // velocity (dm2/dt, dlambda/dt) adds the scalar "path_derivative" =
  // <dS/dt> = dm2/dt <sum phi^2> + dlambda/dt <sum phi^4> (needs /configs or the sums):
  // the integrand of thermodynamic integration (hmc/ThermodynamicIntegration).
  std::optional<Phi4Couplings> path_velocity;
  int64_t chunk_rows = 4096;  // configurations read per chunk (at most)
  double s_tau = 1.5;         // Gamma method windowing parameter S
};

// Results of analyze_ensemble.
struct EnsembleAnalysis {
  std::string path;
  std::string source;                  // "flow" or "hmc"
  std::vector<int64_t> lattice_shape;  // [L0, ..., L_{d-1}]
  int64_t n = 0;                       // n_written
  double ess = 0;                      // (sum w)^2 / (N sum w^2)
  double weight_tail_shape = std::numeric_limits<double>::quiet_NaN();  // Pareto k of w (flow ensembles)
  std::string ess_origin;              // "file attribute" or "computed"
  std::optional<double> accept_rate;   // root attribute accept_rate
  int n_blocks = 0;                    // jackknife blocks used
  int64_t n_chains = 1;                // root attribute n_chains (HMC): replicas of the Gamma method
  std::vector<std::size_t> replica_lengths;  // rows of each replicum in the chain estimator's order
  bool has_configs = false;            // /configs present
  bool has_chain = false;              // chain estimator available
  // In table order: abs_magnetization, chi2, binder_u4, action_density,
  // energy, xi2 (only with configurations), then log_z and, for a flow,
  // log_z_lower_bound = <log w>_q (reweighted only).
  std::vector<ScalarObservable> scalars;
  std::vector<ObservableEstimate> correlator;      // C(t), t = 0..L0-1
  std::vector<ObservableEstimate> effective_mass;  // m_eff(t), t = 1..L0-2
  std::optional<CouplingShift> coupling_shift;     // with options.reweight_to
  std::vector<std::string> notes;                  // caveats, for the reader

  // The scalar with `key`; throws std::out_of_range if absent. Local.
  const ScalarObservable& scalar(const std::string& key) const;
  bool has_scalar(const std::string& key) const;
};

// Analyses the ensemble file `path` serially. A missing file, a file that is
// not a flowlat ensemble, or one with fewer than 2 rows is a ConfigError
// naming the file; a corrupt chain (state outside the rows) is a
// std::runtime_error. Local (run it on one rank).
EnsembleAnalysis analyze_ensemble(const std::string& path, const EnsembleAnalysisOptions& options = {});

}  // namespace flowlat
