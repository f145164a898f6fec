#include "analysis/EnsembleAnalysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <stdexcept>
#include <utility>

#include "analysis/CouplingShift.hpp"
#include "analysis/GammaMethod.hpp"
#include "analysis/Jackknife.hpp"
#include "analysis/Observables.hpp"
#include "analysis/ReplicaLayout.hpp"
#include "analysis/WeightTail.hpp"
#include "config/ConfigError.hpp"
#include "io/H5Dataset.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"

namespace flowlat {
namespace {

using Series = std::vector<std::vector<double>>;  // [quantity][row]
using MeansFunction = std::function<double(const std::vector<double>&)>;

// ESS x N below which reweighted errors were measured to be unreliable.
constexpr double kLeastEffectiveConfigurations = 100;

// Configurations per chunk are capped so that a chunk holds at most this
// many values (32 MiB), whatever the volume.
constexpr int64_t kMaxChunkValues = int64_t{1} << 22;

// What coupling reweighting and the path derivative read.
constexpr const char* kMomentsNeeded =
    "the configurations (/configs) or the sums /sum_phi2 and /sum_phi4 (written by flowlat since they were added)";

// Where sum phi^2 and sum phi^4 are among the quantity columns.
struct MomentColumns {
  int phi2 = 0, phi4 = 0;
};

// A derived observable: f of the means of the quantity columns `inputs`.
struct Derived {
  std::string key, label;
  std::vector<int> inputs;
  MeansFunction f;
};

EnsembleReader open_ensemble(const std::string& path) {
  EnsembleReader reader = open_ensemble_input(path);
  if (reader.n_written() < 2) {
    throw ConfigError(path + ": only " + std::to_string(reader.n_written()) +
                      " rows written; at least 2 are needed for an analysis");
  }
  return reader;
}

// The chain's configuration indices, or nullopt (with a note) if there is none.
std::optional<std::vector<int64_t>> read_chain(EnsembleReader& reader, EnsembleAnalysis& result) {
  const int64_t n = reader.n_written();
  if (reader.has_chain() && reader.file().contains(ensemble::kChainState)) {
    std::vector<int64_t> state = reader.read_chain_state(0, n);
    for (int64_t i = 0; i < n; ++i) {
      if (state[i] < 0 || state[i] >= n) {
        throw std::runtime_error(reader.path() + ": /mcmc/state[" + std::to_string(i) + "] = " +
                                 std::to_string(state[i]) + " is outside the " +
                                 std::to_string(n) + " written rows");
      }
    }
    return state;
  }
  if (result.source == "hmc") {
    std::vector<int64_t> identity(n);
    for (int64_t i = 0; i < n; ++i) identity[i] = i;
    return identity;
  }
  result.notes.push_back("no Markov chain in the file (/mcmc not written): chain estimator unavailable");
  return std::nullopt;
}

void describe(EnsembleReader& reader, const EnsembleAnalysisOptions& options, EnsembleAnalysis& result) {
  result.path = reader.path();
  result.source = reader.has_attribute(ensemble::kSource) ? reader.source() : "flow";
  result.lattice_shape = reader.lattice_shape();
  result.n = reader.n_written();
  result.has_configs = reader.has_configs();
  if (reader.has_attribute("accept_rate")) result.accept_rate = reader.attribute_double("accept_rate");
  if (options.n_blocks < 2) {
    throw std::invalid_argument("analyze_ensemble: n_blocks = " + std::to_string(options.n_blocks) +
                                " is outside the allowed range [2, inf)");
  }
  result.n_blocks = static_cast<int>(std::min<int64_t>(options.n_blocks, result.n));
  if (result.n_blocks < options.n_blocks) {
    result.notes.push_back("only N = " + std::to_string(result.n) + " rows: jackknife with " +
                           std::to_string(result.n_blocks) + " blocks instead of " +
                           std::to_string(options.n_blocks));
  }
  if (reader.has_attribute("n_chains")) result.n_chains = reader.attribute_int64("n_chains");
}

// HMC files hold n_chains independent chains: the chain estimator takes the
// rows chain by chain (interleaved files: row s C + c; older ones chain c
// in one block) and analyses them as replicas. Flow files: one chain.
void order_replicas(const EnsembleReader& reader, std::vector<int64_t>& state, EnsembleAnalysis& result) {
  const ReplicaLayout layout =
      replica_layout(reader, static_cast<int64_t>(state.size()), result.source == "hmc" ? result.n_chains : 1);
  result.replica_lengths = layout.lengths();
  if (!layout.separable) {
    if (result.n_chains > 1) result.notes.push_back("the chains could not be separated: analysed as one chain");
    return;
  }
  state = chain_major(state, layout);
  result.notes.push_back(std::to_string(layout.chains) + " independent chains of " + std::to_string(layout.length) +
                         " rows: the Gamma method analyses them as replicas");
}

// Streams the configurations once: the primaries (Observables.hpp column
// order) of every written row, as [column][row].
Series read_primaries(EnsembleReader& reader, const Observables& observables, int64_t chunk_rows) {
  const int64_t row_size = H5Dataset::open(reader.file(), ensemble::kConfigs).row_size();
  if (row_size != observables.volume()) {
    throw ConfigError(reader.path() + ": /configs rows hold " + std::to_string(row_size) +
                      " values but lattice_shape has volume " + std::to_string(observables.volume()));
  }
  const int64_t n = reader.n_written(), k = observables.n_columns();
  const int64_t rows = std::max<int64_t>(1, std::min(chunk_rows, kMaxChunkValues / observables.volume()));
  Series columns(k, std::vector<double>(n));
  for (int64_t offset = 0; offset < n; offset += rows) {
    const int64_t count = std::min(rows, n - offset);
    const std::vector<double> table = observables.compute(reader.read_configs(offset, count), count);
    for (int64_t i = 0; i < count; ++i) {
      for (int64_t c = 0; c < k; ++c) columns[c][offset + i] = table[i * k + c];
    }
  }
  return columns;
}

std::vector<Derived> scalar_definitions(const Observables* obs, int action_column, double volume) {
  std::vector<Derived> defs;
  const auto per_site = [volume](const std::vector<double>& m) { return m[0] / volume; };
  if (obs != nullptr) {
    defs.push_back({"abs_magnetization", "<|M|>/V", {Observables::kAbsM}, per_site});
    defs.push_back({"chi2", "chi2 = <M^2>/V", {Observables::kM2}, per_site});
    defs.push_back({"binder_u4", "U4 = 1 - <M^4>/(3<M^2>^2)", {Observables::kM2, Observables::kM4},
                    [](const std::vector<double>& m) { return binder_cumulant(m[0], m[1]); }});
  }
  defs.push_back({"action_density", "<S>/V", {action_column}, per_site});
  if (obs != nullptr) {
    std::vector<int> links;
    for (int mu = 0; mu < obs->dims(); ++mu) links.push_back(obs->link_column(mu));
    defs.push_back({"energy", "E = (1/d) sum_mu G(mu)", links, [volume](const std::vector<double>& m) {
                      std::vector<double> g(m.size());
                      for (size_t mu = 0; mu < m.size(); ++mu) g[mu] = m[mu] / volume;
                      return ising_energy(g);
                    }});
    const int64_t l0 = obs->extent0();
    defs.push_back({"xi2", "xi2 (second moment)", {Observables::kM2, Observables::kMomentumP1},
                    [volume, l0](const std::vector<double>& m) {
                      return second_moment_correlation_length(m[0] / volume, m[1], l0);
                    }});
  }
  return defs;
}

std::vector<Derived> correlator_definitions(const Observables& obs) {
  std::vector<Derived> defs;
  for (int64_t t = 0; t < obs.extent0(); ++t) {
    defs.push_back({"C(" + std::to_string(t) + ")", "C(" + std::to_string(t) + ")",
                    {obs.correlator_column(t)}, [](const std::vector<double>& m) { return m[0]; }});
  }
  return defs;
}

std::vector<Derived> effective_mass_definitions(const Observables& obs) {
  std::vector<Derived> defs;
  for (int64_t t = 1; t + 1 < obs.extent0(); ++t) {
    defs.push_back({"m_eff(" + std::to_string(t) + ")", "m_eff(" + std::to_string(t) + ")",
                    {obs.correlator_column(t - 1), obs.correlator_column(t), obs.correlator_column(t + 1)},
                    [](const std::vector<double>& m) { return effective_mass(m[0], m[1], m[2]); }});
  }
  return defs;
}

// Gamma-method estimate of one derived quantity along the chain.
ChainEstimate chain_estimate(const Series& columns, const std::vector<int64_t>& state, const Derived& d,
                             const std::vector<std::size_t>& replica_lengths, double s_tau,
                             std::vector<std::string>& notes) {
  Series series;
  std::vector<double> means;
  for (int column : d.inputs) {
    std::vector<double> s(state.size());
    long double sum = 0;
    for (size_t i = 0; i < state.size(); ++i) sum += s[i] = columns[column][state[i]];
    means.push_back(static_cast<double>(sum / state.size()));
    series.push_back(std::move(s));
  }
  ChainEstimate estimate;
  if (!std::isfinite(d.f(means))) return estimate;  // e.g. m_eff where arccosh is undefined
  try {
    const GammaMethodResult r = gamma_method(series, d.f, replica_lengths, s_tau);
    estimate = {r.value, r.error, r.tau_int, r.tau_int_error};
  } catch (const std::exception& e) {
    estimate.value = d.f(means);
    notes.push_back(d.label + ", chain: no error (" + std::string(e.what()) + ")");
  }
  return estimate;
}

// Jackknife of all `defs` at once from the primaries w, w Q_0, w Q_1, ...
// (the ratio means are the reweighted <Q_a>). Consumes `columns`.
std::vector<Estimate> reweighted_estimates(Series columns, const std::vector<double>& w,
                                           const std::vector<Derived>& defs, int n_blocks) {
  for (std::vector<double>& column : columns) {
    for (size_t i = 0; i < column.size(); ++i) column[i] *= w[i];
  }
  columns.insert(columns.begin(), w);
  const auto f = [&defs](const std::vector<double>& means) {
    std::vector<double> out;
    for (const Derived& d : defs) {
      std::vector<double> ratios;
      for (int column : d.inputs) ratios.push_back(means[column + 1] / means[0]);
      out.push_back(d.f(ratios));
    }
    return out;
  };
  std::vector<Estimate> estimates;
  for (const JackknifeResult& r : jackknife_vector(columns, n_blocks, f)) {
    estimates.push_back({r.value, r.error});
  }
  return estimates;
}

// w = exp(log_w - max log_w); throws if a log weight is NaN or +inf.
std::vector<double> weights(const std::vector<double>& log_w, const std::string& path, double& max_log_w) {
  max_log_w = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < log_w.size(); ++i) {
    if (std::isnan(log_w[i]) || log_w[i] == std::numeric_limits<double>::infinity()) {
      throw std::runtime_error(path + ": /log_w[" + std::to_string(i) + "] is not a valid log weight");
    }
    max_log_w = std::max(max_log_w, log_w[i]);
  }
  if (!std::isfinite(max_log_w)) throw std::runtime_error(path + ": every weight is zero (log_w = -inf)");
  std::vector<double> w(log_w.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::exp(log_w[i] - max_log_w);
  return w;
}

// Notes for the reader when the weights cannot carry the estimates: too
// few effective configurations, or a heavy tail (flow ensembles). Local.
void warn_of_unreliable_weights(EnsembleAnalysis& result) {
  const double effective = result.ess * static_cast<double>(result.n);
  if (effective < kLeastEffectiveConfigurations) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "ESS x N = %.3g < %.0f: the reweighted (a) values and errors, log Z's included, are not to "
                  "be trusted; sample more or train the flow further",
                  effective, kLeastEffectiveConfigurations);
    result.notes.push_back(text);
  }
  if (result.weight_tail_shape > kUntrustedTailShape) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "the weights' tail is heavy (Pareto k = %.2f > %.1f): the flow under-covers part of the "
                  "target, and estimates rest on a few configurations",
                  result.weight_tail_shape, kUntrustedTailShape);
    result.notes.push_back(text);
  }
}

// One note naming every reweighted estimate (but log Z's, noted with the
// weights) whose w |Q| tail is too heavy to trust it. Local.
void warn_of_heavy_tails(EnsembleAnalysis& result) {
  std::string names;
  const auto consider = [&names](const std::string& name, const Estimate& e) {
    if (!(e.tail_shape > kUntrustedTailShape)) return;
    char text[96];
    std::snprintf(text, sizeof text, "%s (k = %.2f)", name.c_str(), e.tail_shape);
    names += (names.empty() ? "" : ", ") + std::string(text);
  };
  for (const ScalarObservable& s : result.scalars) {
    if (s.key.rfind("log_z", 0) != 0) consider(s.key, s.estimate.reweighted);
  }
  for (size_t t = 0; t < result.correlator.size(); ++t) consider("C(" + std::to_string(t) + ")", result.correlator[t].reweighted);
  if (names.empty()) return;
  result.notes.push_back("reweighted (a) estimates that rest on a heavy tail of w |Q| (Pareto k > 0.7: a few "
                         "configurations where the flow under-covers the target carry them; their values and "
                         "errors are not to be trusted, the chain's (b) neither): " + names);
}

// ESS and log Z = max log_w + log(mean w) (jackknifed).
void add_weight_summaries(const EnsembleReader& reader, const std::vector<double>& log_w,
                          const std::vector<double>& w, double max_log_w, EnsembleAnalysis& result) {
  long double s1 = 0, s2 = 0;
  for (double x : w) {
    s1 += x;
    s2 += static_cast<long double>(x) * x;
  }
  result.ess_origin = reader.has_attribute("ess") ? "file attribute" : "computed";
  result.ess = reader.has_attribute("ess") ? reader.attribute_double("ess")
                                           : static_cast<double>(s1 * s1 / (s2 * w.size()));
  ScalarObservable log_z{"log_z", "log Z", {}};
  if (result.source == "hmc") {
    result.notes.push_back("log Z needs the flow's weights: not available for an HMC ensemble");
    result.scalars.push_back(log_z);
    return;
  }
  result.weight_tail_shape = pareto_tail_shape(log_w);
  warn_of_unreliable_weights(result);
  const JackknifeResult r = jackknife({w}, result.n_blocks, [max_log_w](const std::vector<double>& m) {
    return max_log_w + std::log(m[0]);
  });
  log_z.estimate.reweighted = {r.value, r.error, result.weight_tail_shape};
  result.scalars.push_back(log_z);
  // E_q[log w] = log Z - KL(q || p) <= log Z: how far the flow is from exact.
  const JackknifeResult lower = jackknife({log_w}, result.n_blocks, [](const std::vector<double>& m) { return m[0]; });
  ScalarObservable bound{"log_z_lower_bound", "<log w>_q <= log Z", {}};
  bound.estimate.reweighted = {lower.value, lower.error};
  result.scalars.push_back(bound);
}

// For each definition, the largest Pareto tail shape of w |Q| over its
// input columns Q (NaN for an HMC ensemble, whose weights are all 1). Local.
std::vector<double> tail_shapes(const Series& columns, const std::vector<double>& w,
                                const std::vector<Derived>& defs, const EnsembleAnalysis& result) {
  std::vector<double> shapes(defs.size(), std::numeric_limits<double>::quiet_NaN());
  if (result.source == "hmc") return shapes;
  std::vector<double> column_shape(columns.size(), std::numeric_limits<double>::quiet_NaN());
  for (const Derived& d : defs) {
    for (int column : d.inputs) {
      if (!std::isnan(column_shape[column])) continue;
      std::vector<double> log_terms;
      log_terms.reserve(w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        if (columns[column][i] != 0 && w[i] > 0) log_terms.push_back(std::log(w[i] * std::abs(columns[column][i])));
      }
      column_shape[column] = pareto_tail_shape(log_terms);
    }
  }
  for (size_t i = 0; i < defs.size(); ++i) {
    for (int column : defs[i].inputs) {
      if (std::isnan(shapes[i]) || column_shape[column] > shapes[i]) shapes[i] = column_shape[column];
    }
  }
  return shapes;
}

// Both estimators of every definition in `defs`, in order. Consumes `columns`.
std::vector<ObservableEstimate> estimate_all(Series columns, const std::vector<double>& w,
                                             const std::optional<std::vector<int64_t>>& state,
                                             const std::vector<Derived>& defs,
                                             const EnsembleAnalysisOptions& options, EnsembleAnalysis& result) {
  std::vector<ObservableEstimate> estimates(defs.size());
  if (state) {
    for (size_t i = 0; i < defs.size(); ++i) {
      estimates[i].chain = chain_estimate(columns, *state, defs[i], result.replica_lengths, options.s_tau, result.notes);
    }
  }
  const std::vector<double> shapes = tail_shapes(columns, w, defs, result);
  const std::vector<Estimate> reweighted = reweighted_estimates(std::move(columns), w, defs, result.n_blocks);
  for (size_t i = 0; i < defs.size(); ++i) {
    estimates[i].reweighted = reweighted[i];
    estimates[i].reweighted.tail_shape = shapes[i];
  }
  return estimates;
}

}  // namespace

const ScalarObservable& EnsembleAnalysis::scalar(const std::string& key) const {
  for (const ScalarObservable& s : scalars) {
    if (s.key == key) return s;
  }
  throw std::out_of_range("EnsembleAnalysis: no observable '" + key + "'");
}

bool EnsembleAnalysis::has_scalar(const std::string& key) const {
  return std::any_of(scalars.begin(), scalars.end(), [&key](const ScalarObservable& s) { return s.key == key; });
}

EnsembleAnalysis analyze_ensemble(const std::string& path, const EnsembleAnalysisOptions& options) {
  EnsembleReader reader = open_ensemble(path);
  EnsembleAnalysis result;
  describe(reader, options, result);
  std::optional<std::vector<int64_t>> state = read_chain(reader, result);
  result.has_chain = state.has_value();
  if (state) order_replicas(reader, *state, result);
  std::optional<Observables> obs;
  Series columns;
  // The columns of sum phi^2 and sum phi^4 (coupling reweighting, the path
  // derivative): the configurations' where stored, else /sum_phi2, /sum_phi4.
  std::optional<MomentColumns> moments;
  if (result.has_configs) {
    obs.emplace(result.lattice_shape);
    columns = read_primaries(reader, *obs, options.chunk_rows);
    moments = MomentColumns{obs->phi2_column(), obs->phi4_column()};
  } else if (reader.has_moment_sums()) {
    columns.push_back(reader.read_column(ensemble::kSumPhi2, 0, result.n));
    columns.push_back(reader.read_column(ensemble::kSumPhi4, 0, result.n));
    moments = MomentColumns{0, 1};
    result.notes.push_back("no /configs in the file: only <S>/V, log Z, the ESS, and from /sum_phi2 and /sum_phi4 "
                           "the coupling reweighting and the path derivative are reported; the field observables "
                           "need the configurations (sample.store_configs: true)");
  } else {
    result.notes.push_back("no /configs in the file: only <S>/V, log Z and the ESS are reported; the "
                           "field observables need sampling with sample.store_configs: true");
  }
  std::vector<double> action = reader.read_column(ensemble::kLogP, 0, result.n);
  for (double& s : action) s = -s;  // S = -log p
  columns.push_back(std::move(action));
  const std::vector<double> log_w = reader.read_column(ensemble::kLogW, 0, result.n);
  double max_log_w = 0;
  const std::vector<double> w = weights(log_w, path, max_log_w);
  if (options.reweight_to) {
    if (!moments) throw ConfigError(path + ": reweighting to other couplings needs " + kMomentsNeeded);
    result.coupling_shift = shift_couplings(reader, columns[static_cast<size_t>(moments->phi2)],
                                            columns[static_cast<size_t>(moments->phi4)], log_w, *options.reweight_to,
                                            result.n_blocks);
    const CouplingShift& shift = *result.coupling_shift;
    if (shift.delta_log_z.tail_shape > kUntrustedTailShape || shift.ess * result.n < kLeastEffectiveConfigurations) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "the reweighting to m2 = %g, lambda = %g rests on few configurations (ESS x N = %.3g, Pareto "
                    "k = %.2f): its log Z difference is not to be trusted; reweight over a shorter distance",
                    shift.to.m2, shift.to.lambda, shift.ess * result.n, shift.delta_log_z.tail_shape);
      result.notes.push_back(text);
    }
  }

  const int action_column = static_cast<int>(columns.size()) - 1;
  std::vector<Derived> scalars =
      scalar_definitions(obs ? &*obs : nullptr, action_column, static_cast<double>(reader.volume()));
  if (options.path_velocity) {
    if (!moments) throw ConfigError(path + ": the path derivative <dS/dt> needs " + kMomentsNeeded);
    const Phi4Couplings velocity = *options.path_velocity;
    scalars.push_back({"path_derivative", "<dS/dt> = dm2/dt <sum phi^2> + dlambda/dt <sum phi^4>",
                       {moments->phi2, moments->phi4}, [velocity](const std::vector<double>& m) {
                         return velocity.m2 * m[0] + velocity.lambda * m[1];
                       }});
  }
  std::vector<Derived> defs = scalars;
  if (obs) {
    for (auto&& group : {correlator_definitions(*obs), effective_mass_definitions(*obs)}) {
      defs.insert(defs.end(), group.begin(), group.end());
    }
  }
  const std::vector<ObservableEstimate> estimates =
      estimate_all(std::move(columns), w, state, defs, options, result);
  for (size_t i = 0; i < scalars.size(); ++i) {
    result.scalars.push_back({scalars[i].key, scalars[i].label, estimates[i]});
  }
  if (obs) {
    const auto begin = estimates.begin() + scalars.size();
    result.correlator.assign(begin, begin + obs->extent0());
    result.effective_mass.assign(begin + obs->extent0(), estimates.end());
  }
  add_weight_summaries(reader, log_w, w, max_log_w, result);
  warn_of_heavy_tails(result);
  return result;
}

}  // namespace flowlat
